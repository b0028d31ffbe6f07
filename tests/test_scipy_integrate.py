"""``hodiff.scipy.integrate``: values against scipy's own solvers, derivatives against closed forms and finite
differences, every pairing of forward and reverse mode to second order, and the errors that refuse what cannot be
differentiated.

References are independent of the code under test: the closed-form solution of ``y' = -k y`` (its derivatives with
respect to ``k``, ``y0`` and every time written out by hand below), and central differences of
``scipy.integrate.odeint`` itself at tight tolerances for Lotka-Volterra. With ``rtol = atol = 1e-10`` the solver's
error, and so the derivatives', is about 1e-8 relative here; the checks allow 1e-6.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si

import hodiff as hd
from hodiff.scipy.integrate import odeint, solve_ivp

TOL = {"rtol": 1e-10, "atol": 1e-10}
RTOL = 1e-6


def _close(got, want, rtol=RTOL):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = max(np.max(np.abs(want)), 1e-300)
    assert np.max(np.abs(got - want)) <= rtol * scale, (got, want)


# ------------------------------------------------------------------------------------------------------------
# y' = -k y: everything in closed form.  x = [k, y0, t0, t1, ..., t_{m-1}]

W_DECAY = np.array([0.3, -1.0, 2.0, 0.5])
X_DECAY = np.array([0.7, 1.5, 0.1, 0.5, 1.2, 2.0])


def decay(y, t, k):
    return -k * y


def decay_loss(x):
    return np.sum(W_DECAY * odeint(decay, x[1:2], x[2:], args=(x[0],), **TOL)[:, 0])


def decay_exact(x):
    """The loss, gradient and Hessian of ``decay_loss`` from y_i = y0 exp(-k (t_i - t0)), by hand."""
    k, y0, t0 = x[0], x[1], x[2]
    m = x.size
    val, g, H = 0.0, np.zeros(m), np.zeros((m, m))
    for i, w in enumerate(W_DECAY):
        s = x[2 + i] - t0
        y = y0 * np.exp(-k * s)
        val += w * y
        # derivatives of y_i in its own variables (k, y0, t_i, t0), then added where they sit in x: for i = 0,
        # t_i and t0 are the same entry of x and their contributions cancel (y_0 = y0 whatever t0)
        where = (0, 1, 2 + i, 2)
        d1 = (-s * y, y / y0, -k * y, k * y)
        d2 = np.array([[s * s * y, -s * y / y0, -y + k * s * y, y - k * s * y],
                       [-s * y / y0, 0.0, -k * y / y0, k * y / y0],
                       [-y + k * s * y, -k * y / y0, k * k * y, -k * k * y],
                       [y - k * s * y, k * y / y0, -k * k * y, k * k * y]])
        for a in range(4):
            g[where[a]] += w * d1[a]
            for b in range(4):
                H[where[a], where[b]] += w * d2[a, b]
    return val, g, H


def test_decay_value_matches_scipy_and_closed_form():
    got = odeint(decay, X_DECAY[1:2], X_DECAY[2:], args=(X_DECAY[0],), **TOL)
    want = si.odeint(decay, X_DECAY[1:2], X_DECAY[2:], args=(X_DECAY[0],), **TOL)
    np.testing.assert_array_equal(got, want)
    _close(decay_loss(X_DECAY), decay_exact(X_DECAY)[0], 1e-8)


def test_decay_first_order_reverse_and_forward():
    _, g, _ = decay_exact(X_DECAY)
    _close(hd.grad(decay_loss)(X_DECAY), g)                       # adjoint
    _close(hd.jacfwd(decay_loss)(X_DECAY), g)                     # forward sensitivities, all 6 directions batched
    v = np.array([0.3, -0.2, 0.5, 0.1, -0.4, 0.7])
    _close(hd.jvp(decay_loss, (X_DECAY,), (v,))[1], g @ v)        # one direction


@pytest.mark.parametrize("how", ["fwd-over-rev", "rev-over-rev", "fwd-over-fwd", "rev-over-fwd"])
def test_decay_second_order_every_pairing(how):
    _, _, H = decay_exact(X_DECAY)
    run = {"fwd-over-rev": lambda: hd.hessian(decay_loss)(X_DECAY),
           "rev-over-rev": lambda: hd.jacrev(hd.grad(decay_loss))(X_DECAY),
           "fwd-over-fwd": lambda: hd.jacfwd(hd.jacfwd(decay_loss))(X_DECAY),
           "rev-over-fwd": lambda: hd.jacrev(hd.jacfwd(decay_loss))(X_DECAY)}[how]
    _close(run(), H)


def test_decay_third_order_in_k():
    t_end = 1.5
    f = lambda k: odeint(decay, np.array([2.0]), np.array([0.0, t_end]), args=(k,), **TOL)[-1, 0]
    want = -2.0 * t_end ** 3 * np.exp(-0.5 * t_end)                # d3/dk3 y0 exp(-k t)
    _close(hd.grad(hd.grad(hd.grad(f)))(0.5), want)
    _close(hd.jacfwd(hd.grad(hd.jacfwd(f)))(0.5), want)


# ------------------------------------------------------------------------------------------------------------
# Lotka-Volterra against finite differences of scipy's odeint

T_LV = np.linspace(0.0, 4.0, 6)
Y0_LV = np.array([1.0, 0.5])
TH_LV = np.array([1.1, 0.4, 0.9, 0.3])
W_LV = np.random.default_rng(0).normal(size=(T_LV.size, 2))


def lotka_volterra(y, t, a, b, c, d):
    x, z = y
    return [a * x - b * x * z, -c * z + d * x * z]


def lv_loss(th, y0=Y0_LV, t=T_LV):
    return np.sum(W_LV * odeint(lotka_volterra, y0, t, args=tuple(th[i] for i in range(4)), **TOL))


def lv_loss_scipy(th, y0=Y0_LV, t=T_LV):
    return np.sum(W_LV * si.odeint(lotka_volterra, y0, t, args=tuple(th), rtol=1e-12, atol=1e-12))


def central(f, x, h=1e-3):
    """Fourth-order central differences of f (scalar or array valued) along each coordinate of x."""
    cols = []
    for e in np.eye(x.size):
        cols.append((-f(x + 2 * h * e) + 8 * f(x + h * e) - 8 * f(x - h * e) + f(x - 2 * h * e)) / (12 * h))
    return np.stack(cols, axis=-1)


def test_lv_values_match_scipy():
    args = tuple(TH_LV)
    np.testing.assert_array_equal(odeint(lotka_volterra, Y0_LV, T_LV, args=args),
                                  si.odeint(lotka_volterra, Y0_LV, T_LV, args=args))
    tf = lambda t, y, *a: lotka_volterra(y, t, *a)
    y, info = odeint(tf, Y0_LV, T_LV, args=args, tfirst=True, full_output=True, rtol=1e-6)
    y2, info2 = si.odeint(tf, Y0_LV, T_LV, args=args, tfirst=True, full_output=True, rtol=1e-6)
    np.testing.assert_array_equal(y, y2)
    assert info["message"] == info2["message"] and np.array_equal(info["nfe"], info2["nfe"])


@pytest.mark.parametrize("wrt", ["theta", "y0", "t"])
def test_lv_first_order_against_finite_differences(wrt):
    x0 = {"theta": TH_LV, "y0": Y0_LV, "t": T_LV}[wrt]
    f = {"theta": lambda x: lv_loss(x), "y0": lambda x: lv_loss(TH_LV, y0=x),
         "t": lambda x: lv_loss(TH_LV, t=x)}[wrt]
    fs = {"theta": lambda x: lv_loss_scipy(x), "y0": lambda x: lv_loss_scipy(TH_LV, y0=x),
          "t": lambda x: lv_loss_scipy(TH_LV, t=x)}[wrt]
    fd = central(fs, x0)
    _close(hd.grad(f)(x0), fd)
    _close(hd.jacfwd(f)(x0), fd)


def test_lv_second_order_against_finite_differences_of_the_gradient():
    v = np.array([0.3, -0.2, 0.5, 0.1])
    hv = hd.hvp(lv_loss, TH_LV, v)                                            # forward-over-reverse
    g = hd.grad(lv_loss)
    h = 1e-3
    fd = (-g(TH_LV + 2 * h * v) + 8 * g(TH_LV + h * v) - 8 * g(TH_LV - h * v) + g(TH_LV - 2 * h * v)) / (12 * h)
    _close(hv, fd)
    rf = hd.grad(lambda th: hd.jvp(lv_loss, (th,), (v,))[1])(TH_LV)           # reverse-over-forward
    _close(rf, hv)
    H = hd.hessian(lv_loss)(TH_LV)                                            # batched forward-over-reverse
    _close(H @ v, hv)
    _close(H, H.T)


def test_lv_jacobian_forward_equals_reverse():
    sol = lambda th: odeint(lotka_volterra, Y0_LV, T_LV, args=tuple(th[i] for i in range(4)), **TOL)
    Jf, Jr = hd.jacfwd(sol)(TH_LV), hd.jacrev(sol)(TH_LV)
    assert Jf.shape == (T_LV.size, 2, 4)
    _close(Jr, Jf)
    _close(Jf, central(lambda th: si.odeint(lotka_volterra, Y0_LV, T_LV, args=tuple(th), rtol=1e-12, atol=1e-12),
                       TH_LV))


def test_static_args_and_array_args():
    # an int among args is passed along untouched; an array argument is differentiated as a whole
    def f(y, t, rates, power):
        assert isinstance(power, int)
        return -rates * y ** power
    loss = lambda r: np.sum(odeint(f, np.array([1.0, 2.0]), np.array([0.0, 1.0]), args=(r, 1), **TOL)[-1])
    r = np.array([0.5, 1.5])
    _close(hd.grad(loss)(r), -np.array([1.0, 2.0]) * np.exp(-r))


# ------------------------------------------------------------------------------------------------------------
# solve_ivp

@pytest.mark.parametrize("method", ["RK45", "DOP853", "Radau", "LSODA"])
def test_solve_ivp_values_match_scipy(method):
    fun = lambda t, y, a, b: lotka_volterra(y, t, a, b, 0.9, 0.3)
    for t_eval in (None, np.linspace(0.5, 3.0, 5)):
        got = solve_ivp(fun, (0.0, 3.0), [1.0, 0.5], method=method, t_eval=t_eval, args=(1.1, 0.4), rtol=1e-6)
        want = si.solve_ivp(fun, (0.0, 3.0), [1.0, 0.5], method=method, t_eval=t_eval, args=(1.1, 0.4), rtol=1e-6)
        np.testing.assert_array_equal(got.t, want.t)
        np.testing.assert_allclose(got.y, want.y, rtol=1e-14, atol=1e-14)
        assert got.success and got.message == want.message and got.y.shape == want.y.shape


@pytest.mark.parametrize("method", ["RK45", "LSODA"])
def test_solve_ivp_derivatives_in_closed_form(method):
    # x = [k, y0, t0, t1]; outputs at t_eval (independent of t1) and at the solver's own times (last one is t1)
    t_eval = np.array([0.5, 1.0])

    def at_eval(x):
        r = solve_ivp(lambda t, y, k: -k * y, (x[2], x[3]), x[1:2], method=method, t_eval=t_eval, args=(x[0],),
                      rtol=1e-10, atol=1e-12)
        return r.y[0, 0] + 2.0 * r.y[0, 1]

    def at_end(x):
        return solve_ivp(lambda t, y, k: -k * y, (x[2], x[3]), x[1:2], method=method, args=(x[0],),
                         rtol=1e-10, atol=1e-12).y[0, -1]
    x = np.array([0.7, 1.3, 0.2, 1.5])
    e = lambda s: x[1] * np.exp(-x[0] * s)
    s1, s2, s3 = t_eval[0] - x[2], t_eval[1] - x[2], x[3] - x[2]
    g_eval = np.array([-s1 * e(s1) - 2 * s2 * e(s2), (e(s1) + 2 * e(s2)) / x[1], x[0] * (e(s1) + 2 * e(s2)), 0.0])
    g_end = np.array([-s3 * e(s3), e(s3) / x[1], x[0] * e(s3), -x[0] * e(s3)])
    for f, g in ((at_eval, g_eval), (at_end, g_end)):
        _close(hd.grad(f)(x), g)
        _close(hd.jacfwd(f)(x), g)
    H_kk = s3 * s3 * e(s3)                                   # second order: d2/dk2 of y(t1)
    _close(hd.hessian(at_end)(x)[0, 0], H_kk)


def test_solve_ivp_unsupported_options_raise():
    with pytest.raises(NotImplementedError, match="dense_output and events"):
        solve_ivp(lambda t, y: -y, (0.0, 1.0), [1.0], dense_output=True)
    with pytest.raises(NotImplementedError, match="dense_output and events"):
        solve_ivp(lambda t, y: -y, (0.0, 1.0), [1.0], events=lambda t, y: y[0] - 0.5)


# ------------------------------------------------------------------------------------------------------------
# what is refused

def test_closure_over_a_traced_value_is_refused():
    y0, t = np.array([1.0]), np.array([0.0, 1.0])
    f = lambda k: odeint(lambda y, tt: -k * y, y0, t)[-1, 0]
    g = lambda k: solve_ivp(lambda tt, y: -k * y, (0.0, 1.0), y0).y[0, -1]
    for call in (lambda: hd.grad(f)(0.5), lambda: hd.jvp(f, (0.5,), (1.0,)), lambda: hd.hessian(f)(0.5),
                 lambda: hd.grad(g)(0.5), lambda: hd.jvp(g, (0.5,), (1.0,))):
        with pytest.raises(hd.HodiffError, match="through `args`"):
            call()
    # a closure over a plain constant is fine
    k = 0.5
    _close(hd.grad(lambda a: odeint(lambda y, tt: -k * y, a, t, **TOL)[-1, 0])(y0), np.exp(-0.5 * np.ones(1)))


def test_a_rhs_that_builds_np_array_gets_advice():
    f = lambda y, t, k: np.array([-k * y[0], k * y[0]])       # fine on plain values, not on traced ones
    loss = lambda k: odeint(f, np.array([1.0, 0.0]), np.array([0.0, 1.0]), args=(k,))[-1, 1]
    assert np.isfinite(loss(0.5))
    with pytest.raises(TypeError, match=r"odeint: the right-hand side failed on hodiff values.*np\.stack"):
        hd.grad(loss)(0.5)


def test_taylor_mode_names_the_primitive():
    f = lambda k: odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), args=(k,))[-1, 0]
    with pytest.raises(NotImplementedError, match="ode_solve"):
        hd.derivative(f, 2)(0.5)


def test_tensor_api_and_hessian_operator():
    # y(2) = 1.5 exp(-2k): dy/dk = -3 exp(-2k), d2y/dk2 = 6 exp(-2k), d2y/dk dy0 = -2 exp(-2k)
    k = hd.tensor(0.7, requires_grad=True)
    y = odeint(decay, np.array([1.5]), np.array([0.0, 2.0]), args=(k,), **TOL)
    y[-1, 0].backward(create_graph=True)
    _close(k.grad.detach().numpy(), -3.0 * np.exp(-1.4))
    g, k.grad = k.grad, None
    g.backward()                                                  # reverse-over-reverse through the eager tape
    _close(k.grad.numpy(), 6.0 * np.exp(-1.4))
    f = lambda x: odeint(decay, x[1:], np.array([0.0, 2.0]), args=(x[0],), **TOL)[-1, 0]
    op = hd.hessian_operator(f, np.array([0.7, 1.5]))            # linearized gradient, replayed per product
    _close(op @ np.array([1.0, 0.0]), [6.0 * np.exp(-1.4), -2.0 * np.exp(-1.4)])
    _close(op @ np.array([0.0, 1.0]), [-2.0 * np.exp(-1.4), 0.0])


def test_docstring_examples_run():
    import doctest

    import hodiff.scipy.integrate as mod
    res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
