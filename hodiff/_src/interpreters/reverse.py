"""Reverse mode, recording: :class:`Tensor` (the reverse box users see, with PyTorch's and MXNet's gradient
semantics) and :class:`ReverseTrace` (the taping interpreter), plus the eager tensors' ``backward``/``grad``.

:class:`ReverseTrace.process` runs a primitive on the values one level down and, when a parent requires a gradient,
returns a ``Tensor`` linked to a :class:`~hodiff._src.interpreters.tape.Node`: the primitive, what its VJP rules need
(and only that: the table's ``vjp_needs`` says which arguments) and the parent nodes. The nodes are the tape; the
backward sweep (``backward.py``) walks it. Eager tensors live on the always-open base level :data:`EAGER`;
``hd.grad`` and friends wrap their inputs in tensors of a fresh level, so the functional and the tensor API share
one tape implementation.

Why this room is over 500 lines: ``Tensor``, ``ReverseTrace`` and the base level ``EAGER`` refer to each other (the
trace makes tensors, tensors live on ``EAGER``, ``EAGER`` is a trace), so splitting them would trade length for an
import circle; the in-place machinery already lives beside it in ``inplace.py``.
"""
from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

import numpy as np

from ..core import modes as _modes
from ..core.engine import PLAIN, Box, Trace, base_value, bind_below, new_level, shape_of
from ..core.events import LEVEL_OPENED, emit
from ..numpy.arrayops import ArrayOps
from ..numpy.convert import conversion_error
from .backward import backprop
from .forward import Dual
from .inplace import adopt, assign, setitem, share
from .tape import _SCALARS, Node, Unsaved, leaf_node

_new = object.__new__

__all__ = ["EAGER", "ReverseTrace", "Tensor", "backward", "grad"]


class ReverseTrace(Trace):
    """The taping interpreter at one level. ``eager`` marks the always-open level of user-made tensors.

    A transform's level keeps its ``tape``: the recorded nodes in creation order, which is a topological order,
    so its backward pass needs no graph search. The eager level has no tape list (it never closes); its backward
    sorts the graph reachable from the output. ``save_all`` keeps every argument on the tape (for replaying it).
    """

    __slots__ = ("eager", "save_all", "tape")

    def __init__(self, eager=False, level=None, save_all=False):
        super().__init__(new_level() if level is None else level)
        self.eager = eager
        self.tape = None if eager else []
        self.save_all = save_all
        if LEVEL_OPENED and not eager:
            emit(LEVEL_OPENED, self)

    def process(self, prim, args, params):
        record = not self.eager or _modes._grad_enabled.get()
        inner = list(args)
        parents = None
        mask = 0
        below = None       # the trace of the boxes one level down, if there are any
        many = False       # boxes of more than one trace down there: bind sorts them out
        i = 0
        for a in args:
            if type(a) is Tensor and a._trace is self:
                if record and a.requires_grad:
                    if parents is None:
                        parents = [(i, a._node)]
                    else:
                        parents.append((i, a._node))
                    mask |= 1 << i
                a = inner[i] = a._value
            if type(a) not in PLAIN and isinstance(a, Box):
                if below is None:
                    below = a._trace
                elif a._trace is not below:
                    many = True
            i += 1  # cheaper than enumerate on the hot path
        ans = bind_below(prim, inner, params, below, many)
        if parents is None:
            return Tensor._make(ans, self) if self.eager else ans
        key = (mask, i)
        plan = prim._plans.get(key) or prim.save_plan(key)
        saved = inner
        if not self.save_all:
            for j in plan[0]:   # arguments no rule reads: keep their shape and dtype only (scalars cost nothing)
                v = inner[j]
                if type(v) not in _SCALARS:
                    if saved is inner:
                        saved = inner.copy()
                    b = v.primal if type(v) is Dual else v     # forward-over-reverse saves dual numbers
                    if type(b) is np.ndarray:   # the fields of Unsaved.__init__, without the call
                        u = saved[j] = _new(Unsaved)
                        u.shape = b.shape
                        u.dtype = b.dtype
                    else:
                        saved[j] = Unsaved.of(v)
        # The node and the tensor are filled in here rather than through Node(...) and a Tensor factory: this is
        # the hottest path of reverse mode, and the two calls cost about 200 ns, 8% of a scalar operation
        # (benchmarks/overhead.py, P1). The fields are exactly those of Node.__init__ and Tensor._make.
        node = _new(Node)
        node._prim = prim
        node._args = saved
        node._params = params
        node._parents = parents
        node._ans = ans if plan[1] or self.save_all else None
        node.shape = getattr(ans, "shape", ())
        node.ref = None
        tape = self.tape
        if tape is not None:
            node._pos = len(tape)
            tape.append(node)
        else:
            node._pos = None
        out = _new(Tensor)
        out._value = ans
        out._trace = self
        out.requires_grad = True
        out._node = node
        out._grad = None
        out._grad_req = "add"
        return out


