"""Nested transforms: perturbation confusion, every pairing of forward and reverse inside each other, depth 3-4,
third-order tensors, and agreement of reverse-over-reverse (tensor API) with forward-over-reverse.

Expected values are derived by hand in the comments. Tolerance ``rtol=1e-12`` unless stated; agreement between two
hodiff paths (forward-over-reverse vs reverse-over-reverse) is also checked at 1e-12 relative to the largest entry.
"""
from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

import hodiff as hd

RTOL = 1e-12
ATOL = 1e-13


def close(got, expected, rtol=RTOL, atol=ATOL):
    expected = np.asarray(expected, dtype=float)
    assert np.shape(got) == expected.shape, (np.shape(got), expected.shape)
    np.testing.assert_allclose(np.asarray(got, dtype=float), expected, rtol=rtol, atol=atol)


# Scalar derivative operators built from each transform. Each takes f: R -> R and returns f'.
def D_grad(f):
    return hd.grad(f)


def D_jvp(f):
    return lambda x: hd.jvp(f, (x,), (1.0,))[1]


def D_vag(f):
    return lambda x: hd.value_and_grad(f)(x)[1]


def D_jacfwd(f):
    return hd.jacfwd(f)


def D_jacrev(f):
    return hd.jacrev(f)


def D_vjp(f):
    return lambda x: hd.vjp(f, x)[1](1.0)[0]


DS = {"grad": D_grad, "jvp": D_jvp, "value_and_grad": D_vag, "jacfwd": D_jacfwd, "jacrev": D_jacrev, "vjp": D_vjp}
FWD_REV = {"rev": D_grad, "fwd": D_jvp}
PAIRS = list(itertools.product(DS, DS))


# ----------------------------------------------------------------------------------------------------------------
# perturbation confusion


@pytest.mark.parametrize("outer, inner", PAIRS)
def test_confusion_x_plus_y(outer, inner):
    # d/dx [ x * (d/dy (x + y))(y=1) ] = d/dx [ x * 1 ] = 1 (confusion gives 2)
    Do, Di = DS[outer], DS[inner]
    r = Do(lambda x: x * Di(lambda y: x + y)(1.0))(1.0)
    assert isinstance(r, float)
    assert r == 1.0


@pytest.mark.parametrize("outer, inner", PAIRS)
def test_confusion_x_times_y(outer, inner):
    # d/dx [ x * (d/dy (x * y))(y=2) ] = d/dx [ x * x ] = 2 x = 2 at x = 1
    Do, Di = DS[outer], DS[inner]
    assert Do(lambda x: x * Di(lambda y: x * y)(2.0))(1.0) == 2.0


@pytest.mark.parametrize("outer, inner", PAIRS)
def test_confusion_reverse_nesting_classic(outer, inner):
    # D(x -> x * D(y -> x * y)(3))(5) = D(x -> x^2)(5) = 10
    Do, Di = DS[outer], DS[inner]
    assert Do(lambda x: x * Di(lambda y: x * y)(3.0))(5.0) == 10.0


@pytest.mark.parametrize("outer, inner", PAIRS)
def test_inner_derivative_of_outer_constant_is_zero(outer, inner):
    # d/dy x = 0, so d/dx [ x * d/dy(x)(1) + d/dy(x y^2)(1) ] = d/dx [ 0 + 2 x ] = 2
    Do, Di = DS[outer], DS[inner]
    assert Do(lambda x: x * Di(lambda y: x)(1.0) + Di(lambda y: x * y * y)(1.0))(2.0) == 2.0


@pytest.mark.parametrize("combo", list(itertools.product(FWD_REV, repeat=3)), ids="-".join)
def test_confusion_depth_three(combo):
    # inner: d/dz (x y z) = x y;  middle: d/dy [ y * x y ](1) = 2 x y = 2 x;  outer: d/dx [ x * 2 x ](3) = 4 x = 12
    Dx, Dy, Dz = (FWD_REV[c] for c in combo)
    r = Dx(lambda x: x * Dy(lambda y: y * Dz(lambda z: x * y * z)(1.0))(1.0))(3.0)
    assert r == 12.0


