"""Continuous distributions of ``hodiff.scipy.stats`` whose distribution functions have closed forms: ``norm``,
``expon``, ``laplace``, ``logistic``, ``cauchy``, ``uniform``, ``lognorm``.

Each is a standardized density and distribution function in hodiff operations (see ``_base.py`` for the ``loc``/
``scale``/support conventions around them), so every method is differentiable to any order, forward and reverse,
in ``x``, ``loc``, ``scale`` and the shape parameter. Tails use the stable forms: ``log_ndtr``, ``log1p``/``expm1``,
``logaddexp``.
"""
from __future__ import annotations

import numpy as np

import hodiff as hd

from ._base import ContinuousDist

__all__ = ["cauchy", "expon", "laplace", "logistic", "lognorm", "norm", "uniform"]

_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
_LN2 = float(np.log(2.0))
_LOG_PI = float(np.log(np.pi))
sp = hd.special


class _Norm(ContinuousDist):
    r"""Normal distribution: ``norm.logpdf(x, loc=0, scale=1)``.

    .. math:: \log p(x) = -z^2/2 - \log\sqrt{2\pi} - \log\sigma, \quad z = (x - \mu)/\sigma.

    ``logcdf``/``logsf`` use ``log_ndtr`` (accurate far in the tails). All arguments broadcast.

    Examples
    --------
    >>> import hodiff as hd
    >>> from hodiff.scipy.stats import norm
    >>> float(hd.grad(lambda m: norm.logpdf(1.0, m, 2.0))(0.0))
    0.25
    """

    name = "norm"

    def _logpdf(self, z):
        return hd.subtract(hd.multiply(-0.5, hd.multiply(z, z)), _LOG_SQRT_2PI)

    def _cdf(self, z):
        return sp.ndtr(z)

    def _logcdf(self, z):
        return sp.log_ndtr(z)

    def _sf(self, z):
        return sp.ndtr(hd.negative(z))

    def _logsf(self, z):
        return sp.log_ndtr(hd.negative(z))


class _Expon(ContinuousDist):
    r"""Exponential distribution ``expon.logpdf(x, loc=0, scale=1)``: :math:`p(z) = e^{-z}` on :math:`z \ge 0`."""

    name = "expon"
    support = (0.0, np.inf)
    safe_z = 1.0

    def _logpdf(self, z):
        return hd.negative(z)

    def _cdf(self, z):
        return hd.negative(hd.expm1(hd.negative(z)))

    def _sf(self, z):
        return hd.exp(hd.negative(z))

    def _logsf(self, z):
        return hd.negative(z)


def _split(z):
    """``(min(z, 0), max(z, 0))`` as values that keep each branch of a two-sided formula finite."""
    zb = hd.stop_gradient(z)
    return hd.where(zb < 0, z, 0.0), hd.where(zb >= 0, z, 0.0)


class _Laplace(ContinuousDist):
    r"""Laplace distribution ``laplace.logpdf(x, loc=0, scale=1)``: :math:`p(z) = e^{-|z|}/2`.

    The derivative in ``x`` or ``loc`` at ``z = 0`` (the kink) is taken as 0 (the mean of the one-sided ones).
    """

    name = "laplace"

    def _logpdf(self, z):
        return hd.subtract(hd.negative(hd.abs(z)), _LN2)

    def _cdf(self, z):
        neg, pos = _split(z)
        zb = hd.stop_gradient(z)
        return hd.where(zb < 0, hd.multiply(0.5, hd.exp(neg)),
                        hd.subtract(1.0, hd.multiply(0.5, hd.exp(hd.negative(pos)))))

    def _logcdf(self, z):
        neg, pos = _split(z)
        zb = hd.stop_gradient(z)
        return hd.where(zb < 0, hd.subtract(neg, _LN2), hd.log1p(hd.multiply(-0.5, hd.exp(hd.negative(pos)))))

    def _sf(self, z):
        return self._cdf(hd.negative(z))

    def _logsf(self, z):
        return self._logcdf(hd.negative(z))


class _Logistic(ContinuousDist):
    r"""Logistic distribution ``logistic.logpdf(x, loc=0, scale=1)``:
    :math:`\log p(z) = -|z| - 2\log(1 + e^{-|z|})`, :math:`F(z) = 1/(1 + e^{-z})`."""

    name = "logistic"

    def _logpdf(self, z):
        a = hd.abs(z)
        return hd.subtract(hd.negative(a), hd.multiply(2.0, hd.log1p(hd.exp(hd.negative(a)))))

    def _cdf(self, z):
        return sp.expit(z)

    def _logcdf(self, z):
        return hd.negative(hd.logaddexp(0.0, hd.negative(z)))

    def _sf(self, z):
        return sp.expit(hd.negative(z))

    def _logsf(self, z):
        return hd.negative(hd.logaddexp(0.0, z))


class _Cauchy(ContinuousDist):
    r"""Cauchy distribution ``cauchy.logpdf(x, loc=0, scale=1)``: :math:`p(z) = 1/(\pi(1 + z^2))`.

    :math:`F(z) = \operatorname{atan2}(1, -z)/\pi`, which keeps its relative accuracy in the left tail (where
    ``1/2 + atan(z)/pi`` cancels).
    """

    name = "cauchy"

    def _logpdf(self, z):
        return hd.negative(hd.add(hd.log1p(hd.multiply(z, z)), _LOG_PI))

    def _cdf(self, z):
        return hd.divide(hd.arctan2(1.0, hd.negative(z)), np.pi)

    def _sf(self, z):
        return hd.divide(hd.arctan2(1.0, z), np.pi)


class _Uniform(ContinuousDist):
    r"""Uniform distribution on ``[loc, loc + scale]``: ``uniform.logpdf(x, loc=0, scale=1)``."""

    name = "uniform"
    support = (0.0, 1.0)
    safe_z = 0.5

    def _logpdf(self, z):
        return hd.multiply(z, 0.0)

    def _cdf(self, z):
        return z

    def _sf(self, z):
        return hd.subtract(1.0, z)

    def _logsf(self, z):
        return hd.log1p(hd.negative(z))


class _Lognorm(ContinuousDist):
    r"""Log-normal distribution ``lognorm.logpdf(x, s, loc=0, scale=1)``: :math:`\log z \sim N(0, s^2)`.

    .. math:: \log p(z) = -\frac{(\log z)^2}{2 s^2} - \log(s z \sqrt{2\pi}).
    """

    name = "lognorm"
    shapes = ("s",)
    support = (0.0, np.inf)
    open_support = True
    safe_z = 1.0
    safe_shapes = (1.0,)

    def _argcheck(self, s):
        return np.asarray(s > 0)

    def _logpdf(self, z, s):
        lz = hd.log(z)
        u = hd.divide(lz, s)
        return hd.negative(hd.add(hd.add(hd.multiply(0.5, hd.multiply(u, u)), hd.log(s)), hd.add(lz, _LOG_SQRT_2PI)))

    def _cdf(self, z, s):
        return sp.ndtr(hd.divide(hd.log(z), s))

    def _logcdf(self, z, s):
        return sp.log_ndtr(hd.divide(hd.log(z), s))

    def _sf(self, z, s):
        return sp.ndtr(hd.negative(hd.divide(hd.log(z), s)))

    def _logsf(self, z, s):
        return sp.log_ndtr(hd.negative(hd.divide(hd.log(z), s)))


norm = _Norm()
expon = _Expon()
laplace = _Laplace()
logistic = _Logistic()
cauchy = _Cauchy()
uniform = _Uniform()
lognorm = _Lognorm()
