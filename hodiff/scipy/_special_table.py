"""Primitive-table entries for ``hodiff.scipy.special``: gamma, error-function, entropy and incomplete functions.

Same conventions as the engine's table (``hodiff/_prims_math.py``): one :class:`hodiff.Primitive` per scipy ufunc,
``impl`` is the scipy ufunc itself (so values are scipy's, bit for bit), JVP/VJP rules are written in hodiff's own
operations (so they differentiate again, to any order), and every entry declares a ``domain`` for the generated
tests. Arguments that are not differentiated are keyword parameters of the primitive, as ``n`` of ``polygamma``
is: the orders (``n`` of ``yn``, ``v`` of ``jv``), and the arguments whose derivative hodiff does not provide (the
shape parameters of the incomplete gamma and beta functions, the exponent of the Hurwitz zeta function). Every
positional argument of an entry is differentiable, which is what the generated tests of the whole table assume. The
public functions (``special.py``) refuse a traced value for a parameter with :class:`UnsupportedDerivativeError`,
naming the function and the argument: never a silent zero.

Each entry also gets a Taylor-mode rule (``hd.derivative``) built from its JVP rules by the derivative-ODE method
(:func:`taylor_rule`). The Bessel functions are in ``_bessel_table.py``; the public functions in ``special.py``.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

import hodiff as hd

__all__ = ["UnsupportedDerivativeError", "elementwise", "taylor_rule"]

_SHAPES_1 = [(), (3,), (2, 3)]
_SHAPES_2 = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ())]


class UnsupportedDerivativeError(hd.HodiffError, NotImplementedError):
    """A derivative hodiff does not provide (it raises instead of returning a wrong or zero value)."""


class Unsupported:
    """"No derivative with respect to this argument": calling it raises :class:`UnsupportedDerivativeError`."""

    def __init__(self, fn: str, arg: str, why: str):
        self.fn, self.arg, self.why = fn, arg, why

    def __call__(self, *args, **params):
        raise UnsupportedDerivativeError(
            f"hodiff.scipy.special.{self.fn}: the derivative with respect to the argument {self.arg!r} is not "
            f"supported ({self.why}). Differentiate with respect to the other arguments only, and pass {self.arg} "
            "as a plain array or wrap it with hodiff.stop_gradient.")


def _ew_cost(flops_per_elem):
    def cost(ans, *args, **params):
        n = int(np.size(ans))
        return flops_per_elem * n, 8 * (n + sum(int(np.size(a)) for a in args))
    return cost


def _lift(local):
    """A rule ``seed * local(ans, *args, **params)`` (an elementwise function's derivative is a local factor)."""
    if local is None:
        return None
    return lambda s, ans, *args, **params: hd.multiply(s, local(ans, *args, **params))


def elementwise(name: str, impl: Callable[..., Any], locals_: tuple, domain: Any, cost: Any = 40) -> hd.Primitive:
    """Declare an elementwise primitive whose rules are ``seed * local``, one ``local`` per positional argument,
    and register its Taylor rule."""
    rules = tuple(_lift(r) for r in locals_)
    prim = hd.Primitive(name, impl, rules, rules, elementwise=True, cost=_ew_cost(cost), domain=domain)
    _TAYLOR_RULES[name] = taylor_rule(prim)
    return prim


# ------------------------------------------------------------------------------------------------------------------
# Taylor mode from the JVP rules


def _zeros(x):
    return np.zeros(getattr(x, "shape", np.shape(x)))


def _coeffs(out, trace, n):
    if isinstance(out, hd.Jet) and out._trace is trace:
        return list(out.coeffs)
    return [out] + [None] * (n - 1)


def taylor_rule(prim):
    """A Taylor-mode rule for ``prim`` from its JVP rules: ``y' = sum_i jvp_i(x_i', y, x)`` along the curve.

    The series of ``y'`` to order ``K - 1`` is the JVP rule evaluated on jets of order ``K - 1`` (``y`` itself to
    that order comes from the same rule, recursively), and ``y_k = (y')_{k-1} / k``. The rules are linear in the
    seed, so pushing the series of ``x'`` through them is exact. Cost grows like ``K^2`` rule evaluations; the
    coefficients are hodiff values of lower levels, so the result differentiates again.
    """
    def rule(ans, xs, primals, params, K):
        live = [i for i, s in enumerate(xs) if any(c is not None for c in s[1:])]
        if not live:
            return [None] * K
        if K == 1:
            out = None
            for i in live:
                if xs[i][1] is not None:
                    c = prim.jvp[i](xs[i][1], ans, *primals, **params)
                    out = c if out is None else hd.add(out, c)
            return [out]
        first = hd.Jet(xs[live[0]][:K])
        trace = first._trace
        X = list(primals)
        for i in live:
            X[i] = first if i == live[0] else hd.Jet(xs[i][:K], trace)
        Y = hd.bind(prim, *X, **params)
        G = None
        for i in live:
            d = [None if xs[i][k + 1] is None else hd.multiply(xs[i][k + 1], float(k + 1)) for k in range(K)]
            if d[0] is None:
                d[0] = _zeros(primals[i])
            c = prim.jvp[i](hd.Jet(d, trace), Y, *X, **params)
            G = c if G is None else hd.add(G, c)
        g = _coeffs(G, trace, K)
        return [None if g[k] is None else hd.multiply(g[k], 1.0 / (k + 1)) for k in range(K)]
    return rule


# hodiff has no public hook for Taylor rules yet: the table lives in the module that defines Jet (see the report).
_TAYLOR_RULES = sys.modules[hd.Jet.__module__].TAYLOR_RULES


# ------------------------------------------------------------------------------------------------------------------
# domains


def unary_domain(lo, hi, signed=False):
    def draw(rng):
        x = rng.uniform(lo, hi, size=_SHAPES_1[rng.integers(len(_SHAPES_1))])
        if signed:
            x = x * rng.choice([-1.0, 1.0], size=np.shape(x))
        return (x,), {}
    return draw


def param_domain(x_bounds, **param_bounds):
    """x uniform in ``x_bounds``; keyword parameters uniform in theirs, of a shape that broadcasts with x's."""
    def draw(rng):
        sp_, sx = _SHAPES_2[rng.integers(len(_SHAPES_2))]
        return (rng.uniform(*x_bounds, size=sx),), {k: rng.uniform(lo, hi, size=sp_)
                                                     for k, (lo, hi) in param_bounds.items()}
    return draw


def nary_domain(*bounds):
    """Independent uniform draws, the shapes of the first two arguments from the broadcasting pairs."""
    def draw(rng):
        s0, s1 = _SHAPES_2[rng.integers(len(_SHAPES_2))]
        shapes = [s0, s1] + [s1] * (len(bounds) - 2)
        return tuple(rng.uniform(lo, hi, size=s) for (lo, hi), s in zip(bounds, shapes)), {}
    return draw


# ------------------------------------------------------------------------------------------------------------------
# gamma family

_SQRT_PI_2 = float(np.sqrt(np.pi) / 2.0)
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))

