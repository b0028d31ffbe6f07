"""The Python-level functions of ``hodiff.scipy.special``: composites of primitives, with scipy's signatures.

``scipy.special.logsumexp``, ``softmax``, ``log_softmax``, ``multigammaln`` and ``softplus`` are Python functions in
scipy (they call ``np.asarray`` on their input, so numpy's protocols never hand them to hodiff); here they are written
with hodiff's operations, so they differentiate to any order in every mode. Values agree with scipy's to rounding
(the algorithms are not step-for-step scipy's). ``gammasgn`` is piecewise constant and returns plain values.
Re-exported by ``special.py``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp
from numpy.typing import ArrayLike

import hodiff as hd

from .._src.core.engine import lower
from ._special_table import _plain

__all__ = ["gammasgn", "log_softmax", "logsumexp", "multigammaln", "softmax", "softplus"]



def _shape(x):
    return tuple(getattr(x, "shape", np.shape(x)))


def _scalar(out):
    """numpy's convention, which scipy follows: a 0-d plain result is a numpy scalar."""
    if isinstance(out, np.ndarray) and out.ndim == 0:
        return out[()]
    return out


def logsumexp(a: ArrayLike, axis: int | tuple[int, ...] | None = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: bool = False) -> Any:
    r"""``log(sum(b * exp(a)))`` along ``axis``, computed stably; same signature as ``scipy.special.logsumexp``.

    .. math:: \operatorname{lse}(a) = m + \log \sum_i b_i e^{a_i - m}, \qquad m = \max_i a_i

    The shift ``m`` is a constant of the computation (the result does not depend on it), so the derivative is the
    (weighted) softmax: ``d lse / d a_i = b_i e^{a_i - lse}``, ``d lse / d b_i = e^{a_i - lse}``. Entries with
    ``b == 0`` contribute nothing, even where ``a`` is infinite (scipy's convention).

    Parameters
    ----------
    a : array_like
        Input.
    axis : int or tuple of ints, optional
        Axes to reduce; all of them by default.
    b : array_like, optional
        Weights, broadcast against ``a``; may be negative (then see ``return_sign``). Differentiable.
    keepdims : bool
        Keep the reduced axes with length 1.
    return_sign : bool
        Return ``(log|s|, sign(s))`` for the sum ``s`` (the sign is a plain array, not differentiated). Without it a
        negative sum gives ``nan``, as in scipy.

    Returns
    -------
    ndarray or hodiff value, or a tuple of them
        ``a``'s shape (broadcast with ``b``) without the reduced axes (kept as 1 with ``keepdims``).

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy import special
    >>> float(special.logsumexp(np.log([1.0, 3.0])))   # log 4
    1.3862943611198906
    >>> hd.grad(special.logsumexp)(np.log([1.0, 3.0]))
    array([0.25, 0.75])
    """
    # the shift m and the signs are piecewise constant: computed through lower, so that hd.jit records them
    shape = tuple(_shape(a))
    if b is not None:
        shape = tuple(np.broadcast_shapes(shape, _shape(b)))
        if tuple(_shape(a)) != shape:
            a = hd.broadcast_to(a, shape)
        zero = lower(_zero_weight, b, shape)
        if bool(lower(np.any, zero)):
            a = hd.where(zero, -np.inf, a)
    nd = len(shape)
    if nd == 0:
        a, shape = hd.atleast_1d(a), (1,)
    if int(np.prod(shape)) == 0:
        red = np.full(np.sum(np.zeros(shape), axis=axis, keepdims=True).shape, -np.inf)
        out, sgn = red, np.sign(red)
    else:
        m = lower(_finite_max, a, axis)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            e = hd.exp(hd.subtract(a, m))
            if b is not None:
                e = hd.multiply(b, e)
            s = hd.sum(e, axis=axis, keepdims=True)
            sgn = lower(np.sign, s)
            if return_sign:
                s = hd.multiply(s, lower(_one_at_zero, sgn))
            out = hd.add(hd.log(s), m)
    if not keepdims:
        red_axes = tuple(range(max(nd, 1))) if axis is None else axis
        out = hd.squeeze(out, axis=red_axes)
        sgn = lower(np.squeeze, sgn, axis=red_axes)
    out = _scalar(out)
    return (out, _scalar(np.asarray(sgn))) if return_sign else out


def _zero_weight(b, shape):
    return np.broadcast_to(np.asarray(b) == 0, shape)


