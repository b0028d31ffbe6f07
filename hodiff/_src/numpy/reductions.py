"""Reductions of the numpy face with numpy's keywords: ``dtype``, ``initial``, ``where`` (masks), ``ddof``/``correction``.

Every function is a composite of the table's ``sum``, ``amax``/``amin``, ``prod_last``, ``cumsum_last`` and ``where``,
so it is differentiable to any order. numpy's ``out=`` never reaches these functions (the dispatch layer in
``keywords.py`` refuses it by name); ``dtype`` is honoured when it is the precision hodiff computes in anyway and
refused otherwise, because hodiff has no cast for a traced value.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import table as P
from ..core.engine import dtype_of, Box, StagedBox, base_value, lower, ndim_of, shape_of
from ..table.scans import cumprod_last, cumsum_last, prod_last

__all__ = ["amax", "amin", "cumprod", "cumsum", "mean", "nanmean", "nansum", "prod", "std", "sum", "var"]


def check_dtype(r: Any, dtype: DTypeLike | None, what: str) -> Any:
    """``r`` if ``dtype`` is the dtype it already has; a cast copy if ``r`` carries no derivative; else a TypeError."""
    if dtype is None:
        return r
    want = np.dtype(dtype)
    have = dtype_of(r)
    if want == have:
        return r
    if not isinstance(r, Box):
        return np.asarray(r).astype(want)
    box: Any = r
    maker = box._const_maker()
    if maker is not None and not box._needs_derivative():
        return maker(np.asarray(base_value(r)).astype(want))
    raise TypeError(
        f"hodiff: numpy.{what}(..., dtype={want}) on a value being differentiated: hodiff computes it in {have} "
        "and has no cast for a derivative. Drop the dtype= argument (or convert the input before differentiating).")


def _mask(where: Any, x: Any) -> np.ndarray | None:
    if where is None or where is True:
        return None
    return lower(_bool_mask, where, tuple(shape_of(x)))    # recorded (not frozen) under hd.jit


def _bool_mask(where: Any, shape: tuple) -> np.ndarray:
    return np.broadcast_to(np.asarray(where, dtype=bool), shape)


def _count_of(m: np.ndarray, axis: Any, keepdims: bool, dtype: Any) -> np.ndarray:
    return np.asarray(np.sum(m, axis=axis, keepdims=keepdims)).astype(dtype)


def _masked(x: Any, m: np.ndarray | None, fill: float) -> Any:
    return x if m is None else P.where(m, x, fill)


def _count(x: Any, axis: Any, keepdims: bool, m: np.ndarray | None) -> Any:
    if m is None:
        m = np.ones(shape_of(x), dtype=bool)
    if isinstance(m, StagedBox):    # hd.jit recording: the count stays a recorded array of x's precision
        return lower(_count_of, m, axis, keepdims, np.result_type(dtype_of(x), np.float32))
    n = np.sum(m, axis=axis, keepdims=keepdims)
    # a Python float (or an array of x's precision) keeps float32 inputs in float32
    return float(n) if np.ndim(n) == 0 else n.astype(np.result_type(dtype_of(x), np.float32))


def sum(x: ArrayLike, axis: Any = None, keepdims: bool = False, *, dtype: DTypeLike | None = None,
        initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Any:
    """Sum over ``axis`` (an int, a tuple or None for all), as ``numpy.sum``.

    ``where`` (a boolean mask broadcast to ``x``) leaves masked-out entries out of the sum (their derivative is 0);
    ``initial`` is added to the result. ``sum(x) = initial + sum_i where_i x_i``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.grad(lambda x: np.sum(x, where=[True, False, True], initial=5.0))(np.ones(3))
    array([1., 0., 1.])
    """
    r = P.reduce_sum(_masked(x, _mask(where, x), 0.0), axis=axis, keepdims=keepdims)
    if initial is not None:
        r = P.add(r, initial)
    return check_dtype(r, dtype, "sum")


def prod(x: ArrayLike, axis: Any = None, keepdims: bool = False, *, dtype: DTypeLike | None = None,
         initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Any:
    """Product over ``axis``, as ``numpy.prod`` (exact derivatives even where ``x`` has zeros); ``where`` leaves
    entries out (as factors of 1), ``initial`` multiplies the result."""
    x = _masked(x, _mask(where, x), 1.0)
    nd = ndim_of(x)
    axes = P.normalize_axis(axis, nd)
    keep = [i for i in range(nd) if i - nd not in axes]
    red = [i + nd for i in axes]
    s = shape_of(x)
    r = prod_last(P.reshape(P.transpose(x, keep + red), tuple(s[i] for i in keep) + (-1,)))
    if keepdims:
        r = P.reshape(r, P.kept_shape(s, axes))
    if initial is not None:
        r = P.multiply(r, initial)
    return check_dtype(r, dtype, "prod")


def _extreme(red: Any, pair: Any, fill: float, x: Any, axis: Any, keepdims: bool, initial: Any, where: Any,
             name: str) -> Any:
    m = _mask(where, x)
    if m is not None and initial is None:
        raise ValueError(f"reduction operation '{name}' does not have an identity, so to use a where mask one has to "
                         "specify 'initial'")
    r = red(_masked(x, m, fill), axis=axis, keepdims=keepdims)
    return r if initial is None else pair(r, initial)


def amax(x: ArrayLike, axis: Any = None, keepdims: bool = False, *, initial: ArrayLike | None = None,
         where: ArrayLike | None = None) -> Any:
    """Maximum over ``axis`` (ties split the derivative evenly), as ``numpy.max`` with ``initial`` and ``where``."""
    return _extreme(P.amax, P.maximum, -np.inf, x, axis, keepdims, initial, where, "maximum")


def amin(x: ArrayLike, axis: Any = None, keepdims: bool = False, *, initial: ArrayLike | None = None,
         where: ArrayLike | None = None) -> Any:
    """Minimum over ``axis``, as ``numpy.min`` with ``initial`` and ``where``."""
    return _extreme(P.amin, P.minimum, np.inf, x, axis, keepdims, initial, where, "minimum")


def mean(x: ArrayLike, axis: Any = None, keepdims: bool = False, *, dtype: DTypeLike | None = None,
         where: ArrayLike | None = None) -> Any:
    """Arithmetic mean over ``axis`` (of the entries selected by ``where``): ``sum(where * x) / count``."""
    m = _mask(where, x)
    r = P.divide(sum(x, axis=axis, keepdims=keepdims, where=m), _count(x, axis, keepdims, m))
    return check_dtype(r, dtype, "mean")


def _ddof(ddof: float, correction: float | None) -> float:
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError("ddof and correction can't be provided simultaneously.")
    return correction


def var(x: ArrayLike, axis: Any = None, ddof: float = 0, keepdims: bool = False, *,
        dtype: DTypeLike | None = None, where: ArrayLike | None = None, correction: float | None = None) -> Any:
    """Variance over ``axis``: ``sum((x - mean)^2) / (count - ddof)`` (``correction`` is numpy's alias of ddof)."""
    m = _mask(where, x)
    d = P.subtract(x, mean(x, axis=axis, keepdims=True, where=m))
    n = _count(x, axis, keepdims, m) - _ddof(ddof, correction)
    r = P.divide(sum(P.multiply(d, d), axis=axis, keepdims=keepdims, where=m), n)
    return check_dtype(r, dtype, "var")


def std(x: ArrayLike, axis: Any = None, ddof: float = 0, keepdims: bool = False, *,
        dtype: DTypeLike | None = None, where: ArrayLike | None = None, correction: float | None = None) -> Any:
    """Standard deviation over ``axis`` (``sqrt`` of :func:`var`)."""
    r = P.sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims, where=where, correction=correction))
    return check_dtype(r, dtype, "std")


