"""numpy's in-place array methods on hodiff values: ``y.sort()``, ``y.fill(v)``, ``y[i] = v``, ``y += v``, ...

A hodiff value (a box) is immutable underneath, but a box object can be *rebound*: its contents replaced by those
of the new traced value, so every name bound to the box sees the change, as every name bound to an array does.
That is sound for a value inside a transform (the tape keeps the old node; later operations use the new one). It is
refused for the input being differentiated by a reverse transform (a leaf tensor that requires grad, as PyTorch
refuses) and for a new value of a different transform level (it cannot be stored in this box). Views are not shared:
slices of a box are copies, so ``v = y[:2]; y.sort()`` leaves ``v`` as it was.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import table as P
from ..core import modes as _modes
from ..core.engine import dtype_of, Box, StagedBox, base_value, shape_of
from . import shape as S

__all__ = ["filled", "missing_method", "pack", "put", "rebind", "resized"]


def rebind(box: Any, new: Any, what: str) -> None:
    """Make ``box`` hold ``new`` (same level, or a constant), in place."""
    if hasattr(box, "tangent"):       # a forward-mode dual
        if type(new) is type(box) and new._trace is box._trace:
            box.primal, box.tangent = new.primal, new.tangent
            return None
        if not _above(new, box._trace.level):
            box.primal = new
            box.tangent = np.zeros(box._trace.lead + tuple(shape_of(new)), dtype=np.result_type(dtype_of(new),
                                                                                                 np.float32))
            return None
        raise _other_level(what)
    if isinstance(box, StagedBox):   # hd.jit recording: the Python object now names the new recorded variable
        st: Any = box
        if st._ref.var in st._trace.inputs:   # the caller's array would change: a replay could not do that
            raise RuntimeError(f"hd.jit: {what} writes into an argument of the compiled function; it runs eagerly")
        if type(new) is type(st) and new._trace is st._trace:
            st._value, st._ref = new._value, new._ref
            return None
        raise _other_level(what)
    # a reverse-mode tensor
    if box.requires_grad and box.is_leaf and box._node is not None and box._node._prim is None and _recording():
        raise RuntimeError(
            f"x.{what.strip('_')}(...) would change, in place, a value whose gradient is being taken (an input of "
            "the transform, or a leaf tensor that requires grad). Write the new value to a new name instead, e.g. "
            "y = np.sort(x) rather than x.sort(), or y = x.at[i].set(v) rather than x[i] = v.")
    if type(new) is type(box) and new._trace is box._trace:
        box._value, box._node, box.requires_grad = new._value, new._node, new.requires_grad
        return None
    if not _above(new, box._trace.level):
        box._value, box._node, box.requires_grad = new, None, False
        return None
    raise _other_level(what)


def _recording() -> bool:
    return bool(_modes.is_grad_enabled())


def _above(v: Any, level: int) -> bool:
    """Whether ``v`` holds a box of a level above ``level`` (a value of an inner transform)."""
    while isinstance(v, Box):
        b: Any = v
        if b._trace.level > level:
            return True
        v = b._base()
    return False


def _other_level(what: str) -> TypeError:
    return TypeError(f"{what}: the new value belongs to an inner transform and cannot be stored in place into a "
                     "value of an outer one; assign the result to a new name instead (y = ...).")


def pack(v: Any) -> Any:
    """A value from a (nested) list that may hold traced values, stacked so that their derivatives stay."""
    if isinstance(v, (list, tuple)) and _has_box(v):
        return S.stack([pack(e) for e in v])
    return v if isinstance(v, Box) else np.asarray(v)


def _has_box(v: Any) -> bool:
    return isinstance(v, Box) or (isinstance(v, (list, tuple)) and any(_has_box(e) for e in v))


def filled(x: Any, value: ArrayLike) -> Any:
    """``x``'s shape filled with ``value`` (a traced value keeps its derivative)."""
    return P.add(P.broadcast_to(pack(value), tuple(shape_of(x))), np.zeros(shape_of(x)))


def put(x: Any, indices: ArrayLike, values: ArrayLike, mode: str = "raise") -> Any:
    """``x`` with its flat entries ``indices`` set to ``values`` (``values`` repeated as needed, as numpy)."""
    n = int(np.prod(shape_of(x), dtype=np.int64))
    idx = np.ravel(np.asarray(base_value(indices)))
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    else:
        if np.any((idx >= n) | (idx < -n)):
            raise IndexError(f"index out of bounds for size {n}")
        idx = idx % n
    # numpy writes in order, so the last write to a repeated index wins
    last = {int(j): k for k, j in enumerate(idx)}
    keep = np.array(sorted(last.values()), dtype=np.int64)
    v = S.ravel(pack(values))
    reps = -(-len(idx) // max(int(np.prod(shape_of(v))), 1))
    v = P.getitem(S.tile(v, reps) if reps > 1 else v, (keep,))
    flat = S.index_set(S.ravel(x), (idx[keep],), v)
    return P.reshape(flat, tuple(shape_of(x)))


def resized(x: Any, new_shape: tuple) -> Any:
    """``ndarray.resize``'s result: the flat entries of ``x`` in ``new_shape``, zeros past its end."""
    if len(new_shape) == 1 and not isinstance(new_shape[0], (int, np.integer)):
        new_shape = tuple(new_shape[0])
    shape = tuple(int(d) for d in new_shape)
    n, have = int(np.prod(shape, dtype=np.int64)), int(np.prod(shape_of(x), dtype=np.int64))
    flat = S.ravel(x)
    if n <= have:
        flat = P.getitem(flat, (slice(0, n),))
    else:
        flat = S.concatenate([flat, np.zeros(n - have)])
    return P.reshape(flat, shape)


def missing_method(kind: str, name: str) -> str:
    """The message for an ndarray method a hodiff value does not offer."""
    fn = getattr(np, name, None)
    alt = f"np.{name}(x) (differentiable where hodiff supports it), or " if callable(fn) else ""
    return (f"a value being differentiated has no ndarray method .{name}(): it is not supported on traced values "
            f"(it would change memory or drop the derivative). Use {alt}hodiff.stop_gradient(x).{name}(...) where "
            "no derivative is wanted.")