@pytest.mark.parametrize("combo", list(itertools.product(FWD_REV, repeat=4)), ids="-".join)
def test_confusion_depth_four(combo):
    # innermost d/dw (x y z w^2)(w=1) = 2 x y z;  d/dz [z * 2xyz](1) = 4 x y;  d/dy [y * 4xy](1) = 8 x;
    # d/dx [x * 8x](0.5) = 16 x = 8
    Dx, Dy, Dz, Dw = (FWD_REV[c] for c in combo)
    r = Dx(lambda x: x * Dy(lambda y: y * Dz(lambda z: z * Dw(lambda w: x * y * z * w * w)(1.0))(1.0))(1.0))(0.5)
    assert r == 8.0


# ----------------------------------------------------------------------------------------------------------------
# every pairing of forward and reverse with vectors and a closed-over outer variable
#
# inner(x) = d/ds sum(sin(x * (y0 + s v)))|_{s=0}  or  grad_y sum(sin(x * y))(y0) . v
#          = sum(v x cos(x y0))
# so with p(x) = v (cos(x y0) - x y0 sin(x y0)) = d/dx [v x cos(x y0)] (elementwise),
#   grad_x inner = p,  and the directional derivative along u is sum(u p).

Y0 = np.array([0.4, -1.3, 0.9])
V = np.array([1.0, -2.0, 0.5])
U = np.array([0.3, 0.7, -1.1])
XV = np.array([0.8, 0.25, -0.6])


def _p(x):
    return V * (np.cos(x * Y0) - x * Y0 * np.sin(x * Y0))


def inner_fwd(x):
    return hd.jvp(lambda y: np.sum(np.sin(x * y)), (Y0,), (V,))[1]


def inner_rev(x):
    return np.dot(hd.grad(lambda y: np.sum(np.sin(x * y)))(Y0), V)


@pytest.mark.parametrize("inner", [inner_fwd, inner_rev], ids=["fwd", "rev"])
def test_pairing_outer_reverse(inner):          # fwd-in-rev and rev-in-rev
    close(hd.grad(inner)(XV), _p(XV))


@pytest.mark.parametrize("inner", [inner_fwd, inner_rev], ids=["fwd", "rev"])
def test_pairing_outer_forward(inner):          # fwd-in-fwd and rev-in-fwd
    out, tan = hd.jvp(inner, (XV,), (U,))
    close(out, np.sum(V * XV * np.cos(XV * Y0)))
    close(tan, np.sum(U * _p(XV)))


@pytest.mark.parametrize("inner", [inner_fwd, inner_rev], ids=["fwd", "rev"])
@pytest.mark.parametrize("jac", [hd.jacfwd, hd.jacrev, hd.hessian], ids=["jacfwd", "jacrev", "hessian"])
def test_pairing_with_batched_outer(inner, jac):
    # jacobians of the scalar inner are its gradient p; its Hessian is diag(p') with
    # p' = v (-2 y0 sin(x y0) - x y0^2 cos(x y0))
    got = jac(inner)(XV)
    if jac is hd.hessian:
        close(got, np.diag(V * (-2 * Y0 * np.sin(XV * Y0) - XV * Y0 ** 2 * np.cos(XV * Y0))))
    else:
        close(got, _p(XV))


def test_inner_tangent_depends_on_outer_variable():
    # jvp(sin, (x,), (x,)) tangent = x cos x; d/dx = cos x - x sin x
    x = 0.8
    close(hd.grad(lambda x: hd.jvp(np.sin, (x,), (x,))[1])(x), np.cos(x) - x * np.sin(x))
    # jvp(y -> y^2, (1,), (x,)) tangent = 2 x; d/dx = 2
    assert hd.grad(lambda x: hd.jvp(lambda y: y ** 2, (1.0,), (x,))[1])(x) == 2.0
    # d/dx hvp(f, x0, x v) with f = sum(t^4): H = diag(12 x0^2); hvp = 12 x0^2 x v; d/dx = 12 x0^2 v (jacrev of s)
    close(hd.jacrev(lambda s: hd.hvp(lambda t: np.sum(t ** 4), XV, s * V))(2.0), 12 * XV ** 2 * V)


