"""Univariate Taylor mode: truncated Taylor polynomials pushed through the primitive table.

A :class:`Jet` at a :class:`TaylorTrace` level carries the coefficients ``c_0, ..., c_K`` of a curve
``x(t) = c_0 + c_1 t + ... + c_K t^K`` (``c_0`` is the primal). :meth:`TaylorTrace.process` looks up the primitive's
Taylor rule (``_src/table/taylor/``), which computes the output coefficients from the input coefficients in
``O(K^2)`` operations by the standard recurrences (Griewank & Walther, *Evaluating Derivatives*, ch. 13). The rules
are written in hodiff's own operations, so coefficients may themselves be boxes of lower levels: ``hd.grad`` of
``hd.derivative`` works, and a Jet nests with every other transform through ``bind`` like a :class:`~hodiff.Dual`.

Higher coefficients that are known to be zero are kept as ``None`` (symbolic zeros): the curve ``x + t`` has one
nonzero higher coefficient, and constants have none.
"""
from __future__ import annotations

from .. import table as P
from ..numpy.arrayops import ArrayOps
from ..core.engine import Box, Trace, new_level, shape_of
from ..table.taylor import TAYLOR_RULES

__all__ = ["Jet", "TaylorTrace"]


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
