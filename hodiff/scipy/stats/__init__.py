"""``hodiff.scipy.stats``: scipy's probability distributions, differentiable to any order in data and parameters.

Called exactly as ``scipy.stats``: ``norm.logpdf(x, loc=0, scale=1)``, ``t.cdf(x, df, loc, scale)``,
``poisson.logpmf(k, mu)``, ``multivariate_normal.logpdf(x, mean, cov)``, ``dirichlet.logpdf(x, alpha)``, with
positional or keyword parameters, numpy broadcasting, and the frozen form ``norm(loc, scale).logpdf(x)``. Values are
scipy's (``-inf``/``0`` outside the support, ``nan`` for invalid parameters). Every method is a composite of
hodiff's primitive table; the few places where a derivative cannot be had (distribution functions in a shape
parameter, integer arguments) raise :class:`hodiff.HodiffError` instead of returning a wrong number.

What differentiates (any order; forward, reverse and Taylor mode):

* ``norm expon laplace logistic cauchy uniform lognorm``, every method: ``x``, ``loc``, ``scale``, ``s``;
* ``t gamma chi2 beta``: ``logpdf``/``pdf`` in ``x``, ``loc``, ``scale``, ``df``/``a``/``b``; ``cdf``/``logcdf``/
  ``sf``/``logsf`` in ``x``, ``loc``, ``scale`` (a traced shape parameter raises);
* ``poisson geom bernoulli``, every method: ``mu``/``p``; ``binom``: ``p``; ``nbinom``: ``n`` and ``p`` in
  ``logpmf``/``pmf``, ``p`` in the distribution functions;
* ``multivariate_normal.logpdf``/``pdf``: ``x``, ``mean``, ``cov`` (its lower triangle, the part scipy reads);
  ``cdf``/``logcdf`` are scipy's values on plain inputs (a traced input raises);
* ``dirichlet.logpdf``/``pdf``: ``x``, ``alpha``.

``k`` and ``loc`` of the discrete distributions are integers: a traced one raises. Where the value is ``nan``
(invalid parameters, nan input) the derivative is ``nan`` too; outside the support it is 0.

Example
-------
>>> import numpy as np, hodiff as hd
>>> from hodiff.scipy.stats import norm
>>> data = np.array([0.5, 1.5, 1.0])
>>> nll = lambda p: -hd.sum(norm.logpdf(data, p[0], hd.exp(p[1])))
>>> hd.grad(nll)(np.array([0.0, 0.0])).tolist()     # d/dmu = -sum(x - mu), d/dlog(sigma) = n - sum((x - mu)^2)
[-3.0, -0.5]
"""
from ._continuous import cauchy, expon, laplace, logistic, lognorm, norm, uniform
from ._discrete import bernoulli, binom, geom, nbinom, poisson
from ._multivariate import dirichlet, multivariate_normal
from ._shaped import beta, chi2, gamma, t

__all__ = [
    "bernoulli",
    "beta",
    "binom",
    "cauchy",
    "chi2",
    "dirichlet",
    "expon",
    "gamma",
    "geom",
    "laplace",
    "logistic",
    "lognorm",
    "multivariate_normal",
    "nbinom",
    "norm",
    "poisson",
    "t",
    "uniform",
]