# ----------------------------------------------------------------------------------------------------------------
# depth 3-4 on one function: every order of forward and reverse gives the same analytic derivative


def _d4_x5_sin(x):
    # Leibniz: (x^5 sin x)'''' = sum_k C(4,k) (x^5)^(k) sin^(4-k)(x)
    p = [x ** 5, 5 * x ** 4, 20 * x ** 3, 60 * x ** 2, 120 * x]
    s = [np.sin(x), np.cos(x), -np.sin(x), -np.cos(x), np.sin(x)]
    return sum(comb(4, k) * p[k] * s[4 - k] for k in range(5))


def _d3_x5_sin(x):
    p = [x ** 5, 5 * x ** 4, 20 * x ** 3, 60 * x ** 2]
    s = [np.sin(x), np.cos(x), -np.sin(x), -np.cos(x)]
    return sum(comb(3, k) * p[k] * s[3 - k] for k in range(4))


@pytest.mark.parametrize("combo", list(itertools.product(FWD_REV, repeat=3)), ids="-".join)
def test_third_derivative_every_order(combo):
    g = lambda x: x ** 5 * np.sin(x)
    for c in combo:
        g = FWD_REV[c](g)
    close(g(0.7), _d3_x5_sin(0.7))


@pytest.mark.parametrize("combo", list(itertools.product(FWD_REV, repeat=4)), ids="-".join)
def test_fourth_derivative_every_order(combo):
    g = lambda x: x ** 5 * np.sin(x)
    for c in combo:
        g = FWD_REV[c](g)
    close(g(0.7), _d4_x5_sin(0.7))


def test_hessian_of_hessian_entry_fourth_order():
    # f = sum(t^4) + t0^2 t1^2: d4f/dt0^2 dt1^2 = 4; d4f/dt0^4 = 24; d4f/dt1^4 = 24
    f = lambda t: np.sum(t ** 4) + t[0] ** 2 * t[1] ** 2
    x = np.array([0.3, -0.8])
    H4 = hd.hessian(lambda t: hd.hessian(f)(t)[0, 0])(x)        # d2/dt2 of f_00 = 12 t0^2 + 2 t1^2
    close(H4, [[24.0, 0.0], [0.0, 4.0]])


# ----------------------------------------------------------------------------------------------------------------
# Hessians of functions that call transforms inside


def test_hessian_of_function_calling_grad_elementwise():
    # g = sum(t sin t): q = grad g = sin t + t cos t; h = sum(q^2); H = diag(2 q'^2 + 2 q q'')
    # q' = 2 cos t - t sin t;  q'' = -3 sin t - t cos t
    g = lambda t: np.sum(t * np.sin(t))
    h = lambda t: np.sum(hd.grad(g)(t) ** 2)
    x = XV
    q = np.sin(x) + x * np.cos(x)
    q1 = 2 * np.cos(x) - x * np.sin(x)
    q2 = -3 * np.sin(x) - x * np.cos(x)
    close(hd.hessian(h)(x), np.diag(2 * q1 ** 2 + 2 * q * q2))


