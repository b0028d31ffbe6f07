"""hodiff.cost: exact counts on programs whose operations are known, counting that changes nothing, and growth
exponents on the built-in problems within 0.2 of theory (FLOP-based, so deterministic)."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest

import hodiff as hd
import hodiff.cost as hc
from hodiff._src.core import events
from hodiff._src.interpreters import backward as _backward
from hodiff._src.interpreters.forward import ForwardTrace
from hodiff._src.interpreters.reverse import ReverseTrace

N = 5
X = np.arange(float(N))


def two_dot(x):
    return 2 * hd.dot(x, x)


def hint(name, ans, *args):
    """FLOPs the primitive table's cost hint gives for one execution."""
    return hd.PRIMITIVES[name].cost(ans, *args)[0]


S = np.float64(1.0)        # a scalar result
V = np.ones(N)             # a length-n vector


# ----------------------------------------------------------------------------------------------------------------
# exact counts

def test_f_counts_exactly():
    # f = 2 * dot(x, x): one matmul (x . x) and one multiply (2 * s)
    r = hc.analyze(two_dot, X, strategies=["f"], repeat=0, memory=False)["f"]
    assert r.ops_by_prim == {"matmul": 1, "multiply": 1}
    assert r.ops == 2
    assert r.flops == hint("matmul", S, V, V) + hint("multiply", S, 2, S) == 2 * N + 1
    assert r.sweeps == 0 and r.tangent_width == 0 and r.tape_nodes == 0


def test_grad_counts_exactly():
    # forward: matmul, multiply. backward, from the rules in _prims.py: the multiply node's rule for its second
    # argument, multiply(g, 2) (a scalar); the matmul node's two rules for 1-D operands, multiply(g, b) and
    # multiply(g, a) (length n each); and the engine's add of the two cotangents of x (length n).
    r = hc.analyze(two_dot, X, strategies=["grad"], repeat=0, memory=False)["grad"]
    assert r.ops_by_prim == {"matmul": 1, "multiply": 4, "add": 1}
    want = (hint("matmul", S, V, V) + hint("multiply", S, 2, S)                 # forward
            + hint("multiply", S, S, 2)                                           # d(2 s)/ds
            + 2 * hint("multiply", V, S, V)                                       # d(x . x)/dx, both arguments
            + hint("add", V, V, V))                                               # summing them
    assert r.flops == want == 27
    assert r.flops_by_prim == {"add": N, "matmul": 2 * N, "multiply": 1 + 1 + 2 * N}
    assert r.sweeps == 1 and r.tangent_width == 0
    assert r.tape_nodes == 2                                                      # the matmul and the multiply
    assert r.flops_ratio == pytest.approx(27 / 11)
    assert r.ok is True


def test_hvp_forward_over_reverse_counts_exactly():
    # Every op of the gradient, now on dual numbers (x, v). Forward: matmul on primals plus one matmul per tangent
    # rule and an add of the two tangents (scalars); multiply's primal and its tangent (2 * t). Backward: the
    # scalar seed times 2 (plain); each matmul rule multiplies a plain scalar by a dual vector (primal and tangent
    # multiply); only the tangent of x's cotangent is wanted (H v), so its two parts are added as tangents (one add).
    r = hc.analyze(two_dot, X, strategies=["hvp_fwd_rev"], repeat=0, memory=False)["hvp_fwd_rev"]
    assert r.ops_by_prim == {"matmul": 3, "add": 2, "multiply": 7}
    want = (3 * hint("matmul", S, V, V) + hint("add", S, S, S)
            + 2 * hint("multiply", S, 2, S) + hint("multiply", S, S, 2)
            + 4 * hint("multiply", V, S, V) + hint("add", V, V, V))
    assert r.flops == want == 59
    assert r.tangent_width == 1 and r.sweeps == 1 and r.tape_nodes == 2
    assert r.error == 0.0


def test_counting_context_directly():
    with hc.counting() as c:
        g = hd.grad(two_dot)(X)
    np.testing.assert_array_equal(g, 4 * X)
    assert c.ops == {"matmul": 1, "multiply": 4, "add": 1}
    assert c.total_flops == 27 and c.sweeps == 1 and c.reverse_levels == 1 and c.forward_levels == 0


