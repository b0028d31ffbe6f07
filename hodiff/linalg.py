"""``hodiff.linalg``: differentiable dense linear algebra (``numpy.linalg`` and a few of ``scipy.linalg``).

The ``numpy.linalg`` functions here also dispatch when called as ``np.linalg.inv(x)`` & co. on hodiff values.
"""
from __future__ import annotations

from ._src.numpy.linalg import (  # noqa: F401
    cho_factor,
    cho_solve,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matrix_power,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
)

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
