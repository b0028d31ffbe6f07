"""Taylor mode: ``derivative`` and ``taylor`` against analytic derivatives, nested grad / jvp, and the table."""
from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial import hermite_e as He
from numpy.polynomial import polynomial as Poly

import hodiff as hd
from hodiff._src.core.engine import PRIMITIVES
from hodiff._src.interpreters.taylor import Jet
from hodiff._src.table.taylor import TAYLOR_RULES
from hodiff._src.transforms.taylor import derivative, taylor

X0 = 0.7
KMAX = 10

# ----------------------------------------------------------------------------------------------------------------
# analytic k-th derivatives


def _tanh_poly(k):
    """d^k tanh / dx^k as a polynomial in y = tanh(x): d/dx P(y) = P'(y) (1 - y^2)."""
    p = np.array([0.0, 1.0])
    for _ in range(k):
        p = Poly.polymul(Poly.polyder(p), [1.0, 0.0, -1.0])
    return p


def _leibniz(k, x):
    """d^k [sin(x) exp(x/2)]."""
    return sum(math.comb(k, j) * np.sin(x + j * np.pi / 2) * 0.5 ** (k - j) * np.exp(x / 2) for j in range(k + 1))


def _gauss(k, x):
    """d^k exp(-x^2/2) = (-1)^k He_k(x) exp(-x^2/2)."""
    c = np.zeros(k + 1)
    c[k] = 1.0
    return (-1) ** k * He.hermeval(x, c) * np.exp(-x * x / 2)


ANALYTIC = {
    "exp": (np.exp, lambda k, x: np.exp(x)),
    "sin": (np.sin, lambda k, x: np.sin(x + k * np.pi / 2)),
    "log1p": (np.log1p, lambda k, x: np.log1p(x) if k == 0 else
              (-1) ** (k - 1) * math.factorial(k - 1) / (1 + x) ** k),
    "tanh": (np.tanh, lambda k, x: Poly.polyval(np.tanh(x), _tanh_poly(k))),
    "sin*exp(x/2)": (lambda x: np.sin(x) * np.exp(x / 2), _leibniz),
    "exp(-x^2/2)": (lambda x: np.exp(-x * x / 2), _gauss),
    "1/(1+x)": (lambda x: 1.0 / (1.0 + x), lambda k, x: (-1) ** k * math.factorial(k) / (1 + x) ** (k + 1)),
    "exp(log1p(x)*2.5)": (lambda x: np.exp(np.log1p(x) * 2.5),
                          lambda k, x: math.prod(2.5 - i for i in range(k)) * (1 + x) ** (2.5 - k)),
    "sqrt(1+x)": (lambda x: np.sqrt(1.0 + x), lambda k, x: math.prod(0.5 - i for i in range(k)) * (1 + x) ** (0.5 - k)),
    "cosh(x)**2": (lambda x: np.cosh(x) ** 2,   # (1 + cosh 2x) / 2
                   lambda k, x: (0.5 + 0.5 * np.cosh(2 * x)) if k == 0 else
                   0.5 * 2 ** k * (np.cosh(2 * x) if k % 2 == 0 else np.sinh(2 * x))),
    "tan(x)": (np.tan, None),
}


def _rel_ok(got, want, rtol=1e-10):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return np.all(np.abs(got - want) <= rtol * np.maximum(np.abs(want), 1e-300))


@pytest.mark.parametrize("name", [n for n, (f, d) in ANALYTIC.items() if d is not None])
def test_analytic_up_to_order_10(name):
    f, d = ANALYTIC[name]
    for k in range(KMAX + 1):
        got = derivative(f, k)(X0)
        want = d(k, X0)
        assert _rel_ok(got, want), (name, k, got, want)


