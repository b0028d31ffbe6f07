"""Linearization, the Hessian operator and the Hessian on an executor.

Oracles: ``hd.jvp`` (a fresh forward pass) for ``linearize``; ``hd.hvp``, the dense ``hd.hessian``, central finite
differences of the gradient and SciPy's hand-written ``rosen_hess`` for the operator; ``hd.hessian`` for the chunked
Hessian on thread and process pools. Replaying the recorded program performs the same floating-point operations as
the fresh pass, so agreement with ``hd.jvp`` / ``hd.hvp`` is to a few ulps (1e-13 relative).
"""
from __future__ import annotations

import doctest
import functools
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
import scipy.optimize as so
from scipy.sparse.linalg import LinearOperator, cg, eigsh

import hodiff as hd
import hodiff._src.transforms.hessian_operator as _ops_mod
import hodiff._src.transforms.hessians as _hess_mod
import hodiff._src.transforms.linearize as _lin_mod
from hodiff._src.transforms.hessian_operator import HessianOperator, hessian_operator
from hodiff._src.transforms.hessians import hessian_chunks, hessian_on_executor
from hodiff._src.transforms.linearize import linearize

RTOL = 1e-13

rng = np.random.default_rng(20260611)
A = rng.standard_normal((4, 4)) + 4 * np.eye(4)


def close(got, want, rtol=RTOL, atol=1e-14):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    assert np.max(np.abs(got - want), initial=0.0) <= rtol * scale + atol, np.max(np.abs(got - want))


# module-level (picklable) test functions
def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def ext_rosen(x):
    xo, xe = x[0::2], x[1::2]
    return np.sum(100.0 * (xe - xo ** 2) ** 2 + (1.0 - xo) ** 2)


def mlp_loss(theta, X, y):
    W1 = theta[:12].reshape(3, 4)
    b1 = theta[12:16]
    w2 = theta[16:20]
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ w2 - y) ** 2) + 1e-3 * np.sum(theta ** 2)


def mixed(x):
    """A bit of everything: elementwise, reductions, products, slicing, stacking, linear algebra, maxima."""
    y = x.reshape(2, 6)
    z = np.exp(np.sin(y)) @ np.ones((6, 3)) + np.sum(y ** 3, axis=1, keepdims=True)
    w = np.concatenate([z.ravel(), np.maximum(x[:4], 0.1), np.cumsum(x[::3])])
    s = np.linalg.solve(A, np.tanh(x[2:6]))
    return np.sum(w ** 2) + np.dot(s, s) + hd.logsumexp(x) + np.prod(x[:3] + 2.0)


