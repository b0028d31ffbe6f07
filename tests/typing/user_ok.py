# mypy: disallow-untyped-defs, disallow-incomplete-defs, warn-unused-ignores
"""A typed user script: ``tests/test_typing.py`` runs mypy on it and expects no errors.

It is written the way a user with a type checker writes code (annotated functions, typed arrays) and touches each
common door of the public API once. It is also run as a program by the test, so every line is real, working code.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

import hodiff as hd
import hodiff.cost
import hodiff.scipy.special
import hodiff.scipy.stats


def f(x: Any) -> Any:
    return hd.sum(hd.sin(x) * x ** 2)


def pair(x: Any, y: Any) -> Any:
    return hd.dot(x, y) + hd.sum(hd.exp(y))


x: NDArray[np.float64] = np.linspace(0.1, 1.0, 4)
v: NDArray[np.float64] = np.ones(4)

g = hd.grad(f)
gx: NDArray[np.float64] = g(x)
gy = hd.grad(pair, argnums=(0, 1))(x, x)
value, gv = hd.value_and_grad(f)(x)
hv: NDArray[np.float64] = hd.hvp(f, x, v)
H: NDArray[np.float64] = hd.hessian(f)(x)
J: NDArray[np.float64] = hd.jacfwd(hd.sin)(x)
Jr: NDArray[np.float64] = hd.jacrev(hd.sin)(x)
y, t = hd.jvp(f, (x,), (v,))
out, pullback = hd.vjp(f, x)
ct = pullback(1.0)
d3 = hd.derivative(hd.sin, order=3)(0.5)

w = hd.tensor([1.0, 2.0, 3.0], requires_grad=True)
loss = (w * w).sum()
loss.backward()
print(w.grad)
with hd.no_grad():
    z = w * 2.0

params: dict[str, NDArray[np.float64]] = {"w": np.ones((2, 3)), "b": np.zeros(3)}
flat, unravel = hd.tree.ravel(params)
back = unravel(flat)
leaves, treedef = hd.tree.flatten(params)
doubled = hd.tree.map(lambda a: 2 * a, params)

lp = hd.scipy.stats.norm.logpdf(x)
lp2 = hd.scipy.stats.norm.logpdf(x, loc=1.0, scale=2.0)
cdf = hd.scipy.stats.norm.cdf(x)
lse = hd.scipy.special.logsumexp(x)
sm = hd.scipy.special.softmax(x)
sol = hd.scipy.linalg.solve(np.eye(4) * 2.0, x)
L = hd.scipy.linalg.cholesky(np.eye(4) * 4.0, lower=True)
root = hd.fixed_point(lambda a: lambda z: 0.5 * (z + a / z), 4.0, 1.0, lambda p, q: abs(p - q), 1e-12)

advice: hd.cost.Explanation = hd.cost.explain(f, x, task="hessian", repeat=0)
first_line: str = advice.splitlines()[0]

print(float(np.sum(hv)), H.shape, J.shape, float(lse), first_line)
