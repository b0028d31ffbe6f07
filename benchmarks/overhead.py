"""Per-operation overhead of hodiff's tape, and grad / HVP cost relative to f (the core-engine issue's note).

    python benchmarks/overhead.py

Prints a small Markdown table (about 15 s):
- P1, a loop of 1,000 scalar operations (``x = sin(x)*1.0001 + 0.01*x*x``, 200 times): plain numpy per op, then
  hodiff's value+grad and second derivative per op, and the tape's overhead per op (derivative minus plain f);
- the extended Rosenbrock function at n = 10,000: ``hd.grad`` / f and ``hd.hvp`` / f.

It runs in this process (pinned to one core where the OS allows it, one BLAS thread if set before numpy loads); for
the full comparison with other libraries, in fresh processes, use ``benchmarks/run.py``.
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


def main():
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    try:
        os.setsid()                                 # a session (autogroup) of its own: see worker.py
    except (AttributeError, OSError):
        pass
    from worker import favour_this_process
    favour_this_process()                           # best effort (needs privileges): keep the core while timing
    block = np.ones(31 * (1 << 17))      # warm the allocator (see worker.py)
    del block
    s = Settings(quick=False)
    s.rounds = 1
    s.budget = 0.3
    s.hard_cap = 2.0

    def t(fn):
        return measure(fn, s)["median"]

    rows = []
    x0 = np.float64(P.P1_X0)
    f1 = lambda x: P.p1_f(x, np)
    vg = hd.value_and_grad(f1)
    gg = hd.grad(hd.grad(f1))
    ref_g, ref_h = P.p1_hand_value_and_grad(x0)[1], P.p1_hand_d2(x0)
    assert abs(vg(x0)[1] - ref_g) <= 1e-12 * abs(ref_g) and abs(hd.hvp(f1, x0, 1.0) - ref_h) <= 1e-12 * abs(ref_h)
    per = 1e6 / P.P1_OPS
    tf = t(lambda: f1(x0)) * per
    tvg = t(lambda: vg(x0)) * per
    thv = t(lambda: hd.hvp(f1, x0, 1.0)) * per
    tgg = t(lambda: gg(x0)) * per
    rows += [("P1 scalar loop", "plain numpy f, per op", f"{tf:.3f} µs", ""),
             ("P1 scalar loop", "hd.value_and_grad, per op", f"{tvg:.2f} µs", f"tape overhead {tvg - tf:.2f} µs/op"),
             ("P1 scalar loop", "second derivative, hd.hvp(f, x, 1.0), per op", f"{thv:.2f} µs",
              f"overhead {thv - tf:.2f} µs/op"),
             ("P1 scalar loop", "second derivative, hd.grad(hd.grad(f)), per op", f"{tgg:.2f} µs",
              f"overhead {tgg - tf:.2f} µs/op")]

    n = 10_000
    x, v = P.p2_data(n)
    f2 = lambda x: P.p2_f(x, np)
    g2 = hd.grad(f2)
    assert np.allclose(g2(x), P.p2_hand_grad(x), rtol=1e-12, atol=0)
    assert np.allclose(hd.hvp(f2, x, v), P.p2_hand_hvp(x, v), rtol=1e-12, atol=1e-12)
    tf2 = t(lambda: f2(x))
    tg2 = t(lambda: g2(x))
    th2 = t(lambda: hd.hvp(f2, x, v))
    tgh = t(lambda: P.p2_hand_grad(x))
    thh = t(lambda: P.p2_hand_hvp(x, v))
    rows += [("Rosenbrock, n = 10,000", "plain numpy f", f"{tf2 * 1e6:.1f} µs", "1x"),
             ("Rosenbrock, n = 10,000", "hd.grad(f)(x)", f"{tg2 * 1e6:.1f} µs", f"{tg2 / tf2:.2f}x f"),
             ("Rosenbrock, n = 10,000", "hd.hvp(f, x, v)", f"{th2 * 1e6:.1f} µs", f"{th2 / tf2:.2f}x f"),
             ("Rosenbrock, n = 10,000", "hand-written numpy gradient", f"{tgh * 1e6:.1f} µs", f"{tgh / tf2:.2f}x f"),
             ("Rosenbrock, n = 10,000", "hand-written numpy H v", f"{thh * 1e6:.1f} µs", f"{thh / tf2:.2f}x f")]

    print(f"hodiff {hd.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}; "
          "median of samples, one core\n")
    print("| problem | what | time | relative |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
