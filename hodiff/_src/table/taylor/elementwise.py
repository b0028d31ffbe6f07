"""Taylor-mode rules of the elementwise primitives: arithmetic, elementary and special functions, and the
piecewise ones (abs, maximum, minimum, amax, amin).

The series arithmetic and the registry are in ``series.py``.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ... import table as P
from ...core.engine import base_value, dtype_of, lower
from .. import special as PM
from .series import (
    TAYLOR_RULES,
    c_add,
    c_scale,
    c_sub,
    const,
    is_const,
    register,
    s_add,
    s_deriv,
    s_div,
    s_exp,
    s_integrate,
    s_log,
    s_mul,
    s_neg,
    s_ode,
    s_pow_const,
    s_pow_int,
    s_recip,
    s_scale,
    s_self_ode,
    s_shift,
    s_sincos,
    s_sqrt,
    s_square,
    s_sub,
    sq_coeff,
    sum_terms,
    unary_series,
)


@register("divide")
def _t_divide(ans, xs, primals, params, K):
    a, b = xs
    if is_const(b):
        return [None if c is None else P.divide(c, b[0]) for c in a[1:]]
    return s_div(a, b, y0=ans)[1:]


unary_series("exp", lambda x, ans, p: s_exp(x, y0=ans))
unary_series("expm1", lambda x, ans, p: s_exp(x, y0=ans, e0=P.add(ans, 1.0)))
unary_series("log", lambda x, ans, p: s_log(x, y0=ans))
unary_series("log1p", lambda x, ans, p: [ans] + s_log(s_shift(x, 1.0), y0=ans)[1:])
unary_series("sin", lambda x, ans, p: s_sincos(x, s0=ans)[0])
unary_series("cos", lambda x, ans, p: s_sincos(x, c0=ans)[1])
unary_series("sinh", lambda x, ans, p: s_sincos(x, s0=ans, hyperbolic=True)[0])
unary_series("cosh", lambda x, ans, p: s_sincos(x, c0=ans, hyperbolic=True)[1])
unary_series("sqrt", lambda x, ans, p: s_sqrt(x, y0=ans))
unary_series("cbrt", lambda x, ans, p: s_pow_const(x, 1.0 / 3.0, y0=ans))
# y' = g(y) x': tan' = 1 + tan^2, tanh' = 1 - tanh^2, expit' = expit expit(-x)
unary_series("tan", lambda x, ans, p: s_self_ode(ans, x, lambda y, m: c_add(1.0 if m == 0 else None,
                                                                              sq_coeff(y, m))))
unary_series("tanh", lambda x, ans, p: s_self_ode(ans, x, lambda y, m: c_sub(1.0 if m == 0 else None,
                                                                               sq_coeff(y, m))))


def _expit_series(x, ans):
    # y' = y (1 - y) x' with 1 - y = expit(-x): its constant term from expit(-x_0) and y_0 - y_0^2 never formed,
    # so the coefficients keep their relative accuracy where expit saturates (|x| of 30 and more)
    d0 = P.subtract(PM.expit(P.negative(x[0])), ans)            # (1 - y_0) - y_0 = -tanh(x_0 / 2)

    def g(y, m):
        if m == 0:
            return P.multiply(ans, PM.expit(P.negative(x[0])))
        mid = sum_terms(P.multiply(y[j], y[m - j]) for j in range(1, m) if y[j] is not None and y[m - j] is not None)
        return c_sub(None if y[m] is None else P.multiply(y[m], d0), mid)
    return s_self_ode(ans, x, g)


unary_series("expit", lambda x, ans, p: _expit_series(x, ans))


def _ode_unary(name, dseries):
    """A rule by the derivative-ODE method: ``dseries(x)`` is the series of ``f'(x)`` (x one order shorter)."""
    unary_series(name, lambda x, ans, p: s_ode(ans, dseries(x[:-1]), x))


_ode_unary("arctan", lambda x: s_recip(s_shift(s_square(x), 1.0)))
_ode_unary("arcsin", lambda x: s_pow_const(s_shift(s_neg(s_square(x)), 1.0), -0.5))
_ode_unary("arccos", lambda x: s_neg(s_pow_const(s_shift(s_neg(s_square(x)), 1.0), -0.5)))
_ode_unary("arcsinh", lambda x: s_pow_const(s_shift(s_square(x), 1.0), -0.5))
_ode_unary("arccosh", lambda x: s_pow_const(s_shift(s_square(x), -1.0), -0.5))
_ode_unary("arctanh", lambda x: s_recip(s_shift(s_neg(s_square(x)), 1.0)))
_ode_unary("logit", lambda x: s_recip(s_mul(x, s_shift(s_neg(x), 1.0))))
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))
_ode_unary("erf", lambda x: s_scale(s_exp(s_neg(s_square(x))), _TWO_OVER_SQRT_PI))
_ode_unary("erfc", lambda x: s_scale(s_exp(s_neg(s_square(x))), -_TWO_OVER_SQRT_PI))
_ode_unary("ndtr", lambda x: s_scale(s_exp(s_scale(s_square(x), -0.5)), _INV_SQRT_2PI))


