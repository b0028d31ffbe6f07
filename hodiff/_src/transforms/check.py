"""``hd.check``: compare hodiff's derivatives of the user's own function with SciPy's finite differences.

Sits beside the transforms, outside the engine: it calls ``hd.grad``, ``hd.hvp`` and ``hd.hessian`` and
``scipy.differentiate`` (adaptive central differences with Richardson extrapolation and an error estimate of their
own), and reports where they disagree by more than that estimate allows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numbers
from typing import Any, Callable

import numpy as np
from scipy import differentiate

from ..core.pytree_nest import layout
from .functional import grad, hvp
from .hessians import hessian


@dataclass
class CheckRow:
    """One compared quantity."""

    quantity: str
    max_abs_error: float
    max_rel_error: float
    fd_error_estimate: float
    tolerance: float
    passed: bool
    worst_index: tuple
    disagreeing: list = field(default_factory=list)


@dataclass
class CheckReport:
    """Result of :func:`check`: ``passed`` and one :class:`CheckRow` per compared quantity."""

    rows: list

    @property
    def passed(self):
        return all(r.passed for r in self.rows)

    def __bool__(self):
        return self.passed

    def table(self):
        head = "| quantity | max abs error | max rel error | FD error estimate | tolerance | result |\n" \
               "|---|---|---|---|---|---|\n"
        body = "".join(f"| {r.quantity} | {r.max_abs_error:.2e} | {r.max_rel_error:.2e} | "
                       f"{r.fd_error_estimate:.2e} | {r.tolerance:.2e} | {'pass' if r.passed else 'FAIL'} |\n"
                       for r in self.rows)
        bad = "".join(f"\n{r.quantity}: entries that disagree (index, hodiff, finite differences): "
                      f"{r.disagreeing[:10]}" for r in self.rows if not r.passed)
        return head + body + bad

    def __str__(self):
        return self.table()

    __repr__ = __str__


def _vectorized(fun, shape):
    """Wrap a function of one array of ``shape`` for scipy.differentiate, which evaluates many points at once."""
    size = int(np.prod(shape, dtype=np.int64))

    def wrapped(xs):
        xs = np.asarray(xs)
        batch = xs.shape[1:]
        cols = np.moveaxis(xs.reshape(size, -1), 0, -1)
        outs = [np.asarray(fun(c.reshape(shape)), dtype=float) for c in cols]
        out = np.stack(outs, axis=-1)
        return out.reshape(out.shape[:-1] + batch)
    return wrapped


def _compare(name, ad, fd, err, rtol, atol):
    ad, fd, err = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (ad, fd, err))
    diff = np.abs(ad - fd)
    tol = 10.0 * np.nan_to_num(err, nan=np.inf) + rtol * np.abs(fd) + atol
    bad = ~(diff <= tol)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    rel = diff / np.maximum(np.abs(fd), atol)
    return CheckRow(name, float(diff.max(initial=0.0)), float(rel.max(initial=0.0)),
                    float(np.nanmax(err, initial=0.0)), float(tol.flat[int(np.argmax(diff))]) if diff.size else 0.0,
                    not bool(bad.any()), tuple(int(i) for i in worst),
                    [(tuple(int(i) for i in ix), float(ad[ix]), float(fd[ix])) for ix in zip(*np.nonzero(bad))])


def check(f: Callable[[Any], Any], x: Any, order: int = 2, *, rtol: float = 1e-7, atol: float = 1e-10,
          max_hessian_size: int = 30, seed: int = 0) -> CheckReport:
    """Check hodiff's derivatives of ``f`` at ``x`` against ``scipy.differentiate``.

    Compares the gradient with ``scipy.differentiate.jacobian`` of ``f``; with ``order=2`` also one HVP in a
    random direction (with central differences of the gradient along it) and, when ``x.size <= max_hessian_size``,
    the full Hessian with ``scipy.differentiate.hessian`` of ``f``. An entry passes when
    ``|hodiff - fd| <= 10 * fd_error_estimate + rtol * |fd| + atol``: SciPy's own error estimate sets the scale.

    Parameters
    ----------
    f : callable
        Scalar function of one array (plain numpy code).
    x : array_like or pytree
        The point. A pytree (dict, list, tuple of arrays) is checked on its raveled vector
        (:func:`hodiff.tree.ravel`): ``f`` still receives the tree.
    order : {1, 2}
        1 checks the gradient; 2 adds the HVP and the Hessian.

    Returns
    -------
    CheckReport
        ``report.passed``, ``report.rows`` and ``report.table()`` (Markdown).

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.check(lambda x: np.sum(np.sin(x) * x ** 2), np.array([0.3, 1.2])).passed
    True
    """
    if order not in (1, 2):
        raise ValueError("check: order must be 1 or 2")
    if not isinstance(x, (np.ndarray, numbers.Number)):
        lay = layout(x, "check", "x")
        x, unravel, f0 = lay.ravel(x), lay.unravel, f
        f = lambda v: f0(unravel(v))             # noqa: E731 -- the tree's function on its raveled vector
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise ValueError("check: x has no elements, so there is no derivative to check")
    shape = x.shape
    rows = []
    res = differentiate.jacobian(_vectorized(f, shape), x.ravel())
    rows.append(_compare("gradient", np.ravel(grad(f)(x)), res.df, res.error, rtol, atol))
    if order == 2:
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(shape)
        g = grad(f)

        def along(t):
            t = np.asarray(t)
            return np.stack([np.ravel(g(x + ti * v)) for ti in t.ravel()], axis=-1).reshape((x.size,) + t.shape)
        res = differentiate.jacobian(lambda T: along(T[0]), np.zeros(1))
        rows.append(_compare("hvp (random direction)", np.ravel(hvp(f, x, v)), res.df[:, 0], res.error[:, 0],
                             rtol, atol))
        if x.size <= max_hessian_size:
            res = differentiate.hessian(_vectorized(f, shape), x.ravel())
            H = np.reshape(hessian(f)(x), (x.size, x.size))
            rows.append(_compare("hessian", H, res.ddf, res.error, max(rtol, 1e-6), max(atol, 1e-8)))
    return CheckReport(rows)
