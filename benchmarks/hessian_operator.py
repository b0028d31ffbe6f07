"""Cost of a Hessian-vector product from ``hd.hessian_operator`` (gradient linearized once) vs a fresh ``hd.hvp``.

    python benchmarks/hessian_operator.py            # about 20 s
    python benchmarks/hessian_operator.py --quick    # about 5 s

For each problem it times, in this process (one BLAS thread, pinned to one core where the OS allows it):

* ``f`` and ``hd.grad(f)`` for scale;
* ``hd.hvp(f, x, v)``: a fresh forward-over-reverse pass (``f``, its tape and the backward pass, every time);
* ``hessian_operator(f, x) @ v``: making the operator and its first product (the one recording);
* ``H @ v`` for an operator that has already been applied once: the replay of the tangent sweep only;
* ``H @ V`` with 10 columns (one batched replay), per column.

The issue's target: a product after the first costs at most 60% of a fresh ``hd.hvp``. Every product is checked
against ``hd.hvp`` (and the hand-written HVP of ``benchmarks/problems.py``) before it is timed. Prints a Markdown
table; exits 1 if a ratio misses the target.
"""
from __future__ import annotations

import os
import sys

for _k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np
import problems as P
from timing import Settings, measure

import hodiff as hd
from hodiff._src.transforms.hessian_operator import hessian_operator

TARGET = 0.60


def tiny_mlp():
    """A 1-16-1 tanh regression network (49 parameters): per-operation overhead dominates."""
    rng = np.random.default_rng([P.SEED, 60])
    X = rng.uniform(-2.0, 2.0, (64, 1))
    y = np.sin(2.0 * X[:, 0])
    theta = 0.5 * rng.standard_normal(49)

    def f(t):
        h = np.tanh(X @ t[:16].reshape(1, 16) + t[16:32])
        return np.mean((h @ t[32:48] + t[48] - y) ** 2)
    return f, theta, rng.standard_normal(49), None


def problems():
    x, v = P.p2_data(10_000)
    yield "extended Rosenbrock, n = 10,000", (lambda x: P.p2_f(x, np)), x, v, P.p2_hand_hvp(x, v)
    X, Y, theta, v = P.p3_data()
    yield ("MLP loss (P3), 9,610 parameters", (lambda t: P.p3_f(t, np, X, Y)), theta, v,
           P.p3_hand_hvp(theta, v, X, Y))
    f, theta, v, _ = tiny_mlp()
    yield "tiny MLP loss, 49 parameters", f, theta, v, None


def held_bytes(op):
    """Bytes of the arrays the operator's recordings keep (constants of the tangent program)."""
    seen, total = set(), 0
    for program in op._programs.values():
        for step in program._steps:
            for a in step[2]:
                if isinstance(a, np.ndarray) and id(a) not in seen:
                    seen.add(id(a))
                    total += a.nbytes
    return total


def measure_problem(name, f, x, v, hand, t):
    """Check the operator's products, then time f, grad, hvp and the operator; one table row."""
    ref = hd.hvp(f, x, v)
    H = hessian_operator(f, x)
    Hv = H @ v
    scale = np.max(np.abs(ref))
    assert np.max(np.abs(Hv - ref)) <= 1e-13 * scale, "operator product differs from hd.hvp"
    if hand is not None:
        assert np.max(np.abs(Hv - hand)) <= 1e-10 * scale, "operator product differs from the hand HVP"
    V = np.random.default_rng(1).standard_normal((x.size, 10))
    HV = H @ V
    assert np.max(np.abs(HV[:, 3] - hd.hvp(f, x, V[:, 3]))) <= 1e-12 * scale
    g = hd.grad(f)
    tf = t(lambda: f(x))
    tg = t(lambda: g(x))
    th = t(lambda: hd.hvp(f, x, v))
    tfirst = t(lambda: hessian_operator(f, x) @ v)
    trep = t(lambda: H @ v)
    tmat = t(lambda: H @ V) / 10
    return name, tf, tg, th, tfirst, trep, tmat, trep / th, held_bytes(H), len(H._programs[None])


def main(argv):
    quick = "--quick" in argv
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    block = np.ones(31 * (1 << 17))      # warm the allocator (see worker.py): large temporaries come from the heap
    del block
    s = Settings(quick=quick)
    s.rounds = 1

    def t(fn):
        return measure(fn, s)["median"]

    rows = [measure_problem(name, f, x, v, hand, t) for name, f, x, v, hand in problems()]
    ok = all(r[7] <= TARGET for r in rows)

    print("| problem | f | grad | fresh `hd.hvp` | operator: make + 1st `H @ v` | later `H @ v` | `H @ V` (10 cols) "
          "per col | later `H @ v` / fresh hvp | recording holds | replay steps |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def us(sec):
        return f"{sec * 1e6:,.0f} us" if sec < 1e-2 else f"{sec * 1e3:,.1f} ms"
    for name, tf, tg, th, tfirst, trep, tmat, ratio, nbytes, steps in rows:
        print(f"| {name} | {us(tf)} | {us(tg)} | {us(th)} | {us(tfirst)} ({tfirst / th:.2f} x hvp) | {us(trep)} | "
              f"{us(tmat)} | **{ratio:.2f}** | {nbytes / 1e6:.2f} MB | {steps} |")
    print(f"\ntarget: later H @ v <= {TARGET:.0%} of a fresh hd.hvp: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
