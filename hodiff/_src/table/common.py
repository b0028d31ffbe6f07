"""What every module of the primitive table shares: cost hints and test domains.

The table's own ground floor (``elementwise``, ``indexing``, ``reductions``, ``contractions``, ``scans``,
``special``, ``linalg`` import from here).
"""
from __future__ import annotations

import builtins


from ..core.engine import ndim_of, size_of

__all__ = ["batch_axes", "binary_domain", "copy_cost", "ew_cost", "unary_domain"]

_SHAPES_1 = [(), (3,), (2, 3), (2, 1, 3)]
_SHAPES_2 = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()), ((4,), (4,))]


def ew_cost(flops_per_elem):
    def cost(ans, *args, **params):
        n = size_of(ans)
        return flops_per_elem * n, 8 * (n + builtins.sum(size_of(a) for a in args))
    return cost


def copy_cost(ans, *args, **params):
    return 0, 8 * (size_of(ans) + size_of(args[0]))


def unary_domain(lo, hi):
    def draw(rng):
        shape = _SHAPES_1[rng.integers(len(_SHAPES_1))]
        return (rng.uniform(lo, hi, size=shape),), {}
    return draw


def binary_domain(lo0, hi0, lo1=None, hi1=None):
    lo1 = lo0 if lo1 is None else lo1
    hi1 = hi0 if hi1 is None else hi1

    def draw(rng):
        s0, s1 = _SHAPES_2[rng.integers(len(_SHAPES_2))]
        return (rng.uniform(lo0, hi0, size=s0), rng.uniform(lo1, hi1, size=s1)), {}
    return draw


def batch_axes(t, x):
    """Number of leading batch axes a tangent carries over its primal."""
    return ndim_of(t) - ndim_of(x)
