"""Taylor-mode rules of the primitive table: output Taylor coefficients from input Taylor coefficients.

A *series* here is a list of coefficients ``[c_0, c_1, ..., c_n]`` of a truncated polynomial in ``t``, with ``None``
for a coefficient known to be zero. A rule is ``rule(ans, xs, primals, params, K) -> [y_1, ..., y_K]``: ``xs`` holds
one series of length ``K + 1`` per positional argument (constants have only ``c_0``), ``ans`` is the primitive
applied to the primals (``y_0``). Everything is computed with hodiff's operations, never raw numpy on the data, so
the coefficients stay differentiable by the other transforms; only piecewise-constant selectors (signs, masks, which
argument wins a max) are read from the base values, as in the first-order rules.

The recurrences are the standard ones (Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 13), each
``O(K^2)``. Functions whose derivative is a simple expression (``arctan``, ``erf``, ...) use the derivative-ODE
method: ``y' = f'(x) x'``, with the series of ``f'(x)`` computed to order ``K - 1`` from the series operations here.
"""
from __future__ import annotations

import math

import numpy as np

from . import prims as P
from . import scans as PA
from . import linalg as PL
from . import special as PM
from ..core.engine import PRIMITIVES, base_value, bind, ndim_of, shape_of

__all__ = ["TAYLOR_RULES"]

#: name -> rule, for every primitive with a Taylor-mode rule
TAYLOR_RULES: dict = {}

# ----------------------------------------------------------------------------------------------------------------
# coefficient arithmetic with symbolic zeros (None)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return P.add(a, b)


def _sub(a, b):
    if b is None:
        return a
    if a is None:
        return P.negative(b)
    return P.subtract(a, b)


def _scale(a, s):
    return None if a is None else P.multiply(a, s)


def _sum_terms(terms):
    acc = None
    for t in terms:
        acc = _add(acc, t)
    return acc


def const(c0, n):
    """The series of a constant, of length ``n``."""
    return [c0] + [None] * (n - 1)


def s_add(a, b):
    return [_add(x, y) for x, y in zip(a, b)]


def s_sub(a, b):
    return [_sub(x, y) for x, y in zip(a, b)]


def s_neg(a):
    return [None if x is None else P.negative(x) for x in a]


def s_scale(a, s):
    return [_scale(x, s) for x in a]


def s_shift(a, c):
    """``a + c`` for a constant ``c``."""
    return [P.add(a[0], c)] + list(a[1:])


def _cauchy(a, b, k, op=P.multiply, start=0):
    return _sum_terms(op(a[j], b[k - j]) for j in range(start, k + 1) if a[j] is not None and b[k - j] is not None)


def s_mul(a, b, op=P.multiply):
    """The truncated product (``op`` any bilinear operation: multiply, matmul, ...)."""
    n = min(len(a), len(b))
    return [_cauchy(a, b, k, op) for k in range(n)]


def s_div(a, b, y0=None):
    """``a / b``: ``y_k = (a_k - sum_{j=1}^k b_j y_{k-j}) / b_0``."""
    n = min(len(a), len(b))
    y = [P.divide(a[0], b[0]) if y0 is None else y0]
    for k in range(1, n):
        s = _sub(a[k], _sum_terms(P.multiply(b[j], y[k - j]) for j in range(1, k + 1)
                                  if b[j] is not None and y[k - j] is not None))
        y.append(None if s is None else P.divide(s, b[0]))
    return y


def s_deriv(a):
    """Coefficients of ``da/dt`` (one shorter)."""
    return [_scale(a[k + 1], float(k + 1)) for k in range(len(a) - 1)]


def s_integrate(y0, d):
    """The series with constant term ``y0`` whose derivative is ``d`` (one longer)."""
    return [y0] + [_scale(d[k], 1.0 / (k + 1)) for k in range(len(d))]


def s_ode(y0, g, x):
    """``y`` with ``y' = g x'``; ``g`` is the series of ``f'(x)`` to one order less than ``x``."""
    return s_integrate(y0, s_mul(g, s_deriv(x)))


def _weighted(x, y, k, hi=None):
    """``sum_{j=1}^{hi} j x_j y_{k-j}`` (``hi = k`` by default)."""
    hi = k if hi is None else hi
    return _sum_terms(P.multiply(x[j], P.multiply(y[k - j], float(j))) for j in range(1, hi + 1)
                      if x[j] is not None and y[k - j] is not None)


