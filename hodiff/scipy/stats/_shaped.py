"""Continuous distributions of ``hodiff.scipy.stats`` whose distribution functions are regularized incomplete
gamma/beta functions: ``t``, ``gamma``, ``chi2``, ``beta``.

Densities (``logpdf``/``pdf``) are composites of hodiff operations: differentiable to any order in ``x``, ``loc``,
``scale`` and the shape parameters (``df``, ``a``, ``b``). The distribution functions are primitives whose
derivative in ``x`` is the density (itself a composite), so they are differentiable to any order in ``x``, ``loc``
and ``scale``; a derivative with respect to a shape parameter raises :class:`hodiff.HodiffError`.
"""
from __future__ import annotations

import numpy as np
import scipy.special as ssp

import hodiff as hd

from ._base import ContinuousDist, cdf_primitive
from ._continuous import norm
from ..special import betainc, betaln, gammainc, gammaincc

__all__ = ["beta", "chi2", "gamma", "t"]

sp = hd.special
_LOG_PI = float(np.log(np.pi))
_LN2 = float(np.log(2.0))


def _t_logpdf(z, df):
    half = hd.multiply(0.5, df)
    half1 = hd.add(half, 0.5)
    norm_const = hd.subtract(hd.subtract(sp.gammaln(half1), sp.gammaln(half)),
                             hd.multiply(0.5, hd.add(hd.log(df), _LOG_PI)))
    return hd.subtract(norm_const, hd.multiply(half1, hd.log1p(hd.divide(hd.multiply(z, z), df))))


def _t_domain(rng):
    return (rng.uniform(-3.0, 3.0, size=(3,)), rng.integers(1, 8, size=(3,))), {}


_t_cdf = cdf_primitive("stats_t_cdf", lambda z, df: ssp.stdtr(df, z), lambda z, df: hd.exp(_t_logpdf(z, df)),
                       ("df",), _t_domain, "t.cdf/sf/logcdf/logsf")


class _T(ContinuousDist):
    r"""Student's t distribution ``t.logpdf(x, df, loc=0, scale=1)``.

    .. math:: \log p(z) = \log\Gamma(\tfrac{\nu+1}{2}) - \log\Gamma(\tfrac{\nu}{2}) - \tfrac12\log(\nu\pi)
              - \tfrac{\nu+1}{2}\log(1 + z^2/\nu).

    ``cdf``/``sf`` (and their logs) are differentiable in ``x``, ``loc``, ``scale`` (d cdf/dx = pdf), not in
    ``df`` (raises). ``df = inf`` gives the normal distribution, as in scipy.
    """

    name = "t"
    shapes = ("df",)
    safe_shapes = (1.0,)

    def _argcheck(self, df):
        return np.asarray(df > 0)

    def _logpdf(self, z, df):
        return _normal_limit(df, lambda d: _t_logpdf(z, d), lambda: norm._logpdf(z))

    def _cdf(self, z, df):
        return _normal_limit(df, lambda d: _t_cdf(z, d), lambda: sp.ndtr(z))

    def _sf(self, z, df):
        return self._cdf(hd.negative(z), df)


def _normal_limit(df, finite, normal):
    """``finite(df)``, and ``normal()`` where ``df`` is infinite (scipy's t is the normal there); the t branch sees
    ``df = 1`` at those points so that nothing infinite reaches its derivative."""
    inf = np.isinf(np.asarray(hd.stop_gradient(df)))
    if not inf.any():
        return finite(df)
    return hd.where(inf, normal(), finite(hd.where(inf, 1.0, df)))


class _Gamma(ContinuousDist):
    r"""Gamma distribution ``gamma.logpdf(x, a, loc=0, scale=1)``:
    :math:`\log p(z) = (a - 1)\log z - z - \log\Gamma(a)` on :math:`z \ge 0`.

    ``cdf = gammainc(a, z)``, ``sf = gammaincc(a, z)``: differentiable in ``x``, ``loc``, ``scale``, not in ``a``.
    """

    name = "gamma"
    shapes = ("a",)
    support = (0.0, np.inf)
    safe_z = 1.0
    tail_constants = ("a",)
    safe_shapes = (1.0,)

    def _argcheck(self, a):
        return np.asarray(a > 0)

    def _logpdf(self, z, a):
        return hd.subtract(hd.subtract(sp.xlogy(hd.subtract(a, 1.0), z), z), sp.gammaln(a))

    def _cdf(self, z, a):
        return gammainc(a, z)

    def _sf(self, z, a):
        return gammaincc(a, z)


class _Chi2(ContinuousDist):
    r"""Chi-squared distribution ``chi2.logpdf(x, df, loc=0, scale=1)``: gamma with ``a = df/2``, scale 2.

    ``cdf``/``sf`` are differentiable in ``x``, ``loc``, ``scale``, not in ``df``.
    """

    name = "chi2"
    shapes = ("df",)
    support = (0.0, np.inf)
    safe_z = 1.0
    tail_constants = ("df",)
    safe_shapes = (1.0,)

    def _argcheck(self, df):
        return np.asarray(df > 0)

    def _logpdf(self, z, df):
        h = hd.multiply(0.5, df)
        return hd.subtract(hd.subtract(sp.xlogy(hd.subtract(h, 1.0), z), hd.multiply(0.5, z)),
                           hd.add(sp.gammaln(h), hd.multiply(h, _LN2)))

    def _cdf(self, z, df):
        return gammainc(hd.multiply(0.5, df), hd.multiply(0.5, z))

    def _sf(self, z, df):
        return gammaincc(hd.multiply(0.5, df), hd.multiply(0.5, z))


class _Beta(ContinuousDist):
    r"""Beta distribution ``beta.logpdf(x, a, b, loc=0, scale=1)`` on :math:`0 \le z \le 1`:
    :math:`\log p(z) = (a-1)\log z + (b-1)\log(1-z) - \log B(a, b)`.

    ``cdf = betainc(a, b, z)``, ``sf = betainc(b, a, 1 - z)``: differentiable in ``x``, ``loc``, ``scale``, not in
    ``a``, ``b``.
    """

    name = "beta"
    shapes = ("a", "b")
    support = (0.0, 1.0)
    safe_z = 0.5
    tail_constants = ("a", "b")
    safe_shapes = (1.0, 1.0)

    def _argcheck(self, a, b):
        return np.asarray((a > 0) & (b > 0))

    def _logpdf(self, z, a, b):
        return hd.subtract(hd.add(sp.xlogy(hd.subtract(a, 1.0), z), sp.xlog1py(hd.subtract(b, 1.0), hd.negative(z))),
                           betaln(a, b))

    def _cdf(self, z, a, b):
        return betainc(a, b, z)

    def _sf(self, z, a, b):
        return betainc(b, a, hd.subtract(1.0, z))


t = _T()
gamma = _Gamma()
chi2 = _Chi2()
beta = _Beta()
