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

from . import _arrayops
from ._core import Box, HodiffError, Trace, _hooks, base_value, bind, new_level, shape_of
from ._forward import Dual, ForwardTrace
from ._functional import _out, _prep

__all__ = ["LinearBox", "LinearProgram", "LinearTrace", "linearize"]


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
        ans = bind(prim, *inner, **params) if _hooks else prim.impl(*inner, **params)
        template = list(args)
        for j, _ in subs:
            template[j] = None                       # the recording's tangent values are not kept
        slot = self.n_slots
        self.n_slots += 1
        self.steps.append((prim, tuple(template), params, tuple(subs), slot, _size(ans)))
        return LinearBox(ans, self, slot)


def _size(v):
    s = getattr(v, "size", None)
    return int(s) if s is not None else int(np.size(v))


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
        if _hooks or any(isinstance(t, Box) for t in tangents):
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


def _compile(steps, n_in, out_slots):
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


def _record(f, primals, tangents=None, batch=None, keep=None):
    """Run ``f`` on duals whose tangents are boxes of a recording level opened first; compile the recording.

    Returns ``(out, is_seq, primal_outs, tangent_outs, program)``: ``f``'s raw output, whether it was a tuple/list,
    the primal output values, the tangent outputs computed while recording (for ``tangents``, zeros when ``None``)
    and the :class:`LinearProgram`. ``keep`` (indices of outputs) limits the program to those outputs' tangents.
    """
    lin = LinearTrace()                     # the lowest level: opened before the forward level
    fwd = ForwardTrace(batch=batch)
    lead = () if batch is None else (int(batch),)
    try:
        duals, in_shapes, in_dtypes = [], [], []
        for k, p in enumerate(primals):
            if isinstance(p, Box):
                raise TypeError("linearize: the point must be plain numbers or arrays, not values traced by another "
                                "transform")
            p = _prep(p, "linearize")
            if isinstance(p, np.ndarray):
                p = p.copy()                 # the program keeps views of the point: later edits must not reach it
            dtype = np.result_type(base_value(p), np.float32)
            tshape = lead + tuple(shape_of(p))
            if tangents is None:
                t0 = np.zeros(tshape, dtype=dtype)
            else:
                t0 = np.asarray(tangents[k], dtype=dtype)
                if t0.shape != tshape:
                    raise ValueError(f"linearize: tangent shape {t0.shape} does not match {tshape}")
            duals.append(Dual(p, lin.input(t0), fwd))
            in_shapes.append(tshape)
            in_dtypes.append(dtype)
        out = f(*duals)
    finally:
        fwd.alive = False
        lin.alive = False
    is_seq = isinstance(out, (list, tuple))
    outs = list(out) if is_seq else [out]
    primal_outs, tangent_outs, kinds = [], [], []
    for j, o in enumerate(outs):
        is_dual = type(o) is Dual and o._trace is fwd
        if isinstance(o, Box) and not is_dual:
            raise TypeError("linearize: the function returned a value traced by a transform that has finished")
        primal_outs.append(o.primal if is_dual else o)
        if keep is not None and j not in keep:
            kinds.append(("drop",))
            tangent_outs.append(None)
        elif is_dual and type(o.tangent) is LinearBox and o.tangent._trace is lin:
            kinds.append(("slot", o.tangent._slot))
            tangent_outs.append(o.tangent._value)
        elif is_dual:                        # a tangent that does not depend on the input tangents
            c = np.asarray(base_value(o.tangent))
            kinds.append(("const", c))
            tangent_outs.append(c)
        else:                                # an output that does not depend on the input at all
            b = np.asarray(o)
            dtype = b.dtype if b.dtype.kind in "fc" else np.float64
            kinds.append(("zero", lead + b.shape, dtype))
            tangent_outs.append(np.zeros(lead + b.shape, dtype=dtype))
    out_slots = [k[1] for k in kinds if k[0] == "slot"]
    steps, n_slots, renum, max_size = _compile(lin.steps, len(primals), out_slots)
    lin.steps = None
    outputs = [("slot", renum[k[1]]) if k[0] == "slot" else k for k in kinds]
    max_size = max([max_size] + [int(np.prod(s, dtype=np.int64)) for s in in_shapes])
    program = LinearProgram(steps, n_slots, outputs, tuple(in_shapes), tuple(in_dtypes), batch, max_size)
    return out, is_seq, primal_outs, tangent_outs, program