def s_exp(x, y0=None, e0=None):
    """``exp(x)``; ``e0`` is the value the recurrence multiplies with (``exp(x_0)``; ``expm1`` passes
    ``y0 + 1``)."""
    n = len(x)
    y0 = P.exp(x[0]) if y0 is None else y0
    e = [y0 if e0 is None else e0]
    for k in range(1, n):
        s = _weighted(x, e, k)
        e.append(None if s is None else P.multiply(s, 1.0 / k))
    return [y0] + e[1:]


def s_log(x, y0=None):
    """``log(x)``: ``y_k = (x_k - (1/k) sum_{j=1}^{k-1} j y_j x_{k-j}) / x_0``."""
    n = len(x)
    y = [P.log(x[0]) if y0 is None else y0]
    for k in range(1, n):
        s = _sub(x[k], _scale(_weighted(y, x, k, hi=k - 1), 1.0 / k))
        y.append(None if s is None else P.divide(s, x[0]))
    return y


def s_sincos(x, s0=None, c0=None, hyperbolic=False):
    """``(sin x, cos x)`` (or ``(sinh x, cosh x)``) by the coupled recurrence."""
    n = len(x)
    s = [(P.sin if not hyperbolic else PM.sinh)(x[0]) if s0 is None else s0]
    c = [(P.cos if not hyperbolic else PM.cosh)(x[0]) if c0 is None else c0]
    for k in range(1, n):
        a = _weighted(x, c, k)
        b = _weighted(x, s, k)
        s.append(_scale(a, 1.0 / k))
        c.append(_scale(b, (1.0 if hyperbolic else -1.0) / k))
    return s, c