gamma = elementwise("gamma", sp.gamma, (lambda ans, x: hd.multiply(ans, hd.digamma(x)),), unary_domain(0.3, 4.0))
rgamma = elementwise("rgamma", sp.rgamma, (lambda ans, x: hd.negative(hd.multiply(ans, hd.digamma(x))),),
                     unary_domain(0.3, 4.0))


def _dbeta(ans, a, b):
    return hd.multiply(ans, hd.subtract(hd.digamma(a), hd.digamma(hd.add(a, b))))


beta = elementwise("beta", sp.beta, (_dbeta, lambda ans, a, b: _dbeta(ans, b, a)), nary_domain((0.5, 4.0), (0.5, 4.0)))


def _dbetaln(ans, a, b):
    return hd.subtract(hd.digamma(a), hd.digamma(hd.add(a, b)))


betaln = elementwise("betaln", sp.betaln, (_dbetaln, lambda ans, a, b: _dbetaln(ans, b, a)),
                     nary_domain((0.5, 4.0), (0.5, 4.0)))



def _dpoch_z(ans, z, m):
    return hd.multiply(ans, hd.subtract(hd.digamma(hd.add(z, m)), hd.digamma(z)))


# poch(z, m) = Gamma(z + m) / Gamma(z); binom(n, k) = Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1))
poch = elementwise("poch", sp.poch, (_dpoch_z, lambda ans, z, m: hd.multiply(ans, hd.digamma(hd.add(z, m)))),
                   nary_domain((0.5, 4.0), (0.3, 2.5)))
binom = elementwise("binom", sp.binom,
                    (lambda ans, n, k: hd.multiply(ans, hd.subtract(hd.digamma(hd.add(n, 1.0)),
                                                                    hd.digamma(hd.add(hd.subtract(n, k), 1.0)))),
                     lambda ans, n, k: hd.multiply(ans, hd.subtract(hd.digamma(hd.add(hd.subtract(n, k), 1.0)),
                                                                    hd.digamma(hd.add(k, 1.0))))),
                    nary_domain((2.0, 6.0), (0.3, 1.8)))


def _gamma_density(a, x):
    """``x^(a-1) e^(-x) / Gamma(a)``, the x-derivative of the regularized lower incomplete gamma function."""
    return hd.exp(hd.subtract(hd.subtract(hd.xlogy(hd.subtract(a, 1.0), x), x), hd.gammaln(a)))


# the shape parameters a (and b) are keyword parameters: not differentiated (see the module docstring)
gammainc = elementwise("gammainc", lambda x, a: sp.gammainc(a, x), (lambda ans, x, a: _gamma_density(a, x),),
                       param_domain((0.2, 5.0), a=(0.5, 4.0)))
