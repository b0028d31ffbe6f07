"""``hodiff.scipy.linalg``: ``scipy.linalg``'s dense solvers and matrix functions, differentiable to any order.

Same names, signatures, defaults and results as ``scipy.linalg`` (values agree with scipy's on the same inputs to
rounding), for real matrices, stacked along leading axes where scipy allows it. Most functions are composites of
hodiff's own linear algebra (``hd.linalg``: triangular solves, Cholesky, LU-free ``solve``, ``inv``, ``det``,
``eigh``); ``expm``, ``sqrtm``, ``solve_sylvester`` and the packed LU factor of ``lu_factor`` are primitives of the
table (``hodiff/scipy/_linalg_prims.py``). A function that reads one triangle of its input (``cholesky``, ``solve``
with ``assume_a='sym'``/``'pos'``, ``eigh``, ``cho_solve``) has a zero derivative with respect to the other triangle,
exactly as scipy's value does not depend on it.

Flags that only check or reuse memory (``check_finite``, ``overwrite_a``, ``overwrite_b``) are accepted and ignored.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

import hodiff as hd

from . import _linalg_prims as _lp

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

_BOXES = (hd.Dual, hd.Tensor, hd.Jet)


def _shape(x) -> tuple:
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else np.shape(x)


def _mT(x):
    return hd.swapaxes(x, -1, -2)


def _reshape(x, shape):
    return x.reshape(shape) if isinstance(x, _BOXES) else np.reshape(x, shape)


def _real(x, fname: str, arg: str = "a"):
    """``x`` as an array (a hodiff value passes through), refusing complex input by name."""
    base = hd.stop_gradient(x)
    if np.iscomplexobj(base):
        raise TypeError(f"hodiff.scipy.linalg.{fname}: '{arg}' is complex; hodiff differentiates real matrices "
                        f"only (call scipy.linalg.{fname} directly for complex values, without derivatives)")
    if isinstance(x, _BOXES):
        return x
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _square(a, fname: str):
    s = _shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"hodiff.scipy.linalg.{fname}: expected a square matrix (or a stack of them), got shape {s}")


def _eye_like(a) -> np.ndarray:
    return np.eye(_shape(a)[-1])


def _sym_from(a, lower: bool):
    """The symmetric matrix a routine sees when it reads only the ``lower`` (or upper) triangle of ``a``."""
    if lower:
        return hd.add(hd.tril(a), _mT(hd.tril(a, -1)))
    return hd.add(hd.triu(a), _mT(hd.triu(a, 1)))


# ---------------------------------------------------------------------------------------------------------------
# triangular and Cholesky


def _trans_flag(trans) -> bool:
    if trans in (0, "N"):
        return False
    if trans in (1, "T", 2, "C"):
        return True
    raise ValueError("Incorrect trans value: expected one of 0, 1, 2, 'N', 'T', 'C'")


def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True):
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


def cholesky(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
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


def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
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


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
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


def _divide_by_diagonal(a, b):
    d = hd.diagonal(a, 0, -2, -1)
    if len(_shape(b)) == 1:
        return hd.divide(b, d)
    return hd.divide(b, _reshape(d, _shape(d) + (1,)))


def solve(a, b, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False, check_finite: bool = True,
          assume_a=None, transposed: bool = False):
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


def inv(a, overwrite_a: bool = False, check_finite: bool = True, *, assume_a=None, lower: bool = False):
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


def det(a, overwrite_a: bool = False, check_finite: bool = True):
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


def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
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


def lu_solve(lu_and_piv, b, trans=0, overwrite_b: bool = False, check_finite: bool = True):
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


# ---------------------------------------------------------------------------------------------------------------
# symmetric eigenproblems


def _generalized(a, b, lower: bool, itype: int):
    """``(w, v)`` of ``a v = w b v`` (type 1), ``a b v = w v`` (2) or ``b a v = w v`` (3) by a Cholesky
    reduction ``b = L L^T`` to a standard problem; scipy's normalization (``v^T b v = I``, or ``v^T b^-1 v = I``
    for type 3) comes out of it."""
    low = cholesky(b, lower=True) if lower else _mT(cholesky(b, lower=False))
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


def eigh(a, b=None, *, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, type: int = 1, check_finite: bool = True, subset_by_index=None,
         subset_by_value=None, driver=None):
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


def expm(A):
    """Matrix exponential of ``A`` (``(..., n, n)``), as ``scipy.linalg.expm``.

    A primitive (``expm``) whose derivative along ``E`` is the upper-right block of ``expm([[A, E], [0, A]])``, so
    every order of derivative is again a matrix exponential (of a block matrix twice the size per order).

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.linalg import expm
    >>> hd.grad(lambda t: expm(t * np.array([[0.0, 1.0], [-1.0, 0.0]]))[0, 0])(0.5)   # d/dt cos t
    -0.479425538604203
    """
    A = _real(A, "expm", "A")
    _square(A, "expm")
    return _lp.expm(A)


_NOT_GIVEN = object()


def sqrtm(A, disp=_NOT_GIVEN, blocksize=_NOT_GIVEN):
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


def solve_sylvester(a, b, q):
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


def block_diag(*arrs):
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
    arrs = [x if isinstance(x, _BOXES) else np.asarray(x) for x in arrs]
    bad = [k for k, x in enumerate(arrs) if len(_shape(x)) > 2]
    if bad:
        raise ValueError(f"arguments in the following positions have dimension greater than 2: {bad}")
    arrs = [x if len(_shape(x)) == 2 else _reshape(x, (1, -1)) for x in arrs]
    dtype = np.result_type(*(hd.stop_gradient(x) for x in arrs))
    cols = [_shape(x)[1] for x in arrs]
    total = sum(cols)
    rows, start = [], 0
    for x, c in zip(arrs, cols):
        r = _shape(x)[0]
        rows.append(hd.concatenate([np.zeros((r, start), dtype), x, np.zeros((r, total - start - c), dtype)],
                                   axis=1))
        start += c
    return hd.concatenate(rows, axis=0)