def test_structural_counts():
    n = 6
    x = np.linspace(0.1, 0.9, n)

    def f(x):
        return np.sum(np.sin(np.sin(x)))

    rep = hc.analyze(f, x, strategies=["grad", "hessian_loop", "hessian_batched", "hessian_chunked",
                                        "hvp_fwd_fwd", "fd_grad", "fd_f"], repeat=0, memory=False, chunk_size=4)
    assert rep["f"].ops_by_prim == {"sin": 2, "sum": 1}
    assert rep["hessian_loop"].sweeps == n and rep["hessian_loop"].tangent_width == 1
    assert rep["hessian_batched"].sweeps == 1 and rep["hessian_batched"].tangent_width == n
    assert rep["hessian_chunked"].sweeps == 2 and rep["hessian_chunked"].tangent_width == 4
    assert rep["hvp_fwd_fwd"].sweeps == 0 and rep["hvp_fwd_fwd"].tape_nodes == 0
    # the outer sin's rule needs its argument, sin(x), computed by the run: the tape keeps it (n floats); in the
    # batched Hessian that argument is a dual number whose tangent carries n directions (n * n floats)
    assert rep["grad"].tape_bytes >= 8 * n
    assert rep["hessian_batched"].tape_by_kind.get("tangent", 0) >= 8 * n * n
    assert rep["hessian_batched"].tape_peak_bytes > rep["hessian_chunked"].tape_peak_bytes
    # finite differences: evaluation counts, and accuracy against hodiff's Hessian
    assert rep["fd_grad"].grad_evals == 2 * n and rep["fd_f"].f_evals == 2 * n * n + 1
    assert rep["fd_f"].ops_by_prim == {"sin": 2 * (2 * n * n + 1), "sum": 2 * n * n + 1}
    assert 0 < rep["fd_grad"].error < 1e-7 and 0 < rep["fd_f"].error < 1e-5
    assert rep["hessian_loop"].error < 1e-14 and rep["hessian_chunked"].error < 1e-14
    assert not rep.broken


def test_estimated_finite_differences():
    f, x = hc.problems.rosenbrock(40)
    rep = hc.analyze(f, x, strategies=["fd_f"], repeat=0, memory=False, fd_max_evals=1000)
    r = rep["fd_f"]
    assert r.estimated and r.ok is None and r.f_evals == 2 * 40 * 40 + 1
    assert r.flops == r.f_evals * rep["f"].flops
    assert "(est.)" in rep.table()


# ----------------------------------------------------------------------------------------------------------------
# counting changes nothing, and is off afterwards

def _engine_state():
    return (list(events.PRIMITIVE_RAN), list(events.LEVEL_OPENED), list(events.SWEEP_STARTED),
            ReverseTrace.__dict__["__init__"], ForwardTrace.__dict__["__init__"], _backward.backprop)


def test_counting_changes_nothing_and_is_removed():
    before = _engine_state()
    assert before[:3] == ([], [], [])
    f, x = hc.problems.rosenbrock(7)
    v = np.linspace(-1, 1, 7)
    rep = hc.analyze(f, x, v=v, repeat=1, memory=True)
    assert _engine_state() == before                       # hook list empty again, methods restored
    for r in rep.rows:
        assert r.counted_equal is True, r.name            # counted run == plain run, bit for bit
    with hc.counting():
        g1, h1, H1 = hd.grad(f)(x), hd.hvp(f, x, v), hd.hessian(f)(x)
    g0, h0, H0 = hd.grad(f)(x), hd.hvp(f, x, v), hd.hessian(f)(x)
    np.testing.assert_array_equal(g1, g0)
    np.testing.assert_array_equal(h1, h0)
    np.testing.assert_array_equal(H1, H0)
    assert _engine_state() == before


def test_counting_cleans_up_after_an_error_and_does_not_nest():
    before = _engine_state()
    with pytest.raises(ZeroDivisionError), hc.counting():
        hd.grad(two_dot)(X)
        raise ZeroDivisionError
    assert _engine_state() == before
    with hc.counting(), pytest.raises(RuntimeError, match="do not nest"), hc.counting():
        pass
    assert _engine_state() == before


def test_off_means_the_hot_paths_skip_the_hook():
    # the engine's fast paths test ``if PRIMITIVE_RAN``: after an analysis the list is empty again, so a primitive on
    # plain values goes straight to numpy (nothing to call, nothing to time), and results are unchanged
    g0 = hd.grad(two_dot)(X)
    hc.analyze(two_dot, X, strategies=["grad", "hessian_batched"], repeat=1)
    assert events.PRIMITIVE_RAN == [] and not events.PRIMITIVE_RAN
    np.testing.assert_array_equal(hd.grad(two_dot)(X), g0)


# ----------------------------------------------------------------------------------------------------------------
# bounds, reports, registry

def test_bounds_and_flags():
    f, x = hc.problems.logsumexp_model(20)
    rep = hc.analyze(f, x, repeat=0, memory=False)
    n = rep.n
    assert rep["grad"].bound.flops == hc.GRAD_BOUND
    assert rep["hvp_rev_fwd"].bound.flops == hc.HVP_BOUND
    assert rep["hessian_batched"].bound.flops == hc.HVP_BOUND * n
    assert rep["fd_f"].bound.f_evals == 2 * n * n + 1 and rep["fd_grad"].bound.grad_evals == 2 * n
    assert rep.broken == []
    # a measurement over its bound is flagged
    r = rep["grad"]
    r.flops_ratio = 2 * hc.GRAD_BOUND
    from hodiff.cost._analyze import _within
    assert _within(r) is False


