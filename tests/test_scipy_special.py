"""Checks of ``hodiff.scipy.special``: values against scipy on the same inputs, derivatives against independent
references (finite differences, analytic formulas, other hodiff strategies), to third order.

The new primitives (``hodiff/scipy/_special_table.py`` and ``_bessel_table.py``) are walked by the very test bodies
of ``tests/test_primitive_table.py`` (value, JVP and VJP vs finite differences, transpose identity, batched
tangents, second order), called with hypothesis seeds from here. Arguments hodiff does not differentiate (orders,
the shape parameters of ``gammainc``/``betainc``, the exponent of ``zeta``) are keyword parameters of the primitives;
:func:`test_unsupported_derivatives_raise` checks that the public functions refuse a traced value for them.
``test_primitive_table`` is imported before ``hodiff.scipy`` so that its own parametrization stays the engine's
table when this file is collected first.
"""
from __future__ import annotations

import numpy as np
from _fd import central_grad
import pytest
import scipy.special as sp
import test_primitive_table as tpt  # noqa: I001  (before hodiff.scipy: see the module docstring)
from hypothesis import given, settings

import hodiff as hd
from hodiff.scipy import _bessel_table as B
from hodiff.scipy import _special_table as T
from hodiff.scipy import special

NEW = sorted(v.name for m in (T, B) for v in vars(m).values() if isinstance(v, hd.Primitive))
# second order runs many finite differences per example: fewer examples keep the file to seconds
FEW = settings(max_examples=4)


def _run(test, name, seed):
    """One body of ``test_primitive_table`` on ``name``."""
    getattr(tpt, test).hypothesis.inner_test(name, seed)


def test_new_primitives_are_declared():
    assert len(NEW) >= 45, NEW
    for name in NEW:
        assert name in hd.PRIMITIVES


@pytest.mark.parametrize("name", NEW)
def test_entry_is_complete(name):
    tpt.test_entry_is_complete(name)


@pytest.mark.parametrize("name", NEW)
@FEW
@given(seed=tpt.SEEDS)
def test_value_and_first_order(name, seed):
    for test in ("test_value", "test_jvp_matches_finite_differences",
                 "test_vjp_matches_finite_differences_and_transposes_jvp",
                 "test_batched_jvp_equals_stacked_single_jvps"):
        _run(test, name, seed)


@pytest.mark.parametrize("name", NEW)
@FEW
@given(seed=tpt.SEEDS)
def test_second_order(name, seed):
    _run("test_second_order", name, seed)


# ------------------------------------------------------------------------------------------------------------------
# third order: Taylor mode (the rules built from the JVP rules) vs nested reverse mode, on every new primitive


def _scalar_point(name, seed=0):
    prim = hd.PRIMITIVES[name]
    args, params = prim.domain(np.random.default_rng(seed))
    args = [float(np.ravel(a)[0]) for a in args]
    params = {k: (v.ravel()[0] if isinstance(v, np.ndarray) else v) for k, v in params.items()}
    idx = [i for i in range(len(args)) if prim.jvp[i] is not None]
    return prim, args, params, idx


@pytest.mark.parametrize("name", NEW)
def test_taylor_matches_nested_grads_to_third_order(name):
    prim, args, params, idx = _scalar_point(name)
    for i in idx:
        def f(z, i=i):
            full = list(args)
            full[i] = z
            return hd.bind(prim, *full, **params)
        nested = f
        for k in (1, 2, 3):
            nested = hd.grad(nested)
            want = nested(args[i])
            got = hd.derivative(f, k)(args[i])
            np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13, err_msg=f"{name} arg {i} order {k}")


# ------------------------------------------------------------------------------------------------------------------
# third order against analytic formulas (independent of both hodiff strategies)


def test_gamma_third_derivative_analytic():
    x = np.array([0.7, 1.5, 3.2])
    p0, p1, p2 = sp.psi(x), sp.polygamma(1, x), sp.polygamma(2, x)
    want = sp.gamma(x) * (p0 ** 3 + 3 * p0 * p1 + p2)
    np.testing.assert_allclose(hd.derivative(special.gamma, 3)(x), want, rtol=1e-12)


