"""Taylor-mode rules of the linear and multilinear primitives (add, reshape, getitem, sum, multiply, matmul,
einsum, where, concatenate) and of the products along the last axis (prod, cumprod).

The series arithmetic and the registry are in ``series.py``.
"""
from __future__ import annotations

import numpy as np

from ... import table as P
from ...core.engine import dtype_of, PRIMITIVES, base_value, bind, ndim_of, shape_of
from .. import scans as PA
from .series import (
    TAYLOR_RULES,
    c_add,
    c_sub,
    is_const,
    register,
    s_mul,
    s_neg,
    sum_terms,
)


@register("add")
def _t_add(ans, xs, primals, params, K):
    return [c_add(a, b) for a, b in zip(xs[0][1:], xs[1][1:])]


@register("subtract")
def _t_subtract(ans, xs, primals, params, K):
    return [c_sub(a, b) for a, b in zip(xs[0][1:], xs[1][1:])]


@register("negative")
def _t_negative(ans, xs, primals, params, K):
    return s_neg(xs[0][1:])


def _linear_unary(prim):
    """A linear unary primitive acts on each coefficient with the same parameters."""
    def rule(ans, xs, primals, params, K):
        return [None if c is None else bind(prim, c, **params) for c in xs[0][1:]]
    return rule


for _name in ("reshape", "transpose", "broadcast_to", "getitem", "scatter_add", "sum", "cumsum_last"):
    TAYLOR_RULES[_name] = _linear_unary(PRIMITIVES[_name])


def _multilinear(prim):
    """``y_k = sum over degree splits j_1 + ... + j_m = k of prim(x1_{j_1}, ..., xm_{j_m})`` (a Cauchy product)."""
    def rule(ans, xs, primals, params, K):
        moving = [i for i, s in enumerate(xs) if not is_const(s)]
        if not moving:      # every argument constant (a Jet whose higher coefficients are all None)
            return [None] * K
        out = []
        for k in range(1, K + 1):
            terms = []
            for degs in _splits(k, len(moving)):
                args = list(primals)
                ok = True
                for i, d in zip(moving, degs):
                    c = xs[i][d]
                    if c is None:
                        ok = False
                        break
                    args[i] = c
                if ok:
                    terms.append(bind(prim, *args, **params))
            out.append(sum_terms(terms))
        return out
    return rule


def _splits(k, m):
    """All ``m``-tuples of non-negative integers summing to ``k``."""
    if m <= 0:
        if k == 0 and m == 0:
            yield ()
        return
    if m == 1:
        yield (k,)
        return
    for first in range(k + 1):
        for rest in _splits(k - first, m - 1):
            yield (first,) + rest


for _name in ("multiply", "matmul", "einsum"):
    TAYLOR_RULES[_name] = _multilinear(PRIMITIVES[_name])


@register("where")
def _t_where(ans, xs, primals, params, K):
    cond = primals[0]
    out = []
    for a, b in zip(xs[1][1:], xs[2][1:]):
        if a is None and b is None:
            out.append(None)
        else:
            out.append(P.where(cond, 0.0 if a is None else a, 0.0 if b is None else b))
    return out


@register("concatenate")
def _t_concatenate(ans, xs, primals, params, K):
    dtype = dtype_of(ans)
    out = []
    for k in range(1, K + 1):
        cs = [s[k] for s in xs]
        if all(c is None for c in cs):
            out.append(None)
            continue
        cs = [c if c is not None else np.zeros(tuple(shape_of(p)), dtype=dtype) for c, p in zip(cs, primals)]
        out.append(PA.concatenate_(cs, params["axis"]))
    return out


# ----------------------------------------------------------------------------------------------------------------
# products along the last axis


def _last(c, i):
    return None if c is None else P.getitem(c, (slice(None),) * (ndim_of(c) - 1) + (i,))


def _slices(x):
    n = shape_of(x[0])[-1]
    return [[_last(c, i) for c in x] for i in range(n)]


@register("prod_last")
def _t_prod_last(ans, xs, primals, params, K):
    acc = None
    for s in _slices(xs[0]):
        acc = s if acc is None else s_mul(acc, s)
    if acc is None:
        return [None] * K
    return acc[1:]


@register("cumprod_last")
def _t_cumprod_last(ans, xs, primals, params, K):
    acc = None
    parts = []
    for s in _slices(xs[0]):
        acc = s if acc is None else s_mul(acc, s)
        parts.append(acc)
    dtype = dtype_of(ans)
    out = []
    for k in range(1, K + 1):
        cs = [p[k] for p in parts]
        if all(c is None for c in cs):
            out.append(None)
            continue
        shape = tuple(shape_of(ans))[:-1]
        cs = [P.reshape(c if c is not None else np.zeros(shape, dtype=dtype), shape + (1,)) for c in cs]
        out.append(PA.concatenate_(cs, -1))
    return out
