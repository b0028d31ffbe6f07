"""``hodiff.scipy.linalg``: ``scipy.linalg``'s dense solvers and matrix functions, differentiable to any order.

Same names, signatures, defaults and results as ``scipy.linalg`` (values agree with scipy's on the same inputs to
rounding), for real matrices, stacked along leading axes where scipy allows it. Most functions are composites of
hodiff's own linear algebra (``hd.linalg``: triangular solves, Cholesky, ``solve``, ``inv``, ``det``,
``eigh``); ``expm``, ``sqrtm``, ``solve_sylvester`` and the packed LU factor of ``lu_factor`` are primitives of the
table (``hodiff/scipy/_linalg_prims.py``). A function that reads one triangle of its input (``cholesky``, ``solve``
with ``assume_a='sym'``/``'pos'``, ``eigh``, ``cho_solve``) has a zero derivative with respect to the other triangle,
exactly as scipy's value does not depend on it.

Flags that only check or reuse memory (``check_finite``, ``overwrite_a``, ``overwrite_b``) are accepted and ignored.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike

import hodiff as hd

from . import _linalg_prims as _lp
from ._linalg_prims import _eye_like, _mT, _real, _reshape, _shape, _square, _sym_from
from ._matfuncs import block_diag, eigh, expm, solve_sylvester, sqrtm

__all__ = [
    "block_diag",
    "cho_factor",
    "cho_solve",
    "cholesky",
    "det",
    "eigh",
    "expm",
    "inv",
    "lu_factor",
    "lu_solve",
    "solve",
    "solve_sylvester",
    "solve_triangular",
    "sqrtm",
]

# ---------------------------------------------------------------------------------------------------------------
# triangular and Cholesky


def _trans_flag(trans) -> bool:
    if trans in (0, "N"):
        return False
    if trans in (1, "T", 2, "C"):
        return True
    raise ValueError("Incorrect trans value: expected one of 0, 1, 2, 'N', 'T', 'C'")


def solve_triangular(a: ArrayLike, b: ArrayLike, trans: int | str = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """Solve ``a x = b`` (or ``a^T x = b``) for triangular ``a``, as ``scipy.linalg.solve_triangular``.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
        Triangular matrix; only its ``lower`` (or upper) triangle is read, and with ``unit_diagonal`` not its
        diagonal either (taken as ones).
    b : array_like, shape (..., n, k) or (n,)
        Right-hand side.
    trans : {0, 1, 2, 'N', 'T', 'C'}
        ``0``/``'N'``: ``a x = b``; ``1``/``'T'`` and (for real ``a``) ``2``/``'C'``: ``a^T x = b``.
    lower, unit_diagonal : bool
        Which triangle is read; whether the diagonal is assumed to be ones.

    Returns
    -------
    x : array, shape of ``b`` (broadcast with the leading axes of ``a``)

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.linalg import solve_triangular
    >>> a = np.array([[2.0, 0.0], [1.0, 4.0]])
    >>> hd.grad(lambda b: solve_triangular(a, b, lower=True).sum())(np.ones(2))
    array([0.375, 0.25 ])
    """
    transposed = _trans_flag(trans)
    a, b = _real(a, "solve_triangular"), _real(b, "solve_triangular", "b")
    _square(a, "solve_triangular")
    if unit_diagonal:
        a = hd.add(hd.tril(a, -1) if lower else hd.triu(a, 1), _eye_like(a))
    a, b, vec = _common(a, b)
    if transposed:
        return _uncolumns(hd.linalg.solve_triangular(_mT(a), b, lower=not lower), vec)
    return _uncolumns(hd.linalg.solve_triangular(a, b, lower=bool(lower)), vec)


def cholesky(a: ArrayLike, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """Cholesky factor of a symmetric positive definite matrix, as ``scipy.linalg.cholesky``.

    ``a = U^T U`` with ``U`` upper triangular (the default, as scipy), or ``a = L L^T`` with ``lower=True``. Only the
    triangle named by ``lower`` is read: the derivative with respect to the other one is zero.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    lower : bool

    Returns
    -------
    c : array, shape (..., n, n), zero outside its triangle

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.linalg import cholesky
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 1.],
           [0., 2.]])
    """
    a = _real(a, "cholesky")
    _square(a, "cholesky")
    if lower:
        return hd.linalg.cholesky(a)
    # numpy reads the lower triangle: the transpose hands it scipy's upper one
    return _mT(hd.linalg.cholesky(_mT(a)))


def cho_factor(a: ArrayLike, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Any, bool | np.ndarray]:
    """``(c, lower)`` for :func:`cho_solve`, as ``scipy.linalg.cho_factor``.

    ``c`` holds the Cholesky factor in its ``lower`` (or upper) triangle and, like scipy's, the entries of ``a`` in
    the other strict triangle (scipy leaves them untouched), so ``c`` equals scipy's result everywhere.
    :func:`cho_solve` reads only the factor's triangle.

    Returns
    -------
    (c, lower) : (array of shape (..., n, n), bool)
        For a stack of matrices ``lower`` is an array of flags, one per matrix, as scipy's.
    """
    a = _real(a, "cho_factor")
    c = cholesky(a, lower=lower)
    rest = hd.triu(a, 1) if lower else hd.tril(a, -1)
    batch = _shape(a)[:-2]
    # a stack gets one flag per matrix, as scipy returns it
    return hd.add(c, rest), (np.full(batch, bool(lower)) if batch else bool(lower))


def cho_solve(c_and_lower: tuple[Any, bool | np.ndarray], b: ArrayLike, overwrite_b: bool = False,
              check_finite: bool = True) -> Any:
    """Solve ``a x = b`` from ``cho_factor(a)``, as ``scipy.linalg.cho_solve``.

    Two triangular solves that read only the factor's triangle of ``c``, differentiable with respect to ``c``
    (so through :func:`cho_factor` to ``a``) and ``b``.

    Parameters
    ----------
    c_and_lower : (array, bool)
        The output of :func:`cho_factor` (or scipy's).
    b : array_like, shape (..., n, k) or (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.linalg import cho_factor, cho_solve
    >>> a = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> cho_solve(cho_factor(a), np.array([6.0, 7.0]))
    array([1., 1.])
    """
    c, lower = c_and_lower
    flags = np.unique(np.asarray(lower, dtype=bool))
    if flags.size > 1:
        raise NotImplementedError("hodiff.scipy.linalg.cho_solve: a stack mixing lower and upper factors")
    lower = bool(flags[0]) if flags.size else False
    c, b = _real(c, "cho_solve", "c"), _real(b, "cho_solve", "b")
    _square(c, "cho_solve")
    c, b, vec = _common(c, b)
    if lower:
        y = hd.linalg.solve_triangular(c, b, lower=True)
        x = hd.linalg.solve_triangular(_mT(c), y, lower=False)
    else:
        y = hd.linalg.solve_triangular(_mT(c), b, lower=True)
        x = hd.linalg.solve_triangular(c, y, lower=False)
    return _uncolumns(x, vec)


def _common(a, b):
    """``a`` and ``b`` broadcast to their common stack shape, with a 1-D ``b`` as one column; and whether it was one.

    A 1-D right-hand side would otherwise read as a matrix once a stack of solutions comes out of a first solve;
    equal stack shapes keep the leading axes of batched tangents aligned in the solves' rules."""
    vec = len(_shape(b)) == 1
    if vec:
        b = _reshape(b, _shape(b) + (1,))
    if len(_shape(b)) < 2 or _shape(b)[-2] != _shape(a)[-1]:
        raise ValueError(f"shapes of a {_shape(a)} and b {_shape(b)} are incompatible")
    lead = np.broadcast_shapes(_shape(a)[:-2], _shape(b)[:-2])
    a = a if _shape(a)[:-2] == lead else hd.broadcast_to(a, lead + _shape(a)[-2:])
    b = b if _shape(b)[:-2] == lead else hd.broadcast_to(b, lead + _shape(b)[-2:])
    return a, b, vec


def _uncolumns(x, vec: bool):
    return _reshape(x, _shape(x)[:-1]) if vec else x


# ---------------------------------------------------------------------------------------------------------------
# general solves, inverse, determinant

_STRUCTURES = {
    None: "gen", "general": "gen", "gen": "gen", "banded": "gen",
    "diagonal": "diag", "tridiagonal": "tri",
    "upper triangular": "upper", "lower triangular": "lower",
    "pos": "pos", "positive definite": "pos",
    "sym": "sym", "symmetric": "sym", "her": "sym", "hermitian": "sym",
}


def _divide_by_scalar(a, b):
    """scipy's solve for a one-element ``a``: ``b / a``, a 1-D ``b`` taken as a column."""
    a = _reshape(a, (1,) * max(0, 2 - len(_shape(a))) + _shape(a))
    if len(_shape(b)) == 1:
        x = hd.divide(_reshape(b, _shape(b) + (1,)), a)
        return _reshape(x, _shape(x)[:-1])
    return hd.divide(b, a)


def _divide_by_diagonal(a, b):
    d = hd.diagonal(a, 0, -2, -1)
    if len(_shape(b)) == 1:
        return hd.divide(b, d)
    return hd.divide(b, _reshape(d, _shape(d) + (1,)))


def solve(a: ArrayLike, b: ArrayLike, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          check_finite: bool = True, assume_a: str | None = None, transposed: bool = False) -> Any:
    """Solve ``a x = b`` (or ``a^T x = b``), as ``scipy.linalg.solve``.

    ``assume_a`` picks what is read, as in scipy: ``None``/``'gen'``/``'general'``/``'banded'`` the whole matrix
    (scipy's detected structure changes the method, not the value, so the derivative is the general one);
    ``'sym'``/``'her'``/``'pos'`` only the triangle named by ``lower`` (``'pos'`` through a Cholesky factor);
    ``'upper triangular'``/``'lower triangular'`` that triangle; ``'tridiagonal'`` the three central diagonals;
    ``'diagonal'`` the diagonal. Entries that are not read get a zero derivative.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    b : array_like, shape (..., n, k) or (n,)
        A 1-D ``b`` is one right-hand side; otherwise its last two axes are ``(n, k)``.

    Returns
    -------
    x : array, ``b``'s shape broadcast with the leading axes of ``a``

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.linalg import solve
    >>> a = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> solve(a, np.array([9.0, 8.0]), assume_a="pos")
    array([2., 3.])
    """
    kind = _STRUCTURES.get(assume_a, "unknown")
    if kind == "unknown":
        raise ValueError(f"{assume_a} is not a recognized matrix structure")
    a, b = _real(a, "solve"), _real(b, "solve", "b")
    if int(np.prod(_shape(a))) == 1:   # scipy divides by a one-element a, whatever b's length
        return _divide_by_scalar(a, b)
    _square(a, "solve")
    if kind == "pos":
        return cho_solve((cholesky(a, lower=lower), lower), b)
    if kind == "sym":
        return _solve_general(_sym_from(a, lower), b)
    if kind in ("upper", "lower"):
        return solve_triangular(a, b, trans=int(transposed), lower=kind == "lower")
    if kind == "diag":
        return _divide_by_diagonal(a, b)
    if kind == "tri":
        a = hd.multiply(a, np.tri(_shape(a)[-1], k=1) * np.tri(_shape(a)[-1], k=1).T)
    return _solve_general(_mT(a) if transposed else a, b)


def _solve_general(a, b):
    a, b, vec = _common(a, b)
    return _uncolumns(hd.linalg.solve(a, b), vec)


def inv(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True, *, assume_a: str | None = None,
        lower: bool = False) -> Any:
    """Matrix inverse, as ``scipy.linalg.inv``, with the same ``assume_a`` reading rules as :func:`solve`
    (``'gen'``, ``'diagonal'``, ``'upper triangular'``, ``'lower triangular'``, ``'pos'``, ``'sym'``, ``'her'``).

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.linalg import inv
    >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    kind = _STRUCTURES.get(assume_a, "unknown")
    if kind in ("unknown", "tri") or assume_a == "banded":
        raise ValueError(f"{assume_a} is not a recognized matrix structure")
    a = _real(a, "inv")
    _square(a, "inv")
    if kind == "gen":
        return hd.linalg.inv(a)
    eye = np.broadcast_to(_eye_like(a), _shape(a))
    if kind == "diag":
        # diag(1 / diag(a)); scipy 1.17 leaves a's off-diagonal entries in its result instead (its docs say they
        # are not referenced): the two agree on diagonal matrices, the case the option is for
        return hd.multiply(hd.divide(1.0, _reshape(hd.diagonal(a, 0, -2, -1), _shape(a)[:-1] + (1,))),
                           _eye_like(a))
    return solve(a, eye, lower=lower, assume_a=assume_a)


def det(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """Determinant of ``a`` (``(..., n, n)``), as ``scipy.linalg.det``; its derivative ``det(a) a^-T`` needs ``a``
    nonsingular.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.linalg import det
    >>> hd.grad(det)(np.array([[2.0, 1.0], [1.0, 3.0]]))
    array([[ 3., -1.],
           [-1.,  2.]])
    """
    a = _real(a, "det")
    _square(a, "det")
    return hd.linalg.det(a)


def lu_factor(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, Any]:
    """LU factorization with partial pivoting, as ``scipy.linalg.lu_factor``: ``(lu, piv)`` for :func:`lu_solve`.

    ``lu`` (``(..., n, n)``, the unit-lower ``L`` below the diagonal and ``U`` on and above it) is differentiable
    with respect to ``a``; the pivot indices ``piv`` are integers, constant where the pivot order does not change.
    Square matrices only.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.linalg import lu_factor, lu_solve
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> lu_solve(lu_factor(a), np.array([5.0, 11.0]))
    array([1., 2.])
    """
    a = _real(a, "lu_factor")
    _square(a, "lu_factor")
    piv = sla.lu_factor(hd.stop_gradient(a), check_finite=False)[1]
    return _lp.lu_packed(a), piv


def lu_solve(lu_and_piv: tuple[Any, Any], b: ArrayLike, trans: int = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Any:
    """Solve ``a x = b`` (``trans=0``) or ``a^T x = b`` (``trans=1, 2``) from ``lu_factor(a)``, as
    ``scipy.linalg.lu_solve``; differentiable with respect to ``lu`` (hence ``a``) and ``b``.

    Parameters
    ----------
    lu_and_piv : (array, array of int)
    b : array_like, shape (..., n, k) or (n,)
    trans : {0, 1, 2}
    """
    if trans not in (0, 1, 2):
        raise ValueError("trans must be 0, 1 or 2")
    lu, piv = lu_and_piv
    lu, b = _real(lu, "lu_solve", "lu"), _real(b, "lu_solve", "b")
    _square(lu, "lu_solve")
    perm = _lp.lu_perm_matrix(piv)           # P a = L U
    lu, b, vec = _common(lu, b)
    if trans == 0:
        y = solve_triangular(lu, hd.matmul(perm, b), lower=True, unit_diagonal=True)
        x = solve_triangular(lu, y, lower=False)
    else:
        z = solve_triangular(lu, b, trans=1, lower=False)
        w = solve_triangular(lu, z, trans=1, lower=True, unit_diagonal=True)
        x = hd.matmul(np.swapaxes(perm, -1, -2), w)
    return _uncolumns(x, vec)
