"""``hd.jit`` replays a recorded program at *other* points, and the replay equals the eager result there.

The programs are the differential fuzzer's (``benchmarks/fuzz_programs.py``): one single-step program per
primitive of the table, and a sample of random multi-step programs. Each is compiled under every transform (plain
``f``, ``grad``, ``value_and_grad``, ``jacrev``, ``jacfwd``, ``hvp``, ``hessian``, and ``derivative`` of a 1-D
restriction) at the program's point ``x0``, then called at moved points. The fuzzer keeps every primitive's
arguments inside a box around a valid domain point *whatever* ``x`` is (bounded squashes; see its module docs), so
any move is safe. Results must agree with the eager call at the same point to 1e-14 (relative to the output's
scale), and ``fallback_reason`` must be None: the program really replayed instead of running eagerly; its listing must
show no guard on a whole value (masks and signs recorded, not frozen).

Then one test per guard kind: ``bool`` (``if``), data-dependent ``while`` loops, ``float()``, ``.item()``,
``int()``, boolean-mask indexing, and ``static_argnums`` and its error.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import hodiff as hd
from hodiff.scipy import special as hs

_BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, _BENCH)
try:
    import fuzz_programs as FP  # noqa: E402
finally:
    sys.path.remove(_BENCH)

# Primitives whose compiled programs still run eagerly (``fallback_reason`` set), and why. The test below fails
# when one of them no longer falls back, so the list cannot go stale. Every primitive of the table replays now.
FALLS_BACK: dict[str, str] = {}
# Primitives with no Taylor-mode rule: hd.derivative raises eagerly, and must raise the same under hd.jit.
NO_TAYLOR_ERROR = NotImplementedError

RTOL = 1e-14


def _close(a, b):
    """|a - b| <= RTOL * max(|b|, scale) elementwise, scale the largest |b| of the output; NaNs where b has them."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    nan = np.isnan(b)
    assert np.array_equal(np.isnan(a), nan)
    a, b = a[~nan], b[~nan]
    if b.size == 0:
        return
    scale = np.max(np.abs(b))
    assert np.all(np.abs(a - b) <= RTOL * np.maximum(np.abs(b), scale)), np.max(np.abs(a - b))


def _same_tree(r, e):
    if isinstance(e, tuple):
        assert isinstance(r, tuple) and len(r) == len(e)
        for x, y in zip(r, e):
            _same_tree(x, y)
    else:
        _close(r, e)


def _transforms(prog, order):
    s, v, d = FP.scalar(prog), FP.vector(prog), FP.direction(prog)
    return {
        "f": v,
        "grad": hd.grad(s),
        "value_and_grad": hd.value_and_grad(s),
        "jacrev": hd.jacrev(v),
        "jacfwd": hd.jacfwd(v),
        "hvp": lambda x: hd.hvp(s, x, d),
        "hessian": hd.hessian(s),
        "derivative": lambda x: hd.derivative(lambda t: s(x + t * d), order)(0.0),
    }


def _points(prog, k=2):
    x0 = FP.point(prog)
    return x0, [x0 + 0.1 * FP.direction(prog, j + 1) for j in range(k)]


def _check(prog, order, expect_replay):
    """Compile every transform at x0, call it at the moved points; returns the transforms that ran eagerly."""
    x0, moved = _points(prog)
    eager_only = {}
    for name, fn in _transforms(prog, order).items():
        try:
            fn(x0)
        except NO_TAYLOR_ERROR:
            assert name == "derivative"
            with pytest.raises(NO_TAYLOR_ERROR):
                hd.jit(fn)(x0)
            continue
        j = hd.jit(fn)
        j(x0)
        for x in moved:
            _same_tree(j(x), fn(x))
            if j.fallback_reason is not None:
                eager_only[name] = j.fallback_reason
        if expect_replay and name not in eager_only:
            # every moved point ran the program recorded at x0 (no new path was needed, nothing ran eagerly), and
            # the program has no guard on a whole value (which would tie it to points with equal masks/values)
            assert len(j.programs(x0)) == 1, name
            assert "whole value" not in j.program(x0), (name, j.program(x0))
    return eager_only


@pytest.mark.parametrize("name", FP.NAMES)
def test_each_primitive_replays_at_other_points(name):
    prog = FP.draw_program(1, 0, max_steps=1, names=[name])
    eager_only = _check(prog, 2 + len(name) % 2, name not in FALLS_BACK)
    if name in FALLS_BACK:
        assert eager_only, f"{name} replays now: remove it from FALLS_BACK"
    else:
        assert not eager_only, eager_only


@pytest.mark.parametrize("index", range(10))
def test_random_programs_replay_at_other_points(index):
    prog = FP.draw_program(2026, index)
    listed = {step["prim"] for step in prog["steps"]} & set(FALLS_BACK)
    eager_only = _check(prog, 2 + index % 2, not listed)
    assert not eager_only or listed, eager_only


# ---------------------------------------------------------------------------------------------------------------
# the numpy face: functions built from several primitives, with masks, ties and signs computed on the way

