"""``hd.optimize.minimize``: SciPy's minimizers driven by one plain numpy objective.

Checked: every gradient-based method converges to the Rosenbrock minimum from one objective and keeps ``x0``'s shape;
the value and the gradient are computed once per point (counted inside the objective); Hessian-vector products share
one linearization per point; the other SciPy arguments (``args``, ``bounds``, ``tol``, ``options``, ``callback``)
pass through; no "method does not use ..." warnings.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize as so

import hodiff as hd
from hodiff._src.core.engine import Box, base_value
from hodiff.optimize import minimize


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_2d(x):
    """Rosenbrock of a (2, 3) array, read in C order: the same function of x.ravel()."""
    return rosen(x.reshape(-1))


X0 = np.array([[0.2, 0.5, -0.1], [0.8, 1.2, 0.3]])   # in the basin of the global minimum (n = 6 has two)

METHODS = ["trust-krylov", "trust-ncg", "Newton-CG", "trust-exact", "L-BFGS-B", "BFGS", "CG", "trust-constr"]


@pytest.fixture(autouse=True)
def _no_unused_derivative_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*does not use.*", category=RuntimeWarning)
        yield


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("method", METHODS)
def test_methods_converge_from_one_objective(method, compiled):
    opts = {"maxiter": 2000} if method in ("BFGS", "CG", "L-BFGS-B", "trust-constr") else None
    res = minimize(rosen_2d, X0, method=method, options=opts, tol=1e-10, compiled=compiled)
    assert res.compile_fallback is None
    assert res.x.shape == X0.shape
    np.testing.assert_allclose(res.x, np.ones_like(X0), atol=2e-4)
    assert (res.grad if method == "trust-constr" else res.jac).shape == X0.shape   # trust-constr: jac = constraints
    assert res.fun < 1e-8
    if method in ("trust-krylov", "trust-ncg", "Newton-CG", "trust-constr"):
        assert res.n_hessp > 0 and res.n_hess == 0
        if compiled:     # products from the compiled forward-over-reverse program: no linearization per point
            assert res.n_linearize == 0
        else:
            assert 0 < res.n_linearize <= res.n_value_and_grad + 1
    elif method == "trust-exact":
        assert res.n_hess > 0 and res.n_hessp == 0
    else:
        assert res.n_hessp == res.n_hess == 0


def _logged(f):
    """``f`` that records, per call, the point's bytes and whether it was a reverse sweep (a tensor over the point)
    or a second-order pass (a tensor over a dual number: a linearization, or the dense Hessian)."""
    log = []

    def g(x, *args):
        inner = x._base() if isinstance(x, Box) else x
        log.append((np.asarray(base_value(x)).tobytes(), "second" if isinstance(inner, Box) else "value_and_grad"))
        return f(x, *args)
    return g, log


@pytest.mark.parametrize("method", ["trust-krylov", "Newton-CG", "BFGS", "L-BFGS-B", "trust-exact"])
def test_value_and_gradient_once_per_point(method):
    g, log = _logged(rosen)      # the log reads the numbers of x: counted eagerly (compiled=False)
    res = minimize(g, np.full(8, -1.0), method=method, compiled=False)
    vg = [k for k, kind in log if kind == "value_and_grad"]
    assert len(vg) == len(set(vg)) == res.n_value_and_grad      # never twice at the same point
    lin = [k for k, kind in log if kind == "second"]
    # one recording per point for all its products (trust-exact: one dense Hessian per point)
    assert len(lin) == len(set(lin)) == res.n_linearize + res.n_hess
    if method in ("trust-krylov", "Newton-CG"):
        assert res.n_hessp > res.n_linearize                     # several products replayed per recording
        assert set(lin) <= set(vg)


def test_hessian_modes_agree():
    results = {}
    for mode in ("operator", "hvp", "dense"):
        res = minimize(rosen, np.full(6, 0.5), method="Newton-CG", hessian=mode, tol=1e-12, compiled=False)
        np.testing.assert_allclose(res.x, np.ones(6), atol=1e-6)
        results[mode] = res
    assert results["dense"].n_hess > 0 and results["dense"].n_hessp == 0
    assert results["hvp"].n_linearize == 0 and results["hvp"].n_hessp > 0
    # the same iterates: the operator's products equal fresh ones to rounding
    assert results["operator"].nit == results["hvp"].nit
    with pytest.raises(ValueError, match="hessian must be"):
        minimize(rosen, np.zeros(3), hessian="bfgs")


def test_args_bounds_callback_and_options_pass_through():
    target = np.array([[0.5, -2.0], [3.0, 0.25]])

    def f(x, c, scale):
        return scale * np.sum((x - c) ** 2) + np.sum(x ** 4) * 1e-3

    seen = []
    bounds = so.Bounds(np.full((2, 2), -1.0), np.full((2, 2), 1.0))
    res = minimize(f, np.zeros((2, 2)), method="L-BFGS-B", args=(target, 2.0), bounds=bounds,
                   callback=lambda xk: seen.append(xk.shape), options={"maxiter": 50})
    assert res.success and res.x.shape == (2, 2)
    assert np.all(res.x <= 1.0 + 1e-12) and np.all(res.x >= -1.0 - 1e-12)
    np.testing.assert_allclose(res.x[0, 1], -1.0)                  # held at the bound
    np.testing.assert_allclose(res.x[1, 0], 1.0)
    assert seen and set(seen) == {(2, 2)}

    got = []
    res = minimize(f, np.zeros((2, 2)), method="trust-krylov", args=(target, 2.0),
                   callback=lambda intermediate_result: got.append(intermediate_result.x.shape))
    assert res.success and got and set(got) == {(2, 2)}


def test_derivative_free_methods_evaluate_f_only():
    res = minimize(rosen, np.array([0.9, 0.8]), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    np.testing.assert_allclose(res.x, np.ones(2), atol=1e-5)
    assert res.n_value_and_grad == 0 and res.n_value > 0


def test_user_derivatives_override():
    calls = []

    def my_jac(x):
        calls.append(1)
        return so.rosen_der(x)

    res = minimize(rosen, np.zeros(4), method="BFGS", jac=my_jac)
    assert res.success and calls
    res = minimize(rosen, np.zeros(4), method="trust-ncg", hessp=so.rosen_hess_prod)
    assert res.success and res.n_hessp == 0


def test_operator_trust_region_on_a_large_problem():
    n = 2000

    def ext_rosen(x):
        xo, xe = x[0::2], x[1::2]
        return np.sum(100.0 * (xe - xo ** 2) ** 2 + (1.0 - xo) ** 2)

    res = minimize(ext_rosen, np.tile([-1.2, 1.0], n // 2), method="trust-krylov")
    assert res.success
    np.testing.assert_allclose(res.x, np.ones(n), atol=1e-6)
    assert res.n_hessp > res.n_linearize


def test_optimize_module_is_reachable_as_hd_optimize():
    import hodiff.optimize
    assert hd.optimize is hodiff.optimize
    assert hodiff.optimize.__all__ == ["minimize"]


def test_one_element_objective_in_minimize_and_hessian_operator():
    """An objective returning shape (1,) counts as a scalar, as in hd.grad (it used to fail in float())."""
    f = lambda p: np.sum((p["a"] - 1.0) ** 2) + (p["b"][0] + 2.0) ** 2      # noqa: E731 - shape (1,)
    res = hd.optimize.minimize(f, {"a": np.zeros(2), "b": [np.zeros(1)]}, method="Newton-CG")
    np.testing.assert_allclose(res.x["a"], [1.0, 1.0], atol=1e-8)
    np.testing.assert_allclose(res.x["b"][0], [-2.0], atol=1e-8)
    g = lambda x: x[:1] ** 3 + x[1:2] * x[:1]                              # noqa: E731 - H = [[6 x0, 1], [1, 0]]
    x = np.array([1.0, 2.0])
    H = hd.hessian_operator(g, x)
    np.testing.assert_allclose(H @ np.array([1.0, 0.0]), [6.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(H @ np.array([0.0, 1.0]), [1.0, 0.0], rtol=1e-14)
    assert H.value == 3.0
    np.testing.assert_allclose(H.grad, [5.0, 1.0], rtol=1e-14)
    with pytest.raises(TypeError, match="scalar output"):           # a vector objective is refused by name
        hd.optimize.minimize(lambda x: x ** 2, np.ones(2), method="BFGS")
