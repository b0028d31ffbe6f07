"""The tape's entries: :class:`Node` (how a recorded value was computed) and :class:`Unsaved` (what is left of a
value the tape did not keep).

The ground floor of reverse mode: the recording interpreter (``reverse.py``) creates nodes, the backward sweep
(``backward.py``) walks them. A node links to its parent nodes, not to tensors, so user code dropping an
intermediate frees its array unless a VJP rule needs it.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..core.engine import lower_value, shape_of

__all__ = ["Node", "Unsaved", "leaf_node"]


class Node:
    """One entry of the tape: how a tensor was computed, and only what its VJP rules need to go back.

    ``_prim`` is the primitive (``None`` for a leaf), ``_args`` its arguments as the rules will see them (values the
    rules do not use are replaced by an :class:`Unsaved` carrying only shape and dtype, so their memory can be freed),
    ``_ans`` the result if a rule uses it, ``_parents`` the ``(argument index, Node)`` pairs that need a cotangent,
    ``_pos`` the node's position on its level's tape (``None`` for a leaf and on the eager level, which keeps no
    tape): a backward sweep keeps the cotangents of the tape's nodes in a list of its own, at these positions.
    A node does not hold its tensor's value: once user code drops an intermediate tensor, its array is freed
    unless a rule saved it. Leaves and ``retain_grad`` nodes keep a weak reference to their tensor.
    """

    __slots__ = ("_ans", "_args", "_params", "_parents", "_pos", "_prim", "ref", "shape")

    def __init__(self, prim, args, params, parents, ans, shape):
        self._prim = prim
        self._args = args
        self._params = params
        self._parents = parents
        self._ans = ans
        self.shape = shape
        self._pos = None
        self.ref = None     # a weak reference to the tensor of a leaf or of a retain_grad() node

    def __repr__(self):
        return f"<node {self._prim.name if self._prim else 'leaf'} {self.shape}>"


def leaf_node(tensor):
    node = Node(None, None, None, None, None, tuple(shape_of(tensor._value)))
    node.ref = weakref.ref(tensor)
    return node


class Unsaved:
    """What is left on the tape of a value no VJP rule reads: its shape and dtype, so its memory can be freed."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype

    @classmethod
    def of(cls, value):
        """The shape and dtype of any value (a box, a scalar, an array)."""
        b = lower_value(value)    # every box is shaped like the value underneath (a staged one is read as such)
        return cls(tuple(shape_of(b)), getattr(b, "dtype", None))

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<not saved: shape {self.shape}>"


# Python and numpy scalar types: values the tape keeps whole (they cost nothing), cotangents summed with +.
_SCALARS = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.bool_, np.int32, np.float16})
