"""The primitive table, reductions and broadcasting: ``sum``, ``amax``, ``amin``, ``broadcast_to`` and
``unbroadcast`` (summing and broadcasting are each other's adjoints, so they live together).

Same conventions as ``elementwise.py``.
"""
from __future__ import annotations

import numpy as np

from ..core.engine import Primitive, bind, lower, ndim_of, shape_of, size_of
from .common import batch_axes, copy_cost
from .elementwise import multiply
from .indexing import align_tangent, reshape


def normalize_axis(axis, nd):
    """Axes as a sorted tuple of negative ints (so rules work unchanged on batched tangents)."""
    if axis is None:
        return tuple(range(-nd, 0))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -nd <= a < nd:
            raise np.exceptions.AxisError(a, nd)
        out.append(a - nd if a >= 0 else a)
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate value in 'axis': {axis}")
    return tuple(sorted(out))


def kept_shape(xshape, axis):
    nd = len(xshape)
    return tuple(1 if (i - nd) in axis else d for i, d in enumerate(xshape))


def _expand_reduced(g, xshape, axis, keepdims, lazy=False):
    """Broadcast a reduced cotangent back to the input shape. With ``lazy`` the result may stay broadcastable
    (unit axes, or a scalar): the backward engine broadcasts cotangents only where a rule needs the full shape."""
    if not keepdims:
        g = reshape(g, kept_shape(xshape, axis) if len(axis) < len(xshape) else ())
    return g if lazy else broadcast_to(g, xshape)


def _sum_domain(rng):
    shape = [(3,), (2, 3), (2, 3, 4)][rng.integers(3)]
    nd = len(shape)
    k = rng.integers(0, nd + 1)
    axis = tuple(sorted(rng.choice(nd, size=k, replace=False).tolist())) if k else None
    return (rng.uniform(-2, 2, size=shape),), {"axis": normalize_axis(axis, nd), "keepdims": bool(rng.integers(2))}


_ONES: dict = {}
_BLAS_FLOATS = frozenset({np.dtype(np.float64), np.dtype(np.float32)})


def _ones(k, dtype):
    v = _ONES.get((k, dtype))
    if v is None:
        v = np.ones(k, dtype=dtype)
        v.flags.writeable = False
        if k <= 4096:
            _ONES[(k, dtype)] = v
    return v


def _sum_impl(x, axis, keepdims):
    if (type(x) is np.ndarray and x.ndim == 2 and len(axis) == 1 and x.dtype in _BLAS_FLOATS
            and x.flags.c_contiguous and x.size):
        # one axis of a matrix: a matrix-vector product with ones is 2-4x faster than add.reduce on the short
        # rows and columns of a batch of logits or activations (same value up to rounding)
        ans = x @ _ones(x.shape[1], x.dtype) if axis[0] == -1 else _ones(x.shape[0], x.dtype) @ x
        return ans.reshape(kept_shape(x.shape, axis)) if keepdims else ans
    # the ufunc's own reduce skips np.sum's Python layer; a full reduction is fastest with axis=None
    return np.add.reduce(x, axis=None if len(axis) == np.ndim(x) and not keepdims else axis, keepdims=keepdims)


_sum_p = Primitive(
    "sum", _sum_impl,
    (lambda t, ans, x, axis, keepdims: sum_axes(t, axis, keepdims),),
    (lambda g, ans, x, axis, keepdims: _expand_reduced(g, shape_of(x), axis, keepdims, lazy=True),),
    linear=True, cost=lambda ans, x, **p: (size_of(x), 8 * (size_of(x) + size_of(ans))), domain=_sum_domain, vjp_needs=((),))


def sum_axes(x, axis, keepdims):
    return bind(_sum_p, x, axis=axis, keepdims=keepdims)


def reduce_sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (an int, a tuple of ints or ``None`` for all)."""
    return bind(_sum_p, x, axis=normalize_axis(axis, ndim_of(x)), keepdims=bool(keepdims))


def extreme_weights(x, ans, axis, keepdims):
    """Where the max/min is attained, each tie weighted 1/(number of ties): the derivative splits ties evenly."""
    return lower(_extreme_weights, x, ans, axis, keepdims)


def _extreme_weights(xb, ab, axis, keepdims):
    if not keepdims:
        ab = np.reshape(ab, kept_shape(np.shape(xb), axis))
    hit = (xb == ab).astype(np.result_type(xb, np.float32))
    return hit / np.sum(hit, axis=axis, keepdims=True)


def _extreme(name, impl):
    p = Primitive(
        name, lambda x, axis, keepdims: impl(x, axis=axis, keepdims=keepdims),
        (lambda t, ans, x, axis, keepdims: sum_axes(multiply(t, extreme_weights(x, ans, axis, keepdims)),
                                                axis, keepdims),),
        (lambda g, ans, x, axis, keepdims: multiply(_expand_reduced(g, shape_of(x), axis, keepdims),
                                                    extreme_weights(x, ans, axis, keepdims)),),
        cost=lambda ans, x, **p: (size_of(x), 8 * (size_of(x) + size_of(ans))), domain=_sum_domain)

    def op(x, axis=None, keepdims=False):
        return bind(p, x, axis=normalize_axis(axis, ndim_of(x)), keepdims=bool(keepdims))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{'Maximum' if name == 'amax' else 'Minimum'} over ``axis``; ties share the derivative evenly."
    op.prim = p
    return op


amax = _extreme("amax", np.amax)
amin = _extreme("amin", np.amin)


def _broadcast_domain(rng):
    x = rng.uniform(-2, 2, size=[(3,), (2, 1), (1, 3), ()][rng.integers(4)])
    return (x,), {"shape": (2, 2, 3) if np.ndim(x) != 2 or np.shape(x)[1] == 3 else (2, 2, 1)}


def _broadcast_jvp(t, ans, x, shape):
    k = batch_axes(t, x)
    t = align_tangent(t, ndim_of(x), len(shape))
    return broadcast_to(t, tuple(shape_of(t)[:k]) + shape)


def _broadcast_impl(x, shape):
    if type(x) is np.ndarray and x.ndim == 0 or isinstance(x, (float, np.floating)):
        # a scalar spread over ``shape`` as a read-only zero-stride view (np.broadcast_to's Python layer is slow)
        x = np.asarray(x)
        out = np.ndarray(shape, dtype=x.dtype, buffer=x, strides=(0,) * len(shape))
        out.flags.writeable = False
        return out
    return np.broadcast_to(x, shape)


_broadcast_to = Primitive(
    "broadcast_to", _broadcast_impl,
    (_broadcast_jvp,),
    (lambda g, ans, x, shape: unbroadcast(g, shape_of(x)),),
    linear=True, cost=copy_cost, domain=_broadcast_domain, vjp_needs=((),))


def broadcast_to(x, shape):
    """A read-only view of ``x`` broadcast to ``shape``."""
    shape = tuple(int(s) for s in shape)
    if tuple(shape_of(x)) == shape:
        return x
    return bind(_broadcast_to, x, shape=shape)


def unbroadcast(g, shape):
    """Sum a cotangent over the axes that broadcasting added or stretched, giving it ``shape``."""
    gshape = tuple(shape_of(g))
    shape = tuple(shape)
    if gshape == shape:
        return g
    nd = len(gshape)
    k = nd - len(shape)
    axes = tuple(range(-nd, -nd + k)) + tuple(i - len(shape) for i, d in enumerate(shape)
                                                if d == 1 and gshape[k + i] != 1)
    if axes:
        g = sum_axes(g, axes, False)
    return reshape(g, shape)


# names under which the table's ops are exported
sum = reduce_sum
