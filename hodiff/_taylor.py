"""Univariate Taylor mode: truncated Taylor polynomials pushed through the primitive table.

A :class:`Jet` at a :class:`TaylorTrace` level carries the coefficients ``c_0, ..., c_K`` of a curve
``x(t) = c_0 + c_1 t + ... + c_K t^K`` (``c_0`` is the primal). :meth:`TaylorTrace.process` looks up the primitive's
Taylor rule (``hodiff/_taylor_rules.py``), which computes the output coefficients from the input coefficients in
``O(K^2)`` operations by the standard recurrences (Griewank & Walther, *Evaluating Derivatives*, ch. 13). The rules
are written in hodiff's own operations, so coefficients may themselves be boxes of lower levels: ``hd.grad`` of
``hd.derivative`` works, and a Jet nests with every other transform through ``bind`` like a :class:`~hodiff.Dual`.

Higher coefficients that are known to be zero are kept as ``None`` (symbolic zeros): the curve ``x + t`` has one
nonzero higher coefficient, and constants have none.
"""
from __future__ import annotations

import math

import numpy as np

from . import _prims as P
from ._arrayops import ArrayOps
from ._core import Box, Trace, new_level, shape_of
from ._taylor_rules import TAYLOR_RULES

__all__ = ["Jet", "TaylorTrace", "derivative", "taylor"]


class TaylorTrace(Trace):
    """The Taylor-mode interpreter at one level, propagating polynomials truncated after ``t**order``."""

    __slots__ = ("order",)

    def __init__(self, order, level=None):
        super().__init__(new_level() if level is None else level)
        self.order = int(order)

    def process(self, prim, args, params):
        rule = TAYLOR_RULES.get(prim.name)
        if rule is None:
            raise NotImplementedError(
                f"Taylor mode (hodiff.derivative / hodiff.taylor) has no rule for the primitive {prim.name!r}; "
                "use nested hodiff.grad / hodiff.jvp for functions that need it")
        K = self.order
        primals = list(args)
        series = []
        for i, a in enumerate(args):
            if type(a) is Jet and a._trace is self:
                primals[i] = a.coeffs[0]
                series.append(a.coeffs)
            else:
                series.append(None)
        for i, s in enumerate(series):
            if s is None:
                series[i] = [primals[i]] + [None] * K
        ans = prim.bind(*primals, **params)
        higher = rule(ans, series, primals, params, K)
        if all(c is None for c in higher):
            return ans
        shape = tuple(shape_of(ans))
        coeffs = [ans]
        for c in higher:
            if c is not None and tuple(shape_of(c)) != shape:
                c = P.broadcast_to(c, shape)
            coeffs.append(c)
        return Jet(coeffs, self)


class Jet(ArrayOps, Box):
    """A truncated Taylor polynomial ``c_0 + c_1 t + ... + c_K t^K`` with array coefficients.

    Parameters
    ----------
    coeffs : sequence
        ``K + 1`` coefficients of one shape (``c_0`` is the primal value); ``None`` stands for a zero coefficient.
    trace : TaylorTrace, optional
        The level the jet belongs to; a fresh one of order ``K`` when omitted. :func:`hodiff.derivative` and
        :func:`hodiff.taylor` make jets for you.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff._taylor import Jet
    >>> y = np.exp(Jet([np.float64(0.0), np.float64(1.0), None, None]))
    >>> [float(c) for c in y.coeffs]   # exp(t) = 1 + t + t^2/2 + t^3/6
    [1.0, 1.0, 0.5, 0.16666666666666666]
    """

    __slots__ = ("_trace", "coeffs")

    def __init__(self, coeffs, trace=None):
        coeffs = list(coeffs)
        if trace is None:
            trace = TaylorTrace(len(coeffs) - 1)
        if len(coeffs) != trace.order + 1:
            raise ValueError(f"a jet of order {trace.order} needs {trace.order + 1} coefficients, got {len(coeffs)}")
        self.coeffs = coeffs
        self._trace = trace

    @property
    def primal(self):
        return self.coeffs[0]

    def _base(self):
        return self.coeffs[0]

    def __repr__(self):
        return f"Jet(coeffs={self.coeffs!r})"


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
    from ._functional import _zeros_like
    return _zeros_like(base)


def _check_order(order):
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order!r}")
    return int(order)


def derivative(f, order=1):
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
        The order ``k`` of the derivative (0 gives ``f`` itself).

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
    order = _check_order(order)

    def kth(x):
        from ._functional import _out, _prep
        x = _prep(x, "derivative")
        if order == 0:
            return _out(f(x))
        trace = TaylorTrace(order)
        try:
            from ._core import base_value
            b = np.asarray(base_value(x))
            one = np.ones(b.shape, dtype=b.dtype)
            out = f(Jet([x, one[()] if one.ndim == 0 else one] + [None] * (order - 1), trace))
        finally:
            trace.alive = False
        c = _coeff(out, trace, order)
        return _out(P.multiply(c, float(math.factorial(order))))

    kth.__name__ = f"derivative_{order}_of_{getattr(f, '__name__', 'f')}"
    kth.__doc__ = f"The derivative of order {order} of {getattr(f, '__name__', 'f')} (Taylor mode)."
    return kth


def taylor(f, x, v, order=2):
    """Taylor coefficients ``c_0..c_k`` of ``t -> f(x + t v)``: ``c_j`` is the ``j``-th directional derivative
    of ``f`` at ``x`` along ``v`` divided by ``j!``.

    Parameters
    ----------
    f : callable
        The function; called with one argument, or with several when ``x`` and ``v`` are tuples.
    x, v : array_like or tuple
        The point and the direction (same shapes); tuples of them for a function of several arguments.
    order : int
        The highest coefficient ``k``.

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
    from ._core import base_value
    from ._functional import _out, _prep
    from ._shape import stack
    order = _check_order(order)
    multi = isinstance(x, (tuple, list))
    xs = tuple(x) if multi else (x,)
    vs = tuple(v) if multi else (v,)
    if len(xs) != len(vs):
        raise ValueError(f"taylor got {len(xs)} points but {len(vs)} directions")
    trace = TaylorTrace(order)
    try:
        jets = []
        for p, t in zip(xs, vs):
            p = _prep(p, "taylor")
            if not isinstance(t, Box):
                t = np.asarray(t, dtype=np.result_type(base_value(p), np.float32))
                t = t[()] if t.ndim == 0 else t
            if tuple(shape_of(t)) != tuple(shape_of(p)):
                raise ValueError(f"taylor: direction shape {tuple(shape_of(t))} does not match point shape "
                                 f"{tuple(shape_of(p))}")
            jets.append(Jet([p, t] + [None] * (order - 1), trace) if order else p)
        out = f(*jets)
    finally:
        trace.alive = False
    cs = [_coeff(out, trace, k) for k in range(order + 1)]
    return _out(stack(cs, axis=0))
