"""``hodiff.scipy.optimize``: ``root`` with a solution differentiable in its parameters, and the Rosenbrock helpers.

``root`` calls ``scipy.optimize.root`` on plain values and attaches to the solution a custom derivative rule (see
:mod:`hodiff.custom`) given by the implicit function theorem, so the solver is never differentiated through;
``rosen``, ``rosen_der``, ``rosen_hess`` and ``rosen_hess_prod`` are scipy's test function and its derivatives,
written in hodiff operations (their values equal scipy's; they are differentiable to any order).
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize as _so
from numpy.typing import ArrayLike

import hodiff as hd

from ..custom import CustomFunction, _is_box, _merge, primitive
from ..implicit import solve_linearized

__all__ = ["root", "rosen", "rosen_der", "rosen_hess", "rosen_hess_prod"]


def _is_float_arg(a) -> bool:
    if _is_box(a):
        return True
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (float, np.floating)):
        return True
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _root_impl(fun, x_star, static, *diff):
    # called only on the plain values scipy solved at (root() passes them), so the solution is already known
    return np.array(x_star, copy=True)


def _root_jvp(primals, tangents, out):
    # F(x*, a) = 0  =>  (dF/dx) dx* = -(dF/da) . da
    fun, _, static = primals[:3]
    diff, dtan = list(primals[3:]), list(tangents[3:])

    def full(d):
        return _merge(d, static)
    b = hd.jvp(lambda *d: fun(out, *full(d)), tuple(diff), tuple(dtan))[1]
    J = hd.jacfwd(lambda x: fun(x, *full(diff)))(out)
    shape = tuple(np.shape(hd.stop_gradient(out)))
    if tuple(np.shape(hd.stop_gradient(b))) != shape:
        raise ValueError(f"root: the derivative by the implicit function theorem needs a square system, but fun "
                         f"returns shape {np.shape(hd.stop_gradient(b))} for x of shape {shape}")
    return -solve_linearized(J, b, shape)


@functools.cache
def _root_fn() -> CustomFunction:
    # made on first use, not at import: the generated table tests walk the entries present at import
    return primitive("hodiff.scipy.optimize.root", _root_impl, jvp=_root_jvp, nondiff_argnums=(0, 1, 2),
                     doc="The solution of fun(x, *args) = 0 found by scipy.optimize.root (hodiff.scipy.optimize).")


def root(fun: Callable[..., Any], x0: ArrayLike, args: tuple = (), method: str = "hybr", jac: Any = None,
         tol: float | None = None, callback: Callable[..., Any] | None = None, options: dict | None = None) -> Any:
    """``scipy.optimize.root``, with a solution ``x`` differentiable with respect to the floating ``args``.

    The system ``fun(x, *args) = 0`` is solved by scipy on plain values (same arguments, same result object). When
    some of ``args`` are being differentiated, ``result.x`` carries the derivative given by the implicit function
    theorem at the solution,

    .. math:: \\frac{dx^*}{da} = -\\Big(\\frac{\\partial F}{\\partial x}\\Big)^{-1} \\frac{\\partial F}{\\partial a},

    with ``dF/dx`` from ``hd.jacfwd`` of ``fun`` (so ``fun`` must be written with numpy/hodiff operations) and a
    dense linear solve in hodiff operations: it nests, so Hessians with respect to the parameters work, in forward
    and reverse mode. The system must be square (as for the default ``hybr``). ``x0`` gets no derivative (the
    solution does not depend on it). A solve that reports failure gives a ``RuntimeWarning`` when differentiated:
    the theorem holds only at a solution.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> residual`` of ``x``'s size (with ``jac=True`` it returns ``(residual, jacobian)``).
    x0 : array_like
        Starting point.
    args : tuple
        Extra arguments of ``fun``; floating ones (and hodiff values) are differentiable, others are constants.
    method, jac, tol, callback, options
        Passed to ``scipy.optimize.root``.

    Returns
    -------
    scipy.optimize.OptimizeResult
        scipy's result; ``x`` is a hodiff value when an argument was.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.optimize import root
    >>> cube_root = lambda a: root(lambda x, a: x ** 3 - a, np.ones(1), args=(a,)).x[0]
    >>> round(float(cube_root(8.0)), 12), round(float(hd.grad(cube_root)(8.0)), 12)   # 1 / (3 a^(2/3))
    (2.0, 0.083333333333)
    """
    args = args if isinstance(args, tuple) else (args,)
    plain = tuple(hd.stop_gradient(a) for a in args)
    sol = _so.root(fun, hd.stop_gradient(x0), args=plain, method=method, jac=jac, tol=tol, callback=callback,
                   options=options)
    if not any(_is_box(a) for a in args):
        return sol
    if not sol.success:
        warnings.warn(f"root did not report success ({sol.message}); its derivative by the implicit function "
                      "theorem is only meaningful at a solution", RuntimeWarning, stacklevel=2)
    residual = fun if jac is not True else (lambda x, *a: fun(x, *a)[0])
    diff = [a for a in args if _is_float_arg(a)]
    static = tuple((i, a) for i, a in enumerate(args) if not _is_float_arg(a))
    sol.x = _root_fn()(residual, sol.x, static, *diff)
    return sol


# ---------------------------------------------------------------------------------------------------------------
# the Rosenbrock function: f(x) = sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2

def rosen(x: ArrayLike) -> Any:
    """The Rosenbrock function ``sum_i 100 (x[i+1] - x[i]**2)**2 + (1 - x[i])**2``, summed over axis 0.

    Same values as ``scipy.optimize.rosen`` (``x`` of shape ``(n, ...)`` gives shape ``(...)``); differentiable to
    any order.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.optimize import rosen
    >>> float(rosen(np.ones(4))), hd.grad(rosen)(np.ones(3))
    (0.0, array([0., 0., 0.]))
    """
    xf = _as_float(x)
    head, tail = xf[:-1], xf[1:]
    return hd.sum(100.0 * (tail - head ** 2) ** 2 + (1.0 - head) ** 2, axis=0)


def _as_float(x: ArrayLike) -> Any:
    # Any: a hodiff value passes through unchanged, anything else becomes a floating ndarray
    if _is_box(x):
        return x
    a = np.asarray(x)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def _pad_end(v):   # v followed by one zero
    return hd.concatenate([v, np.zeros(1)])


def _pad_start(v):  # one zero followed by v
    return hd.concatenate([np.zeros(1), v])


def rosen_der(x: ArrayLike) -> Any:
    """The gradient of :func:`rosen` for a 1-D ``x`` (``scipy.optimize.rosen_der``), differentiable again.

    ``df/dx_i = -400 x_i (x_{i+1} - x_i^2) - 2 (1 - x_i) + 200 (x_i - x_{i-1}^2)``, the terms present at ``i``.

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.optimize import rosen_der
    >>> rosen_der(np.array([0.0, 0.0]))
    array([-2.,  0.])
    """
    xf = _as_float(x)
    head, tail = xf[:-1], xf[1:]
    gap = tail - head ** 2
    return _pad_end(-400.0 * head * gap - 2.0 * (1.0 - head)) + _pad_start(200.0 * gap)


def _hess_parts(x):
    head, tail = x[:-1], x[1:]
    diagonal = _pad_end(1200.0 * head ** 2 - 400.0 * tail + 2.0) + _pad_start(np.full(len(tail), 200.0))
    return diagonal, -400.0 * head


def rosen_hess(x: ArrayLike) -> Any:
    """The Hessian of :func:`rosen` for a 1-D ``x`` (``scipy.optimize.rosen_hess``), shape ``(n, n)``.

    Tridiagonal: ``H_ii = 1200 x_i^2 - 400 x_{i+1} + 2`` (``i < n-1``) plus ``200`` (``i > 0``),
    ``H_{i,i+1} = H_{i+1,i} = -400 x_i``.

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.optimize import rosen_hess
    >>> rosen_hess(np.array([1.0, 1.0]))
    array([[ 802., -400.],
           [-400.,  200.]])
    """
    diagonal, off = _hess_parts(_as_float(x))
    return hd.diag(diagonal) + hd.diag(off, 1) + hd.diag(off, -1)


def rosen_hess_prod(x: ArrayLike, p: ArrayLike) -> Any:
    """The product ``rosen_hess(x) @ p`` without forming the Hessian (``scipy.optimize.rosen_hess_prod``).

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff.scipy.optimize import rosen_hess_prod
    >>> rosen_hess_prod(np.array([1.0, 1.0]), np.array([1.0, 0.0]))
    array([ 802., -400.])
    """
    pf = _as_float(p)
    diagonal, off = _hess_parts(_as_float(x))
    return diagonal * pf + _pad_end(off * pf[1:]) + _pad_start(off * pf[:-1])
