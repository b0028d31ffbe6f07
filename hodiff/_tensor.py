"""The reverse-mode box users see: :class:`Tensor`, with PyTorch's and MXNet's gradient semantics.

A ``Tensor`` holds a value (a numpy array, or a box of a lower level when transforms are nested) and, when it was
produced by a recorded operation, its tape node: the primitive, the values the VJP rules need and the parent tensors.
The tape is just these tensors linked to their parents; ``backward`` (``hodiff/_reverse.py``) walks it. Eager tensors
live on the always-open base level; ``hd.grad`` and friends wrap their inputs in tensors of a fresh level, so the
functional and the tensor API share one tape implementation.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import _modes
from ._arrayops import ArrayOps
from ._core import Box, base_value, shape_of

__all__ = ["Node", "Tensor"]


class Node:
    """One entry of the tape: how a tensor was computed, and only what its VJP rules need to go back.

    ``_prim`` is the primitive (``None`` for a leaf), ``_args`` its arguments as the rules will see them (values the
    rules do not use are replaced by a :class:`Meta` carrying only shape and dtype, so their memory can be freed),
    ``_ans`` the result if a rule uses it, ``_parents`` the ``(argument index, Node)`` pairs that need a cotangent.
    A node does not hold its tensor's value: once user code drops an intermediate tensor, its array is freed
    unless a rule saved it. Leaves and ``retain_grad`` nodes keep a weak reference to their tensor.
    """

    __slots__ = ("_ans", "_args", "_ct", "_params", "_parents", "_prim", "ref", "shape")

    def __init__(self, prim, args, params, parents, ans, shape):
        self._prim = prim
        self._args = args
        self._params = params
        self._parents = parents
        self._ans = ans
        self.shape = shape
        self._ct = None
        self.ref = None     # a weak reference to the tensor of a leaf or of a retain_grad() node

    def __repr__(self):
        return f"<node {self._prim.name if self._prim else 'leaf'} {self.shape}>"


def leaf_node(tensor):
    node = Node(None, None, None, None, None, tuple(shape_of(tensor._value)))
    node.ref = weakref.ref(tensor)
    return node


class Meta:
    """Shape and dtype of a value a rule does not need: what is left of it on the tape."""

    __slots__ = ("dtype", "shape")

    def __init__(self, value):
        self.shape = tuple(shape_of(value))
        b = base_value(value)
        self.dtype = getattr(b, "dtype", None)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<not saved: shape {self.shape}>"


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

    __slots__ = ("__weakref__", "_grad", "_grad_req", "_node", "_trace", "_value", "requires_grad")

    def __init__(self, data, requires_grad=False, dtype=None):
        from ._reverse import EAGER
        self._value = _as_array(data, dtype)
        self._trace = EAGER
        self._node = self._grad = None
        self._grad_req = "add"
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, value, trace, requires_grad=False):
        t = cls.__new__(cls)
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
        from ._reverse import EAGER
        if self._trace is EAGER:
            return lambda v: Tensor._make(v, EAGER)
        return None

    # array attributes
    @property
    def data(self):
        """The value as a tensor that does not require a gradient (shares memory)."""
        return self.detach()

    # gradient bookkeeping
    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value)
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

    def zero_(self):
        """Set every element to zero in place (used as ``x.grad.zero_()``); returns the tensor."""
        self._check_inplace()
        self._value = np.zeros_like(self._value)
        return self

    def detach(self):
        """The same value, cut from the graph: gradients do not flow through the result."""
        return Tensor._make(self._value, self._trace)

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
        """
        from ._reverse import backward
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
        from ._reverse import EAGER
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

    def _inplace(self, ufunc, other):
        from ._reverse import EAGER
        eager_other = not isinstance(other, Box) or (type(other) is Tensor and other._trace is EAGER)
        if self._trace is not EAGER or not eager_other or isinstance(self._value, Box):
            return ufunc(self, other)   # traced by a transform: a new value, the name is rebound
        if _modes.is_grad_enabled() and (self.requires_grad or (type(other) is Tensor and other.requires_grad)):
            self._check_inplace()
            return ufunc(self, other)   # a recorded result: the name is rebound to a new node
        new = ufunc(self._value, base_value(other))
        self._value = np.asarray(new).astype(self._value.dtype, copy=False)
        return self

    def __iadd__(self, other):
        return self._inplace(np.add, other)

    def __isub__(self, other):
        return self._inplace(np.subtract, other)

    def __imul__(self, other):
        return self._inplace(np.multiply, other)

    def __itruediv__(self, other):
        return self._inplace(np.true_divide, other)

    def __setitem__(self, idx, value):
        if self.requires_grad:
            raise RuntimeError("item assignment into a tensor that requires grad is not supported: it would "
                               "change values the tape recorded. Build the new value with hd.where(...) instead")
        new = np.array(base_value(self._value), copy=True)
        new[idx] = base_value(value)
        self._value = new


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
