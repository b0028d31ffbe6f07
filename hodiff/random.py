"""Random draws as hodiff tensors, with ``numpy.random``'s calling conventions (``hd.random``).

Code written for MXNet's numpy interface draws its inputs with ``np.random.normal()`` and calls ``attach_grad()`` on
the result; with ``np`` read as ``hd`` the same lines run on hodiff, because these functions return
:class:`~hodiff.Tensor` values. Draws come from one module-level ``numpy.random.Generator``: after ``seed(s)`` they
are reproducible and equal to those of ``numpy.random.default_rng(s)`` called the same way (``normal(loc, scale,
size)`` is ``loc + scale * standard_normal(size)``, ``uniform(low, high, size)`` is ``low + (high - low) *
random(size)``). numpy's legacy global ``np.random.seed`` stream is a different generator and gives other numbers.

When ``loc``/``scale`` (or ``low``/``high``) are hodiff values being differentiated, the draw is the
reparameterized sample ``loc + scale * z`` with ``z`` drawn independently of them, so it is differentiable in the
parameters (the "reparameterization trick" of variational inference).
"""
from __future__ import annotations

from typing import Any

import numpy as np

import hodiff as hd

__all__ = ["normal", "seed", "uniform"]

_rng = np.random.default_rng()


def seed(seed: int | None = None) -> None:
    """Reseed the generator behind :func:`normal` and :func:`uniform`.

    Parameters
    ----------
    seed : int or None
        As for ``numpy.random.default_rng``; ``None`` draws fresh entropy from the operating system.

    Examples
    --------
    >>> import hodiff as hd
    >>> hd.random.seed(0); a = hd.random.normal(size=3)
    >>> hd.random.seed(0); b = hd.random.normal(size=3)
    >>> bool((a == b).all())
    True
    """
    global _rng
    _rng = np.random.default_rng(seed)


def _traced(*xs) -> bool:
    return any(isinstance(x, (hd.Tensor, hd.Dual)) for x in xs)


def _shape(size, *params) -> tuple:
    if size is None:
        return np.broadcast_shapes(*(np.shape(p) for p in params))
    return (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)


def normal(loc: Any = 0.0, scale: Any = 1.0, size: int | tuple[int, ...] | None = None) -> hd.Tensor:
    r"""Samples of the normal distribution :math:`\mathcal N(\mathrm{loc}, \mathrm{scale}^2)`, as a tensor.

    Parameters
    ----------
    loc, scale : float or array_like or hodiff value
        Mean and standard deviation (broadcast together).
    size : int or tuple of int, optional
        Output shape; by default the broadcast shape of ``loc`` and ``scale`` (``()`` for scalars: a 0-d tensor).

    Returns
    -------
    Tensor
        float64, not requiring a gradient (call ``attach_grad()`` or ``requires_grad_()`` on it); a differentiable
        hodiff value when ``loc`` or ``scale`` is one.

    Examples
    --------
    >>> import hodiff as hd
    >>> hd.random.seed(1)
    >>> hd.random.normal(size=(2, 3)).shape
    (2, 3)
    """
    unit = _rng.standard_normal(_shape(size, loc, scale))
    if _traced(loc, scale):
        return loc + scale * unit
    return hd.tensor(np.asarray(loc, dtype=float) + np.asarray(scale, dtype=float) * unit)


def uniform(low: Any = 0.0, high: Any = 1.0, size: int | tuple[int, ...] | None = None) -> hd.Tensor:
    r"""Samples of the uniform distribution on :math:`[\mathrm{low}, \mathrm{high})`, as a tensor.

    Parameters
    ----------
    low, high : float or array_like or hodiff value
        The interval's ends (broadcast together).
    size : int or tuple of int, optional
        Output shape; by default the broadcast shape of ``low`` and ``high``.

    Returns
    -------
    Tensor
        float64, not requiring a gradient; a differentiable hodiff value when ``low`` or ``high`` is one.

    Examples
    --------
    >>> import hodiff as hd
    >>> hd.random.seed(2)
    >>> x = hd.random.uniform(-1.0, 1.0, size=4)
    >>> bool((x >= -1).all()) and bool((x < 1).all())
    True
    """
    unit = _rng.random(_shape(size, low, high))
    if _traced(low, high):
        return low + (high - low) * unit
    return hd.tensor(np.asarray(low, dtype=float) + (np.asarray(high, dtype=float) - np.asarray(low, dtype=float))
                     * unit)
