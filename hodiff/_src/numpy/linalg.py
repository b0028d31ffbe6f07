"""The linear algebra of the numpy face: the functions of ``numpy.linalg`` (and a few of ``scipy.linalg``) made of
the table's linear-algebra primitives. Re-exported as :mod:`hodiff.linalg`.
"""
from __future__ import annotations

import numpy as np

from ..core.engine import lower, shape_of
from .namespace import divide, matmul, norm, reshape, subtract, sum
from ..table import mT, multiply
from ..table import add
from ..table.linalg import cholesky as _cholesky
from ..table.linalg import det, inv, qr, slogdet, solve, solve_triangular, svd
from ..table.linalg import eigh as _eigh

__all__ = [
    "cho_factor",
    "cho_solve",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matrix_power",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
]


def _triangle(a, uplo):
    """The symmetric matrix numpy's ``eigh`` reads: ``a``'s lower (``"L"``) or upper (``"U"``) triangle mirrored, so
    the derivative w.r.t. each entry of ``a`` is that of numpy's function (the other triangle is never read)."""
    if uplo not in ("L", "U", "l", "u"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    n = shape_of(a)[-1]
    keep = np.tril(np.ones((n, n))) if uplo in ("L", "l") else np.triu(np.ones((n, n)))
    t = multiply(a, keep)
    return add(t, mT(multiply(t, 1.0 - np.eye(n))))


def _upper_flip(a, v):
    ref = np.linalg.eigh(a, UPLO="U")[1]
    return np.where(np.sum(ref * v, axis=-2, keepdims=True) < 0, -1.0, 1.0)


def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of the symmetric matrix given by ``a``'s ``UPLO`` triangle.

    Derivatives need distinct eigenvalues: at a repeated one the eigenvectors are not differentiable.
    """
    w, v = _eigh(_triangle(a, UPLO))
    if UPLO in ("U", "u"):
        # LAPACK's eigenvector signs depend on the triangle it reads: take numpy's (a constant flip per column, so
        # the derivative is that of numpy's own function near this point)
        v = multiply(v, lower(_upper_flip, a, v))   # recorded, not frozen, under hd.jit
    return w, v


def eigvalsh(a, UPLO="L"):
    """Eigenvalues (ascending) of the symmetric matrix given by ``a``'s ``UPLO`` triangle."""
    return _eigh(_triangle(a, UPLO))[0]


def cholesky(a, /, *, upper=False):
    """Cholesky factor of ``a`` (reads its lower triangle): ``L`` with ``a = L L^T``, or ``L^T`` with ``upper``."""
    if upper:    # numpy then reads the upper triangle: the lower one of a^T
        return mT(_cholesky(mT(a)))
    return _cholesky(a)


def _rank(sb, mn):
    return np.sum(sb > sb.max(initial=0.0) * mn * np.finfo(sb.dtype).eps)    # matrix_rank's rule


def lstsq(a, b, rcond=None):
    """Least squares ``min |a x - b|`` for ``a`` with full column rank (via QR), returning numpy's 4-tuple
    ``(x, residuals, rank, s)``; ``x`` and ``residuals`` are differentiable."""
    q, r = qr(a)
    qtb = matmul(mT(q), b)
    x = solve_triangular(r, qtb, lower=False)
    m, n = shape_of(a)[-2:]
    s = svd(a, compute_uv=False)     # numpy returns the singular values too: they keep their derivative
    rank = int(lower(_rank, s, max(m, n)))   # numpy returns it as an int: a guard under hd.jit
    if m > n and rank == n:
        res = subtract(matmul(a, x), b)
        resid = sum(multiply(res, res), axis=0)
        if len(shape_of(resid)) == 0:
            resid = reshape(resid, (1,))
    else:
        resid = np.zeros(0)
    return x, resid, rank, s


def cho_factor(a, lower=True):
    """``(L, lower)`` for :func:`cho_solve` (the factor is clean: zeros outside its triangle)."""
    c = _cholesky(a)
    return (c, True) if lower else (mT(c), False)


def cho_solve(c_and_lower, b):
    """Solve ``a x = b`` given ``cho_factor(a)``."""
    c, lower = c_and_lower
    if lower:
        y = solve_triangular(c, b, lower=True)
        return solve_triangular(mT(c), y, lower=False)
    y = solve_triangular(mT(c), b, lower=True)
    return solve_triangular(c, y, lower=False)


def matrix_power(a, n):
    """``a`` to the integer power ``n`` (negative powers through :func:`inv`)."""
    n = int(n)
    if n < 0:
        a, n = inv(a), -n
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    if result is None:
        return np.broadcast_to(np.eye(shape_of(a)[-1]), shape_of(a)).copy()
    return result


def multi_dot(arrays):
    """Product of several matrices, left to right."""
    arrays = list(arrays)
    out = arrays[0]
    for a in arrays[1:]:
        out = matmul(out, a)
    return out


def pinv(a):
    """Moore-Penrose pseudo-inverse of a full-rank matrix (via the thin SVD): ``V diag(1/s) U^T``."""
    u, s, vh = svd(a, full_matrices=False)
    inv_s = divide(1.0, s)
    return matmul(multiply(mT(vh), reshape(inv_s, tuple(shape_of(inv_s)[:-1]) + (1, shape_of(inv_s)[-1]))),
                  mT(u))
