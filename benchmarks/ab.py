"""A/B of eager overhead between two checkouts: run it in each, back to back, on one pinned core (issue 13).

    cd <checkout> && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 PYTHONPATH=$PWD \\
        taskset -c 1 python <this file> [--more]

Prints the minimum of 7 repeats of: P1 value_and_grad per operation, P2 (Rosenbrock, n = 10^4) grad and HVP;
with ``--more`` also P5's ``hd.derivative(f, 3)``, P3's grad, P4's Hessian at n = 100 and P1's second derivative.
In-process timings of the same calls the full harness (``run.py``) makes, for comparing commits on one machine
state where the harness's separate processes add their own noise.
"""
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems as P  # noqa: E402

import hodiff as hd  # noqa: E402


def best(fn, n):
    return min(timeit.repeat(fn, number=n, repeat=7)) / n * 1e6


def main():
    x0 = np.float64(P.P1_X0)
    f1 = lambda x: P.p1_f(x, np)   # noqa: E731
    vg = hd.value_and_grad(f1)
    x, v = P.p2_data(10000)
    f2 = lambda x: P.p2_f(x, np)   # noqa: E731
    g2 = hd.grad(f2)
    for _ in range(20):
        vg(x0), g2(x), hd.hvp(f2, x, v)
    print("P1 vg us/op %.2f" % (best(lambda: vg(x0), 20) / P.P1_OPS),
          "P2 grad %.1f" % best(lambda: g2(x), 100),
          "P2 hvp %.1f" % best(lambda: hd.hvp(f2, x, v), 100))
    if "--more" in sys.argv:
        f5 = lambda x: P.p5_f(x, np)   # noqa: E731
        d3 = hd.derivative(f5, 3)
        X, Y, th, _ = P.p3_data()
        g3 = hd.grad(lambda t: P.p3_f(t, np, X, Y))
        A, x4 = P.p4_data(100)
        h4 = hd.hessian(lambda x: P.p4_f(x, np, A))
        dd = hd.derivative(f1, 2)
        for _ in range(5):
            d3(0.7), g3(th), h4(x4), dd(x0)
        print("P5 d3 %.1f us | P3 grad %.0f us | P4 n=100 %.0f us | P1 d2 %.2f us/op"
              % (best(lambda: d3(0.7), 200), best(lambda: g3(th), 20), best(lambda: h4(x4), 50),
                 best(lambda: dd(x0), 5) / P.P1_OPS))


if __name__ == "__main__":
    main()
