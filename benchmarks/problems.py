"""The benchmark problems P1..P5 of issue 5, written once against a numpy-like namespace ``xp``.

Every library runs the *same* function on the *same* data: only the namespace differs (``numpy`` itself for plain
numpy and for hodiff, whose values dispatch numpy calls; ``autograd.numpy``; ``jax.numpy``; MyGrad's functions; a
thin shim over ``torch``). The data come from a fixed seed, so every fresh process builds identical inputs.

This module also holds the hand-written numpy derivatives: they are both the references every measured derivative is
checked against and the "hand-written numpy" column of the report.
"""
from __future__ import annotations

import numpy as np

SEED = 20260501

# ----------------------------------------------------------------------------------------------------------------
# P1: 1,000 sequential scalar ops: x = sin(x)*1.0001 + 0.01*x*x, 200 times (sin, *, *, *, + = 5 ops per step)
P1_X0 = 0.5
P1_STEPS = 200
P1_OPS = 5 * P1_STEPS


def p1_f(x, xp):
    for _ in range(P1_STEPS):
        x = xp.sin(x) * 1.0001 + 0.01 * x * x
    return x


def p1_hand_value_and_grad(x):
    """Forward-mode derivative by hand on numpy scalars: (f(x), f'(x))."""
    x = np.float64(x)
    d = np.float64(1.0)
    sin, cos = np.sin, np.cos
    for _ in range(P1_STEPS):
        d = (cos(x) * 1.0001 + 0.02 * x) * d
        x = sin(x) * 1.0001 + 0.01 * x * x
    return x, d


def p1_hand_d2(x):
    """Second derivative by hand (chain rule carried forward): f''(x)."""
    x = np.float64(x)
    d1 = np.float64(1.0)
    d2 = np.float64(0.0)
    sin, cos = np.sin, np.cos
    for _ in range(P1_STEPS):
        s, c = sin(x), cos(x)
        gp = c * 1.0001 + 0.02 * x          # g'(x) for g(x) = sin(x)*1.0001 + 0.01 x^2
        gpp = -s * 1.0001 + 0.02            # g''(x)
        d2 = gpp * d1 * d1 + gp * d2
        d1 = gp * d1
        x = s * 1.0001 + 0.01 * x * x
    return d2


# ----------------------------------------------------------------------------------------------------------------
# P2: extended Rosenbrock (Moré, Garbow, Hillstrom): sum over pairs of 100 (x_{2i} - x_{2i-1}^2)^2 + (1 - x_{2i-1})^2


def p2_data(n):
    rng = np.random.default_rng([SEED, 2, n])
    x = rng.uniform(-1.5, 1.5, n)
    v = rng.standard_normal(n)
    return x, v


def p2_f(x, xp):
    xo = x[0::2]
    xe = x[1::2]
    return xp.sum(100.0 * (xe - xo ** 2) ** 2 + (1.0 - xo) ** 2)


def p2_hand_grad(x):
    xo = x[0::2]
    xe = x[1::2]
    r = xe - xo * xo
    g = np.empty_like(x)
    g[0::2] = -400.0 * xo * r - 2.0 * (1.0 - xo)
    g[1::2] = 200.0 * r
    return g


def p2_hand_hvp(x, v):
    xo = x[0::2]
    xe = x[1::2]
    vo = v[0::2]
    ve = v[1::2]
    out = np.empty_like(x)
    t = -400.0 * xo
    out[0::2] = (1200.0 * xo * xo - 400.0 * xe + 2.0) * vo + t * ve
    out[1::2] = t * vo + 200.0 * ve
    return out


# ----------------------------------------------------------------------------------------------------------------
# P3: MLP loss, X 256x64, tanh 128 hidden, 10-class softmax cross-entropy, 9,610 parameters as one vector
P3_N, P3_D, P3_H, P3_C = 256, 64, 128, 10
_S1 = P3_D * P3_H                 # W1 64x128
_S2 = _S1 + P3_H                  # b1 128
_S3 = _S2 + P3_H * P3_C           # W2 128x10
P3_P = _S3 + P3_C                 # b2 10 -> 9,610


