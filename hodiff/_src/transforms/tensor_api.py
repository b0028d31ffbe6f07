"""Functions that make eager tensors (the tensor API's entry points), after PyTorch's and numpy's names."""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..core.engine import base_value
from ..interpreters.reverse import Tensor

__all__ = [
    "arange",
    "eye",
    "full",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "tensor",
    "zeros",
    "zeros_like",
]


def _shape(shape, size=None):
    if size is not None:
        if shape:
            raise TypeError("give the shape either positionally or as size=, not both")
        return (int(size),) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def _float(dtype):
    return np.float64 if dtype is None else dtype


def tensor(data: Any, requires_grad: bool = False, dtype: DTypeLike | None = None) -> Tensor:
    """A tensor holding a copy of ``data``.

    Floating-point data is float64 unless ``dtype`` says otherwise (a float32 array stays float32); integer and
    boolean data keep their type and cannot require gradients.

    Examples
    --------
    >>> import hodiff as hd
    >>> hd.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: DTypeLike | None = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange`` (``arange(4.0)`` is float64)."""
    a = np.arange(start, stop, step, dtype=dtype) if stop is not None else np.arange(start, dtype=dtype)
    return Tensor(a, requires_grad=requires_grad)


def zeros(*shape: Any, size: Any = None, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given shape (float64 by default)."""
    return Tensor(np.zeros(_shape(shape, size), dtype=_float(dtype)), requires_grad=requires_grad)


def ones(*shape: Any, size: Any = None, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given shape (float64 by default)."""
    return Tensor(np.ones(_shape(shape, size), dtype=_float(dtype)), requires_grad=requires_grad)


def full(shape: Any, fill_value: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return Tensor(np.full(shape, fill_value, dtype=_float(dtype)), requires_grad=requires_grad)


def zeros_like(x: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape and dtype of ``x`` (no gradient unless asked)."""
    return Tensor(np.zeros_like(np.asarray(base_value(x)), dtype=dtype), requires_grad=requires_grad)


def ones_like(x: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape and dtype of ``x``."""
    return Tensor(np.ones_like(np.asarray(base_value(x)), dtype=dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` by ``m``)."""
    return Tensor(np.eye(n, m, dtype=_float(dtype)), requires_grad=requires_grad)


def linspace(start: float, stop: float, num: int = 50, dtype: DTypeLike | None = None,
             requires_grad: bool = False) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive."""
    return Tensor(np.linspace(start, stop, num, dtype=_float(dtype)), requires_grad=requires_grad)


_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator used by :func:`randn` and :func:`rand`."""
    global _rng
    _rng = np.random.default_rng(seed)


def randn(*shape: Any, size: Any = None, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of the given shape (``randn(1)``, ``randn(2, 3)``, ``randn(size=(1,))``)."""
    return Tensor(_rng.standard_normal(_shape(shape, size)).astype(_float(dtype)), requires_grad=requires_grad)


def rand(*shape: Any, size: Any = None, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) of the given shape."""
    return Tensor(_rng.random(_shape(shape, size)).astype(_float(dtype)), requires_grad=requires_grad)
