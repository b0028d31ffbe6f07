"""hd.jit's public contract: replay equals eager, outputs never alias inputs or captured arrays, bad arguments get
clear errors, the fallback says why, minimize's compiled path gives the eager iterates.

The random-program and guard-kind tests are in tests/test_jit_programs.py."""
import threading

import numpy as np
import pytest

import hodiff as hd


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hvp(x, v):   # the tridiagonal Hessian applied to v, written out
    d = np.zeros_like(x)
    d[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    d[1:] += 200.0
    off = -400.0 * x[:-1]
    hv = d * v
    hv[:-1] += off * v[1:]
    hv[1:] += off * v[:-1]
    return hv


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return [rng.normal(size=12) for _ in range(4)]


def close(a, b, rtol=1e-14):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), np.max(np.abs(b))))


def test_compiled_gradient_and_hvp_match_the_analytic_ones_at_new_points(points):
    g = hd.jit(hd.grad(rosen))
    h = hd.jit(lambda x, v: hd.hvp(rosen, x, v))
    v = np.linspace(-1, 1, 12)
    for x in points:
        assert close(g(x), rosen_grad(x), 1e-12)
        assert close(h(x, v), rosen_hvp(x, v), 1e-12)
        assert g.fallback_reason is None and h.fallback_reason is None


@pytest.mark.parametrize("make", [
    lambda f: hd.value_and_grad(f),
    lambda f: hd.hessian(f),
    lambda f: hd.jacrev(lambda x: np.sin(x) * f(x)),
    lambda f: hd.jacfwd(lambda x: np.cos(x) * f(x)),
    lambda f: (lambda x: f(x)),
])
def test_each_transform_replayed_equals_eager(make, points):
    eager = make(rosen)
    compiled = hd.jit(make(rosen))
    compiled(points[0])
    for x in points[1:]:
        want, got = eager(x), compiled(x)
        for a, b in zip(hd.tree.leaves(got), hd.tree.leaves(want)):
            assert close(a, b)
        assert compiled.fallback_reason is None, compiled.fallback_reason


def test_replay_equals_the_eager_hvp_exactly(points):
    v = np.ones(12)
    h = hd.jit(lambda x, v: hd.hvp(rosen, x, v))
    h(points[0], v)
    for x in points[1:]:
        assert np.array_equal(h(x, v), hd.hvp(rosen, x, v))


def test_the_program_is_shown_with_its_guards():
    def f(x):
        return np.sum(x ** 2) if np.sum(x) > 0 else np.sum(x ** 3)
    g = hd.jit(hd.grad(f))
    text = g.program(np.ones(3))
    assert text.startswith("def program(") and "raise _MISS" in text and "bool(" in text
    assert close(g(-np.ones(3)), 3 * np.ones(3)) and close(g(np.ones(3)), 2 * np.ones(3))
    assert len(g.programs(np.ones(3))) == 2         # one path per branch


def test_outputs_do_not_alias_inputs_or_each_other():
    f = hd.jit(lambda x: (x, x.reshape(2, 2), x[1:]))
    x = np.arange(4.0)
    f(x)
    for out in f(x):
        assert not np.shares_memory(out, x)
    a = f(x)
    b = f(x)
    assert not np.shares_memory(a[0], b[0])


def test_captured_arrays_are_frozen_at_recording_time():
    c = np.array([1.0, 2.0])
    g = hd.jit(hd.grad(lambda x: np.sum(c * x ** 2)))
    x = np.array([1.0, 1.0])
    assert close(g(x), 2 * c * x)
    c[:] = 10.0                      # the documented contract: a captured array is a constant of the program
    assert close(g(x + 1), 2 * np.array([1.0, 2.0]) * (x + 1))


def test_writing_into_a_result_does_not_change_later_results():
    g = hd.jit(hd.grad(lambda x: np.sum(x ** 3)))
    x = np.array([1.0, 2.0])
    r = g(x)
    r[:] = 0.0
    assert close(g(x), 3 * x ** 2)