def _ndtr_series(x):
    return s_ode(PM.ndtr(x[0]), s_scale(s_exp(s_scale(s_square(x[:-1]), -0.5)), _INV_SQRT_2PI), x)


# log Phi(x) = log of the series of Phi, its constant term replaced by the accurate log_ndtr
unary_series("log_ndtr", lambda x, ans, p: s_log(_ndtr_series(x), y0=ans))


def _polygamma_series(n, x, y0=None):
    """``polygamma(n, x)``: ``y' = polygamma(n + 1, x) x'`` (recursively, ``O(K^3)`` overall)."""
    y0 = PM.polygamma(n, x[0]) if y0 is None else y0
    if len(x) == 1:
        return [y0]
    return s_ode(y0, _polygamma_series(n + 1, x[:-1]), x)


unary_series("polygamma", lambda x, ans, p: _polygamma_series(p["n"], x, y0=ans))
unary_series("gammaln", lambda x, ans, p: s_ode(ans, _polygamma_series(0, x[:-1]), x))


# Below this |pi x_0| the Taylor coefficients of sinc come from its power series about 0, re-expanded at x_0; above,
# from the quotient sin(pi x) / (pi x). The quotient's recurrence y_k = (s_k - pi x_1 y_(k-1)) / (pi x_0) divides by
# pi x_0 at every order, so a rounding error of the sine's coefficients grows like (k+1)! / |pi x_0|^(k+1) relative
# to the coefficient: at x_0 = 0.003 the third derivative kept only ~10 digits. The re-expanded power series has no
# division; its terms alternate, and the sum of their absolute values (the same series for sinh t / t) exceeds the
# coefficient scale by at most ~e^T. At T = 3 both branches stay within ~10 ulps of the coefficient scale to order 6
# (measured against 40-digit references); orders 10 and 12 lose 3 and 4 digits just above the switch.
_SINC_SWITCH = 3.0


def _sinc_power_coeff(t0, m):
    """``pi^m g^(m)(t0) / m!`` (the ``m``-th Taylor coefficient of sinc in ``x - x0``, ``t0 = pi x0``) for ``g(t) =
    sin(t) / t`` and ``|t0| <= _SINC_SWITCH``, from ``g = sum_n (-1)^n t^(2n) / (2n+1)!``: ``pi^m sum_{2n >= m}
    (-1)^n C(2n, m) t0^(2n-m) / (2n+1)!``, by Horner's rule in ``t0^2`` (odd ``m`` carry one more factor ``t0``).
    The constants are formed exactly (fractions) and rounded once: ``1 / (2n+1)!`` alone underflows near m = 170."""
    pim = Fraction(math.pi) ** m
    coeffs, n, big = [], (m + 1) // 2, -math.inf
    while True:
        c = Fraction((-1) ** n * math.comb(2 * n, m), math.factorial(2 * n + 1)) * pim
        coeffs.append(float(c))
        # log of the term's size at |t0| = T; stop once it is far below the largest
        bound = math.log(abs(c.numerator)) - math.log(c.denominator) + (2 * n - m) * math.log(_SINC_SWITCH)
        big = max(big, bound)
        if bound < big - 41.5:                             # e^-41.5 ~ 1e-18
            break
        n += 1
    t2 = P.multiply(t0, t0)
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):                        # at least two terms: the first never stops the loop
        acc = P.add(P.multiply(acc, t2), c)
    return P.multiply(acc, t0) if m % 2 else acc


def _sinc_near(xb):
    return np.abs(np.pi * np.asarray(xb)) < _SINC_SWITCH


def _sinc_series(x, ans):
    # sinc(x) = g(pi x) with g(t) = sin(t) / t. Near 0 (|pi x_0| < _SINC_SWITCH) the coefficients are
    # sum_m pi^m g^(m)(t_0) / m! (x - x_0)^m, the series of g re-expanded at t_0; far from 0 the quotient.
    near = lower(_sinc_near, x[0])     # recorded when hd.jit records; the branches taken are guards
    n = len(x)
    if not bool(lower(np.any, near)):
        px = s_scale(x, np.pi)
        return s_div(s_sincos(px)[0], px, y0=ans)
    far = None
    if not bool(lower(np.all, near)):
        xs = [P.where(near, 1.0, x[0])] + list(x[1:])
        px = s_scale(xs, np.pi)
        far = s_div(s_sincos(px)[0], px)
    t0 = P.multiply(P.where(near, x[0], 0.0), np.pi)
    u = [None] + list(x[1:])                        # x - x_0: zero constant term
    power = u
    series = const(None, n)
    for m in range(1, n):
        if m > 1:
            power = s_mul(power, u)
        series = s_add(series, [None if c is None else P.multiply(c, _sinc_power_coeff(t0, m)) for c in power])
    out = [ans]
    for k in range(1, n):
        a = series[k]
        b = None if far is None else far[k]
        if far is None:
            out.append(a)
        else:
            out.append(None if a is None and b is None else
                       P.where(near, 0.0 if a is None else a, 0.0 if b is None else b))
    return out