_A = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]])
NUMPY_FACE = {
    "select": lambda x: np.sum(np.select([x > 0, x < -0.5], [x ** 2, np.sin(x)], 0.0)),
    "where": lambda x: np.sum(np.where(x > 0, x, x ** 2)),
    "nansum": lambda x: np.nansum(x ** 2),
    "nanmean": lambda x: np.nanmean(x ** 2),
    "mean_where": lambda x: np.mean(x ** 2, where=x > 0),
    "fmax": lambda x: np.sum(np.fmax(x, 0.1) ** 2),
    "mod": lambda x: np.sum(np.mod(x, 0.7) ** 2),
    "clip": lambda x: np.sum(np.clip(x, -0.3, 0.3) ** 2),
    "abs": lambda x: np.sum(np.abs(x) ** 3),
    "max": lambda x: np.max(x * x),
    "maximum": lambda x: np.sum(np.maximum(x, -x * 0.5) ** 2),
    "prod": lambda x: np.prod(x),
    "cumprod": lambda x: np.sum(np.cumprod(x)),
    "std": lambda x: np.std(x),
    "norm_inf": lambda x: np.linalg.norm(x, np.inf),
    "argmax_index": lambda x: x[np.argmax(x)] ** 3,
    "constant_index": lambda x: np.sum(x[np.array([3, 1, 1])] ** 2),
    "logsumexp": lambda x: hd.logsumexp(x * x),
    "scipy_logsumexp_b": lambda x: hs.logsumexp(x * x, b=np.array([1.0, 0.0, 2.0, 0.5])),
    "scipy_log_softmax": lambda x: np.sum(hs.log_softmax(x) ** 2),
    "sinc": lambda x: np.sum(np.sinc(x)),
    "power": lambda x: np.sum(np.abs(x) ** x),
    "slogdet": lambda x: np.linalg.slogdet(_A + np.outer(x[:3], x[:3]))[1],
    "det": lambda x: np.linalg.det(_A + np.outer(x[:3], x[:3])),
    "eigh": lambda x: np.sum(np.linalg.eigh(_A + np.diag(x[:3]))[1][:, 0] ** 3),
    "svd": lambda x: np.sum(np.linalg.svd(_A + np.diag(x[:3]))[0][:, 0] ** 3),
    "eigh_upper": lambda x: np.sum(np.linalg.eigh(_A + np.diag(x[:3]), UPLO="U")[1][:, 0] ** 3),
    "lstsq": lambda x: np.sum(np.linalg.lstsq(np.vstack([_A, np.ones(3)]) + x[0], np.arange(4.0))[0] ** 2),
    "nan_to_num": lambda x: np.sum(np.nan_to_num(x / (x - 0.2), posinf=7.0)),
    # these gather with integer indices computed from the data (argsort, argpartition, searchsorted); the getitem
    # primitive takes its index as a parameter, a constant of the program, so the program reads the whole value
    # (a guard on all of it) and runs eagerly at other points: right results, no replay
    "sort": lambda x: np.sum(np.sort(x) * np.arange(4)),
    "median": lambda x: np.median(x ** 2),
    "partition": lambda x: np.sum(np.partition(x, 1)[:2] ** 2),
    "interp": lambda x: np.sum(np.interp(x, np.linspace(-2, 2, 5), np.array([0.0, 1.0, 3.0, 2.0, 5.0]))),
}
NUMPY_FALLS_BACK = {"sort", "median", "partition", "interp"}


@pytest.mark.parametrize("name", sorted(NUMPY_FACE))
def test_numpy_face_replays_at_other_points(name):
    f = NUMPY_FACE[name]
    x0 = np.array([0.4, -0.9, 1.3, 0.2])
    moved = [x0 + np.array([0.05, -0.03, 0.02, 0.04]), x0 - np.array([0.02, 0.01, 0.03, 0.01])]
    for t in (hd.grad(f), hd.hessian(f)):
        j = hd.jit(t)
        j(x0)
        for x in moved:
            _close(j(x), t(x))
            if name in NUMPY_FALLS_BACK:
                assert j.fallback_reason is not None, f"{name} replays now: remove it from NUMPY_FALLS_BACK"
            else:
                assert j.fallback_reason is None, j.fallback_reason
        if name not in NUMPY_FALLS_BACK:
            assert len(j.programs(x0)) == 1
            assert "whole value" not in j.program(x0), j.program(x0)


# ---------------------------------------------------------------------------------------------------------------
# guards: Python reading traced numbers


def test_bool_guard_records_one_path_per_branch():
    def f(x):
        return np.sum(x ** 3) if x.sum() > 0 else np.sum(np.sin(x))

    g = hd.jit(hd.grad(f))
    xp, xn = np.array([0.5, 1.0, -0.2]), np.array([-0.5, -1.0, 0.2])
    for x in (xp, xn, 1.1 * xp, 1.3 * xn):
        want = 3 * x ** 2 if x.sum() > 0 else np.cos(x)
        np.testing.assert_allclose(g(x), want, rtol=1e-14)
        assert g.fallback_reason is None
    assert len(g.programs(xp)) == 2


