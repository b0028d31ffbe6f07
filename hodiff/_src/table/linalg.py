"""The primitive table, continued: dense linear algebra.

Same conventions as ``prims.py``. Matrices may be stacked along leading axes (as in ``numpy.linalg``); the
rules use ``matmul`` and last-two-axes transposes, so leading batch axes of tangents broadcast through them.
Factorizations with several outputs (``eigh``, ``qr``, ``svd``) are single primitives whose output packs the factors
along the second-to-last axis; ``hodiff.linalg`` unpacks them. ``cholesky`` and ``eigh`` read only the lower
triangle of their input (as numpy does), and their rules say so: the derivative with respect to the upper
triangle is zero.

Slightly over 500 lines: the solve rules and the factorizations that reuse them stay together, since their batch
axis handling (tangent batch axes kept left of every stacking axis, ``_pad_stack``) must stay identical;
the repeated-eigenvalue helpers are already apart in ``linalg_gaps.py``.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..core.engine import Primitive, bind, lower, ndim_of, shape_of, size_of
from .contractions import matmul, mT
from .elementwise import add, divide, multiply, negative, subtract
from .indexing import getitem, reshape, transpose
from .reductions import sum_axes
from .linalg_gaps import cluster_nan, gap_inverse, is_zero
from .scans import concatenate_


def _cubic_cost(ans, a, *rest, **p):
    n = shape_of(a)[-1]
    return int(2 * n ** 3 * max(1, size_of(a) // max(1, n * n))), 8 * (size_of(a) + size_of(ans))


def _spd(rng, n=3, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _square_domain(rng):
    n = int(rng.integers(2, 4))
    return (rng.standard_normal((n, n)) + n * np.eye(n),), {}


def _tril(x, k=0):
    s = shape_of(x)
    return multiply(x, np.tril(np.ones(s[-2:]), k))


def _sym_from_lower(t):
    """The symmetric matrix a routine that reads only the lower triangle actually sees."""
    return add(_tril(t), mT(_tril(t, -1)))


def _lower_adjoint(s):
    """Adjoint of ``_sym_from_lower``: the cotangent of the stored input, given one of the symmetric matrix."""
    return subtract(_tril(add(s, mT(s))), multiply(s, np.eye(shape_of(s)[-1])))


def _diag_part(x):
    n = shape_of(x)[-1]
    i = np.arange(n)
    return getitem(x, (slice(None),) * (ndim_of(x) - 2) + (i, i))


def _diag_embed(d):
    n = shape_of(d)[-1]
    return multiply(reshape(d, tuple(shape_of(d)) + (1,)), np.eye(n))


# ---------------------------------------------------------------------------------------------------------------
# inv, solve, determinants

_inv = Primitive(
    "inv", np.linalg.inv,
    (lambda t, ans, a: negative(matmul(ans, matmul(t, ans))),),
    (lambda g, ans, a: negative(matmul(mT(ans), matmul(g, mT(ans)))),),
    cost=_cubic_cost, domain=_square_domain)


def inv(a):
    """Matrix inverse (stacked matrices allowed)."""
    return bind(_inv, a)


def _pad_stack(t, k, have, want):
    """Insert unit axes after the ``k`` leading batch axes of ``t`` so its ``have`` stacking axes become ``want``.

    A tangent's batch axes must stay to the left of every stacking axis of the other operands (``b``, ``ans``):
    left alone, broadcasting would line them up with a stacking axis of the same length instead. Nested
    forward levels make exactly that case: an inner level's batch of tangents is a stack of right-hand sides to
    the outer level, while the outer level's tangent of ``a`` has only its own batch axis.
    """
    if k == 0 or have >= want:
        return t
    s = tuple(shape_of(t))
    return reshape(t, s[:k] + (1,) * (want - have) + s[k:])


def _solve_cols(fn, a, rhs):
    """``fn(a, rhs)`` for ``rhs`` of shape ``(..., n, c)`` whose leading axes broadcast against ``a``'s stack.

    For an unstacked ``a`` the stacked columns are folded into one ``(n, L)`` right-hand side: one factorization
    instead of ``L``.
    """
    nd = ndim_of(rhs)
    if ndim_of(a) != 2 or nd <= 2:
        return fn(a, rhs)
    s = tuple(shape_of(rhs))
    front = transpose(rhs, (nd - 2,) + tuple(range(nd - 2)) + (nd - 1,))      # (n, ..., c)
    r = fn(a, reshape(front, (s[-2], -1)))
    r = reshape(r, (shape_of(r)[0],) + s[:-2] + (s[-1],))
    return transpose(r, tuple(range(1, nd - 1)) + (0, nd - 1))


def _as_cols(x, vec):
    return reshape(x, tuple(shape_of(x)) + (1,)) if vec else x


def _from_cols(x, vec):
    return reshape(x, tuple(shape_of(x)[:-1])) if vec else x


def _rhs_rule(fn, t, ans, a, b):
    """``fn(a, t)``: the tangent of ``a x = b``'s solution along the tangent ``t`` of ``b`` (batch axes leading)."""
    vec = ndim_of(b) == 1
    k = ndim_of(t) - ndim_of(b)
    out_stack = ndim_of(ans) - (1 if vec else 2)
    tc = _pad_stack(_as_cols(t, vec), k, ndim_of(b) - (1 if vec else 2), out_stack)
    return _from_cols(_solve_cols(fn, a, tc), vec)


