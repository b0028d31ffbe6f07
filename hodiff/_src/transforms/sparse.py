"""Sparse Hessians (the transform behind :mod:`hodiff.sparse` and ``hd.hessian(f, sparse=True)``): index-set
patterns from the sparsity interpreter, colouring, one compressed forward-over-reverse pass.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from ..core.engine import Box, base_value, opened, shape_of
from ..interpreters.forward import Dual, ForwardTrace
from ..interpreters.sparsity import IndexSets, SparsityTrace
from ..core.pytree_nest import layout
from .boundary import as_input, check_argnums
from .functional import grad

__all__ = ["SparseHessian", "check_coloring", "color_columns", "hessian_pattern", "hessian_sparse",
           "jacobian_pattern", "sparse_hessian"]


# ----------------------------------------------------------------------------------------------------------------
# patterns

def _index_sets(f, x, args, kwargs, argnums, piecewise_linear):
    x = as_input(x, "hessian_pattern")
    shape = tuple(shape_of(x))
    n = int(np.prod(shape, dtype=np.int64))
    tr = SparsityTrace(n, piecewise_linear=piecewise_linear)
    with opened(tr):
        box = IndexSets(x, sp.identity(n, dtype=bool, format="csr"), tr)
        a = list(args)
        a.insert(argnums, box)
        out = f(*a, **kwargs)
    return tr, out, n


def hessian_pattern(f, x, *args, argnums=0, piecewise_linear=False, **kwargs):
    """The structural Hessian pattern of a scalar ``f`` at ``x``: a symmetric boolean ``csr_matrix`` (n, n) with
    ``n = x.size`` (flat C order) holding every ``(i, j)`` for which the second derivative can be nonzero.

    Found by propagating index sets through the primitive table, never from numbers, so it holds at every point
    that takes the same path through ``f``'s Python control flow. It may over-estimate, never miss an entry.
    ``piecewise_linear=True`` treats ``abs``, ``maximum``, ``minimum``, ``amax``, ``amin`` as having no second
    derivative (true wherever it exists); the default counts them as nonlinear, to be safe.
    Other positional/keyword arguments are passed to ``f`` as constants (``x`` goes in position ``argnums``).
    """
    tr, out, _ = _index_sets(f, x, args, kwargs, argnums, piecewise_linear)
    if tuple(shape_of(out)) != ():
        raise TypeError(f"hessian_pattern needs a function with a scalar output; this one returned shape "
                        f"{tuple(shape_of(out))}")
    return tr.hessian()


def jacobian_pattern(f, x, *args, argnums=0, **kwargs):
    """The structural Jacobian pattern of ``f`` at ``x``: boolean ``csr_matrix`` (f(x).size, x.size)."""
    tr, out, n = _index_sets(f, x, args, kwargs, argnums, False)
    if type(out) is IndexSets and out._trace is tr:
        return out.sets.tocsr()
    return sp.csr_matrix((int(np.prod(shape_of(out), dtype=np.int64)), n), dtype=bool)


# ----------------------------------------------------------------------------------------------------------------
# colouring and compressed evaluation

def _as_pattern(pattern):
    P = sp.csr_matrix(pattern, dtype=bool)
    if P.shape[0] != P.shape[1]:
        raise ValueError(f"a Hessian pattern must be square; got shape {P.shape}")
    P = (P + P.T).tocsr()          # a Hessian is symmetric: so is its pattern
    P.sum_duplicates()
    P.sort_indices()
    return P


def color_columns(pattern):
    """Greedy distance-2 colouring of the columns of ``pattern`` (largest degree first).

    Returns an int array ``colors`` of length n with values ``0 .. k-1`` such that no two columns of one colour
    have a nonzero in the same row: then ``B = H V`` with ``V[:, c]`` the indicator of colour ``c`` holds every
    entry directly, ``H[i, j] = B[i, colors[j]]``. A banded pattern of half-bandwidth ``b`` gets at most
    ``2 b + 1`` colours whatever its size.
    """
    P = sp.csr_matrix(pattern, dtype=bool)
    n = P.shape[1]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    C = (P.T @ P).tocsr()          # columns that share a row conflict
    C.sum_duplicates()
    indptr, indices = C.indptr.tolist(), C.indices.tolist()
    degree = np.diff(C.indptr)
    order = np.argsort(-degree, kind="stable").tolist()
    colors = [-1] * n
    for v in order:
        used = {colors[u] for u in indices[indptr[v]:indptr[v + 1]]}
        c = 0
        while c in used:
            c += 1
        colors[v] = c
    return np.asarray(colors, dtype=np.int64)


def check_coloring(pattern, colors):
    """True when every nonzero ``(i, j)`` of ``pattern`` can be read directly: column ``j`` is the only column of
    its colour with a nonzero in row ``i``."""
    P = sp.coo_matrix(sp.csr_matrix(pattern, dtype=bool))
    colors = np.asarray(colors, dtype=np.int64)
    if colors.shape != (P.shape[1],) or (colors.size and colors.min() < 0):
        return False
    k = int(colors.max()) + 1 if colors.size else 0
    keys = P.row.astype(np.int64) * max(k, 1) + colors[P.col]
    return bool(np.all(np.bincount(keys, minlength=1)[keys] == 1)) if keys.size else True


def _prep(x):
    return as_input(x, "sparse hessian")


def _compressed_hvp(f, x, V, args, kwargs, argnums):
    """``H V`` for ``k`` tangents in one forward-over-reverse pass; returns ``(k,) + x.shape``."""
    k = V.shape[0]
    fwd = ForwardTrace(batch=k)
    with opened(fwd):
        a = list(args)
        a.insert(argnums, Dual(x, V, fwd))
        g = grad(f, argnums=argnums)(*a, **kwargs)
    if type(g) is Dual and g._trace is fwd:
        return g.tangent
    return np.zeros((k,) + tuple(shape_of(x)), dtype=V.dtype)


class SparseHessian:
    """A sparse Hessian with its pattern and colouring worked out once, evaluated at any point.

    Parameters
    ----------
    f : callable
        Scalar function; ``f(x, *args, **kwargs)`` (``x`` inserted at position ``argnums``).
    x : array_like, optional
        A point at which to detect the pattern (ignored when ``pattern`` is given).
    pattern : sparse matrix or array, optional
        A known (n, n) Hessian pattern (made symmetric); detected from ``f`` at ``x`` otherwise.
    coloring : array of int, optional
        A column colouring of the pattern (checked with :func:`check_coloring`); computed otherwise.
    piecewise_linear : bool
        Passed to :func:`hessian_pattern`.

    Attributes
    ----------
    pattern : scipy.sparse.csr_matrix
        The symmetric boolean pattern, shape (n, n).
    colors : numpy.ndarray
        The colour of each column (ints ``0 .. ncolors-1``).
    ncolors : int
        The number of colours: the number of tangents of each evaluation.

    Calling it, ``H = sh(x, *args, **kwargs)``, returns a float ``scipy.sparse.csr_matrix`` of shape (n, n) with
    the pattern's structure (entries that happen to be 0 at ``x`` are stored as explicit zeros; call
    ``H.eliminate_zeros()`` to drop them). The pattern is only valid for points at which ``f`` takes the same
    Python control-flow path as at the detection point.
    """

    def __init__(self, f, x=None, *args, pattern=None, coloring=None, argnums=0, piecewise_linear=False, **kwargs):
        self.f = f
        self.argnums = argnums
        if pattern is None:
            if x is None:
                raise TypeError("SparseHessian needs a point x to detect the pattern at, or a pattern")
            pattern = hessian_pattern(f, _prep(x), *args, argnums=argnums, piecewise_linear=piecewise_linear,
                                      **kwargs)
        self.pattern = _as_pattern(pattern)
        if coloring is None:
            coloring = color_columns(self.pattern)
        else:
            coloring = np.asarray(coloring, dtype=np.int64)
            if not check_coloring(self.pattern, coloring):
                raise ValueError("the colouring does not allow direct recovery of every entry of the pattern: two "
                                 "columns of one colour have a nonzero in the same row")
        self.colors = coloring
        self.ncolors = int(coloring.max()) + 1 if coloring.size else 0
        P = self.pattern
        rows = np.repeat(np.arange(P.shape[0], dtype=np.int64), np.diff(P.indptr))
        # where entry k of the CSR data sits in the compressed product B (k, n): B[colors[col], row]
        self._take = self.colors[P.indices].astype(np.int64) * P.shape[0] + rows
        self._seeds = {}

    @property
    def n(self):
        return self.pattern.shape[0]

    def seeds(self, dtype=np.float64):
        """The ``(k, n)`` tangents: row ``c`` is the indicator vector of colour ``c``."""
        V = self._seeds.get(np.dtype(dtype))
        if V is None:
            V = np.zeros((max(self.ncolors, 1), self.n), dtype=dtype)
            V[self.colors, np.arange(self.n)] = 1
            V.flags.writeable = False
            self._seeds[np.dtype(dtype)] = V
        return V

    def __call__(self, x, *args, **kwargs):
        x = _prep(x)
        xb = np.asarray(base_value(x))
        if isinstance(x, Box):
            raise TypeError("SparseHessian evaluates at plain arrays (its result is a scipy.sparse matrix)")
        n = xb.size
        if n != self.n:
            raise ValueError(f"this sparse Hessian is for inputs of size {self.n}; got {n}")
        dtype = xb.dtype if xb.dtype.kind == "f" else np.float64
        P = self.pattern
        if self.ncolors == 0 or P.nnz == 0:
            return sp.csr_matrix((n, n), dtype=np.float64)
        V = self.seeds(dtype).reshape((self.ncolors,) + xb.shape)
        B = np.asarray(_compressed_hvp(self.f, x, V, args, kwargs, self.argnums))
        data = np.take(B.reshape(-1), self._take).astype(np.float64, copy=False)
        return sp.csr_matrix((data, P.indices.copy(), P.indptr.copy()), shape=(n, n))

    def __repr__(self):
        return f"SparseHessian(n={self.n}, nnz={self.pattern.nnz}, colors={self.ncolors})"


def hessian_sparse(f, x, *args, pattern=None, coloring=None, argnums=0, piecewise_linear=False, **kwargs):
    """The Hessian of a scalar ``f`` at ``x`` as a ``scipy.sparse.csr_matrix`` (float64, shape (n, n), n = x.size).

    Detects the pattern (unless given), colours it (unless given), then one compressed forward-over-reverse pass
    with as many tangents as colours. To evaluate at many points, build a :class:`SparseHessian` once.
    """
    sh = SparseHessian(f, x, *args, pattern=pattern, coloring=coloring, argnums=argnums,
                       piecewise_linear=piecewise_linear, **kwargs)
    return sh(x, *args, **kwargs)


class _RaveledArg:
    """``f`` with its argument ``i`` (a pytree) read from the raveled vector of ``lay``."""

    def __init__(self, f, lay, i):
        self.f, self.lay, self.i = f, lay, i

    def __call__(self, *args, **kwargs):
        a = list(args)
        a[self.i] = self.lay.unravel(a[self.i])
        return self.f(*a, **kwargs)


def sparse_hessian(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0, pattern: Any = None,
                   coloring: Any = None, reuse: bool = False,
                   piecewise_linear: bool = False) -> Callable[..., Any]:
    """Transform: ``sparse_hessian(f)(x, *args)`` is :func:`hessian_sparse` of ``f`` at ``x``.

    ``x`` may be a pytree: the sparse Hessian is then that of ``f`` on the raveled vector (shape ``(n, n)`` with
    ``n`` the total size of the leaves, in :func:`hodiff.tree.flatten` order; see :func:`hodiff.tree.ravel`).

    With ``reuse=True`` the pattern and colouring found at the first call are kept for later calls with inputs of
    the same size (valid when ``f``'s control flow does not depend on the point). The cached
    :class:`SparseHessian` is available as the returned function's ``.cache`` attribute.
    """
    cache: dict[Any, SparseHessian] = {}

    if isinstance(argnums, (tuple, list)):
        raise TypeError("a sparse Hessian is taken with respect to one argument: argnums must be an int (that "
                        "argument may be a pytree)")

    def hess(*args, **kwargs):
        _, (i,) = check_argnums(argnums, len(args), "sparse hessian")
        args = list(args)
        x = args.pop(i)
        g, key = f, None
        if not isinstance(x, (np.ndarray, numbers.Number, Box)):
            lay = layout(x, "sparse hessian", "x")
            g, key, x = _RaveledArg(f, lay, i), lay.treedef, lay.ravel(x)
        n = int(np.size(base_value(x)))
        sh = cache.get((n, key)) if reuse else None
        if sh is None:
            sh = SparseHessian(g, x, *args, pattern=pattern, coloring=coloring, argnums=i,
                               piecewise_linear=piecewise_linear, **kwargs)
            if reuse:
                cache[(n, key)] = sh
        return sh(x, *args, **kwargs)
    hess.cache = cache  # type: ignore[attr-defined]
    return hess
