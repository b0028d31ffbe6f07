"""Taylor mode as transforms: ``derivative`` (every derivative of a scalar function up to an order in one pass)
and ``taylor`` (the Taylor coefficients of ``t -> f(x + t v)``).

Over the Taylor interpreter (``interpreters/taylor.py``: truncated polynomials pushed through the table's Taylor
rules): each transform opens a Taylor level, runs ``f`` on a :class:`~hodiff.Jet`, and reads the coefficients.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.engine import dtype_of, Box, opened, shape_of
from ..interpreters.taylor import Jet, TaylorTrace
from ..numpy.shape import stack
from .. import table as P
from .boundary import as_input, as_output, float_zeros_like, output_leaves

__all__ = ["derivative", "taylor"]


def _coeff(out, trace, k):
    """The k-th coefficient of a function's output (zeros when the output does not depend on the input)."""
    if type(out) is Jet and out._trace is trace:
        c = out.coeffs[k]
        if c is not None:
            return c
        base = out.coeffs[0]
    else:
        if k == 0:
            return out
        base = out
    return float_zeros_like(base)


#: The highest order of :func:`derivative`: the ``k``-th derivative is ``k!`` times the ``k``-th Taylor coefficient,
#: and ``171!`` is beyond float64 (about 1.8e308).
MAX_DERIVATIVE_ORDER = 170

#: The highest order of :func:`taylor`: the Taylor rules cost about ``order**2`` operations per primitive.
MAX_TAYLOR_ORDER = 1000


def _check_order(order: Any, what: str, cap: int, why: str) -> int:
    """``order`` as an int after checking it is a non-negative integer no larger than ``cap``."""
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"{what}: the order must be a non-negative int; got {order!r} of type "
                        f"{type(order).__name__}" + (". Pass an int, e.g. int(order)"
                                                     if isinstance(order, (float, np.floating)) else ""))
    if order < 0:
        raise ValueError(f"{what}: the order must be a non-negative int; got {order}")
    if order > cap:
        raise ValueError(f"{what}: order {order} is above {cap}, the highest supported: {why}")
    return int(order)


_DERIVATIVE_CAP = (f"the k-th derivative is k! times the k-th Taylor coefficient, and k! exceeds the float64 range "
                   f"for k > {MAX_DERIVATIVE_ORDER} (the coefficients themselves underflow there for most functions). "
                   "hd.taylor(f, x, v, order) gives the Taylor coefficients (the derivatives divided by k!) to higher "
                   "orders.")
_TAYLOR_CAP = ("Taylor mode costs about order**2 operations per primitive and keeps order + 1 coefficient arrays of "
               "every intermediate value; beyond this the coefficients of most functions underflow anyway.")


def _check_real_direction(t: Any, p: Any) -> None:
    """Refuse a complex direction at a real point, which a cast to the point's dtype would silently make real."""
    tk = dtype_of(t).kind
    pk = dtype_of(p).kind
    if tk == "c" and pk != "c":
        raise TypeError("taylor: the direction is complex but the point is real; complex directions are not "
                        "supported yet (casting it to the point's real dtype would drop the imaginary part and give "
                        "a wrong result). Use a real direction, or write f over the real and imaginary parts as "
                        "separate real inputs.")
    if tk not in "fciub":
        raise TypeError(f"taylor: the direction must be numeric; got dtype {dtype_of(t)}")


