"""Profile hodiff on one benchmark problem (the same functions and data as run.py).

    python benchmarks/profile_hodiff.py P1.vg                  # cProfile, top entries by tottime and cumtime
    python benchmarks/profile_hodiff.py P2.hvp --n 1000000 --pyinstrument
    python benchmarks/profile_hodiff.py P4.hess --n 500 --repeat 5
    python benchmarks/profile_hodiff.py P3.hvp --by-primitive     # numpy time per primitive vs engine overhead

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
    ap.add_argument("--by-primitive", action="store_true",
                    help="split one call's time into numpy time per primitive (and shape) and the rest: the "
                         "engine's Python overhead")
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
    if a.by_primitive:
        by_primitive(fn, reps)
        return
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


def by_primitive(fn, reps):
    """Time every primitive's numpy implementation inside ``fn`` (per primitive and argument shapes).

    A do-nothing hook makes every plain-array call go through ``bind`` and so through the wrapped ``impl`` (the
    inlined fast paths are skipped while a hook is installed); the time outside the implementations is the engine's
    own Python work (recording, rule dispatch, cotangent bookkeeping), inflated a little by the wrappers.
    """
    import collections
    import time

    from hodiff._src.core.engine import PRIMITIVES
    from hodiff._src.core.events import PRIMITIVE_RAN as _hooks

    total = collections.Counter()
    calls = collections.Counter()
    shapes = collections.defaultdict(collections.Counter)
    saved = {name: p.impl for name, p in PRIMITIVES.items()}

    def wrap(impl, name):
        def timed(*args, **params):
            t0 = time.perf_counter()
            ans = impl(*args, **params)
            dt = time.perf_counter() - t0
            total[name] += dt
            calls[name] += 1
            shapes[name][" ".join(str(np.shape(a)) for a in args)] += dt
            return ans
        return timed

    for name, p in PRIMITIVES.items():
        p.impl = wrap(p.impl, name)
    _hooks.append(lambda *a: None)
    try:
        fn()
        total.clear()
        calls.clear()
        shapes.clear()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        wall = (time.perf_counter() - t0) / reps
    finally:
        _hooks.pop()
        for name, p in PRIMITIVES.items():
            p.impl = saved[name]
    inside = sum(total.values()) / reps
    print(f"per call: {wall * 1e6:.1f} us, of which {inside * 1e6:.1f} us in numpy implementations "
          f"({sum(calls.values()) / reps:.0f} calls) and {(wall - inside) * 1e6:.1f} us in the engine")
    print(f"{'primitive':<14}{'calls':>7}{'us/call':>10}{'us':>10}   slowest argument shapes")
    for name, t in total.most_common():
        top = ", ".join(f"{k}: {v / reps * 1e6:.1f}" for k, v in shapes[name].most_common(2))
        print(f"{name:<14}{calls[name] / reps:>7.1f}{t / calls[name] * 1e6:>10.2f}{t / reps * 1e6:>10.1f}   {top}")


if __name__ == "__main__":
    main()
