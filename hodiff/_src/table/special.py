"""The primitive table, continued: elementwise mathematical and special functions.

Same conventions as ``prims.py`` (where the table and its helpers start): one entry per function with its
numpy/scipy implementation, JVP and VJP rules written in hodiff's own operations, a cost hint and a test domain.
Functions with an accurate composite (``exp2``, ``log10``, ``softmax``, ...) live in ``_src/numpy/namespace.py`` instead.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.special as sp

from ..core.engine import Primitive, bind, lower, lower_value
from .common import ew_cost
from .elementwise import (
    binary_primitive,
    unary_primitive,
    add,
    cos,
    divide,
    exp,
    log,
    multiply,
    negative,
    power,
    sqrt,
    subtract,
    where,
)

# Rules refer to ops declared further down; declared types let a type checker follow them.
cosh: Callable[..., Any]
expit: Callable[..., Any]

_LN2 = float(np.log(2.0))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))


def _d(local):
    """A unary rule ``seed * local(ans, x)``."""
    return lambda s, ans, x: multiply(s, local(ans, x))


def _unary_d(name, impl, local, cost=10, domain=(-2.0, 2.0)):
    return unary_primitive(name, impl, _d(local), cost=cost, domain=domain)


expm1 = _unary_d("expm1", np.expm1, lambda ans, x: add(ans, 1.0))
log1p = _unary_d("log1p", np.log1p, lambda ans, x: divide(1.0, add(x, 1.0)), domain=(-0.8, 3.0))
cbrt = _unary_d("cbrt", np.cbrt, lambda ans, x: divide(1.0, multiply(3.0, multiply(ans, ans))), domain=(0.2, 3.0))
arcsin = _unary_d("arcsin", np.arcsin, lambda ans, x: divide(1.0, sqrt(subtract(1.0, multiply(x, x)))),
                  domain=(-0.9, 0.9))
arccos = _unary_d("arccos", np.arccos, lambda ans, x: divide(-1.0, sqrt(subtract(1.0, multiply(x, x)))),
                  domain=(-0.9, 0.9))
arctan = _unary_d("arctan", np.arctan, lambda ans, x: divide(1.0, add(1.0, multiply(x, x))))
sinh = _unary_d("sinh", np.sinh, lambda ans, x: cosh(x))
cosh = _unary_d("cosh", np.cosh, lambda ans, x: sinh(x))
arcsinh = _unary_d("arcsinh", np.arcsinh, lambda ans, x: divide(1.0, sqrt(add(multiply(x, x), 1.0))))
arccosh = _unary_d("arccosh", np.arccosh, lambda ans, x: divide(1.0, sqrt(subtract(multiply(x, x), 1.0))),
                   domain=(1.2, 3.0))
arctanh = _unary_d("arctanh", np.arctanh, lambda ans, x: divide(1.0, subtract(1.0, multiply(x, x))),
                   domain=(-0.9, 0.9))
erf = _unary_d("erf", sp.erf, lambda ans, x: multiply(_TWO_OVER_SQRT_PI, exp(negative(multiply(x, x)))))
erfc = _unary_d("erfc", sp.erfc, lambda ans, x: multiply(-_TWO_OVER_SQRT_PI, exp(negative(multiply(x, x)))))
# expit' = expit(x) expit(-x): the same as ans (1 - ans), without the cancellation in 1 - ans where expit
# saturates, which the rule's own derivatives (second order and up) would inherit
expit = _unary_d("expit", sp.expit, lambda ans, x: multiply(ans, expit(negative(x))), domain=(-4.0, 4.0))
logit = _unary_d("logit", sp.logit, lambda ans, x: divide(1.0, multiply(x, subtract(1.0, x))), domain=(0.1, 0.9))
ndtr = _unary_d("ndtr", sp.ndtr, lambda ans, x: divide(exp(multiply(-0.5, multiply(x, x))), _SQRT_2PI))
# d log Phi(x) = phi(x) / Phi(x), formed in logs so it stays finite far in the left tail
log_ndtr = _unary_d("log_ndtr", sp.log_ndtr, lambda ans, x: exp(subtract(multiply(-0.5, multiply(x, x)),
                                                                          add(ans, float(np.log(_SQRT_2PI))))),
                    domain=(-6.0, 3.0))
gammaln = _unary_d("gammaln", sp.gammaln, lambda ans, x: digamma(x), domain=(0.3, 5.0))


def _polygamma_domain(rng):
    return (rng.uniform(0.3, 5.0, size=[(), (3,), (2, 3)][rng.integers(3)]),), {"n": int(rng.integers(0, 3))}


_POLYGAMMA_RULES = (lambda d, ans, x, n: multiply(d, polygamma(n + 1, x)),)   # JVP and VJP alike
_polygamma = Primitive("polygamma", lambda x, n: sp.polygamma(n, x), _POLYGAMMA_RULES, _POLYGAMMA_RULES,
                       elementwise=True, cost=ew_cost(40), domain=_polygamma_domain)


def polygamma(n, x):
    """The n-th derivative of the digamma function (``scipy.special.polygamma``); differentiable in ``x``."""
    return bind(_polygamma, x, n=int(lower_value(n)))


def digamma(x):
    """The digamma function psi(x) = d/dx log Gamma(x)."""
    return polygamma(0, x)


# Below this |pi x| sinc' comes from its power series, above from (cos(pi x) - sinc(x)) / x. The quotient cancels
# for small x (both terms near 1) and its derivatives divide by x again at every order, so nested derivatives lost
# digits: the third derivative at x = 0.003 kept ~10. The series' alternating terms sum (in absolute value) to at most
# ~e^3 times its value's scale, and its derivatives are those of a polynomial: no cancellation, no division.
_SINC_SWITCH = 3.0


def _sinc_series_d(x):
    """sinc'(x) = pi g'(pi x) with g'(t) = sum_{k>=1} (-1)^k 2k t^(2k-1) / (2k+1)!, for |pi x| < _SINC_SWITCH, by
    Horner's rule in t^2: a polynomial, so every nested derivative is that of the truncated series (the terms left
    out are below 1e-18 of the largest at |t| = _SINC_SWITCH, and stay small after the few differentiations that
    nesting applies)."""
    coeffs, k, fact, big = [], 1, 1.0, 0.0
    while True:
        fact *= (2 * k) * (2 * k + 1)
        c = (-1) ** k * 2 * k / fact
        coeffs.append(c)
        bound = abs(c) * _SINC_SWITCH ** (2 * k - 1)
        big = max(big, bound)
        if bound < 1e-18 * big:
            break
        k += 1
    t = multiply(x, np.pi)
    t2 = multiply(t, t)
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = add(multiply(acc, t2), c)
    return multiply(multiply(acc, t), np.pi)


def _near_zero(xb):
    return np.abs(np.pi * np.asarray(xb)) < _SINC_SWITCH


def _sinc_local(ans, x):
    # sinc'(x) = (cos(pi x) - sinc(x)) / x away from 0; near 0 its series (the formula cancels, and is 0/0 at 0)
    small = lower(_near_zero, x)       # recorded (not frozen) when hd.jit records: the branch taken is a guard
    if not bool(lower(np.any, small)):
        return divide(subtract(cos(multiply(np.pi, x)), ans), x)
    if bool(lower(np.all, small)):
        return _sinc_series_d(x)
    xs = where(small, 1.0, x)
    far = divide(subtract(cos(multiply(np.pi, xs)), sinc(xs)), xs)
    return where(small, _sinc_series_d(where(small, x, 0.0)), far)


sinc = _unary_d("sinc", np.sinc, _sinc_local)


def _binary_d(name, impl, local_x, local_y, cost=10, domain=(-2.0, 2.0)):
    rx = lambda s, ans, x, y: multiply(s, local_x(ans, x, y))
    ry = lambda s, ans, x, y: multiply(s, local_y(ans, x, y))
    return binary_primitive(name, impl, (rx, ry), cost=cost, domain=domain)


def _r2(x, y):
    return add(multiply(x, x), multiply(y, y))


arctan2 = _binary_d("arctan2", np.arctan2, lambda ans, y, x: divide(x, _r2(x, y)),
                    lambda ans, y, x: negative(divide(y, _r2(x, y))), domain=(0.3, 2.0))
hypot = _binary_d("hypot", np.hypot, lambda ans, x, y: divide(x, ans), lambda ans, x, y: divide(y, ans),
                  domain=(0.3, 2.0))
logaddexp = _binary_d("logaddexp", np.logaddexp, lambda ans, x, y: exp(subtract(x, ans)),
                      lambda ans, x, y: exp(subtract(y, ans)))
logaddexp2 = _binary_d("logaddexp2", np.logaddexp2, lambda ans, x, y: exp(multiply(_LN2, subtract(x, ans))),
                       lambda ans, x, y: exp(multiply(_LN2, subtract(y, ans))))
xlogy = _binary_d("xlogy", sp.xlogy, lambda ans, x, y: log(y), lambda ans, x, y: divide(x, y),
                  domain=(0.3, 2.0))
xlog1py = _binary_d("xlog1py", sp.xlog1py, lambda ans, x, y: log(add(1.0, y)),
                    lambda ans, x, y: divide(x, add(1.0, y)), domain=(0.3, 2.0))

__all__ = [
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "cbrt",
    "cosh",
    "digamma",
    "erf",
    "erfc",
    "expit",
    "expm1",
    "gammaln",
    "hypot",
    "log1p",
    "log_ndtr",
    "logaddexp",
    "logaddexp2",
    "logit",
    "ndtr",
    "polygamma",
    "sinc",
    "sinh",
    "xlog1py",
    "xlogy",
]