@pytest.mark.parametrize("v", [0.0, 1.0, 2.5])
def test_jv_third_derivative_analytic(v):
    x = np.array([0.8, 2.0, 5.5])
    want = (sp.jv(v - 3, x) - 3 * sp.jv(v - 1, x) + 3 * sp.jv(v + 1, x) - sp.jv(v + 3, x)) / 8
    np.testing.assert_allclose(hd.derivative(lambda z: special.jv(v, z), 3)(x), want, rtol=1e-12, atol=1e-15)
    d3 = hd.grad(hd.grad(hd.grad(lambda z: special.jv(v, z))))
    np.testing.assert_allclose([d3(z) for z in x], want, rtol=1e-12, atol=1e-15)


def test_k1_and_y1_second_derivative_analytic():
    x = np.array([0.6, 1.7, 4.0])
    np.testing.assert_allclose(hd.derivative(special.k1, 2)(x), (sp.kv(-1, x) + 2 * sp.kv(1, x) + sp.kv(3, x)) / 4,
                               rtol=1e-12)
    np.testing.assert_allclose(hd.derivative(special.y1, 2)(x), (sp.yv(-1, x) - 2 * sp.yv(1, x) + sp.yv(3, x)) / 4,
                               rtol=1e-11)


@pytest.mark.parametrize("lm", [0.0, 1e-9, 0.01, -0.05, 0.7])
def test_boxcox_lambda_derivatives_near_zero(lm):
    # boxcox(x, l) = sum_{k>=1} l^(k-1) L^k / k!, so d^m/dl^m at l = 0 is L^(m+1) / (m+1); away from 0, compare
    # with the closed form's own expansion around l: d/dl = (x^l L - boxcox) / l
    x = 1.8
    L = np.log(x)
    f = lambda l: special.boxcox(x, l)  # noqa: E731
    if lm == 0.0:
        for m in (1, 2, 3):
            np.testing.assert_allclose(hd.derivative(f, m)(lm), L ** (m + 1) / (m + 1), rtol=1e-13)
    exact1 = sum(L ** k / np.prod(np.arange(1.0, k + 1)) * (k - 1) * lm ** (k - 2) for k in range(2, 40))
    np.testing.assert_allclose(hd.grad(f)(lm), exact1, rtol=1e-13)
    exact3 = sum(L ** k / np.prod(np.arange(1.0, k + 1)) * (k - 1) * (k - 2) * (k - 3) * lm ** (k - 4)
                 for k in range(4, 40))
    np.testing.assert_allclose(hd.grad(hd.grad(hd.grad(f)))(lm), exact3, rtol=1e-10)
    np.testing.assert_allclose(hd.derivative(f, 3)(lm), exact3, rtol=1e-10)


def test_zeta_q_derivatives_analytic():
    x, q = 3.0, np.array([0.5, 1.0, 2.5])
    # d^k/dq^k zeta(x, q) = (-1)^k x (x+1) ... (x+k-1) zeta(x+k, q)
    for k, c in ((1, -x), (2, x * (x + 1)), (3, -x * (x + 1) * (x + 2))):
        np.testing.assert_allclose(hd.derivative(lambda z: special.zeta(x, z), k)(q), c * sp.zeta(x + k, q),
                                   rtol=1e-12)


def test_incomplete_functions_x_derivative_analytic():
    a, b, x = 2.5, 1.7, np.array([0.1, 0.4, 0.9])
    np.testing.assert_allclose(hd.jacfwd(lambda z: special.betainc(a, b, z))(x),
                               np.diag(x ** (a - 1) * (1 - x) ** (b - 1) / sp.beta(a, b)), rtol=1e-12, atol=1e-300)
    z = np.array([0.3, 2.0, 7.0])
    dens = z ** (a - 1) * np.exp(-z) / sp.gamma(a)
    np.testing.assert_allclose(hd.derivative(lambda t: special.gammainc(a, t), 1)(z), dens, rtol=1e-12)
    np.testing.assert_allclose(hd.derivative(lambda t: special.gammaincc(a, t), 2)(z), -dens * ((a - 1) / z - 1),
                               rtol=1e-12)


