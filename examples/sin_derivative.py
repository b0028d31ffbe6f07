"""Exercise 5 of the autograd chapter: plot sin(x) and its derivative, computed by hodiff (not from cos).

The derivative comes from differentiating ``np.sum(np.sin(x))``: each x_i only affects its own term, so the
gradient of the sum is the vector of d sin(x_i) / dx_i. We never write ``cos``: hodiff works it out from the
primitive table. Three ways are checked against each other and against ``np.cos`` to 1e-12:

* the functional API: ``hd.grad(lambda x: np.sum(np.sin(x)))(x)``;
* forward mode: ``hd.jvp(np.sin, (x,), (ones,))`` (the Jacobian is diagonal, so J @ ones is its diagonal);
* the tensor API: ``x = hd.tensor(..., requires_grad=True); hd.sin(x).sum().backward(); x.grad``.

Usage (from the repository root)::

    python examples/sin_derivative.py [OUTPUT.png]      # default: sin_derivative.png in the current directory
"""
from __future__ import annotations

import sys

import numpy as np

import hodiff as hd


def derivative_of_sin(x):
    """d/dx sin(x) at every point of ``x``, by reverse mode."""
    return hd.grad(lambda t: np.sum(np.sin(t)))(x)


def main(argv):
    out = argv[1] if len(argv) > 1 else "sin_derivative.png"
    x = np.linspace(-2 * np.pi, 2 * np.pi, 401)

    dy = derivative_of_sin(x)

    _, dy_fwd = hd.jvp(np.sin, (x,), (np.ones_like(x),))
    t = hd.tensor(x, requires_grad=True)
    hd.sin(t).sum().backward()
    dy_tensor = t.grad.numpy()

    # Only now is cos used, to check the answer
    for name, d in [("grad", dy), ("jvp", dy_fwd), ("tensor backward", dy_tensor)]:
        err = np.max(np.abs(d - np.cos(x)))
        assert err <= 1e-12, f"{name}: max |d/dx sin - cos| = {err:.3g}"
    print(f"d/dx sin(x) on {x.size} points from -2pi to 2pi: max |hodiff - cos| = "
          f"{np.max(np.abs(dy - np.cos(x))):.1e}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    ax.plot(x, np.sin(x), label=r"$f(x) = \sin(x)$")
    ax.plot(x, dy, "--", label=r"$f'(x)$ computed by hodiff")
    ax.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xlabel("x")
    ax.set_xticks(np.arange(-2, 3) * np.pi, [r"$-2\pi$", r"$-\pi$", "0", r"$\pi$", r"$2\pi$"])
    ax.set_ylim(-1.2, 1.6)
    ax.legend(loc="upper center", ncol=2, frameon=False)
    ax.set_title("sin and its derivative, differentiated automatically")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
