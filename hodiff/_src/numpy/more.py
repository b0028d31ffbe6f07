"""More of numpy's functions as composites: splits and stacks, rotations, ``select``, ``partition``, ``nan_to_num``,
``interp``, ``gradient``, ``linspace`` and ``full_like`` with traced arguments, and the full forms of ``einsum``
(interleaved operands), ``kron`` (any dimensions) and ``cross`` (``axisa/axisb/axisc``).

Pure rearrangements are gathers: numpy's own function applied to an array of element indices gives the index map
(``_gather``), so shapes and orders match numpy's exactly. Everything is made of primitives, so differentiable to
any order.
"""
from __future__ import annotations

from typing import Any, Sequence

import sys

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import table as P
from ..core.engine import dtype_of, Box, base_value, lower, ndim_of, shape_of
from ..table.scans import einsum as _einsum_str
from .reductions import check_dtype
from .shape import _gather, _indices, _many, array_split, atleast_2d, concatenate, moveaxis, ravel, stack, take_along_axis

__all__ = ["append", "atleast_3d", "column_stack", "cross", "dsplit", "einsum",
           "fliplr", "flipud", "full_like", "gradient", "hsplit", "interp", "kron", "linspace", "nan_to_num",
           "partition", "rollaxis", "copyto", "rot90", "row_stack", "select", "vsplit"]


def atleast_3d(*arys: ArrayLike) -> Any:
    """Arrays with at least three dimensions (numpy's placement: ``(N,) -> (1, N, 1)``, ``(M, N) -> (M, N, 1)``)."""
    return _many(lambda a: _gather(a, np.atleast_3d(_indices(a))), arys)


def flipud(m: ArrayLike) -> Any:
    """``m`` with the first axis reversed."""
    return _gather(m, np.flipud(_indices(m)))


def fliplr(m: ArrayLike) -> Any:
    """``m`` with the second axis reversed."""
    return _gather(m, np.fliplr(_indices(m)))


def rot90(m: ArrayLike, k: int = 1, axes: Sequence[int] = (0, 1)) -> Any:
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes``."""
    return _gather(m, np.rot90(_indices(m), k, (int(axes[0]), int(axes[1]))))


def rollaxis(a: ArrayLike, axis: int, start: int = 0) -> Any:
    """``a`` with ``axis`` rolled back to position ``start``."""
    return _gather(a, np.rollaxis(_indices(a), axis, start))


def _split_along(x: Any, ios: Any, axis: int, what: str, need: int) -> list:
    if ndim_of(x) < need:
        raise ValueError(f"{what} only works on arrays of {need} or more dimensions")
    if isinstance(ios, (int, np.integer)) and shape_of(x)[axis] % ios:
        raise ValueError("array split does not result in an equal division")
    return array_split(x, ios, axis)


def hsplit(ary: ArrayLike, indices_or_sections: Any) -> list:
    """Split along the second axis (the first for 1-D arrays)."""
    if ndim_of(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split_along(ary, indices_or_sections, 1 if ndim_of(ary) > 1 else 0, "hsplit", 1)


def vsplit(ary: ArrayLike, indices_or_sections: Any) -> list:
    """Split along the first axis (arrays of 2 or more dimensions)."""
    return _split_along(ary, indices_or_sections, 0, "vsplit", 2)


def dsplit(ary: ArrayLike, indices_or_sections: Any) -> list:
    """Split along the third axis (arrays of 3 or more dimensions)."""
    return _split_along(ary, indices_or_sections, 2, "dsplit", 3)


def column_stack(tup: Sequence[ArrayLike]) -> Any:
    """Stack 1-D arrays as columns (2-D arrays as they are) into a 2-D array."""
    cols = [P.reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in tup]
    return concatenate(cols, axis=1)


def row_stack(tup: Sequence[ArrayLike], *, dtype: DTypeLike | None = None, casting: str = "same_kind") -> Any:
    """Stack arrays as rows (numpy's ``vstack``)."""
    return check_dtype(concatenate([atleast_2d(a) for a in tup], axis=0), dtype, "row_stack")


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> Any:
    """``arr`` with ``values`` appended (both flattened when ``axis`` is None)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def _as_bool(c: Any) -> np.ndarray:
    return np.asarray(c, dtype=bool)


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: ArrayLike = 0) -> Any:
    """The element of the first choice whose condition holds (``default`` where none does)."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    shape = np.broadcast_shapes(*[tuple(shape_of(c)) for c in condlist],
                                *[shape_of(c) for c in choicelist])
    out = P.broadcast_to(P.add(default, np.zeros(shape)), shape)
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = P.where(lower(_as_bool, cond), choice, out)   # recorded, not frozen, under hd.jit
    return out


