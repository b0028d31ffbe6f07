"""Exact rewrites of a recorded program (``program.py`` calls :func:`simplify` between dead-code removal and
code generation).

Beside ``program.py`` on the transforms floor. The rules of the table are written for every level and every order,
so at the bottom the recording holds patterns that cost a pass over the data each and that plain numpy would not
write: ``-(c * a)`` where ``(-c) * a`` is the same number, ``b + (-a)`` for ``b - a``, and cotangents of slices
scattered into two zero arrays that are then added. Each rewrite here gives **the same floating-point numbers** as the
original steps (negation is exact, and a slice added into zeros is the slice: only a ``-0.0`` may keep its sign
where eager code added ``+0.0`` to it), so compiled and eager results compare equal; each applies only to a value
used once, by the step being rewritten.
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.engine import PRIMITIVES
from ..interpreters.staging import Guard, Ref, Step
from ..table.contractions import selector_start

_scatter_impl = PRIMITIVES["scatter_add"].impl     # zeros of a shape with g added at idx
matmul_impl = PRIMITIVES["matmul"].impl


def _select_rows(a, b, start):
    """``a @ b`` for ``a`` rows ``start..`` of the identity (``mark_selector``): the rows of ``b``, as ``matmul``
    itself gives them."""
    if b.ndim in (1, 2) and b.shape[0] == a.shape[1]:
        return np.array(b[start:start + a.shape[0]], dtype=np.result_type(a, b))
    return np.matmul(a, b)


def _selectors(steps):
    """Products with an identity block registered by ``mark_selector`` (its constant is copied into the program,
    which would lose the mark) become the row selection ``matmul`` makes of them."""
    for k, s in enumerate(steps):
        if type(s) is Step and s.fn is matmul_impl and len(s.args) == 2 and not s.kwargs:
            start = selector_start(s.args[0])
            if start is not None and type(s.args[1]) is Ref:
                steps[k] = Step(_select_rows, (s.args[0], s.args[1], start), {}, s.out, "select_rows", s.meta)
    return steps

__all__ = ["matmul_impl", "scatter2", "simplify"]

_NEG = {operator.neg, np.negative}
_MUL = {operator.mul, np.multiply}
_ADD = {operator.add, np.add}
_SUB = {operator.sub, np.subtract}


def _scalar(c):
    """A constant scalar a step multiplies by (negating it is exact)."""
    return type(c) in (float, int) or (isinstance(c, np.floating) and not isinstance(c, np.ndarray))


def scatter2(g1, idx1, g2, idx2, shape):
    """``scatter(g1, idx1) + scatter(g2, idx2)`` into one array (the second added, so overlaps still sum)."""
    z = _scatter_impl(g1, idx1, shape)
    if z.dtype != np.result_type(z, g2):
        return z + _scatter_impl(g2, idx2, shape)
    if any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in idx2):
        np.add.at(z, idx2, g2)       # repeated integer indices must add up
    else:
        z[idx2] += g2
    return z


def _uses(steps, roots):
    count: dict[int, int] = {}
    for s in steps:
        if type(s) is Guard:
            count[s.var] = count.get(s.var, 2) + 2      # a guarded value is never rewritten away
            continue
        for var in s.reads():
            count[var] = count.get(var, 0) + 1
    for r in roots:
        count[r] = count.get(r, 0) + 2                 # nor is an output
    return count


def _once(a, uses):
    return type(a) is Ref and uses.get(a.var, 0) == 1


def _rewrite(s, made, uses):
    """A cheaper step equal to ``s`` (reading the single-use steps ``made`` it consumes), or None."""
    fn, args = s.fn, s.args
    if s.kwargs or len(args) not in (1, 2):
        return None
    if fn in _NEG:
        p = made.get(args[0].var) if _once(args[0], uses) else None
        if p is not None and p.fn in _MUL and not p.kwargs:
            a, b = p.args
            if _scalar(b):                                   # -(a * c) = a * (-c)
                return Step(p.fn, (a, -b), {}, s.out, p.name, s.meta), p
            if _scalar(a):
                return Step(p.fn, (-a, b), {}, s.out, p.name, s.meta), p
        if p is not None and p.fn in _NEG:                   # -(-a) = a (as a copy: the value is fresh)
            return Step(np.positive, (p.args[0],), {}, s.out, "copy", s.meta), p
        return None
    if len(args) != 2:
        return None
    a, b = args
    if fn in _MUL:
        for u, k, flip in ((a, b, False), (b, a, True)):
            p = made.get(u.var) if _scalar(k) and _once(u, uses) else None
            if p is not None and p.fn in _NEG:               # (-a) * c = a * (-c)
                return Step(fn, (-k, p.args[0]) if flip else (p.args[0], -k), {}, s.out, s.name, s.meta), p
        return None
    if fn in _ADD:
        for u, other in ((b, a), (a, b)):
            p = made.get(u.var) if _once(u, uses) else None
            if p is not None and p.fn in _NEG:               # o + (-a) = o - a
                return Step(operator.sub, (other, p.args[0]), {}, s.out, "subtract", s.meta), p
        pa = made.get(a.var) if _once(a, uses) else None
        pb = made.get(b.var) if _once(b, uses) else None
        if (pa is not None and pb is not None and pa.fn is _scatter_impl and pb.fn is _scatter_impl
                and pa.args[2] == pb.args[2] and not pa.kwargs and not pb.kwargs):
            return Step(scatter2, (pa.args[0], pa.args[1], pb.args[0], pb.args[1], pa.args[2]), {}, s.out, "scatter_add2", s.meta), (pa, pb)
        return None
    if fn in _SUB:
        p = made.get(b.var) if _once(b, uses) else None
        if p is not None and p.fn in _NEG:                   # o - (-a) = o + a
            return Step(operator.add, (a, p.args[0]), {}, s.out, "add", s.meta), p
    return None


def _normalise(steps):
    """Steps with keyword parameters moved to positions where the implementation takes them so (scatter)."""
    for s in steps:
        if type(s) is Step and s.fn is _scatter_impl and set(s.kwargs) == {"idx", "shape"} and len(s.args) == 1:
            s.args = (s.args[0], s.kwargs["idx"], s.kwargs["shape"])
            s.kwargs = {}
    return steps


def simplify(steps, roots):
    """``steps`` rewritten to fewer passes over the data, with the same numbers; ``roots`` are the output variables."""
    steps = _selectors(_normalise(steps))
    if not any(type(s) is Step and (s.fn in _NEG or s.fn is _scatter_impl) for s in steps):
        return steps               # every rewrite below starts from a negation or a scatter
    while True:
        uses = _uses(steps, roots)
        made = {s.out: s for s in steps if type(s) is Step}
        dropped: set[int] = set()
        out = []
        changed = False
        for s in steps:
            r = _rewrite(s, made, uses) if type(s) is Step else None
            if r is None:
                out.append(s)
                continue
            new, consumed = r
            for c in consumed if type(consumed) is tuple else (consumed,):
                dropped.add(id(c))
            made[new.out] = new
            out.append(new)
            changed = True
        steps = [s for s in out if id(s) not in dropped]
        if not changed:
            return steps