def derivative(f: Callable[..., Any], order: int = 1) -> Callable[..., Any]:
    """The ``order``-th derivative of a scalar-to-scalar (or elementwise) function, by Taylor mode.

    One pass of ``f`` on the truncated Taylor polynomial ``x + t`` gives every derivative up to ``order`` at once;
    the ``k``-th derivative is ``k!`` times the ``t^k`` coefficient. The cost grows like ``order**2`` times one
    evaluation of ``f`` (nesting :func:`hodiff.grad` ``k`` times grows like ``2**k``).

    Parameters
    ----------
    f : callable
        A function of one argument. For an array ``x`` it must be elementwise (output ``i`` depending only on
        ``x[i]``), e.g. a numpy expression of ``x``; the result is then the elementwise derivative.
    order : int
        The order ``k`` of the derivative (0 gives ``f`` itself), at most :data:`MAX_DERIVATIVE_ORDER` (170: ``k!``
        must fit in float64). A negative, non-integer or larger order raises an error when ``derivative`` is
        called.

    Returns
    -------
    callable
        ``x -> f^(k)(x)``, same shape as ``f(x)``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> d3 = hd.derivative(np.sin, 3)
    >>> float(d3(0.0))   # sin''' = -cos
    -1.0
    >>> hd.derivative(lambda x: x ** 4, 2)(np.array([1.0, 2.0]))   # 12 x^2
    array([12., 48.])
    """
    order = _check_order(order, "derivative", MAX_DERIVATIVE_ORDER, _DERIVATIVE_CAP)

    def kth(x: Any) -> Any:
        x = as_input(x, "derivative")
        if order == 0:
            out = f(x)
            output_leaves(out, "derivative", tree_ok=False)
            return as_output(out)
        trace = TaylorTrace(order)
        with opened(trace):
            one = np.ones(tuple(shape_of(x)), dtype=dtype_of(x))
            out = f(Jet([x, one[()] if one.ndim == 0 else one] + [None] * (order - 1), trace))
        output_leaves(out, "derivative", tree_ok=False)   # None, strings, dicts...: refused, never a zero
        c = _coeff(out, trace, order)
        return as_output(P.multiply(c, float(math.factorial(order))))

    kth.__name__ = f"derivative_{order}_of_{getattr(f, '__name__', 'f')}"
    kth.__doc__ = f"The derivative of order {order} of {getattr(f, '__name__', 'f')} (Taylor mode)."
    return kth


def taylor(f: Callable[..., Any], x: Any, v: Any, order: int = 2) -> np.ndarray:
    """Taylor coefficients ``c_0..c_k`` of ``t -> f(x + t v)``: ``c_j`` is the ``j``-th directional derivative
    of ``f`` at ``x`` along ``v`` divided by ``j!``.

    Parameters
    ----------
    f : callable
        The function; called with one argument, or with several when ``x`` and ``v`` are tuples.
    x, v : array_like or tuple
        The point and the direction (same shapes); tuples of them for a function of several arguments.
    order : int
        The highest coefficient ``k``, at most :data:`MAX_TAYLOR_ORDER` (1000).

    Returns
    -------
    ndarray
        Shape ``(k + 1,) + f(x).shape``; entry ``j`` is ``c_j``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.taylor(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0]), order=3)
    array([9., 3., 3., 1.])
    """
    order = _check_order(order, "taylor", MAX_TAYLOR_ORDER, _TAYLOR_CAP)
    multi = isinstance(x, (tuple, list))
    xs = tuple(x) if multi else (x,)
    vs = tuple(v) if multi else (v,)
    if len(xs) != len(vs):
        raise ValueError(f"taylor got {len(xs)} points but {len(vs)} directions")
    trace = TaylorTrace(order)
    with opened(trace):
        jets = []
        for p, t in zip(xs, vs):
            p = as_input(p, "taylor")
            _check_real_direction(t, p)
            if not isinstance(t, Box):
                t = np.asarray(t, dtype=np.result_type(dtype_of(p), np.float32))
                t = t[()] if t.ndim == 0 else t
            if tuple(shape_of(t)) != tuple(shape_of(p)):
                raise ValueError(f"taylor: direction shape {tuple(shape_of(t))} does not match point shape "
                                 f"{tuple(shape_of(p))}")
            jets.append(Jet([p, t] + [None] * (order - 1), trace) if order else p)
        out = f(*jets)
    output_leaves(out, "taylor", tree_ok=False)
    cs = [_coeff(out, trace, k) for k in range(order + 1)]
    return as_output(stack(cs, axis=0))