def _matrix_rule(fn, mask, t, ans, a, b):
    """``-fn(a, mask(t) ans)``: the tangent of ``a x = b``'s solution along the tangent ``t`` of ``a``."""
    vec = ndim_of(b) == 1
    k = ndim_of(t) - ndim_of(a)
    out_stack = ndim_of(ans) - (1 if vec else 2)
    tp = _pad_stack(mask(t), k, ndim_of(a) - 2, out_stack)
    return negative(_from_cols(_solve_cols(fn, a, matmul(tp, _as_cols(ans, vec))), vec))


def _solve_jvp_a(t, ans, a, b):
    return _matrix_rule(solve, _same, t, ans, a, b)


def _solve_jvp_b(t, ans, a, b):
    return _rhs_rule(solve, t, ans, a, b)


def _solve_vjp_b(g, ans, a, b):
    return _from_cols(_solve_cols(solve, mT(a), _as_cols(g, ndim_of(b) == 1)), ndim_of(b) == 1)


def _outer_neg(gb, ans, vec, mask):
    """``-mask(gb ans^T)``: the cotangent of ``a`` from the cotangent ``gb`` of ``b``."""
    return negative(mask(matmul(_as_cols(gb, vec), mT(_as_cols(ans, vec)))))


def _solve_vjp_a(g, ans, a, b):
    vec = ndim_of(b) == 1
    return _outer_neg(_solve_vjp_b(g, ans, a, b), ans, vec, _same)


def _same(x):
    return x


def _solve_domain(rng):
    (a,), _ = _square_domain(rng)
    n = a.shape[0]
    return (a, rng.standard_normal([(n,), (n, 2)][rng.integers(2)])), {}


_solve = Primitive("solve", np.linalg.solve, (_solve_jvp_a, _solve_jvp_b), (_solve_vjp_a, _solve_vjp_b),
                   cost=_cubic_cost, domain=_solve_domain)


def solve(a, b):
    """Solve ``a x = b`` (numpy's ``linalg.solve`` conventions: ``b`` is a vector or a stack of matrices)."""
    return bind(_solve, a, b)


def _trace_solve(a, t):
    return _diag_part(solve(a, t)).sum(axis=-1)


def _expand2(g):
    return reshape(g, tuple(shape_of(g)) + (1, 1))


def _cofactors(a):
    """The cofactor matrix ``adj(a)^T`` from the determinants of all minors: no inverse, defined at singular ``a``.

    Each entry is a polynomial in ``a``'s entries, and the minors' determinants go through :func:`det` again, so
    the result is differentiable to any order. Cost ``n^2`` determinants of order ``n - 1``: used only where
    ``a`` is singular or nearly so (elsewhere ``det(a) inv(a)^T`` is the same matrix, cheaper).
    """
    s = tuple(shape_of(a))
    n = s[-1]
    if n == 1:
        return np.ones(s)
    keep = np.array([[j for j in range(n) if j != i] for i in range(n)])
    rows = keep[:, None, :, None]
    cols = keep[None, :, None, :]
    minors = getitem(a, (slice(None),) * (len(s) - 2) + (rows, cols))       # (..., n, n, n-1, n-1)
    sign = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return multiply(det(minors), sign)


def _nearly_singular(a):
    """Whether the cofactor formula is needed (a guard under ``hd.jit``: the test itself is recorded)."""
    return bool(lower(_ill_conditioned, a))


def _ill_conditioned(a0):
    a0 = np.asarray(a0, dtype=float)
    if a0.size == 0:
        return False
    with np.errstate(all="ignore"):
        return bool(np.any(~(np.linalg.cond(a0) < 1e8)))


def _det_jvp(t, ans, a):
    if _nearly_singular(a):
        return sum_axes(multiply(_cofactors(a), t), (-2, -1), False)
    return multiply(ans, _trace_solve(a, t))