def _doubling(a):
    """The autograd chapter's loop: b doubles until its norm reaches 1000, then the sign decides the factor."""
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    c = b if np.sum(b) > 0 else 100 * b
    return c


def test_while_loop_with_data_dependent_trip_count():
    g = hd.jit(hd.grad(_doubling))
    inputs = [0.3, 3.0, 31.0, -0.7, -7.0, 0.3001, 2.9]
    trips = set()
    for a in inputs:
        a = np.array(a)
        d = _doubling(a)                    # f(a) = k a with k a power of two (times 100 for a < 0): f' = d / a
        trips.add(float(d / a))
        np.testing.assert_allclose(g(a), d / a, rtol=1e-14)
        assert g.fallback_reason is None
    assert len(trips) >= 5                  # really different trip counts and branches
    # the same trip counts replay: 0.3001 took 0.3's path, 2.9 took 3.0's
    assert len(g.programs(np.array(0.3))) == len(trips)


def test_float_guard_is_exact_and_replays_at_the_same_value():
    calls = []

    def f(x):
        calls.append(1)
        return x * float(x[0])

    j = hd.jit(f)
    x = np.array([2.0, 3.0])
    np.testing.assert_array_equal(j(x), x * 2.0)
    np.testing.assert_array_equal(j(x), x * 2.0)      # replayed: f not called again
    assert len(calls) == 1 and j.fallback_reason is None
    y = np.array([5.0, 3.0])
    np.testing.assert_array_equal(j(y), y * 5.0)      # a new value of float(x[0]): a new path, right result
    assert len(calls) == 2


def test_item_guard():
    j = hd.jit(hd.grad(lambda x: np.sum(x ** 2) * x[1].item()))
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(j(x), 2 * x * 2.0, rtol=1e-14)
    z = np.array([4.0, 2.0, -1.0])                     # same item: replays the first path
    np.testing.assert_allclose(j(z), 2 * z * 2.0, rtol=1e-14)
    assert j.fallback_reason is None and len(j.programs(x)) == 1
    w = np.array([1.0, -3.0, 3.0])
    np.testing.assert_allclose(j(w), 2 * w * -3.0, rtol=1e-14)
    assert len(j.programs(x)) == 2


def test_int_guard_replays_while_the_integer_is_the_same():
    def f(x):
        return np.sum(np.sin(x) * int(hd.stop_gradient(x[0])))   # int() of a traced value needs stop_gradient

    g = hd.jit(hd.grad(f))
    for x0 in (2.3, 2.7, 2.01, 3.5, 3.2):
        x = np.array([x0, 0.4])
        np.testing.assert_allclose(g(x), np.cos(x) * int(x0), rtol=1e-14)
        assert g.fallback_reason is None
    assert len(g.programs(np.array([2.3, 0.4]))) == 2   # int 2 and int 3


def test_boolean_mask_indexing_is_right_at_every_point():
    g = hd.jit(hd.grad(lambda x: np.sum(x[x > 0] ** 2)))
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal(6)
        np.testing.assert_allclose(g(x), np.where(x > 0, 2 * x, 0.0), rtol=1e-14)


def test_static_argnums_and_the_non_array_argument_error():
    def f(x, n, how):
        return np.sum(x ** n) if how == "pow" else np.sum(np.sin(x) * n)

    g = hd.jit(hd.grad(f, argnums=0), static_argnums=(1, 2))
    x = np.array([0.5, 1.5])
    for _ in range(2):
        np.testing.assert_allclose(g(x, 3, "pow"), 3 * x ** 2, rtol=1e-14)
        np.testing.assert_allclose(g(x, 2, "sin"), 2 * np.cos(x), rtol=1e-14)
        assert g.fallback_reason is None
    np.testing.assert_allclose(g(2 * x, 3, "pow"), 3 * (2 * x) ** 2, rtol=1e-14)
    with pytest.raises(TypeError, match="static_argnums"):
        hd.jit(hd.grad(f, argnums=0))(x, 3, "pow")
    with pytest.raises(TypeError, match="hashable"):
        hd.jit(f, static_argnums=1)(x, [3], "pow")


def test_in_place_writes_on_a_copy_are_recorded():
    def f(x):
        y = hd.stop_gradient(x).copy()
        y[0] = 5.0
        y[1:] *= 2.0
        return np.sum(x * y)

    g = hd.jit(hd.grad(f))
    x = np.array([1.0, 2.0, 3.0])
    for z in (x, 2 * x, -x):
        np.testing.assert_array_equal(g(z), np.concatenate([[5.0], 2 * z[1:]]))
        assert g.fallback_reason is None
    assert len(g.programs(x)) == 1 and "whole value" not in g.program(x)


def test_in_place_write_into_an_argument_runs_eagerly():
    def f(x):
        x[0] = 7.0
        return x * 2

    j = hd.jit(f)
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(j(a), [14.0, 4.0, 6.0])
    np.testing.assert_array_equal(a, [7.0, 2.0, 3.0])      # numpy's semantics: the caller's array changed
    assert "writes into an argument" in j.fallback_reason
