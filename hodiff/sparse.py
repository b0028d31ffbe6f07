"""Sparse Hessians: detect the pattern, colour it, one compressed forward-over-reverse pass, recover the entries.

* :func:`hessian_pattern` finds the structural Hessian pattern by propagating index sets through the primitive
  table (``interpreters/sparsity.py``): no numbers, so no entry can be missed by an unlucky point.
* :func:`color_columns` colours the pattern's columns so that no two columns of one colour have a nonzero in the
  same row (a distance-2 colouring of the column graph), greedily in largest-degree-first order.
* :class:`SparseHessian` keeps a pattern and its colouring: each call evaluates one batched Hessian-vector product
  with ``k = number of colours`` tangents (the colour indicator vectors), ``B = H V``, and reads each entry
  ``H[i, j] = B[i, color[j]]`` off it. The cost is about ``k`` Hessian-vector products, whatever ``n``.
* :func:`hessian_sparse` and :func:`sparse_hessian` are the one-shot and the transform forms.

Examples
--------
>>> import numpy as np, hodiff as hd
>>> from hodiff.sparse import hessian_sparse
>>> f = lambda x: np.sum((x[1:] - x[:-1]) ** 2) + np.sum(x ** 4)
>>> H = hessian_sparse(f, np.ones(6))
>>> H.shape, H.nnz
((6, 6), 16)
"""
from __future__ import annotations

from ._src.transforms.sparse import (  # noqa: F401
    SparseHessian,
    check_coloring,
    color_columns,
    hessian_pattern,
    hessian_sparse,
    jacobian_pattern,
    sparse_hessian,
)

__all__ = [
    "SparseHessian",
    "check_coloring",
    "color_columns",
    "hessian_pattern",
    "hessian_sparse",
    "jacobian_pattern",
    "sparse_hessian",
]
