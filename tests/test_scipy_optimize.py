"""``hodiff.scipy.optimize``: ``root`` differentiated by the implicit function theorem, and the Rosenbrock helpers.

Values are compared with scipy's on the same inputs; derivatives of ``root``'s solution with the closed-form
solution of the same system, differentiated by hand (first order) or by hodiff's ordinary path through the closed
form (second order: no solver and no custom rule involved); the Rosenbrock derivatives with scipy's own
``rosen_der``/``rosen_hess`` and with a third derivative written out here.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so

import hodiff as hd
import hodiff.scipy
from hodiff.scipy.optimize import root, rosen, rosen_der, rosen_hess, rosen_hess_prod

RNG = np.random.default_rng(11)
XS = [RNG.uniform(-1.5, 2.0, n) for n in (2, 3, 7)]


def test_namespace():
    assert "optimize" in hodiff.scipy.__all__
    assert hodiff.scipy.optimize.root is root


@pytest.mark.parametrize("x", XS, ids=lambda x: f"n{x.size}")
def test_rosen_values_match_scipy(x):
    p = RNG.standard_normal(x.size)
    assert rosen(x) == pytest.approx(so.rosen(x), rel=1e-14)
    scale = lambda a: 1e-14 * max(1.0, np.max(np.abs(a)))
    np.testing.assert_allclose(rosen_der(x), so.rosen_der(x), rtol=0, atol=scale(so.rosen_der(x)))
    np.testing.assert_allclose(rosen_hess(x), so.rosen_hess(x), rtol=0, atol=scale(so.rosen_hess(x)))
    np.testing.assert_allclose(rosen_hess_prod(x, p), so.rosen_hess_prod(x, p), rtol=0,
                               atol=scale(so.rosen_hess_prod(x, p)))
    X = RNG.uniform(-1, 2, (x.size, 4))   # scipy sums over axis 0
    np.testing.assert_allclose(rosen(X), so.rosen(X), rtol=1e-12)
    assert rosen([1, 1, 1]) == 0.0          # integer input, as scipy accepts


@pytest.mark.parametrize("x", XS, ids=lambda x: f"n{x.size}")
def test_rosen_derivatives(x):
    H = so.rosen_hess(x)
    tol = 1e-13 * np.max(np.abs(H))
    np.testing.assert_allclose(hd.grad(rosen)(x), so.rosen_der(x), rtol=0, atol=tol)
    np.testing.assert_allclose(hd.hessian(rosen)(x), H, rtol=0, atol=tol)
    np.testing.assert_allclose(hd.jacfwd(rosen_der)(x), H, rtol=0, atol=tol)
    np.testing.assert_allclose(hd.jacrev(rosen_der)(x), H, rtol=0, atol=tol)
    p = RNG.standard_normal(x.size)
    np.testing.assert_allclose(hd.jacfwd(lambda x: rosen_hess_prod(x, p))(x),
                               hd.jacfwd(lambda x: rosen_hess(x) @ p)(x), rtol=0, atol=tol)
    # third derivative: dH_ii/dx_i = 2400 x_i (i < n-1), dH_ii/dx_{i+1} = -400, dH_{i,i+1}/dx_i = -400
    n = x.size
    T = np.zeros((n, n, n))
    for i in range(n - 1):
        T[i, i, i] = 2400 * x[i]
        T[i, i, i + 1] = T[i, i + 1, i] = T[i + 1, i, i] = -400.0
    np.testing.assert_allclose(hd.jacfwd(rosen_hess)(x), T, rtol=0, atol=1e-12 * np.max(np.abs(T)))
    np.testing.assert_allclose(hd.jacrev(hd.hessian(rosen))(x), T, rtol=0, atol=1e-12 * np.max(np.abs(T)))


# ----------------------------------------------------------------------------------------------------------------
# root: F(x; a, b) = [x0^2 + x1^2 - a, x0 - b x1] = 0 has, from x0 = (1, 1), x1 = sqrt(a / (1 + b^2)), x0 = b x1

def _F(x, a, b):
    return np.stack([x[0] ** 2 + x[1] ** 2 - a, x[0] - b * x[1]])


def _closed(a, b):
    x1 = np.sqrt(a / (1 + b ** 2))
    return np.stack([b * x1, x1])


def _solve(a, b):
    return root(_F, np.ones(2), args=(a, b), tol=1e-12).x


A, B = 2.3, 0.7


def test_root_value_is_scipys():
    mine = root(_F, np.ones(2), args=(A, B), tol=1e-12)
    ref = so.root(_F, np.ones(2), args=(A, B), tol=1e-12)
    np.testing.assert_array_equal(mine.x, ref.x)
    assert mine.success and mine.nfev == ref.nfev
    np.testing.assert_allclose(mine.x, _closed(A, B), rtol=1e-13)


def test_root_first_order_analytic():
    s = 1 + B ** 2
    x1 = np.sqrt(A / s)
    dx1_da, dx1_db = 0.5 / np.sqrt(A * s), -np.sqrt(A) * B * s ** -1.5
    want = np.array([[B * dx1_da, x1 + B * dx1_db], [dx1_da, dx1_db]])   # rows x0, x1; columns a, b
    ab = np.array([A, B])
    sol = lambda ab: _solve(ab[0], ab[1])
    np.testing.assert_allclose(hd.jacfwd(sol)(ab), want, rtol=1e-12)
    np.testing.assert_allclose(hd.jacrev(sol)(ab), want, rtol=1e-12)
    assert hd.grad(lambda a: _solve(a, B)[1])(A) == pytest.approx(dx1_da, rel=1e-12)
    assert hd.jvp(lambda b: _solve(A, b), (B,), (1.0,))[1][0] == pytest.approx(x1 + B * dx1_db, rel=1e-12)


def test_root_second_order():
    ab = np.array([A, B])
    w = np.array([0.6, -1.3])
    s_root = lambda ab: w @ _solve(ab[0], ab[1])
    s_closed = lambda ab: w @ _closed(ab[0], ab[1])
    H = hd.hessian(s_closed)(ab)
    np.testing.assert_allclose(hd.hessian(s_root)(ab), H, rtol=1e-11)
    v = np.array([0.4, 1.0])
    np.testing.assert_allclose(hd.hvp(s_root, ab, v), H @ v, rtol=1e-11)
    np.testing.assert_allclose(hd.jacrev(hd.grad(s_root))(ab), H, rtol=1e-11)
    # d^2 x1 / da^2 = -(1/4) a^{-3/2} (1 + b^2)^{-1/2}
    assert hd.grad(hd.grad(lambda a: _solve(a, B)[1]))(A) == pytest.approx(-0.25 * A ** -1.5 / np.sqrt(1 + B ** 2),
                                                                            rel=1e-11)


def test_root_static_args_and_jac_true():
    # an integer argument is a constant; with jac=True fun returns (residual, Jacobian)
    def F(x, a, k):
        r = x ** k - a
        return r, np.diag(k * x ** (k - 1))
    a = np.array([2.0, 5.0])
    sol = lambda a: root(F, np.ones(2), args=(a, 3), jac=True, tol=1e-12).x
    np.testing.assert_allclose(sol(a), np.cbrt(a), rtol=1e-13)
    np.testing.assert_allclose(hd.jacfwd(sol)(a), np.diag(a ** (-2 / 3) / 3), rtol=1e-12)
    np.testing.assert_allclose(hd.jacrev(sol)(a), np.diag(a ** (-2 / 3) / 3), rtol=1e-12)


def test_root_tensor_api():
    a = hd.tensor(A, requires_grad=True)
    x = root(_F, np.ones(2), args=(a, B), tol=1e-12).x
    x[1].backward()
    assert float(hd.stop_gradient(a.grad)) == pytest.approx(0.5 / np.sqrt(A * (1 + B ** 2)), rel=1e-12)


def test_root_non_square_system_refuses_derivative():
    # method 'lm' accepts more residuals than unknowns; the implicit function theorem needs a square system
    F = lambda x, a: np.stack([x[0] - a, x[1] - 2 * a, x[0] + x[1] - 3 * a])
    assert np.allclose(root(F, np.zeros(2), args=(1.0,), method="lm").x, [1.0, 2.0])
    with pytest.raises(ValueError, match="square system"):
        hd.grad(lambda a: root(F, np.zeros(2), args=(a,), method="lm").x[0])(1.0)