def test_table_plot_and_markdown(tmp_path):
    rep = hc.analyze(two_dot, X, strategies=["grad", "hvp_fwd_rev"], repeat=2)
    text = rep.table()
    assert text.splitlines()[0].split()[:3] == ["strategy", "prims", "xf"]
    md = rep.table(fmt="markdown")
    assert md.startswith("| strategy |") and md.count("\n") == 4
    with pytest.raises(ValueError):
        rep.table(fmt="html")
    assert rep["grad"].time > 0 and rep["grad"].time_ratio > 0 and rep["grad"].memory_ratio > 0
    assert rep["grad"].as_dict()["name"] == "grad"
    pytest.importorskip("matplotlib")
    out = tmp_path / "r.png"
    assert rep.plot(str(out)) == str(out)
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_register_strategy():
    def run(p):
        return np.asarray(hd.jacfwd(hd.grad(p.f))(p.x)).reshape(p.n, p.n)

    hc.register_strategy("hessian_fwd_jacfwd", run, task="hessian", extra_exponent=1, default=False,
                         bound=lambda n: hc.Bound(hc.HVP_BOUND * n, "<= 12 n f"),
                         description="jacfwd of grad")
    try:
        rep = hc.analyze(two_dot, X, strategies=["hessian_fwd_jacfwd"], repeat=0, memory=False)
        assert rep["hessian_fwd_jacfwd"].error == 0.0 and rep["hessian_fwd_jacfwd"].tangent_width == N
        with pytest.raises(ValueError, match="already registered"):
            hc.register_strategy("hessian_fwd_jacfwd", run, task="hessian", extra_exponent=1,
                                 bound=lambda n: hc.Bound(None, "-"), description="")
    finally:
        del hc.STRATEGIES["hessian_fwd_jacfwd"]
    with pytest.raises(ValueError, match="unknown strategy"):
        hc.analyze(two_dot, X, strategies=["nope"])


def test_explain():
    f, x = hc.problems.rosenbrock(30)
    buf = io.StringIO()
    text = str(hc.explain(f, x, task="hessian", memory_budget="50 MB", repeat=1, file=buf))
    assert buf.getvalue().strip() == text.strip()
    assert text.startswith("Task: the dense Hessian of rosenbrock at n = 30, memory budget 50 MiB")
    assert "Recommended: hessian_" in text and "The tape of hessian_" in text
    assert "saved bytes by primitive" in text and "tangents" in text
    t2 = hc.explain(f, x, task="k_hvps", k=3, repeat=0, strategy="grad", show=False)
    assert "3 Hessian-vector products" in t2 and "The tape of grad" in t2
    t3 = hc.explain(f, x, task="hvp", memory_budget=1, repeat=0, show=False)
    assert "nothing fits the budget" in t3
    with pytest.raises(ValueError):
        hc.explain(f, x, task="jacobian", show=False)


def test_tour_table():
    t = hc.tour_table(n=20, repeat=1)
    lines = t.splitlines()
    assert lines[0].startswith("Cost of derivatives of extended Rosenbrock, n = 20")
    assert [ln.split()[0] for ln in lines[3:]] == ["f", "grad", "hvp_fwd_rev", "hessian_batched"]


def test_cli_runs(tmp_path, capsys):
    assert hc.main(["--ns", "6", "12", "--problems", "rosenbrock", "--repeat", "0", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "rosenbrock at n = 12" in out and "FLOPs ~ n^" in out


# ----------------------------------------------------------------------------------------------------------------
# growth exponents (FLOPs: deterministic)

THEORY = {"f": 1, "grad": 1, "hvp_fwd_rev": 1, "hvp_rev_rev": 1, "hvp_rev_fwd": 1,
          "hessian_loop": 2, "hessian_batched": 2, "hessian_chunked": 2}


@pytest.mark.parametrize("problem", ["rosenbrock", "logsumexp"])
def test_fitted_exponents_match_theory(problem):
    make = hc.problems.PROBLEMS[problem][0]
    s = hc.scaling(make, [50, 100, 200, 400], [k for k in THEORY if k != "f"], repeat=0, memory=False)
    for name, want in THEORY.items():
        got = s.exponents[name]["flops"]
        assert abs(got - want) <= 0.2, (problem, name, got)
        assert s.deviation(name) <= 0.2
    assert "FLOPs ~ n^" in s.table() and s.table(fmt="markdown").startswith("| strategy |")


def test_fit_exponent():
    assert hc.fit_exponent([1, 2, 4], [5, 20, 80]) == pytest.approx(2.0)
    assert math.isnan(hc.fit_exponent([1], [3]))


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch):
    import sys

    rep = hc.analyze(two_dot, X, strategies=["grad"], repeat=0, memory=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install 'hodiff\\[plot\\]'"):
        rep.plot("never.png")
