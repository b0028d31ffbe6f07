"""Derivatives of ``np.sinc`` to order 4, at every x, against an extended-precision reference (fuzz findings of
seeds 201/202: the Taylor rule's quotient ``sin(pi x) / (pi x)`` and the first-order rule's ``(cos(pi x) -
sinc x) / x`` lost up to 5 digits for 1e-3 < |x| < 0.05, where they cancel and divide by x at every order).

The reference is written independently of hodiff's rules and evaluated in ``np.longdouble`` (64-bit significand on
x86-64): for ``t = pi x`` with ``|t| >= 1`` Leibniz's rule on ``sin(t) * t^-1``,
``g^(k)(t) = sum_j C(k, j) sin^(j)(t) (-1)^(k-j) (k-j)! / t^(k-j+1)``, whose cancellation costs at most ``(k+1)!``
longdouble ulps, far below a double ulp; for ``|t| < 1`` the differentiated power series
``g^(k)(t) = sum_n (-1)^n (2n)! / ((2n+1)! (2n-k)!) t^(2n-k)``, whose terms fall fast. Then
``sinc^(k)(x) = pi^k g^(k)(pi x)``.
"""
import math
from fractions import Fraction

import numpy as np
import pytest

import hodiff as hd

L = np.longdouble
PI = L("3.14159265358979323846264338327950288")
EXTENDED = np.finfo(L).eps < 1e-18
needs_extended = pytest.mark.skipif(not EXTENDED, reason="np.longdouble is no wider than float64 here")

# The points where sinc was evaluated in the two failing fuzz programs (seed 201 #27973, seed 202 #28187).
FUZZ_POINTS = [1.0784852823920572, -0.03874598066911069, 0.0033391734271731102, 0.2715424800177748,
               -0.6644954618633926, 0.4493483161648588, 0.7937564934834054, -0.3967576929469479,
               0.6032486259911839, -1.9245947125325003, -0.0031922839515004884, -0.187500225589952]


def _reference(x: float, k: int) -> float:
    t = PI * L(x)
    if abs(t) >= 1:
        trig = [np.sin(t), np.cos(t), -np.sin(t), -np.cos(t)]
        g = sum(L(math.comb(k, j)) * trig[j % 4] * L((-1) ** (k - j) * math.factorial(k - j)) / t ** (k - j + 1)
                for j in range(k + 1))
    else:
        g = L(0)
        for n in range((k + 1) // 2, 40):
            c = Fraction((-1) ** n * math.factorial(2 * n), math.factorial(2 * n + 1) * math.factorial(2 * n - k))
            g += L(c.numerator) / L(c.denominator) * t ** (2 * n - k)
    return float(PI ** k * g)


def _points() -> np.ndarray:
    rng = np.random.default_rng(12)
    switch = 3 / np.pi                   # both rules change formula at |pi x| = 3
    special = [0.0, 1e-300, -1e-12, 1e-8, 1e-5, 1e-3, 0.05, switch, np.nextafter(switch, 0),
               np.nextafter(switch, 1), -switch, 0.5, 1.0, 2.0, 3.0]
    return np.concatenate([special, FUZZ_POINTS, rng.uniform(-3, 3, 60), rng.uniform(-0.05, 0.05, 20),
                           rng.uniform(switch - 0.02, switch + 0.02, 20)])


def _scale(x: np.ndarray, k: int) -> np.ndarray:
    # |sinc^(k)(x)| <= pi^k / (k+1) (sinc^(k)(x) = int_0^1 (pi s)^k cos^(k)(pi x s) ds), and ~pi^k / |pi x| far out
    return np.pi ** k * np.minimum(1.0 / (k + 1), 1.0 / np.maximum(np.abs(np.pi * x), 1e-300))


@needs_extended
def test_reference_is_right_where_simple():
    # sinc'(0) = 0, sinc''(0) = -pi^2/3, sinc''''(0) = pi^4/5; sinc'(1) = -1 (cos(pi) / 1 - 0)
    assert _reference(0.0, 1) == 0.0
    assert _reference(0.0, 2) == pytest.approx(-np.pi ** 2 / 3, rel=1e-16)
    assert _reference(0.0, 4) == pytest.approx(np.pi ** 4 / 5, rel=1e-16)
    assert _reference(1.0, 1) == pytest.approx(-1.0, rel=1e-16)
    # the two branches of the reference meet at |pi x| = 1
    for k in range(1, 5):
        a, b = _reference(np.nextafter(1 / np.pi, 0), k), _reference(np.nextafter(1 / np.pi, 1), k)
        assert abs(a - b) <= 1e-15 * np.pi ** k


@needs_extended
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_taylor_mode_sinc_derivatives_to_ulps(k):
    x = _points()
    got = hd.derivative(np.sinc, k)(x)
    want = np.array([_reference(float(v), k) for v in x])
    err = np.abs(got - want) / _scale(x, k)
    assert np.max(err) < 1e-14, (k, x[np.argmax(err)], np.max(err))


@needs_extended
@pytest.mark.parametrize("k", [1, 2, 3])
def test_nested_grad_sinc_derivatives_to_ulps(k):
    # forward-over-reverse and reverse-over-reverse nest the first-order rule, the other side of the fuzz relation
    f = np.sinc
    for _ in range(k):
        f = hd.grad(f)
    x = _points()[::3]
    got = np.array([float(f(float(v))) for v in x])
    want = np.array([_reference(float(v), k) for v in x])
    err = np.abs(got - want) / _scale(x, k)
    assert np.max(err) < 1e-14, (k, x[np.argmax(err)], np.max(err))


def test_taylor_coefficients_agree_with_hessian_at_the_fuzz_points():
    # the fuzz relation itself, without the reference: c2 of t -> sum(w sinc(x + t v)) = v.H.v / 2
    x = np.array(FUZZ_POINTS)
    rng = np.random.default_rng(3)
    w, v = rng.uniform(-1, 1, x.size), rng.uniform(-1, 1, x.size)
    s = lambda z: np.sum(w * np.sinc(z))
    c = hd.taylor(s, x, v, order=3)
    vhv = v @ hd.hessian(s)(x) @ v
    assert abs(2 * c[2] - vhv) <= 1e-14 * np.pi ** 2 * np.sum(np.abs(w * v * v))


@pytest.mark.parametrize("k", [10, 40, 170])
def test_high_orders_at_zero_neither_overflow_nor_underflow(k):
    # sinc^(2j)(0) = (-1)^j pi^(2j) / (2j+1), odd orders vanish; at order 170 the series' 1/(2n+1)! alone would
    # underflow (the rule forms pi^m / (2n+1)! exactly before rounding)
    got = hd.derivative(np.sinc, k)(np.array([0.0, 1e-3]))
    want = (-1) ** (k // 2) * np.pi ** k / (k + 1)
    assert got[0] == pytest.approx(want, rel=1e-13)
    assert hd.derivative(np.sinc, k - 1)(0.0) == 0.0
    # at 1e-3 the even derivative moves by sinc^(k+2)(0) 1e-6 / 2 ~ pi^2 / 2e6 of itself: still within 1e-5
    assert got[1] == pytest.approx(want, rel=1e-5)
