"""Shape manipulation as composites: every function here is built from ``reshape``, ``transpose``, ``getitem``,
``scatter_add``, ``concatenate`` and ``where`` in the primitive table, so none has derivative rules of its own.
Output shapes are computed by numpy on an empty stand-in array, so they match numpy's exactly.
"""
from __future__ import annotations

import numpy as np

from .. import table as P
from ..core.engine import base_value, ndim_of, shape_of
from ..table import getitem, multiply, reshape, transpose, where
from ..table.scans import concatenate_
from .reductions import check_dtype

__all__ = [
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "concatenate",
    "diag",
    "diagonal",
    "expand_dims",
    "flip",
    "hstack",
    "moveaxis",
    "pad",
    "ravel",
    "repeat",
    "roll",
    "sort",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "take",
    "take_along_axis",
    "tile",
    "trace",
    "tril",
    "triu",
    "vstack",
]


def _stand_in(x):
    """An empty array of ``x``'s shape: numpy computes output shapes and index maps on it."""
    return np.empty(shape_of(x), dtype=np.int8)


def _indices(x):
    """The flat index of every element of ``x``: numpy's shape functions applied to it give gather indices."""
    return np.arange(int(np.prod(shape_of(x), dtype=np.int64))).reshape(shape_of(x))


def _gather(x, flat_idx):
    """``ravel(x)[flat_idx]``: any pure rearrangement of ``x``'s elements, as one differentiable indexing."""
    return getitem(reshape(x, (-1,)), (flat_idx,))


def ravel(x, order="C"):
    """``x`` flattened to one dimension (``order="F"``: column-major)."""
    if order in ("F", "f"):
        return reshape(transpose(x), (-1,))
    if order not in ("C", "c", "A", "a", "K", "k"):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return reshape(x, (-1,))


def reshape_order(x, shape, order="C"):
    """numpy's ``reshape`` with ``order`` (``"F"``: read and write in column-major order)."""
    if order in ("F", "f"):
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        out = np.empty(shape_of(x), dtype=np.int8).reshape(shape).shape
        return transpose(reshape(transpose(x), tuple(reversed(out))))
    if order not in ("C", "c", "A", "a"):
        raise ValueError(f"order must be one of 'C', 'F', 'A' (got {order!r})")
    return reshape(x, shape)


