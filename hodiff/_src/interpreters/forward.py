"""Forward mode: dual numbers and the interpreter that pushes tangents through the primitive table.

A :class:`Dual` at a level carries a primal value and its tangent; with a batch size ``B`` the tangent has shape
``(B,) + primal.shape``: ``B`` directions at once, which is how a whole Hessian comes out of one vectorized pass.
:class:`ForwardTrace.process` applies the primitive to the primals (through ``bind``, so lower levels act) and each
argument's JVP rule to its tangent; symbolic zeros (no tangent) are skipped.
"""
from __future__ import annotations

import numpy as np

from .. import table as P
from ..numpy.arrayops import ArrayOps
from ..core.engine import PLAIN, Box, Trace, bind_below, new_level, shape_of
from ..core.events import LEVEL_OPENED, emit

__all__ = ["Dual", "ForwardTrace"]


class ForwardTrace(Trace):
    """The forward-mode interpreter at one level; ``batch`` is ``None`` or the number of tangents carried."""

    __slots__ = ("batch", "lead")

    def __init__(self, batch=None, level=None):
        super().__init__(new_level() if level is None else level)
        self.batch = batch
        self.lead = () if batch is None else (int(batch),)
        if LEVEL_OPENED:
            emit(LEVEL_OPENED, self)

    def process(self, prim, args, params):
        primals = list(args)
        duals = []
        below = None       # the trace of the boxes one level down, if there are any
        many = False       # boxes of more than one trace down there: bind sorts them out
        i = 0
        for a in args:
            if type(a) is Dual and a._trace is self:
                a = primals[i] = a.primal
                duals.append(i)
            if type(a) not in PLAIN and isinstance(a, Box):
                if below is None:
                    below = a._trace
                elif a._trace is not below:
                    many = True
            i += 1  # noqa: SIM113 - cheaper than enumerate on the hot path
        ans = bind_below(prim, primals, params, below, many)
        if prim.jvp_joint is not None:
            tangents = [args[i].tangent if i in duals else None for i in range(len(args))]
            return _dual(ans, prim.jvp_joint(tangents, ans, *primals, **params), self)
        tangent = None
        rules = prim.jvp
        lead = self.lead
        align = lead and prim.elementwise
        ans_shape = getattr(ans, "shape", ())
        for i in duals:
            rule = rules[i]
            if rule is None:
                raise TypeError(f"{prim.name} is not differentiable with respect to its argument {i}")
            t = args[i].tangent
            if align:
                t = P.align_tangent(t, len(getattr(primals[i], "shape", ())), len(ans_shape))
            c = rule(t, ans, *primals, **params) if params else rule(t, ans, *primals)
            if c is not None:
                tangent = c if tangent is None else P.add(tangent, c)
        if tangent is None:
            return ans
        want = lead + ans_shape if lead else ans_shape
        if getattr(tangent, "shape", ()) != want:
            tangent = P.broadcast_to(tangent, want)
        d = _new(Dual)     # _dual written out: every operation on a dual number ends here
        d.primal = ans
        d.tangent = tangent
        d._trace = self
        return d


_new = object.__new__


def _dual(primal, tangent, trace):
    d = _new(Dual)
    d.primal = primal
    d.tangent = tangent
    d._trace = trace
    return d


class Dual(ArrayOps, Box):
    """A dual number: a primal value and its tangent (or a batch of tangents along a leading axis).

    Parameters
    ----------
    primal : array_like or box
        The value.
    tangent : array_like or box
        Its derivative along one direction, of the primal's shape; or, for a batched dual, ``B`` directions
        stacked along a leading axis, shape ``(B,) + primal.shape``.
    trace : ForwardTrace, optional
        The level this dual belongs to. Duals made by hand without one get a fresh level of their own
        (unbatched unless ``batched=True``); transforms such as :func:`hodiff.jvp` make them for you.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> d = hd.Dual(np.float64(0.5), np.float64(1.0))
    >>> y = np.sin(d) * d
    >>> round(float(y.tangent), 12)  # d/dx x sin(x) at 0.5 = sin(0.5) + 0.5 cos(0.5)
    0.918216819549
    """

    __slots__ = ("_trace", "primal", "tangent")

    def __init__(self, primal, tangent, trace=None, *, batched=False):
        if trace is None:
            primal = _as_float(primal)
            tangent = np.asarray(tangent, dtype=np.result_type(primal, np.float32))
            want = shape_of(primal)
            got = tangent.shape
            if batched:
                if got[1:] != want:
                    raise ValueError(f"a batched tangent must have shape (B,) + {want}; got {got}")
                trace = ForwardTrace(batch=got[0])
            else:
                if got != want:
                    hint = (f"; to pass a batch of {got[0]} tangents at once, use Dual(x, V, batched=True)"
                            if got[1:] == tuple(want) else "")
                    raise ValueError(f"tangent shape {got} does not match primal shape {want}{hint}")
                trace = ForwardTrace()
        self.primal = primal
        self.tangent = tangent
        self._trace = trace

    def _base(self):
        return self.primal

    def __repr__(self):
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"


def _as_float(x):
    if isinstance(x, Box):
        return x
    a = np.asarray(x)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    return a[()] if a.ndim == 0 else a
