"""Profile hodiff on one benchmark problem (the same functions and data as run.py).

    python benchmarks/profile_hodiff.py P1.vg                  # cProfile, top entries by tottime and cumtime
    python benchmarks/profile_hodiff.py P2.hvp --n 1000000 --pyinstrument
    python benchmarks/profile_hodiff.py P4.hess --n 500 --repeat 5

Metrics: P1.vg, P1.d2, P2.grad, P2.hvp, P3.grad, P3.hvp, P4.hess, P5.d3.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np
import problems as P

import hodiff as hd


def workload(metric, n):
    if metric.startswith("P1"):
        x0 = np.float64(P.P1_X0)
        f = lambda x: P.p1_f(x, np)
        if metric == "P1.vg":
            vg = hd.value_and_grad(f)
            return lambda: vg(x0)
        return lambda: hd.hvp(f, x0, 1.0)
    if metric.startswith("P2"):
        x, v = P.p2_data(n or 10_000)
        f = lambda x: P.p2_f(x, np)
        g = hd.grad(f)
        return (lambda: g(x)) if metric == "P2.grad" else (lambda: hd.hvp(f, x, v))
    if metric.startswith("P3"):
        X, Y, theta, v = P.p3_data()
        f = lambda t: P.p3_f(t, np, X, Y)
        g = hd.grad(f)
        return (lambda: g(theta)) if metric == "P3.grad" else (lambda: hd.hvp(f, theta, v))
    if metric == "P4.hess":
        A, x = P.p4_data(n or 100)
        h = hd.hessian(lambda x: P.p4_f(x, np, A))
        return lambda: h(x)
    if metric == "P5.d3":
        d3 = hd.grad(hd.grad(hd.grad(lambda x: P.p5_f(x, np))))
        return lambda: d3(np.float64(P.P5_X0))
    raise SystemExit(f"unknown metric {metric}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("metric")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=None, help="calls to profile (default: about a second's worth)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--pyinstrument", action="store_true")
    a = ap.parse_args()
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
        os.setsid()
    except (AttributeError, OSError):
        pass
    from worker import favour_this_process
    favour_this_process()
    block = np.ones(31 * (1 << 17))      # warm the allocator, as the harness does (see worker.py)
    del block
    fn = workload(a.metric, a.n)
    import time
    fn()
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    reps = a.repeat or max(1, int(1.0 / max(dt, 1e-6)))

    def loop():
        for _ in range(reps):
            fn()

    print(f"{a.metric} n={a.n}: {dt * 1e3:.3f} ms per call, profiling {reps} calls", file=sys.stderr)
    if a.pyinstrument:
        from pyinstrument import Profiler
        p = Profiler(interval=0.0002)
        p.start()
        loop()
        p.stop()
        print(p.output_text(unicode=False, color=False, show_all=False))
        return
    pr = cProfile.Profile()
    pr.enable()
    loop()
    pr.disable()
    st = pstats.Stats(pr)
    st.strip_dirs()
    st.sort_stats("tottime").print_stats(a.top)
    st.sort_stats("cumtime").print_stats(a.top)


if __name__ == "__main__":
    main()