def _finish(program, results, is_seq, out_type):
    vals = []
    for o, r in zip(program._outputs, results):
        if o[0] == "zero":
            r = np.zeros(o[1], dtype=o[2])
        elif o[0] == "const" and program.batch is not None and np.shape(r)[:1] != (program.batch,):
            r = np.broadcast_to(r, (program.batch,) + np.shape(r)).copy()
        vals.append(_out(r))
    return out_type(vals) if is_seq else vals[0]


def linearize(f, *primals, batch=None):
    """Evaluate ``f`` once at ``primals`` and return ``(f(*primals), jvp_fn)``; ``jvp_fn(*tangents)`` replays
    only the tangent computation.

    ``jvp_fn(v)`` equals ``hd.jvp(f, primals, (v,))[1]`` but does not run ``f`` again: the forward-mode tangent
    work was recorded during the one evaluation, as a straight-line program linear in ``v`` (constants such as
    ``cos(x)`` are computed once and kept), and each call replays that program on plain numpy arrays. Use it when
    the same Jacobian is applied to many vectors: iterative solvers, eigensolvers, Newton steps. Linearizing a
    gradient gives Hessian-vector products (see :func:`hodiff.hessian_operator`).

    Parameters
    ----------
    f : callable
        A function of arrays returning an array, or a tuple/list of arrays.
    *primals : array_like
        The point, one array per positional argument of ``f``.
    batch : int, optional
        Record for ``batch`` tangents at once: ``jvp_fn`` then takes tangents of shape ``(batch,) + x.shape``
        and returns outputs with the same leading axis (a Jacobian-matrix product in one replay).

    Returns
    -------
    out : array or tuple
        ``f(*primals)``.
    jvp_fn : callable
        ``jvp_fn(*tangents)``, one tangent per primal, of the primal's shape (``(batch,) +`` it with ``batch``),
        returns ``J tangents`` with ``out``'s structure. It keeps the recorded constants (memory of the order of
        what the tangent computation reads) and can be called any number of times; ``jvp_fn.program`` is the
        recorded :class:`~hodiff._linearize.LinearProgram`. The point is copied, but arrays ``f`` closes over are
        kept by reference: change them in place and the replay changes with them.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> y, f_jvp = hd.linearize(lambda x: np.sin(x) * x, np.array([0.0, 1.0]))
    >>> f_jvp(np.array([1.0, 1.0]))          # (x cos(x) + sin(x)) v
    array([0.        , 1.38177329])
    """
    if not primals:
        raise TypeError("linearize(f, *primals) needs at least one primal")
    out, is_seq, primal_outs, _, program = _record(f, primals, None, batch)
    out_type = type(out) if is_seq else None
    n_in = len(primals)

    def jvp_fn(*tangents):
        if len(tangents) != n_in:
            raise TypeError(f"jvp_fn takes {n_in} tangent(s), one per primal; got {len(tangents)}")
        ts = []
        for t, shape, dtype in zip(tangents, program.in_shapes, program.in_dtypes):
            if not isinstance(t, Box):
                t = np.asarray(t, dtype=dtype)
            if tuple(shape_of(t)) != shape:
                raise ValueError(f"jvp_fn: tangent shape {tuple(shape_of(t))} does not match the primal's {shape}")
            ts.append(t)
        return _finish(program, program(*ts), is_seq, out_type)

    jvp_fn.program = program
    primal = out_type(_out(p) for p in primal_outs) if is_seq else _out(primal_outs[0])
    return primal, jvp_fn
