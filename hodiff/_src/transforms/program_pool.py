"""Buffers a recorded program writes its temporaries into, reused from call to call (``program.py`` uses it).

Beside ``program.py`` on the transforms floor. A fresh numpy temporary of a few hundred kilobytes or more is fresh
memory from the allocator, and, depending on the allocator's state, fresh pages from the system: at n = 10^6 that
page-faulting costs more than the arithmetic. So the steps that are numpy ufuncs (and ``matmul``) write into
buffers (``out=``) that stay allocated between calls:

* one set of buffers **per thread** (``threading.local``): a program has no callbacks, so a call never starts while
  another call of the same thread is running, and two threads never share a buffer;
* two temporaries share a buffer only when their lives do not overlap, where a life lasts until the last use of
  every value that may be a view of it (a reshape, a slice, a transpose: any step that is not itself writing into a
  buffer is assumed to possibly return a view of its array arguments);
* outputs never live in a buffer, nor do temporaries an output may be a view of.

The numbers are those of the same ufunc without ``out=``.
"""
from __future__ import annotations

import math
import operator
import threading

import numpy as np

from ..core.engine import PRIMITIVES
from ..interpreters.staging import Guard, Step
from .program_opt import scatter2

# Steps known to return a new array (never a view of an argument): what they read may be a reused buffer even
# when their result is an output.
_FRESH = {PRIMITIVES["scatter_add"].impl, scatter2}

__all__ = ["MIN_POOLED", "plan"]

#: Temporaries smaller than this (elements) are left to the allocator: ``out=`` costs more than it saves there.
MIN_POOLED = 4096

_UFUNC_OF = {operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply,
             operator.truediv: np.true_divide, operator.neg: np.negative}


def _ufunc(s, matmul_impl):
    """The ufunc that computes step ``s`` with ``out=`` (same numbers), or None."""
    fn, args = s.fn, s.args
    if s.kwargs or not args:
        return None
    if fn in _UFUNC_OF:
        return _UFUNC_OF[fn]
    if isinstance(fn, np.ufunc) and fn.nout == 1 and fn.nin == len(args):
        return fn
    if fn is matmul_impl and len(args) == 2:
        return np.matmul
    if getattr(fn, "__name__", "") == "_power_impl" and len(args) == 2 and type(args[1]) in (int, float):
        return {2: np.square, 0.5: np.sqrt, -1: np.reciprocal}.get(args[1])
    return None


def plan(steps, inputs, outputs, matmul_impl):
    """``(steps, slots, pooled outputs)``: ``steps`` with the pooled ones marked (``step.meta`` gets a third entry,
    the slot), ``slots`` the ``(shape, dtype)`` of each buffer, and the output variables that may be views of a
    buffer (to be copied)."""
    if not any(type(s) is Step and s.meta is not None and math.prod(s.meta[0]) >= MIN_POOLED for s in steps):
        return steps, [], set()     # nothing large enough to pool (scalar programs): no plan to make
    end = float("inf")
    last: dict[int, float] = {v: end for v in outputs}
    for k, s in enumerate(steps):
        used = [s.var] if type(s) is Guard else s.reads()
        for v in used:
            if last.get(v, -1) < k:
                last[v] = k
    pooled, roots = {}, {}
    for k, s in enumerate(steps):
        if type(s) is Guard:
            continue
        u = _ufunc(s, matmul_impl)
        meta = s.meta
        if (u is not None and meta is not None and s.out not in outputs and meta[1].kind in "fc"
                and math.prod(meta[0]) >= MIN_POOLED):
            pooled[s.out] = u
            roots[s.out] = {s.out}
        elif s.fn in _FRESH:
            roots[s.out] = set()
        else:          # may be a view of any array it was given
            rs = set()
            for v in s.reads():
                rs |= roots.get(v, set())
            roots[s.out] = rs
    # a buffer that an output may be a view of would have to be copied out at every call: leave it fresh instead
    for v in outputs:
        for p in roots.get(v, ()):
            pooled.pop(p, None)
    life = {p: last.get(p, -1) for p in pooled}
    for v, rs in roots.items():
        for p in rs:
            if p in life:
                life[p] = max(life[p], last.get(v, -1))
    slots: list[tuple] = []
    free: dict[tuple, list[int]] = {}
    release: dict[float, list[tuple]] = {}
    out = []
    for k, s in enumerate(steps):
        if type(s) is Step and s.out in pooled:
            key = (tuple(s.meta[0]), s.meta[1])
            spare = free.get(key)
            slot = spare.pop() if spare else len(slots)
            if slot == len(slots):
                slots.append(key)
            u = pooled[s.out]
            args = s.args[:1] if u in (np.square, np.sqrt, np.reciprocal) and len(s.args) == 2 else s.args
            s = Step(u, args, {}, s.out, s.name, (s.meta[0], s.meta[1], slot))
            release.setdefault(life[s.out], []).append((key, slot))
        out.append(s)
        for key, slot in release.pop(k, ()):
            free.setdefault(key, []).append(slot)
    viewed = {v for v in outputs if any(p in pooled for p in roots.get(v, ()))}   # empty: kept as a check
    return out, slots, viewed


def buffers(slots):
    """The per-thread buffer getter of a program with these slots."""
    local = threading.local()

    def get():
        b = getattr(local, "b", None)
        if b is None:
            b = local.b = [np.empty(shape, dtype) for shape, dtype in slots]
        return b
    return get
