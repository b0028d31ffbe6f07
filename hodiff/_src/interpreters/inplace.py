"""In-place updates of tensors, as PyTorch has them, without ever writing into an array a tape holds.

Used by the tensor class (``reverse.py``; these functions take the tensor and use only its slots, so this module
does not import it). Above the primitive table, below the reverse interpreter.

- :func:`index_put` is item assignment as a differentiable operation: a new array equal to ``x`` with
  ``x[idx] = v`` applied, written in the table's operations, so ``a[idx] = w * 3`` records like any other
  operation and ``a`` joins the graph (:func:`setitem`, :func:`adopt`: the tensor object keeps its identity and
  stands for the new node).
- Tensors that share a value (``x.data``, ``x.detach()``) form a group (:func:`share`); a write gives every member
  the new array (:func:`assign`): copy-on-write, so arrays saved on a tape keep the values they were recorded with.
"""
from __future__ import annotations

from typing import Any

import weakref

import numpy as np

from .. import table as P
from ..core import modes as _modes
from ..core.engine import dtype_of, Box, base_value, shape_of

__all__ = ["adopt", "assign", "index_put", "plain_index", "setitem", "share"]


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


def assign(t: Any, new: np.ndarray) -> None:
    """Give the tensor ``t``, and every tensor sharing its value, the plain array ``new``."""
    t._value = new
    group = getattr(t, "_shares", None)
    if group is not None:
        for u in list(group):
            if u is not t and u._trace is t._trace and type(u._value) is np.ndarray:
                u._value = new


def share(t: Any, other: Any) -> None:
    """Put ``other`` in the group of tensors sharing ``t``'s value."""
    group = getattr(t, "_shares", None)
    if group is None:
        group = t._shares = weakref.WeakSet((t,))
    group.add(other)
    other._shares = group


def adopt(t: Any, r: Any) -> None:
    """Make the tensor ``t`` stand for ``r`` (the result of a recorded in-place operation), keeping its identity."""
    if type(r) is not type(t):
        raise TypeError(
            "in-place update of a hodiff tensor with a value that a forward-mode transform (hd.jvp, "
            "hd.jacfwd, hd.derivative, ...) is differentiating: a tensor made by hd.tensor/hd.zeros/... cannot "
            "hold such a value (only hd.grad-style reverse transforms trace tensors). Build the new value "
            "without in-place updates instead (hd.where, hd.stack, concatenation).")
    old = t._node
    t._value, t._trace, t._node, t.requires_grad = r._value, r._trace, r._node, r.requires_grad
    if old is not None and old.ref is not None and old._prim is not None and old is not r._node:
        r._node.ref = weakref.ref(t)     # retain_grad() carries over to the new value
    if type(t._value) is np.ndarray:
        assign(t, t._value)
    else:
        group = getattr(t, "_shares", None)
        if group is not None:
            group.discard(t)
            t._shares = None


def setitem(t: Any, idx: Any, value: Any) -> None:
    """``t[idx] = value`` with PyTorch's semantics for the tensor ``t``.

    A value that requires grad (or that a transform traces) makes the assignment recorded: ``t`` joins the graph.
    Otherwise the values are written into a new array that every tensor sharing ``t``'s value receives.
    """
    idx = plain_index(idx)
    eager = t._trace.eager
    recording = not eager or _modes.is_grad_enabled()
    # an eager tensor with a plain value is a constant here unless it requires grad and we record
    constant = (type(value) is type(t) and getattr(value, "_trace").eager
                and not isinstance(getattr(value, "_value"), Box)
                and not (getattr(value, "requires_grad") and recording))
    tracked = isinstance(value, Box) and not constant
    if eager and not isinstance(t._value, Box) and not tracked and not (t.requires_grad and recording):
        new = np.array(t._value, copy=True)
        new[idx] = base_value(value)
        assign(t, new)
        return
    if t.requires_grad and t.is_leaf and recording:
        raise RuntimeError(
            "item assignment into a leaf tensor that requires grad is not allowed while gradients are "
            "recorded (as in PyTorch): do it inside `with hd.no_grad():`, or assign into a copy (x.clone())")
    dtype = dtype_of(t._value)
    if dtype.kind not in "fc":
        raise TypeError(f"cannot assign a value that carries a derivative into a tensor of dtype {dtype}: "
                        "it cannot hold one. Make the tensor floating-point first (x.astype(float))")
    r = index_put(t, idx, value, dtype)
    rdtype = dtype_of(r)
    if rdtype != dtype:
        raise TypeError(f"assigning a {rdtype} value that carries a derivative into a {dtype} tensor would "
                        "change its dtype; give both the same dtype")
    adopt(t, r)