def p3_data():
    rng = np.random.default_rng([SEED, 3])
    X = rng.standard_normal((P3_N, P3_D))
    labels = rng.integers(0, P3_C, P3_N)
    Y = np.zeros((P3_N, P3_C))
    Y[np.arange(P3_N), labels] = 1.0
    theta = 0.1 * rng.standard_normal(P3_P)
    v = rng.standard_normal(P3_P)
    return X, Y, theta, v


def p3_f(theta, xp, X, Y):
    W1 = theta[:_S1].reshape(P3_D, P3_H)
    b1 = theta[_S1:_S2]
    W2 = theta[_S2:_S3].reshape(P3_H, P3_C)
    b2 = theta[_S3:]
    H = xp.tanh(X @ W1 + b1)
    Z = H @ W2 + b2
    lse = xp.log(xp.sum(xp.exp(Z), axis=1))   # logits are O(1) here (tanh layer, small weights): no overflow
    return xp.mean(lse - xp.sum(Y * Z, axis=1))


def _p3_split(theta):
    return (theta[:_S1].reshape(P3_D, P3_H), theta[_S1:_S2], theta[_S2:_S3].reshape(P3_H, P3_C), theta[_S3:])


def p3_hand_grad(theta, X, Y):
    W1, b1, W2, b2 = _p3_split(theta)
    H = np.tanh(X @ W1 + b1)
    Z = H @ W2 + b2
    E = np.exp(Z)
    P = E / E.sum(axis=1, keepdims=True)
    dZ = (P - Y) * (1.0 / P3_N)
    g = np.empty_like(theta)
    g[_S2:_S3] = (H.T @ dZ).ravel()
    g[_S3:] = dZ.sum(axis=0)
    dA = (dZ @ W2.T) * (1.0 - H * H)
    g[:_S1] = (X.T @ dA).ravel()
    g[_S1:_S2] = dA.sum(axis=0)
    return g


def p3_hand_hvp(theta, v, X, Y):
    """H v by the R-operator (forward-over-reverse written out by hand)."""
    W1, b1, W2, b2 = _p3_split(theta)
    V1, c1, V2, c2 = _p3_split(v)
    H = np.tanh(X @ W1 + b1)
    D = 1.0 - H * H
    Z = H @ W2 + b2
    E = np.exp(Z)
    P = E / E.sum(axis=1, keepdims=True)
    dZ = (P - Y) * (1.0 / P3_N)
    dH = dZ @ W2.T
    RH = D * (X @ V1 + c1)
    RZ = RH @ W2 + H @ V2 + c2
    RP = P * (RZ - (P * RZ).sum(axis=1, keepdims=True))
    RdZ = RP * (1.0 / P3_N)
    out = np.empty_like(theta)
    out[_S2:_S3] = (RH.T @ dZ + H.T @ RdZ).ravel()
    out[_S3:] = RdZ.sum(axis=0)
    RdA = (RdZ @ W2.T + dZ @ V2.T) * D - 2.0 * H * RH * dH
    out[:_S1] = (X.T @ RdA).ravel()
    out[_S1:_S2] = RdA.sum(axis=0)
    return out


# ----------------------------------------------------------------------------------------------------------------
# P4: dense Hessian of logsumexp(A x) + 0.5 |x|^2, A 2n x n


