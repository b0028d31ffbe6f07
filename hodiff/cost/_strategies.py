"""The strategies :func:`hodiff.cost.analyze` compares, and the bounds theory gives for each.

Where it sits: a strategy is a small function of a :class:`Problem` (the user's ``f``, the point ``x``, a direction
``v``) that computes a derivative with hodiff's public transforms, exactly as a user would. The analysis runs each one
under the counting instrumentation (``_instrument.py``), then again plain for memory and time, and puts the results
beside the strategy's :class:`Bound`. The registry :data:`STRATEGIES` is open: :func:`register_strategy` adds one
(the sparse Hessian with colouring arrives this way), and every report, scaling fit and recommendation picks it up.

Bounds are on FLOPs as a multiple of ``f``'s (and, for finite differences, on the number of evaluations):
``GRAD_BOUND`` is the cheap-gradient bound, ``HVP_BOUND`` the constant factor of one Hessian-vector product; a dense
Hessian is ``n`` of those; finite differences of ``f`` take ``2 n^2 + 1`` evaluations, of the gradient ``2 n``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._src.transforms import functional as F
from .._src.core.engine import base_value
from .._src.numpy.namespace import vdot
from .._src.interpreters.reverse import EAGER, Tensor
from .._src.transforms.hessians import hessian

__all__ = ["GRAD_BOUND", "HVP_BOUND", "JVP_BOUND", "STRATEGIES", "Bound", "Problem", "Strategy", "register_strategy"]

#: Cheap-gradient bound: a reverse-mode gradient costs at most this many times the FLOPs of ``f`` (forward pass
#: included). Griewank and Walther give 3 to 5 depending on how operations are weighted.
GRAD_BOUND = 5.0
#: One Hessian-vector product (second-order adjoint) costs at most this constant times ``f``, whatever ``n``.
HVP_BOUND = 12.0
#: One forward-mode directional derivative (a JVP) costs at most this many times ``f``.
JVP_BOUND = 3.0


@dataclass(frozen=True)
class Bound:
    """What theory allows a strategy, as multiples of ``f``.

    Attributes
    ----------
    flops : float or None
        Upper bound on FLOPs / FLOPs(f).
    text : str
        The bound in words, e.g. ``"<= 12 n f"``.
    f_evals, grad_evals : int or None
        Exact number of evaluations of ``f`` / of its gradient (finite differences).
    """

    flops: float | None
    text: str
    f_evals: int | None = None
    grad_evals: int | None = None


class Problem:
    """What a strategy runs on: ``f``, the point ``x``, the direction ``v`` and the analysis settings.

    In counting mode :meth:`call_f` feeds ``f`` a hodiff tensor that records nothing, so that ``f``'s own numpy
    calls are dispatched to hodiff's primitives and counted; otherwise it calls ``f`` on the plain array.
    """

    def __init__(self, f, x, v, chunk_size=None, fd_max_evals=20_000):
        self.f = f
        self.x = x
        self.v = v
        self.n = int(x.size)
        self.shape = x.shape
        self.chunk_size = int(chunk_size) if chunk_size else min(self.n, 16)
        self.fd_max_evals = fd_max_evals
        self.counting = False
        self.f_evals = 0
        self.grad_evals = 0

    def reset(self, counting):
        self.counting = counting
        self.f_evals = 0
        self.grad_evals = 0

    def call_f(self, y):
        """Evaluate ``f(y)``, counted as one evaluation."""
        self.f_evals += 1
        if self.counting:
            return base_value(self.f(Tensor._make(y, EAGER)))
        return self.f(y)

    def call_grad(self, y):
        """Evaluate the reverse-mode gradient at ``y``, counted as one gradient evaluation."""
        self.grad_evals += 1
        return F.grad(self.f)(y)

    def unit(self, i):
        """The ``i``-th coordinate direction, shaped like ``x``.

        Examples
        --------
        >>> import numpy as np
        >>> Problem(np.sum, np.zeros((2, 2)), np.ones((2, 2))).unit(1)
        array([[0., 1.],
               [0., 0.]])
        """
        e = np.zeros(self.n, dtype=self.x.dtype)
        e[i] = 1.0
        return e.reshape(self.shape)


@dataclass
class Strategy:
    """One way of computing a derivative, as registered in :data:`STRATEGIES`.

    Attributes
    ----------
    name : str
    run : callable
        ``run(problem)``: the result (``f``'s value, the gradient, ``H v`` or the ``(n, n)`` Hessian).
    task : str
        ``"f"``, ``"gradient"``, ``"hvp"`` or ``"hessian"``: what the result is (and what it is checked against).
    bound : callable
        ``bound(n) -> Bound``.
    extra_exponent : int
        How much faster than ``f`` its cost grows with ``n``: 0 for a gradient or one HVP, 1 for a Hessian.
    description : str
    default : bool
        Run by :func:`~hodiff.cost.analyze` when no strategies are named.
    too_large : callable or None
        ``too_large(problem)``: when true, the strategy is not run; its counts are extrapolated from ``f``'s
        (finite differences at large ``n``) and the row is marked as an estimate.
    evals : callable or None
        ``evals(n) -> (f evaluations, gradient evaluations)`` for an extrapolated row.
    approximate : bool
        The result carries truncation error (finite differences): never recommended by
        :func:`~hodiff.cost.explain`.
    """

    name: str
    run: Callable[[Problem], Any]
    task: str
    bound: Callable[[int], Bound]
    extra_exponent: int
    description: str
    default: bool = True
    too_large: Callable[[Problem], bool] | None = None
    evals: Callable[[int], tuple] | None = None
    approximate: bool = False


#: The registry: name -> :class:`Strategy`, in the order reports list them.
STRATEGIES: dict[str, Strategy] = {}


def register_strategy(name, run, *, task, bound, extra_exponent, description, default=True, too_large=None,
                      evals=None, approximate=False, replace=False):
    """Add a strategy to the registry that :func:`~hodiff.cost.analyze`, scaling fits and recommendations use.

    Parameters
    ----------
    name : str
        Its name in reports.
    run : callable
        ``run(problem)`` with a :class:`Problem`; returns the value, the gradient, ``H v`` or the ``(n, n)`` Hessian
        (according to ``task``).
    task : {"f", "gradient", "hvp", "hessian"}
    bound : callable
        ``bound(n)`` returning a :class:`Bound`.
    extra_exponent : int
        Growth in ``n`` beyond ``f``'s (0 for one HVP, 1 for a dense Hessian).
    description : str
        One line for tables and recommendations.
    default : bool
        Include it when :func:`~hodiff.cost.analyze` is called without ``strategies``.
    too_large, evals : callable, optional
        See :class:`Strategy`.
    approximate : bool
        Finite-difference-like results (see :class:`Strategy`).
    replace : bool
        Allow replacing an existing entry.

    Returns
    -------
    Strategy

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.cost import Bound, register_strategy, STRATEGIES
    >>> s = register_strategy("hessian_jacrev_jacrev",
    ...                       lambda p: hd.jacrev(hd.jacrev(p.f))(p.x).reshape(p.n, p.n),
    ...                       task="hessian", bound=lambda n: Bound(None, "-"), extra_exponent=1,
    ...                       description="reverse over reverse, one row per sweep", default=False)
    >>> "hessian_jacrev_jacrev" in STRATEGIES
    True
    >>> del STRATEGIES["hessian_jacrev_jacrev"]
    """
    if name in STRATEGIES and not replace:
        raise ValueError(f"a cost strategy named {name!r} is already registered (pass replace=True)")
    if task not in ("f", "gradient", "hvp", "hessian"):
        raise ValueError(f"task must be 'f', 'gradient', 'hvp' or 'hessian', not {task!r}")
    s = Strategy(name, run, task, bound, int(extra_exponent), description, default, too_large, evals,
                 bool(approximate))
    STRATEGIES[name] = s
    return s


# ----------------------------------------------------------------------------------------------------------------
# the built-in strategies

def _flat(a):
    return np.asarray(a, dtype=float).reshape(-1)


def _run_f(p):
    return p.call_f(p.x)


def _run_grad(p):
    return _flat(p.call_grad(p.x))


def _hvp_fwd_rev(p):
    return _flat(F.hvp(p.f, p.x, p.v))


def _hvp_rev_rev(p):
    v = p.v
    f = p.f
    return _flat(F.grad(lambda y: vdot(F.grad(f)(y), v))(p.x))


def _hvp_rev_fwd(p):
    v = p.v
    f = p.f
    return _flat(F.grad(lambda y: F.jvp(f, (y,), (v,))[1])(p.x))


def _hvp_fwd_fwd(p):
    f, v = p.f, p.v

    def directional(y):
        return F.jvp(f, (y,), (v,))[1]

    out = np.empty(p.n)
    for i in range(p.n):
        out[i] = base_value(F.jvp(directional, (p.x,), (p.unit(i),))[1])
    return out


def _hessian_loop(p):
    H = np.empty((p.n, p.n))
    for i in range(p.n):
        H[:, i] = _flat(F.hvp(p.f, p.x, p.unit(i)))
    return H


def _hessian_batched(p):
    return np.asarray(hessian(p.f)(p.x)).reshape(p.n, p.n)


def _hessian_chunked(p):
    return np.asarray(hessian(p.f, chunk_size=p.chunk_size)(p.x)).reshape(p.n, p.n)


def _steps(x, power):
    return np.finfo(float).eps ** power * np.maximum(1.0, np.abs(x.reshape(-1)))


def _fd_grad(p):
    """Central differences of the reverse-mode gradient: one column per pair of gradient calls."""
    h = _steps(p.x, 1.0 / 3.0)
    H = np.empty((p.n, p.n))
    for i in range(p.n):
        e = p.unit(i) * h[i]
        H[:, i] = (_flat(p.call_grad(p.x + e)) - _flat(p.call_grad(p.x - e))) / (2.0 * h[i])
    return 0.5 * (H + H.T)


def _fd_f(p):
    """Second differences of f: 3 points per diagonal entry (f(x) shared), 4 per pair i < j: 2 n^2 + 1 calls."""
    n, x = p.n, p.x
    h = _steps(x, 0.25)
    E = [p.unit(i) * h[i] for i in range(n)]
    f0 = float(p.call_f(x))
    H = np.empty((n, n))
    for i in range(n):
        H[i, i] = (float(p.call_f(x + E[i])) - 2.0 * f0 + float(p.call_f(x - E[i]))) / (h[i] * h[i])
    for i in range(n):
        for j in range(i + 1, n):
            s = (float(p.call_f(x + E[i] + E[j])) - float(p.call_f(x + E[i] - E[j]))
                 - float(p.call_f(x - E[i] + E[j])) + float(p.call_f(x - E[i] - E[j])))
            H[i, j] = H[j, i] = s / (4.0 * h[i] * h[j])
    return H


def _fd_f_evals(n):
    return 2 * n * n + 1, 0


def _fd_grad_evals(n):
    return 0, 2 * n


register_strategy("f", _run_f, task="f", bound=lambda n: Bound(1.0, "1 f", f_evals=1), extra_exponent=0,
                  description="f alone (the unit every ratio is measured in)")
register_strategy("grad", _run_grad, task="gradient",
                  bound=lambda n: Bound(GRAD_BOUND, f"<= {GRAD_BOUND:g} f"), extra_exponent=0,
                  description="gradient by reverse mode (hd.grad): one forward pass, one backward sweep")
register_strategy("hvp_fwd_rev", _hvp_fwd_rev, task="hvp",
                  bound=lambda n: Bound(HVP_BOUND, f"<= {HVP_BOUND:g} f"), extra_exponent=0,
                  description="one HVP by forward-over-reverse (hd.hvp): the gradient recorded over dual numbers")
register_strategy("hvp_rev_rev", _hvp_rev_rev, task="hvp",
                  bound=lambda n: Bound(HVP_BOUND, f"<= {HVP_BOUND:g} f"), extra_exponent=0,
                  description="one HVP by reverse-over-reverse: the gradient of x -> <grad f(x), v>")
register_strategy("hvp_rev_fwd", _hvp_rev_fwd, task="hvp",
                  bound=lambda n: Bound(HVP_BOUND, f"<= {HVP_BOUND:g} f"), extra_exponent=0,
                  description="one HVP by reverse-over-forward: the gradient of x -> jvp(f, x, v)")
register_strategy("hvp_fwd_fwd", _hvp_fwd_fwd, task="hvp",
                  bound=lambda n: Bound(JVP_BOUND ** 2 * n, f"<= {JVP_BOUND ** 2:g} n f"), extra_exponent=1,
                  description="one HVP by forward-over-forward: n jvp-of-jvp passes, one per entry (O(n))")
register_strategy("hessian_loop", _hessian_loop, task="hessian",
                  bound=lambda n: Bound(HVP_BOUND * n, f"<= {HVP_BOUND:g} n f"), extra_exponent=1,
                  description="dense Hessian as n HVPs (hd.hvp on each unit vector): n sweeps")
register_strategy("hessian_batched", _hessian_batched, task="hessian",
                  bound=lambda n: Bound(HVP_BOUND * n, f"<= {HVP_BOUND:g} n f"), extra_exponent=1,
                  description="dense Hessian in one sweep carrying all n tangents (hd.hessian)")
register_strategy("hessian_chunked", _hessian_chunked, task="hessian",
                  bound=lambda n: Bound(HVP_BOUND * n, f"<= {HVP_BOUND:g} n f"), extra_exponent=1,
                  description="dense Hessian in chunks of tangents (hd.hessian(f, chunk_size=c)): n/c sweeps")
register_strategy("fd_grad", _fd_grad, task="hessian",
                  bound=lambda n: Bound(2 * n * GRAD_BOUND, f"2n grads <= {2 * GRAD_BOUND:g} n f",
                                        grad_evals=2 * n),
                  extra_exponent=1, evals=_fd_grad_evals, approximate=True,
                  too_large=lambda p: 2 * p.n > p.fd_max_evals,
                  description="Hessian by central differences of hd.grad: 2n gradient evaluations")
register_strategy("fd_f", _fd_f, task="hessian",
                  bound=lambda n: Bound(2.0 * n * n + 1, "2n^2+1 f-evals", f_evals=2 * n * n + 1),
                  extra_exponent=2, evals=_fd_f_evals, approximate=True,
                  too_large=lambda p: 2 * p.n * p.n + 1 > p.fd_max_evals,
                  description="Hessian by second differences of f: 2n^2+1 evaluations of f")
