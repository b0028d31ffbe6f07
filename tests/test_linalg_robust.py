"""Derivatives that used to be wrong without an error (issue 12 item 7, fuzzer finding 1), checked against
analytic answers, finite differences and other hodiff strategies.

Covers: batched forward-over-forward through the linear-algebra primitives (the two levels' batch axes), stacked
``a`` with unstacked ``b`` in solves, repeated eigenvalues and singular values, the determinant at singular
matrices, ``d/dy x**y`` at negative ``x``, ``expit`` far in its tails, and Taylor mode with constant jets.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from _fd import central_grad
import pytest

import hodiff as hd

X = np.array([0.3, -0.2])
A0 = np.array([[3.0, 0.5], [-0.4, 2.5]])


def _fd_hessian(f, x, h=1e-4):
    n = x.size
    e = np.eye(n)
    return np.array([[(f(x + h * e[i] + h * e[j]) - f(x + h * e[i] - h * e[j]) - f(x - h * e[i] + h * e[j])
                       + f(x - h * e[i] - h * e[j])) / (4 * h * h) for j in range(n)] for i in range(n)])


def _fd_grad(f, x, h=1e-6):
    return central_grad(f, x, h)


def _spd_of(x):
    m = A0 @ A0.T + np.diag(x)
    return m


# the six primitives of finding 1, each with the matrix argument depending on x
FINDING1 = {
    "solve": lambda x: np.sum(np.linalg.solve(A0 + np.diag(x), np.ones(2))),
    "solve_matrix_rhs": lambda x: np.sum(np.linalg.solve(A0 + np.diag(x), np.array([[1.0, 2.0], [0.5, -1.0]]))),
    "cholesky": lambda x: np.sum(np.linalg.cholesky(_spd_of(x)) ** 2 * np.array([[1.0, 0.0], [2.0, 3.0]])),
    "qr_packed": lambda x: np.sum(hd.linalg.qr(A0 + np.outer(x, x) + np.diag(x))[1] * np.array([[1.0, 2.0],
                                                                                                  [0.0, -1.5]])),
    "det": lambda x: np.linalg.det(A0 + np.diag(x) + np.outer(x, [1.0, 2.0])),
    "logabsdet": lambda x: np.linalg.slogdet(A0 + np.diag(x) + np.outer(x, [1.0, 2.0]))[1],
    "solve_triangular": lambda x: np.sum(hd.linalg.solve_triangular(np.tril(A0) + np.diag(x) + np.outer(x, x),
                                                                     np.array([1.0, -2.0]), lower=True) ** 2),
}


@pytest.mark.parametrize("name", sorted(FINDING1))
def test_finding1_jacfwd_jacfwd_matches_hessian_and_fd(name):
    f = FINDING1[name]
    H = hd.hessian(f)(X)
    np.testing.assert_allclose(H, _fd_hessian(f, X), rtol=1e-5, atol=1e-6)
    FF = hd.jacfwd(hd.jacfwd(f))(X)
    np.testing.assert_allclose(FF, H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(FF, FF.T, rtol=1e-10, atol=1e-12)
    RR = hd.jacrev(hd.jacrev(f))(X)
    np.testing.assert_allclose(RR, H, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["solve", "solve_triangular"])
@pytest.mark.parametrize("bshape", [(3, 1), (3,), (3, 2), (1, 3, 2)])
@pytest.mark.parametrize("wrt", ["a", "b"])
def test_stacked_a_unstacked_b(solver, bshape, wrt):
    rng = np.random.default_rng(3)
    a = np.tril(rng.standard_normal((2, 3, 3))) + 3 * np.eye(3)
    b = rng.standard_normal(bshape)

    def f(x):
        aa = a + 0.1 * x.reshape(a.shape) if wrt == "a" else a
        bb = b + x.reshape(b.shape) if wrt == "b" else b
        if solver == "solve":
            return hd.linalg.solve(aa, bb)
        return hd.linalg.solve_triangular(aa, bb, lower=True)

    x0 = np.zeros(a.size if wrt == "a" else b.size)
    fd = np.stack([(f(x0 + 1e-6 * e) - f(x0 - 1e-6 * e)) / 2e-6 for e in np.eye(x0.size)], axis=-1)
    np.testing.assert_allclose(hd.jacfwd(f)(x0), fd, atol=1e-8)
    np.testing.assert_allclose(hd.jacrev(f)(x0), fd, atol=1e-8)


# ---------------------------------------------------------------------------------------------------------------
# repeated eigenvalues and singular values

D112 = np.diag([1.0, 1.0, 2.0])
E3 = np.outer([0, 0, 1.0], [0, 0, 1.0])


def test_eigvalsh_sum_at_identity_is_identity():
    f = lambda A: np.sum(np.linalg.eigvalsh(A))   # noqa: E731
    np.testing.assert_array_equal(hd.grad(f)(np.eye(3)), np.eye(3))
    np.testing.assert_array_equal(hd.jacrev(f)(np.eye(3)), np.eye(3))
    # forward mode: the trace of the tangent (read from the lower triangle, as eigvalsh does)
    T = np.arange(9.0).reshape(3, 3)
    assert hd.jvp(f, (np.eye(3),), (T,))[1] == np.trace(T)
    np.testing.assert_array_equal(hd.jacfwd(f)(np.eye(3)), np.eye(3))


def test_simple_eigenvalue_at_diag_112():
    for f in (lambda A: np.linalg.eigvalsh(A)[2], lambda A: np.linalg.eigh(A)[0][2]):
        np.testing.assert_array_equal(hd.grad(f)(D112), E3)
        np.testing.assert_array_equal(hd.jacfwd(f)(D112), E3)


def test_sum_of_singular_values_at_identity():
    f = lambda A: np.sum(np.linalg.svd(A, compute_uv=False))   # noqa: E731
    np.testing.assert_allclose(hd.grad(f)(np.eye(3)), np.eye(3), atol=1e-15)
    np.testing.assert_allclose(hd.jacfwd(f)(np.eye(3)), np.eye(3), atol=1e-15)


def test_frobenius_norm_through_eigenvalues_at_identity():
    """sum(eigvalsh(A)**2) = ||S||_F^2 with S the symmetric matrix read from A's lower triangle."""
    f = lambda A: np.sum(np.linalg.eigvalsh(A) ** 2)   # noqa: E731
    np.testing.assert_allclose(hd.grad(f)(np.eye(3)), 2 * np.eye(3), atol=1e-15)
    # second order along directions that keep the eigenvalues apart-or-equal (the eigenbasis stays LAPACK's):
    # exact. ||diag(d) + t diag(h)||^2'' = 2 ||h||^2
    h = np.diag([1.0, -2.0, 0.5])
    hv = hd.hvp(f, np.eye(3), h)
    np.testing.assert_allclose(hv, 2 * h, atol=1e-14)