def partition(a: ArrayLike, kth: Any, axis: int | None = -1, kind: str = "introselect", order: Any = None) -> Any:
    """numpy's ``partition``: the same permutation as ``np.argpartition`` on the values, so each entry keeps its
    derivative."""
    if order is not None:
        raise TypeError("hodiff: numpy.partition(..., order=...) sorts structured arrays, which have no derivative")
    if axis is None:
        a, axis = ravel(a), -1
    order_ = np.argpartition(base_value(a), kth, axis=axis, kind=kind)  # type: ignore[arg-type]
    return take_along_axis(a, order_, axis)


def nan_to_num(x: ArrayLike, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """``x`` with NaN and infinities replaced (their derivative is 0; finite entries keep theirs)."""
    dt = np.dtype(dtype_of(x))
    big = np.finfo(dt if dt.kind == "f" else np.float64)
    posinf = big.max if posinf is None else posinf
    neginf = big.min if neginf is None else neginf
    out = P.where(lower(np.isnan, x), nan, x)       # masks through lower: recorded, not frozen, under hd.jit
    out = P.where(lower(np.isposinf, x), posinf, out)
    return P.where(lower(np.isneginf, x), neginf, out)


def interp(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, left: ArrayLike | None = None,
           right: ArrayLike | None = None, period: float | None = None) -> Any:
    """Piecewise-linear interpolation, as ``numpy.interp``; differentiable in ``x``, ``xp`` and ``fp``.

    ``f(x) = fp[i] + (x - xp[i]) (fp[i+1] - fp[i]) / (xp[i+1] - xp[i])`` on ``[xp[i], xp[i+1]]``, ``left``/``right``
    (default ``fp[0]``/``fp[-1]``) outside.
    """
    if period is not None:
        raise TypeError("hodiff: numpy.interp(..., period=...) is not supported on values being differentiated; "
                        "reduce x modulo the period and extend xp, fp explicitly")
    xp = xp if isinstance(xp, Box) else np.asarray(xp, dtype=float)
    fp = fp if isinstance(fp, Box) else np.asarray(fp, dtype=float)
    xb, xpb = np.asarray(base_value(x)), np.asarray(base_value(xp))
    n = xpb.shape[0]
    if n == 1:
        return P.add(P.multiply(x, 0.0), P.getitem(fp, 0))
    i = np.clip(np.searchsorted(xpb, xb, side="right") - 1, 0, n - 2)
    x0, x1 = P.getitem(xp, (i,)), P.getitem(xp, (i + 1,))
    y0, y1 = P.getitem(fp, (i,)), P.getitem(fp, (i + 1,))
    r = P.add(y0, P.multiply(P.divide(P.subtract(x, x0), P.subtract(x1, x0)), P.subtract(y1, y0)))
    r = P.where(xb < xpb[0], P.getitem(fp, 0) if left is None else left, r)
    return P.where(xb > xpb[-1], P.getitem(fp, -1) if right is None else right, r)


def _grad_axis(f: Any, h: Any, axis: int, edge_order: int) -> Any:
    nd = ndim_of(f)
    n = shape_of(f)[axis]
    if n < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, at least (edge_order + 1) "
                         "elements are required.")

    def sl(a: int | None, b: int | None) -> Any:
        return P.getitem(f, tuple(slice(a, b) if k == axis % nd else slice(None) for k in range(nd)))

    mid = P.divide(P.subtract(sl(2, None), sl(None, -2)), P.multiply(2.0, h))
    if edge_order == 1:
        lo = P.divide(P.subtract(sl(1, 2), sl(0, 1)), h)
        hi = P.divide(P.subtract(sl(-1, None), sl(-2, -1)), h)
    else:
        lo = P.divide(P.add(P.add(P.multiply(-1.5, sl(0, 1)), P.multiply(2.0, sl(1, 2))), P.multiply(-0.5, sl(2, 3))),
                      h)
        hi = P.divide(P.add(P.add(P.multiply(1.5, sl(-1, None)), P.multiply(-2.0, sl(-2, -1))),
                            P.multiply(0.5, sl(-3, -2))), h)
    return concatenate([lo, mid, hi], axis=axis)


