"""A table of the first ten derivatives of f(x) = sin(x) exp(x/2) at x = 0.7, by Taylor mode.

``hd.derivative(f, k)`` pushes the truncated Taylor polynomial ``0.7 + t`` through f once and reads the
``t^k`` coefficient (times k!): the cost grows like k^2, where nesting ``hd.grad`` k times grows like 2^k.
``hd.taylor`` gives all the coefficients of the same pass at once. Both are checked against the analytic values
from Leibniz's rule,

    d^k/dx^k [sin(x) exp(x/2)] = sum_j C(k, j) sin(x + j pi/2) 2^-(k-j) exp(x/2),

to a relative error of 1e-10.

Usage (from the repository root)::

    python examples/derivative_table.py
"""
from __future__ import annotations

import math
import time

import numpy as np

import hodiff as hd

X0 = 0.7
ORDER = 10


def f(x):
    return np.sin(x) * np.exp(x / 2)


def analytic(k, x):
    """The k-th derivative of f by Leibniz's rule."""
    return sum(math.comb(k, j) * np.sin(x + j * np.pi / 2) * 0.5 ** (k - j) * np.exp(x / 2) for j in range(k + 1))


def main():
    print(f"derivatives of f(x) = sin(x) exp(x/2) at x = {X0}")
    print(f"{'k':>3} {'hodiff':>24} {'analytic':>24} {'rel. error':>11}")
    worst = 0.0
    for k in range(ORDER + 1):
        got = float(hd.derivative(f, k)(X0))
        want = float(analytic(k, X0))
        err = abs(got - want) / abs(want)
        worst = max(worst, err)
        print(f"{k:>3} {got:>24.16e} {want:>24.16e} {err:>11.1e}")
        assert err <= 1e-10, (k, got, want)

    # all coefficients from one pass: c_k = f^(k)(x) / k!
    c = hd.taylor(f, X0, 1.0, order=ORDER)
    all_k = c * np.array([math.factorial(k) for k in range(ORDER + 1)])
    want = np.array([analytic(k, X0) for k in range(ORDER + 1)])
    assert np.all(np.abs(all_k - want) <= 1e-10 * np.abs(want))
    print(f"worst relative error {worst:.1e}; hd.taylor gives the same {ORDER + 1} values from one pass")

    # cost: one Taylor pass of order 10 vs ten nested reverse passes
    d10 = hd.derivative(f, ORDER)
    g = f
    for _ in range(ORDER):
        g = hd.grad(g)
    t0 = time.perf_counter()
    d10(X0)
    t1 = time.perf_counter()
    nested = g(X0)
    t2 = time.perf_counter()
    assert abs(nested - want[ORDER]) <= 1e-9 * abs(want[ORDER])
    print(f"order {ORDER}: Taylor mode {1e3 * (t1 - t0):.2f} ms, nested hd.grad {1e3 * (t2 - t1):.1f} ms")


if __name__ == "__main__":
    main()
