"""Taylor-mode rules, the ground floor: the rule registry and the arithmetic of truncated series.

The rules themselves are in the modules beside this one, named after the table's kinds (``elementwise``,
``structural``, ``linalg``).

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

from ... import table as P
from .. import special as PM
from ...core.engine import PRIMITIVES, lower

__all__ = ["TAYLOR_RULES", "register", "unary_series"]

#: name -> rule, for every primitive with a Taylor-mode rule
TAYLOR_RULES: dict = {}

# ----------------------------------------------------------------------------------------------------------------
# coefficient arithmetic with symbolic zeros (None)


def c_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return P.add(a, b)


def c_sub(a, b):
    if b is None:
        return a
    if a is None:
        return P.negative(b)
    return P.subtract(a, b)


def c_scale(a, s):
    return None if a is None else P.multiply(a, s)


def sum_terms(terms):
    acc = None
    for t in terms:
        acc = c_add(acc, t)
    return acc


def const(c0, n):
    """The series of a constant, of length ``n``."""
    return [c0] + [None] * (n - 1)


def s_add(a, b):
    return [c_add(x, y) for x, y in zip(a, b)]


def s_sub(a, b):
    return [c_sub(x, y) for x, y in zip(a, b)]


def s_neg(a):
    return [None if x is None else P.negative(x) for x in a]


def s_scale(a, s):
    return [c_scale(x, s) for x in a]


def s_shift(a, c):
    """``a + c`` for a constant ``c``."""
    return [P.add(a[0], c)] + list(a[1:])


def cauchy(a, b, k, op=P.multiply, start=0):
    return sum_terms(op(a[j], b[k - j]) for j in range(start, k + 1) if a[j] is not None and b[k - j] is not None)


def s_mul(a, b, op=P.multiply):
    """The truncated product (``op`` any bilinear operation: multiply, matmul, ...)."""
    n = min(len(a), len(b))
    return [cauchy(a, b, k, op) for k in range(n)]


def s_div(a, b, y0=None):
    """``a / b``: ``y_k = (a_k - sum_{j=1}^k b_j y_{k-j}) / b_0``."""
    n = min(len(a), len(b))
    y = [P.divide(a[0], b[0]) if y0 is None else y0]
    for k in range(1, n):
        s = c_sub(a[k], sum_terms(P.multiply(b[j], y[k - j]) for j in range(1, k + 1)
                                  if b[j] is not None and y[k - j] is not None))
        y.append(None if s is None else P.divide(s, b[0]))
    return y


def s_deriv(a):
    """Coefficients of ``da/dt`` (one shorter)."""
    return [c_scale(a[k + 1], float(k + 1)) for k in range(len(a) - 1)]


def s_integrate(y0, d):
    """The series with constant term ``y0`` whose derivative is ``d`` (one longer)."""
    return [y0] + [c_scale(d[k], 1.0 / (k + 1)) for k in range(len(d))]


def s_ode(y0, g, x):
    """``y`` with ``y' = g x'``; ``g`` is the series of ``f'(x)`` to one order less than ``x``."""
    return s_integrate(y0, s_mul(g, s_deriv(x)))


def weighted(x, y, k, hi=None):
    """``sum_{j=1}^{hi} j x_j y_{k-j}`` (``hi = k`` by default)."""
    hi = k if hi is None else hi
    return sum_terms(P.multiply(x[j], P.multiply(y[k - j], float(j))) for j in range(1, hi + 1)
                      if x[j] is not None and y[k - j] is not None)


def s_exp(x, y0=None, e0=None):
    """``exp(x)``; ``e0`` is the value the recurrence multiplies with (``exp(x_0)``; ``expm1`` passes
    ``y0 + 1``)."""
    n = len(x)
    y0 = P.exp(x[0]) if y0 is None else y0
    e = [y0 if e0 is None else e0]
    for k in range(1, n):
        s = weighted(x, e, k)
        e.append(None if s is None else P.multiply(s, 1.0 / k))
    return [y0] + e[1:]


def s_log(x, y0=None):
    """``log(x)``: ``y_k = (x_k - (1/k) sum_{j=1}^{k-1} j y_j x_{k-j}) / x_0``."""
    n = len(x)
    y = [P.log(x[0]) if y0 is None else y0]
    for k in range(1, n):
        s = c_sub(x[k], c_scale(weighted(y, x, k, hi=k - 1), 1.0 / k))
        y.append(None if s is None else P.divide(s, x[0]))
    return y


def s_sincos(x, s0=None, c0=None, hyperbolic=False):
    """``(sin x, cos x)`` (or ``(sinh x, cosh x)``) by the coupled recurrence."""
    n = len(x)
    s = [(P.sin if not hyperbolic else PM.sinh)(x[0]) if s0 is None else s0]
    c = [(P.cos if not hyperbolic else PM.cosh)(x[0]) if c0 is None else c0]
    for k in range(1, n):
        a = weighted(x, c, k)
        b = weighted(x, s, k)
        s.append(c_scale(a, 1.0 / k))
        c.append(c_scale(b, (1.0 if hyperbolic else -1.0) / k))
    return s, c


def sq_coeff(y, m):
    """Coefficient ``m`` of ``y**2`` (using symmetry: about half the products)."""
    terms = []
    for i in range((m + 1) // 2):
        if y[i] is not None and y[m - i] is not None:
            terms.append(P.multiply(P.multiply(y[i], y[m - i]), 2.0))
    if m % 2 == 0 and y[m // 2] is not None:
        terms.append(P.multiply(y[m // 2], y[m // 2]))
    return sum_terms(terms)


def s_square(y):
    return [sq_coeff(y, m) for m in range(len(y))]


def s_self_ode(y0, x, g_coeff):
    """``y`` with ``y' = g(y) x'``, where ``g_coeff(y, m)`` gives coefficient ``m`` of ``g`` from ``y_0..y_m``."""
    n = len(x)
    y = [y0] + [None] * (n - 1)
    g = []
    for k in range(1, n):
        g.append(g_coeff(y, k - 1))
        y[k] = c_scale(weighted(x, g, k), 1.0 / k)
    return y


def s_sqrt(x, y0=None):
    """``sqrt(x)``: ``y_k = (x_k - sum_{j=1}^{k-1} y_j y_{k-j}) / (2 y_0)``."""
    n = len(x)
    y = [P.sqrt(x[0]) if y0 is None else y0]
    two_y0 = None
    for k in range(1, n):
        y.append(None)
        s = c_sub(x[k], sq_coeff(y, k))   # y_k is still None, so this is the sum over 1 <= j <= k-1
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
    zero = lower(np.equal, x[0], 0)     # recorded under hd.jit; the branch below is a guard
    if len(x) > 1 and bool(lower(np.any, zero)):
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
        s = sum_terms(terms)
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


def is_const(s):
    return all(c is None for c in s[1:])


# ----------------------------------------------------------------------------------------------------------------
# registration helpers


def register(*names):
    def deco(fn):
        for name in names:
            if name not in PRIMITIVES:
                raise KeyError(f"no primitive {name!r}")
            TAYLOR_RULES[name] = fn
        return fn
    return deco


def unary_series(name, fn):
    """A unary elementwise rule from a series function ``fn(x, ans, params) -> series``."""
    TAYLOR_RULES[name] = lambda ans, xs, primals, params, K: fn(xs[0], ans, params)[1:K + 1]
