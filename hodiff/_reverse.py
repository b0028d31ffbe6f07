"""Reverse mode: the taping interpreter and the backward pass.

:class:`ReverseTrace.process` runs a primitive on the values one level down and, when a parent requires a gradient,
returns a :class:`~hodiff.Tensor` that remembers the primitive, its arguments and its parents: that is the tape.
:func:`backprop` walks it from the outputs in reverse topological order, calls each node's VJP rules once with the
summed cotangent, sums cotangents back to each argument's shape (the engine's job, not the rules'), and frees
the saved values unless asked to retain them.

The VJP rules run through ``bind`` like any user code. Without ``create_graph`` they see the values one level
down, so if those are dual numbers the cotangents come out as duals (forward-over-reverse); with
``create_graph`` they see this level's tensors, so the backward pass is itself recorded (reverse-over-reverse).
"""
from __future__ import annotations

import numpy as np

from . import _modes
from . import _prims as P
from ._core import Box, Trace, _hooks, base_value, new_level, shape_of
from ._prims import _PLAIN
from ._tensor import Tensor

__all__ = ["EAGER", "ReverseTrace", "backprop", "backward", "grad"]


class ReverseTrace(Trace):
    """The taping interpreter at one level. ``eager`` marks the always-open level of user-made tensors.

    A transform's level keeps its ``tape``: the recorded tensors in creation order, which is a topological order,
    so its backward pass needs no graph search. The eager level has no tape list (it never closes); its backward
    sorts the graph reachable from the output.
    """

    __slots__ = ("eager", "tape")

    def __init__(self, eager=False, level=None):
        super().__init__(new_level() if level is None else level)
        self.eager = eager
        self.tape = None if eager else []

    def process(self, prim, args, params):
        record = not self.eager or _modes._grad_enabled.get()
        inner = list(args)
        parents = []
        plain = True
        i = 0
        for a in args:
            if type(a) is Tensor and a._trace is self:
                v = inner[i] = a._value
                if record and a.requires_grad:
                    parents.append((i, a))
                if plain and type(v) not in _PLAIN and isinstance(v, Box):
                    plain = False
            elif plain and type(a) not in _PLAIN and isinstance(a, Box):
                plain = False
            i += 1  # noqa: SIM113 - cheaper than enumerate on the hot path
        # with no boxes left below this level, go straight to numpy (bind's first case)
        ans = prim.impl(*inner, **params) if plain and not _hooks else prim.bind(*inner, **params)
        if not parents:
            return Tensor._make(ans, self) if self.eager else ans
        out = _new(Tensor)
        out._value = ans
        out._trace = self
        out.requires_grad = True
        out._prim = prim
        out._args = inner
        out._params = params
        out._parents = parents
        out._grad = out._ct = None
        out._grad_req = "add"
        out._retain = False
        tape = self.tape
        if tape is not None:
            tape.append(out)
        return out


_new = object.__new__


#: The base level of eager tensors (``hd.tensor(..., requires_grad=True)``): always open, below every transform.
EAGER = ReverseTrace(eager=True, level=0)


def _toposort(roots):
    """Tensors reachable from ``roots`` through recorded parents, each after all of its parents."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        parents = t._parents
        if parents:
            for _, p in parents:
                if id(p) not in seen:
                    stack.append((p, False))
    return order


_FREED = ("hodiff: trying to run backward through a part of the graph whose saved values were already freed "
          "by an earlier backward(). Call the first backward with retain_graph=True to keep them "
          "(or recompute the output).")


def _shape(x):
    try:
        return x.shape
    except AttributeError:
        return ()


def backprop(roots, seeds, *, targets=None, create_graph=False, retain_graph=False, tape=None):
    """Propagate ``seeds`` (cotangents of ``roots``) backwards through the tape.

    ``tape`` (a transform level's list of recorded tensors, in creation order) replaces the graph search when
    given. Returns ``{id(tensor): (tensor, cotangent)}`` for ``targets``, or, when ``targets`` is None, for every
    leaf that requires a gradient and every tensor marked with ``retain_grad``. Cotangents are summed in each
    tensor's ``_ct`` slot while the pass runs.
    """
    for r, s in zip(roots, seeds):
        r._ct = s if r._ct is None else P.add(r._ct, s)
    want = None if targets is None else {id(t) for t in targets}
    results = {}
    try:
        if tape is None:
            order = _toposort(roots)
        else:
            order = tape
        for t in reversed(order):
            g = t._ct
            if g is None:
                continue
            t._ct = None
            prim = t._prim
            if want is None:
                if prim is None or t._retain:
                    results[id(t)] = (t, g)
            elif id(t) in want:
                results[id(t)] = (t, g)
            if prim is None:
                continue
            args = t._args
            if args is None:
                raise RuntimeError(_FREED)
            parents = t._parents
            if create_graph:
                args = list(args)
                for i, p in parents:
                    args[i] = p
                ans = t
            else:
                ans = t._value
            rules = prim.vjp
            params = t._params
            for i, p in parents:
                c = rules[i](g, ans, *args, **params)
                pshape = _shape(p._value)
                if _shape(c) != pshape:
                    c = P.unbroadcast(c, pshape)
                old = p._ct
                p._ct = c if old is None else P.add(old, c)
            if not retain_graph:
                t._args = None
                t._parents = None
        if tape is not None:
            # leaves (the transform's inputs) collect their cotangents last
            for t in targets:
                if t._ct is not None and t._prim is None:
                    results[id(t)] = (t, t._ct)
    finally:
        for t in order if tape is None else list(tape) + list(targets or ()):
            t._ct = None
        for r in roots:
            r._ct = None
    return results


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
    """Accumulate gradients of ``heads`` into the ``.grad`` of the leaves (see :meth:`hodiff.Tensor.backward`)."""
    heads = _as_tensors(heads, "heads")
    _check_roots(heads)
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif isinstance(head_grads, (Tensor, np.ndarray)) or np.isscalar(head_grads):
        head_grads = [head_grads]
    seeds = [_seed(h, g, create_graph, implicit_sum) for h, g in zip(heads, head_grads)]
    retain = create_graph if retain_graph is None else retain_graph
    targets = None if inputs is None else _as_tensors(inputs, "inputs")
    with _modes._Switch(grad=bool(create_graph)):
        results = backprop(heads, seeds, targets=targets, create_graph=create_graph, retain_graph=retain)
    for t, g in results.values():
        if t.requires_grad and (t._prim is None or t._retain):
            _store_grad(t, g, create_graph)


def _store_grad(t, g, create_graph):
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
    with _modes._Switch(grad=bool(create_graph)):
        results = backprop(heads, seeds, targets=variables, create_graph=create_graph, retain_graph=retain)
    out = []
    for v in variables:
        r = results.get(id(v))
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