def _det_vjp(g, ans, a):
    if _nearly_singular(a):
        return multiply(_expand2(g), _cofactors(a))
    return multiply(_expand2(multiply(g, ans)), mT(inv(a)))


_logabsdet = Primitive(
    "logabsdet", lambda a: np.linalg.slogdet(a)[1],
    (lambda t, ans, a: _trace_solve(a, t),),
    (lambda g, ans, a: multiply(_expand2(g), mT(inv(a))),),
    cost=_cubic_cost, domain=_square_domain)

_det = Primitive("det", np.linalg.det, (_det_jvp,), (_det_vjp,), cost=_cubic_cost, domain=_square_domain)


def det(a):
    """Determinant; its derivative is the cofactor matrix ``adj(a)^T`` (``det(a) inv(a)^T`` where ``a`` is
    nonsingular), defined at singular ``a`` too."""
    return bind(_det, a)


def _det_sign(a):
    return np.sign(np.linalg.det(a))


def slogdet(a):
    """``(sign, log|det a|)``; the sign carries no derivative."""
    return lower(_det_sign, a), bind(_logabsdet, a)


# ---------------------------------------------------------------------------------------------------------------
# triangular solves and Cholesky

def _tri_impl(a, b, lower):
    if np.ndim(a) == 2 and np.ndim(b) <= 2:
        return sla.solve_triangular(a, b, lower=lower, check_finite=False)
    mask = np.tril(np.ones(np.shape(a)[-2:])) if lower else np.triu(np.ones(np.shape(a)[-2:]))
    bb = b[..., None] if np.ndim(b) == 1 else b
    r = np.linalg.solve(a * mask, bb)
    return r[..., 0] if np.ndim(b) == 1 else r


def _tri_mask(x, lower):
    s = shape_of(x)[-2:]
    return multiply(x, np.tril(np.ones(s)) if lower else np.triu(np.ones(s)))


def _tri_solver(lower):
    return lambda a, r: solve_triangular(a, r, lower=lower)


def _tri_jvp_a(t, ans, a, b, lower):
    return _matrix_rule(_tri_solver(lower), lambda m: _tri_mask(m, lower), t, ans, a, b)


def _tri_jvp_b(t, ans, a, b, lower):
    return _rhs_rule(_tri_solver(lower), t, ans, a, b)


def _tri_vjp_b(g, ans, a, b, lower):
    vec = ndim_of(b) == 1
    return _from_cols(_solve_cols(_tri_solver(not lower), mT(a), _as_cols(g, vec)), vec)


def _tri_vjp_a(g, ans, a, b, lower):
    return _outer_neg(_tri_vjp_b(g, ans, a, b, lower), ans, ndim_of(b) == 1, lambda m: _tri_mask(m, lower))


def _tri_domain(rng):
    n = int(rng.integers(2, 4))
    a = np.tril(rng.standard_normal((n, n))) + n * np.eye(n)
    lower = bool(rng.integers(2))
    a = a if lower else a.T
    return (a, rng.standard_normal([(n,), (n, 2)][rng.integers(2)])), {"lower": lower}


