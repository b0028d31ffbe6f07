"""Matrix functions and eigenproblems of ``hodiff.scipy.linalg`` (``eigh``, ``expm``, ``sqrtm``,
``solve_sylvester``, ``block_diag``); import them from ``hodiff.scipy.linalg``.

``eigh`` is a composite of ``hd.linalg.eigh`` (and a Cholesky reduction for the generalized problem); the others call
the primitives of ``hodiff/scipy/_linalg_prims.py``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike

import hodiff as hd

from . import _linalg_prims as _lp
from ._linalg_prims import _BOXES, _mT, _real, _reshape, _shape, _square, _sym_from

__all__ = ["block_diag", "eigh", "expm", "solve_sylvester", "sqrtm"]


# ---------------------------------------------------------------------------------------------------------------
# symmetric eigenproblems


def _generalized(a, b, lower: bool, itype: int):
    """``(w, v)`` of ``a v = w b v`` (type 1), ``a b v = w v`` (2) or ``b a v = w v`` (3) by a Cholesky
    reduction ``b = L L^T`` to a standard problem; scipy's normalization (``v^T b v = I``, or ``v^T b^-1 v = I``
    for type 3) comes out of it."""
    # b = L L^T from the triangle named by lower (numpy's factorization reads the lower one)
    low = hd.linalg.cholesky(b if lower else _mT(b))
    sym = _sym_from(a, lower)
    if itype == 1:
        x = hd.linalg.solve_triangular(low, sym, lower=True)
        c = _mT(hd.linalg.solve_triangular(low, _mT(x), lower=True))
    else:
        c = hd.matmul(_mT(low), hd.matmul(sym, low))
    w, u = hd.linalg.eigh(c)
    if itype == 3:
        return w, hd.matmul(low, u)
    return w, hd.linalg.solve_triangular(_mT(low), u, lower=False)


def eigh(a: ArrayLike, b: ArrayLike | None = None, *, lower: bool = True, eigvals_only: bool = False,
         overwrite_a: bool = False, overwrite_b: bool = False, type: int = 1, check_finite: bool = True,
         subset_by_index: Any = None, subset_by_value: Any = None, driver: str | None = None) -> Any:
    """Eigenvalues (ascending) and eigenvectors of a real symmetric matrix, or of the generalized problem with a
    symmetric positive definite ``b``, as ``scipy.linalg.eigh``.

    Only the triangle named by ``lower`` of ``a`` (and ``b``) is read. ``subset_by_index`` (inclusive ``[lo, hi]``)
    and ``subset_by_value`` (half-open ``(lo, hi]``) select from the full decomposition; ``driver`` chooses
    scipy's LAPACK routine, which changes no value, and is validated but otherwise ignored. Eigenvector signs are
    made to match scipy's. LAPACK may flip the sign of an eigenvector between nearby inputs (scipy's result jumps
    there); the derivative is that of the eigenvector with its sign held, the smooth branch through the input.

    Derivatives of the eigenvectors need distinct eigenvalues (at a repeated eigenvalue they are not
    differentiable; eigenvalue derivatives of a simple eigenvalue are fine), and at a repeated eigenvalue the
    basis returned may differ from scipy's by a rotation.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    b : array_like, shape (..., n, n), optional
    type : {1, 2, 3}
        ``a v = w b v``, ``a b v = w v`` or ``b a v = w v``.

    Returns
    -------
    w : array, shape (..., m)
    v : array, shape (..., n, m), unless ``eigvals_only``

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.linalg import eigh
    >>> hd.grad(lambda a: eigh(a, eigvals_only=True)[-1])(np.diag([1.0, 2.0]))
    array([[0., 0.],
           [0., 1.]])
    """
    a = _real(a, "eigh")
    base_b = None if b is None else hd.stop_gradient(_real(b, "eigh", "b"))
    # scipy's own call validates every option and gives the eigenvector signs to match
    ref = sla.eigh(hd.stop_gradient(a), base_b, lower=lower, eigvals_only=eigvals_only, type=type,
                   check_finite=check_finite, subset_by_index=subset_by_index, subset_by_value=subset_by_value,
                   driver=driver)
    if b is None:
        w, v = hd.linalg.eigh(a if lower else _mT(a))
    else:
        w, v = _generalized(a, _real(b, "eigh", "b"), lower, type)
    if subset_by_index is not None:
        lo, hi = (int(i) for i in subset_by_index)
        keep = np.arange(lo, hi + 1)
    elif subset_by_value is not None:
        if len(_shape(w)) > 1:
            raise NotImplementedError("hodiff.scipy.linalg.eigh: subset_by_value is supported for a single matrix "
                                      "(the number of eigenvalues selected differs across a stack)")
        # scipy's selection, located in the full spectrum (a contiguous run; rounding may differ at the bounds)
        wb, wr = hd.stop_gradient(w), np.atleast_1d(ref if eigvals_only else ref[0])
        start = int(np.argmin(np.abs(wb - wr[0]))) if wr.size else 0
        keep = np.arange(start, start + wr.size)
    else:
        keep = None
    if keep is not None:
        w, v = hd.getitem(w, (Ellipsis, keep)), hd.getitem(v, (Ellipsis, slice(None), keep))
    if eigvals_only:
        return w
    signs = np.sign(np.sum(hd.stop_gradient(v) * ref[1], axis=-2))
    signs[signs == 0] = 1.0
    return w, hd.multiply(v, signs[..., None, :])


# ---------------------------------------------------------------------------------------------------------------
# matrix functions and equations


def expm(A: ArrayLike) -> Any:
    """Matrix exponential of ``A`` (``(..., n, n)``), as ``scipy.linalg.expm``.

    A primitive (``expm``) whose derivative along ``E`` is the upper-right block of ``expm([[A, E], [0, A]])``, so
    every order of derivative is again a matrix exponential (of a block matrix twice the size per order).

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.linalg import expm
    >>> float(hd.grad(lambda t: expm(t * np.array([[0.0, 1.0], [-1.0, 0.0]]))[0, 0])(0.5))   # d/dt cos t
    -0.479425538604203
    """
    A = _real(A, "expm", "A")
    if len(_shape(A)) < 2 and int(np.prod(_shape(A))) == 1:   # scipy takes a one-element array as a 1 x 1 matrix
        A = _reshape(A, (1, 1))
    _square(A, "expm")
    return _lp.expm(A)


_NOT_GIVEN = object()


def sqrtm(A: ArrayLike, disp: Any = _NOT_GIVEN, blocksize: Any = _NOT_GIVEN) -> Any:
    """Principal matrix square root ``X`` (``X @ X = A``), as ``scipy.linalg.sqrtm``, for real matrices whose
    square root is real (symmetric positive definite ones in particular); a complex root raises ``ValueError``.

    The derivative solves the Sylvester equation ``X dX + dX X = dA`` (primitive ``sqrtm``), which stays valid at
    repeated eigenvalues (the identity, say). ``disp=False`` also returns scipy's error estimate
    ``||X X - A||_F^2 / ||A||_F`` as a plain float; ``blocksize`` is accepted and ignored (both are deprecated in
    scipy).

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.linalg import sqrtm
    >>> sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
    array([[2., 0.],
           [0., 3.]])
    """
    A = _real(A, "sqrtm", "A")
    _square(A, "sqrtm")
    x = _lp.sqrtm(A)
    if disp is False:
        xb, ab = hd.stop_gradient(x), hd.stop_gradient(A)
        return x, float(np.linalg.norm(xb @ xb - ab, "fro") ** 2 / np.linalg.norm(ab, "fro"))
    return x


def solve_sylvester(a: ArrayLike, b: ArrayLike, q: ArrayLike) -> Any:
    """Solve the Sylvester equation ``a X + X b = q``, as ``scipy.linalg.solve_sylvester``; differentiable with
    respect to ``a``, ``b`` and ``q`` (primitive ``solve_sylvester``: its rules are Sylvester solves again).

    Parameters
    ----------
    a : array_like, shape (..., m, m)
    b : array_like, shape (..., n, n)
    q : array_like, shape (..., m, n)

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.linalg import solve_sylvester
    >>> solve_sylvester(np.eye(2), 2 * np.eye(2), 3 * np.eye(2))
    array([[1., 0.],
           [0., 1.]])
    """
    a, b, q = _real(a, "solve_sylvester"), _real(b, "solve_sylvester", "b"), _real(q, "solve_sylvester", "q")
    return _lp.sylvester(a, b, q)


def block_diag(*arrs: ArrayLike) -> Any:
    """The block diagonal matrix of ``arrs``, as ``scipy.linalg.block_diag`` (0-d and 1-d inputs are 2-d blocks of
    one row; no input gives an empty ``(1, 0)`` array). Linear in every block.

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.linalg import block_diag
    >>> block_diag([[1.0]], np.array([2.0, 3.0]))
    array([[1., 0., 0.],
           [0., 2., 3.]])
    """
    if not arrs:
        return np.empty((1, 0))
    given: list[Any] = [x if isinstance(x, _BOXES) else np.asarray(x) for x in arrs]
    bad = [k for k, x in enumerate(given) if len(_shape(x)) > 2]
    if bad:
        raise ValueError(f"arguments in the following positions have dimension greater than 2: {bad}")
    mats = [x if len(_shape(x)) == 2 else _reshape(x, (1, -1)) for x in given]
    dtype = np.result_type(*(hd.stop_gradient(x) for x in mats))
    cols = [_shape(x)[1] for x in mats]
    total = sum(cols)
    rows, start = [], 0
    for x, c in zip(mats, cols):
        r = _shape(x)[0]
        rows.append(hd.concatenate([np.zeros((r, start), dtype), x, np.zeros((r, total - start - c), dtype)],
                                   axis=1))
        start += c
    return hd.concatenate(rows, axis=0)
