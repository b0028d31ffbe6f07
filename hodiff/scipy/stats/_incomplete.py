"""The regularized incomplete gamma and beta functions as ``hodiff.scipy.stats`` uses them (interim).

Each is a primitive whose derivative in ``x`` is its integrand (a composite of hodiff operations, so differentiable
to any order); a derivative in a shape parameter raises. ``hodiff.scipy.special`` is to provide the same functions;
this module is the stand-in until it does.
"""
from __future__ import annotations

import numpy as np
import scipy.special as ssp

import hodiff as hd

from ._base import cdf_primitive

__all__ = ["betainc", "gammainc", "gammaincc"]

sp = hd.special


def _gamma_density(x, a):
    return hd.exp(hd.subtract(hd.subtract(sp.xlogy(hd.subtract(a, 1.0), x), x), sp.gammaln(a)))


def _beta_density(x, a, b):
    lb = hd.subtract(hd.add(sp.gammaln(a), sp.gammaln(b)), sp.gammaln(hd.add(a, b)))
    return hd.exp(hd.subtract(hd.add(sp.xlogy(hd.subtract(a, 1.0), x), sp.xlog1py(hd.subtract(b, 1.0), hd.negative(x))),
                              lb))


def _gamma_domain(rng):
    return (rng.uniform(0.2, 4.0, size=(3,)), rng.integers(1, 6, size=(3,))), {}


def _beta_domain(rng):
    return (rng.uniform(0.1, 0.9, size=(3,)), rng.integers(1, 5, size=(3,)), rng.integers(1, 5, size=(3,))), {}


_P = cdf_primitive("stats_gammainc", lambda x, a: ssp.gammainc(a, x), _gamma_density, ("a",), _gamma_domain)
_Q = cdf_primitive("stats_gammaincc", lambda x, a: ssp.gammaincc(a, x),
                   lambda x, a: hd.negative(_gamma_density(x, a)), ("a",), _gamma_domain)
_I = cdf_primitive("stats_betainc", lambda x, a, b: ssp.betainc(a, b, x), _beta_density, ("a", "b"), _beta_domain)


def gammainc(a, x):
    """Regularized lower incomplete gamma function P(a, x) (``scipy.special.gammainc``)."""
    return _P(x, a)


def gammaincc(a, x):
    """Regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _Q(x, a)


def betainc(a, b, x):
    """Regularized incomplete beta function I_x(a, b)."""
    return _I(x, a, b)
