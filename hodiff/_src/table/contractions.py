"""The primitive table, contraction: ``matmul`` (``einsum`` is in ``scans.py`` with the other variadic entries).

Same conventions as ``elementwise.py``.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..core.engine import Primitive, bind, ndim_of, shape_of, size_of
from .common import batch_axes
from .elementwise import multiply
from .indexing import reshape, transpose


def mT(x):
    nd = ndim_of(x)
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _matmul_jvp_a(t, ans, a, b):
    k, na, nb = batch_axes(t, a), ndim_of(a), ndim_of(b)
    if k == 0 or na == 1 and nb <= 2:
        return matmul(t, b)   # a batch of row vectors times a matrix is one matrix product
    lead = tuple(shape_of(t)[:k])
    if na == 1:   # (L, n) -> (L, 1.., 1, n) so the vector meets b's batch axes as a row
        t = reshape(t, lead + (1,) * (nb - 2) + (1, shape_of(a)[0]))
        r = matmul(t, b)
        return reshape(r, lead + tuple(shape_of(ans)))
    return matmul(reshape(t, lead + (1,) * max(0, nb - na) + tuple(shape_of(a))), b)


def _matmul_jvp_b(t, ans, a, b):
    k, na, nb = batch_axes(t, b), ndim_of(a), ndim_of(b)
    if k == 0:
        return matmul(a, t)
    if nb == 1 and na == 2:
        return matmul(t, mT(a))   # (L, n) @ a^T: one matrix product, not L matrix-vector products
    lead = tuple(shape_of(t)[:k])
    if nb == 1:   # (L, n) -> (L, 1.., n, 1): a column per batch entry
        t = reshape(t, lead + (1,) * max(0, na - 2) + (shape_of(b)[0], 1))
        return reshape(matmul(a, t), lead + tuple(shape_of(ans)))
    return matmul(a, reshape(t, lead + (1,) * max(0, na - nb) + tuple(shape_of(b))))


def _matmul_vjp_a(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if na == 1 and nb == 1:
        return multiply(g, b)
    if nb == 1:
        return multiply(reshape(g, tuple(shape_of(g)) + (1,)), b)
    if na == 1 and nb == 2:
        return matmul(b, g)
    if na == 1:
        g = reshape(g, tuple(shape_of(g)[:-1]) + (1, shape_of(g)[-1]))
        return matmul(g, mT(b))
    return matmul(g, mT(b))


def _matmul_vjp_b(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if na == 1 and nb == 1:
        return multiply(g, a)
    if na == 2 and nb == 1:
        return matmul(g, a)
    if na == 1:
        return multiply(reshape(a, (shape_of(a)[0], 1)), reshape(g, tuple(shape_of(g)[:-1]) + (1, shape_of(g)[-1])))
    if nb == 1:
        return reshape(matmul(mT(a), reshape(g, tuple(shape_of(g)) + (1,))), tuple(shape_of(g)[:-1])
                       + (shape_of(a)[-1],))
    return matmul(mT(a), g)


def _matmul_domain(rng):
    sa, sb = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
              ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2))][rng.integers(7)]
    return (rng.uniform(-2, 2, size=sa), rng.uniform(-2, 2, size=sb)), {}


def _matmul_cost(ans, a, b, **p):
    k = shape_of(a)[-1]
    return 2 * size_of(ans) * k, 8 * (size_of(a) + size_of(b) + size_of(ans))


# The identity-seed registry. Seeds of batched forward passes (jacfwd, hessian) are rows ``start..start+k`` of an
# identity matrix; the transforms make them with ``transforms/boundary.eye_chunk``, which registers each one here
# through :func:`mark_selector`. matmul recognizes them (by identity of the object, through a weak reference, so no
# copy or view can pass for one, and an entry leaves with its array) and returns the selected rows instead of
# multiplying: a dense Hessian then costs one matrix product fewer.
_SELECTORS: dict = {}


def mark_selector(e, start):
    """Register ``e`` (shape ``(k, n)``, rows ``start..start+k`` of the n x n identity) for :func:`matmul`."""
    key = id(e)
    _SELECTORS[key] = (weakref.ref(e, lambda _, key=key: _SELECTORS.pop(key, None)), start)
    return e


def selector_start(a):
    """The first row ``start`` if ``a`` was registered by :func:`mark_selector` (None otherwise): ``hd.jit``
    replaces such a product by the row selection it stands for."""
    hit = _SELECTORS.get(id(a)) if type(a) is np.ndarray else None
    return hit[1] if hit is not None and hit[0]() is a else None


def _matmul_impl(a, b):
    if _SELECTORS and type(a) is np.ndarray and type(b) is np.ndarray:
        hit = _SELECTORS.get(id(a))
        if hit is not None and hit[0]() is a and b.ndim in (1, 2) and b.shape[0] == a.shape[1]:
            start = hit[1]
            return np.array(b[start:start + a.shape[0]], dtype=np.result_type(a, b))
    return np.matmul(a, b)


_matmul = Primitive("matmul", _matmul_impl, (_matmul_jvp_a, _matmul_jvp_b), (_matmul_vjp_a, _matmul_vjp_b),
                    linear=True, cost=_matmul_cost, domain=_matmul_domain, vjp_needs=((1,), (0,)))


def matmul(a, b):
    """Matrix product with numpy's ``@`` semantics (1-D operands are vectors; leading axes broadcast).

    A left operand registered by :func:`mark_selector` (rows of an identity matrix, the seeds of batched passes)
    selects rows of ``b`` instead of multiplying: same result, one matrix product fewer (see the registry above).
    """
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        raise ValueError("matmul: input operand does not have enough dimensions (use multiply for scalars)")
    return bind(_matmul, a, b)
