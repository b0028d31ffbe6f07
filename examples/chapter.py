"""The "Automatic Differentiation" chapter of Dive into Deep Learning, run with hodiff.

The chapter shows every step twice: with PyTorch tensors and with MXNet's ``attach_grad`` / ``autograd.record``.
hodiff speaks both, so this script runs each of the chapter's examples in both styles, prints what it gets and
asserts what the chapter says should come out. It ends with the exercises that have a checkable answer.

Run from the repository root::

    python examples/chapter.py
"""
from __future__ import annotations

import numpy as np

import hodiff as hd
from hodiff import autograd


def show(label, value):
    print(f"  {label:<34} {value}")


def all_true(t):
    """``t`` is an elementwise comparison (a boolean tensor): does it hold everywhere?"""
    return bool(np.all(t))


# ------------------------------------------------------------------------------------------------------------------
# The function from the control-flow section, once per style

def f_pytorch(a):
    b = a * 2
    while b.norm().item() < 1000:
        b = b * 2
    if b.sum().item() > 0:
        c = b
    else:
        c = 100 * b
    return c


def f_mxnet(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:   # numpy functions on hodiff tensors dispatch to hodiff
        b = b * 2
    if b.sum() > 0:                    # a one-element boolean tensor works in `if` and `while`
        c = b
    else:
        c = 100 * b
    return c


# ------------------------------------------------------------------------------------------------------------------

def pytorch_style():
    print("PyTorch style: requires_grad=True, .backward(), .grad accumulates")

    # A simple example: y = 2 x.x, whose gradient is 4 x
    x = hd.arange(4.0, requires_grad=True)
    show("x", x)
    assert x.grad is None                       # nothing stored until a backward pass reaches x
    y = 2 * hd.dot(x, x)
    show("y = 2 * dot(x, x)", y)
    assert y.item() == 28.0
    y.backward()
    show("x.grad", x.grad)
    show("x.grad == 4 * x", x.grad == 4 * x)
    assert all_true(x.grad == 4 * x)

    # Another function of x: clear first, since gradients accumulate
    x.grad.zero_()
    y = x.sum()
    y.backward()
    show("grad of x.sum()", x.grad)
    assert all_true(x.grad == hd.ones(4))

    # Detaching computation: z = u * x with u = x * x held constant
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    show("grad of (u * x).sum(), u detached", x.grad)
    assert all_true(x.grad == u)
    # y itself was recorded, so it can still be differentiated: d(x*x)/dx = 2x
    x.grad.zero_()
    y.sum().backward()
    assert all_true(x.grad == 2 * x)

    # Python control flow
    hd.manual_seed(0)
    a = hd.randn(size=(1,), requires_grad=True)
    d = f_pytorch(a)
    d.backward()
    show("a, d = f(a)", f"{a.item():.6f}, {d.item():.4f}")
    show("a.grad == d / a", a.grad == d / a)
    assert all_true(a.grad == d / a)


def mxnet_style():
    print("MXNet style: attach_grad(), autograd.record(), .grad is overwritten")

    x = hd.arange(4.0)
    x.attach_grad()
    show("x.grad after attach_grad()", x.grad)   # zeros: a safe default before any backward
    assert all_true(x.grad == hd.zeros(4))
    with autograd.record():
        y = 2 * hd.dot(x, x)
    y.backward()
    show("x.grad", x.grad)
    assert all_true(x.grad == 4 * x)

    # grad_req="write" (the default) overwrites rather than adds
    with autograd.record():
        y = x.sum()
    y.backward()
    show("grad of x.sum()", x.grad)
    assert all_true(x.grad == hd.ones(4))

    # Backward for a non-scalar head: MXNet sums it. In hodiff that is autograd.backward
    with autograd.record():
        y = x * x
    autograd.backward(y)
    u = x.copy()
    u.attach_grad()
    with autograd.record():
        v = (u * u).sum()
    v.backward()
    show("x.grad == u.grad", x.grad == u.grad)
    assert all_true(x.grad == u.grad)

    # Detaching computation
    with autograd.record():
        y = x * x
        u = y.detach()
        z = u * x
    autograd.backward(z)
    assert all_true(x.grad == u)
    autograd.backward(y)
    assert all_true(x.grad == 2 * x)

    # Python control flow with a random scalar
    a = hd.tensor(np.random.default_rng(1).normal())
    a.attach_grad()
    with autograd.record():
        d = f_mxnet(a)
    d.backward()
    show("a.grad == d / a", a.grad == d / a)
    assert bool(a.grad == d / a)

    # Training mode and prediction mode
    outside = autograd.is_training()
    with autograd.record():
        inside = autograd.is_training()
    show("is_training() outside / inside", f"{outside} / {inside}")
    assert (outside, inside) == (False, True)


def exercises():
    print("Exercises")

    # 2. Calling backward twice: the first backward freed the values the tape saved
    x = hd.arange(4.0, requires_grad=True)
    y = 2 * hd.dot(x, x)
    y.backward()
    try:
        y.backward()
    except RuntimeError as e:
        assert "retain_graph=True" in str(e)
        show("second backward()", "RuntimeError (saved values freed)")
    else:
        raise AssertionError("a second backward through a freed graph should fail")
    x.grad.zero_()
    y = 2 * hd.dot(x, x)
    y.backward(retain_graph=True)
    y.backward()                      # allowed now, and gradients accumulate: 4x + 4x
    show("twice with retain_graph=True", x.grad)
    assert all_true(x.grad == 8 * x)

    # 3. A vector or a matrix `a` in the control-flow example. f is piecewise linear: on a neighbourhood of a,
    # f(a) = k * a for one scalar k (every element is doubled the same number of times), so the Jacobian of d
    # with respect to a is k * I. The gradient of d.sum() is k everywhere, and d / a is k everywhere.
    hd.manual_seed(3)
    a = hd.randn(2, 3, requires_grad=True)
    d = f_pytorch(a)
    try:
        d.backward()
    except RuntimeError as e:
        assert "(2, 3)" in str(e)
        show("d.backward() on shape (2, 3)", "RuntimeError (needs a gradient)")
    d.sum().backward()
    k = (d / a).detach()
    assert np.allclose(k.numpy(), k.numpy().flat[0])          # one scalar k
    assert all_true(a.grad == k)
    show("k = d / a (every element)", k.numpy().flat[0])
    b = hd.randn(2, 3)
    b.attach_grad()
    with autograd.record():
        d = f_mxnet(b)
    autograd.backward(d)                                      # MXNet's implicit sum
    assert all_true(b.grad == d / b)
    a0 = np.array([0.3, -0.1, 0.2])
    J = hd.jacobian(f_mxnet)(a0)
    k0 = f_mxnet(a0)[0] / a0[0]
    assert np.array_equal(J, k0 * np.eye(3))
    show("Jacobian of f at a 3-vector", f"{k0:g} * I")

    # 4. A control-flow example of our own: Newton's iteration for sqrt(s), run until it converges. The number of
    # steps depends on s, yet the derivative of the result is that of sqrt: 1 / (2 sqrt(s)).
    def newton_sqrt(s):
        r = s
        while abs((r * r - s).item()) > 1e-12 * s.item():
            r = (r + s / r) / 2
        return r
    s = hd.tensor(2.0, requires_grad=True)
    r = newton_sqrt(s)
    r.backward()
    show("d/ds newton_sqrt(s) at 2", s.grad.item())
    assert abs(s.grad.item() - 1 / (2 * np.sqrt(2.0))) < 1e-12

    # 5. sin and its derivative, computed by hodiff without using cos: see examples/sin_derivative.py
    x = hd.linspace(-np.pi, np.pi, 9, requires_grad=True)
    hd.sin(x).sum().backward()
    assert np.allclose(x.grad.numpy(), np.cos(np.linspace(-np.pi, np.pi, 9)), rtol=0, atol=1e-12)
    show("d/dx sin(x) on 9 points", "matches cos(x)")


def main():
    pytorch_style()
    mxnet_style()
    exercises()
    print("All of the chapter's claims hold.")


if __name__ == "__main__":
    main()
