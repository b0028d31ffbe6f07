"""Linearization: record a function's forward-mode tangent computation once, replay it for many tangents.

``linearize(f, x)`` evaluates ``f`` a single time and returns ``(f(x), jvp_fn)``, where ``jvp_fn(v)`` gives the
Jacobian-vector product ``J(x) v`` by replaying only the tangent half of the computation, on plain numpy arrays.

It is two of the engine's interpreters stacked, with no derivative rule of its own:

1. a *linear recording* level ``L`` (:class:`LinearTrace`, below) is opened first, so it is the lowest level, and
   the tangent ``v`` becomes a :class:`LinearBox` of it;
2. a forward level ``F`` is opened above it and ``x`` becomes ``Dual(x, v_box, F)``; ``f`` runs.

``F`` hands every primitive's primal work down to plain numpy, computed once, and applies the primitive's JVP rule
to the tangent. The rules are hodiff code, so each of their operations on the tangent reaches ``bind`` with a box of
``L``, which computes it and appends one step to its program: the primitive, its arguments (everything that does
not depend on ``v`` -- ``cos(x)``, masks, primal values -- stored as constants) and which arguments are earlier
steps. The program is linear in ``v``; it is pruned to what the outputs need, each intermediate is released after
its last use, and ``jvp_fn`` replays it as a plain loop of numpy calls. When ``f`` is itself a gradient
(``hd.grad(g)``), the program is the tangent sweep of forward-over-reverse: a Hessian-vector product that does not
run ``g`` or its backward pass again (:func:`hodiff.hessian_operator`).

The recording level keeps full arguments (the reverse tape saves only what VJP rules need, which is not enough to
run a step forward), and nothing in it depends on how the reverse tape is stored.
"""
from __future__ import annotations

import numpy as np

from ..numpy import arrayops as _arrayops
from ..core.engine import Box, HodiffError, Trace, bind, bind_below, new_level, size_of
from ..core.events import PRIMITIVE_RAN

__all__ = ["LinearBox", "LinearProgram", "LinearTrace", "compile_steps"]


class LinearTrace(Trace):
    """The recording interpreter: runs each primitive applied to its boxes and appends it to ``steps``.

    A step is ``(prim, args, params, subs, slot, size)``: ``args`` with ``None`` where an earlier step's value
    goes, ``subs`` the ``(argument index, slot)`` pairs saying which, ``slot`` where the result goes, ``size`` its
    number of elements. Slots ``0 .. n_inputs - 1`` are the inputs.
    """

    __slots__ = ("n_slots", "steps")

    def __init__(self):
        super().__init__(new_level())
        self.steps = []
        self.n_slots = 0

    def input(self, value):
        box = LinearBox(value, self, self.n_slots)
        self.n_slots += 1
        return box

    def process(self, prim, args, params):
        inner = list(args)
        subs = []
        for i, a in enumerate(args):
            if type(a) is LinearBox and a._trace is self:
                inner[i] = a._value
                subs.append((i, a._slot))
            elif isinstance(a, Box):
                raise HodiffError(
                    f"linearize: {prim.name!r} combines the tangent with a value traced by an enclosing transform (a "
                    "closure over a dual number or tensor of an outer hd.grad / hd.jvp ...). Such a value cannot be "
                    "frozen into the recorded program: pass it to the linearized function as an argument instead.")
        ans = bind_below(prim, inner, params, None, False)   # the values left are plain: refused above otherwise
        template = list(args)
        for j, _ in subs:
            template[j] = None                       # the recording's tangent values are not kept
        slot = self.n_slots
        self.n_slots += 1
        self.steps.append((prim, tuple(template), params, tuple(subs), slot, size_of(ans)))
        return LinearBox(ans, self, slot)


class LinearBox(_arrayops.ArrayOps, Box):
    """A value that depends linearly on the recorded tangents: a numpy value and its slot in the program."""

    __slots__ = ("_slot", "_trace", "_value")

    def __init__(self, value, trace, slot):
        self._value = value
        self._trace = trace
        self._slot = slot

    def _base(self):
        return self._value

    def __repr__(self):
        return f"LinearBox(slot={self._slot}, shape={self.shape})"


