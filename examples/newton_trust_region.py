"""Newton-type optimisation of a 10,000-dimensional function with an operator Hessian, never forming the matrix.

The extended Rosenbrock function (Moré, Garbow and Hillstrom) is written in plain numpy. ``hd.optimize.minimize``
hands ``scipy.optimize.minimize`` its exact value and gradient (one reverse sweep per point, cached) and its
Hessian-vector products: at each point the gradient is linearized once (``hd.hessian_operator``), and every product
the inner Krylov solver asks for replays only the tangent sweep of that recording.

A 10,000 x 10,000 dense Hessian would take 800 MB; the operator never holds more than a few gradient-sized arrays.

Run from the repository root::

    python examples/newton_trust_region.py
"""
from __future__ import annotations

import time

import numpy as np

import hodiff as hd

N = 10_000


def extended_rosenbrock(x):
    """sum over pairs of 100 (x[2i+1] - x[2i]^2)^2 + (1 - x[2i])^2; minimum 0 at x = (1, ..., 1)."""
    xo, xe = x[0::2], x[1::2]
    return np.sum(100.0 * (xe - xo ** 2) ** 2 + (1.0 - xo) ** 2)


def main():
    x0 = np.tile([-1.2, 1.0], N // 2)                  # the standard starting point

    for method, options in (("trust-krylov", None), ("Newton-CG", {"xtol": 1e-10})):
        t = time.perf_counter()
        res = hd.optimize.minimize(extended_rosenbrock, x0, method=method, options=options)
        dt = time.perf_counter() - t
        err = np.max(np.abs(res.x - 1.0))
        print(f"{method:13s} n = {N}: {res.nit} iterations in {dt:.2f} s, |x - 1|_max = {err:.1e}, f = {res.fun:.1e}")
        print(f"{'':13s} {res.n_value_and_grad} value+gradient sweeps, {res.n_linearize} linearizations, "
              f"{res.n_hessp} Hessian-vector products ({res.n_hessp - res.n_linearize} of them replays)")
        assert res.success, res.message
        assert err < 1e-5, err
        assert res.n_hessp > res.n_linearize            # products were replayed, not recomputed

    # the operator on its own: H v at the start point, checked against the hand-written Hessian
    H = hd.hessian_operator(extended_rosenbrock, x0)
    v = np.random.default_rng(0).standard_normal(N)
    xo, xe, vo, ve = x0[0::2], x0[1::2], v[0::2], v[1::2]
    hand = np.empty(N)
    hand[0::2] = (1200.0 * xo ** 2 - 400.0 * xe + 2.0) * vo - 400.0 * xo * ve
    hand[1::2] = -400.0 * xo * vo + 200.0 * ve
    Hv = H @ v
    assert np.allclose(Hv, hand, rtol=1e-12, atol=1e-9)
    print(f"H @ v at x0 matches the hand-written Hessian (max |diff| = {np.max(np.abs(Hv - hand)):.1e})")


if __name__ == "__main__":
    main()