gammaincc = elementwise("gammaincc", lambda x, a: sp.gammaincc(a, x),
                        (lambda ans, x, a: hd.negative(_gamma_density(a, x)),), param_domain((0.2, 5.0), a=(0.5, 4.0)))


def _beta_density(a, b, x):
    """``x^(a-1) (1-x)^(b-1) / B(a, b)``, the x-derivative of the regularized incomplete beta function."""
    logd = hd.add(hd.xlogy(hd.subtract(a, 1.0), x), hd.xlog1py(hd.subtract(b, 1.0), hd.negative(x)))
    return hd.exp(hd.subtract(logd, hd.bind(betaln, a, b)))


betainc = elementwise("betainc", lambda x, a, b: sp.betainc(a, b, x), (lambda ans, x, a, b: _beta_density(a, b, x),),
                      param_domain((0.05, 0.95), a=(0.5, 4.0), b=(0.5, 4.0)))

# ------------------------------------------------------------------------------------------------------------------
# error function family and logistic


erfinv = elementwise("erfinv", sp.erfinv, (lambda ans, x: hd.multiply(_SQRT_PI_2, hd.exp(hd.multiply(ans, ans))),),
                     unary_domain(-0.9, 0.9))
erfcinv = elementwise("erfcinv", sp.erfcinv,
                      (lambda ans, x: hd.multiply(-_SQRT_PI_2, hd.exp(hd.multiply(ans, ans))),),
                      unary_domain(0.1, 1.9))
# erfcx(x) = exp(x^2) erfc(x): erfcx' = 2 x erfcx - 2 / sqrt(pi)
erfcx = elementwise("erfcx", sp.erfcx,
                    (lambda ans, x: hd.subtract(hd.multiply(2.0, hd.multiply(x, ans)), _TWO_OVER_SQRT_PI),),
                    unary_domain(-2.0, 3.0))
# ndtri is the inverse of Phi: ndtri' = 1 / phi(ndtri) = sqrt(2 pi) exp(ndtri^2 / 2)
ndtri = elementwise("ndtri", sp.ndtri,
                    (lambda ans, x: hd.multiply(_SQRT_2PI, hd.exp(hd.multiply(0.5, hd.multiply(ans, ans)))),),
                    unary_domain(0.05, 0.95))
exp10 = elementwise("exp10", sp.exp10, (lambda ans, x: hd.multiply(ans, float(np.log(10.0))),),
                    unary_domain(-2.0, 2.0))
# log_expit' = expit(-x), written exp(log_expit(-x)) so that every further derivative is a product of such
# factors, accurate in both tails (expit's own rule, ans (1 - ans), cancels where expit is near 1)
# ndtri_exp(y) = ndtri(e^y): d/dy = e^y sqrt(2 pi) exp(ndtri_exp(y)^2 / 2), formed in logs
ndtri_exp = elementwise("ndtri_exp", sp.ndtri_exp,
                        (lambda ans, y: hd.exp(hd.add(hd.add(y, hd.multiply(0.5, hd.multiply(ans, ans))),
                                                      float(np.log(_SQRT_2PI)))),),
                        unary_domain(-6.0, -0.1))
log_expit: hd.Primitive = elementwise("log_expit", sp.log_expit,
                        (lambda ans, x: hd.exp(hd.bind(log_expit, hd.negative(x))),),
                        unary_domain(-5.0, 5.0))

# ------------------------------------------------------------------------------------------------------------------
# entropies

entr = elementwise("entr", sp.entr, (lambda ans, x: hd.negative(hd.add(hd.log(x), 1.0)),), unary_domain(0.2, 3.0))
rel_entr = elementwise("rel_entr", sp.rel_entr,
                       (lambda ans, x, y: hd.add(hd.subtract(hd.log(x), hd.log(y)), 1.0),
                        lambda ans, x, y: hd.negative(hd.divide(x, y))),
                       nary_domain((0.2, 3.0), (0.2, 3.0)))
kl_div = elementwise("kl_div", sp.kl_div,
                     (lambda ans, x, y: hd.subtract(hd.log(x), hd.log(y)),
                      lambda ans, x, y: hd.subtract(1.0, hd.divide(x, y))),
                     nary_domain((0.2, 3.0), (0.2, 3.0)))

# ------------------------------------------------------------------------------------------------------------------
# Hurwitz zeta

# the exponent x is a keyword parameter: not differentiated
zeta: hd.Primitive = elementwise("zeta", lambda q, x: sp.zeta(x, q),
                   (lambda ans, q, x: hd.negative(hd.multiply(x, hd.bind(zeta, q, x=x + 1.0))),),
                   param_domain((0.5, 3.0), x=(1.5, 4.0)))

