"""The primitive table: every differentiable operation with its numpy implementation, JVP and VJP rules (written in
hodiff's own operations, so they differentiate again), cost hint and test domain; and the Taylor rules.

One module per kind: ``elementwise`` (arithmetic and ``where``; the table's conventions are written down there),
``indexing`` (reshape, transpose, getitem, scatter_add), ``reductions`` (sums and extremes, with broadcasting, their
adjoint), ``contractions`` (matmul), ``scans`` (cumulative sums and products, concatenate, einsum), ``special``
(special functions), ``linalg`` (factorizations and solves), ``taylor`` (the Taylor-mode rule of every entry),
over ``common`` (cost hints, test domains). This package namespace gathers the core entries (the first four) for
the floors above, which write ``P.add``, ``P.reshape``, ...
"""
from __future__ import annotations

from .elementwise import (  # noqa: F401
    absolute,
    add,
    binary_primitive,
    cos,
    divide,
    exp,
    log,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    safe_log,
    select_weight,
    sign_of,
    sin,
    sqrt,
    subtract,
    tan,
    tanh,
    unary_primitive,
    where,
)
from .indexing import (  # noqa: F401
    align_tangent,
    getitem,
    normalize_index,
    reshape,
    scatter_add,
    transpose,
)
from .reductions import (  # noqa: F401
    amax,
    amin,
    broadcast_to,
    extreme_weights,
    kept_shape,
    normalize_axis,
    reduce_sum,
    sum,
    sum_axes,
    unbroadcast,
)
from .contractions import (  # noqa: F401
    mT,
    mark_selector,
    matmul,
)