class Tensor(ArrayOps, Box):
    """An array that can record the operations applied to it, for reverse-mode differentiation.

    Create tensors with :func:`hodiff.tensor`, :func:`hodiff.arange`, :func:`hodiff.zeros`, ... Operations on a
    tensor that requires a gradient are recorded (unless in :func:`hodiff.no_grad`); ``y.backward()`` then fills
    the ``.grad`` of every leaf tensor that requires one.

    Attributes
    ----------
    grad : Tensor or None
        The accumulated gradient: ``None`` until a backward pass reaches the tensor (PyTorch); zeros after
        :meth:`attach_grad` (MXNet).
    requires_grad : bool
        Whether operations on this tensor are recorded.

    Examples
    --------
    >>> import hodiff as hd
    >>> x = hd.arange(4.0, requires_grad=True)
    >>> y = 2 * hd.dot(x, x)
    >>> y.backward()
    >>> x.grad
    tensor([ 0.,  4.,  8., 12.])
    """

    __slots__ = ("__weakref__", "_grad", "_grad_req", "_node", "_shares", "_trace", "_value", "requires_grad")

    def __init__(self, data, requires_grad=False, dtype=None):
        self._value = _as_array(data, dtype)
        self._trace = EAGER
        self._node = self._grad = None
        self._grad_req = "add"
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, value, trace, requires_grad=False):
        """A tensor of ``trace`` holding ``value``: a leaf of its own when ``requires_grad``, else a constant."""
        t = _new(cls)
        t._value = value
        t._trace = trace
        t.requires_grad = requires_grad
        t._grad = None
        t._grad_req = "add"
        t._node = leaf_node(t) if requires_grad else None
        return t

    def _base(self):
        return self._value

    def _needs_derivative(self):
        return self.requires_grad or isinstance(self._value, Box)

    def _const_maker(self):
        if self._trace is EAGER:
            return lambda v: Tensor._make(v, EAGER)
        return None

    # array attributes
    @property
    def data(self) -> Tensor:
        """The value as a tensor that does not require a gradient and shares the value with this one.

        Writes through it (``w.data[0] = 5``, ``w.data -= lr * g``, ``w.data.zero_()``) change this tensor too, and
        are not recorded (PyTorch's ``.data``). hodiff never writes into an array the tape saved: a write gives
        every tensor sharing the value (``.data``, ``detach()``) a new array, so a backward pass through values
        recorded earlier still uses the values they were recorded with (a numpy array taken with ``.numpy()``
        before the write keeps the old values).
        """
        return self.detach()

    @data.setter
    def data(self, value: Any) -> None:
        new = _as_array(value)
        old = np.asarray(base_value(self._value))
        if new.shape != old.shape or new.dtype != old.dtype:
            raise ValueError(f"x.data = value: the value must keep the tensor's shape {old.shape} and dtype "
                             f"{old.dtype}; got shape {new.shape}, dtype {new.dtype}. Make a new tensor instead.")
        assign(self, new)

    # gradient bookkeeping
    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (``None`` until a backward pass reaches this tensor).

        Assigning checks what PyTorch checks: a tensor (or ``None``) of this tensor's shape and dtype.
        """
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"x.grad must be a hodiff tensor or None; got {type(value).__name__}. "
                                "Wrap an array first: x.grad = hd.tensor(array)")
            if value.shape != self.shape:
                raise RuntimeError(f"x.grad must have the tensor's shape {self.shape}; got shape {value.shape}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"x.grad must have the tensor's dtype {self.dtype}; got dtype {value.dtype}. "
                                   f"Convert it first: g.astype({str(self.dtype)!r})")
            if value._trace is not self._trace:
                raise RuntimeError("x.grad must be a tensor of the same level as x (not one of a transform)")
        self._grad = value

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded operation."""
        return self._node is None or self._node._prim is None

    @property
    def grad_fn(self):
        """The name of the primitive that produced this tensor, or None for a leaf."""
        return None if self.is_leaf else self._node._prim.name

    def requires_grad_(self, requires_grad=True):
        """Set whether this leaf tensor requires a gradient (in place); returns the tensor."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; use detach() instead")
        if requires_grad and self.dtype.kind not in "fc":
            raise TypeError(f"only floating-point tensors can require gradients; this one has dtype {self.dtype}. "
                            "Convert it first, e.g. hd.tensor(data, dtype=float) or x.astype(float).")
        self.requires_grad = bool(requires_grad)
        self._node = leaf_node(self) if requires_grad else None
        return self

    def attach_grad(self, grad_req="write"):
        """MXNet's way to ask for a gradient: ``.grad`` becomes zeros, and each backward writes (``"write"``, the
        default) or adds (``"add"``) into it; ``"null"`` turns the gradient off."""
        if grad_req not in ("write", "add", "null"):
            raise ValueError(f"grad_req must be 'write', 'add' or 'null'; got {grad_req!r}")
        if grad_req == "null":
            self.requires_grad = False
            self._grad = None
            return
        self.requires_grad_(True)
        self._grad_req = grad_req
        self._grad = Tensor._make(np.zeros_like(self._value), self._trace)

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in ``.grad`` during backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._node.ref = weakref.ref(self)

    def zero_(self) -> Tensor:
        """Set every element to zero in place (used as ``x.grad.zero_()``); returns the tensor."""
        self._check_inplace()
        assign(self, np.zeros_like(np.asarray(base_value(self._value))))
        return self

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value`` in place (recorded if ``value`` requires grad); returns the tensor."""
        self[...] = value
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape, converted to this dtype) into this tensor in place; returns it.

        Recorded as PyTorch does: if ``src`` requires grad, this tensor joins the graph.
        """
        self[...] = src
        return self

    def detach(self) -> Tensor:
        """The same value, cut from the graph: gradients do not flow through the result.

        The result shares the value with this tensor: in-place writes to either show in both (see :attr:`data`).
        """
        t = Tensor._make(self._value, self._trace)
        if type(self._value) is np.ndarray:
            share(self, t)
        return t

    def __reduce__(self):
        if self._trace is not EAGER or isinstance(self._value, Box):
            # a library that copies its input (scipy's odeint does) would otherwise drop the derivative: name it
            raise conversion_error("copy.copy / pickle", sys._getframe(1))
        if not self.is_leaf:
            raise RuntimeError("only leaf tensors can be pickled or deep-copied (as in PyTorch); "
                               "detach() the tensor first")
        grad = None if self._grad is None else np.array(base_value(self._grad._value))
        return _rebuild, (np.array(self._value), self.requires_grad, grad, self._grad_req)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it was computed from.

        Parameters
        ----------
        gradient : array_like, optional
            The cotangent ``v`` of this tensor (same shape); required unless it holds a single element. The
            leaves receive ``v^T J``.
        retain_graph : bool, optional
            Keep the saved values so that backward can run through the graph again (default: ``create_graph``).
        create_graph : bool
            Record the backward pass itself, so the gradients can be differentiated again.
        inputs : sequence of Tensor, optional
            Accumulate only into these tensors.

        Notes
        -----
        Threads: each call sweeps the graph with cotangent storage of its own, so calls from several threads at
        once, even on graphs that share leaves, each compute the right gradient. Their additions into a shared
        leaf's ``.grad`` are made one at a time, so none is lost, but in no set order: the total is the sum of all
        of them up to rounding, and ``.grad`` read while other threads are still in ``backward`` holds a partial
        sum. As in PyTorch, running backward through the *same* recorded graph from several threads needs
        ``retain_graph=True`` (the first call to finish would otherwise free the saved values); for one gradient
        per call without touching ``.grad``, use :func:`hodiff.autograd.grad`.
        """
        backward([self], None if gradient is None else [gradient], retain_graph=retain_graph,
                 create_graph=create_graph, inputs=inputs, implicit_sum=False)

    # conversions
    def numpy(self):
        """The value as a numpy array (shares memory). Refused while the tensor requires a gradient."""
        if self.requires_grad:
            raise RuntimeError("numpy() on a tensor that requires grad would drop its gradient; "
                               "use x.detach().numpy()")
        return np.asarray(base_value(self._value))

    asnumpy = numpy

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad or isinstance(self._value, Box):
            return ArrayOps.__array__(self, dtype, copy)
        return np.asarray(self._value, dtype=dtype)

    def copy(self):
        """A copy of the value (MXNet's ``copy``; no graph, no gradient)."""
        return Tensor._make(np.array(base_value(self._value), copy=True), self._trace)

    def clone(self):
        """A differentiable copy (PyTorch's ``clone``)."""
        return self + 0.0

    def astype(self, dtype):
        """The value converted to ``dtype`` (no gradient flows through a conversion)."""
        return Tensor._make(np.asarray(base_value(self._value)).astype(dtype), self._trace)

    def __repr__(self):
        v = base_value(self._value)
        body = np.array2string(np.asarray(v), separator=", ", prefix="tensor(")
        extras = []
        if not self.is_leaf:
            extras.append(f"grad_fn=<{self._node._prim.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self._trace is not EAGER:
            extras.append(f"level={self._trace.level}")
        if np.asarray(v).dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={np.asarray(v).dtype}")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    # in-place updates keep the tensor's identity but never mutate a buffer the tape may hold
    def _check_inplace(self):
        if self.requires_grad and self.is_leaf and _modes.is_grad_enabled():
            raise RuntimeError(
                "a leaf tensor that requires grad cannot be updated in place while gradients are recorded; "
                "update it inside `with hd.no_grad():` (as an optimizer step does)")

    def __setitem__(self, idx: Any, value: Any) -> None:
        """``x[idx] = value`` (numpy's indexing). Recorded when ``value`` requires grad: ``x`` joins the graph."""
        setitem(self, idx, value)

    def _inplace(self, ufunc, other):
        eager_other = not isinstance(other, Box) or (type(other) is Tensor and other._trace is EAGER)
        if self._trace is not EAGER or not eager_other or isinstance(self._value, Box):
            new = ufunc(self, other)
            if (self._trace is not EAGER and not (self.requires_grad and self.is_leaf) and type(new) is Tensor
                    and new._trace is self._trace):
                # an intermediate value of a transform: the object itself takes the new value, so every name
                # bound to it sees the update, as with numpy arrays (the transform's inputs keep their node)
                self._value, self._node, self.requires_grad = new._value, new._node, new.requires_grad
                return self
            return new   # the name is rebound
        if _modes.is_grad_enabled() and (self.requires_grad or (type(other) is Tensor and other.requires_grad)):
            self._check_inplace()
            adopt(self, ufunc(self, other))     # recorded: this tensor now stands for the result's node
            return self
        new = ufunc(self._value, base_value(other))
        assign(self, np.asarray(new).astype(self._value.dtype, copy=False))
        return self

    def __iadd__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return self._inplace(np.add, other)

    def __isub__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return self._inplace(np.subtract, other)

    def __imul__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return self._inplace(np.multiply, other)

    def __itruediv__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return self._inplace(np.true_divide, other)


def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = base_value(data._value)
    elif isinstance(data, Box):
        raise TypeError("hd.tensor() cannot wrap a value that is being differentiated by a transform; "
                        "use it directly")
    a = np.array(data, dtype=dtype, copy=True)
    if dtype is None and a.dtype.kind == "f" and not isinstance(data, (np.ndarray, np.generic)):
        a = a.astype(np.float64)
    return a


def _rebuild(value, requires_grad, grad, grad_req):
    t = Tensor(value, requires_grad=requires_grad)
    t._grad_req = grad_req
    if grad is not None:
        t._grad = Tensor(grad)
    return t


#: The base level of eager tensors (``hd.tensor(..., requires_grad=True)``): always open, below every transform.
EAGER = ReverseTrace(eager=True, level=0)


def _box(value, node):
    """A tensor of the eager level standing for a saved value, so a recorded backward pass links to ``node``."""
    t = Tensor._make(value, EAGER)
    t.requires_grad = True
    t._node = node
    return t


def _seed(out, gradient, create_graph, implicit_sum, what="backward()"):
    shape = tuple(shape_of(out))
    if gradient is None:
        if not implicit_sum and int(np.prod(shape, dtype=np.int64)) != 1:
            raise RuntimeError(
                f"{what} needs a gradient for an output of shape {shape}: a gradient is only implied for a "
                "single-element output. Either reduce it first, y.sum().backward(), or pass the cotangent "
                f"(the vector of the vector-Jacobian product) with y.backward(gradient), an array of shape {shape}.")
        return np.ones(shape, dtype=out.dtype)
    if create_graph and isinstance(gradient, Box):
        g = gradient
    else:
        g = np.asarray(base_value(gradient) if isinstance(gradient, Tensor) else gradient, dtype=out.dtype)
    if tuple(shape_of(g)) != shape:
        raise ValueError(f"the gradient passed to {what} has shape {tuple(shape_of(g))}, but the output has shape "
                         f"{shape}; they must match")
    return g


def _as_tensors(heads, name):
    if isinstance(heads, Tensor):
        return [heads]
    heads = list(heads)
    for h in heads:
        if not isinstance(h, Tensor):
            raise TypeError(f"{name} must be hodiff tensors; got {type(h).__name__}")
    return heads


def _check_roots(heads):
    for h in heads:
        if not h.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no recorded graph. Create the inputs with "
                "requires_grad=True (or call x.attach_grad()) and compute the output outside hd.no_grad().")
        if h._trace is not EAGER:
            raise RuntimeError("backward() is for eager tensors; inside hd.grad & co. return the value instead")


