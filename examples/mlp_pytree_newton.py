"""An MLP whose parameters are a list of ``(W, b)`` tuples, trained by Newton-CG on the pytree itself.

The network is written as one would write it for any numpy-based library: ``params`` is a list of layers, each a
``(W, b)`` tuple, and the loss walks the list. ``hd.optimize.minimize`` takes that list as ``x0``: SciPy works on
the raveled vector (``hodiff.tree.ravel``), the loss always receives the list of tuples, and ``result.x`` comes
back with the same structure. Newton-CG gets exact Hessian-vector products (one linearization of the gradient per
point). At the end the gradient at the optimum is checked against central finite differences on the raveled vector,
and the Hessian is read as nested blocks (``H[i][0][j][1]`` = d^2 loss / dW_i db_j).

Run from the repository root::

    python examples/mlp_pytree_newton.py
"""
from __future__ import annotations

import numpy as np

import hodiff as hd

SIZES = [1, 12, 12, 1]
rng = np.random.default_rng(0)
X = np.linspace(-2.0, 2.0, 48)[:, None]
Y = np.sin(2.0 * X) + 0.05 * rng.standard_normal(X.shape)


def init(sizes):
    return [(rng.standard_normal((m, n)) / np.sqrt(m), np.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def predict(params, x):
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def loss(params):
    return np.mean((predict(params, X) - Y) ** 2) + 1e-4 * sum(np.sum(W * W) for W, _ in params)


def main():
    params = init(SIZES)
    print(f"parameters: {len(params)} layers, {hd.tree.layout(params).size} numbers; initial loss {loss(params):.4f}")
    res = hd.optimize.minimize(loss, params, method="Newton-CG", options={"maxiter": 60})
    trained = res.x
    assert isinstance(trained, list) and all(isinstance(layer, tuple) and len(layer) == 2 for layer in trained)
    print(f"Newton-CG: loss {res.fun:.5f} after {res.nit} iterations, {res.n_hessp} Hessian-vector products")
    assert res.fun < 0.1 * loss(params)

    # the gradient on the pytree against central differences on the raveled vector
    flat, unravel = hd.tree.ravel(trained)
    g = hd.tree.ravel(hd.grad(loss)(trained))[0]
    h = 1e-6
    fd = np.array([(loss(unravel(flat + h * e)) - loss(unravel(flat - h * e))) / (2 * h) for e in np.eye(flat.size)])
    err = np.max(np.abs(g - fd))
    print(f"gradient vs finite differences: max difference {err:.2e}")
    assert err < 1e-6

    # the Hessian nests like the parameters: outer layer/field, inner layer/field
    H = hd.hessian(loss)(trained)
    block = H[0][0][2][1]                      # d^2 loss / dW_0 db_2
    assert block.shape == trained[0][0].shape + trained[2][1].shape
    lay = hd.tree.layout(trained)
    eig = np.linalg.eigvalsh(hd.tree.flat_jacobian(H, lay, lay))
    print(f"Hessian at the optimum: blocks like H[0][0][2][1] of shape {block.shape}; eigenvalues in "
          f"[{eig[0]:.2e}, {eig[-1]:.2e}]")


if __name__ == "__main__":
    main()