def swapaxes(x, axis1, axis2):
    """``x`` with two axes exchanged."""
    axes = list(range(ndim_of(x)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def moveaxis(x, source, destination):
    """``x`` with axes moved to new positions (numpy's ``moveaxis``)."""
    nd = ndim_of(x)
    src = [s % nd for s in np.atleast_1d(source).tolist()]
    dst = [d % nd for d in np.atleast_1d(destination).tolist()]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def expand_dims(x, axis):
    """``x`` with unit axes inserted at ``axis``."""
    return reshape(x, np.expand_dims(_stand_in(x), axis).shape)


def squeeze(x, axis=None):
    """``x`` with unit axes removed."""
    return reshape(x, np.squeeze(_stand_in(x), axis).shape)


def _many(fn, arys):
    res = [fn(a) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_1d(*arys):
    """Arrays with at least one dimension (one array, or a tuple for several)."""
    return _many(lambda x: reshape(x, (1,)) if ndim_of(x) == 0 else x, arys)


def atleast_2d(*arys):
    """Arrays with at least two dimensions (one array, or a tuple for several)."""
    return _many(lambda x: reshape(x, np.atleast_2d(_stand_in(x)).shape), arys)


def _dtype(r, dtype, what):
    return check_dtype(r, dtype, what)


def concatenate(arrays, axis=0, *, dtype=None, casting="same_kind"):
    """Join arrays along an existing axis (``axis=None`` flattens them first); ``dtype`` must be the result's."""
    if dtype is not None:
        return _dtype(concatenate(arrays, axis), dtype, "concatenate")
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    nd = ndim_of(arrays[0])
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    if len(arrays) == 1:
        return arrays[0]
    axis = int(axis)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(axis, nd)
    return concatenate_(arrays, axis - nd if axis >= 0 else axis)


def stack(arrays, axis=0, *, dtype=None, casting="same_kind"):
    """Join arrays along a new axis."""
    return _dtype(concatenate([expand_dims(a, axis) for a in arrays], axis=axis), dtype, "stack")


def hstack(arrays, *, dtype=None, casting="same_kind"):
    """Stack arrays column-wise (along axis 1, or 0 for 1-D arrays)."""
    arrays = [atleast_1d(a) for a in arrays]
    return _dtype(concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1), dtype, "hstack")


def vstack(arrays, *, dtype=None, casting="same_kind"):
    """Stack arrays row-wise (1-D arrays become rows)."""
    return _dtype(concatenate([atleast_2d(a) for a in arrays], axis=0), dtype, "vstack")


def array_split(x, indices_or_sections, axis=0):
    """Split ``x`` into pieces along ``axis`` (pieces may differ in size)."""
    nd = ndim_of(x)
    axis = axis % nd
    pieces = np.array_split(np.arange(shape_of(x)[axis]), indices_or_sections)
    return [getitem(x, (slice(None),) * axis + (slice(int(p[0]), int(p[-1]) + 1) if len(p) else slice(0, 0),))
            for p in pieces]


def split(x, indices_or_sections, axis=0):
    """Split ``x`` into pieces along ``axis`` (equal sections, or at the given indices)."""
    if isinstance(indices_or_sections, (int, np.integer)) and shape_of(x)[axis] % indices_or_sections:
        raise ValueError("array split does not result in an equal division; use array_split")
    return array_split(x, indices_or_sections, axis)


def tile(x, reps):
    """Repeat ``x`` as a tiling (numpy's ``tile``)."""
    return _gather(x, np.tile(_indices(x), reps))


def repeat(x, repeats, axis=None):
    """Repeat elements of ``x`` (numpy's ``repeat``)."""
    return _gather(x, np.repeat(_indices(x), base_value(repeats), axis=axis))


def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes by default)."""
    nd = ndim_of(x)
    axes = range(nd) if axis is None else [a % nd for a in np.atleast_1d(axis).tolist()]
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(nd)))


def roll(x, shift, axis=None):
    """Roll elements along ``axis`` (numpy's ``roll``)."""
    return _gather(x, np.roll(_indices(x), shift, axis=axis))


def take(x, indices, axis=None, mode="raise"):
    """Take elements along an axis (numpy's ``take``, with its ``mode`` for out-of-range indices)."""
    return _gather(x, np.take(_indices(x), base_value(indices), axis=axis, mode=mode))


def take_along_axis(x, indices, axis=-1):
    """Pick values along ``axis`` at ``indices`` (numpy's ``take_along_axis``)."""
    return _gather(x, np.take_along_axis(_indices(x), base_value(indices), axis))


def sort(x, axis=-1):
    """Sorted copy of ``x`` along ``axis``: a permutation, so each value keeps its derivative."""
    if axis is None:
        x, axis = ravel(x), -1
    return take_along_axis(x, np.argsort(base_value(x), axis=axis, kind="stable"), axis)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of ``x`` (numpy's ``diagonal``), as an indexing."""
    return _gather(x, np.diagonal(_indices(x), offset, axis1, axis2))


def trace(x, offset=0, axis1=0, axis2=1, dtype=None):
    """Sum along a diagonal."""
    return _dtype(P.reduce_sum(diagonal(x, offset, axis1, axis2), axis=-1), dtype, "trace")


def diag(v, k=0):
    """Extract a diagonal of a 2-D array, or build a 2-D array with a 1-D array on its diagonal."""
    nd = ndim_of(v)
    if nd == 2:
        return diagonal(v, k)
    if nd != 1:
        raise ValueError("diag: input must be 1-D or 2-D")
    n = shape_of(v)[0] + abs(k)
    i = np.arange(shape_of(v)[0])
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    return P.scatter_add(v, (rows, cols), (n, n))


def triu(x, k=0):
    """Upper triangle of ``x`` (zeros below the k-th diagonal)."""
    s = shape_of(x)
    return multiply(x, np.triu(np.ones(s[-2:]), k))


def tril(x, k=0):
    """Lower triangle of ``x`` (zeros above the k-th diagonal)."""
    s = shape_of(x)
    return multiply(x, np.tril(np.ones(s[-2:]), k))


def pad(x, pad_width, mode="constant", constant_values=0):
    """Pad ``x`` (modes ``constant``, ``edge``, ``reflect``, ``symmetric``, ``wrap``)."""
    if mode == "constant":
        padded = np.pad(_stand_in(x), pad_width)
        widths = np.broadcast_to(np.asarray(pad_width), (ndim_of(x), 2))
        idx = tuple(slice(int(w[0]), int(w[0]) + d) for w, d in zip(widths, shape_of(x)))
        out = P.scatter_add(x, idx, padded.shape)
        if np.any(np.asarray(constant_values) != 0):
            fill = np.pad(np.zeros(shape_of(x)), pad_width, constant_values=constant_values)
            mask = np.ones(padded.shape, dtype=bool)
            mask[idx] = False
            out = where(mask, fill, out)
        return out
    return _gather(x, np.pad(_indices(x), pad_width, mode=mode))


def _index_shape(x, idx):
    return np.empty(shape_of(x), dtype=np.int8)[P.normalize_index(idx, ndim_of(x))].shape


def index_add(x, idx, values):
    """``x`` with ``values`` added at ``idx`` (repeated indices add up): a functional ``np.add.at``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.index_add(np.zeros(3), np.array([0, 0, 2]), 1.0)
    array([2., 0., 1.])
    """
    v = P.broadcast_to(values, _index_shape(x, idx))
    return P.add(x, P.scatter_add(v, idx, tuple(shape_of(x))))


def index_set(x, idx, values):
    """``x`` with the entries at ``idx`` replaced by ``values`` (a functional ``x[idx] = values``)."""
    shape = tuple(shape_of(x))
    flat = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[P.normalize_index(idx, len(shape))]
    if np.unique(flat).size != np.size(flat):
        raise ValueError("index_set with repeated indices is ambiguous; use index_add or unique indices")
    mask = np.zeros(shape, dtype=bool)
    mask.reshape(-1)[np.ravel(flat)] = True
    v = P.broadcast_to(values, _index_shape(x, idx))
    return where(mask, P.scatter_add(v, idx, shape), x)


class _At:
    """``x.at[idx].add(v)`` / ``.set(v)``: indexed updates that return a new value (JAX style)."""

    __slots__ = ("idx", "x")

    def __init__(self, x, idx=None):
        self.x, self.idx = x, idx

    def __getitem__(self, idx):
        return _At(self.x, idx)

    def add(self, values):
        return index_add(self.x, self.idx, values)

    def subtract(self, values):
        return index_add(self.x, self.idx, P.negative(values))

    def set(self, values):
        return index_set(self.x, self.idx, values)


__all__ += ["index_add", "index_set"]


def diff(x, n=1, axis=-1, prepend=None, append=None):
    """n-th discrete difference along ``axis`` (after joining ``prepend``/``append`` along it)."""
    nd = ndim_of(x)
    def edge(e):
        if ndim_of(e) == 0:    # a scalar is broadcast to one slice along the axis, as numpy does
            shp = list(shape_of(x))
            shp[axis % nd] = 1
            e = P.broadcast_to(e, tuple(shp))
        return e

    pieces = ([edge(prepend)] if prepend is not None else []) + [x] + ([edge(append)] if append is not None else [])
    if len(pieces) > 1:
        x = concatenate(pieces, axis=axis)
    axis = axis % nd
    for _ in range(int(n)):
        hi = tuple(slice(1, None) if i == axis else slice(None) for i in range(nd))
        lo = tuple(slice(None, -1) if i == axis else slice(None) for i in range(nd))
        x = P.subtract(getitem(x, hi), getitem(x, lo))
    return x


def cross(a, b, axis=-1):
    """Cross product of 3-vectors along ``axis`` (numpy's ``cross`` for 3-component vectors)."""
    if shape_of(a)[axis] != 3 or shape_of(b)[axis] != 3:
        raise NotImplementedError("hodiff's cross supports 3-component vectors")
    a, b = moveaxis(a, axis, -1), moveaxis(b, axis, -1)
    comp = [(1, 2), (2, 0), (0, 1)]
    parts = [P.subtract(multiply(a[..., i], b[..., j]), multiply(a[..., j], b[..., i])) for i, j in comp]
    return moveaxis(stack(parts, axis=-1), -1, axis)


def convolve(a, v, mode="full"):
    """Discrete linear convolution of two 1-D arrays (numpy's ``convolve``), as a gather and a matrix product."""
    na, nv = shape_of(a)[0], shape_of(v)[0]
    if na < nv:
        a, v, na, nv = v, a, nv, na
    full = na + nv - 1
    # out[k] = sum_j a[k - j] v[j]: gather a's entries into a (full, nv) matrix, zero where out of range
    k = np.arange(full)[:, None] - np.arange(nv)[None, :]
    valid = (k >= 0) & (k < na)
    rows = P.multiply(getitem(a, (np.clip(k, 0, na - 1),)), valid.astype(float))
    out = P.matmul(rows, v)
    if mode == "full":
        return out
    if mode == "same":
        start = (nv - 1) // 2
        return getitem(out, (slice(start, start + na),))
    if mode == "valid":
        return getitem(out, (slice(nv - 1, na),))
    raise ValueError(f"convolve: unknown mode {mode!r}")


__all__ += ["convolve", "cross", "diff"]