def test_hessian_of_function_calling_grad_coupled():
    # g = t0^2 t1 + t1^3 t2: grad g = [2 t0 t1, t0^2 + 3 t1^2 t2, t1^3]; h = c . grad g
    # H(h) = [[2 c1, 2 c0, 0], [2 c0, 6 c1 t2 + 6 c2 t1, 6 c1 t1], [0, 6 c1 t1, 0]]
    c = np.array([1.5, -0.5, 2.0])
    g = lambda t: t[0] ** 2 * t[1] + t[1] ** 3 * t[2]
    h = lambda t: np.dot(c, hd.grad(g)(t))
    _t0, t1, t2 = XV
    want = np.array([[2 * c[1], 2 * c[0], 0.0],
                     [2 * c[0], 6 * c[1] * t2 + 6 * c[2] * t1, 6 * c[1] * t1],
                     [0.0, 6 * c[1] * t1, 0.0]])
    close(hd.hessian(h)(XV), want)
    close(hd.hvp(h, XV, U), want @ U)


def test_hessian_of_function_calling_jvp_and_hvp():
    # f = sum(t^4): jvp along v = sum(4 t^3 v) -> Hessian diag(24 t v);
    # sum(hvp(f, t, v)) = sum(12 t^2 v) -> Hessian diag(24 v)
    f = lambda t: np.sum(t ** 4)
    close(hd.hessian(lambda t: hd.jvp(f, (t,), (V,))[1])(XV), np.diag(24 * XV * V))
    close(hd.hessian(lambda t: np.sum(hd.hvp(f, t, V)))(XV), np.diag(24 * V))
    close(hd.jacfwd(lambda t: hd.hvp(f, t, V))(XV), np.diag(24 * XV * V))
    close(hd.jacrev(lambda t: hd.hvp(f, t, V))(XV), np.diag(24 * XV * V))


def test_derivative_of_a_hessian_with_respect_to_a_scale():
    # hessian(f)(s x) = diag(12 s^2 x^2); d/ds sum(...) at s = 1 = 24 sum(x^2); d/ds the matrix = diag(24 x^2)
    f = lambda t: np.sum(t ** 4)
    close(hd.grad(lambda s: np.sum(hd.hessian(f)(XV * s)))(1.0), 24 * np.sum(XV ** 2))
    close(hd.jvp(lambda s: hd.hessian(f)(XV * s), (1.0,), (1.0,))[1], np.diag(24 * XV ** 2))


# ----------------------------------------------------------------------------------------------------------------
# third-order tensors


def poly(t):
    # f = t0^2 t1 + t1^3 t2 + t0 t1 t2
    return t[0] ** 2 * t[1] + t[1] ** 3 * t[2] + t[0] * t[1] * t[2]


def poly_third(t):
    """T[i,j,k] = d3 f / dt_i dt_j dt_k, symmetric: f_001 = 2, f_111 = 6 t2, f_112 = 6 t1, f_012 = 1."""
    T = np.zeros((3, 3, 3))
    for idx, value in [((0, 0, 1), 2.0), ((1, 1, 1), 6 * t[2]), ((1, 1, 2), 6 * t[1]), ((0, 1, 2), 1.0)]:
        for perm in set(itertools.permutations(idx)):
            T[perm] = value
    return T


@pytest.mark.parametrize("make", [
    lambda f: hd.jacfwd(hd.hessian(f)),
    lambda f: hd.jacrev(hd.hessian(f)),
    lambda f: hd.hessian(hd.jacfwd(f)),
    lambda f: hd.hessian(hd.grad(f)),
    lambda f: hd.jacfwd(hd.jacfwd(hd.jacfwd(f))),
    lambda f: hd.jacrev(hd.jacrev(hd.grad(f))),
    lambda f: hd.jacfwd(hd.jacrev(hd.jacfwd(f))),
], ids=["jacfwd(hessian)", "jacrev(hessian)", "hessian(jacfwd)", "hessian(grad)", "jacfwd^3", "jacrev^2(grad)",
        "fwd-rev-fwd"])
def test_third_order_tensor_of_polynomial(make):
    T = make(poly)(XV)
    assert isinstance(T, np.ndarray) and T.shape == (3, 3, 3)
    close(T, poly_third(XV))