@pytest.mark.parametrize("name", ["exp", "sin", "tanh", "sin*exp(x/2)", "exp(-x^2/2)"])
def test_analytic_elementwise_arrays(name):
    f, d = ANALYTIC[name]
    x = np.array([[-0.9, 0.3], [0.7, 1.3]])
    for k in (1, 4, 10):
        got = derivative(f, k)(x)
        assert got.shape == x.shape
        want = d(k, x)
        ok = np.abs(got - want) <= 1e-10 * np.maximum(np.abs(want), 1e-3 * np.abs(want).max())
        assert ok.all(), (name, k, got, want)


@pytest.mark.parametrize("name", list(ANALYTIC))
def test_against_nested_grad(name):
    f = ANALYTIC[name][0]
    g = f
    for k in range(1, 5):
        g = hd.grad(g)
        want = g(X0)
        got = derivative(f, k)(X0)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


def test_derivative_all_in_one_pass_matches_taylor():
    f = ANALYTIC["sin*exp(x/2)"][0]
    c = taylor(f, X0, 1.0, order=KMAX)
    assert c.shape == (KMAX + 1,)
    for k in range(KMAX + 1):
        assert _rel_ok(c[k] * math.factorial(k), _leibniz(k, X0))


def test_order_zero_and_constant():
    assert derivative(np.sin, 0)(0.3) == np.sin(0.3)
    assert derivative(lambda x: 3.0, 2)(0.3) == 0.0
    assert derivative(lambda x: x * 2.0 + 1.0, 2)(np.ones(3)).tolist() == [0.0, 0.0, 0.0]
    assert derivative(lambda x: x ** 3, 3)(0.0) == 6.0   # integer powers are exact at 0
    assert derivative(lambda x: x ** 2, 1)(0.0) == 0.0
    with pytest.raises(ValueError):
        derivative(np.sin, -1)


# ----------------------------------------------------------------------------------------------------------------
# nesting with the other transforms


def test_grad_of_derivative():
    f = ANALYTIC["sin*exp(x/2)"][0]
    for k in (1, 3, 6):
        np.testing.assert_allclose(hd.grad(derivative(f, k))(X0), _leibniz(k + 1, X0), rtol=1e-11)


def test_derivative_of_grad_and_of_derivative():
    f = ANALYTIC["exp(-x^2/2)"][0]
    np.testing.assert_allclose(derivative(hd.grad(f), 4)(X0), _gauss(5, X0), rtol=1e-11)
    np.testing.assert_allclose(derivative(derivative(f, 2), 3)(X0), _gauss(5, X0), rtol=1e-11)
    np.testing.assert_allclose(hd.jvp(derivative(f, 3), (X0,), (1.0,))[1], _gauss(4, X0), rtol=1e-11)
    # a derivative of f(x, y) in x, differentiated in y: no confusion between the levels
    h = lambda y: derivative(lambda x: np.sin(x * y), 2)(X0)   # -y^2 sin(x y)
    want = -2 * 1.3 * np.sin(X0 * 1.3) - 1.3 ** 2 * X0 * np.cos(X0 * 1.3)
    np.testing.assert_allclose(hd.grad(h)(1.3), want, rtol=1e-12)


def test_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] at 1 = 1
    assert derivative(lambda x: x * derivative(lambda y: x + y, 1)(1.0), 1)(1.0) == 1.0


def test_escaped_jet_raises():
    saved = []
    derivative(lambda x: saved.append(x) or x, 1)(1.0)
    with pytest.raises(hd.EscapedBoxError):
        np.sin(saved[0])


def test_missing_rule_raises():
    missing = sorted(set(PRIMITIVES) - set(TAYLOR_RULES))
    assert "eigh_packed" in missing
    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    with pytest.raises(NotImplementedError, match="eigh_packed"):
        taylor(lambda t: hd.linalg.eigh(t)[0], a, np.eye(2), order=2)


# ----------------------------------------------------------------------------------------------------------------
# taylor vs nested jvp


def _nested_jvp_coeffs(f, xs, vs, order):
    """``c_k = D^k f[v, ..., v] / k!`` by nesting jvp ``k`` times."""
    def along(h):
        return lambda *a: hd.jvp(h, tuple(a), tuple(vs))[1]

    out = []
    g = f
    for k in range(order + 1):
        out.append(np.asarray(g(*xs)) / math.factorial(k))
        g = along(g)
    return np.stack(out)