def backward(heads, head_grads=None, retain_graph=None, create_graph=False, inputs=None, implicit_sum=True):
    """Accumulate gradients of ``heads`` into the ``.grad`` of the leaves (see :meth:`hodiff.Tensor.backward`).

    With ``inputs``, only those tensors receive gradients, leaves or not (PyTorch's ``inputs``).
    """
    heads = _as_tensors(heads, "heads")
    _check_roots(heads)
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif isinstance(head_grads, (Tensor, np.ndarray)) or np.isscalar(head_grads):
        head_grads = [head_grads]
    seeds = [_seed(h, g, create_graph, implicit_sum) for h, g in zip(heads, head_grads)]
    retain = create_graph if retain_graph is None else retain_graph
    targets = None if inputs is None else _check_inputs(inputs)
    with _modes._Switch(grad=bool(create_graph)):
        results = backprop([h._node for h in heads], seeds, targets=None if targets is None else
                           [t._node for t in targets], rebox=_box if create_graph else None, retain_graph=retain)
    if targets is not None:
        # the tensors asked for, leaves or not: their nodes need not point back to them
        for t in targets:
            r = results.get(id(t._node))
            if r is not None:
                _store_grad(t, r[1], create_graph)
        return
    for node, g in results.values():
        t = node.ref() if node.ref is not None else None
        if t is not None and t.requires_grad and t._node is node:
            _store_grad(t, g, create_graph)


