"""Built-in test problems of :mod:`hodiff.cost`, each a function ``make(n) -> (f, x)``.

Where it sits: ``python -m hodiff.cost``, ``docs/gen_cost.py`` and the tests run :func:`~hodiff.cost.analyze` and
:func:`~hodiff.cost.scaling` on these. Each ``f`` is ordinary numpy code whose cost grows linearly with ``n``, so a
gradient or one HVP should grow like ``n`` and a dense Hessian like ``n^2``. The data are drawn from fixed seeds:
every call with the same ``n`` gives the same problem.
"""
from __future__ import annotations

import numpy as np

from .._src.numpy.namespace import logsumexp as _logsumexp

__all__ = ["PROBLEMS", "logsumexp_model", "mlp_loss", "rosenbrock"]


def rosenbrock(n):
    """Extended (chained) Rosenbrock, ``sum(100 (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)``, at the classic start.

    Parameters
    ----------
    n : int
        Number of variables (at least 2).

    Returns
    -------
    f : callable
    x : ndarray
        ``(-1.2, 1, -1.2, 1, ...)``.

    Examples
    --------
    >>> f, x = rosenbrock(4)
    >>> x, round(float(f(x)), 6)
    (array([-1.2,  1. , -1.2,  1. ]), 532.4)
    """
    if n < 2:
        raise ValueError("rosenbrock needs n >= 2")

    def rosenbrock(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    return rosenbrock, np.where(np.arange(n) % 2 == 1, 1.0, -1.2)


def logsumexp_model(n, m=32):
    """``logsumexp(A x) + 0.5 |x|^2`` with a fixed random ``m x n`` matrix ``A`` (``m`` fixed, so ``f`` is O(n)).

    Parameters
    ----------
    n : int
        Number of variables.
    m : int
        Rows of ``A`` (the number of terms inside the log-sum-exp).

    Returns
    -------
    f : callable
    x : ndarray

    Examples
    --------
    >>> f, x = logsumexp_model(3)
    >>> x.shape, bool(np.isfinite(f(x)))
    ((3,), True)
    """
    rng = np.random.default_rng(1)
    A = rng.standard_normal((m, n)) / np.sqrt(n)
    x0 = rng.standard_normal(n)

    def logsumexp_model(x):
        return _logsumexp(A @ x) + 0.5 * np.dot(x, x)
    return logsumexp_model, x0


def mlp_loss(n, d=4, batch=32):
    """Mean squared error of a one-hidden-layer tanh network; its parameters are one flat vector of size ~``n``.

    The hidden width ``h`` is chosen so that ``h (d + 2) + 1`` (the parameter count) is as close to ``n`` as
    possible; ``x.size`` gives the exact size.

    Parameters
    ----------
    n : int
        Target number of parameters.
    d : int
        Input features.
    batch : int
        Data points (fixed, from a seed).

    Returns
    -------
    f : callable
        ``f(theta)``: unpacks ``W1 (d, h)``, ``b1 (h,)``, ``w2 (h,)``, ``b2`` and returns the loss.
    x : ndarray
        Initial parameters.

    Examples
    --------
    >>> f, x = mlp_loss(61)
    >>> x.size, bool(f(x) > 0)
    (61, True)
    """
    h = max(1, round((n - 1) / (d + 2)))
    rng = np.random.default_rng(2)
    X = rng.standard_normal((batch, d))
    y = np.sin(X @ rng.standard_normal(d))
    theta = 0.5 * rng.standard_normal(h * (d + 2) + 1) / np.sqrt(d)

    def mlp_loss(theta):
        W1 = np.reshape(theta[: d * h], (d, h))
        b1 = theta[d * h: d * h + h]
        w2 = theta[d * h + h: d * h + 2 * h]
        b2 = theta[-1]
        pred = np.tanh(X @ W1 + b1) @ w2 + b2
        r = pred - y
        return np.mean(r * r)
    return mlp_loss, theta


#: name -> (make, one-line description), for the command line and the docs.
PROBLEMS = {
    "rosenbrock": (rosenbrock, "extended Rosenbrock, sum(100 (x[1:] - x[:-1]^2)^2 + (1 - x[:-1])^2)"),
    "logsumexp": (logsumexp_model, "log-sum-exp model, logsumexp(A x) + 0.5 |x|^2 with A of shape (32, n)"),
    "mlp": (mlp_loss, "MLP loss: one tanh hidden layer, 32 data points, parameters as one flat vector"),
}
