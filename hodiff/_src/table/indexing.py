"""The primitive table, shape and indexing: ``reshape``, ``transpose``, ``getitem`` and its adjoint ``scatter_add``.

Same conventions as ``elementwise.py`` (where the table's conventions are written down).
"""
from __future__ import annotations

import builtins

import numpy as np

from ..core.engine import Primitive, StagedBox, base_value, bind, bind1, lower_value, ndim_of, shape_of, size_of
from .common import batch_axes, copy_cost


def _reshape_domain(rng):
    x = rng.uniform(-2, 2, size=(2, 3, 2))
    return (x,), {"shape": [(12,), (3, 4), (2, 6, 1), (4, 3)][rng.integers(4)]}


def _reshape_impl(x, shape):
    return x.reshape(shape) if isinstance(x, np.ndarray) else np.reshape(x, shape)


_reshape = Primitive(
    "reshape", _reshape_impl,
    (lambda t, ans, x, shape: reshape(t, tuple(shape_of(t)[:batch_axes(t, x)]) + shape),),
    (lambda g, ans, x, shape: reshape(g, shape_of(x)),),
    linear=True, cost=copy_cost, domain=_reshape_domain, vjp_needs=((),))


def reshape(x, shape):
    """``x`` with a new shape (one entry may be -1)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        shape = np.empty(shape_of(x), dtype=np.int8).reshape(shape).shape
    if shape == tuple(shape_of(x)):
        return x
    return bind(_reshape, x, shape=shape)


def _transpose_domain(rng):
    x = rng.uniform(-2, 2, size=(2, 3, 4))
    return (x,), {"axes": tuple(rng.permutation(3).tolist())}


def _transpose_jvp(t, ans, x, axes):
    k = batch_axes(t, x)
    return transpose(t, tuple(range(k)) + tuple(a + k for a in axes))


_transpose = Primitive(
    "transpose", lambda x, axes: np.transpose(x, axes),
    (_transpose_jvp,),
    (lambda g, ans, x, axes: transpose(g, tuple(np.argsort(axes).tolist())),),
    linear=True, cost=copy_cost, domain=_transpose_domain, vjp_needs=((),))


def transpose(x, axes=None):
    """Permute the axes of ``x`` (reverse them when ``axes`` is None)."""
    nd = ndim_of(x)
    axes = tuple(range(nd))[::-1] if axes is None else tuple(int(a) % nd if nd else int(a) for a in axes)
    if axes == tuple(range(nd)):
        return x
    return bind(_transpose, x, axes=axes)


def align_tangent(t, nd_from, nd_to):
    """Insert unit axes after a tangent's batch axes so it broadcasts like its primal against ``nd_to`` dims."""
    k = ndim_of(t) - nd_from
    if k == 0 or nd_from == nd_to:
        return t
    s = tuple(shape_of(t))
    return reshape(t, s[:k] + (1,) * (nd_to - nd_from) + s[k:])


def _to_end(t, k):
    """Move the first ``k`` (batch) axes of ``t`` to the end."""
    nd = ndim_of(t)
    return transpose(t, tuple(range(k, nd)) + tuple(range(k)))


def _to_front(t, k):
    """Move the last ``k`` axes of ``t`` to the front."""
    nd = ndim_of(t)
    return transpose(t, tuple(range(nd - k, nd)) + tuple(range(nd - k)))


def _getitem_jvp(t, ans, x, idx):
    k = batch_axes(t, x)
    if k == 0:
        return getitem(t, idx)
    # batch axes moved to the end are untouched by ``idx`` (it holds no Ellipsis), whatever advanced indexing does
    return _to_front(getitem(_to_end(t, k), idx), k)


def _scatter_jvp(t, ans, g, idx, shape):
    k = batch_axes(t, g)
    if k == 0:
        return scatter_add(t, idx, shape)
    lead = tuple(shape_of(t)[:k])
    return _to_front(scatter_add(_to_end(t, k), idx, shape + lead), k)