def test_hessian_through_eigenvalues_splitting_a_cluster_is_nan_not_wrong():
    """Along a direction that splits a repeated eigenvalue the chain rule through the eigenvectors has no answer
    (the Hessian of the composite exists, but not through this intermediate): NaN, never a finite wrong value."""
    f = lambda A: np.sum(np.linalg.eigvalsh(A) ** 2)   # noqa: E731
    off = np.zeros((3, 3))
    off[1, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hv = hd.hvp(f, np.eye(3), off)
    assert np.all(np.isnan(hv))


def test_not_differentiable_eigenvalue_is_nan():
    """The smallest eigenvalue at the identity has no derivative (only one-sided directional ones)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = hd.grad(lambda A: np.linalg.eigvalsh(A)[0])(np.eye(3))
        J = hd.jacrev(lambda A: np.linalg.eigvalsh(A))(np.eye(3))
        gs = hd.grad(lambda A: np.linalg.svd(A, compute_uv=False)[0])(np.eye(3))
    assert np.all(np.isnan(g)) and np.all(np.isnan(J)) and np.all(np.isnan(gs))


def test_eigenvector_of_simple_eigenvalue_next_to_a_cluster():
    """f(A) = v3[0] v3[2] (sign invariant) at a perturbed diag(1, 1, 2): finite differences; at diag(1, 1, 2)
    itself, where v3 = e3 and d v3 = sum_k v_k (v_k^T dA v3) / (2 - 1), the gradient is E_20 (lower triangle)."""
    f = lambda A: np.linalg.eigh(A)[1][0, 2] * np.linalg.eigh(A)[1][2, 2]   # noqa: E731
    want = np.zeros((3, 3))
    want[2, 0] = 1.0
    np.testing.assert_allclose(hd.grad(f)(D112), want, atol=1e-15)
    np.testing.assert_allclose(hd.grad(f)(D112), _fd_grad(f, D112), atol=1e-8)
    np.testing.assert_allclose(hd.jacfwd(f)(D112), want, atol=1e-15)


def test_second_order_of_simple_eigenvalue_matches_fd():
    """d^2 lambda_3 at diag(1, 1, 2) along directions inside the lower triangle's diagonal and last row."""
    f = lambda A: np.linalg.eigvalsh(A)[2]   # noqa: E731
    h = np.zeros((3, 3))
    h[2, 0], h[2, 1], h[2, 2] = 0.7, -0.3, 0.4
    # exact: d^2 lambda_3 [h, h] = 2 sum_{k=1,2} h_3k^2 / (2 - 1); H h = grad of that / 2 along h
    g = lambda t: f(D112 + t * h)   # noqa: E731
    second = (g(1e-4) - 2 * g(0.0) + g(-1e-4)) / 1e-8
    assert second == pytest.approx(2 * (0.7 ** 2 + 0.3 ** 2), rel=1e-5, abs=0)
    assert np.sum(hd.hvp(f, D112, h) * h) == pytest.approx(2 * (0.7 ** 2 + 0.3 ** 2), rel=1e-12, abs=0)


# ---------------------------------------------------------------------------------------------------------------
# determinants at singular matrices


def _cofactor(a):
    n = a.shape[0]
    c = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            c[i, j] = (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
    return c


SING3 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])