def test_third_order_tensor_is_symmetric_and_contracts_to_hvp_derivative():
    T = hd.jacfwd(hd.hessian(poly))(XV)
    for perm in itertools.permutations(range(3)):
        close(T, np.transpose(T, perm))
    # d/dx (H(x) v) . u = T[., ., .] contracted: sum_jk T_ijk v_j u_k
    close(hd.jvp(lambda t: hd.hvp(poly, t, V), (XV,), (U,))[1], np.einsum("ijk,j,k->i", poly_third(XV), V, U))


# ----------------------------------------------------------------------------------------------------------------
# reverse-over-reverse (tensor API, create_graph) vs forward-over-reverse (hd.hvp, hd.hessian)


def rosen_like(t):
    # a non-separable test function: sum(100 (t[1:] - t[:-1]^2)^2 + (1 - t[:-1])^2) + sum(sin(t) t^2)
    return np.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1.0 - t[:-1]) ** 2) + np.sum(np.sin(t) * t ** 2)


def rosen_like_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        # 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    # sin(x) x^2: (sin x x^2)'' = -sin x x^2 + 4 x cos x + 2 sin x
    H[np.diag_indices(n)] += -np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x)
    return H


X5 = np.array([0.9, -0.4, 1.3, 0.2, -1.1])
V5 = np.array([1.0, 0.5, -2.0, 0.25, 3.0])


def tape_hessian(f, x):
    xt = hd.tensor(x, requires_grad=True)
    (g,) = hd.autograd.grad(f(xt), [xt], create_graph=True)
    rows = []
    for i in range(len(x)):
        (hi,) = hd.autograd.grad(g[i], [xt], retain_graph=True)
        rows.append(hi.detach().numpy())
    return np.array(rows)


def tape_hvp(f, x, v):
    xt = hd.tensor(x, requires_grad=True)
    f(xt).backward(create_graph=True)
    g = xt.grad
    xt.grad = None
    (g * hd.tensor(v)).sum().backward()
    return xt.grad.detach().numpy()


def agree(a, b):
    # two exact methods in double precision: agreement to 1e-12 relative to the largest entry
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), 1.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * scale)


def test_reverse_over_reverse_hessian_matches_hessian_and_analytic():
    H_rr = tape_hessian(rosen_like, X5)
    H_fr = hd.hessian(rosen_like)(X5)
    agree(H_rr, H_fr)
    close(H_fr, rosen_like_hessian(X5), rtol=1e-12, atol=1e-11)   # entries up to ~2e3: atol 1e-11 is ~5 ulp
    agree(H_fr, H_fr.T)


def test_reverse_over_reverse_hvp_matches_hvp():
    agree(tape_hvp(rosen_like, X5, V5), hd.hvp(rosen_like, X5, V5))
    agree(hd.hvp(rosen_like, X5, V5), rosen_like_hessian(X5) @ V5)


def test_functional_reverse_over_reverse_and_forward_over_forward_agree():
    hv_fr = hd.hvp(rosen_like, X5, V5)
    hv_rr = hd.grad(lambda t: np.dot(hd.grad(rosen_like)(t), V5))(X5)
    hv_ff = hd.jvp(lambda t: hd.jvp(rosen_like, (t,), (V5,))[1], (X5,), (np.eye(5)[0],))[1]
    agree(hv_fr, hv_rr)
    agree(np.asarray(hv_ff), hv_fr[0])        # e0^T H v by forward-over-forward
    agree(hd.jacfwd(hd.jacfwd(rosen_like))(X5), hd.jacrev(hd.jacrev(rosen_like))(X5))


def test_tensor_create_graph_over_closed_functional_transform():
    # mixed: an eager tensor w closed over by hd.grad; grad_t sum(t^2 w) = 2 t w; d/dw sum(2 t w) = 2 t
    w = hd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = hd.grad(lambda t: np.sum(t * t * w))(XV)
    close(g.detach().numpy(), 2 * XV * np.array([1.0, 2.0, 3.0]))
    g.sum().backward()
    close(w.grad.detach().numpy(), 2 * XV)