A = np.random.default_rng(0).standard_normal((3, 4))


def _vec_funcs():
    return {
        "matmul-tanh": lambda x: np.tanh(A @ x),
        "sum-exp": lambda x: np.sum(np.exp(x) * x),
        "index": lambda x: x[1:3] * np.sin(x[::-1][:2]) + x[np.array([0, 0])] ** 2,
        "quadratic": lambda x: x @ (A.T @ (A @ x)),
        "softmax": lambda x: np.exp(x) / np.sum(np.exp(x)),
        "norm": lambda x: np.sqrt(np.sum(x * x)) * np.log(1.0 + x @ x),
        "einsum": lambda x: hd.einsum("i,ij,j->", x, A.T @ A, np.cos(x)),
    }


@pytest.mark.parametrize("name", list(_vec_funcs()))
def test_taylor_vs_nested_jvp(name):
    f = _vec_funcs()[name]
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    got = taylor(f, x, v, order=3)
    want = _nested_jvp_coeffs(f, (x,), (v,), 3)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_taylor_multiple_arguments():
    f = lambda x, y: np.sum(np.sin(x) * y ** 2)
    x, y = np.array([0.1, 0.4]), np.array([1.5, -0.3])
    dx, dy = np.array([1.0, 2.0]), np.array([0.5, 0.1])
    np.testing.assert_allclose(taylor(f, (x, y), (dx, dy), order=4),
                               _nested_jvp_coeffs(f, (x, y), (dx, dy), 4), rtol=1e-11, atol=1e-13)


# ----------------------------------------------------------------------------------------------------------------
# the table: coverage and a generated check per primitive

REQUIRED = {
    "add", "subtract", "negative", "multiply", "divide", "exp", "log", "log1p", "expm1", "sin", "cos", "tan",
    "tanh", "sinh", "cosh", "sqrt", "power", "arctan", "arcsin", "arccos", "arctanh", "arcsinh", "arccosh", "erf",
    "expit", "absolute", "maximum", "minimum", "where", "reshape", "transpose", "broadcast_to", "getitem",
    "scatter_add", "sum", "cumsum_last", "concatenate", "matmul", "einsum", "prod_last", "amax", "amin",
}


def test_coverage_of_the_table():
    covered = sorted(n for n in PRIMITIVES if n in TAYLOR_RULES)
    uncovered = sorted(n for n in PRIMITIVES if n not in TAYLOR_RULES)
    print(f"\nTaylor rules ({len(covered)}/{len(PRIMITIVES)}):", ", ".join(covered))
    print("no Taylor rule:", ", ".join(uncovered))
    assert REQUIRED <= set(covered), REQUIRED - set(covered)
    assert set(TAYLOR_RULES) <= set(PRIMITIVES)


def _is_float(a):
    return isinstance(a, (float, np.floating)) or (isinstance(a, np.ndarray) and a.dtype.kind == "f")


@pytest.mark.parametrize("name", sorted(TAYLOR_RULES))
def test_primitive_taylor_vs_nested_jvp(name):
    prim = PRIMITIVES[name]
    for seed in range(3):
        rng = np.random.default_rng(seed)
        args, params = prim.domain(rng)
        args = list(args)
        pos = [i for i, a in enumerate(args) if _is_float(a)]
        dirs = [rng.standard_normal(np.shape(args[i])) for i in pos]

        def f(*xs, args=args, pos=pos, params=params):
            full = list(args)
            for i, x in zip(pos, xs):
                full[i] = x
            return prim.bind(*full, **params)

        xs = tuple(args[i] for i in pos)
        got = taylor(f, xs, tuple(dirs), order=3)
        want = _nested_jvp_coeffs(f, xs, dirs, 3)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, err_msg=f"{name} seed {seed}")