def test_grad_det_at_singular_is_cofactor_matrix():
    np.testing.assert_array_equal(hd.grad(np.linalg.det)(np.array([[1.0, 2.0], [2.0, 4.0]])),
                                  [[4.0, -2.0], [-2.0, 1.0]])
    np.testing.assert_allclose(hd.grad(np.linalg.det)(SING3), _cofactor(SING3), atol=1e-12)
    np.testing.assert_allclose(hd.jacfwd(np.linalg.det)(SING3), _cofactor(SING3), atol=1e-12)
    np.testing.assert_allclose(hd.grad(np.linalg.det)(np.zeros((3, 3))), np.zeros((3, 3)), atol=0)


def test_det_second_and_third_order_at_singular():
    """det(B + t C) is a cubic: its Taylor coefficients come from numpy's values at 4 points (exact fit)."""
    C = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [1.0, -1.0, 0.5]])
    ts = np.array([-1.0, -0.5, 0.5, 1.0, 0.0])
    coef = np.polyfit(ts, [np.linalg.det(SING3 + t * C) for t in ts], 3)[::-1]   # c0 + c1 t + c2 t^2 + c3 t^3
    g = lambda t: np.linalg.det(SING3 + t * C)   # noqa: E731
    for k in (1, 2, 3):
        want = coef[k] * math.factorial(k)
        assert hd.derivative(g, k)(0.0) == pytest.approx(want, abs=1e-9)
    H = hd.hessian(np.linalg.det)(SING3).reshape(9, 9)
    Hr = hd.jacrev(hd.grad(np.linalg.det))(SING3).reshape(9, 9)
    np.testing.assert_allclose(H, Hr, atol=1e-12)
    np.testing.assert_allclose(H, _fd_hessian(lambda v: np.linalg.det(v.reshape(3, 3)), SING3.ravel()), atol=1e-6)
    assert np.sum(H * np.outer(C.ravel(), C.ravel())) == pytest.approx(2 * coef[2], abs=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# power and expit


def test_power_exponent_derivative_negative_base_is_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(hd.grad(lambda y: (-2.0) ** y)(2.0))
        assert np.isnan(hd.grad(lambda y: np.float64(-2.0) ** y)(2.0))
        assert np.isnan(hd.derivative(lambda y: (-2.0) ** y)(2.0))
    # the base derivative at a negative base stays right, and 0**y at y > 0 has derivative 0 (PyTorch, JAX)
    assert hd.grad(lambda x: x ** 2)(-3.0) == -6.0
    assert hd.grad(lambda x: x ** 3.0)(-2.0) == 12.0
    assert hd.grad(lambda y: 0.0 ** y)(2.0) == 0.0
    assert hd.grad(lambda y: 2.0 ** y)(3.0) == pytest.approx(8 * np.log(2.0), rel=1e-15, abs=0)


def _expit_derivatives(x):
    """Exact closed forms with full relative accuracy: s = e^{-|x|} / (1 + e^{-|x|})^2 = expit(x) expit(-x),
    expit'' = -s tanh(x / 2), expit''' = s (1 - 6 s)."""
    e = np.exp(-abs(x))
    s = e / (1 + e) ** 2
    return s, -s * np.tanh(x / 2), s * (1 - 6 * s)


@pytest.mark.parametrize("x", [30.0, -30.0, 50.0, -50.0, 0.7])
def test_expit_derivatives_keep_relative_accuracy(x):
    f = hd.special.expit
    d1, d2, d3 = _expit_derivatives(x)
    got = {
        "grad": [hd.grad(f)(x), hd.grad(hd.grad(f))(x), hd.grad(hd.grad(hd.grad(f)))(x)],
        "forward": [hd.jacfwd(f)(x), hd.jacfwd(hd.jacfwd(f))(x), hd.jacfwd(hd.jacfwd(hd.jacfwd(f)))(x)],
        "taylor": [hd.derivative(f, k)(x) for k in (1, 2, 3)],
    }
    for how, vals in got.items():
        for k, (v, want) in enumerate(zip(vals, (d1, d2, d3)), 1):
            assert abs(v - want) <= 1e-13 * abs(want), (how, k, v, want)


# ---------------------------------------------------------------------------------------------------------------
# Taylor mode with constant jets


def test_taylor_multilinear_with_constant_jets():
    c = np.array([1.0, 2.0])
    j = hd.Jet([c, None, None])
    for out in (j * np.array([3.0, 4.0]), j * j, j @ np.array([1.0, 1.0])):
        assert not isinstance(out, hd.Jet) or all(k is None for k in out.coeffs[1:])
    # and through a transform: a constant function of t has zero derivatives
    assert hd.derivative(lambda t: np.sum(np.einsum("i,i->", c, c) * c), 2)(0.5) == 0.0