# ------------------------------------------------------------------------------------------------------------------
# unsupported derivatives raise, naming the function and the argument


@pytest.mark.parametrize("fn, args, pos, argname", [
    (special.gammainc, (2.0, 1.0), 0, "a"),
    (special.gammaincc, (2.0, 1.0), 0, "a"),
    (special.betainc, (2.0, 3.0, 0.4), 0, "a"),
    (special.betainc, (2.0, 3.0, 0.4), 1, "b"),
    (special.zeta, (3.0, 1.5), 0, "x"),
    (special.gammaincinv, (2.0, 0.3), 0, "a"),
    (special.betaincinv, (2.0, 3.0, 0.4), 1, "b"),
    (special.expn, (2, 1.5), 0, "n"),
    (special.zeta, (3.0,), 0, "x"),
    (special.jv, (1.5, 2.0), 0, "v"),
    (special.yn, (1, 2.0), 0, "n"),
])
def test_unsupported_derivatives_raise(fn, args, pos, argname):
    name = fn.__name__
    def f(z):
        full = list(args)
        full[pos] = z
        return fn(*full)
    for how in (lambda: hd.grad(f)(args[pos]), lambda: hd.jvp(f, (args[pos],), (1.0,)),
                lambda: hd.derivative(f, 2)(args[pos]), lambda: hd.hessian(f)(np.float64(args[pos]))):
        with pytest.raises(T.UnsupportedDerivativeError, match=rf"special\.{name}: .*argument {argname!r}"):
            how()
    # the supported arguments of the same call still differentiate, and the value is scipy's
    assert fn(*args) == getattr(sp, name)(*args)


# ------------------------------------------------------------------------------------------------------------------
# values against scipy through the public functions: broadcasting, argument order, re-exports

RNG = np.random.default_rng(7)
_U = lambda lo, hi, shape=(2, 3): RNG.uniform(lo, hi, size=shape)  # noqa: E731

