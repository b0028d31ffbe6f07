"""Realistic user programs, written in plain numpy as a user would, checked to second order.

Each objective is an ordinary numpy function of one flat parameter vector (hodiff's values dispatch through
``np.*``). Checked: the gradient against ``scipy.differentiate.jacobian`` and, where it is easy, against the
closed form; the Hessian against ``scipy.differentiate.hessian`` (in full for small problems, projected onto a
random 4-dimensional subspace, ``P^T H P``, for larger ones: SciPy's Hessian costs ~350 m^2 evaluations); the HVP
against ``H v``; the Hessian's symmetry.

Programs: the extended (chained) Rosenbrock function, vectorized; L2-regularized logistic regression; a tiny MLP
with softmax cross-entropy and its parameters packed in one vector; a pairwise Lennard-Jones energy with
broadcasting (a constant i<j mask, and the same energy with integer-array pair indexing); a Gaussian negative
log-likelihood through a Cholesky factor (``np.linalg.cholesky``, ``np.linalg.solve``, ``np.diagonal``) and one
through a Cholesky factor of the precision matrix (matrix products only).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import differentiate as sd

import hodiff as hd

# |hodiff - fd| <= FD_C * fd.error + FD_RTOL * scale: ``fd.error`` is SciPy's own estimate (the change between its
# last two order-8 estimates, an overestimate of the last one's error; FD_C = 10 covers an unlucky pair), raised to
# the disagreement of two runs from different starting steps (``_fd``); FD_RTOL is the rounding floor when estimates
# agree by accident (~eps * |f| / step, well below 1e-9 of the scale).
FD_C = 10.0
FD_RTOL = 1e-9
# SciPy's estimate must say it converged: gradient to sqrt(eps)-level, Hessian (nested differences) to 1e-5.
FD_TRUST = {"gradient": 1e-7, "hessian": 1e-5}
# Starting steps, tried in consecutive pairs (``_fd``). The Hessian is a nested difference whose inner Jacobians
# SciPy drives to a 100x tighter tolerance, so small starting steps make it rounding-limited (logistic regression:
# runs from 0.02 and 0.004 disagreed by 1e-6, from 0.4/0.2/0.1/0.05 by < 1e-9); its steps stay large.
FD_STEPS = {"gradient": (0.1, 0.02, 0.004, 0.0008), "hessian": (0.4, 0.2, 0.1, 0.05)}
# Two exact computations (hodiff vs a closed form, or two hodiff methods): rounding only.
EXACT_RTOL = 1e-12

SEEDS = st.integers(0, 2**32 - 1)
FEW = settings(max_examples=max(3, settings().max_examples // 3))


# ------------------------------------------------------------------------------------------------------------------
# oracle helpers


def _looped(f):
    """``f`` of one flat point, as SciPy wants it: ``(m, ...) -> (...)``, evaluated point by point."""
    def F(X):
        m, batch = X.shape[0], X.shape[1:]
        cols = X.reshape(m, -1).T
        return np.array([float(f(c)) for c in cols]).reshape(batch)
    return F


def _fd(f, x, kind, what):
    """SciPy's gradient or Hessian of ``f`` at ``x``, cross-validated: accepted only when the runs from two
    consecutive starting steps both converge and agree within their error estimates (a sequence of SciPy estimates
    can agree with itself on a wrong value when its stencil aliases fast variation). Returns the smaller step's
    estimate, an error that is the larger of the two estimates and their disagreement, and the scale."""
    F = _looped(f)
    key, run_fd = ("df", sd.jacobian) if kind == "gradient" else ("ddf", sd.hessian)
    prev = None
    for step in FD_STEPS[kind]:
        res = run_fd(F, x, initial_step=step)
        est, err = np.asarray(res[key]), np.asarray(res.error)
        scale = max(1.0, float(np.max(np.abs(est))))
        if np.max(err) > FD_TRUST[kind] * scale:
            prev = None
            continue
        if prev is not None:
            both = np.maximum(err, prev[1])
            spread = np.abs(est - prev[0])
            if np.all(spread <= 2 * FD_C * both + FD_RTOL * scale):
                return est, np.maximum(both, spread), scale
        prev = (est, err)
    raise AssertionError(f"finite-difference {what}: no two consecutive starting steps in {FD_STEPS[kind]} gave "
                         "converged, agreeing estimates")


def fd_grad(f, x):
    return _fd(f, x, "gradient", "gradient")


def fd_hessian(f, x, what="hessian"):
    return _fd(f, x, "hessian", what)


def assert_vs_fd(exact, fd, err, scale, what):
    exact, fd, err = np.ravel(exact), np.ravel(fd), np.ravel(err)
    tol = FD_C * err + FD_RTOL * scale
    bad = np.abs(exact - fd) > tol
    assert not bad.any(), (f"{what} vs finite differences at {np.flatnonzero(bad).tolist()}: hodiff {exact[bad]}, "
                           f"fd {fd[bad]}, |diff| {np.abs(exact - fd)[bad]}, tol {tol[bad]}")


def assert_exact(a, b, what, scale=None):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    if scale is None:
        scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    err = np.max(np.abs(a - b), initial=0.0)
    assert err <= EXACT_RTOL * scale + 1e-300, f"{what}: max difference {err:.3g} > {EXACT_RTOL} * {scale:.3g}"


def check_second_order(f, x, rng, full_hessian=True):
    """Gradient, Hessian, HVP of ``f`` at ``x``: against SciPy, against each other, symmetry. Returns (g, H)."""
    n = x.size
    g = hd.grad(f)(x)
    J, jerr, jscale = fd_grad(f, x)
    assert_vs_fd(g, J, jerr, jscale, "gradient")

    H = hd.hessian(f)(x)
    assert H.shape == (n, n)
    hscale = max(1e-300, float(np.max(np.abs(H))))
    assert_exact(H, H.T, "Hessian symmetry", hscale)
    v = rng.uniform(-1, 1, size=n)
    hv = hd.hvp(f, x, v)
    assert_exact(hv, H @ v, "hvp vs hessian @ v", float(np.max(np.abs(H) @ np.abs(v))))
    hv_rr = hd.grad(lambda z: np.vdot(hd.grad(f)(z), v))(x)
    assert_exact(hv_rr, hv, "reverse-over-reverse vs forward-over-reverse", float(np.max(np.abs(H) @ np.abs(v))))

    if full_hessian:
        Hfd, herr, s = fd_hessian(f, x)
        assert_vs_fd(H, Hfd, herr, s, "Hessian")
    else:
        # P^T H P on a random 4-dimensional subspace: a dense random P makes every entry of H count
        P = rng.standard_normal((n, 4)) / np.sqrt(n)
        Hp, herr, s = fd_hessian(lambda c: f(x + P @ c), np.zeros(4), "projected Hessian")
        assert_vs_fd(P.T @ H @ P, Hp, herr, s, "projected Hessian P^T H P")
        assert_vs_fd(P.T @ hd.hvp(f, x, P[:, 0]), Hp[:, 0], herr[:, 0], s, "projected HVP P^T H p0")
    return g, H


# ------------------------------------------------------------------------------------------------------------------
# extended Rosenbrock


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@FEW
@given(SEEDS, st.integers(2, 7))
def test_rosenbrock(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=n)
    g, H = check_second_order(rosenbrock, x, rng)
    # closed forms (scipy.optimize's)
    assert_exact(g, so.rosen_der(x), "gradient vs scipy.optimize.rosen_der")
    assert_exact(H, so.rosen_hess(x), "Hessian vs scipy.optimize.rosen_hess")


def test_rosenbrock_large():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.5, 1.5, size=1000)
    v = rng.standard_normal(1000)
    assert_exact(hd.grad(rosenbrock)(x), so.rosen_der(x), "gradient, n=1000")
    assert_exact(hd.hvp(rosenbrock, x, v), so.rosen_hess_prod(x, v), "hvp, n=1000")
    assert np.isclose(hd.value_and_grad(rosenbrock)(x)[0], so.rosen(x), rtol=1e-14)


# ------------------------------------------------------------------------------------------------------------------
# logistic regression with L2


def _logistic_data(rng, n=20, d=4):
    X = rng.standard_normal((n, d))
    y = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    return X, y


def logistic_loss(w, X, y, lam):
    z = y * (X @ w)
    return np.sum(np.logaddexp(0.0, -z)) + 0.5 * lam * np.dot(w, w)


@FEW
@given(SEEDS)
def test_logistic_regression(seed):
    rng = np.random.default_rng(seed)
    X, y = _logistic_data(rng)
    lam = 0.3
    w = rng.standard_normal(X.shape[1])
    f = lambda w: logistic_loss(w, X, y, lam)
    g, H = check_second_order(f, w, rng)
    z = y * (X @ w)
    s = 1.0 / (1.0 + np.exp(z))                   # sigma(-z)
    assert_exact(g, X.T @ (-y * s) + lam * w, "gradient vs closed form")
    assert_exact(H, X.T @ (X * (s * (1 - s))[:, None]) + lam * np.eye(X.shape[1]), "Hessian vs closed form")


# ------------------------------------------------------------------------------------------------------------------
# softmax cross-entropy MLP, parameters in one flat vector


D_IN, D_HID, D_OUT = 3, 4, 3
SHAPES = [(D_IN, D_HID), (D_HID,), (D_HID, D_OUT), (D_OUT,)]
N_PARAMS = sum(int(np.prod(s)) for s in SHAPES)


def unpack(theta):
    out, i = [], 0
    for s in SHAPES:
        k = int(np.prod(s))
        out.append(theta[i:i + k].reshape(s))
        i += k
    return out


def mlp_loss(theta, X, labels):
    W1, b1, W2, b2 = unpack(theta)
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    # mean cross-entropy: logsumexp(logits) - logits[label]
    picked = logits[np.arange(X.shape[0]), labels]
    return np.mean(hd.logsumexp(logits, axis=1) - picked)


@FEW
@given(SEEDS)
def test_softmax_mlp(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, D_IN))
    labels = rng.integers(0, D_OUT, size=8)
    theta = rng.standard_normal(N_PARAMS) * 0.7
    f = lambda t: mlp_loss(t, X, labels)
    g, _H = check_second_order(f, theta, rng, full_hessian=False)
    # closed-form gradient through the output layer: d/dlogits = (softmax - onehot) / N
    W1, b1, W2, b2 = unpack(theta)
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d = (p - np.eye(D_OUT)[labels]) / X.shape[0]
    gW2, gb2 = h.T @ d, d.sum(axis=0)
    dh = (d @ W2.T) * (1 - h ** 2)
    gW1, gb1 = X.T @ dh, dh.sum(axis=0)
    assert_exact(g, np.concatenate([gW1.ravel(), gb1, gW2.ravel(), gb2]), "gradient vs backprop by hand")


# ------------------------------------------------------------------------------------------------------------------
# pairwise Lennard-Jones energy with broadcasting


N_ATOMS = 4


def lj_energy_mask(flat):
    X = flat.reshape(N_ATOMS, 3)
    diff = X[:, None, :] - X[None, :, :]                      # (N, N, 3) by broadcasting
    r2 = np.sum(diff ** 2, axis=-1) + np.eye(N_ATOMS)         # 1 on the diagonal: no division by zero there
    inv6 = (1.0 / r2) ** 3
    pair = 4.0 * (inv6 ** 2 - inv6)
    mask = np.triu(np.ones((N_ATOMS, N_ATOMS)), k=1)          # a constant: each pair i < j once
    return np.sum(mask * pair)


I_PAIRS, J_PAIRS = np.triu_indices(N_ATOMS, k=1)


def lj_energy_pairs(flat):
    X = flat.reshape(N_ATOMS, 3)
    d = X[I_PAIRS] - X[J_PAIRS]                               # integer-array indexing of the pairs i < j
    r2 = np.sum(d * d, axis=1)
    inv6 = r2 ** -3
    return np.sum(4.0 * (inv6 * inv6 - inv6))


def _lj_positions(rng):
    # a jittered tetrahedron with edges ~1.1-1.3 sigma: near the potential's minimum, no atoms too close
    base = np.array([[0, 0, 0], [1.2, 0, 0], [0.6, 1.04, 0], [0.6, 0.35, 0.98]])
    return (base + rng.uniform(-0.06, 0.06, size=base.shape)).ravel()


@FEW
@given(SEEDS)
def test_lennard_jones(seed):
    rng = np.random.default_rng(seed)
    x = _lj_positions(rng)
    g, H = check_second_order(lj_energy_mask, x, rng, full_hessian=False)
    # the same energy through pair indexing: same value, gradient and Hessian
    assert_exact(lj_energy_pairs(x), lj_energy_mask(x), "energy, pairs vs mask")
    assert_exact(hd.grad(lj_energy_pairs)(x), g, "gradient, pairs vs mask")
    assert_exact(hd.hessian(lj_energy_pairs)(x), H, "Hessian, pairs vs mask")
    # closed form: dE/dx_i = sum_j phi'(r2_ij) * 2 (x_i - x_j), phi(s) = 4 (s^-6 - s^-3)
    X = x.reshape(N_ATOMS, 3)
    grad = np.zeros_like(X)
    for i, j in zip(I_PAIRS, J_PAIRS):
        d = X[i] - X[j]
        s = d @ d
        dphi = 4.0 * (-6.0 * s ** -7 + 3.0 * s ** -4)
        grad[i] += 2 * dphi * d
        grad[j] -= 2 * dphi * d
    assert_exact(g, grad.ravel(), "gradient vs closed form")
    # translation invariance: the gradient sums to zero over atoms, and H annihilates rigid translations
    assert_exact(g.reshape(N_ATOMS, 3).sum(axis=0), np.zeros(3), "total force", np.max(np.abs(g)))
    t = np.tile(np.array([0.3, -0.5, 0.8]), N_ATOMS)
    assert_exact(H @ t, np.zeros_like(t), "H @ translation", np.max(np.abs(H)) * np.abs(t).sum())


# ------------------------------------------------------------------------------------------------------------------
# Gaussian negative log-likelihood with matrices


D_GAUSS = 3


def _needs(*funcs):
    """Skip, naming them, if hodiff cannot differentiate these numpy functions yet (its dispatch registry)."""
    from hodiff._src.numpy import dispatch as _dispatch
    missing = [f"{f.__module__}.{f.__name__}" for f in funcs if f not in _dispatch.HANDLED_FUNCTIONS]
    if missing:
        pytest.skip(f"hodiff does not differentiate {', '.join(missing)} yet")


def gaussian_nll_cholesky(theta, data):
    """NLL of ``data`` (N x d) under N(mu, Sigma), Sigma = A A^T + 0.5 I, via the Cholesky factor of Sigma."""
    d = D_GAUSS
    mu, A = theta[:d], theta[d:].reshape(d, d)
    sigma = A @ A.T + 0.5 * np.eye(d)
    L = np.linalg.cholesky(sigma)
    z = np.linalg.solve(L, (data - mu).T)                     # L z = (x - mu)
    n = data.shape[0]
    return 0.5 * np.sum(z * z) + n * np.sum(np.log(np.diagonal(L))) + 0.5 * n * d * np.log(2 * np.pi)


def gaussian_nll_precision(theta, data):
    """The same model parametrized by the Cholesky factor of the precision, L (positive diagonal via exp):
    NLL = 1/2 sum |L^T (x - mu)|^2 - N sum log diag L + const, with matrix products only."""
    d = D_GAUSS
    mu, P = theta[:d], theta[d:].reshape(d, d)
    strict = np.tril(np.ones((d, d)), k=-1)                   # constant masks
    L = P * strict + np.eye(d) * np.exp(P)
    r = (data - mu) @ L
    n = data.shape[0]
    logdiag = np.sum(np.eye(d) * P)                           # sum of log diag L = sum diag P
    return 0.5 * np.sum(r * r) - n * logdiag + 0.5 * n * d * np.log(2 * np.pi)


@FEW
@given(SEEDS)
def test_gaussian_nll_cholesky(seed):
    _needs(np.linalg.cholesky, np.linalg.solve, np.diagonal)
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((10, D_GAUSS)) @ np.diag([1.0, 0.7, 1.3]) + 0.2
    theta = np.concatenate([rng.standard_normal(D_GAUSS) * 0.3, (np.eye(D_GAUSS) + 0.3 * rng.standard_normal(
        (D_GAUSS, D_GAUSS))).ravel()])
    f = lambda t: gaussian_nll_cholesky(t, data)
    g, _H = check_second_order(f, theta, rng, full_hessian=False)
    # closed-form gradient in mu: -Sigma^{-1} sum_n (x_n - mu); and the value against scipy.stats
    from scipy.stats import multivariate_normal
    mu, A = theta[:D_GAUSS], theta[D_GAUSS:].reshape(D_GAUSS, D_GAUSS)
    sigma = A @ A.T + 0.5 * np.eye(D_GAUSS)
    assert np.isclose(f(theta), -multivariate_normal(mu, sigma).logpdf(data).sum(), rtol=1e-12)
    assert_exact(g[:D_GAUSS], -np.linalg.solve(sigma, (data - mu).sum(axis=0)), "gradient in mu vs closed form",
                 np.max(np.abs(g)))


@FEW
@given(SEEDS)
def test_gaussian_nll_precision(seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((10, D_GAUSS)) * 0.8 - 0.1
    theta = np.concatenate([rng.standard_normal(D_GAUSS) * 0.3, 0.3 * rng.standard_normal(D_GAUSS * D_GAUSS)])
    f = lambda t: gaussian_nll_precision(t, data)
    _g, H = check_second_order(f, theta, rng, full_hessian=False)
    # mu's block of the Hessian is N * Lambda = N L L^T, exactly
    mu, P = theta[:D_GAUSS], theta[D_GAUSS:].reshape(D_GAUSS, D_GAUSS)
    L = np.tril(P, -1) + np.diag(np.exp(np.diag(P)))
    assert_exact(H[:D_GAUSS, :D_GAUSS], data.shape[0] * L @ L.T, "Hessian in mu vs N Lambda")
    from scipy.stats import multivariate_normal
    cov = np.linalg.inv(L @ L.T)
    assert np.isclose(f(theta), -multivariate_normal(mu, cov).logpdf(data).sum(), rtol=1e-10)
