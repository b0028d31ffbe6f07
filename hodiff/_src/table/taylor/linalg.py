"""Taylor-mode rules of the linear-algebra primitives (inv, solve, det, slogdet, cholesky).

The series arithmetic and the registry are in ``series.py``.
"""
from __future__ import annotations

from ... import table as P
import numpy as np

from ...core.engine import ndim_of, shape_of
from .. import linalg as PL
from .series import (
    TAYLOR_RULES,
    c_scale,
    c_sub,
    register,
    s_deriv,
    s_integrate,
    s_mul,
    sum_terms,
)


@register("inv")
def _t_inv(ans, xs, primals, params, K):
    # A Y = I: Y_k = -Y_0 sum_{j=1}^k A_j Y_{k-j}
    a = xs[0]
    y = [ans]
    for k in range(1, K + 1):
        s = sum_terms(P.matmul(a[j], y[k - j]) for j in range(1, k + 1) if a[j] is not None and y[k - j] is not None)
        y.append(None if s is None else P.negative(P.matmul(ans, s)))
    return y[1:]


def _solve_rule(solver):
    def rule(ans, xs, primals, params, K):
        a, b = xs
        vec = ndim_of(primals[1]) == 1
        x = [ans]
        for k in range(1, K + 1):
            s = sum_terms(_apply(a[j], x[k - j], vec, params) for j in range(1, k + 1)
                           if a[j] is not None and x[k - j] is not None)
            r = c_sub(b[k], s)
            x.append(None if r is None else solver(primals[0], r, params))
        return x[1:]
    return rule


def _apply(a, x, vec, params):
    if "lower" in params:
        a = PL._tri_mask(a, params["lower"])
    return P.matmul(a, x)


TAYLOR_RULES["solve"] = _solve_rule(lambda a, r, p: PL.solve(a, r))
TAYLOR_RULES["solve_triangular"] = _solve_rule(lambda a, r, p: PL.solve_triangular(a, r, lower=p["lower"]))


def _trace_prod(w, d):
    """``tr(w d)`` over the last two axes."""
    return P.sum_axes(P.multiply(w, P.mT(d)), (-2, -1), False)


def _logdet_derivative(a):
    """Series (one order shorter) of ``d/dt log|det A| = tr(A^-1 A')``."""
    at = a[:-1]
    w = [PL.inv(at[0])]
    for k in range(1, len(at)):
        s = sum_terms(P.matmul(at[j], w[k - j]) for j in range(1, k + 1) if at[j] is not None)
        w.append(None if s is None else P.negative(P.matmul(w[0], s)))
    return s_mul(w, s_deriv(a), op=_trace_prod)


@register("logabsdet")
def _t_logabsdet(ans, xs, primals, params, K):
    return s_integrate(ans, _logdet_derivative(xs[0]))[1:]


def _det_series(a, ans=None):
    """Series of ``det A(t)`` from the series ``a`` of ``A(t)`` (same length)."""
    y0 = PL.det(a[0]) if ans is None else ans
    if len(a) == 1:
        return [y0]
    if not PL._nearly_singular(a[0]):
        # det' = det * g with g = tr(A^-1 A')
        g = _logdet_derivative(a)
        d = [y0]
        for k in range(1, len(a)):
            s = sum_terms(P.multiply(d[j], g[k - 1 - j]) for j in range(k)
                          if d[j] is not None and g[k - 1 - j] is not None)
            d.append(c_scale(s, 1.0 / k))
        return d
    # singular A(0): det' = sum(cof(A) * A'), the cofactors' series from the minors' determinants (no inverse)
    n = shape_of(a[0])[-1]
    if n == 1:
        cof = [np.ones(tuple(shape_of(a[0])))] + [None] * (len(a) - 2)
    else:
        keep = np.array([[j for j in range(n) if j != i] for i in range(n)])
        idx = (slice(None),) * (ndim_of(a[0]) - 2) + (keep[:, None, :, None], keep[None, :, None, :])
        sign = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
        minors = [None if c is None else P.getitem(c, idx) for c in a[:-1]]
        cof = [None if c is None else P.multiply(c, sign) for c in _det_series(minors)]
    return s_integrate(y0, s_mul(cof, s_deriv(a), op=lambda c, d: P.sum_axes(P.multiply(c, d), (-2, -1), False)))


@register("det")
def _t_det(ans, xs, primals, params, K):
    return _det_series(xs[0], ans)[1:]


@register("cholesky")
def _t_cholesky(ans, xs, primals, params, K):
    # L L^T = S with S the symmetric matrix read from A's lower triangle:
    # L_0 L_k^T + L_k L_0^T = S_k - sum_{j=1}^{k-1} L_j L_{k-j}^T =: R_k, so L_k = L_0 Phi(L_0^-1 R_k L_0^-T)
    a = xs[0]
    L = [ans]
    for k in range(1, K + 1):
        r = c_sub(None if a[k] is None else PL._sym_from_lower(a[k]),
                 sum_terms(P.matmul(L[j], P.mT(L[k - j])) for j in range(1, k)
                            if L[j] is not None and L[k - j] is not None))
        if r is None:
            L.append(None)
            continue
        z = PL.solve_triangular(ans, r, lower=True)
        z = P.mT(PL.solve_triangular(ans, P.mT(z), lower=True))
        L.append(P.matmul(ans, PL._phi(z)))
    return L[1:]
