"""``python -m hodiff``: a short tour that prints the chapter's results, a gradient, an HVP and a Hessian,
each checked against an independent reference."""
from __future__ import annotations

import numpy as np

import hodiff as hd
from hodiff import autograd
from hodiff.cost import tour_table


def _check(label, got, want, tol=1e-12):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    err = float(np.max(np.abs(got - want) / (1.0 + np.abs(want)))) if got.size else 0.0
    status = "ok" if err <= tol and got.shape == want.shape else "MISMATCH"
    print(f"  {label:<52} max rel. error {err:.1e}  {status}")
    return status == "ok"


def chapter():
    print("The chapter, PyTorch style")
    x = hd.arange(4.0, requires_grad=True)
    print("  x =", x, "  x.grad =", x.grad)
    y = 2 * hd.dot(x, x)
    print("  y = 2 * dot(x, x) =", y)
    y.backward()
    print("  x.grad =", x.grad, "  x.grad == 4 * x ->", x.grad == 4 * x)
    x.grad.zero_()
    x.sum().backward()
    print("  after zero_(), grad of x.sum():", x.grad)
    x.grad.zero_()
    y = x * x
    u = y.detach()
    (u * x).sum().backward()
    print("  detach: x.grad == u ->", x.grad == u)

    def f(a):
        b = a * 2
        while b.norm().item() < 1000:
            b = b * 2
        c = b if b.sum().item() > 0 else 100 * b
        return c

    a = hd.randn(size=(1,), requires_grad=True)
    d = f(a)
    d.backward()
    print("  control flow: a.grad == d / a ->", a.grad == d / a)

    print("The chapter, MXNet style")
    x = hd.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = 2 * np.dot(x, x)
    y.backward()
    print("  x.grad =", x.grad)
    with autograd.record():
        y = x * x
    autograd.backward(y)              # non-scalar head: the gradient of its sum
    print("  backward of x * x (summed):", x.grad)
    print("  is_training() outside / inside record():", autograd.is_training(), end=" / ")
    with autograd.record():
        print(autograd.is_training())


def functional():
    print("Functional API on plain numpy code: extended Rosenbrock, n = 6")

    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def rosen_grad(x):       # written by hand, for reference
        g = np.zeros_like(x)
        r = x[1:] - x[:-1] ** 2
        g[:-1] += -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * r
        return g

    def rosen_hess(x):
        n = len(x)
        H = np.zeros((n, n))
        i = np.arange(n - 1)
        H[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
        H[i + 1, i + 1] += 200.0
        H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
        return H

    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.5, 6)
    v = rng.standard_normal(6)
    ok = _check("hd.grad(rosen)(x) vs hand-written gradient", hd.grad(rosen)(x), rosen_grad(x))
    ok &= _check("hd.hvp(rosen, x, v) vs hand-written H v", hd.hvp(rosen, x, v), rosen_hess(x) @ v)
    H = hd.hessian(rosen)(x)
    ok &= _check("hd.hessian(rosen)(x) vs hand-written Hessian", H, rosen_hess(x))
    ok &= _check("third derivative of sin at 0.7 (nested hd.grad)", hd.grad(hd.grad(hd.grad(np.sin)))(0.7),
                 -np.cos(0.7))
    print("  Hessian:")
    print("  " + np.array2string(H, precision=1, suppress_small=True).replace("\n", "\n  "))
    return ok


def cost_table():
    print("What the derivatives cost (hodiff.cost, extended Rosenbrock, n = 100; python -m hodiff.cost for more)")
    print(tour_table())


def main():
    chapter()
    ok = functional()
    cost_table()
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