def _sq_coeff(y, m):
    """Coefficient ``m`` of ``y**2`` (using symmetry: about half the products)."""
    terms = []
    for i in range((m + 1) // 2):
        if y[i] is not None and y[m - i] is not None:
            terms.append(P.multiply(P.multiply(y[i], y[m - i]), 2.0))
    if m % 2 == 0 and y[m // 2] is not None:
        terms.append(P.multiply(y[m // 2], y[m // 2]))
    return _sum_terms(terms)


def s_square(y):
    return [_sq_coeff(y, m) for m in range(len(y))]


def s_self_ode(y0, x, g_coeff):
    """``y`` with ``y' = g(y) x'``, where ``g_coeff(y, m)`` gives coefficient ``m`` of ``g`` from ``y_0..y_m``."""
    n = len(x)
    y = [y0] + [None] * (n - 1)
    g = []
    for k in range(1, n):
        g.append(g_coeff(y, k - 1))
        y[k] = _scale(_weighted(x, g, k), 1.0 / k)
    return y


def s_sqrt(x, y0=None):
    """``sqrt(x)``: ``y_k = (x_k - sum_{j=1}^{k-1} y_j y_{k-j}) / (2 y_0)``."""
    n = len(x)
    y = [P.sqrt(x[0]) if y0 is None else y0]
    two_y0 = None
    for k in range(1, n):
        y.append(None)
        s = _sub(x[k], _sq_coeff(y, k))   # y_k is still None, so this is the sum over 1 <= j <= k-1
        if s is not None:
            two_y0 = P.multiply(y[0], 2.0) if two_y0 is None else two_y0
            s = P.divide(s, two_y0)
        y[k] = s
    return y


def s_pow_const(x, a, y0=None):
    """``x**a`` for a constant ``a``, from ``x y' = a y x'``:
    ``k x_0 y_k = sum_{j=0}^{k-1} (a (k - j) - j) x_{k-j} y_j``.

    Where ``x_0 = 0`` the recurrence divides by zero; there the coefficients come from Taylor's formula in
    ``u = x - x_0`` with the derivatives ``a (a-1) ... (a-j+1) x_0^(a-j)`` (0, or inf/nan as the first-order rules
    give them)."""
    zero = np.asarray(base_value(x[0])) == 0
    if np.any(zero) and len(x) > 1:
        y0 = P.power(x[0], a) if y0 is None else y0
        safe = s_pow_const([P.where(zero, 1.0, x[0])] + list(x[1:]), a)
        u = [None] + list(x[1:])
        near = const(y0, len(x))
        upow = u
        fall = 1.0
        for j in range(1, len(x)):
            fall = P.multiply(fall, P.subtract(a, float(j - 1))) if not isinstance(a, (int, float)) \
                else fall * (a - (j - 1))
            dj = P.multiply(P.power(x[0], P.subtract(a, float(j)) if not isinstance(a, (int, float)) else a - j),
                            P.multiply(fall, 1.0 / math.factorial(j)))
            near = s_add(near, [None if c is None else P.multiply(c, dj) for c in upow])
            if j + 1 < len(x):
                upow = s_mul(upow, u)
        return [y0] + [None if c is None and d is None else
                       P.where(zero, 0.0 if c is None else c, 0.0 if d is None else d)
                       for c, d in zip(near[1:], safe[1:])]
    n = len(x)
    y = [P.power(x[0], a) if y0 is None else y0]
    for k in range(1, n):
        terms = []
        for j in range(k):
            if x[k - j] is None or y[j] is None:
                continue
            if isinstance(a, (int, float)):
                w = a * (k - j) - j
                terms.append(P.multiply(P.multiply(x[k - j], y[j]), float(w)))
            else:
                w = P.subtract(P.multiply(a, float(k - j)), float(j))
                terms.append(P.multiply(P.multiply(x[k - j], y[j]), w))
        s = _sum_terms(terms)
        y.append(None if s is None else P.divide(s, P.multiply(x[0], float(k))))
    return y


def s_pow_int(x, n):
    """``x**n`` for an integer ``n >= 0`` by repeated squaring (exact where ``x_0 = 0`` too)."""
    result = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else s_mul(result, base)
        n >>= 1
        if n:
            base = s_square(base)
    return result if result is not None else const(1.0, len(x))   # x**0: only the higher (zero) terms are used


def s_recip(b):
    return s_div(const(1.0, len(b)), b)


def _is_const(s):
    return all(c is None for c in s[1:])


# ----------------------------------------------------------------------------------------------------------------
# registration helpers


def _rule(*names):
    def deco(fn):
        for name in names:
            if name not in PRIMITIVES:
                raise KeyError(f"no primitive {name!r}")
            TAYLOR_RULES[name] = fn
        return fn
    return deco


def _unary_series(name, fn):
    """A unary elementwise rule from a series function ``fn(x, ans, params) -> series``."""
    TAYLOR_RULES[name] = lambda ans, xs, primals, params, K: fn(xs[0], ans, params)[1:K + 1]


# ----------------------------------------------------------------------------------------------------------------
# linear and multilinear primitives


@_rule("add")
def _t_add(ans, xs, primals, params, K):
    return [_add(a, b) for a, b in zip(xs[0][1:], xs[1][1:])]


@_rule("subtract")
def _t_subtract(ans, xs, primals, params, K):
    return [_sub(a, b) for a, b in zip(xs[0][1:], xs[1][1:])]


@_rule("negative")
def _t_negative(ans, xs, primals, params, K):
    return s_neg(xs[0][1:])


def _linear_unary(prim):
    """A linear unary primitive acts on each coefficient with the same parameters."""
    def rule(ans, xs, primals, params, K):
        return [None if c is None else bind(prim, c, **params) for c in xs[0][1:]]
    return rule


for _name in ("reshape", "transpose", "broadcast_to", "getitem", "scatter_add", "sum", "cumsum_last"):
    TAYLOR_RULES[_name] = _linear_unary(PRIMITIVES[_name])


def _multilinear(prim):
    """``y_k = sum over degree splits j_1 + ... + j_m = k of prim(x1_{j_1}, ..., xm_{j_m})`` (a Cauchy product)."""
    def rule(ans, xs, primals, params, K):
        moving = [i for i, s in enumerate(xs) if not _is_const(s)]
        out = []
        for k in range(1, K + 1):
            terms = []
            for degs in _splits(k, len(moving)):
                args = list(primals)
                ok = True
                for i, d in zip(moving, degs):
                    c = xs[i][d]
                    if c is None:
                        ok = False
                        break
                    args[i] = c
                if ok:
                    terms.append(bind(prim, *args, **params))
            out.append(_sum_terms(terms))
        return out
    return rule


def _splits(k, m):
    """All ``m``-tuples of non-negative integers summing to ``k``."""
    if m == 1:
        yield (k,)
        return
    for first in range(k + 1):
        for rest in _splits(k - first, m - 1):
            yield (first,) + rest


for _name in ("multiply", "matmul", "einsum"):
    TAYLOR_RULES[_name] = _multilinear(PRIMITIVES[_name])


@_rule("where")
def _t_where(ans, xs, primals, params, K):
    cond = primals[0]
    out = []
    for a, b in zip(xs[1][1:], xs[2][1:]):
        if a is None and b is None:
            out.append(None)
        else:
            out.append(P.where(cond, 0.0 if a is None else a, 0.0 if b is None else b))
    return out


@_rule("concatenate")
def _t_concatenate(ans, xs, primals, params, K):
    dtype = base_value(ans).dtype
    out = []
    for k in range(1, K + 1):
        cs = [s[k] for s in xs]
        if all(c is None for c in cs):
            out.append(None)
            continue
        cs = [c if c is not None else np.zeros(tuple(shape_of(p)), dtype=dtype) for c, p in zip(cs, primals)]
        out.append(PA.concatenate_(cs, params["axis"]))
    return out


# ----------------------------------------------------------------------------------------------------------------
# elementwise arithmetic and elementary functions


@_rule("divide")
def _t_divide(ans, xs, primals, params, K):
    a, b = xs
    if _is_const(b):
        return [None if c is None else P.divide(c, b[0]) for c in a[1:]]
    return s_div(a, b, y0=ans)[1:]


_unary_series("exp", lambda x, ans, p: s_exp(x, y0=ans))
_unary_series("expm1", lambda x, ans, p: s_exp(x, y0=ans, e0=P.add(ans, 1.0)))
_unary_series("log", lambda x, ans, p: s_log(x, y0=ans))
_unary_series("log1p", lambda x, ans, p: [ans] + s_log(s_shift(x, 1.0), y0=ans)[1:])
_unary_series("sin", lambda x, ans, p: s_sincos(x, s0=ans)[0])
_unary_series("cos", lambda x, ans, p: s_sincos(x, c0=ans)[1])
_unary_series("sinh", lambda x, ans, p: s_sincos(x, s0=ans, hyperbolic=True)[0])
_unary_series("cosh", lambda x, ans, p: s_sincos(x, c0=ans, hyperbolic=True)[1])
_unary_series("sqrt", lambda x, ans, p: s_sqrt(x, y0=ans))
_unary_series("cbrt", lambda x, ans, p: s_pow_const(x, 1.0 / 3.0, y0=ans))
# y' = g(y) x': tan' = 1 + tan^2, tanh' = 1 - tanh^2, expit' = expit - expit^2
_unary_series("tan", lambda x, ans, p: s_self_ode(ans, x, lambda y, m: _add(1.0 if m == 0 else None,
                                                                              _sq_coeff(y, m))))
_unary_series("tanh", lambda x, ans, p: s_self_ode(ans, x, lambda y, m: _sub(1.0 if m == 0 else None,
                                                                               _sq_coeff(y, m))))
_unary_series("expit", lambda x, ans, p: s_self_ode(ans, x, lambda y, m: _sub(y[m], _sq_coeff(y, m))))


def _ode_unary(name, dseries):
    """A rule by the derivative-ODE method: ``dseries(x)`` is the series of ``f'(x)`` (x one order shorter)."""
    _unary_series(name, lambda x, ans, p: s_ode(ans, dseries(x[:-1]), x))


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
_unary_series("log_ndtr", lambda x, ans, p: s_log(_ndtr_series(x), y0=ans))


def _polygamma_series(n, x, y0=None):
    """``polygamma(n, x)``: ``y' = polygamma(n + 1, x) x'`` (recursively, ``O(K^3)`` overall)."""
    y0 = PM.polygamma(n, x[0]) if y0 is None else y0
    if len(x) == 1:
        return [y0]
    return s_ode(y0, _polygamma_series(n + 1, x[:-1]), x)


_unary_series("polygamma", lambda x, ans, p: _polygamma_series(p["n"], x, y0=ans))
_unary_series("gammaln", lambda x, ans, p: s_ode(ans, _polygamma_series(0, x[:-1]), x))


def _sinc_series(x, ans):
    # sinc(x) = sin(pi x) / (pi x); at x_0 = 0 the series of sinc in u = x - x_0 is sum_n (-1)^n (pi u)^(2n) / (2n+1)!
    xb = base_value(x[0])
    zero = np.asarray(xb) == 0
    n = len(x)
    if not np.any(zero):
        px = s_scale(x, np.pi)
        return s_div(s_sincos(px)[0], px, y0=ans)
    xs = [P.where(zero, 1.0, x[0])] + list(x[1:])
    px = s_scale(xs, np.pi)
    far = s_div(s_sincos(px)[0], px)
    u2 = s_square([None] + s_scale(x[1:], np.pi))    # (pi u)^2, u_0 = 0
    near = const(None, n)
    power = const(1.0, n)
    for m in range(n // 2 + 1):
        if m:
            power = s_mul(power, u2)
        near = s_add(near, s_scale(power, (-1.0) ** m / math.factorial(2 * m + 1)))
    out = [ans]
    for k in range(1, n):
        a, b = near[k], far[k]
        out.append(None if a is None and b is None else
                   P.where(zero, 0.0 if a is None else a, 0.0 if b is None else b))
    return out


_unary_series("sinc", lambda x, ans, p: _sinc_series(x, ans))


@_rule("power")
def _t_power(ans, xs, primals, params, K):
    x, y = xs
    a = primals[1]
    if _is_const(y):
        if isinstance(a, (int, float, np.integer, np.floating)) and not isinstance(a, bool):
            af = float(a)
            if af.is_integer() and 0 <= af <= 64:
                return s_pow_int(x, int(af))[1:]
            return s_pow_const(x, af, y0=ans)[1:]
        ab = np.asarray(base_value(a))
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
    if _is_const(x):
        logx = P._safe_log(x[0])
        w = [None] + [_scale(c, logx) for c in y[1:]]
    else:
        w = s_mul(y, s_log(x))
    return s_exp(w, y0=ans)[1:]


@_rule("absolute")
def _t_absolute(ans, xs, primals, params, K):
    sgn = P._sign(primals[0])
    return [_scale(c, sgn) for c in xs[0][1:]]


def _select(first):
    def rule(ans, xs, primals, params, K):
        x, y = primals
        wx = P._select_weight(x, y, first)
        wy = P._select_weight(y, x, first)
        return [_add(_scale(a, wx), _scale(b, wy)) for a, b in zip(xs[0][1:], xs[1][1:])]
    return rule


TAYLOR_RULES["maximum"] = _select(True)
TAYLOR_RULES["minimum"] = _select(False)


def _extreme_rule(ans, xs, primals, params, K):
    w = P._extreme_weights(primals[0], ans, params["axis"], params["keepdims"])
    return [None if c is None else P._sum(P.multiply(c, w), params["axis"], params["keepdims"]) for c in xs[0][1:]]


TAYLOR_RULES["amax"] = TAYLOR_RULES["amin"] = _extreme_rule


# ----------------------------------------------------------------------------------------------------------------
# binary elementwise functions


@_rule("arctan2")
def _t_arctan2(ans, xs, primals, params, K):
    # z = arctan2(y, x): z' = (x y' - y x') / (x^2 + y^2)
    y, x = xs
    yt, xt = y[:-1], x[:-1]
    num = s_sub(s_mul(xt, s_deriv(y)), s_mul(yt, s_deriv(x)))
    den = s_add(s_square(xt), s_square(yt))
    return s_integrate(ans, s_div(num, den))[1:]


@_rule("hypot")
def _t_hypot(ans, xs, primals, params, K):
    return s_sqrt(s_add(s_square(xs[0]), s_square(xs[1])), y0=ans)[1:]


def _logaddexp_series(x, y, ans):
    m = np.maximum(base_value(x[0]), base_value(y[0]))   # a constant shift, for range only: the result is exact
    ex = s_exp([P.subtract(x[0], m)] + list(x[1:]))
    ey = s_exp([P.subtract(y[0], m)] + list(y[1:]))
    return s_log(s_add(ex, ey), y0=ans)


@_rule("logaddexp")
def _t_logaddexp(ans, xs, primals, params, K):
    return _logaddexp_series(xs[0], xs[1], ans)[1:]


@_rule("logaddexp2")
def _t_logaddexp2(ans, xs, primals, params, K):
    ln2 = float(np.log(2.0))
    s = _logaddexp_series(s_scale(xs[0], ln2), s_scale(xs[1], ln2), P.multiply(ans, ln2))
    return s_scale(s[1:], 1.0 / ln2)


@_rule("xlogy")
def _t_xlogy(ans, xs, primals, params, K):
    return s_mul(xs[0], s_log(xs[1]))[1:]


@_rule("xlog1py")
def _t_xlog1py(ans, xs, primals, params, K):
    return s_mul(xs[0], s_log(s_shift(xs[1], 1.0)))[1:]


# ----------------------------------------------------------------------------------------------------------------
# products along the last axis


def _last(c, i):
    return None if c is None else P.getitem(c, (slice(None),) * (ndim_of(c) - 1) + (i,))


def _slices(x):
    n = shape_of(x[0])[-1]
    return [[_last(c, i) for c in x] for i in range(n)]


@_rule("prod_last")
def _t_prod_last(ans, xs, primals, params, K):
    acc = None
    for s in _slices(xs[0]):
        acc = s if acc is None else s_mul(acc, s)
    if acc is None:
        return [None] * K
    return acc[1:]


@_rule("cumprod_last")
def _t_cumprod_last(ans, xs, primals, params, K):
    acc = None
    parts = []
    for s in _slices(xs[0]):
        acc = s if acc is None else s_mul(acc, s)
        parts.append(acc)
    dtype = base_value(ans).dtype
    out = []
    for k in range(1, K + 1):
        cs = [p[k] for p in parts]
        if all(c is None for c in cs):
            out.append(None)
            continue
        shape = tuple(shape_of(ans))[:-1]
        cs = [P.reshape(c if c is not None else np.zeros(shape, dtype=dtype), shape + (1,)) for c in cs]
        out.append(PA.concatenate_(cs, -1))
    return out


# ----------------------------------------------------------------------------------------------------------------
# linear algebra

_mT = P._mT


@_rule("inv")
def _t_inv(ans, xs, primals, params, K):
    # A Y = I: Y_k = -Y_0 sum_{j=1}^k A_j Y_{k-j}
    a = xs[0]
    y = [ans]
    for k in range(1, K + 1):
        s = _sum_terms(P.matmul(a[j], y[k - j]) for j in range(1, k + 1) if a[j] is not None and y[k - j] is not None)
        y.append(None if s is None else P.negative(P.matmul(ans, s)))
    return y[1:]


def _solve_rule(solver):
    def rule(ans, xs, primals, params, K):
        a, b = xs
        vec = ndim_of(primals[1]) == 1
        x = [ans]
        for k in range(1, K + 1):
            s = _sum_terms(_apply(a[j], x[k - j], vec, params) for j in range(1, k + 1)
                           if a[j] is not None and x[k - j] is not None)
            r = _sub(b[k], s)
            x.append(None if r is None else solver(primals[0], r, params))
        return x[1:]
    return rule


def _apply(a, x, vec, params):
    if "lower" in params:
        a = PL._tri_mask(a, params["lower"])
    return P.matmul(a, x)


TAYLOR_RULES["solve"] = _solve_rule(lambda a, r, p: PL.solve(a, r))
TAYLOR_RULES["solve_triangular"] = _solve_rule(lambda a, r, p: PL.solve_triangular(a, r, lower=p["lower"]))


def _trace_prod(w, d):
    """``tr(w d)`` over the last two axes."""
    return P._sum(P.multiply(w, _mT(d)), (-2, -1), False)


def _logdet_derivative(a):
    """Series (one order shorter) of ``d/dt log|det A| = tr(A^-1 A')``."""
    at = a[:-1]
    w = [PL.inv(at[0])]
    for k in range(1, len(at)):
        s = _sum_terms(P.matmul(at[j], w[k - j]) for j in range(1, k + 1) if at[j] is not None)
        w.append(None if s is None else P.negative(P.matmul(w[0], s)))
    return s_mul(w, s_deriv(a), op=_trace_prod)


@_rule("logabsdet")
def _t_logabsdet(ans, xs, primals, params, K):
    return s_integrate(ans, _logdet_derivative(xs[0]))[1:]


@_rule("det")
def _t_det(ans, xs, primals, params, K):
    # det' = det * g with g = tr(A^-1 A')
    g = _logdet_derivative(xs[0])
    d = [ans]
    for k in range(1, K + 1):
        s = _sum_terms(P.multiply(d[j], g[k - 1 - j]) for j in range(k) if d[j] is not None and g[k - 1 - j] is not None)
        d.append(_scale(s, 1.0 / k))
    return d[1:]


@_rule("cholesky")
def _t_cholesky(ans, xs, primals, params, K):
    # L L^T = S with S the symmetric matrix read from A's lower triangle:
    # L_0 L_k^T + L_k L_0^T = S_k - sum_{j=1}^{k-1} L_j L_{k-j}^T =: R_k, so L_k = L_0 Phi(L_0^-1 R_k L_0^-T)
    a = xs[0]
    L = [ans]
    for k in range(1, K + 1):
        r = _sub(None if a[k] is None else PL._sym_from_lower(a[k]),
                 _sum_terms(P.matmul(L[j], _mT(L[k - j])) for j in range(1, k)
                            if L[j] is not None and L[k - j] is not None))
        if r is None:
            L.append(None)
            continue
        z = PL.solve_triangular(ans, r, lower=True)
        z = _mT(PL.solve_triangular(ans, _mT(z), lower=True))
        L.append(P.matmul(ans, PL._phi(z)))
    return L[1:]
