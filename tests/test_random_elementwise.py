"""hd.random (numpy.random's conventions, tensors out, the chapter's MXNet snippet) and elementwise_grad.

References: numpy's own Generator for the draws, analytic derivatives (tanh to fourth order), per-element hd.grad
(another strategy), and the full Jacobian's diagonal for the refusal cases.
"""
from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

import hodiff as hd
from hodiff import elementwise_grad

CHAPTER = pathlib.Path("/work/shared/reference/autograd-chapter.md")

# ---------------------------------------------------------------------------------------------------------------------
# hd.random


@pytest.mark.parametrize("args, kwargs", [((), {}), ((2.0, 3.0), {"size": (2, 3)}), ((), {"size": 4}),
                                          ((np.zeros(3), [[1.0], [2.0]]), {}), ((-1.0,), {"scale": 0.5, "size": 1})])
def test_normal_matches_numpy_generator(args, kwargs):
    hd.random.seed(123)
    a = hd.random.normal(*args, **kwargs)
    b = np.random.default_rng(123).normal(*args, **kwargs)
    assert isinstance(a, hd.Tensor) and not a.requires_grad and a.dtype == np.float64
    assert a.shape == np.shape(b)
    np.testing.assert_array_equal(a.numpy(), b)


@pytest.mark.parametrize("args, kwargs", [((), {}), ((-2.0, 3.0), {"size": (2, 3)}), ((), {"size": 4}),
                                          ((np.zeros(3), [[1.0], [2.0]]), {}), ((5.0,), {"high": 6.0})])
def test_uniform_matches_numpy_generator(args, kwargs):
    hd.random.seed(7)
    a = hd.random.uniform(*args, **kwargs)
    b = np.random.default_rng(7).uniform(*args, **kwargs)
    assert isinstance(a, hd.Tensor) and a.shape == np.shape(b)
    np.testing.assert_array_equal(a.numpy(), b)


def test_seed_reproducible_and_streams_advance():
    hd.random.seed(5)
    a, b = hd.random.normal(size=3).numpy(), hd.random.uniform(size=2).numpy()
    hd.random.seed(5)
    np.testing.assert_array_equal(hd.random.normal(size=3).numpy(), a)
    np.testing.assert_array_equal(hd.random.uniform(size=2).numpy(), b)
    assert not np.array_equal(hd.random.normal(size=3).numpy(), a)


def test_moments():
    hd.random.seed(0)
    n = 40000
    z = hd.random.normal(1.5, 2.0, size=n).numpy()
    u = hd.random.uniform(-1.0, 3.0, size=n).numpy()
    # 5 standard errors: mean se = sigma / sqrt(n); var se ~ sigma^2 sqrt(2 / n)
    assert abs(z.mean() - 1.5) < 5 * 2.0 / np.sqrt(n)
    assert abs(z.var() - 4.0) < 5 * 4.0 * np.sqrt(2 / n)
    assert abs(u.mean() - 1.0) < 5 * np.sqrt(16 / 12 / n)
    assert u.min() >= -1.0 and u.max() < 3.0


def test_reparameterized_draws_are_differentiable():
    m, s = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3, 2.0])

    def f(m, s):
        hd.random.seed(11)
        return np.sum(hd.random.normal(m, s) ** 2)

    z = np.random.default_rng(11).standard_normal(3)
    gm, gs = hd.grad(f, argnums=(0, 1))(m, s)
    np.testing.assert_allclose(gm, 2 * (m + s * z), rtol=1e-14)
    np.testing.assert_allclose(gs, 2 * (m + s * z) * z, rtol=1e-14)

    lo = hd.tensor([0.0, 1.0], requires_grad=True)
    hd.random.seed(3)
    y = hd.random.uniform(lo, 4.0)
    u = np.random.default_rng(3).random(2)
    y.sum().backward()
    np.testing.assert_allclose(lo.grad.numpy(), 1 - u, rtol=1e-14)     # d/dlow [low + (high - low) u]


def _mxnet_snippet():
    """The chapter's MXNet control-flow example, as printed there (``np`` is MXNet's numpy)."""
    return '''def f(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c

a = np.random.normal()
a.attach_grad()
with autograd.record():
    d = f(a)
d.backward()

result = a.grad == d / a
'''


def test_snippet_is_the_chapter_text():
    if not CHAPTER.exists():
        pytest.skip("the reference chapter is not on this machine")
    text = CHAPTER.read_text()
    code = "\n".join(re.findall(r"```\{\.python \.input\}\n(.*?)```", text, flags=re.S))
    snippet = _mxnet_snippet().replace("\nresult = ", "\n")
    for part in snippet.strip().split("\n\n"):
        assert part.strip() in code, part


@pytest.mark.parametrize("seed", range(8))
def test_chapter_mxnet_control_flow_with_np_as_hd(seed):
    hd.random.seed(seed)
    ns = {"np": hd, "autograd": hd.autograd}
    exec(_mxnet_snippet(), ns)
    a, d, result = ns["a"], ns["d"], ns["result"]
    assert a.shape == () and bool(result)
    # independently: f(a) = k a with k = 2^m (a > 0) or 100 * 2^m, m the doublings that bring |2a| past 1000
    av = np.random.default_rng(seed).standard_normal()
    k, b = 2.0, 2.0 * av
    while abs(b) < 1000:
        b, k = 2 * b, 2 * k
    k = k if b > 0 else 100 * k
    assert a.item() == av and a.grad.item() == k and d.item() == k * av


# ---------------------------------------------------------------------------------------------------------------------
# elementwise_grad

X = np.linspace(-2.0, 2.0, 9)