_solve_tri = Primitive("solve_triangular", _tri_impl, (_tri_jvp_a, _tri_jvp_b), (_tri_vjp_a, _tri_vjp_b),
                       cost=lambda ans, a, b, **p: (shape_of(a)[-1] ** 2 * max(1, size_of(b) // shape_of(a)[-1]),
                                                    8 * (size_of(a) + size_of(b))),
                       domain=_tri_domain)


def solve_triangular(a, b, lower=False):
    """Solve ``a x = b`` for triangular ``a`` (only the ``lower`` or upper triangle of ``a`` is read)."""
    return bind(_solve_tri, a, b, lower=bool(lower))


def _phi(x):
    """Lower triangle with the diagonal halved."""
    return subtract(_tril(x), multiply(0.5, multiply(x, np.eye(shape_of(x)[-1]))))


def _chol_jvp(t, ans, a):
    # dL = L Phi(L^-1 dA L^-T), with dA the symmetric matrix numpy reads from t's lower triangle
    da = _sym_from_lower(t)
    x = solve_triangular(ans, da, lower=True)
    x = mT(solve_triangular(ans, mT(x), lower=True))
    return matmul(ans, _phi(x))


def _chol_vjp(g, ans, a):
    p = _phi(matmul(mT(ans), g))
    s = solve_triangular(mT(ans), p, lower=False)
    s = mT(solve_triangular(mT(ans), mT(s), lower=False))
    return _lower_adjoint(multiply(0.5, add(s, mT(s))))


_cholesky = Primitive("cholesky", np.linalg.cholesky, (_chol_jvp,), (_chol_vjp,), cost=_cubic_cost,
                      domain=lambda rng: ((_spd(rng, int(rng.integers(2, 4))),), {}))


def cholesky(a):
    """Lower Cholesky factor ``L`` with ``a = L L^T`` (reads the lower triangle of ``a``)."""
    return bind(_cholesky, a)


# ---------------------------------------------------------------------------------------------------------------
# packed factorizations: eigh, qr, svd


def _unpack_eigh(p):
    nd = ndim_of(p)
    lead = (slice(None),) * (nd - 2)
    return getitem(p, lead + (0,)), getitem(p, lead + (slice(1, None),))


def _eigh_impl(a):
    w, v = np.linalg.eigh(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_jvp(t, ans, a):
    w, v = _unpack_eigh(ans)
    da = _sym_from_lower(t)
    m = matmul(mT(v), matmul(da, v))
    dw = _diag_part(m)            # d w_i = v_i^T dA v_i: no gaps involved
    dv = matmul(v, multiply(gap_inverse(w, m), m))
    return concatenate_([reshape(dw, tuple(shape_of(dw)[:-1]) + (1, shape_of(dw)[-1])), dv], -2)


def _eigh_vjp(g, ans, a):
    w, v = _unpack_eigh(ans)
    gw, gv = _unpack_eigh(g)
    inner = _diag_embed(gw)
    nan = cluster_nan(w, gw)
    if nan is not None:
        inner = multiply(inner, nan)
    if not is_zero(gv):          # eigenvalues only: no 1/(w_i - w_j) at all
        k = matmul(mT(v), gv)
        inner = add(inner, multiply(gap_inverse(w, k), k))
    return _lower_adjoint(matmul(v, matmul(inner, mT(v))))


_eigh = Primitive("eigh_packed", _eigh_impl, (_eigh_jvp,), (_eigh_vjp,), cost=_cubic_cost,
                  domain=lambda rng: ((_spd(rng, int(rng.integers(2, 4))),), {}))


def eigh(a):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (reads the lower triangle).

    Derivatives at a repeated eigenvalue: functions of the eigenvalues that are symmetric within each repeated
    cluster (sums, norms, the trace) get exact first derivatives, and ``d w_i = v_i^T dA v_i`` never divides by a
    gap. Where the derivative does not exist (one eigenvalue of a cluster on its own, eigenvectors of a cluster)
    the result is NaN, as it is for second derivatives along directions that split a cluster (see
    ``linalg_gaps``). Forward mode cannot tell a symmetric function from the rest: its eigenvalue tangent
    ``diag(V^T dA V)`` is right for the former only.
    """
    return _unpack_eigh(bind(_eigh, a))


def eigvalsh(a):
    """Eigenvalues of a symmetric matrix."""
    return eigh(a)[0]


def _qr_impl(a):
    q, r = np.linalg.qr(a)
    return np.concatenate([q, r], axis=-2)


def _unpack_qr(p, m):
    lead = (slice(None),) * (ndim_of(p) - 2)
    return getitem(p, lead + (slice(0, m),)), getitem(p, lead + (slice(m, None),))


def _qr_jvp(t, ans, a):
    m = shape_of(a)[-2]
    q, r = _unpack_qr(ans, m)
    x = mT(solve_triangular(mT(r), mT(matmul(mT(q), t)), lower=True))
    low = _tril(x, -1)
    omega = subtract(low, mT(low))
    dr = matmul(subtract(x, omega), r)
    dq = subtract(mT(solve_triangular(mT(r), mT(t), lower=True)), matmul(q, subtract(x, omega)))
    return concatenate_([dq, dr], -2)


def _copyltu(m):
    low = _tril(m, -1)
    return add(add(low, mT(low)), multiply(m, np.eye(shape_of(m)[-1])))


def _qr_vjp(g, ans, a):
    mm = shape_of(a)[-2]
    q, r = _unpack_qr(ans, mm)
    gq, gr = _unpack_qr(g, mm)
    m = subtract(matmul(r, mT(gr)), matmul(mT(gq), q))
    b = add(gq, matmul(q, _copyltu(m)))
    return mT(solve_triangular(r, mT(b), lower=False))     # B R^-T


def _qr_domain(rng):
    m, n = [(3, 3), (4, 2), (3, 2)][rng.integers(3)]
    u, _, vh = np.linalg.svd(rng.standard_normal((m, n)), full_matrices=False)
    return ((u * np.linspace(3.0, 1.0, n)) @ vh,), {}   # well conditioned: singular values 3 .. 1


_qr = Primitive("qr_packed", _qr_impl, (_qr_jvp,), (_qr_vjp,), cost=_cubic_cost, domain=_qr_domain)


def qr(a):
    """Reduced QR factorization ``a = Q R`` for ``a`` with at least as many rows as columns and full rank."""
    m, n = shape_of(a)[-2:]
    if m < n:
        raise NotImplementedError("hodiff's qr is differentiable for matrices with rows >= columns")
    return _unpack_qr(bind(_qr, a), m)


def _svd_impl(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, s[..., None, :], np.swapaxes(vh, -1, -2)], axis=-2)


def _unpack_svd(p, m):
    lead = (slice(None),) * (ndim_of(p) - 2)
    return (getitem(p, lead + (slice(0, m),)), getitem(p, lead + (m,)), getitem(p, lead + (slice(m + 1, None),)))


def _row(s):
    return reshape(s, tuple(shape_of(s)[:-1]) + (1, shape_of(s)[-1]))


def _col(s):
    return reshape(s, tuple(shape_of(s)) + (1,))


def _svd_jvp(t, ans, a):
    m, _n = shape_of(a)[-2:]
    u, s, v = _unpack_svd(ans, m)
    dp = matmul(mT(u), matmul(t, v))
    ds = _diag_part(dp)           # d s_i = u_i^T dA v_i: no gaps involved
    F = gap_inverse(multiply(s, s), dp)
    sr, sc = _row(s), _col(s)
    du = matmul(u, multiply(F, add(multiply(dp, sr), multiply(sc, mT(dp)))))
    du = add(du, divide(subtract(matmul(t, v), matmul(u, dp)), sr))
    dv = matmul(v, multiply(F, add(multiply(sc, dp), multiply(mT(dp), sr))))
    tu = matmul(mT(t), u)
    dv = add(dv, divide(subtract(tu, matmul(v, mT(dp))), sr))
    return concatenate_([du, _row(ds), dv], -2)


def _abs_sum(a, b):
    return np.abs(a) + np.abs(b)


def _svd_vjp(g, ans, a):
    m, _n = shape_of(a)[-2:]
    u, s, v = _unpack_svd(ans, m)
    gu, gs, gv = _unpack_svd(g, m)
    core = _diag_embed(gs)
    nan = cluster_nan(s, gs)
    if nan is not None:
        core = multiply(core, nan)
    zu, zv = is_zero(gu), is_zero(gv)
    if zu and zv:                 # singular values only: U diag(gs) V^T, no gaps, no 1/s
        return matmul(u, matmul(core, mT(v)))
    sr, sc = _row(s), _col(s)
    utgu = matmul(mT(u), gu)
    vtgv = matmul(mT(v), gv)
    F = gap_inverse(multiply(s, s), lower(_abs_sum, utgu, vtgv))
    core = add(add(multiply(multiply(F, subtract(utgu, mT(utgu))), sr), core),
               multiply(sc, multiply(F, subtract(vtgv, mT(vtgv)))))
    out = matmul(u, matmul(core, mT(v)))
    if not zu:
        pu = subtract(gu, matmul(u, utgu))                 # (I - U U^T) gU
        out = add(out, matmul(divide(pu, sr), mT(v)))
    if not zv:
        pv = subtract(gv, matmul(v, vtgv))                 # (I - V V^T) gV
        out = add(out, matmul(divide(u, sr), mT(pv)))
    return out


def _svd_domain(rng):
    m, n = [(3, 3), (4, 2), (2, 4), (3, 2)][rng.integers(4)]
    a = rng.standard_normal((m, n))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    k = min(m, n)
    return ((u * np.linspace(3.0, 1.0, k)) @ vh,), {}


_svd = Primitive("svd_packed", _svd_impl, (_svd_jvp,), (_svd_vjp,), cost=_cubic_cost, domain=_svd_domain)


def svd(a, full_matrices=True, compute_uv=True):
    """Thin singular value decomposition ``a = U diag(s) Vh`` (numpy's ``linalg.svd``).

    Derivatives need nonzero singular values. At repeated ones, functions of the singular values that are
    symmetric within each cluster (e.g. the nuclear norm) get exact first derivatives; where the derivative does
    not exist the result is NaN (as for :func:`eigh`). ``full_matrices=True`` is only differentiable for square
    matrices (where it equals the thin factorization); pass ``full_matrices=False`` otherwise.
    """
    m, n = shape_of(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError("hodiff differentiates the thin SVD; pass full_matrices=False")
    u, s, v = _unpack_svd(bind(_svd, a), m)
    if not compute_uv:
        return s
    return u, s, mT(v)