def test_static_arguments_select_programs():
    def f(x, k):
        return np.sum(x ** k)
    g = hd.jit(hd.grad(f), static_argnums=1)
    x = np.array([1.0, 2.0])
    assert close(g(x, 2), 2 * x) and close(g(x, 3), 3 * x ** 2) and close(g(x, 2), 2 * x)


def test_a_non_array_argument_must_be_static():
    g = hd.jit(lambda x, mode: x * 2)
    with pytest.raises(TypeError, match="static_argnums"):
        g(np.ones(2), "double")
    with pytest.raises(TypeError, match="hashable"):
        hd.jit(lambda x, opts: x, static_argnums=1)(np.ones(2), {"a": 1})


def test_pytree_arguments_and_outputs():
    def loss(p, x):
        return np.sum((p["W"] @ x + p["b"]) ** 2)
    g = hd.jit(hd.grad(loss))
    rng = np.random.default_rng(1)
    p = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=3)}
    x = rng.normal(size=2)
    g(p, x)
    p2 = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=3)}
    want, got = hd.grad(loss)(p2, x), g(p2, x)
    assert set(got) == {"W", "b"} and close(got["W"], want["W"]) and close(got["b"], want["b"])
    assert g.fallback_reason is None


def test_shapes_key_the_cache():
    g = hd.jit(hd.grad(rosen))
    for n in (3, 5, 3):
        x = np.linspace(0.1, 1.0, n)
        assert close(g(x), rosen_grad(x), 1e-12)


def test_inside_another_transform_it_is_transparent():
    inner = hd.jit(lambda x: np.sin(x) * x)
    d = hd.grad(lambda x: np.sum(inner(x)))(np.array([0.3, 0.7]))
    x = np.array([0.3, 0.7])
    assert close(d, np.sin(x) + x * np.cos(x))


def test_a_new_path_per_point_ends_in_eager_calls_with_the_reason():
    def f(x):
        return np.sum(x ** 2) * x[0].item()          # .item() is a guard: each new point is a new path
    g = hd.jit(hd.grad(f), max_paths=2)
    for k, x in enumerate((np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([0.5, 0.5]))):
        assert close(g(x), hd.grad(f)(x))
        assert (g.fallback_reason is None) == (k < 2)
    assert "max_paths=2" in g.fallback_reason


def test_errors_are_the_eager_ones():
    g = hd.jit(hd.grad(lambda x: x))                 # a vector output: grad refuses
    with pytest.raises(TypeError, match="scalar output"):
        g(np.ones(3))


def test_threads_share_one_compiled_function(points):
    g = hd.jit(hd.grad(rosen))
    g(points[0])
    bad = []

    def work(x):
        for _ in range(50):
            if not close(g(x), rosen_grad(x), 1e-12):
                bad.append(x)
    ts = [threading.Thread(target=work, args=(x,)) for x in points * 2]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not bad


def test_minimize_compiled_gives_the_eager_iterates():
    x0 = np.zeros(30)
    seen = {True: [], False: []}
    for comp in (True, False):
        res = hd.optimize.minimize(rosen, x0, method="Newton-CG", hessian="hvp", compiled=comp,
                                   callback=lambda xk, c=comp: seen[c].append(np.copy(xk)))
        assert res.success and res.compile_fallback is None
    assert len(seen[True]) == len(seen[False])
    assert all(np.array_equal(a, b) for a, b in zip(seen[True], seen[False]))


def test_minimize_falls_back_with_the_reason():
    def f(x):
        return rosen(x) * (1.0 + 0.0 * x[0].item())   # a guard that differs at every point
    res = hd.optimize.minimize(f, np.zeros(3), method="BFGS")
    assert res.success and np.allclose(res.x, 1.0, atol=1e-4) and res.n_value_and_grad > 8
    assert "max_paths" in res.compile_fallback


