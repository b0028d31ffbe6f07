"""The machinery shared by ``hodiff.scipy.stats``: argument parsing as scipy does it, support and parameter masks,
frozen distributions, and the factory of the cdf primitives whose derivative is a density.

A distribution here is a standardized density (``_logpdf(z, *shapes)``, ``_cdf``, ...) written in hodiff operations;
the public methods add scipy's conventions around it: ``loc``/``scale``, broadcasting, ``-inf``/``0``/``1`` outside
the support, ``nan`` for invalid parameters. Masks (in support or not, valid parameters or not) are piecewise
constant, so they are computed with numpy on the base values; every value that carries a derivative goes through
hodiff's operations. Out-of-support points are replaced by a point inside the support before the density is
evaluated ("double where"), so the branch that is thrown away never puts ``inf * 0 = nan`` into a derivative.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import hodiff as hd

from .._special_table import _TAYLOR_RULES, UnsupportedDerivativeError, taylor_rule

__all__ = ["ContinuousDist", "DiscreteDist", "Frozen", "cdf_primitive", "count", "traced"]

_base = hd.stop_gradient   # the plain value under any box: for masks only
_BOXES = (hd.Tensor, hd.Dual, hd.Jet)   # the values hodiff's transforms trace


def asarg(x: Any) -> Any:
    """Lists and Python numbers as float arrays (as scipy's ``np.asarray``); hodiff values pass through."""
    if isinstance(x, (*_BOXES, np.ndarray)):
        return x
    x = np.asarray(x)
    return x.astype(float) if x.dtype.kind in "biu" else x


def finish(out: Any, bad: tuple, shape: tuple) -> Any:
    """Make ``out`` the full broadcast ``shape``, put ``nan`` where the mask of ``bad = (mask, args)`` holds, and
    return a plain 0-d result as a numpy scalar (as scipy does).

    Where the mask holds (invalid parameters, nan input) the value is ``nan`` and so is the derivative with respect
    to every traced argument in ``args``: the substituted safe parameters must not pass off their derivative (or
    the 0 that ``where`` gives the replaced ones) as the derivative at the point asked.
    """
    mask, args = bad
    if mask.any():
        out = hd.multiply(out, np.where(mask, np.nan, 1.0))
        nan_dir = np.where(mask, np.nan, 0.0)
        for a in args:
            if traced(a):
                # value 0 (so the sum is unchanged), derivative nan_dir: nan exactly where the value is nan
                finite = np.isfinite(np.asarray(_base(a)))
                a = replace(finite, a, 0.0)
                out = hd.add(out, hd.multiply(hd.subtract(a, _base(a)), nan_dir))
    if np.shape(_base(out)) != shape:
        out = hd.broadcast_to(out, shape)
    if type(out) is np.ndarray and out.ndim == 0:
        return out[()]
    return out


def replace(mask: np.ndarray, x: Any, safe: float) -> Any:
    """``x`` where ``mask`` holds, else the constant ``safe`` (skipped when ``mask`` is all true)."""
    if np.all(mask):
        return x
    return hd.where(mask, x, safe)


def quiet(method: Callable) -> Callable:
    """Run ``method`` without numpy's floating-point warnings: out-of-support and invalid-parameter entries compute
    ``log(0)``/``inf - inf`` on purpose before they are replaced (scipy is silent there too)."""
    def wrapped(*args, **kwds):
        with np.errstate(all="ignore"):
            return method(*args, **kwds)
    wrapped.__name__, wrapped.__qualname__, wrapped.__doc__ = method.__name__, method.__qualname__, method.__doc__
    return wrapped


class _NoDerivative:
    """A JVP/VJP rule standing for "no derivative in this argument": calling it raises (``unsupported`` marks it
    for the generated tests, as ``hodiff.scipy.special`` does)."""

    unsupported = True

    def __init__(self, msg: str):
        self.msg = msg

    def __call__(self, *args, **params):
        raise UnsupportedDerivativeError(self.msg)


_COUNT_MSG = ("{}: the integer argument {!r} has no derivative (the function jumps between integers); pass it as a "
              "plain array, or wrap it in hd.stop_gradient if it comes from a traced value")


def traced(v: Any) -> bool:
    """Whether ``v`` carries a derivative: a dual number or jet, or a tensor that requires grad."""
    return isinstance(v, (hd.Dual, hd.Jet)) or (isinstance(v, hd.Tensor) and v.requires_grad)


def count(k: Any, fname: str, argname: str) -> Any:
    """``k`` itself, for an integer argument (``k`` of a pmf, binom's ``n``): scipy's function is 0 between the
    integers, so no derivative exists, and a traced ``k`` raises :class:`hodiff.HodiffError` right away, naming
    ``fname`` and ``argname`` (rather than contributing a silent 0)."""
    if traced(k):
        raise hd.HodiffError(_COUNT_MSG.format(fname, argname))
    return k


_TAILS_MSG = ("{}: no derivative with respect to the shape parameter {!r} (the distribution function is a "
              "regularized incomplete beta/gamma function, whose derivative in it hodiff does not provide); "
              "differentiate with "
              "respect to the other arguments, passing {!r} as a plain array or through hd.stop_gradient")


def check_tail_shapes(dist: Any, method: str, shapes: list) -> None:
    """Refuse, naming the method, a traced shape parameter listed in ``dist.tail_constants``."""
    for n, v in zip(dist.shapes, shapes):
        if n in dist.tail_constants and traced(v):
            raise UnsupportedDerivativeError(_TAILS_MSG.format(f"{dist.name}.{method}", n, n))


def cdf_primitive(name: str, impl: Callable, density: Callable, shape_names: tuple[str, ...],
                  domain: Callable, public: str) -> Callable:
    """A primitive ``F(x, *shapes)`` for a cumulative distribution function whose derivative in ``x`` is a density.

    ``density(x, *shapes)`` must be written in hodiff operations: the JVP/VJP rule is ``seed * density(...)``, so
    the derivative of any order in ``x`` (and mixed ones through ``density``) comes out of the same composition.
    A derivative with respect to a shape parameter raises ``UnsupportedDerivativeError`` (a
    :class:`hodiff.HodiffError`) naming it and ``public`` (the user-facing methods). ``domain`` draws
    integer shapes, which marks them non-differentiable to the table tests.
    """
    def x_rule(s, ans, x, *shapes):
        return hd.multiply(s, density(x, *shapes))

    def shape_rule(i):
        return _NoDerivative(_TAILS_MSG.format(public, shape_names[i], shape_names[i]))

    rules = (x_rule,) + tuple(shape_rule(i) for i in range(len(shape_names)))
    prim = hd.Primitive(name, impl, rules, rules, elementwise=True,
                        cost=lambda ans, *a, **p: (60 * int(np.size(ans)), 8 * int(np.size(ans)) * (1 + len(a))),
                        domain=domain,
                        doc=f"Standardized cumulative distribution ``{name}(x, {', '.join(shape_names)})``.")
    _TAYLOR_RULES[name] = taylor_rule(prim)   # Taylor mode (hd.derivative) from the same rules

    def op(x, *shapes):
        return hd.bind(prim, x, *shapes)
    op.__name__ = name
    op.prim = prim  # type: ignore[attr-defined]  # the primitive behind the function, for tests and tables
    return op


class _Dist:
    """Argument handling shared by continuous and discrete distributions."""

    name: str = ""
    shapes: tuple[str, ...] = ()
    _extra: tuple[str, ...] = ("loc", "scale")
    tail_constants: tuple[str, ...] = ()   # shapes the distribution functions cannot differentiate in
    _defaults: dict = {"loc": 0.0, "scale": 1.0}

    def _argcheck(self, *shapes):
        """Valid shape parameters (on base values), as a boolean array."""
        return np.ones(np.broadcast_shapes(*[np.shape(s) for s in shapes]), dtype=bool)

    def _parse(self, method: str, args: tuple, kwds: dict) -> list:
        names = self.shapes + self._extra
        if len(args) > len(names):
            raise TypeError(f"{self.name}.{method}() takes at most {len(names) + 1} positional arguments "
                            f"(x, {', '.join(names)}), got {len(args) + 1}")
        vals = dict(zip(names, args))
        for key, v in kwds.items():
            if key not in names:
                raise TypeError(f"{self.name}.{method}() got an unexpected keyword argument {key!r}")
            if key in vals:
                raise TypeError(f"{self.name}.{method}() got multiple values for argument {key!r}")
            vals[key] = v
        missing = [n for n in self.shapes if n not in vals]
        if missing:
            raise TypeError(f"{self.name}.{method}() missing required argument(s): {', '.join(map(repr, missing))}")
        return [asarg(vals.get(n, self._defaults.get(n))) for n in names]

    def __call__(self, *args: Any, **kwds: Any) -> Frozen:
        """The distribution with its parameters fixed: ``dist(*params).logpdf(x) == dist.logpdf(x, *params)``."""
        self._parse("__call__", args, kwds)
        return Frozen(self, args, kwds)

    def __repr__(self):
        return f"<hodiff.scipy.stats.{self.name}>"


class ContinuousDist(_Dist):
    """A continuous distribution with scipy's ``loc``/``scale`` conventions around a standardized density.

    Subclasses give ``_logpdf(z, *shapes)`` and ``_cdf``; ``_logcdf``, ``_sf`` and ``_logsf`` default to the
    logarithm/complement of those and are overridden where a stable form exists. ``support`` is the standardized
    support ``(a, b)``; ``safe_z`` a point inside it and ``safe_shapes`` valid shapes, used in place of invalid ones.
    """

    support: tuple[float, float] = (-np.inf, np.inf)
    safe_z: float = 0.0
    safe_shapes: tuple[float, ...] = ()
    open_support: bool = False   # the density is 0 at the ends of the support (lognorm at 0)
    # given by each subclass (declared here for type checkers; no default)
    _logpdf: Callable[..., Any]
    _cdf: Callable[..., Any]

    def _prepare(self, method, x, args, kwds):
        x, *rest = [asarg(x)] + self._parse(method, args, kwds)
        shapes, loc, scale = rest[:-2], rest[-2], rest[-1]
        raw = [x, *shapes, loc, scale]
        sb = [_base(s) for s in shapes]
        good = self._argcheck(*sb) & (_base(scale) > 0)
        if not np.all(good):
            shapes = [hd.where(good, s, v) for s, v in zip(shapes, self.safe_shapes)]
            scale = hd.where(good, scale, 1.0)
        z = hd.divide(hd.subtract(x, loc), scale)
        zb = np.asarray(_base(z))
        full = np.broadcast_shapes(zb.shape, *[np.shape(s) for s in sb], np.shape(good))
        return z, zb, shapes, scale, (~good | np.isnan(zb), raw), full

    @quiet
    def logpdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the probability density at ``x``, ``-inf`` outside the support; see the class docstring."""
        z, zb, shapes, scale, bad, full = self._prepare("logpdf", x, args, kwds)
        a, b = self.support
        inside = (zb > a) & (zb < b) if self.open_support else (zb >= a) & (zb <= b)
        val = hd.subtract(self._logpdf(replace(inside, z, self.safe_z), *shapes), hd.log(scale))
        return finish(self._outside(inside, val, -np.inf), bad, full)

    @quiet
    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Probability density at ``x`` (``exp(logpdf)``), 0 outside the support."""
        return hd.exp(self.logpdf(x, *args, **kwds))

    def _tails(self, method, fn, x, args, kwds, below, above):
        z, zb, shapes, scale, bad, full = self._prepare(method, x, args, kwds)
        check_tail_shapes(self, method, shapes)
        a, b = self.support
        inner = (zb > a) & (zb < b)
        val = fn(replace(inner, z, self.safe_z), *shapes)
        if not np.all(inner):
            val = hd.where(inner, val, np.where(zb >= b, above, below))
        return finish(val, bad, full)

    @quiet
    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Cumulative distribution function P(X <= x)."""
        return self._tails("cdf", self._cdf, x, args, kwds, 0.0, 1.0)

    @quiet
    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the cumulative distribution function."""
        return self._tails("logcdf", self._logcdf, x, args, kwds, -np.inf, 0.0)

    @quiet
    def sf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Survival function P(X > x) = 1 - cdf."""
        return self._tails("sf", self._sf, x, args, kwds, 1.0, 0.0)

    @quiet
    def logsf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the survival function."""
        return self._tails("logsf", self._logsf, x, args, kwds, 0.0, -np.inf)

    @staticmethod
    def _outside(inside, val, fill):
        return val if np.all(inside) else hd.where(inside, val, fill)

    def _logcdf(self, z, *shapes):
        return _log_of_smaller(self._cdf(z, *shapes), lambda: self._sf(z, *shapes))

    def _sf(self, z, *shapes):
        return hd.subtract(1.0, self._cdf(z, *shapes))

    def _logsf(self, z, *shapes):
        return _log_of_smaller(self._sf(z, *shapes), lambda: self._cdf(z, *shapes))


def _log_of_smaller(p, other):
    """``log p`` where ``p < 1/2``, else ``log1p(-q)`` with ``q = 1 - p`` computed directly by ``other()`` (no
    cancellation near 1). Each branch sees 1/2 where it is not used, so neither puts ``inf * 0`` in a derivative."""
    small = np.asarray(_base(p)) < 0.5
    if np.all(small):
        return hd.log(p)
    q = other()
    return hd.where(small, hd.log(replace(small, p, 0.5)), hd.log1p(hd.negative(replace(~small, q, 0.5))))


class DiscreteDist(_Dist):
    """A discrete distribution on the integers with scipy's ``loc`` convention.

    Subclasses give ``_logpmf(k, *shapes)``, ``_cdf(k, *shapes)`` and ``_sf`` for integer ``k`` inside the support,
    and ``_support(*shapes)`` on base values. Counts among the shapes (binom's ``n``) are listed in ``counts``.
    """

    _extra = ("loc",)
    _defaults = {"loc": 0}
    counts: tuple[str, ...] = ()
    safe_shapes: tuple[float, ...] = ()
    # given by each subclass (declared here for type checkers; no default)
    _logpmf: Callable[..., Any]
    _cdf: Callable[..., Any]
    _sf: Callable[..., Any]

    def _support(self, *shapes):
        return 0, np.inf

    def _prepare(self, method, k, args, kwds):
        k, *rest = [asarg(k)] + self._parse(method, args, kwds)
        shapes, loc = rest[:-1], rest[-1]
        fname = f"{self.name}.{method}"
        kb = np.asarray(_base(count(k, fname, "k")) - _base(count(loc, fname, "loc")), dtype=float)
        shapes = raw = [count(s, fname, n) if n in self.counts else s for s, n in zip(shapes, self.shapes)]
        sb = [_base(s) for s in shapes]
        good = self._argcheck(*sb)
        if not np.all(good):
            shapes = [hd.where(good, s, v) for s, v in zip(shapes, self.safe_shapes)]
            sb = [_base(s) for s in shapes]
        full = np.broadcast_shapes(kb.shape, *[np.shape(s) for s in sb], np.shape(good))
        a, b = self._support(*sb)
        return kb, shapes, (~good | np.isnan(kb), raw), full, a, b

    @quiet
    def logpmf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the probability mass at ``k``, ``-inf`` off the support and between integers."""
        kb, shapes, bad, full, a, b = self._prepare("logpmf", k, args, kwds)
        inside = (kb >= a) & (kb <= b) & (np.floor(kb) == kb)
        val = self._logpmf(_safe_k(inside, kb, a), *shapes)
        val = ContinuousDist._outside(inside, val, -np.inf)
        return finish(val, bad, full)

    @quiet
    def pmf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Probability mass at ``k`` (``exp(logpmf)``)."""
        return hd.exp(self.logpmf(k, *args, **kwds))

    def _tails(self, method, fn, k, args, kwds, below, above):
        kb, shapes, bad, full, a, b = self._prepare(method, k, args, kwds)
        check_tail_shapes(self, method, shapes)
        kb = np.floor(kb)
        inner = (kb >= a) & (kb < b)
        val = fn(_safe_k(inner, kb, a), *shapes)
        if not np.all(inner):
            val = hd.where(inner, val, np.where(kb >= b, above, below))
        return finish(val, bad, full)

    @quiet
    def cdf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Cumulative distribution function P(X <= k)."""
        return self._tails("cdf", self._cdf, k, args, kwds, 0.0, 1.0)

    @quiet
    def logcdf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the cumulative distribution function."""
        return self._tails("logcdf", self._logcdf, k, args, kwds, -np.inf, 0.0)

    @quiet
    def sf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Survival function P(X > k)."""
        return self._tails("sf", self._sf, k, args, kwds, 1.0, 0.0)

    @quiet
    def logsf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the survival function."""
        return self._tails("logsf", self._logsf, k, args, kwds, 0.0, -np.inf)

    def _logcdf(self, k, *shapes):
        return _log_of_smaller(self._cdf(k, *shapes), lambda: self._sf(k, *shapes))

    def _logsf(self, k, *shapes):
        return _log_of_smaller(self._sf(k, *shapes), lambda: self._cdf(k, *shapes))


def _safe_k(inside, k, a):
    """``k`` where ``inside``, else the lowest point of the support (or 0): plain values."""
    return np.where(inside, k, np.where(np.isfinite(a), a, 0.0))


_METHODS = frozenset({"logpdf", "pdf", "logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"})


class Frozen:
    """A distribution with fixed parameters, as returned by ``dist(*args, **kwds)`` (scipy's frozen form).

    Examples
    --------
    >>> import hodiff.scipy.stats as st
    >>> float(st.norm(1.0, 2.0).logpdf(1.0))   # doctest: +ELLIPSIS
    -1.612...
    """

    def __init__(self, dist: _Dist, args: tuple, kwds: dict):
        self.dist, self.args, self.kwds = dist, args, kwds

    def __getattr__(self, method: str) -> Callable:
        if method not in _METHODS or not hasattr(self.dist, method):
            raise AttributeError(f"frozen {self.dist.name} has no method {method!r}")
        fn = getattr(self.dist, method)
        return lambda x: fn(x, *self.args, **self.kwds)

    def __repr__(self):
        return f"<frozen {self.dist.name}{self.args}{self.kwds or ''}>"
