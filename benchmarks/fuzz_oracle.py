"""Tolerances and oracles of the differential fuzzer: finite differences with error estimates, rounding noise.

Where it sits: imported by ``benchmarks/fuzz_checks.py``; numpy only (the oracle never calls hodiff's derivatives,
except where a check says it differentiates hodiff's own gradient).

Finite differences (``fd_directional``): the ``order``-th derivative of a function ``phi(h)`` (array-valued) at
``h = 0`` by central stencils (order 1: ``(phi(h) - phi(-h)) / 2h``; 2: ``(phi(h) - 2 phi(0) + phi(-h)) / h^2``;
3: ``(phi(2h) - 2 phi(h) + 2 phi(-h) - phi(-2h)) / 2h^3``), each with an error expansion in even powers of ``h``,
so a Richardson (Neville) table over ``h, h/2, h/4, h/8`` removes the ``h^2, h^4, h^6`` terms. Its error estimate is
the change between the last two diagonal entries (the last one is much more accurate than that change). Rounding
adds ``ROUND_C * eps * max|phi| / h_min^order``, an upper bound of the stencil's amplification of the values' own
rounding (stencil and Richardson weights sum to a few units; ``ROUND_C = 100`` covers functions whose evaluation
loses a few digits).

Cross-validation: a table can agree with itself on a wrong value when its stencil straddles a kink (``absolute``,
``amax``) or a jump (LAPACK flips an eigenvector's sign), so an estimate is accepted only when the tables from two
consecutive starting steps both converge (error estimate below ``trust`` of the scale, plus rounding) and agree
within their error estimates. When no pair does, the oracle cannot judge this point and says so (``None``); the
fuzzer counts such checks as *inconclusive*, never as passes.
"""
from __future__ import annotations

import numpy as np

EPS = float(np.finfo(float).eps)
# Two exact methods (forward vs reverse, different nestings) agree to 1e-12 of the scale (a few thousand ulps), plus
# NOISE_C times the quantity's measured sensitivity to a few-ulp change of the point (``rounding_noise``), which
# a correct computation of an ill-conditioned quantity (inv, solve, qr near singular) cannot beat.
EXACT_RTOL = 1e-12
NOISE_C = 10.0
# Derivatives that vanish by exact cancellation come out as an exact 0 or as the rounding residue of the terms that
# cancelled; inputs, weights and directions are O(1) and the mixing layer's terms O(0.05), so residues are below a
# few ulps of 1: two quantities both below 1e-15 are not compared (real derivatives are 1e-13 at the smallest seen).
ZERO_RESIDUE = 1e-15
# Against finite differences: |exact - fd| <= FD_C * error + FD_RTOL * scale + rounding.
FD_C = 10.0
FD_RTOL = 1e-9
ROUND_C = 100.0
# Largest finite-difference steps in the direction (|v| <= 1): arguments move by at most 0.05 * h (see
# fuzz_programs), far inside the domains' margins, so large steps are safe; small ones resolve sharp curvature.
FD_STEPS = (0.2, 0.05, 0.0125, 0.003)
LEVELS = 4
# The oracle is trusted only when its error estimate is below this fraction of the scale (per derivative order).
FD_TRUST = {1: 1e-7, 2: 1e-6, 3: 1e-5}


def _stencil(phi, h, order, phi0):
    if order == 1:
        return (phi(h) - phi(-h)) / (2 * h)
    if order == 2:
        return (phi(h) - 2 * phi0 + phi(-h)) / (h * h)
    return (phi(2 * h) - 2 * phi(h) + 2 * phi(-h) - phi(-2 * h)) / (2 * h ** 3)


def _richardson(phi, h0, order, phi0):
    """Neville table over h0 / 2^k: the last diagonal entry, its error estimate and max |phi| seen."""
    rows, big = [], float(np.max(np.abs(phi0), initial=0.0))
    for k in range(LEVELS):
        h = h0 / 2 ** k
        row = [np.asarray(_stencil(phi, h, order, phi0), dtype=float)]
        big = max(big, float(np.max(np.abs(phi(h)), initial=0.0)))
        for j in range(1, k + 1):
            row.append(row[j - 1] + (row[j - 1] - rows[-1][j - 1]) / (4 ** j - 1))
        rows.append(row)
    est = rows[-1][-1]
    err = np.maximum(np.abs(est - rows[-1][-2]), np.abs(est - rows[-2][-1]))
    rounding = ROUND_C * EPS * big / (h0 / 2 ** (LEVELS - 1)) ** order
    return est, err, rounding


def fd_directional(phi, order: int = 1, exact=None, steps=FD_STEPS):
    """The ``order``-th derivative of ``phi`` at 0, cross-validated: ``(estimate, tolerance)`` or ``None``.

    ``exact`` (the value under test, if known) only enters the scale of the relative terms, so that a quantity
    which is zero up to rounding is not judged against an error estimate relative to nothing.
    """
    phi0 = np.asarray(phi(0.0), dtype=float)
    prev = None
    for h0 in steps:
        est, err, rnd = _richardson(phi, h0, order, phi0)
        scale = max(float(np.max(np.abs(est), initial=0.0)),
                    0.0 if exact is None else float(np.max(np.abs(exact), initial=0.0)))
        if float(np.max(err, initial=0.0)) > FD_TRUST[order] * scale + rnd:
            prev = None
            continue
        if prev is not None:
            pest, perr, prnd = prev
            spread = np.abs(est - pest)
            if np.all(spread <= FD_C * (err + perr) + rnd + prnd):
                tol = FD_C * np.maximum(np.maximum(err, perr), spread) + FD_RTOL * scale + rnd
                return est, tol
        prev = (est, err, rnd)
    return None


def rounding_noise(fn, x, samples: int = 2) -> float:
    """How far ``fn(x)`` moves when ``x`` moves by a few ulps: the rounding level two correct methods share."""
    rng = np.random.default_rng(1)
    base = np.asarray(fn(x), dtype=float)
    out = 0.0
    for _ in range(samples):
        x1 = x + 4 * EPS * np.abs(x) * rng.uniform(-1, 1, size=np.shape(x))
        out = max(out, float(np.max(np.abs(np.asarray(fn(x1), dtype=float) - base), initial=0.0)))
    return out
