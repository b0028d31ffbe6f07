"""Multivariate distributions of ``hodiff.scipy.stats``: ``multivariate_normal`` and ``dirichlet``.

Densities are composites of hodiff operations (Cholesky factor, triangular solve, ``gammaln``, ``xlogy``), so they
are differentiable to any order, forward and reverse, in ``x``, ``mean``, ``cov`` and ``alpha``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats as sst

import hodiff as hd

from ._base import asarg, traced

__all__ = ["dirichlet", "multivariate_normal"]

_base = hd.stop_gradient
# np.reshape below is numpy's function on plain values and hodiff's (through numpy's dispatch) on traced ones
_LOG_2PI = float(np.log(2.0 * np.pi))
sp = hd.special


def _squeeze(out):
    """scipy's output convention: single-element axes dropped, a 0-d plain result as a numpy scalar."""
    shape = tuple(n for n in np.shape(_base(out)) if n != 1)
    if shape != np.shape(_base(out)):
        out = np.reshape(out, shape)
    if type(out) is np.ndarray and out.ndim == 0:
        return out[()]
    return out


class _MultivariateNormal:
    r"""Multivariate normal distribution ``multivariate_normal.logpdf(x, mean=None, cov=1)``.

    .. math:: \log p(x) = -\tfrac12\left(d\log 2\pi + \log\det\Sigma + (x-\mu)^T\Sigma^{-1}(x-\mu)\right),

    through the Cholesky factor :math:`\Sigma = LL^T`. ``x`` has shape ``(..., d)`` (a 1-d ``x`` is one point, or
    ``n`` points when ``d = 1``); ``mean`` has shape ``(d,)``; ``cov`` is a scalar, a diagonal ``(d,)`` or a matrix
    ``(d, d)`` of which, like scipy, only the lower triangle is read. The result is squeezed like scipy's.
    ``allow_singular=True`` is not supported (a singular ``cov`` raises).

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.stats import multivariate_normal
    >>> round(float(multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2))), 6)
    -1.837877
    """

    name = "multivariate_normal"

    def _params(self, mean, cov):
        mean = None if mean is None else asarg(mean)
        cov = asarg(cov)
        nd = np.ndim(_base(cov))
        dim = int(np.size(_base(mean))) if mean is not None else (1 if nd == 0 else np.shape(_base(cov))[0])
        if mean is None:
            mean = np.zeros(dim)
        elif np.ndim(_base(mean)) == 0:
            mean = np.reshape(mean, (1,))
        if nd == 0:
            cov = hd.multiply(cov, np.eye(dim))
        elif nd == 1:
            cov = hd.diag(cov)
        if np.shape(_base(cov)) != (dim, dim) or np.ndim(_base(mean)) != 1:
            raise ValueError(f"multivariate_normal: mean of shape {np.shape(_base(mean))} and cov of shape "
                             f"{np.shape(_base(cov))} do not describe one {dim}-dimensional distribution")
        return mean, cov, dim

    @staticmethod
    def _points(x, dim):
        x = asarg(x)
        nd = np.ndim(_base(x))
        if nd == 0:
            return np.reshape(x, (1,))
        if nd == 1 and dim == 1:
            return np.reshape(x, (-1, 1))
        return x

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """Log density at the points ``x`` (shape ``(..., d)``), squeezed like scipy's; see the class docstring."""
        if allow_singular:
            raise NotImplementedError("multivariate_normal.logpdf: allow_singular=True is not supported by hodiff")
        mean, cov, dim = self._params(mean, cov)
        x = self._points(x, dim)
        dev = hd.subtract(x, mean)
        lead = np.shape(_base(dev))[:-1]
        chol = hd.linalg.cholesky(cov)
        y = hd.linalg.solve_triangular(chol, hd.swapaxes(np.reshape(dev, (-1, dim)), 0, 1), lower=True)
        maha = np.reshape(hd.sum(hd.multiply(y, y), axis=0), lead)
        logdet = hd.multiply(2.0, hd.sum(hd.log(hd.diagonal(chol))))
        out = hd.multiply(-0.5, hd.add(maha, hd.add(logdet, dim * _LOG_2PI)))
        return _squeeze(out)

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """Density at the points ``x``: ``exp(logpdf)``."""
        return hd.exp(self.logpdf(x, mean, cov, allow_singular))

    def cdf(self, x: Any, mean: Any = None, cov: Any = 1, **kwds: Any) -> Any:
        """scipy's value on plain arrays (a randomized numerical integral); no derivative: traced inputs raise."""
        return sst.multivariate_normal.cdf(_plain("cdf", x), _plain("cdf", mean), _plain("cdf", cov), **kwds)

    def logcdf(self, x: Any, mean: Any = None, cov: Any = 1, **kwds: Any) -> Any:
        """scipy's value on plain arrays (a randomized numerical integral); no derivative: traced inputs raise."""
        return sst.multivariate_normal.logcdf(_plain("logcdf", x), _plain("logcdf", mean), _plain("logcdf", cov),
                                              **kwds)

    def __call__(self, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> _FrozenMVN:
        """The frozen distribution: ``multivariate_normal(mean, cov).logpdf(x)``."""
        return _FrozenMVN(self, mean, cov, allow_singular)

    def __repr__(self):
        return "<hodiff.scipy.stats.multivariate_normal>"


def _plain(method, v):
    if traced(v):
        raise hd.HodiffError(f"multivariate_normal.{method} has no derivative in hodiff (scipy computes it by "
                             "randomized numerical integration); pass plain arrays, or use hd.stop_gradient")
    return v


class _FrozenMVN:
    def __init__(self, dist, mean, cov, allow_singular):
        self.dist, self.mean, self.cov, self.allow_singular = dist, mean, cov, allow_singular

    def logpdf(self, x):
        return self.dist.logpdf(x, self.mean, self.cov, self.allow_singular)

    def pdf(self, x):
        return self.dist.pdf(x, self.mean, self.cov, self.allow_singular)

    def cdf(self, x, **kwds):
        return self.dist.cdf(x, self.mean, self.cov, **kwds)

    def logcdf(self, x, **kwds):
        return self.dist.logcdf(x, self.mean, self.cov, **kwds)


class _Dirichlet:
    r"""Dirichlet distribution ``dirichlet.logpdf(x, alpha)``:
    :math:`\log p(x) = \log\Gamma(\sum\alpha_i) - \sum\log\Gamma(\alpha_i) + \sum(\alpha_i - 1)\log x_i`.

    ``alpha`` has shape ``(K,)``; ``x`` has shape ``(K,)`` or ``(K, N)`` (``N`` points along the last axis), or
    ``K - 1`` rows, the last one being ``1 - sum``. As in scipy, a point off the simplex raises ``ValueError``.

    Examples
    --------
    >>> from hodiff.scipy.stats import dirichlet
    >>> round(float(dirichlet.logpdf([0.2, 0.3, 0.5], [1.0, 2.0, 3.0])), 6)
    1.504077
    """

    name = "dirichlet"

    @staticmethod
    def _check(x, alpha):
        xb, ab = np.asarray(_base(x)), np.asarray(_base(alpha))
        if ab.ndim != 1 or np.any(ab <= 0):
            raise ValueError("dirichlet: alpha must be a vector of positive numbers")
        if xb.shape[0] not in (ab.shape[0], ab.shape[0] - 1):
            raise ValueError(f"dirichlet: x must have {ab.shape[0]} or {ab.shape[0] - 1} rows, got shape {xb.shape}")
        if xb.shape[0] != ab.shape[0]:
            last = hd.subtract(1.0, hd.sum(x, axis=0, keepdims=True))
            x = hd.concatenate([x, last], axis=0)
            xb = np.asarray(_base(x))
        if xb.ndim > 2:
            raise ValueError("dirichlet: x must be one or two dimensional")
        if xb.min() < 0 or xb.max() > 1:
            raise ValueError("dirichlet: each entry of x must be in [0, 1]")
        a_col = ab.reshape((-1,) + (1,) * (xb.ndim - 1))
        if np.any((xb == 0) & (a_col < 1)):
            raise ValueError("dirichlet: an entry of x is 0 where its alpha is below 1")
        if np.any(np.abs(xb.sum(0) - 1.0) > 1e-9):
            raise ValueError("dirichlet: x must lie on the simplex (sum to 1 along the first axis)")
        return x

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """Log density at ``x`` (see the class docstring for shapes), squeezed like scipy's."""
        x, alpha = asarg(x), asarg(alpha)
        x = self._check(x, alpha)
        nd = np.ndim(_base(x))
        a_col = alpha if nd == 1 else np.reshape(alpha, (-1, 1))
        lnb = hd.subtract(hd.sum(sp.gammaln(alpha)), sp.gammaln(hd.sum(alpha)))
        out = hd.subtract(hd.sum(sp.xlogy(hd.subtract(a_col, 1.0), x), axis=0), lnb)
        return _squeeze(out)

    def pdf(self, x: Any, alpha: Any) -> Any:
        """Density at ``x``: ``exp(logpdf)``."""
        return hd.exp(self.logpdf(x, alpha))

    def __call__(self, alpha: Any) -> _FrozenDirichlet:
        """The frozen distribution: ``dirichlet(alpha).logpdf(x)``."""
        return _FrozenDirichlet(self, alpha)

    def __repr__(self):
        return "<hodiff.scipy.stats.dirichlet>"


class _FrozenDirichlet:
    def __init__(self, dist, alpha):
        self.dist, self.alpha = dist, alpha

    def logpdf(self, x):
        return self.dist.logpdf(x, self.alpha)

    def pdf(self, x):
        return self.dist.pdf(x, self.alpha)


multivariate_normal = _MultivariateNormal()
dirichlet = _Dirichlet()