class LinearProgram:
    """A recorded linear map: the tangent computation of one linearization, as a list of numpy calls.

    Made by :func:`linearize`; ``program(*tangents)`` returns a list with one entry per output of the linearized
    function: its tangent, or ``None`` for outputs that do not depend on the tangents (or were not asked for).
    ``len(program)`` is the number of numpy calls one replay makes; ``max_size`` the number of elements of its
    largest intermediate value.
    """

    __slots__ = ("_n_slots", "_outputs", "_steps", "batch", "in_dtypes", "in_shapes", "max_size")

    def __init__(self, steps, n_slots, outputs, in_shapes, in_dtypes, batch, max_size=0):
        self._steps = steps
        self.max_size = max_size
        self._n_slots = n_slots
        self._outputs = outputs      # per output: ("slot", k) | ("const", array) | ("zero", shape, dtype) | ("drop",)
        self.in_shapes = in_shapes   # the tangents' shapes, batch axis included
        self.in_dtypes = in_dtypes
        self.batch = batch

    def __len__(self):
        return len(self._steps)

    def __call__(self, *tangents):
        vals = [None] * self._n_slots
        vals[:len(tangents)] = tangents
        if PRIMITIVE_RAN or any(isinstance(t, Box) for t in tangents):
            # through bind: hooks see every step, and boxed tangents (a replay inside another transform) are
            # differentiated like any other hodiff code
            for prim, _impl, args, params, subs, out, free in self._steps:
                a = list(args)
                for i, s in subs:
                    a[i] = vals[s]
                vals[out] = bind(prim, *a, **params)
                for s in free:
                    vals[s] = None
        else:
            for _prim, impl, args, params, subs, out, free in self._steps:
                a = list(args)
                for i, s in subs:
                    a[i] = vals[s]
                vals[out] = impl(*a, **params)
                for s in free:
                    vals[s] = None
        return self._result(vals, tangents)

    def _result(self, vals, tangents):
        """The outputs of a replay from its slot values."""
        res = []
        for o in self._outputs:
            kind = o[0]
            if kind == "slot":
                r = vals[o[1]]
                # an output that is (a view of) an input tangent must not alias the caller's array
                if isinstance(r, np.ndarray) and any(isinstance(t, np.ndarray) and np.may_share_memory(r, t)
                                                     for t in tangents):
                    r = r.copy()
                res.append(r)
            elif kind == "const":
                res.append(np.array(o[1], copy=True))   # the program's own constant stays untouched
            else:
                res.append(None)
        return res


def compile_steps(steps, n_in, out_slots):
    """Prune ``steps`` to what ``out_slots`` depend on, renumber the slots densely and mark when each intermediate
    can be released. Returns ``(steps, n_slots, new slot of each output slot, largest kept value's size)``."""
    need = set(out_slots)
    keep = []
    for st in reversed(steps):
        if st[4] in need:
            keep.append(st)
            for _, s in st[3]:
                need.add(s)
    keep.reverse()
    renum = {s: s for s in range(n_in)}
    for k, st in enumerate(keep, n_in):
        renum[st[4]] = k
    pinned = {renum[s] for s in out_slots}
    last = {}
    subs_all = []
    for k, st in enumerate(keep):
        subs = tuple((i, renum[s]) for i, s in st[3])
        for _, s in subs:
            last[s] = k
        subs_all.append(subs)
    frees = [[] for _ in keep]
    for s, k in last.items():
        if s >= n_in and s not in pinned:
            frees[k].append(s)
    out = [(st[0], st[0].impl, st[1], st[2], subs_all[k], n_in + k, tuple(frees[k])) for k, st in enumerate(keep)]
    return out, n_in + len(keep), renum, max((st[5] for st in keep), default=0)
