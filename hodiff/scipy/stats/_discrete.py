"""Discrete distributions of ``hodiff.scipy.stats``: ``poisson``, ``binom``, ``nbinom``, ``geom``, ``bernoulli``.

Called as scipy's (``poisson.logpmf(k, mu, loc=0)``, ...). The probabilities are composites of hodiff operations,
differentiable to any order in the real parameters (``mu``, ``p``, nbinom's ``n``). The distribution functions are
incomplete gamma/beta functions whose derivative in the parameter that enters as their ``x`` (``mu``, ``p``) is a
density, so they are differentiable to any order in ``mu``/``p``; in nbinom's ``n`` they raise. ``k``, ``loc`` and
binom's ``n`` are integers: a derivative with respect to them raises (see ``_base.count``).
"""
from __future__ import annotations

import numpy as np

import hodiff as hd

from ._base import DiscreteDist
from ..special import betainc, gammainc, gammaincc

__all__ = ["bernoulli", "binom", "geom", "nbinom", "poisson"]

sp = hd.special


def _integral(n):
    return np.floor(n) == n


class _Poisson(DiscreteDist):
    r"""Poisson distribution ``poisson.logpmf(k, mu, loc=0)``: :math:`\log p(k) = k\log\mu - \mu - \log k!`.

    Examples
    --------
    >>> import hodiff as hd
    >>> from hodiff.scipy.stats import poisson
    >>> float(hd.grad(lambda mu: poisson.logpmf(3, mu))(2.0))   # k/mu - 1
    0.5
    """

    name = "poisson"
    shapes = ("mu",)
    safe_shapes = (1.0,)

    def _argcheck(self, mu):
        return np.asarray(mu >= 0)

    def _logpmf(self, k, mu):
        return hd.subtract(hd.subtract(sp.xlogy(k, mu), mu), sp.gammaln(hd.add(k, 1.0)))

    def _cdf(self, k, mu):
        return gammaincc(hd.add(k, 1.0), mu)

    def _sf(self, k, mu):
        return gammainc(hd.add(k, 1.0), mu)


class _Binom(DiscreteDist):
    r"""Binomial distribution ``binom.logpmf(k, n, p, loc=0)``:
    :math:`\log p(k) = \log\binom{n}{k} + k\log p + (n-k)\log(1-p)`. ``n`` is an integer (no derivative)."""

    name = "binom"
    shapes = ("n", "p")
    counts = ("n",)
    safe_shapes = (1.0, 0.5)

    def _argcheck(self, n, p):
        return np.asarray((n >= 0) & _integral(n) & (p >= 0) & (p <= 1))

    def _support(self, n, p):
        return 0, n

    def _logpmf(self, k, n, p):
        lc = hd.subtract(sp.gammaln(hd.add(n, 1.0)),
                         hd.add(sp.gammaln(hd.add(k, 1.0)), sp.gammaln(hd.add(hd.subtract(n, k), 1.0))))
        return hd.add(lc, hd.add(sp.xlogy(k, p), sp.xlog1py(hd.subtract(n, k), hd.negative(p))))

    def _cdf(self, k, n, p):
        return betainc(hd.subtract(n, k), hd.add(k, 1.0), hd.subtract(1.0, p))

    def _sf(self, k, n, p):
        return betainc(hd.add(k, 1.0), hd.subtract(n, k), p)


class _NBinom(DiscreteDist):
    r"""Negative binomial distribution ``nbinom.logpmf(k, n, p, loc=0)`` (failures before the ``n``-th success):
    :math:`\log p(k) = \log\Gamma(n+k) - \log\Gamma(n) - \log k! + n\log p + k\log(1-p)`, real ``n > 0``.

    ``cdf``/``sf`` are differentiable in ``p``, not in ``n`` (raises)."""

    name = "nbinom"
    shapes = ("n", "p")
    tail_constants = ("n",)
    safe_shapes = (1.0, 0.5)

    def _argcheck(self, n, p):
        return np.asarray((n > 0) & (p > 0) & (p <= 1))

    def _logpmf(self, k, n, p):
        lc = hd.subtract(sp.gammaln(hd.add(n, k)), hd.add(sp.gammaln(n), sp.gammaln(hd.add(k, 1.0))))
        return hd.add(lc, hd.add(sp.xlogy(n, p), sp.xlog1py(k, hd.negative(p))))

    def _cdf(self, k, n, p):
        return betainc(n, hd.add(k, 1.0), p)

    def _sf(self, k, n, p):
        return betainc(hd.add(k, 1.0), n, hd.subtract(1.0, p))


class _Geom(DiscreteDist):
    r"""Geometric distribution ``geom.logpmf(k, p, loc=0)`` on ``k = 1, 2, ...``:
    :math:`\log p(k) = (k-1)\log(1-p) + \log p`, :math:`S(k) = (1-p)^k` (formed as ``exp(k log1p(-p))``)."""

    name = "geom"
    shapes = ("p",)
    safe_shapes = (0.5,)

    def _argcheck(self, p):
        return np.asarray((p > 0) & (p <= 1))

    def _support(self, p):
        return 1, np.inf

    def _logpmf(self, k, p):
        return hd.add(sp.xlog1py(hd.subtract(k, 1.0), hd.negative(p)), hd.log(p))

    def _logsf(self, k, p):
        return sp.xlog1py(k, hd.negative(p))

    def _sf(self, k, p):
        return hd.exp(self._logsf(k, p))

    def _cdf(self, k, p):
        return hd.negative(hd.expm1(self._logsf(k, p)))


class _Bernoulli(DiscreteDist):
    r"""Bernoulli distribution ``bernoulli.logpmf(k, p, loc=0)``: :math:`P(1) = p`, :math:`P(0) = 1 - p`."""

    name = "bernoulli"
    shapes = ("p",)
    safe_shapes = (0.5,)

    def _argcheck(self, p):
        return np.asarray((p >= 0) & (p <= 1))

    def _support(self, p):
        return 0, 1

    def _logpmf(self, k, p):
        return hd.add(sp.xlogy(k, p), sp.xlog1py(hd.subtract(1.0, k), hd.negative(p)))

    def _cdf(self, k, p):
        return hd.subtract(1.0, hd.add(p, hd.multiply(k, 0.0)))

    def _logcdf(self, k, p):
        return hd.log1p(hd.negative(hd.add(p, hd.multiply(k, 0.0))))

    def _sf(self, k, p):
        return hd.add(p, hd.multiply(k, 0.0))


poisson = _Poisson()
binom = _Binom()
nbinom = _NBinom()
geom = _Geom()
bernoulli = _Bernoulli()
