"""Orders and directions of Taylor mode (issue 12): bad orders refused by type and value, huge orders refused
before any work, no ``OverflowError`` from factorials, complex directions at real points refused."""
import math
import time
import warnings

import numpy as np
import pytest

import hodiff as hd


@pytest.mark.parametrize("order", [2.0, 1.5, True, False, "3", None, np.float64(2.0)])
def test_derivative_refuses_non_integer_orders(order):
    with pytest.raises(TypeError, match="non-negative int"):
        hd.derivative(np.sin, order)


@pytest.mark.parametrize("order", [-1, -10**9, np.int64(-2)])
def test_derivative_refuses_negative_orders(order):
    with pytest.raises(ValueError, match="non-negative int"):
        hd.derivative(np.sin, order)


@pytest.mark.parametrize("order", [171, 500, 10**9, 10**30])
def test_derivative_refuses_orders_beyond_float64_factorials_before_any_work(order):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="above 170") as err:
        hd.derivative(np.exp, order)
    assert "k!" in str(err.value) and "hd.taylor" in str(err.value)
    assert time.perf_counter() - t0 < 0.5


def test_numpy_integer_order_is_accepted():
    d = hd.derivative(lambda x: x ** 5, np.int64(3))
    assert d(2.0) == pytest.approx(60 * 2.0 ** 2, rel=1e-14)


def test_highest_derivative_order_170_is_exact_for_known_series():
    # exp: every derivative is exp(x)
    assert hd.derivative(np.exp, 170)(0.0) == pytest.approx(1.0, rel=1e-12)
    # 1 / (1 - x): the k-th derivative at 0 is k!, 170! ~ 7.3e306, just inside float64
    assert hd.derivative(lambda x: 1.0 / (1.0 - x), 170)(0.0) == pytest.approx(float(math.factorial(170)), rel=1e-12)
    # sin: period 4 in the order
    assert hd.derivative(np.sin, 160)(0.3) == pytest.approx(np.sin(0.3), rel=1e-12)
    assert hd.derivative(np.sin, 169)(0.3) == pytest.approx(np.cos(0.3), rel=1e-12)


def test_order_zero_is_the_function():
    assert hd.derivative(np.sin, 0)(0.4) == pytest.approx(np.sin(0.4), rel=1e-15)


@pytest.mark.parametrize("order", [2.0, True, "2", -1, 1001, 10**9])
def test_taylor_refuses_bad_orders(order):
    err = TypeError if not isinstance(order, int) or isinstance(order, bool) else ValueError
    with pytest.raises(err, match="order"):
        hd.taylor(np.sin, 0.5, 1.0, order)


def test_taylor_high_order_coefficients_against_the_geometric_series():
    # 1 / (1 - x) at x0 along v = 1: c_k = 1 / (1 - x0)^(k + 1) = 2^(k + 1), exact in float64
    c = hd.taylor(lambda x: 1.0 / (1.0 - x), 0.5, 1.0, order=200)
    np.testing.assert_allclose(c, 2.0 ** np.arange(1, 202), rtol=1e-12)


def test_taylor_exp_coefficients_to_order_170():
    c = hd.taylor(np.exp, 0.25, 1.0, order=170)
    ref = np.array([math.exp(0.25 - math.lgamma(k + 1)) for k in range(171)])
    np.testing.assert_allclose(c, ref, rtol=1e-11)


@pytest.mark.parametrize("v", [np.array([1.0 + 1.0j, 0.5j]), np.array([1.0, 2.0], dtype=complex),
                               [1j, 1.0]])
def test_taylor_refuses_complex_direction_at_real_point(v):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # not a ComplexWarning: an error
        with pytest.raises(TypeError, match="complex"):
            hd.taylor(lambda x: np.sum(x ** 2), np.array([1.0, 2.0]), v, order=2)


def test_taylor_refuses_complex_direction_of_one_argument_of_several():
    with pytest.raises(TypeError, match="complex"):
        hd.taylor(lambda x, y: x * y, (1.0, 2.0), (1.0, 1j), order=2)


def test_taylor_refuses_complex_scalar_direction_and_non_numeric_direction():
    with pytest.raises(TypeError, match="complex"):
        hd.taylor(np.sin, 0.5, 1j, order=1)
    with pytest.raises(TypeError, match="numeric"):
        hd.taylor(np.sin, 0.5, "up", order=1)


def test_taylor_real_direction_still_matches_analytic():
    # sum(x^3) along v: c1 = sum(3 x^2 v), c2 = sum(3 x v^2), c3 = sum(v^3)
    x, v = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    c = hd.taylor(lambda x: np.sum(x ** 3), x, v, order=3)
    np.testing.assert_allclose(c, [np.sum(x ** 3), np.sum(3 * x ** 2 * v), np.sum(3 * x * v ** 2), np.sum(v ** 3)],
                               rtol=1e-14)


@pytest.mark.parametrize("out", [None, "abc", "generator", "dict"])
def test_derivative_and_taylor_refuse_outputs_that_are_not_arrays(out):
    """A function returning None, a string, a generator or a dict gets an error naming it, never a zero derivative."""
    def f(x):
        if out == "generator":
            return (v for v in [x])
        if out == "dict":
            return {"a": x}
        return out
    with pytest.raises(TypeError, match="derivative: the function returned"):
        hd.derivative(f)(1.0)
    with pytest.raises(TypeError, match="derivative: the function returned"):
        hd.derivative(f, 0)(1.0)
    with pytest.raises(TypeError, match="taylor: the function returned"):
        hd.taylor(f, np.ones(2), np.ones(2))