# ------------------------------------------------------------------------------------------------------------------
# Box-Cox

# |lmbda log x| below which d/dlmbda uses its power series (the closed form cancels there: 0/0 at lmbda = 0)
_BOXCOX_SMALL = 0.25
_BOXCOX_TERMS = 16


def _boxcox_dl_series(lx, lm):
    """sum_{k>=2} (k-1) lmbda^(k-2) L^k / k!, L = log x (boxcox = sum_{k>=1} lmbda^(k-1) L^k / k!): a polynomial
    in lmbda, so its own derivatives are right at lmbda = 0 too."""
    out, fact, lpow = None, 1.0, None
    for k in range(2, _BOXCOX_TERMS + 2):
        fact *= k
        lpow = hd.multiply(lx, lx) if lpow is None else hd.multiply(lpow, hd.multiply(lm, lx))
        term = hd.multiply((k - 1) / fact, lpow)
        out = term if out is None else hd.add(out, term)
    return out


def _boxcox_dl(ans, x, lm):
    # d/dlmbda (x^l - 1)/l = (x^l log x - boxcox(x, l)) / l away from l log x = 0
    lx = hd.log(x)
    small = np.abs(hd.stop_gradient(lx) * hd.stop_gradient(lm)) < _BOXCOX_SMALL   # recorded under hd.jit
    if not np.any(small):
        return hd.divide(hd.subtract(hd.multiply(hd.exp(hd.multiply(lm, lx)), lx), ans), lm)
    ls = hd.where(small, 1.0, lm)
    far = hd.divide(hd.subtract(hd.multiply(hd.exp(hd.multiply(ls, lx)), lx), hd.bind(boxcox, x, ls)), ls)
    return hd.where(small, _boxcox_dl_series(lx, lm), far)


def _plain(v):
    """The plain value under any hodiff boxes (for piecewise-constant selectors only)."""
    while isinstance(v, (hd.Dual, hd.Tensor, hd.Jet)):
        v = v._base()
    return np.asarray(v)


boxcox = elementwise("boxcox", sp.boxcox,
                     (lambda ans, x, lm: hd.exp(hd.multiply(hd.subtract(lm, 1.0), hd.log(x))), _boxcox_dl),
                     nary_domain((0.3, 3.0), (-1.5, 1.5)))

# ------------------------------------------------------------------------------------------------------------------
# inverses of the incomplete functions in their last argument: d x / d y = 1 / (density at x)


def _inv_gamma_density(a, x):
    return hd.exp(hd.subtract(hd.add(hd.gammaln(a), x), hd.xlogy(hd.subtract(a, 1.0), x)))


gammaincinv = elementwise("gammaincinv", lambda y, a: sp.gammaincinv(a, y),
                          (lambda ans, y, a: _inv_gamma_density(a, ans),), param_domain((0.05, 0.95), a=(0.5, 4.0)))
gammainccinv = elementwise("gammainccinv", lambda y, a: sp.gammainccinv(a, y),
                           (lambda ans, y, a: hd.negative(_inv_gamma_density(a, ans)),),
                           param_domain((0.05, 0.95), a=(0.5, 4.0)))
betaincinv = elementwise("betaincinv", lambda y, a, b: sp.betaincinv(a, b, y),
                         (lambda ans, y, a, b: hd.divide(1.0, _beta_density(a, b, ans)),),
                         param_domain((0.05, 0.95), a=(0.7, 4.0), b=(0.7, 4.0)))

# ------------------------------------------------------------------------------------------------------------------
# exponential integrals: E1' = -e^-x / x, Ei' = e^x / x, E_n' = -E_{n-1} (E_0 = e^-x / x)

exp1 = elementwise("exp1", sp.exp1, (lambda ans, x: hd.negative(hd.divide(hd.exp(hd.negative(x)), x)),),
                   unary_domain(0.2, 4.0))
expi = elementwise("expi", sp.expi, (lambda ans, x: hd.divide(hd.exp(x), x),), unary_domain(0.2, 3.0, signed=True))


def _dexpn(ans, x, n):
    n = np.asarray(n)
    lower = hd.bind(expn, x, n=np.maximum(n - 1, 1))
    if np.all(n >= 2):
        return hd.negative(lower)
    e0 = hd.divide(hd.exp(hd.negative(x)), x)                         # E_0
    d0 = hd.negative(hd.multiply(e0, hd.add(1.0, hd.divide(1.0, x))))  # E_0' for n = 0
    return hd.where(n == 0, d0, hd.negative(hd.where(n == 1, e0, lower)))


def _expn_domain(rng):
    (x,), _ = unary_domain(0.3, 4.0)(rng)
    return (x,), {"n": int(rng.integers(0, 4))}


expn = elementwise("expn", lambda x, n: sp.expn(n, x), (_dexpn,), _expn_domain)
