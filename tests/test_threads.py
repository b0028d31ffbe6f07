"""Functions a transform returns, called from many threads at once, give the single-threaded answer.

A backward sweep keeps its cotangent sums in storage of its own call, never on the tape's nodes, so one recorded
tape (``vjp_fn``, ``linearize``'s function, a ``HessianOperator``) and graphs sharing a leaf can be swept by several
threads at once. Each test runs 8 threads x many calls through a barrier (so the calls really overlap) and
compares every result with the answer computed first, in one thread, and with an analytic formula.
"""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import hodiff as hd

N_THREADS = 8


@pytest.fixture(autouse=True)
def frequent_switches():
    """Switch threads every microsecond (the default is 5 ms, longer than a whole sweep here), so that the calls
    interleave inside their backward sweeps, where shared state would be caught."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(work, n_threads=N_THREADS):
    """Run ``work(k)`` in ``n_threads`` threads started together; re-raise the first exception."""
    barrier = threading.Barrier(n_threads)
    errors = []

    def target(k):
        try:
            barrier.wait()
            work(k)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=target, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def f(x):
    """A function whose tape has shared intermediates, a getitem (summed in place) and broadcasting."""
    y = np.sin(x) * x
    return np.sum(y[1:] * y[:-1]) + np.sum(y ** 2) * 0.5


def f_grad(x):
    """The gradient of ``f``, by hand: with y = x sin x, dy/dx = sin x + x cos x."""
    y = np.sin(x) * x
    dy = np.sin(x) + x * np.cos(x)
    gy = y.copy()
    gy[1:] += y[:-1]
    gy[:-1] += y[1:]
    return gy * dy


X = np.linspace(-1.0, 2.0, 40)


def chain(x, steps=20):
    """A long chain of elementwise steps: long sweeps, so concurrent calls overlap inside them."""
    for _ in range(steps):
        x = np.sin(x) * 1.01 + 0.1 * x
    return x


def chain_derivative(x, steps=20):
    """d chain / dx elementwise, by the chain rule written out: the product of each step's derivative."""
    d = np.ones_like(x)
    for _ in range(steps):
        d = d * (np.cos(x) * 1.01 + 0.1)
        x = np.sin(x) * 1.01 + 0.1 * x
    return d


def test_one_vjp_fn_from_many_threads():
    out, vjp_fn = hd.vjp(chain, X)
    rng = np.random.default_rng(0)
    gs = rng.standard_normal((N_THREADS, 40, X.size))
    local = chain_derivative(X)
    results = np.empty_like(gs)
    single = np.array([vjp_fn(g)[0] for g in gs[0]])
    np.testing.assert_allclose(single, gs[0] * local, rtol=1e-12, atol=1e-12)

    def work(k):
        for j in range(gs.shape[1]):
            results[k, j] = vjp_fn(gs[k, j])[0]

    run_threads(work)
    np.testing.assert_allclose(results, gs * local, rtol=1e-12, atol=1e-12)


def test_one_vjp_fn_of_a_graph_with_shared_nodes_from_many_threads():
    _, vjp_fn = hd.vjp(lambda x: f(chain(x, 8)), X)
    expected = f_grad(chain(X, 8)) * chain_derivative(X, 8)
    np.testing.assert_allclose(vjp_fn(1.0)[0], expected, rtol=1e-12, atol=1e-12)
    results = np.empty((N_THREADS, 30, X.size))

    def work(k):
        for j in range(results.shape[1]):
            results[k, j] = vjp_fn(float(k + j + 1))[0]

    run_threads(work)
    scale = (np.arange(N_THREADS)[:, None] + np.arange(results.shape[1])[None, :] + 1.0)[..., None]
    np.testing.assert_allclose(results, scale * expected, rtol=1e-12, atol=1e-12)


def test_linearize_function_and_hessian_operator_from_many_threads():
    g = hd.grad(f)
    _, jvp_fn = hd.linearize(g, X)
    H = hd.hessian_operator(f, X)
    dense = hd.hessian(f)(X)
    # the dense Hessian from a different strategy agrees with finite differences of the hand-written gradient
    h = 1e-6
    fd = np.array([(f_grad(X + h * e) - f_grad(X - h * e)) / (2 * h) for e in np.eye(X.size)])
    np.testing.assert_allclose(dense, fd, rtol=1e-6, atol=1e-6)
    rng = np.random.default_rng(1)
    vs = rng.standard_normal((N_THREADS, 20, X.size))
    lin = np.empty_like(vs)
    op = np.empty_like(vs)

    def work(k):
        for j in range(vs.shape[1]):
            lin[k, j] = jvp_fn(vs[k, j])
            op[k, j] = H @ vs[k, j]

    run_threads(work)
    want = vs @ dense.T
    np.testing.assert_allclose(lin, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(op, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("jac", [hd.jacrev, hd.jacfwd])
def test_jacobian_closure_from_many_threads(jac):
    J = jac(lambda x: np.sin(x) * x[::-1])
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((N_THREADS, 15, 6))
    out = np.empty((N_THREADS, 15, 6, 6))

    def work(k):
        for j in range(xs.shape[1]):
            out[k, j] = J(xs[k, j])

    run_threads(work)
    for x, Jx in zip(xs.reshape(-1, 6), out.reshape(-1, 6, 6)):
        want = np.diag(np.cos(x) * x[::-1]) + np.sin(x)[:, None] * np.eye(6)[::-1]
        np.testing.assert_allclose(Jx, want, rtol=1e-12, atol=1e-12)


def test_autograd_grad_on_graphs_sharing_a_leaf_from_many_threads():
    x = hd.tensor(X, requires_grad=True)
    results = np.empty((N_THREADS, 30, X.size))

    def work(k):
        for j in range(results.shape[1]):
            c = float(k + 1)
            y = hd.sum(chain(x)) * c + hd.dot(x, x)      # each call records its own graph from the shared x
            (gx,) = hd.autograd.grad(y, [x])
            results[k, j] = gx.numpy()

    run_threads(work)
    c = (np.arange(N_THREADS) + 1.0)[:, None, None]
    want = c * chain_derivative(X) + 2 * X
    np.testing.assert_allclose(results, np.broadcast_to(want, results.shape), rtol=1e-12, atol=1e-12)
    assert x.grad is None                                       # autograd.grad leaves .grad alone


def test_tensor_backward_into_one_leaf_from_many_threads():
    # every call's gradient is right, and accumulation into the shared .grad loses none of them
    x = hd.tensor(X, requires_grad=True)
    calls = 25

    def work(k):
        for _ in range(calls):
            y = hd.sum(chain(x)) * float(k + 1)
            y.backward()

    run_threads(work)
    total = sum(k + 1.0 for k in range(N_THREADS)) * calls
    np.testing.assert_allclose(x.grad.numpy(), total * chain_derivative(X), rtol=1e-10, atol=1e-10)


def test_two_threads_counting_at_once_each_count_their_own_work():
    from hodiff.cost import counting

    def grad_work(n):
        for _ in range(n):
            hd.grad(lambda x: np.sum(np.sin(x) * x))(X)

    with counting() as alone:
        grad_work(1)
    counts = [None, None]

    def work(k):
        with counting() as c:
            grad_work(3 + 4 * k)
        counts[k] = c

    run_threads(work, 2)
    for k, c in enumerate(counts):
        n = 3 + 4 * k
        assert c.sweeps == n and c.reverse_levels == n
        assert dict(c.ops) == {name: n * m for name, m in alone.ops.items()}
