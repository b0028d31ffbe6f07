"""Operators, methods and numpy protocols shared by every box (``Dual`` and ``Tensor``).

A box behaves like the numpy array it wraps: ``+``, ``@``, ``x[i]``, ``x.sum()``, ``np.sin(x)`` all go to hodiff's
functions (``_src/numpy/namespace.py``) and from there through ``bind``. Conversions that would drop the derivative
(``np.asarray(box)``) raise instead.
"""
from __future__ import annotations

import sys

import numpy as np

from . import convert as C
from . import dispatch as D
from . import inplace as I
from . import keywords as K
from . import more as X
from . import reductions as R
from . import namespace as N
from . import shape as S
from ..core.engine import StagedBox, dtype_of, lower_value, shape_of

_UFUNCS = D.HANDLED_UFUNCS


def _item(v, *args):
    """A plain Python scalar from a value without boxes, or from a staged value (which records a guard)."""
    return v.item(*args) if isinstance(v, StagedBox) else np.asarray(v).item(*args)


def _rev(fn):
    return lambda self, other: fn(other, self)


class ArrayOps:
    """Mixin: subclasses provide ``_base()`` (the value one level down) and may override ``_const_maker()``."""

    __slots__ = ()
    __hash__ = object.__hash__

    # arithmetic
    __add__ = N.add
    __radd__ = _rev(N.add)
    __sub__ = N.subtract
    __rsub__ = _rev(N.subtract)
    __mul__ = N.multiply
    __rmul__ = _rev(N.multiply)
    __truediv__ = N.divide
    __rtruediv__ = _rev(N.divide)
    __pow__ = N.power
    __rpow__ = _rev(N.power)
    __matmul__ = N.matmul
    __rmatmul__ = _rev(N.matmul)
    __neg__ = N.negative
    __abs__ = N.absolute

    def __pos__(self):
        return self

    def __floordiv__(self, other):
        return D.NONDIFF[np.floor_divide](self, other)

    def __rfloordiv__(self, other):
        return D.NONDIFF[np.floor_divide](other, self)

    def __mod__(self, other):
        return N.mod(self, other)

    def __rmod__(self, other):
        return N.mod(other, self)

    # comparisons carry no derivative
    def __eq__(self, other):
        return D.NONDIFF[np.equal](self, other)

    def __ne__(self, other):
        return D.NONDIFF[np.not_equal](self, other)

    def __lt__(self, other):
        return D.NONDIFF[np.less](self, other)

    def __le__(self, other):
        return D.NONDIFF[np.less_equal](self, other)

    def __gt__(self, other):
        return D.NONDIFF[np.greater](self, other)

    def __ge__(self, other):
        return D.NONDIFF[np.greater_equal](self, other)

    # indexing and iteration
    def __getitem__(self, idx):
        return N.getitem(self, idx)

    def __len__(self):
        s = self.shape
        if not s:
            raise TypeError("len() of a 0-d array")
        return s[0]

    def __iter__(self):
        for i in range(len(self)):
            yield N.getitem(self, i)

    # conversions: to plain Python values (used by control flow), never to arrays silently
    def __bool__(self):
        return bool(lower_value(self))   # a staged value (``hd.jit``) records the branch taken

    def __float__(self):
        return float(self._plain_scalar("float"))

    def __int__(self):
        return int(self._plain_scalar("int"))

    def _plain_scalar(self, what):
        if self._const_maker() is None:   # a value traced by a transform: converting it would drop the derivative
            raise C.conversion_error(f"{what}()", sys._getframe(2))
        return _item(lower_value(self))

    def __index__(self):
        return lower_value(self).__index__()

    def item(self, *args):
        """The value as a Python scalar, without derivative: the explicit way to leave differentiation.

        Called by a library on a value being differentiated (where the user did not ask for it) it raises, naming
        the library function, like ``np.asarray``.
        """
        if self._const_maker() is None and self._needs_derivative():
            entry, _ = C.library_caller(sys._getframe(1))
            if entry is not None:
                raise C.conversion_error(".item()", sys._getframe(1))
        return _item(lower_value(self), *args)

    def tolist(self):
        """The value as nested Python lists (no derivative)."""
        v = lower_value(self)
        return v.tolist() if isinstance(v, StagedBox) else np.asarray(v).tolist()

    # array attributes, read from the plain value underneath (every box is shaped like its primal)
    @property
    def shape(self):
        return tuple(shape_of(self._base()))

    @property
    def ndim(self):
        return len(shape_of(self._base()))

    @property
    def dtype(self):
        return dtype_of(self)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def at(self):
        """Indexed updates returning a new value: ``x.at[idx].add(v)``, ``x.at[idx].set(v)``."""
        return S._At(self)

    @property
    def T(self):
        return N.transpose(self)

    # numpy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            fn = _UFUNCS.get(ufunc)
            if fn is not None:
                return fn(*inputs)
        return D.array_ufunc(self, ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return D.array_function(self, func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        raise C.conversion_error("np.asarray / __array__", sys._getframe(1), getattr(self._trace, "eager", False))

    def _const_maker(self):
        return None

    def _needs_derivative(self):
        return True

    # numpy-style methods: numpy's own signatures, every keyword honoured or refused by name (``keywords.py``)
    def _np(self, func, *args, **kwargs):
        return D.array_function(self, func, None, (self, *args), kwargs)

    def sum(self, *args, **kwargs):
        return self._np(np.sum, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return self._np(np.mean, *args, **kwargs)

    def var(self, *args, **kwargs):
        return self._np(np.var, *args, **kwargs)

    def std(self, *args, **kwargs):
        return self._np(np.std, *args, **kwargs)

    def max(self, *args, **kwargs):
        return self._np(np.max, *args, **kwargs)

    def min(self, *args, **kwargs):
        return self._np(np.min, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return self._np(np.prod, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        return self._np(np.cumsum, *args, **kwargs)

    def cumprod(self, *args, **kwargs):
        return self._np(np.cumprod, *args, **kwargs)

    def trace(self, *args, **kwargs):
        return self._np(np.trace, *args, **kwargs)

    def diagonal(self, *args, **kwargs):
        return self._np(np.diagonal, *args, **kwargs)

    def repeat(self, *args, **kwargs):
        return self._np(np.repeat, *args, **kwargs)

    def take(self, *args, **kwargs):
        return self._np(np.take, *args, **kwargs)

    def swapaxes(self, *args, **kwargs):
        return self._np(np.swapaxes, *args, **kwargs)

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        return self._np(np.reshape, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
            axes = axes[0]
        return N.transpose(self, axes or None)

    def ravel(self, order="C"):
        return S.ravel(self, order)

    def flatten(self, order="C"):
        return S.ravel(self, order)

    def squeeze(self, axis=None):
        return S.squeeze(self, axis)

    def dot(self, other, out=None):
        return self._np(np.dot, other, out=out)

    def clip(self, min=None, max=None, out=None, **kwargs):
        return self._np(np.clip, min, max, out=out, **kwargs)

    def copy(self, order="K"):
        """A copy (numpy's ``ndarray.copy``): a new value with the same derivative."""
        return N.multiply(self, 1.0)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        """``self`` in ``dtype``: honoured when it is already its dtype (a copy), refused for a traced value
        otherwise (hodiff has no cast for a derivative)."""
        return R.check_dtype(N.multiply(self, 1.0) if copy else self, dtype, "ndarray.astype")

    def conj(self):
        return self

    conjugate = conj

    def round(self, decimals=0, out=None):
        return self._np(np.round, decimals, out=out)

    def norm(self, ord=None, axis=None, keepdims=False):
        """The 2-norm (or other ``ord``), as ``torch.Tensor.norm``."""
        return N.norm(self, ord=ord, axis=axis, keepdims=keepdims)

    def exp(self):
        return N.exp(self)

    def log(self):
        return N.log(self)

    def sin(self):
        return N.sin(self)

    def cos(self):
        return N.cos(self)

    def tanh(self):
        return N.tanh(self)

    def sqrt(self):
        return N.sqrt(self)

    def abs(self):
        return N.absolute(self)

    def all(self, *args, **kwargs):
        return D.NONDIFF[np.all](self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return D.NONDIFF[np.any](self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return D.NONDIFF[np.argmax](self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return D.NONDIFF[np.argmin](self, *args, **kwargs)

    def argsort(self, *args, **kwargs):
        return D.NONDIFF[np.argsort](self, *args, **kwargs)

    def nonzero(self):
        return D.NONDIFF[np.nonzero](self)

    # in-place methods: numpy changes the array itself, so the box is rebound to the new traced value (every name
    # bound to this box sees the change, as with an array); see ``inplace.py``
    def sort(self, axis=-1, kind=None, order=None, *, stable=None):
        """Sort in place, as ``ndarray.sort`` (returns None); ``np.sort(x)`` returns a sorted copy instead."""
        if order is not None:
            raise K.refuse("ndarray.sort", "order", order)
        I.rebind(self, S.sort(self, axis), "sort")

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        """Partition in place, as ``ndarray.partition`` (returns None)."""
        I.rebind(self, X.partition(self, kth, axis, kind, order), "partition")

    def fill(self, value):
        """Set every element to ``value`` in place (its derivative, if traced, flows to every element)."""
        I.rebind(self, I.filled(self, value), "fill")

    def put(self, indices, values, mode="raise"):
        """Set the flat entries ``indices`` to ``values`` in place, as ``ndarray.put``."""
        I.rebind(self, I.put(self, indices, values, mode), "put")

    def resize(self, *new_shape, refcheck=True):
        """Change shape and size in place, as ``ndarray.resize`` (new entries are zeros)."""
        I.rebind(self, I.resized(self, new_shape), "resize")

    def __setitem__(self, idx, value):
        I.rebind(self, S.index_set(self, idx, I.pack(value)), "__setitem__")

    def __iadd__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return I.rebind(self, N.add(self, other), "+=") or self

    def __isub__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return I.rebind(self, N.subtract(self, other), "-=") or self

    def __imul__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return I.rebind(self, N.multiply(self, other), "*=") or self

    def __itruediv__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return I.rebind(self, N.divide(self, other), "/=") or self

    def __ipow__(self, other):  # type: ignore[misc]  # in place: same operands, the box itself updated
        return I.rebind(self, N.power(self, other), "**=") or self

    def __imatmul__(self, other):
        return I.rebind(self, N.matmul(self, other), "@=") or self


def _missing(name):
    def refuse(self):
        raise AttributeError(I.missing_method(type(self).__name__, name))
    return property(refuse, doc=f"Not offered on values being differentiated (ndarray.{name}).")


# The ndarray attributes a box does not offer, each a property that refuses with the way out. Not a __getattr__:
# on CPython 3.11 a class with __getattr__ gets no specialized attribute reads, so every a._trace, a._value,
# d.primal in the interpreters' hot loops would take the slow generic path (about 8% of a scalar operation).
for _name in dir(np.ndarray):
    if not _name.startswith("__") and not hasattr(ArrayOps, _name):
        setattr(ArrayOps, _name, _missing(_name))