CALLS = [
    ("gamma", (_U(0.2, 5),)), ("rgamma", (_U(-3, 5),)), ("beta", (_U(0.5, 3), _U(0.5, 3, (3,)))),
    ("betaln", (_U(0.5, 3, (2, 1)), _U(0.5, 3, (1, 3)))), ("gammainc", (_U(0.5, 3), _U(0.1, 4, (3,)))),
    ("gammaincc", (2.0, _U(0.1, 4))), ("betainc", (_U(0.5, 3, (3,)), 2.0, _U(0.05, 0.95))),
    ("erfinv", (_U(-0.99, 0.99),)), ("erfcinv", (_U(0.01, 1.99),)), ("erfcx", (_U(-3, 10),)),
    ("ndtri", (_U(0.001, 0.999),)), ("log_expit", (_U(-40, 40),)), ("entr", (_U(0, 3),)),
    ("rel_entr", (_U(0.1, 3), _U(0.1, 3, (3,)))), ("kl_div", (_U(0.1, 3), 1.5)), ("boxcox", (_U(0.2, 3), 0.0)),
    ("boxcox", (_U(0.2, 3), _U(-2, 2, (3,)))), ("zeta", (_U(1.2, 5), _U(0.2, 3, (3,)))), ("exp10", (_U(-3, 3),)),
    ("jv", (_U(-2, 3, (3,)), _U(0.1, 8))), ("jn", (2, _U(-8, 8))), ("yv", (1.5, _U(0.1, 8))), ("yn", (3, _U(0.1, 8))),
    ("iv", (0.5, _U(0.1, 5))), ("ive", (2, _U(-5, 5))), ("kv", (1.2, _U(0.1, 5))), ("kve", (0.3, _U(0.1, 5))),
    ("j0", (_U(-8, 8),)), ("j1", (_U(-8, 8),)), ("y0", (_U(0.1, 8),)), ("y1", (_U(0.1, 8),)), ("i0", (_U(-5, 5),)),
    ("i1", (_U(-5, 5),)), ("i0e", (_U(-5, 5),)), ("i1e", (_U(-5, 5),)), ("k0", (_U(0.1, 5),)), ("k1", (_U(0.1, 5),)),
    ("k0e", (_U(0.1, 5),)), ("k1e", (_U(0.1, 5),)), ("gammasgn", (_U(-3.5, 3.5),)), ("zeta", (_U(1.2, 5),)),
    ("kn", (np.array([0, 1, 3]), _U(0.1, 5))), ("exp1", (_U(0.01, 5),)), ("expi", (_U(-5, 5),)),
    ("expn", (np.array([0, 1, 4]), _U(0.1, 5))), ("gammaincinv", (_U(0.5, 3, (3,)), _U(0.01, 0.99))),
    ("gammainccinv", (2.0, _U(0.01, 0.99))), ("poch", (_U(0.5, 4), _U(-0.5, 3, (3,)))),
    ("binom", (_U(2, 9), _U(0.2, 2, (3,)))), ("binom", (np.array([5.0, 7.0, 10.0]), 3.0)),
    ("ndtri_exp", (_U(-50, -0.01),)), ("betaincinv", (_U(0.5, 3, (3,)), 1.5, _U(0.01, 0.99))),
]
REEXPORTS = [("erf", (_U(-2, 2),)), ("erfc", (_U(-2, 2),)), ("expit", (_U(-5, 5),)), ("logit", (_U(0.01, 0.99),)),
             ("ndtr", (_U(-3, 3),)), ("log_ndtr", (_U(-10, 3),)), ("gammaln", (_U(0.1, 10),)),
             ("psi", (_U(0.1, 10),)), ("digamma", (_U(0.1, 10),)), ("polygamma", (2, _U(0.1, 10))),
             ("xlogy", (_U(0, 2), _U(0.1, 2))), ("xlog1py", (_U(0, 2), _U(-0.5, 2))), ("expm1", (_U(-2, 2),)),
             ("log1p", (_U(-0.5, 2),)), ("cbrt", (_U(-2, 2),)), ("sinc", (_U(-2, 2),)), ("exp2", (_U(-3, 3),)),
             ("softplus", (_U(-30, 30),)), ("multigammaln", (_U(2, 6), 3))]


@pytest.mark.parametrize("name, args", CALLS, ids=[c[0] for c in CALLS])
def test_values_equal_scipy(name, args):
    got, want = getattr(special, name)(*args), getattr(sp, name)(*args)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_array_equal(got, want)   # scipy's own ufunc computes them


@pytest.mark.parametrize("name, args", REEXPORTS, ids=[c[0] for c in REEXPORTS])
def test_reexports_agree_with_scipy(name, args):
    got, want = getattr(special, name)(*args), getattr(sp, name)(*args)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=4e-16 * 8, atol=1e-300)


def test_namespace_covers_scipy_names():
    for name in special.__all__:
        if name != "UnsupportedDerivativeError":
            assert hasattr(sp, name), name
            assert callable(getattr(special, name))
    assert special.psi is special.digamma


def test_gammasgn_is_plain():
    out = hd.grad(lambda x: x * special.gammasgn(x))(-0.5)   # the sign is a constant factor
    assert out == -1.0
    assert type(special.gammasgn(hd.Dual(np.array([1.0, -0.5]), np.ones(2)))) is np.ndarray


# ------------------------------------------------------------------------------------------------------------------
# composites: logsumexp, softmax, log_softmax, multigammaln, softplus


def _central_grad(f, x, h=1e-5):
    return central_grad(f, x, h)


LSE_CASES = [dict(), dict(axis=0), dict(axis=1), dict(axis=-1, keepdims=True), dict(axis=(0, 1)),
             dict(b=np.array([0.5, 2.0, 1.0])), dict(b=np.array([[1.0], [3.0]]), axis=0),
             dict(b=np.array([1.0, -0.2, 2.0]), axis=1), dict(b=np.array([1.0, -3.0, 0.5]), axis=1, return_sign=True),
             dict(b=np.array([1.0, -3.0, 0.5]), return_sign=True, keepdims=True)]