def _check_inputs(inputs):
    targets = _as_tensors(inputs, "inputs")
    if not targets:
        raise ValueError("backward(inputs=...) got no tensors; pass None to fill the .grad of every leaf")
    unique = {}
    for t in targets:
        if not t.requires_grad or t._trace is not EAGER:
            raise RuntimeError("backward(inputs=...): every input must be an eager tensor that requires grad; "
                               f"got one that does not ({t!r})")
        unique[id(t)] = t
    return list(unique.values())


# Accumulation into ``.grad`` is a read-modify-write of a tensor other threads may be updating: one lock makes
# each update whole (held only for the addition, never during a sweep).
_grad_lock = threading.Lock()


def _store_grad(t, g, create_graph):
    """Write or add the gradient ``g`` into the leaf (or retain_grad tensor) ``t``'s ``.grad``."""
    with _grad_lock:
        _store_grad_locked(t, g, create_graph)


def _store_grad_locked(t, g, create_graph):
    if create_graph:
        new = g if isinstance(g, Tensor) else Tensor._make(np.array(base_value(g), dtype=t.dtype), EAGER)
        if t._grad is not None and t._grad_req == "add":
            new = t._grad + new
        t._grad = new
        return
    g = np.array(base_value(g), dtype=t.dtype, copy=True)
    if t._grad is None:
        t._grad = Tensor._make(g, EAGER)
    elif t._grad_req == "add":
        t._grad._value = t._grad._value + g
    else:
        t._grad._value = g


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``heads`` with respect to ``variables``, returned as a list (``.grad`` is left alone).

    With ``create_graph=True`` the returned gradients are recorded tensors that can be differentiated again.
    """
    heads = _as_tensors(heads, "heads")
    variables = _as_tensors(variables, "variables")
    _check_roots(heads)
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif isinstance(head_grads, (Tensor, np.ndarray)):
        head_grads = [head_grads]
    seeds = [_seed(h, g, create_graph, False, "grad()") for h, g in zip(heads, head_grads)]
    retain = create_graph if retain_graph is None else retain_graph
    for v in variables:
        if not v.requires_grad:
            raise RuntimeError("grad(): one of the variables does not require grad")
    with _modes._Switch(grad=bool(create_graph)):
        results = backprop([h._node for h in heads], seeds, targets=[v._node for v in variables],
                           rebox=_box if create_graph else None, retain_graph=retain)
    out = []
    for v in variables:
        r = results.get(id(v._node))
        if r is None:
            if not allow_unused:
                raise RuntimeError("one of the variables was not used to compute the heads; pass "
                                   "allow_unused=True to get None for it")
            out.append(None)
            continue
        g = r[1]
        if isinstance(g, Tensor):
            out.append(g)
        else:
            out.append(Tensor._make(np.array(base_value(g), dtype=v.dtype, copy=True), EAGER))
    return out
