"""``check_rules``: does a custom function's rule pair agree with finite differences and with itself?

Sits beside the other transforms (:mod:`hodiff.custom` re-exports it): it calls ``hd.jvp`` and ``hd.vjp`` on the
custom function (so it exercises whichever rule, given or derived, each mode uses) and ``scipy.differentiate``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import differentiate

from . import functional as hd   # jvp and vjp, the two transforms the check runs


@dataclass
class RuleCheckRow:
    """One compared quantity: hodiff's value, the reference, their difference and the allowance."""

    quantity: str
    value: float
    reference: float
    abs_error: float
    tolerance: float
    passed: bool


@dataclass
class RuleCheckReport:
    """Result of :func:`check_rules`: ``passed``, the rows, and ``table()`` (Markdown)."""

    rows: list

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def __bool__(self):
        return self.passed

    def table(self) -> str:
        head = "| quantity | hodiff | reference | abs error | tolerance | result |\n|---|---|---|---|---|---|\n"
        return head + "".join(f"| {r.quantity} | {r.value:.10g} | {r.reference:.10g} | {r.abs_error:.2e} | "
                              f"{r.tolerance:.2e} | {'pass' if r.passed else 'FAIL'} |\n" for r in self.rows)

    __str__ = __repr__ = table


def _row(name, value, ref, tol):
    err = abs(value - ref)
    return RuleCheckRow(name, float(value), float(ref), float(err), float(tol), bool(err <= tol))


def check_rules(f: Callable[..., Any], *args: Any, rtol: float = 1e-7, atol: float = 1e-10,
                seed: int = 0) -> RuleCheckReport:
    """Check the derivative rules of a custom function at ``args``.

    With random directions ``v`` (one per differentiable argument) and ``u`` (of the output's shape), compares

    * the JVP ``J v`` (forward mode: the JVP rule, or the one derived from the VJP rule) with central finite
      differences of ``t -> f(args + t v)`` (``scipy.differentiate``, with its own error estimate);
    * the VJP ``J^T u`` (reverse mode) through ``<J^T u, v>`` with the finite-difference ``<u, J v>``;
    * the two rules with each other by the transpose identity ``<v, J^T u> = <J v, u>``, to rounding.

    An entry passes when ``|hodiff - reference| <= 10 * fd_error + rtol * scale + atol``.

    Parameters
    ----------
    f : CustomFunction
        Made by :func:`~hodiff.custom.custom_jvp`, :func:`~hodiff.custom.custom_vjp` or
        :func:`~hodiff.custom.primitive`.
    *args
        The point (non-differentiable arguments included, at their positions).
    rtol, atol : float
        Relative and absolute allowances on top of the finite differences' error estimate.
    seed : int
        Seed of the random directions.

    Returns
    -------
    RuleCheckReport
        ``report.passed``, ``report.rows`` and ``report.table()``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.custom import custom_jvp, check_rules
    >>> @custom_jvp
    ... def f(x):
    ...     return np.sin(x) * x
    >>> f.defjvp(lambda p, t: (f(p[0]), (np.cos(p[0]) * p[0] + np.sin(p[0])) * t[0]))  # doctest: +ELLIPSIS
    <function <lambda> at ...>
    >>> check_rules(f, np.array([0.3, 1.2])).passed
    True
    """
    nondiff = set(getattr(f, "nondiff_argnums", ()))
    pos = [i for i, a in enumerate(args) if i not in nondiff]
    x = [np.asarray(args[i], dtype=float) for i in pos]
    rng = np.random.default_rng(seed)
    v = [rng.standard_normal(a.shape) for a in x]

    def at(*d):
        full = list(args)
        for i, a in zip(pos, d):
            full[i] = a
        return f(*full)

    out, jv = hd.jvp(at, tuple(x), tuple(v))
    out = np.asarray(out, dtype=float)
    jv = np.asarray(jv, dtype=float)
    u = rng.standard_normal(out.shape)
    jtu = hd.vjp(at, *x)[1](u)

    def along(T):
        T = np.asarray(T)[0]
        vals = [np.ravel(at(*(a + t * b for a, b in zip(x, v)))) for t in T.ravel()]
        return np.stack(vals, axis=-1).reshape((out.size,) + T.shape)
    res = differentiate.jacobian(along, np.zeros(1))
    fd, err = res.df[:, 0].reshape(out.shape), res.error[:, 0].reshape(out.shape)
    rows = []
    worst = int(np.argmax(np.abs(jv - fd))) if jv.size else 0
    scale = max(float(np.max(np.abs(fd), initial=0.0)), 1e-300)
    tol = 10 * float(np.nan_to_num(np.max(err, initial=0.0), nan=np.inf)) + rtol * scale + atol
    rows.append(_row("JVP J v vs finite differences (worst entry)", np.ravel(jv)[worst] if jv.size else 0.0,
                     np.ravel(fd)[worst] if fd.size else 0.0, tol))
    pair = float(sum(np.vdot(np.asarray(c, dtype=float), b) for c, b in zip(jtu, v)))
    ufd = float(np.vdot(u, fd))
    tol_u = 10 * float(np.nan_to_num(np.vdot(np.abs(u), err), nan=np.inf)) + rtol * max(abs(ufd), scale) + atol
    rows.append(_row("VJP <J^T u, v> vs finite differences <u, J v>", pair, ufd, tol_u))
    ujv = float(np.vdot(u, jv))
    rows.append(_row("transpose identity <J^T u, v> = <u, J v>", pair, ujv,
                     1e-12 * (float(np.vdot(np.abs(u), np.abs(jv))) + abs(ujv)) + 1e-300))
    return RuleCheckReport(rows)