def _getitem_domain(rng):
    x = rng.uniform(-2, 2, size=(4, 3))
    idx = [(1,), (slice(1, 3),), (slice(None), 2), (np.array([0, 2, 2]),), (x > 0,),
           (np.array([1, 0]), slice(None, None, -1)), (None, slice(None), 1)][rng.integers(7)]
    return (x,), {"idx": idx}


def _getitem_into(buf, g, ans, x, idx):
    if _has_int_array(idx):
        np.add.at(buf, idx, g)   # repeated indices must add up
    else:
        buf[idx] += g


_getitem = Primitive(
    "getitem", lambda x, idx: x[idx],
    (_getitem_jvp,),
    (lambda g, ans, x, idx: scatter_add(g, idx, tuple(shape_of(x))),),
    linear=True, cost=copy_cost, domain=_getitem_domain, vjp_into=(_getitem_into,), vjp_needs=((),))


def _has_int_array(idx):
    for i in idx:
        if type(i) is not slice and isinstance(i, np.ndarray) and i.dtype.kind in "iu":
            return True
    return False


def _scatter_impl(g, idx, shape):
    g = np.asarray(g)
    z = np.zeros(shape, dtype=g.dtype)
    if _has_int_array(idx):
        np.add.at(z, idx, g)   # repeated indices must add up
    else:
        z[idx] = g
    return z


def _scatter_domain(rng):
    (x,), p = _getitem_domain(rng)
    return (rng.uniform(-2, 2, size=np.shape(x[p["idx"]])),), {"idx": p["idx"], "shape": (4, 3)}


_scatter_add = Primitive(
    "scatter_add", _scatter_impl,
    (_scatter_jvp,),
    (lambda ct, ans, g, idx, shape: getitem(ct, idx),),
    linear=True, cost=lambda ans, g, **p: (size_of(g), 8 * (size_of(ans) + size_of(g))), domain=_scatter_domain, vjp_needs=((),))


def normalize_index(idx, nd):
    """An index as a tuple with plain-array entries and no Ellipsis (expanded against ``nd`` dimensions)."""
    ti = type(idx)
    if ti is slice or ti is int:   # the common cases, already normal
        return (idx,)
    if ti is not tuple:
        idx = (idx,)
    elif all(type(i) is slice or type(i) is int for i in idx):
        return idx
    out = []
    for i in idx:
        i = lower_value(i)
        if isinstance(i, StagedBox):
            # hd.jit recording: an integer scalar index (``x[np.argmax(x)]``) is a guard on that integer only;
            # an index array is a constant of the getitem step, so the program reads (and guards) all of it
            i = i.__index__() if i.ndim == 0 and i.dtype.kind in "iu" else base_value(i)
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind == "f":
            raise IndexError("arrays used as indices must be of integer or boolean type")
        out.append(i)
    if builtins.any(i is Ellipsis for i in out):
        used = builtins.sum(np.ndim(i) if isinstance(i, np.ndarray) and i.dtype == bool else 1
                            for i in out if i is not None and i is not Ellipsis)
        e = next(j for j, i in enumerate(out) if i is Ellipsis)
        out[e:e + 1] = [slice(None)] * (nd - used)
        if builtins.any(i is Ellipsis for i in out):
            raise IndexError("an index can only have a single ellipsis ('...')")
    return tuple(out)


def getitem(x, idx):
    """``x[idx]`` for basic and advanced numpy indices."""
    ti = type(idx)
    idx = (idx,) if ti is slice or ti is int else normalize_index(idx, ndim_of(x))
    return bind1(_getitem, x, {"idx": idx})


def scatter_add(g, idx, shape):
    """A zero array of ``shape`` with ``g`` added at ``idx`` (repeated indices add up): the transpose of getitem."""
    return bind(_scatter_add, g, idx=normalize_index(idx, len(shape)), shape=tuple(shape))