@pytest.mark.parametrize("f, df", [
    (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    (np.sin, np.cos),
    (np.exp, np.exp),
    (lambda x: x * np.exp(-x ** 2), lambda x: (1 - 2 * x ** 2) * np.exp(-x ** 2)),
    (lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
])
def test_values_analytic(f, df):
    np.testing.assert_allclose(elementwise_grad(f)(X), df(X), rtol=1e-13, atol=1e-15)
    X2 = X.reshape(3, 3)
    np.testing.assert_allclose(elementwise_grad(f)(X2), df(X2), rtol=1e-13, atol=1e-15)


def test_matches_per_element_grad():
    f = lambda x: np.log1p(x ** 2) * np.cos(x)           # noqa: E731
    per = np.array([hd.grad(f)(xi) for xi in X])
    np.testing.assert_allclose(elementwise_grad(f)(X), per, rtol=1e-14, atol=1e-15)


def test_nested_to_fourth_order_tanh():
    t = np.tanh(X)
    d = [1 - t ** 2, -2 * t * (1 - t ** 2), (6 * t ** 2 - 2) * (1 - t ** 2), (1 - t ** 2) * (16 * t - 24 * t ** 3)]
    f = np.tanh
    for k in range(4):
        f = elementwise_grad(f)
        np.testing.assert_allclose(f(X), d[k], rtol=1e-12, atol=1e-14)


def test_inside_other_transforms():
    # d/dx sum(exp'(x)) = exp(x); the Hessian of sum(sin'(x)) = sum(cos x) is diag(-cos x)
    np.testing.assert_allclose(hd.grad(lambda x: np.sum(elementwise_grad(np.exp)(x)))(X), np.exp(X), rtol=1e-14)
    np.testing.assert_allclose(hd.hessian(lambda x: np.sum(elementwise_grad(np.sin)(x)))(X[:4]),
                               np.diag(-np.cos(X[:4])), rtol=1e-14, atol=1e-15)


def test_argnums_and_other_arguments():
    x, y = X, X[::-1] + 0.5
    gx, gy = elementwise_grad(lambda x, y: x * np.sin(y), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.sin(y), rtol=1e-15)
    np.testing.assert_allclose(gy, x * np.cos(y), rtol=1e-15)
    g = elementwise_grad(lambda c, x, p=2.0: c * x ** p, argnums=1)(3.0, x, p=3.0)
    np.testing.assert_allclose(g, 9.0 * x ** 2, rtol=1e-15)
    np.testing.assert_allclose(elementwise_grad(lambda x: x ** 3, argnums=-1)(np.array(2.0)), 12.0)


def test_infinite_derivative_is_not_refused():
    with np.errstate(divide="ignore"):
        g = elementwise_grad(np.sqrt)(np.array([0.0, 1.0, 4.0]))
    np.testing.assert_array_equal(g, [np.inf, 0.5, 0.25])


A = np.random.default_rng(3).standard_normal((9, 9))


@pytest.mark.parametrize("f", [
    lambda x: x - np.mean(x),
    np.cumsum,
    lambda x: A @ x,
    lambda x: np.sort(x[::-1] * np.array([1.0, -1.0] * 4 + [1.0])),
    lambda x: np.roll(x, 1),
    lambda x: x * np.sum(x),
    lambda x: np.exp(x) / np.sum(np.exp(x)),
    lambda x: x + 1e-3 * np.roll(x, 2),
], ids=["centre", "cumsum", "matmul", "sort", "roll", "times-sum", "softmax", "small-coupling"])
def test_refuses_non_elementwise(f):
    J = hd.jacobian(f)(X)
    assert np.abs(J - np.diag(np.diag(J))).max() > 1e-4          # the functions really mix elements here
    with pytest.raises(ValueError, match="elementwise_grad: the function is not elementwise"):
        elementwise_grad(f)(X)
    # with the check off, what comes back is the gradient of the sum (documented), not the diagonal
    np.testing.assert_allclose(elementwise_grad(f, check=False)(X), J.sum(axis=0), rtol=1e-12, atol=1e-12)


def test_refuses_mixing_in_one_of_several_arguments():
    with pytest.raises(ValueError, match="not elementwise"):
        elementwise_grad(lambda x, y: x * np.roll(y, 1), argnums=(0, 1))(X, X + 1)
    g = elementwise_grad(lambda x, y: x * np.roll(y, 1), argnums=0)(X, X + 1)   # elementwise in x alone
    np.testing.assert_allclose(g, np.roll(X + 1, 1), rtol=1e-15)


def test_shape_and_argument_errors():
    with pytest.raises(ValueError, match=r"f returned shape \(\) for argument 0 of shape \(9,\)"):
        elementwise_grad(np.sum)(X)
    with pytest.raises(ValueError, match=r"returned shape \(2, 9\)"):
        elementwise_grad(lambda x: x * np.ones((2, 1)))(X)
    with pytest.raises(TypeError, match="returning one array"):
        elementwise_grad(lambda x: (x, x))(X)
    with pytest.raises(ValueError, match="names an argument twice"):
        elementwise_grad(lambda x: x, argnums=(0, 0))(X)
    with pytest.raises(ValueError, match="out of range"):
        elementwise_grad(lambda x: x, argnums=1)(X)
    for bad in (1.5, "0", (), True):
        with pytest.raises(TypeError, match="argnums must be an int"):
            elementwise_grad(lambda x: x, argnums=bad)(X)


def test_docstring_examples(monkeypatch):
    import doctest

    from hodiff._src.transforms import elementwise_grad as ewg
    for mod in (hd.random, ewg):
        res = doctest.testmod(mod)
        assert res.failed == 0 and res.attempted >= 3, mod.__name__
