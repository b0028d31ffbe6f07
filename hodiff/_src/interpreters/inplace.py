"""Item assignment as a differentiable operation: ``index_put(x, idx, v)`` is a new array equal to ``x`` with
``x[idx] = v`` applied, written in the table's operations so that it records like any other operation.

Used by the tensor API (``reverse.py``): ``a[idx] = w * 3`` on a tensor records the assignment (PyTorch's
semantics: ``a`` joins the graph) without ever writing into an array a tape may hold. Above the primitive table,
below the reverse interpreter; nothing here knows about tensors.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import table as P
from ..core.engine import Box, base_value, shape_of

__all__ = ["index_put", "plain_index"]


def plain_index(idx: Any) -> Any:
    """``idx`` with tensors and other boxes replaced by their values (indices carry no derivative)."""
    if isinstance(idx, tuple):
        return tuple(plain_index(i) for i in idx)
    if isinstance(idx, Box):
        return np.asarray(base_value(idx))
    return idx


def index_put(x: Any, idx: Any, value: Any, dtype: Any = None) -> Any:
    """``x`` with ``x[idx] = value`` (numpy's assignment semantics), as recorded operations; ``x`` is untouched.

    ``value`` broadcasts to the shape of ``x[idx]`` (leading axes of length 1 may be dropped, as numpy allows);
    where an advanced index repeats a position, the last write wins, so the derivative reaches only that element
    of ``value``. A plain ``value`` is first converted to ``dtype`` (the array's type, as numpy's assignment does).

    The result is ``where(mask, scatter(value), x)``: the derivative is ``dvalue`` scattered into the written
    positions plus ``dx`` everywhere else.
    """
    shape = tuple(shape_of(x))
    size = int(np.prod(shape, dtype=np.int64))
    pos = np.arange(size).reshape(shape)[idx]           # the flat positions written, in numpy's order
    target = np.shape(pos)
    if not isinstance(value, Box):
        value = np.asarray(value, dtype=dtype)
    vshape = tuple(shape_of(value))
    extra = len(vshape) - len(target)
    if extra > 0:
        if any(d != 1 for d in vshape[:extra]):
            raise ValueError(f"could not broadcast input array from shape {vshape} into shape {target}")
        vshape = vshape[extra:]
        value = P.reshape(value, vshape)
    try:
        ok = np.broadcast_shapes(vshape, target) == target
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"could not broadcast input array from shape {vshape} into shape {target}")
    flat = pos.reshape(-1)
    if vshape != target:
        value = P.broadcast_to(value, target)
    value = P.reshape(value, (flat.size,))
    last, first_from_end = np.unique(flat[::-1], return_index=True)
    if last.size != flat.size:          # repeated positions: keep the last write of each
        value = P.getitem(value, (flat.size - 1 - first_from_end,))
        flat = last
    mask = np.zeros(size, dtype=bool)
    mask[flat] = True
    scattered = P.reshape(P.scatter_add(value, (flat,), (size,)), shape)
    return P.where(mask.reshape(shape), scattered, x)