def _finite_max(a, axis):
    m = np.amax(np.asarray(a, dtype=float), axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def _one_at_zero(sgn):
    return np.where(sgn == 0, 1.0, sgn)


def log_softmax(x: ArrayLike, axis: int | tuple[int, ...] | None = None) -> Any:
    r"""``x - logsumexp(x, axis, keepdims=True)``; same as ``scipy.special.log_softmax``.

    Parameters
    ----------
    x : array_like
        Input.
    axis : int or tuple of ints, optional
        Axes over which the softmax is normalized; all of them by default.

    Returns
    -------
    ndarray or hodiff value
        ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy import special
    >>> np.exp(special.log_softmax(np.log([1.0, 3.0])))
    array([0.25, 0.75])
    """
    return hd.subtract(x, logsumexp(x, axis=axis, keepdims=True))


def softmax(x: ArrayLike, axis: int | tuple[int, ...] | None = None) -> Any:
    r"""``exp(x) / sum(exp(x))`` along ``axis``, computed stably; same as ``scipy.special.softmax``.

    Parameters
    ----------
    x : array_like
        Input.
    axis : int or tuple of ints, optional
        Axes over which the result sums to 1; all of them by default.

    Returns
    -------
    ndarray or hodiff value
        ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy import special
    >>> special.softmax(np.log([1.0, 3.0]))
    array([0.25, 0.75])
    """
    return hd.exp(log_softmax(x, axis=axis))


def softplus(x: ArrayLike, **kwargs: Any) -> Any:
    r"""``log(1 + exp(x))``, as ``np.logaddexp(0, x)``; same as ``scipy.special.softplus``.

    Parameters
    ----------
    x : array_like
        Input. Derivative: ``expit(x)``.
    **kwargs
        scipy passes them to ``np.logaddexp``; hodiff accepts none (a traced value cannot be written to ``out``).

    Returns
    -------
    ndarray or hodiff value
        ``x``'s shape.

    Examples
    --------
    >>> import hodiff as hd
    >>> from hodiff.scipy import special
    >>> float(hd.grad(special.softplus)(0.0))
    0.5
    """
    if kwargs:
        raise TypeError(f"hodiff.scipy.special.softplus does not take the keyword arguments {sorted(kwargs)}")
    return hd.logaddexp(0.0, x)


def multigammaln(a: ArrayLike, d: int) -> Any:
    r"""The log of the multivariate gamma function; same as ``scipy.special.multigammaln``.

    .. math:: \log \Gamma_d(a) = \frac{d (d-1)}{4} \log \pi + \sum_{j=1}^{d} \log \Gamma\left(a - \frac{j-1}{2}\right)

    Parameters
    ----------
    a : array_like
        Input, with ``a > (d - 1) / 2`` (else ``ValueError``, as scipy). Differentiable.
    d : int
        The dimension (not differentiated).

    Returns
    -------
    ndarray or hodiff value
        ``a``'s shape.

    Examples
    --------
    >>> from hodiff.scipy import special
    >>> round(float(special.multigammaln(3.0, 2)), 10)   # log(pi^(1/2) Gamma(3) Gamma(2.5))
    1.550194994
    """
    dim: Any = np.asarray(_plain(d))[()]   # a plain number from here on
    scalar = bool(np.isscalar(dim))   # (not in the condition: mypy would narrow dim to numpy's scalar union)
    if not scalar or np.floor(dim) != dim or dim < 1:
        raise ValueError("d should be a positive integer (dimension)")
    ap = _plain(a)
    if np.any(ap <= 0.5 * (dim - 1)):
        raise ValueError(f"condition a ({ap}) > 0.5 * (d-1) ({0.5 * (dim - 1)}) not met")
    total = None
    for j in range(1, int(dim) + 1):
        t = hd.gammaln(hd.subtract(a, (j - 1.0) / 2))
        total = t if total is None else hd.add(total, t)
    return hd.add((dim * (dim - 1) * 0.25) * np.log(np.pi), total)


def gammasgn(x: ArrayLike) -> np.ndarray:
    r"""The sign of the gamma function (piecewise constant): plain values, not differentiated.

    Same as ``scipy.special.gammasgn`` on the plain values under ``x``.

    Parameters
    ----------
    x : array_like
        Input (a hodiff value is read through to its plain value).

    Returns
    -------
    ndarray
        ``x``'s shape; +1, -1, or nan at the poles.

    Examples
    --------
    >>> from hodiff.scipy import special
    >>> float(special.gammasgn(-0.5))
    -1.0
    """
    return sp.gammasgn(_plain(x))