def test_jet_repr_and_shape():
    j = Jet([np.zeros(3), np.ones(3), None])
    assert j.shape == (3,) and j.ndim == 1 and j.dtype == np.float64
    assert "Jet" in repr(j)


# ----------------------------------------------------------------------------------------------------------------
# special cases of single rules


_SPECIAL = [
    lambda x: x ** 2.5, lambda x: x ** -1.5, lambda x: x ** 0, lambda x: x ** 7, lambda x: x ** np.array([2, 3, 0]),
    lambda x: x ** np.array([0.5, -2.0, 3.5]), lambda x: 1.7 ** x, lambda x: x ** (x / 3),
    lambda x: np.sinc(x), lambda x: np.abs(x - 1.0) * x, lambda x: np.maximum(x, 1.0) ** 2,
    lambda x: hd.special.expit(x),
]


@pytest.mark.parametrize("f", _SPECIAL, ids=["pow2.5", "pow-1.5", "pow0", "pow7", "pow-int-array", "pow-array", "const**x", "x**(x/3)", "sinc",
        "abs", "maximum", "expit"])
def test_special_cases_vs_nested_jvp(f):
    for x in (np.array([0.4, 1.3, 2.2]), np.array([0.0, 1.0, 3.0])):
        with np.errstate(all="ignore"):
            want = _nested_jvp_coeffs(f, (x,), (np.array([1.0, -0.5, 2.0]),), 4)
        with np.errstate(all="ignore"):
            got = taylor(f, x, np.array([1.0, -0.5, 2.0]), order=4)
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-10, atol=1e-12)


def test_sinc_at_zero():
    # sinc(x) = 1 - (pi x)^2/6 + (pi x)^4/120 - ...
    c = taylor(np.sinc, np.array([0.0, 0.5]), np.array([1.0, 1.0]), order=4)
    np.testing.assert_allclose(c[:, 0], [1.0, 0.0, -np.pi ** 2 / 6, 0.0, np.pi ** 4 / 120], rtol=1e-13, atol=1e-15)


def test_float32_stays_float32():
    d = derivative(lambda x: np.exp(x) * np.sin(x), 3)(np.ones(3, dtype=np.float32))
    assert d.dtype == np.float32


def test_tensor_api_through_derivative():
    f = ANALYTIC["sin*exp(x/2)"][0]
    x = hd.tensor(X0, requires_grad=True)
    y = derivative(f, 3)(x)
    y.backward()
    np.testing.assert_allclose(x.grad, _leibniz(4, X0), rtol=1e-11)


def test_grad_of_taylor_coefficient():
    f = lambda x: np.sum(np.tanh(A @ x) ** 2)
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    # c_2 = v^T H(x) v / 2, whose gradient in x is what reverse mode over hvp gives
    got = hd.grad(lambda y: taylor(f, y, v, order=2)[2])(x)
    want = hd.grad(lambda y: 0.5 * np.dot(v, hd.hvp(f, y, v)))(x)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # and the third-order coefficient is the same directional derivative of the Hessian form
    np.testing.assert_allclose(taylor(f, x, v, order=3)[3], np.dot(want, v) / 3, rtol=1e-10)


def test_hessian_and_jacfwd_of_derivative_and_back():
    f = ANALYTIC["sin*exp(x/2)"][0]
    x = np.array([0.3, 0.7, 1.1])
    H = hd.hessian(lambda y: np.sum(derivative(f, 2)(y)))(x)
    np.testing.assert_allclose(H, np.diag(_leibniz(4, x)), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(hd.jacfwd(derivative(f, 3))(x), np.diag(_leibniz(4, x)), rtol=1e-11, atol=1e-13)
    B = np.array([[1.0, 0.3], [0.3, 2.0]])
    g = lambda z: np.sum(np.exp(B @ z))
    h = lambda s: hd.hessian(g)(hd.stack([s, 2 * s]))[0, 1]
    np.testing.assert_allclose(derivative(h, 2)(0.4), hd.grad(hd.grad(h))(0.4), rtol=1e-12)
