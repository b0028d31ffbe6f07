"""Implicit derivatives: ``fixed_point``, differentiated by the implicit function theorem rather than by unrolling.

Sits on :mod:`hodiff.custom`: the solution is computed by plain iteration on numpy values, and its derivative is a
custom JVP rule (the reverse mode is that rule's transpose), written in hodiff operations (a Jacobian by
``hd.jacfwd`` and a dense linear solve), so second and higher derivatives follow by the usual composition.
:mod:`hodiff.scipy.optimize` builds ``root`` the same way.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import hodiff as hd

from .custom import CustomFunction, primitive

__all__ = ["fixed_point", "solve_linearized"]


def solve_linearized(A: ArrayLike, b: ArrayLike, out_shape: tuple[int, ...]) -> Any:
    """Solve ``A y = b`` where ``A`` has shape ``out_shape + out_shape`` and ``b`` shape ``out_shape``.

    The square system is flattened to ``n x n`` (``n = prod(out_shape)``) and solved with ``hd.linalg.solve``
    (a scalar system is a division), so the solution is differentiable in ``A`` and ``b``.
    """
    if out_shape == ():
        return hd.divide(b, A)
    n = int(np.prod(out_shape, dtype=np.int64))
    y = hd.linalg.solve(np.reshape(A, (n, n)), np.reshape(b, (n,)))
    return np.reshape(y, out_shape)


def _iterate(a, f, x0, distance, tol, max_iter):
    update = f(a)
    x = x0
    for _ in range(max_iter):
        x_new = update(x)
        if distance(x_new, x) < tol:
            return x_new
        x = x_new
    raise RuntimeError(f"fixed_point: no convergence within {max_iter} iterations (tolerance {tol}); the update "
                       "may not be a contraction near the starting point")


def _fixed_point_jvp(primals, tangents, out):
    # x* = T(a, x*)  =>  (I - dT/dx) dx* = dT/da . da
    a, f = primals[0], primals[1]
    da = tangents[0]
    b = hd.jvp(lambda a_: f(a_)(out), (a,), (da,))[1]
    shape = tuple(np.shape(hd.stop_gradient(out)))
    A = hd.jacfwd(lambda x_: f(a)(x_))(out)
    eye = np.eye(int(np.prod(shape, dtype=np.int64))).reshape(shape + shape) if shape else 1.0
    return solve_linearized(eye - A, b, shape)


@functools.cache
def _fixed_point_fn() -> CustomFunction:
    # made on first use, not at import: the generated table tests walk the entries present at import
    return primitive("hodiff.fixed_point", _iterate, jvp=_fixed_point_jvp, nondiff_argnums=(1, 2, 3, 4, 5),
                     doc="The fixed point x* = f(a)(x*) (hodiff.fixed_point).")


def fixed_point(f: Callable[[Any], Callable[[Any], Any]], a: ArrayLike, x0: ArrayLike,
                distance: Callable[[Any, Any], Any], tol: float, *, max_iter: int = 10_000) -> Any:
    """The fixed point ``x* = f(a)(x*)``, differentiable with respect to ``a`` to any order.

    The calling convention is autograd's: ``f(a)`` returns the update ``x -> x'``. Starting from ``x0``, the
    update is applied on plain numpy values until ``distance(x_new, x) < tol``. The derivative is not obtained by
    differentiating the iterations: by the implicit function theorem, ``T(a, x) = f(a)(x)`` gives

    .. math:: \\frac{dx^*}{da} = \\Big(I - \\frac{\\partial T}{\\partial x}\\Big)^{-1} \\frac{\\partial T}{\\partial a}

    at ``x*``, computed with hodiff (the Jacobian ``dT/dx`` by ``hd.jacfwd``, shape ``x.shape + x.shape``, then
    a dense solve: meant for fixed points of moderate size). The rule is a custom JVP whose transpose gives
    reverse mode, so ``hd.grad``, ``hd.hessian``, ``hd.jacfwd``, nesting and Taylor mode all work. The derivative
    is exact at the returned ``x*``, which solves the equation only to ``tol``: choose ``tol`` accordingly.

    Parameters
    ----------
    f : callable
        ``f(a)`` returns the update function ``x -> x'``, written with numpy/hodiff operations.
    a : array_like
        The parameters (differentiable).
    x0 : array_like
        The starting point (no derivative flows through it: the fixed point does not depend on it).
    distance : callable
        ``distance(x_new, x) -> float`` on plain values.
    tol : float
        Stop when the distance falls below it.
    max_iter : int
        A ``RuntimeError`` is raised beyond this many iterations.

    Returns
    -------
    ndarray
        ``x*``, of the shape of ``x0``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.implicit import fixed_point
    >>> newton_sqrt = lambda a: lambda x: 0.5 * (x + a / x)
    >>> dist = lambda x, y: abs(x - y)
    >>> sqrt = lambda a: fixed_point(newton_sqrt, a, 1.0, dist, 1e-12)
    >>> float(sqrt(4.0)), float(hd.grad(sqrt)(4.0)), float(hd.grad(hd.grad(sqrt))(4.0))
    (2.0, 0.25, -0.03125)
    """
    if isinstance(a, (tuple, list, dict)):
        raise TypeError("fixed_point: a must be one array (or scalar); pack several parameters into one array, "
                        "e.g. np.concatenate([...]) or np.stack, and unpack them inside f")
    return _fixed_point_fn()(a, f, hd.stop_gradient(x0), distance, tol, max_iter)