unary_series("sinc", lambda x, ans, p: _sinc_series(x, ans))


@register("power")
def _t_power(ans, xs, primals, params, K):
    x, y = xs
    a = primals[1]
    if is_const(y):
        if isinstance(a, (int, float, np.integer, np.floating)) and not isinstance(a, bool):
            af = float(a)
            if af.is_integer() and 0 <= af <= 64:
                return s_pow_int(x, int(af))[1:]
            return s_pow_const(x, af, y0=ans)[1:]
        ab = np.asarray(base_value(a)) if np.dtype(dtype_of(a)).kind in "iub" else np.zeros(0)
        if ab.size and np.all(ab == np.round(ab)) and np.all(ab >= 0) and ab.max() <= 64 \
                and ab.dtype.kind in "iub":
            # integer exponent array: exact also at x_0 = 0 (select per element from x**m series, m distinct)
            out = None
            for m in np.unique(ab):
                sel = ab == m
                s = s_pow_int(x, int(m))
                out = s if out is None else [
                    None if c is None and o is None else
                    P.where(sel, 0.0 if c is None else c, 0.0 if o is None else o) for c, o in zip(s, out)]
            return out[1:]
        return s_pow_const(x, a, y0=ans)[1:]
    # variable exponent: exp(y log x)
    if is_const(x):
        logx = P.safe_log(x[0])
        w = [None] + [c_scale(c, logx) for c in y[1:]]
    else:
        w = s_mul(y, s_log(x))
    return s_exp(w, y0=ans)[1:]


@register("absolute")
def _t_absolute(ans, xs, primals, params, K):
    sgn = P.sign_of(primals[0])
    return [c_scale(c, sgn) for c in xs[0][1:]]


def _select(first):
    def rule(ans, xs, primals, params, K):
        x, y = primals
        wx = P.select_weight(x, y, first)
        wy = P.select_weight(y, x, first)
        return [c_add(c_scale(a, wx), c_scale(b, wy)) for a, b in zip(xs[0][1:], xs[1][1:])]
    return rule


TAYLOR_RULES["maximum"] = _select(True)
TAYLOR_RULES["minimum"] = _select(False)


def _extreme_rule(ans, xs, primals, params, K):
    w = P.extreme_weights(primals[0], ans, params["axis"], params["keepdims"])
    return [None if c is None else P.sum_axes(P.multiply(c, w), params["axis"], params["keepdims"]) for c in xs[0][1:]]


TAYLOR_RULES["amax"] = TAYLOR_RULES["amin"] = _extreme_rule


# ----------------------------------------------------------------------------------------------------------------
# binary elementwise functions


@register("arctan2")
def _t_arctan2(ans, xs, primals, params, K):
    # z = arctan2(y, x): z' = (x y' - y x') / (x^2 + y^2)
    y, x = xs
    yt, xt = y[:-1], x[:-1]
    num = s_sub(s_mul(xt, s_deriv(y)), s_mul(yt, s_deriv(x)))
    den = s_add(s_square(xt), s_square(yt))
    return s_integrate(ans, s_div(num, den))[1:]


@register("hypot")
def _t_hypot(ans, xs, primals, params, K):
    return s_sqrt(s_add(s_square(xs[0]), s_square(xs[1])), y0=ans)[1:]


def _logaddexp_series(x, y, ans):
    m = lower(np.maximum, x[0], y[0])   # a shift without derivative, for range only: the result is exact
    ex = s_exp([P.subtract(x[0], m)] + list(x[1:]))
    ey = s_exp([P.subtract(y[0], m)] + list(y[1:]))
    return s_log(s_add(ex, ey), y0=ans)


@register("logaddexp")
def _t_logaddexp(ans, xs, primals, params, K):
    return _logaddexp_series(xs[0], xs[1], ans)[1:]


@register("logaddexp2")
def _t_logaddexp2(ans, xs, primals, params, K):
    ln2 = float(np.log(2.0))
    s = _logaddexp_series(s_scale(xs[0], ln2), s_scale(xs[1], ln2), P.multiply(ans, ln2))
    return s_scale(s[1:], 1.0 / ln2)


@register("xlogy")
def _t_xlogy(ans, xs, primals, params, K):
    return s_mul(xs[0], s_log(xs[1]))[1:]


@register("xlog1py")
def _t_xlog1py(ans, xs, primals, params, K):
    return s_mul(xs[0], s_log(s_shift(xs[1], 1.0)))[1:]