def test_results_never_share_the_reused_buffers():
    # large enough for the temporaries to be written into buffers kept between calls (program_pool.MIN_POOLED)
    f = hd.jit(lambda x: ((np.sin(x) * 2.0).reshape(-1, 2), (x * x).T, np.tanh(x) + 1.0))
    x = np.linspace(0.0, 1.0, 20000).reshape(100, 200)
    f(x)
    first = f(x)
    kept = [np.copy(a) for a in first]
    f(x + 1.0)                                  # a later call writes its temporaries again
    for a, b in zip(first, kept):
        assert np.array_equal(a, b)
    assert f.fallback_reason is None


def test_large_hvp_replay_matches_eager_with_reused_buffers():
    rng = np.random.default_rng(5)
    x, v = rng.normal(size=30000), rng.normal(size=30000)
    h = hd.jit(lambda x, v: hd.hvp(rosen, x, v))
    h(x, v)
    for k in range(3):
        y = x + 0.1 * k
        assert np.array_equal(h(y, v), hd.hvp(rosen, y, v))
        assert close(h(y, v), rosen_hvp(y, v), 1e-12)
    assert h.fallback_reason is None


# The benchmark problems (realistic programs: a scalar recurrence, Rosenbrock, an MLP, logsumexp, a Taylor
# derivative) compiled at one point and replayed at others equal eager hodiff there, and their hand-written
# derivatives.
def _mlp_case():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(16, 5)), np.eye(3)[rng.integers(0, 3, 16)]
    sizes = [(5, 4), (4,), (4, 3), (3,)]
    n = sum(int(np.prod(s)) for s in sizes)

    def f(theta):
        k, parts = 0, []
        for s in sizes:
            m = int(np.prod(s))
            parts.append(theta[k:k + m].reshape(s))
            k += m
        W1, b1, W2, b2 = parts
        Z = np.tanh(X @ W1 + b1) @ W2 + b2
        return np.mean(np.log(np.sum(np.exp(Z), axis=1)) - np.sum(Y * Z, axis=1))
    return f, [0.3 * rng.normal(size=n) for _ in range(3)], rng.normal(size=n)


def _logsumexp_case():
    rng = np.random.default_rng(8)
    A = rng.normal(size=(12, 6)) / 3
    f = lambda x: np.log(np.sum(np.exp(A @ x))) + 0.5 * np.sum(x * x)
    return f, [rng.normal(size=6) for _ in range(3)], rng.normal(size=6)


def _recurrence_case():
    def f(x):
        for _ in range(20):
            x = np.sin(x) * 1.0001 + 0.01 * x * x
        return x
    return f, [np.float64(0.3), np.float64(0.7), np.float64(-0.4)], np.float64(1.0)


@pytest.mark.parametrize("case", [_mlp_case, _logsumexp_case, _recurrence_case])
def test_realistic_programs_replayed_equal_eager(case):
    f, pts, v = case()
    scalar = np.ndim(pts[0]) == 0
    makers = {"grad": (hd.grad(f) if not scalar else hd.derivative(f, 1)),
              "hvp": (lambda x: hd.hvp(f, x, v)),
              "vg": hd.value_and_grad(f)}
    if scalar:
        makers["d2"] = hd.derivative(f, 2)
        makers["d3"] = hd.derivative(f, 3)
    else:
        makers["hessian"] = hd.hessian(f)
    for name, eager in makers.items():
        compiled = hd.jit(eager)
        compiled(pts[0])
        for x in pts[1:]:
            for a, b in zip(hd.tree.leaves(compiled(x)), hd.tree.leaves(eager(x))):
                assert close(a, b), name
            assert compiled.fallback_reason is None, (name, compiled.fallback_reason)


def test_the_cost_analysis_sees_the_work_of_a_compiled_function():
    from hodiff.cost._instrument import counting
    g = hd.jit(hd.grad(lambda x: np.sum(np.sin(x) * x)))
    x = np.linspace(0.1, 1.0, 5)
    g(x)
    g(x)                                   # compiled from here on
    with counting() as c:
        assert close(g(x), np.sin(x) + x * np.cos(x))
    assert "cost analysis" in g.fallback_reason
    assert c.ops["sin"] >= 1 and c.ops["cos"] >= 1 and c.sweeps == 1