def p4_data(n):
    rng = np.random.default_rng([SEED, 4, n])
    A = rng.standard_normal((2 * n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)
    return A, x


def p4_f(x, xp, A):
    z = A @ x                      # |z| = O(1) for this A and x: the plain form cannot overflow
    return xp.log(xp.sum(xp.exp(z))) + 0.5 * xp.sum(x * x)


def p4_hand_hessian(x, A):
    """Analytic: A^T (diag(p) - p p^T) A + I with p = softmax(A x)."""
    z = A @ x
    p = np.exp(z - z.max())
    p /= p.sum()
    Ap = A.T @ p
    H = (A.T * p) @ A
    H -= np.outer(Ap, Ap)
    H[np.diag_indices_from(H)] += 1.0
    return H


# ----------------------------------------------------------------------------------------------------------------
# P5: third derivative of sin(x) exp(x/2) at 0.7
P5_X0 = 0.7


def p5_f(x, xp):
    return xp.sin(x) * xp.exp(x / 2)


def p5_hand_d3(x):
    """f = Im exp((1/2 + i) x), so f''' = Im((1/2 + i)^3 e^{(1/2+i)x}) = e^{x/2} (-1.375 sin x - 0.25 cos x)."""
    return np.exp(x / 2) * (-1.375 * np.sin(x) - 0.25 * np.cos(x))


# ----------------------------------------------------------------------------------------------------------------
# Sizes and targets


P2_SIZES_FULL = (100, 1_000, 10_000, 100_000, 1_000_000)
P2_SIZES_QUICK = (10_000, 1_000_000)
P2_MEM_N = 1_000_000
P4_SIZES = (10, 100, 500)

# The rows of issue 5's table: (key, problem, metric, unit, peer figure quoted in the issue, target, hand figure
# quoted in the issue). Units: "us/op", "x f", "ms", "us", "x |x|".
ROWS = [
    ("P1.vg", "P1: 1,000 sequential scalar ops", "value+grad, per op", "us/op",
     "5.4 µs (torch; autograd 15.4, MyGrad 15.3)", 2.5, "about 1 µs is numpy's own call cost"),
    ("P1.d2", "P1", "second derivative, per op", "us/op", "17 µs (torch double backward; autograd 40)", 8.0, ""),
    ("P2.grad@10000", "P2: extended Rosenbrock, n = 10^4", "grad / f", "x f", "9.3x (torch)", 4.0, "1.36x"),
    ("P2.hvp@10000", "P2, n = 10^4", "HVP / f", "x f", "19.9x (torch double backward)", 8.0, "2.0x"),
    ("P2.grad@1000000", "P2, n = 10^6", "grad / f", "x f", "7.5x (torch)", 3.0, "1.9x"),
    ("P2.hvp@1000000", "P2, n = 10^6", "HVP / f", "x f", "14.4x (torch)", 5.0, "2.85x"),
    ("P2.memgrad@1000000", "P2, n = 10^6", "extra peak memory, grad (multiples of x)", "x |x|",
     "8.1x (autograd)", 6.0, "4.1x"),
    ("P2.memhvp@1000000", "P2, n = 10^6", "extra peak memory, HVP (multiples of x)", "x |x|",
     "14.1x (autograd)", 10.0, "3.1x"),
    ("P3.grad", "P3: MLP loss, 9,610 params", "grad / f", "x f", "3.96x (torch)", 2.5, "1.74x"),
    ("P3.hvp", "P3", "HVP / f", "x f", "8.25x (torch)", 4.5, "2.94x"),
    ("P4.hess@10", "P4: dense Hessian, logsumexp(Ax) + 0.5|x|^2", "n = 10", "ms", "0.63 ms (torch)", 0.25,
     "19 µs analytic"),
    ("P4.hess@100", "P4", "n = 100", "ms", "4.0 ms (torch.func)", 1.5, "132 µs analytic"),
    ("P4.hess@500", "P4", "n = 500", "ms", "47.5 ms (JAX eager; JAX jit 21.3 ms)", 21.0, "11 ms analytic"),
    ("P5.d3", "P5: third derivative of sin(x) exp(x/2) at 0.7", "time", "us", "226 µs (torch)", 60.0, ""),
]

# Targets for compiled replay (hd.jit, the 'hodiff-jit' library), same units as ROWS; rows without one show n/a.
JIT_TARGETS = {"P1.vg": 0.6, "P1.d2": 1.5, "P2.grad@10000": 2.0, "P2.hvp@10000": 3.0, "P2.grad@1000000": 2.5,
               "P2.hvp@1000000": 4.0, "P3.grad": 2.0, "P3.hvp": 3.4, "P4.hess@500": 12.5}
# The first call of a fresh hd.jit function (record + build) against one eager hodiff call of the same computation.
FIRST_CALL_TARGET = 3.0
# Allocator states for the n = 10^6 rows (MiB freed before measuring; 0: none). The main run uses the last one.
ALLOC_STATES_MIB = (0, 16, 31)

# Derivatives must match the reference to this max relative error (normwise: max|d - ref| / max|ref|).
ACCURACY_TOL = 1e-10
