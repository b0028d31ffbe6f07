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
from ._core import Box, Trace, base_value, new_level, shape_of
from ._tensor import Tensor

__all__ = ["EAGER", "ReverseTrace", "backprop", "backward", "grad"]


class ReverseTrace(Trace):
    """The taping interpreter at one level. ``eager`` marks the always-open level of user-made tensors."""

    __slots__ = ("eager",)

    def __init__(self, eager=False, level=None):
        super().__init__(new_level() if level is None else level)
        self.eager = eager

    def process(self, prim, args, params):
        record = not self.eager or _modes._grad_enabled.get()
        inner = list(args)
        parents = []
        for i, a in enumerate(args):
            if type(a) is Tensor and a._trace is self:
                inner[i] = a._value
                if record and a.requires_grad:
                    parents.append((i, a))
        ans = prim.bind(*inner, **params)
        if not parents:
            return Tensor._make(ans, self) if self.eager else ans
        out = Tensor._make(ans, self, True)
        out._prim = prim
        out._args = tuple(inner)
        out._params = params
        out._parents = tuple(parents)
        return out


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


def backprop(roots, seeds, *, targets=None, create_graph=False, retain_graph=False):
    """Propagate ``seeds`` (cotangents of ``roots``) backwards through the tape.

    Returns ``{id(tensor): (tensor, cotangent)}`` for ``targets``, or, when ``targets`` is None, for every leaf
    that requires a gradient and every tensor marked with ``retain_grad``.
    """
    order = _toposort(roots)
    cts = {}
    for r, s in zip(roots, seeds):
        _accumulate(cts, r, s)
    want = None if targets is None else {id(t) for t in targets}
    results = {}
    for t in reversed(order):
        g = cts.pop(id(t), None)
        if g is None:
            continue
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
            if tuple(shape_of(c)) != tuple(shape_of(p)):
                c = P.unbroadcast(c, shape_of(p))
            _accumulate(cts, p, c)
        if not retain_graph:
            t._args = None
            t._parents = None
    return results


def _accumulate(cts, t, c):
    k = id(t)
    old = cts.get(k)
    cts[k] = c if old is None else P.add(old, c)


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