def _not_nan(xb: Any) -> np.ndarray:
    return ~np.isnan(xb)


def nansum(x: ArrayLike, axis: Any = None, keepdims: bool = False, *, dtype: DTypeLike | None = None,
           initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Any:
    """Sum treating NaNs as zero (their derivative is zero)."""
    ok = lower(_not_nan, x)
    m = _mask(where, x)
    return sum(x, axis=axis, keepdims=keepdims, dtype=dtype, initial=initial, where=ok if m is None else lower(np.logical_and, ok, m))


def nanmean(x: ArrayLike, axis: Any = None, keepdims: bool = False, *, dtype: DTypeLike | None = None,
            where: ArrayLike | None = None) -> Any:
    """Mean over the non-NaN entries (and those selected by ``where``)."""
    ok = lower(_not_nan, x)
    m = _mask(where, x)
    return mean(x, axis=axis, keepdims=keepdims, dtype=dtype, where=ok if m is None else lower(np.logical_and, ok, m))


def _scan(last: Any, x: Any, axis: Any) -> Any:
    if axis is None:
        return last(P.reshape(x, (-1,)))
    nd = ndim_of(x)
    a = int(axis) % nd
    order = [i for i in range(nd) if i != a] + [a]
    back = list(np.argsort(order))
    return P.transpose(last(P.transpose(x, order)), back)


def cumsum(x: ArrayLike, axis: Any = None, *, dtype: DTypeLike | None = None) -> Any:
    """Cumulative sum along ``axis`` (of the flattened array when ``axis`` is None)."""
    return check_dtype(_scan(cumsum_last, x, axis), dtype, "cumsum")


def cumprod(x: ArrayLike, axis: Any = None, *, dtype: DTypeLike | None = None) -> Any:
    """Cumulative product along ``axis``; exact derivatives even where ``x`` has zeros."""
    return check_dtype(_scan(cumprod_last, x, axis), dtype, "cumprod")
