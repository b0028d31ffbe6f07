"""The top (and bottom) eigenvalues of a small neural network's loss Hessian, with ``eigsh`` on an operator.

A one-hidden-layer tanh network is fitted to a noisy 1-D regression problem with ``hd.optimize.minimize``
(trust-krylov: exact Hessian-vector products); the loss is written in plain numpy as a function of one flat parameter vector. ``hd.hessian_operator``
gives the Hessian as a ``scipy.sparse.linalg.LinearOperator``, so ``scipy.sparse.linalg.eigsh`` finds its extreme
eigenvalues from Hessian-vector products alone: the gradient is linearized once, and each Lanczos step replays only
the tangent sweep. The model is small enough to check the result against ``np.linalg.eigvalsh`` of the dense
``hd.hessian``.

Run from the repository root::

    python examples/mlp_hessian_eigs.py
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import eigsh

import hodiff as hd

HIDDEN = 16
N_POINTS = 64


def unpack(theta):
    W1 = theta[:HIDDEN].reshape(1, HIDDEN)
    b1 = theta[HIDDEN:2 * HIDDEN]
    w2 = theta[2 * HIDDEN:3 * HIDDEN]
    b2 = theta[3 * HIDDEN]
    return W1, b1, w2, b2


def loss(theta, X, y):
    """Mean squared error of a 1-16-1 tanh network, plus a little weight decay."""
    W1, b1, w2, b2 = unpack(theta)
    h = np.tanh(X @ W1 + b1)
    pred = h @ w2 + b2
    return np.mean((pred - y) ** 2) + 1e-4 * np.sum(theta ** 2)


def main():
    rng = np.random.default_rng(7)
    X = rng.uniform(-2.0, 2.0, (N_POINTS, 1))
    y = np.sin(2.0 * X[:, 0]) + 0.05 * rng.standard_normal(N_POINTS)
    theta0 = 0.5 * rng.standard_normal(3 * HIDDEN + 1)
    n = theta0.size

    res = hd.optimize.minimize(loss, theta0, method="trust-krylov", args=(X, y))
    theta = res.x
    print(f"{n} parameters; loss {loss(theta0, X, y):.4f} -> {res.fun:.5f} after {res.nit} trust-krylov iterations")

    H = hd.hessian_operator(loss, theta, X, y)
    k = 4
    top = np.sort(eigsh(H, k=k, which="LA", return_eigenvectors=False))[::-1]
    bottom = np.sort(eigsh(H, k=2, which="SA", return_eigenvectors=False))
    print(f"eigsh on the operator: top {k} eigenvalues {np.array2string(top, precision=5)}")
    print(f"                       bottom 2           {np.array2string(bottom, precision=5)}")
    print(f"  ({H.n_products} Hessian-vector products from {H.n_recordings} recording of the gradient)")

    dense = np.linalg.eigvalsh(hd.hessian(loss)(theta, X, y))
    print(f"eigvalsh of the dense hd.hessian: top {np.array2string(dense[::-1][:k], precision=5)}, "
          f"bottom {np.array2string(dense[:2], precision=5)}")
    scale = np.max(np.abs(dense))
    assert np.allclose(top, dense[::-1][:k], rtol=1e-8, atol=1e-10 * scale)
    assert np.allclose(bottom, dense[:2], rtol=1e-8, atol=1e-10 * scale)
    assert H.n_recordings == 1
    print(f"condition of the curvature at the fit: lambda_max / lambda_min = {dense[-1] / dense[0]:.3g}")


if __name__ == "__main__":
    main()