@pytest.mark.parametrize("kw", LSE_CASES, ids=[str(sorted(k)) for k in LSE_CASES])
def test_logsumexp_values_and_derivatives(kw):
    a = np.array([[0.3, -1.2, 2.0], [1.1, 0.4, -0.7]])
    got, want = special.logsumexp(a, **kw), sp.logsumexp(a, **kw)
    if kw.get("return_sign"):
        np.testing.assert_array_equal(got[1], want[1])
        assert np.shape(got[1]) == np.shape(want[1])
        got, want = got[0], want[0]
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-15)
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, size=np.shape(want))

    def s_hd(x, b=kw.get("b")):
        out = special.logsumexp(x, **{**kw, "b": b})
        return hd.sum(hd.multiply(w, out[0] if kw.get("return_sign") else out))

    def s_np(x, b=kw.get("b")):
        out = sp.logsumexp(x, **{**kw, "b": b})
        return float(np.sum(w * (out[0] if kw.get("return_sign") else out)))

    g = hd.grad(s_hd)(a)
    np.testing.assert_allclose(g, _central_grad(s_np, a), rtol=1e-7, atol=1e-8)
    # second order: Hessian (reverse over reverse) vs hvp (forward over reverse) vs finite differences of grad
    v = rng.uniform(-1, 1, size=a.shape)
    hv = hd.hvp(s_hd, a, v)
    fd = (hd.grad(s_hd)(a + 1e-5 * v) - hd.grad(s_hd)(a - 1e-5 * v)) / 2e-5
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8)
    H = hd.hessian(s_hd)(a)
    np.testing.assert_allclose(np.tensordot(H, v, axes=2), hv, rtol=1e-12, atol=1e-14)
    if kw.get("b") is not None:
        b = np.broadcast_to(kw["b"], np.broadcast_shapes(np.shape(kw["b"]), a.shape)).copy() \
            if np.ndim(kw["b"]) == a.ndim else np.asarray(kw["b"], dtype=float)
        gb = hd.grad(lambda bb: s_hd(a, bb))(b)
        np.testing.assert_allclose(gb, _central_grad(lambda bb: s_np(a, bb), b), rtol=1e-7, atol=1e-8)


def test_logsumexp_edge_cases_match_scipy():
    for args, kw in [(([np.inf, 1.0],), dict(b=[0.0, 1.0])), (([-np.inf, -np.inf],), {}), ((3.0,), {}),
                     ((np.zeros((0, 3)),), dict(axis=0)), (([1.0, 2.0],), dict(b=[1.0, -2.0])),
                     (([-np.inf, -np.inf],), dict(return_sign=True)), (([np.inf, 0.0],), {})]:
        got, want = special.logsumexp(*args, **kw), sp.logsumexp(*args, **kw)
        np.testing.assert_array_equal(got, want, err_msg=f"{args} {kw}")
        assert type(np.asarray(got)[()]) is type(np.asarray(want)[()])
    # the derivative is the softmax; infinite entries with zero weight take no part
    g = hd.grad(lambda x: special.logsumexp(x, b=np.array([0.0, 1.0, 1.0])))(np.array([50.0, 0.0, np.log(3.0)]))
    np.testing.assert_allclose(g, [0.0, 0.25, 0.75], rtol=1e-15)


