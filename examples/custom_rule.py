"""A numerically stable ``log1p(exp(x))`` (softplus) with a derivative rule of its own, differentiated to third order.

Written naively, ``np.log1p(np.exp(x))`` overflows for ``x`` above ~710 and its automatic derivative
``exp(x) / (1 + exp(x))`` becomes ``inf / inf = nan``. The stable form ``np.logaddexp(0, x)`` fixes the value; a
custom JVP rule, ``t * sigmoid(x)``, gives the derivative in a stable form too, and ``sigmoid`` is itself a custom
function whose rule, ``t * sigmoid(x) * sigmoid(-x)``, avoids the cancellation in ``1 - sigmoid(x)`` for large ``x``
(the form ``s (1 - s)`` loses all relative accuracy of the second derivative near ``x = 35``). hodiff differentiates
the rules themselves for the higher orders, in forward mode, reverse mode and Taylor mode, so no second- or
third-order formula is written by hand: the closed forms below (sigmoid, its derivative and second derivative)
only check the results.

Run from the repository root::

    python examples/custom_rule.py
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

import hodiff as hd
from hodiff.custom import check_rules, custom_jvp


@custom_jvp
def sigmoid(x):
    """The logistic function 1 / (1 + e^-x)."""
    return expit(x)


@sigmoid.defjvp
def sigmoid_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    # sigmoid' = sigmoid(x) sigmoid(-x): no cancellation in 1 - sigmoid(x) when x is large
    return sigmoid(x), t * sigmoid(x) * sigmoid(-x)


@custom_jvp
def softplus(x):
    """log(1 + e^x), without overflow."""
    return np.logaddexp(0.0, x)


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * sigmoid(x)   # d/dx log(1 + e^x) = 1 / (1 + e^-x)


def sigmoid_derivatives(x):
    """Closed forms of softplus', softplus'' and softplus''' (the oracle)."""
    s, r = expit(x), expit(-x)   # r = 1 - s without cancellation
    return [s, s * r, s * r * (r - s)]


def main():
    x = np.array([-800.0, -20.0, -1.0, 0.0, 0.5, 3.0, 30.0, 800.0])
    want = sigmoid_derivatives(x)

    def elementwise_grad(f):
        return lambda z: hd.grad(lambda z: np.sum(f(z)))(z)

    reverse = [elementwise_grad(softplus)]
    for _ in range(2):
        reverse.append(elementwise_grad(reverse[-1]))
    forward = [lambda z: hd.jvp(softplus, (z,), (np.ones_like(z),))[1]]
    for _ in range(2):
        forward.append(lambda z, f=forward[-1]: hd.jvp(f, (z,), (np.ones_like(z),))[1])

    print("   x        softplus    order  reverse (grad^k)        forward (jvp^k)         Taylor (derivative)")
    worst = 0.0
    for k in range(3):
        r, f, t = reverse[k](x), forward[k](x), hd.derivative(softplus, k + 1)(x)
        for name, got in (("reverse", r), ("forward", f), ("taylor", t)):
            err = np.max(np.abs(got - want[k]) / np.maximum(np.abs(want[k]), 1e-300))
            worst = max(worst, err)
            assert np.all(np.isfinite(got)), f"{name} order {k + 1} is not finite"
        for i in (1, 3, 6):
            print(f"{x[i]:7.1f}  {softplus(x[i]):10.4g}     {k + 1}    {r[i]: .15e}  {f[i]: .15e}  {t[i]: .15e}")
    print(f"largest relative error against the closed forms, all modes and orders: {worst:.1e}")
    assert worst < 1e-12

    with np.errstate(all="ignore"):
        naive = hd.grad(lambda x: np.log1p(np.exp(x)))(800.0)
    print(f"derivative at x = 800: naive log1p(exp(x)) gives {naive}, the custom rule "
          f"{float(reverse[0](np.array([800.0]))[0])}")

    report = check_rules(softplus, np.array([-3.0, 0.2, 4.0]))
    print("check_rules: JVP against finite differences, VJP against the JVP (transpose identity):")
    print(report.table())
    assert report.passed
    # hd.check compares the gradient, an HVP and the Hessian of a function using it with finite differences
    assert hd.check(lambda w: np.sum(softplus(w) * w ** 2), np.array([-1.0, 0.3, 2.0])).passed


if __name__ == "__main__":
    main()