def gradient(f: ArrayLike, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Second-order central differences inside, one-sided (``edge_order`` 1 or 2) at the ends, as ``numpy.gradient``
    with uniform spacings (scalar ``varargs``); a tuple over several axes."""
    nd = ndim_of(f)
    axes = list(range(nd)) if axis is None else [a % nd for a in np.atleast_1d(axis).tolist()]
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    if not varargs:
        hs = [1.0] * len(axes)
    elif len(varargs) == 1:
        hs = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        hs = list(varargs)
    else:
        raise TypeError("invalid number of arguments")
    for h in hs:
        if ndim_of(h) != 0:
            raise TypeError("hodiff: numpy.gradient with coordinate arrays is not supported; pass uniform spacings "
                            "(scalars)")
    out = tuple(_grad_axis(f, h, a, edge_order) for a, h in zip(axes, hs))
    return out[0] if len(out) == 1 else out


def linspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: DTypeLike | None = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``, differentiable in both ends:
    ``y_k = start + k (stop - start) / div`` (``div = num - 1`` with ``endpoint``), the last one ``stop`` itself."""
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    delta = P.subtract(stop, start)
    dshape = tuple(shape_of(delta))
    k = np.arange(num, dtype=float).reshape((-1,) + (1,) * len(dshape))
    step = P.divide(delta, float(div)) if div > 0 else P.multiply(delta, np.nan)
    y = P.add(P.multiply(k, step), start) if div > 0 else P.add(P.multiply(k, delta), start)
    if endpoint and num > 1:
        last = (np.arange(num) == num - 1).reshape((-1,) + (1,) * len(dshape))
        y = P.where(last, stop, y)
    if len(dshape) and axis != 0:
        y = moveaxis(y, 0, axis)
    y = check_dtype(y, dtype, "linspace")
    return (y, step) if retstep else y


def full_like(a: ArrayLike, fill_value: ArrayLike, dtype: DTypeLike | None = None, order: str = "K",
              subok: bool = True, shape: Any = None) -> Any:
    """An array shaped like ``a`` (or ``shape``) filled with ``fill_value``; the derivative flows to a traced
    ``fill_value`` (``a`` only gives the shape and dtype)."""
    shp = tuple(shape_of(a)) if shape is None else ((shape,) if isinstance(shape, (int, np.integer)) else
                                                     tuple(shape))
    dt = np.dtype(dtype) if dtype is not None else dtype_of(a)
    if not isinstance(fill_value, Box) or dt.kind not in "fc":
        return np.full(shp, base_value(fill_value), dtype=dt)
    return P.add(P.broadcast_to(fill_value, shp), np.zeros(shp, dtype=dt))


def _interleaved(ops: tuple) -> tuple[str, list]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``("ab,bc->ac", [a, b])``."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def sub(s: Any) -> str:
        return "".join("..." if v is Ellipsis else letters[int(v)] for v in s)

    operands = list(ops[0::2][: len(ops) // 2])
    subs = [sub(s) for s in ops[1::2][: len(ops) // 2]]
    out = "->" + sub(ops[-1]) if len(ops) % 2 else ""
    return ",".join(subs) + out, operands


def einsum(*operands: Any, optimize: Any = False) -> Any:
    """Einstein summation, as ``numpy.einsum``: subscripts form ``einsum("ij,jk->ik", a, b)`` or interleaved form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``; differentiable in every operand."""
    if operands and isinstance(operands[0], str):
        return _einsum_str(operands[0], *operands[1:])
    subs, ops = _interleaved(operands)
    return _einsum_str(subs, *ops)


def kron(a: ArrayLike, b: ArrayLike) -> Any:
    """Kronecker product (numpy's ``kron``), the operand with fewer dimensions padded with leading unit axes."""
    na, nb = ndim_of(a), ndim_of(b)
    nd = max(na, nb)
    a = P.reshape(a, (1,) * (nd - na) + tuple(shape_of(a)))
    b = P.reshape(b, (1,) * (nd - nb) + tuple(shape_of(b)))
    sa, sb = shape_of(a), shape_of(b)
    outer_ = P.multiply(P.reshape(a, tuple(sa) + (1,) * nd), P.reshape(b, (1,) * nd + tuple(sb)))
    order = [k for i in range(nd) for k in (i, nd + i)]
    return P.reshape(P.transpose(outer_, order), tuple(x * y for x, y in zip(sa, sb)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Any:
    """Cross product of 3-vectors (numpy's ``cross``, with ``axisa``/``axisb``/``axisc`` or ``axis`` for all)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    if shape_of(a)[axisa] != 3 or shape_of(b)[axisb] != 3:
        raise NotImplementedError("hodiff's cross supports 3-component vectors (numpy 2 deprecates 2-component ones)")
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    comp = [(1, 2), (2, 0), (0, 1)]
    parts = [P.subtract(P.multiply(a[..., i], b[..., j]), P.multiply(a[..., j], b[..., i])) for i, j in comp]
    c = stack(parts, axis=-1)
    return moveaxis(c, -1, axisc) if ndim_of(c) > 1 else c


def copyto(dst: Any, src: ArrayLike, casting: str = "same_kind", where: ArrayLike = True) -> None:
    """``np.copyto`` into a hodiff value: the value is rebound to the copy (numpy's in-place semantics). Into a
    plain array, a value being differentiated cannot go: that raises, naming the call (``np.full_like`` on a plain
    array with a traced fill value comes here)."""
    from . import convert as C
    from . import inplace as I
    if not isinstance(dst, Box):
        raise C.conversion_error("np.copyto into a plain array", sys._getframe(1))
    new = P.broadcast_to(I.pack(src), tuple(shape_of(dst)))
    if where is not True:
        new = P.where(lower(_as_bool, where), new, dst)
    I.rebind(dst, P.add(new, np.zeros(shape_of(dst))), "np.copyto")
