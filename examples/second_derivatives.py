"""Gradients, Hessian-vector products and Hessians of a plain-numpy function.

The function is the extended Rosenbrock function, written with ordinary numpy and nothing from hodiff. hodiff
differentiates it as it is; SciPy happens to ship its exact gradient, Hessian and Hessian-vector product
(``scipy.optimize.rosen_der`` / ``rosen_hess`` / ``rosen_hess_prod``), which makes a handy oracle.

* ``hd.grad(f)(x)``: reverse mode, one sweep.
* ``hd.hvp(f, x, v)``: H(x) v by forward-over-reverse (a dual number under the tape), without forming H.
* ``hd.hessian(f)(x)``: the dense Hessian, all columns in one batched pass (or ``chunk_size`` at a time).
* Newton-CG (``scipy.optimize.minimize``) driven by ``hd.grad`` and ``hd.hvp``.

Run from the repository root::

    python examples/second_derivatives.py
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess, rosen_hess_prod

import hodiff as hd


def rosenbrock(x):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, in plain numpy."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def close(a, b, rtol=1e-12):
    """Agreement to rounding: relative to the size of the reference."""
    a, b = np.asarray(a), np.asarray(b)
    return np.max(np.abs(a - b)) <= rtol * max(1.0, np.max(np.abs(b)))


def main():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, size=6)
    v = rng.standard_normal(6)

    value, g = hd.value_and_grad(rosenbrock)(x)
    assert close(value, rosen(x)) and close(g, rosen_der(x))
    print(f"n = 6: f(x) = {value:.6f}, |grad f(x)| = {np.linalg.norm(g):.6f}  (matches rosen_der)")

    hv = hd.hvp(rosenbrock, x, v)
    assert close(hv, rosen_hess_prod(x, v))
    print("hvp(f, x, v) matches rosen_hess_prod")

    H = hd.hessian(rosenbrock)(x)
    assert H.shape == (6, 6)
    assert close(H, rosen_hess(x))
    assert np.array_equal(H, H.T) or close(H, H.T)
    assert close(H @ v, hv)
    assert close(hd.hessian(rosenbrock, chunk_size=4)(x), H)      # two chunks of columns, same matrix
    assert close(hd.jacfwd(hd.grad(rosenbrock))(x), H)            # forward-over-reverse, spelled out
    assert close(hd.jacrev(hd.grad(rosenbrock))(x), H)            # reverse-over-reverse
    print("hessian(f)(x) matches rosen_hess; symmetric; H v == hvp; chunked, jacfwd(grad) and jacrev(grad) agree")

    # The same second derivative through the tensor API: differentiate the gradient again
    xt = hd.tensor(x, requires_grad=True)
    (gt,) = hd.autograd.grad(rosenbrock(xt), [xt], create_graph=True)
    (gt * hd.tensor(v)).sum().backward()                          # d/dx <grad f(x), v> = H v
    assert close(xt.grad.numpy(), hv)
    print("tensor API, create_graph=True: d/dx <grad f, v> == hvp")

    # Large n: H v without ever forming the n-by-n Hessian
    n = 100_000
    xl = rng.uniform(-2.0, 2.0, size=n)
    vl = rng.standard_normal(n)
    assert close(hd.hvp(rosenbrock, xl, vl), rosen_hess_prod(xl, vl))
    print(f"n = {n}: hvp matches rosen_hess_prod")

    # Newton-CG needs only gradients and Hessian-vector products
    res = minimize(rosenbrock, np.full(8, -1.0), method="Newton-CG", jac=hd.grad(rosenbrock),
                   hessp=lambda x, p: hd.hvp(rosenbrock, x, p), options={"xtol": 1e-10})
    assert res.success and np.allclose(res.x, 1.0, atol=1e-6), res
    print(f"Newton-CG from x = -1 (n = 8): minimum at {np.round(res.x, 6).tolist()} after {res.nit} iterations")

    # Third derivative by nesting: d^3/dx^3 of x^4 at 0.5 is 24 * 0.5 = 12
    d3 = hd.grad(hd.grad(hd.grad(lambda t: t ** 4)))(0.5)
    assert abs(d3 - 12.0) < 1e-12
    print(f"grad(grad(grad(x**4)))(0.5) = {d3}")


if __name__ == "__main__":
    main()
