"""Sensitivities of a steady state, by the implicit function theorem: ``hodiff.implicit.fixed_point``.

A population model is iterated to its equilibrium; how that equilibrium moves with the model's parameters (first
and second derivatives) is read off the fixed-point equation itself instead of by differentiating the hundreds of
iterations that found it. The call is autograd's (``fixed_point(f, a, x0, distance, tol)`` with ``f(a)`` returning
the update), so a program written for autograd ports by its import line.

1. Beverton-Holt, ``n' = r n / (1 + n / K)``: its steady state ``n* = K (r - 1)`` is known in closed form, so its
   gradient ``(K, r - 1)`` and Hessian ``[[0, 1], [1, 0]]`` check the method.
2. Three life stages with density-dependent recruitment: no closed form; the sensitivities of the total
   equilibrium population are checked against central finite differences of the iteration, and the Hessian by
   forward-over-reverse against reverse-over-reverse.

Run from the repository root::

    python examples/fixed_point_steady_state.py
"""
from __future__ import annotations

import numpy as np
from scipy import differentiate

import hodiff as hd
from hodiff.implicit import fixed_point


def distance(x, y):
    return np.max(np.abs(x - y))


def beverton_holt(params):
    r, K = params[0], params[1]
    return lambda n: r * n / (1.0 + n / K)


def bh_steady_state(params):
    return fixed_point(beverton_holt, params, 1.0, distance, 1e-13)


def stages(params):
    """Update of (juveniles, subadults, adults): fecundity f with crowding b, survivals s1, s2, s3."""
    f, b, s1, s2, s3 = (params[i] for i in range(5))

    def update(n):
        recruits = f * n[2] / (1.0 + b * n[2])
        return np.stack([recruits, s1 * n[0], s2 * n[1] + s3 * n[2]])
    return update


def total_equilibrium(params):
    n = fixed_point(stages, params, np.ones(3), distance, 1e-13)
    return np.sum(n)


def main():
    p = np.array([2.5, 40.0])
    n_star = bh_steady_state(p)
    g = hd.grad(bh_steady_state)(p)
    H = hd.hessian(bh_steady_state)(p)
    print(f"Beverton-Holt r = {p[0]}, K = {p[1]}: n* = {n_star:.12f} (closed form {p[1] * (p[0] - 1):.12f})")
    print(f"  gradient {g}   closed form {np.array([p[1], p[0] - 1])}")
    print(f"  Hessian  {np.round(H, 12).tolist()}   closed form [[0, 1], [1, 0]]")
    assert np.allclose(n_star, p[1] * (p[0] - 1), rtol=1e-12)
    assert np.allclose(g, [p[1], p[0] - 1], rtol=1e-10)
    assert np.allclose(H, [[0.0, 1.0], [1.0, 0.0]], atol=1e-10)

    q = np.array([4.0, 0.02, 0.5, 0.4, 0.7])
    n = fixed_point(stages, q, np.ones(3), distance, 1e-13)
    grad = hd.grad(total_equilibrium)(q)
    fd = differentiate.jacobian(lambda Q: np.apply_along_axis(total_equilibrium, 0, Q), q, initial_step=1e-3)
    print(f"\nstage model equilibrium (juveniles, subadults, adults) = {np.round(n, 6)}")
    for name, gi, fi in zip(("f", "b", "s1", "s2", "s3"), grad, fd.df):
        print(f"  d total / d {name:2s} = {gi: .10f}   finite differences {fi: .10f}")
    assert np.allclose(grad, fd.df, rtol=1e-7, atol=1e-9)
    H_fwd_rev = hd.hessian(total_equilibrium)(q)
    H_rev_rev = hd.jacrev(hd.grad(total_equilibrium))(q)
    print(f"  Hessian: symmetric to {np.max(np.abs(H_fwd_rev - H_fwd_rev.T)):.1e}, forward-over-reverse vs "
          f"reverse-over-reverse differ by {np.max(np.abs(H_fwd_rev - H_rev_rev)):.1e}")
    assert np.allclose(H_fwd_rev, H_rev_rev, rtol=1e-10, atol=1e-10)


if __name__ == "__main__":
    main()