FUNCS = {
    "sin_x": lambda x: np.sin(x) * x,
    "rosen": rosen,
    "grad_rosen": hd.grad(rosen),
    "mixed": mixed,
    "grad_mixed": hd.grad(mixed),
    "matrix": lambda x: np.tanh(x.reshape(3, 4) @ x.reshape(4, 3)),
    "log_softmax": hd.log_softmax,
    "where": lambda x: np.where(x > 0, x ** 2, -x),
    "norm": lambda x: np.linalg.norm(x) * x,
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_linearize_matches_jvp(name):
    f = FUNCS[name]
    x = rng.uniform(-1.0, 1.0, 12)
    y, f_jvp = linearize(f, x)
    close(y, f(x))
    for _ in range(3):
        v = rng.standard_normal(12)
        close(f_jvp(v), hd.jvp(f, (x,), (v,))[1])


def test_linearize_of_a_gradient_is_the_hvp():
    x = rng.uniform(-1.0, 1.0, 12)
    g, f_jvp = linearize(hd.grad(mixed), x)
    close(g, hd.grad(mixed)(x))
    for _ in range(3):
        v = rng.standard_normal(12)
        close(f_jvp(v), hd.hvp(mixed, x, v))
    # the replay only runs tangent work: fewer numpy calls than the function has primitives in its gradient
    assert 0 < len(f_jvp.program)


def test_linearize_matrix_input_tuple_output_several_primals():
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal(4)

    def f(x, w):
        return np.tanh(x @ w), np.sum(x ** 2) * w, 3.0 * np.ones(2)

    y, f_jvp = linearize(f, x, w)
    assert isinstance(y, tuple) and len(y) == 3
    vx, vw = rng.standard_normal((3, 4)), rng.standard_normal(4)
    got = f_jvp(vx, vw)
    want = hd.jvp(f, (x, w), (vx, vw))[1]
    assert isinstance(got, tuple) and len(got) == 3
    for a, b in zip(got, want):
        close(a, b)
    close(got[2], np.zeros(2))                     # an output that does not depend on x: a zero tangent


def test_linearize_identity_constant_and_scalar():
    x = rng.standard_normal(5)
    _, f_jvp = linearize(lambda x: x, x)
    v = rng.standard_normal(5)
    close(f_jvp(v), v)
    _, f_jvp = linearize(lambda x: np.ones(3), x)
    close(f_jvp(v), np.zeros(3))
    y, f_jvp = linearize(np.sin, 0.5)
    close(y, np.sin(0.5))
    close(f_jvp(2.0), 2.0 * np.cos(0.5))
    assert np.ndim(f_jvp(2.0)) == 0


def test_linearize_batched_tangents_is_the_jacobian():
    x = rng.uniform(-1.0, 1.0, 12)
    J = hd.jacfwd(FUNCS["grad_mixed"])(x)
    for batch in (1, 5):
        _, f_jvp = linearize(FUNCS["grad_mixed"], x, batch=batch)
        V = rng.standard_normal((batch, 12))
        close(f_jvp(V), V @ J.T)


def test_linearize_replay_is_repeatable_and_does_not_rerun_f():
    calls = []

    def f(x):
        calls.append(1)
        return np.exp(x) * np.sum(x)

    x = rng.standard_normal(6)
    _, f_jvp = linearize(f, x)
    v = rng.standard_normal(6)
    first = f_jvp(v)
    for _ in range(3):
        close(f_jvp(v), first, rtol=0, atol=0)
    assert len(calls) == 1


def test_linearize_tangent_shape_is_checked():
    _, f_jvp = linearize(np.sin, np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        f_jvp(np.zeros(4))
    with pytest.raises(TypeError, match="tangent"):
        f_jvp(np.zeros(3), np.zeros(3))


def test_linearize_refuses_a_closure_over_an_outer_transform():
    def outer(y):
        _, f_jvp = linearize(lambda x: x * y, np.ones(3))
        return np.sum(f_jvp(np.ones(3)))

    with pytest.raises(hd.HodiffError, match="enclosing transform"):
        hd.grad(outer)(np.arange(3.0))


def test_replay_is_differentiable_in_the_tangent():
    x = rng.standard_normal(4)
    _, f_jvp = linearize(lambda x: np.sin(x) * np.sum(x), x)
    J = hd.jacfwd(lambda x: np.sin(x) * np.sum(x))(x)
    v = rng.standard_normal(4)
    # d/dv |J v|^2 = 2 J^T J v
    close(hd.grad(lambda v: np.sum(f_jvp(v) ** 2))(v), 2 * J.T @ J @ v, rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# the Hessian operator


def test_operator_matches_dense_hessian_hvp_and_finite_differences():
    x = rng.uniform(-1.0, 1.0, 12)
    H = hd.hessian(mixed)(x)
    op = hessian_operator(mixed, x)
    assert isinstance(op, LinearOperator) and op.shape == (12, 12) and op.dtype == np.float64
    g = hd.grad(mixed)
    for _ in range(3):
        v = rng.standard_normal(12)
        Hv = op @ v
        close(Hv, hd.hvp(mixed, x, v))
        close(Hv, H @ v, rtol=1e-12)
        h = 1e-5
        fd = (g(x + h * v) - g(x - h * v)) / (2 * h)
        np.testing.assert_allclose(Hv, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(Hv)))
    assert op.n_recordings == 1 and op.n_products == 3
    close(op.value, mixed(x))
    close(op.grad, g(x))


def test_operator_against_scipy_rosen_hess():
    x = rng.uniform(-1.5, 1.5, 20)
    op = hessian_operator(rosen, x)
    close(op @ np.eye(20), so.rosen_hess(x), rtol=1e-12)
    v = rng.standard_normal(20)
    close(op.matvec(v), so.rosen_hess_prod(x, v), rtol=1e-12)


def test_operator_matmat_rmatvec_adjoint_and_shapes():
    x = rng.standard_normal((3, 4))
    f = lambda t: np.sum(np.sin(t) ** 2) * np.sum(t[0] * t[1])
    H = hd.hessian(f)(x).reshape(12, 12)
    op = hessian_operator(f, x)
    V = rng.standard_normal((12, 5))
    close(op @ V, H @ V, rtol=1e-12)
    close(op.matmat(V[:, :1]), H @ V[:, :1], rtol=1e-12)
    close(op.rmatvec(V[:, 0]), H @ V[:, 0], rtol=1e-12)
    close(op.T @ V[:, 1], H @ V[:, 1], rtol=1e-12)
    close(op.H @ V[:, 2], H @ V[:, 2], rtol=1e-12)
    close(op @ V[:, :1].reshape(12, 1), H @ V[:, :1], rtol=1e-12)
    z = V[:, 0] + 1j * V[:, 1]
    close(op @ z, H @ z, rtol=1e-12)
    recordings = op.n_recordings
    op @ rng.standard_normal((12, 5))
    assert op.n_recordings == recordings           # a batch size seen before replays its program


def test_operator_with_extra_arguments_and_float32():
    X = rng.standard_normal((6, 3))
    y = rng.standard_normal(6)
    theta = 0.5 * rng.standard_normal(20)
    op = hessian_operator(mlp_loss, theta, X, y)
    H = hd.hessian(lambda t: mlp_loss(t, X, y))(theta)
    v = rng.standard_normal(20)
    close(op @ v, H @ v, rtol=1e-12)
    op32 = hessian_operator(lambda t: np.sum(t ** 3), np.ones(3, dtype=np.float32))
    assert op32.dtype == np.float32
    np.testing.assert_allclose(op32 @ np.ones(3, dtype=np.float32), 6.0 * np.ones(3), rtol=1e-6)


def test_operator_of_a_linear_function_is_zero():
    op = hessian_operator(lambda x: np.sum(3.0 * x), np.ones(4))
    close(op @ np.ones(4), np.zeros(4))


def test_eigsh_and_cg_on_the_operator():
    X = rng.standard_normal((30, 3))
    y = rng.standard_normal(30)
    theta = 0.5 * rng.standard_normal(20)
    op = hessian_operator(mlp_loss, theta, X, y)
    H = hd.hessian(lambda t: mlp_loss(t, X, y))(theta)
    ref = np.linalg.eigvalsh(H)
    top = np.sort(eigsh(op, k=3, which="LA", return_eigenvectors=False))
    np.testing.assert_allclose(top, ref[-3:], rtol=1e-9, atol=1e-12)
    assert op.n_recordings == 1
    # a positive-definite Hessian: Newton step by conjugate gradients
    x = rng.uniform(-0.5, 0.5, 10) + 1.0
    S = hessian_operator(lambda t: np.sum(t ** 4) + np.sum(t ** 2), x)
    b = rng.standard_normal(10)
    sol, info = cg(S, b, rtol=1e-12, atol=0.0)
    assert info == 0
    close(sol, np.linalg.solve(np.diag(12 * x ** 2 + 2), b), rtol=1e-9)


def test_operator_repr_and_type():
    op = hessian_operator(rosen, np.zeros(3))
    assert isinstance(op, HessianOperator)
    assert "3x3" in repr(op)


# ----------------------------------------------------------------------------------------------------------------
# the dense Hessian in chunks, on executors


def test_hessian_chunks_without_executor_matches_hessian():
    x = rng.uniform(-1.0, 1.0, 12)
    H = hd.hessian(mixed)(x)
    for chunk in (None, 1, 5, 12, 50):
        close(hessian_chunks(mixed, x, chunk), H, rtol=1e-14)


def test_hessian_chunks_on_a_thread_pool():
    x = rng.uniform(-1.0, 1.0, 12)
    H = hd.hessian(mixed)(x)
    with ThreadPoolExecutor(max_workers=3) as pool:
        close(hessian_chunks(mixed, x, 4, pool), H, rtol=1e-14)
        close(hessian_chunks(mixed, x, None, pool), H, rtol=1e-14)
        # shaped input and a vector-valued function: f(x).shape + x.shape + x.shape, as hd.hessian
        xs = rng.standard_normal((2, 3))
        f = lambda t: np.sin(t).sum(axis=0) * t[0]
        close(hessian_chunks(f, xs, 2, pool), hd.hessian(f)(xs), rtol=1e-14)


def test_hessian_chunks_on_a_process_pool():
    x = rng.uniform(-1.5, 1.5, 12)
    X = rng.standard_normal((8, 3))
    y = rng.standard_normal(8)
    theta = rng.standard_normal(20)
    with ProcessPoolExecutor(max_workers=2) as pool:
        close(hessian_chunks(ext_rosen, x, 3, pool), hd.hessian(ext_rosen)(x), rtol=1e-14)
        close(hessian_chunks(rosen, x, 3, pool), so.rosen_hess(x), rtol=1e-12)
        # extra arguments travel with a functools.partial of a module-level function
        g = functools.partial(mlp_loss, X=X, y=y)
        close(hessian_chunks(g, theta, 7, pool), hd.hessian(lambda t: mlp_loss(t, X, y))(theta), rtol=1e-14)
        # the form hd.hessian(f, executor=...) would take
        close(hessian_on_executor(mlp_loss, 0, 6, pool)(theta, X, y), hd.hessian(mlp_loss)(theta, X, y),
              rtol=1e-14)


def test_hessian_on_executor_scalar_and_argnums():
    with ThreadPoolExecutor(2) as pool:
        h = hessian_on_executor(np.sin, executor=pool)(0.3)
        assert np.ndim(h) == 0
        close(h, -np.sin(0.3))
        f = lambda a, x: a * np.sum(x ** 3)
        x = rng.standard_normal(4)
        close(hessian_on_executor(f, 1, 2, pool)(2.0, x), np.diag(12.0 * x))
        with pytest.raises(TypeError, match="one argument"):
            hessian_on_executor(f, (0, 1), 2, pool)


def test_docstring_examples_run():
    import types
    hd_like = types.SimpleNamespace(**{k: getattr(hd, k) for k in dir(hd) if not k.startswith("__")})
    hd_like.linearize = linearize
    hd_like.hessian_operator = hessian_operator
    hd_like.hessian_chunks = hessian_chunks
    for mod in (_lin_mod, _ops_mod, _hess_mod):
        finder = doctest.DocTestFinder()
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        for test in finder.find(mod):
            test.globs["hd"] = hd_like
            # the examples import hodiff as hd themselves; make that name carry the new functions
            test.examples = [e for e in test.examples if "import numpy as np, hodiff as hd" not in e.source]
            test.globs["np"] = np
            runner.run(test)
        assert runner.tries > 0 and runner.failures == 0, f"doctest failures in {mod.__name__}"


def test_outputs_do_not_alias_inputs_or_the_program():
    x = rng.standard_normal(6)
    v = rng.standard_normal(6)
    _, f_jvp = linearize(lambda x: x.reshape(2, 3), x)
    out = f_jvp(v)
    out[0, 0] = 123.0
    assert v[0] != 123.0
    op = hessian_operator(lambda t: 0.5 * np.sum(t ** 2), x)     # H = I: the product is the input
    w = v.copy()
    Hw = op @ w
    Hw[:] = 0.0
    close(w, v, rtol=0, atol=0)
