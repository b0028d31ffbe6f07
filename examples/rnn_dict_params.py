"""A small recurrent network with its parameters in a dict: gradient, Hessian-vector product, gradient steps.

``params = {"Wx": ..., "Wh": ..., "b": ..., "out": {"W": ..., "b": ...}}`` (a nested dict, as RNN code is often
written). ``hd.grad`` returns a dict of the same structure; ``hd.hvp`` takes a direction of that structure and returns
one; ``hodiff.tree.map`` does the gradient steps. The gradient is checked against central finite differences on the
raveled parameter vector, and the HVP against differences of the gradient along the direction.

Run from the repository root::

    python examples/rnn_dict_params.py
"""
from __future__ import annotations

import numpy as np

import hodiff as hd
from hodiff import tree

rng = np.random.default_rng(1)
HIDDEN, STEPS = 6, 10
# the task: predict the next value of a noisy sine wave from the sequence so far
SEQ = np.sin(0.6 * np.arange(STEPS + 1))[:, None] + 0.02 * rng.standard_normal((STEPS + 1, 1))


def init():
    return {"Wx": 0.5 * rng.standard_normal((1, HIDDEN)), "Wh": 0.3 * rng.standard_normal((HIDDEN, HIDDEN)),
            "b": np.zeros(HIDDEN), "out": {"W": 0.3 * rng.standard_normal((HIDDEN, 1)), "b": np.zeros(1)}}


def loss(params):
    h = np.zeros(HIDDEN)
    total = 0.0
    for t in range(STEPS):
        h = np.tanh(SEQ[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
        pred = h @ params["out"]["W"] + params["out"]["b"]
        total = total + np.sum((pred - SEQ[t + 1]) ** 2)
    return total / STEPS


def main():
    params = init()
    g = hd.grad(loss)(params)
    assert tree.structure(g) == tree.structure(params)

    flat, unravel = tree.ravel(params)
    h = 1e-6
    fd = np.array([(loss(unravel(flat + h * e)) - loss(unravel(flat - h * e))) / (2 * h) for e in np.eye(flat.size)])
    err = np.max(np.abs(tree.ravel(g)[0] - fd))
    print(f"{flat.size} parameters; gradient vs finite differences: max difference {err:.2e}")
    assert err < 1e-7

    v = tree.map(lambda a: rng.standard_normal(np.shape(a)), params)
    hv = hd.hvp(loss, params, v)
    vf = tree.ravel(v)[0]
    grad_flat = lambda z: tree.ravel(hd.grad(loss)(unravel(z)))[0]      # noqa: E731
    fd_hv = (grad_flat(flat + h * vf) - grad_flat(flat - h * vf)) / (2 * h)
    err = np.max(np.abs(tree.ravel(hv)[0] - fd_hv))
    print(f"Hessian-vector product: hv['out']['W'] has shape {hv['out']['W'].shape}; vs differences of the gradient "
          f"{err:.2e}")
    assert err < 1e-6

    first = loss(params)
    for _ in range(30):
        g = hd.grad(loss)(params)
        params = tree.map(lambda p, d: p - 0.2 * d, params, g)
    print(f"30 gradient steps: loss {first:.4f} -> {loss(params):.4f}")
    assert loss(params) < first


if __name__ == "__main__":
    main()