def test_logsumexp_third_order_along_a_line():
    a0, d = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    f = lambda t: special.logsumexp(a0 + t * d)  # noqa: E731
    # analytic: the cumulants of d under p = softmax(a): third derivative = E[(d - mean)^3]
    p = np.exp(a0 - sp.logsumexp(a0))
    c = d - p @ d
    np.testing.assert_allclose(hd.derivative(f, 2)(0.0), p @ c ** 2, rtol=1e-13)
    np.testing.assert_allclose(hd.derivative(f, 3)(0.0), p @ c ** 3, rtol=1e-12)
    np.testing.assert_allclose(hd.grad(hd.grad(hd.grad(f)))(0.0), p @ c ** 3, rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_softmax_and_log_softmax(axis):
    x = np.array([[0.3, -1.2, 2.0], [1.1, 0.4, -0.7]])
    np.testing.assert_allclose(special.softmax(x, axis=axis), sp.softmax(x, axis=axis), rtol=1e-15)
    np.testing.assert_allclose(special.log_softmax(x, axis=axis), sp.log_softmax(x, axis=axis), rtol=1e-14)
    # Jacobian of softmax along the last axis: diag(s) - s s^T
    if axis == 1:
        J = hd.jacrev(lambda z: special.softmax(z, axis=1))(x)
        for r in range(2):
            s = sp.softmax(x[r])
            np.testing.assert_allclose(J[r, :, r, :], np.diag(s) - np.outer(s, s), rtol=1e-13, atol=1e-16)
        Jf = hd.jacfwd(lambda z: special.log_softmax(z, axis=1))(x)
        for r in range(2):
            np.testing.assert_allclose(Jf[r, :, r, :], np.eye(3) - sp.softmax(x[r])[None, :], rtol=1e-13, atol=1e-16)


def test_multigammaln_values_and_derivatives():
    a = np.array([2.2, 3.0, 5.5])
    for d in (1, 2, 4):
        np.testing.assert_allclose(special.multigammaln(a, d), sp.multigammaln(a, d), rtol=1e-15)
        want1 = sum(sp.psi(a - j / 2) for j in range(d))
        want3 = sum(sp.polygamma(2, a - j / 2) for j in range(d))
        np.testing.assert_allclose(hd.derivative(lambda z: special.multigammaln(z, d), 1)(a), want1, rtol=1e-13)
        np.testing.assert_allclose(hd.derivative(lambda z: special.multigammaln(z, d), 3)(a), want3, rtol=1e-13)
    with pytest.raises(ValueError, match="condition a"):
        special.multigammaln(1.0, 4)
    with pytest.raises(ValueError, match="positive integer"):
        special.multigammaln(3.0, 1.5)


def test_softplus_and_log_expit_derivatives():
    x = np.array([-30.0, -1.0, 0.0, 2.0, 40.0])
    np.testing.assert_allclose(hd.derivative(special.softplus, 1)(x), sp.expit(x), rtol=1e-15)
    np.testing.assert_allclose(hd.derivative(special.log_expit, 1)(x), sp.expit(-x), rtol=1e-15)
    # -expit(x) expit(-x), accurate in both tails (the form e (1 - e) would cancel to 0 at x = 40)
    np.testing.assert_allclose(hd.derivative(special.log_expit, 2)(x), -sp.expit(x) * sp.expit(-x), rtol=1e-13)


def test_dispatch_table_for_the_integrator():
    ufuncs = {n for n in special.__all__ if isinstance(getattr(sp, n, None), np.ufunc)} - {"gammasgn"}
    assert {f.__name__ for f in special.SCIPY_UFUNCS} == {getattr(sp, n).__name__ for n in ufuncs}
    for uf, fn in special.SCIPY_UFUNCS.items():
        assert isinstance(uf, np.ufunc) and callable(fn)


@pytest.mark.parametrize("inv, fwd", [(special.gammaincinv, special.gammainc),
                                      (special.gammainccinv, special.gammaincc), (special.betaincinv, special.betainc)])
def test_inverse_of_incomplete_function_composes_to_identity(inv, fwd):
    params = (1.7, 2.4)[: 2 if fwd is special.betainc else 1]
    x = np.array([0.2, 0.5, 0.8])
    ident = lambda z: inv(*params, fwd(*params, z))  # noqa: E731
    np.testing.assert_allclose(ident(x), x, rtol=1e-12)
    np.testing.assert_allclose(hd.derivative(ident, 1)(x), 1.0, rtol=1e-10)
    np.testing.assert_allclose(hd.derivative(ident, 2)(x), 0.0, atol=1e-8)
    np.testing.assert_allclose(hd.derivative(ident, 3)(x), 0.0, atol=1e-7)
