"""Custom derivative rules: ``custom_jvp``, ``custom_vjp`` and ``primitive``, public and differentiable to any order.

This module sits on top of the engine, next to the transforms: a custom function becomes one more entry of the
primitive table (``hd.PRIMITIVES``), applied through ``hd.bind`` like ``sin`` or ``matmul``, so every interpreter
(forward duals, the reverse tape, Taylor mode, the tensor API) treats it as it treats the built-in operations. Its
rules run on hodiff values, so they are differentiated again: second and third derivatives come from the same
composition, not from rules written by hand.

One rule is enough for both modes:

* a JVP rule is linear in the tangent, so its transpose (the VJP) is one reverse pass over the rule with respect to
  the tangent, at a zero tangent, seeded with the cotangent;
* a VJP rule is linear in the cotangent, so its transpose (the JVP) is the gradient of ``g -> <bwd(g), t>``:
  differentiating the cotangent map in the direction ``t`` gives ``J t``.

Both derived rules are themselves hodiff computations, so they nest like the rules they come from.
"""
from __future__ import annotations

import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np

import hodiff as hd
from ._src.core.engine import opened

from ._src.transforms.rulecheck import RuleCheckReport, check_rules

__all__ = ["CustomFunction", "RuleCheckReport", "check_rules", "custom_jvp", "custom_vjp", "primitive"]

# Tables and classes of the engine that are not public names, reached through the modules that define the public
# ones, so that this file does not depend on where the engine's private modules live.


@functools.cache
def _engine(public: str, name: str):
    return getattr(sys.modules[getattr(hd, public).__module__], name)


def _is_box(x) -> bool:
    return isinstance(x, _engine("Primitive", "Box"))


def _shape(x) -> tuple:
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else np.shape(x)


def _zeros_for(x):
    """A zero tangent for the value ``x`` (float64 unless ``x`` is already floating)."""
    b = np.asarray(hd.stop_gradient(x))
    return np.zeros(b.shape, dtype=b.dtype if b.dtype.kind in "fc" else np.float64)[()]


def _is_float(x) -> bool:
    return np.asarray(hd.stop_gradient(x)).dtype.kind in "fc"


def _merge(diff, static):
    """The full argument list from the differentiable arguments and ``static = ((position, value), ...)``."""
    out = list(diff)
    for i, v in static:   # ascending positions: each insert lands where it belongs
        out.insert(i, v)
    return out


class CustomFunction:
    """A function with derivative rules of its own, callable like the function it wraps.

    Made by :func:`custom_jvp`, :func:`custom_vjp` or :func:`primitive`; see those for the rule conventions.
    Internally it keeps the rules in *table form*:

    * ``jvp(primals, tangents, out) -> tangent_out``, where ``primals`` holds every argument (the non-differentiable
      ones included), ``tangents`` one tangent per argument (zeros where none was given, ``None`` at the
      non-differentiable positions) and ``out`` the function's value;
    * ``vjp(primals, out, g) -> cotangents``, one per argument (``None`` for a zero or a non-differentiable one).

    Attributes
    ----------
    fun : callable
        The wrapped function (its value is what the custom function returns).
    name : str
        The name of its entry in ``hd.PRIMITIVES`` (the entry is made on the first call that carries a derivative).
    nondiff_argnums : tuple of int
        Positions of the arguments passed through as constants (functions, options, integers).
    """

    def __init__(self, fun: Callable, *, name: str | None = None, nondiff_argnums: Sequence[int] = (),
                 jvp: Callable | None = None, vjp: Callable | None = None, doc: str | None = None):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.name = name or f"{getattr(fun, '__module__', None) or 'custom'}.{getattr(fun, '__qualname__', 'f')}"
        if any(int(i) < 0 for i in nondiff_argnums):
            raise ValueError("nondiff_argnums must be non-negative positions")
        self.nondiff_argnums = tuple(sorted({int(i) for i in nondiff_argnums}))
        self._jvp = jvp
        self._vjp = vjp
        self._prim: hd.Primitive | None = None   # declared on first call
        self._memo = None
        self._doc = doc or getattr(fun, "__doc__", None) or ""
        try:
            self._sig: inspect.Signature | None = inspect.signature(fun)
        except (TypeError, ValueError):
            self._sig = None

    def __repr__(self) -> str:
        rules = "+".join(k for k, r in (("jvp", self._jvp), ("vjp", self._vjp)) if r is not None) or "no rules"
        return f"<custom function {self.name} ({rules})>"

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:   # usable as a method
        return self if obj is None else functools.partial(self, obj)

    # -- calling ---------------------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if self._sig is None:
                raise TypeError(f"{self.name}: pass the arguments positionally (its signature is unknown)")
            bound = self._sig.bind(*args, **kwargs)
            bound.apply_defaults()
            if bound.kwargs:
                raise TypeError(f"{self.name}: keyword-only arguments are not supported by custom functions; "
                                "make them positional (and list them in nondiff_argnums if they are options)")
            args = bound.args
        diff, static = [], []
        for i, a in enumerate(args):
            if i in self.nondiff_argnums:
                if _is_box(a):
                    raise TypeError(
                        f"{self.name}: argument {i} is declared non-differentiable (nondiff_argnums) but carries a "
                        "derivative. Remove it from nondiff_argnums, or pass hd.stop_gradient(value) to drop "
                        "its derivative on purpose.")
                static.append((i, a))
            else:
                diff.append(a)
        if not any(_is_box(a) for a in diff):   # no derivative asked: the function alone (closures checked too)
            return _impl(*diff, fn=self, static=tuple(static))
        if self._jvp is None and self._vjp is None:
            raise hd.HodiffError(f"{self.name} has no derivative rule yet: define one with .defjvp(rule) or "
                                 ".defvjp(fwd, bwd) before differentiating it")
        prim = self._prim if self._prim is not None else self._declare(warn=False)
        return hd.bind(prim, *diff, fn=self, static=tuple(static))

    def _declare(self, warn: bool):
        """Make (or replace) this function's entry of the primitive table."""
        table = hd.PRIMITIVES
        old = table.get(self.name)
        if old is not None:
            if old.impl is not _impl:
                raise ValueError(f"{self.name!r} is a built-in primitive of hodiff; choose another name")
            if warn:
                warnings.warn(f"primitive {self.name!r} is declared again: the new definition replaces the table "
                              "entry (calls of the old function keep their own rules)", UserWarning, stacklevel=3)
            del table[self.name]   # the engine refuses duplicate names; re-running a cell is a redefinition
        variadic = _engine("Primitive", "Variadic")
        self._prim = hd.Primitive(self.name, _impl, variadic(None), variadic(_vjp_rule), jvp_joint=_jvp_joint,
                                  cost=_cost, domain=None, doc=self._doc)
        _engine("Jet", "TAYLOR_RULES")[self.name] = _taylor_rule
        return self._prim

    # -- the rules, in table form ---------------------------------------------------------------------------

    def _tangent(self, diff, ts, static, ans):
        """``J t`` for one (unbatched) tangent per differentiable argument (``None``: zero)."""
        primals = _merge(diff, static)
        if self._jvp is not None:
            tangents = _merge([_zeros_for(p) if t is None else t for p, t in zip(diff, ts)],
                              [(i, None) for i, _ in static])
            out = self._jvp(primals, tuple(tangents), ans)
        else:
            tangents = _merge(list(ts), [(i, None) for i, _ in static])
            out = self._jvp_by_transpose(primals, tangents, ans)
        if _shape(out) != _shape(ans):
            raise ValueError(f"the JVP rule of {self.name} returned a tangent of shape {_shape(out)}, but the "
                             f"function's output has shape {_shape(ans)}; they must be equal")
        return out

    def _jvp_by_transpose(self, primals, tangents, ans):
        # bwd is linear in g, so the gradient of <bwd(g), t> with respect to g is J t (at any g; zero is simplest)
        def pairing(g):
            total = 0.0
            for c, t in zip(self._cotangents(primals, ans, g), tangents):
                if c is not None and t is not None:
                    total = total + hd.sum(hd.multiply(c, t))
            return total
        return hd.grad(pairing)(_zeros_for(ans))

    def _cotangents(self, primals, out, g):
        cts = self._vjp(primals, out, g)
        for i, (c, p) in enumerate(zip(cts, primals)):
            if c is not None and i not in self.nondiff_argnums and _shape(c) != _shape(p):
                raise ValueError(f"the VJP rule of {self.name} returned a cotangent of shape {_shape(c)} for "
                                 f"argument {i}, whose shape is {_shape(p)}; they must be equal")
        return cts

    def _all_cotangents(self, g, ans, diff, static):
        primals = _merge(diff, static)
        pos = [i for i in range(len(primals)) if i not in self.nondiff_argnums]
        if self._vjp is not None:
            cts = self._cotangents(primals, ans, g)
            return [_zeros_for(primals[i]) if cts[i] is None else cts[i] for i in pos]
        # the JVP rule is linear in the tangents: its transpose is one reverse pass over it
        live = [i for i in pos if _is_float(primals[i])]

        def linear(*ts):
            tangents = [None] * len(primals)
            for i in pos:
                tangents[i] = _zeros_for(primals[i])
            for i, t in zip(live, ts):
                tangents[i] = t
            t_out = self._jvp(primals, tuple(tangents), ans)
            if _shape(t_out) != _shape(ans):
                raise ValueError(f"the JVP rule of {self.name} returned a tangent of shape {_shape(t_out)}, but "
                                 f"the function's output has shape {_shape(ans)}; they must be equal")
            return t_out
        _, pullback = hd.vjp(linear, *(_zeros_for(primals[i]) for i in live))
        found = dict(zip(live, pullback(g)))
        return [found[i] if i in found else _zeros_for(primals[i]) for i in pos]

    def _cotangent(self, k, g, ans, diff, static):
        # the tape asks for one argument at a time; the rule gives all at once, so keep the last answer
        key = (id(g), id(ans), id(static), *map(id, diff))
        memo = self._memo
        if memo is None or memo[0] != key:
            memo = self._memo = (key, self._all_cotangents(g, ans, diff, static), g, ans, static, tuple(diff))
        return memo[1][k]

    # -- user-facing rule definitions (JAX-style conventions) -----------------------------------------------

    def defjvp(self, rule: Callable) -> Callable:
        """Set the JVP rule ``rule(*nondiff_args, primals, tangents) -> (primal_out, tangent_out)``.

        ``primals`` and ``tangents`` are tuples over the differentiable arguments, in order; ``tangent_out`` must
        be linear in ``tangents`` and have the output's shape. Returns ``rule`` (usable as a decorator).
        """
        nondiff = self.nondiff_argnums

        def jvp(primals, tangents, out):
            nd = [primals[i] for i in nondiff]
            ps = tuple(p for i, p in enumerate(primals) if i not in nondiff)
            ts = tuple(t for i, t in enumerate(tangents) if i not in nondiff)
            res = rule(*nd, ps, ts)
            if not (isinstance(res, (tuple, list)) and len(res) == 2):
                raise TypeError(f"the JVP rule of {self.name} must return a pair (primal_out, tangent_out); got "
                                f"{type(res).__name__}")
            if _shape(res[0]) != _shape(out):
                raise ValueError(f"the JVP rule of {self.name} returned a primal output of shape {_shape(res[0])}, "
                                 f"but the function returns shape {_shape(out)}")
            return res[1]
        self._jvp = jvp
        self._memo = None
        return rule

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Set the VJP rule pair: ``fwd(*args) -> (out, residuals)`` and
        ``bwd(*nondiff_args, residuals, g) -> cotangents`` (a tuple, one per differentiable argument, each of
        that argument's shape or ``None`` for zero). ``bwd`` must be linear in ``g``."""
        nondiff = self.nondiff_argnums

        def vjp(primals, out, g):
            res = fwd(*primals)
            if not (isinstance(res, (tuple, list)) and len(res) == 2):
                raise TypeError(f"the fwd rule of {self.name} must return a pair (out, residuals); got "
                                f"{type(res).__name__}")
            cts = bwd(*(primals[i] for i in nondiff), res[1], g)
            ndiff = len(primals) - len(nondiff)
            if ndiff == 1 and not isinstance(cts, (tuple, list)):
                cts = (cts,)
            if not isinstance(cts, (tuple, list)) or len(cts) != ndiff:
                raise TypeError(f"the bwd rule of {self.name} must return a tuple of {ndiff} cotangents (one per "
                                f"differentiable argument); got {type(cts).__name__}"
                                + (f" of length {len(cts)}" if isinstance(cts, (tuple, list)) else ""))
            it = iter(cts)
            return [None if i in nondiff else next(it) for i in range(len(primals))]
        self._vjp = vjp
        self._memo = None


# ---------------------------------------------------------------------------------------------------------------
# the table entry's functions, shared by every custom function (each call carries its CustomFunction in ``fn``)

def _impl(*diff, fn, static):
    out = fn.fun(*_merge(diff, static))
    if _is_box(out):
        raise TypeError(
            f"{fn.name} returned a value that depends on a variable being differentiated which it did not receive "
            "as an argument (a closure over it). Pass that variable as an argument of the custom function, so "
            "its derivative goes through the rules.")
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(f"{fn.name} returned a {type(out).__name__}: a custom function returns one array. Stack "
                        "several outputs into one array, or write one custom function per output.")
    out = np.asarray(out)
    return out[()] if out.ndim == 0 else out


def _jvp_joint(tangents, ans, *diff, fn, static):
    lead = None
    for t, p in zip(tangents, diff):
        if t is not None:
            lead = _shape(t)[:len(_shape(t)) - len(_shape(p))]
            break
    if not lead:
        return fn._tangent(diff, tangents, static, ans)
    # a batch of tangents (jacfwd, hessian): the user's rule is written for one, so it runs once per tangent
    outs = [fn._tangent(diff, [None if t is None else t[idx] for t in tangents], static, ans)
            for idx in np.ndindex(*lead)]
    out = hd.stack(outs, axis=0)
    return out if len(lead) == 1 else np.reshape(out, lead + _shape(ans))


def _vjp_rule(k, g, ans, *diff, fn, static):
    return fn._cotangent(k, g, ans, diff, static)


def _cost(ans, *args, **params):
    n = int(np.prod(_shape(ans), dtype=np.int64))
    return n, 8 * (n + sum(int(np.prod(_shape(a), dtype=np.int64)) for a in args))


def _taylor_rule(ans, series, primals, params, K):
    """Taylor coefficients of a custom function from its JVP rule, by the derivative ODE y' = J(x) x'.

    The coefficients are found one at a time: ``y_k = d_{k-1} / k`` where ``d`` is the series of the JVP along
    ``x'(t)``, computed by running the rule on jets of order ``k - 1`` (``y`` itself is known to that order, so
    rules that read the output work too).
    """
    fn, static = params["fn"], params["static"]
    ys = []
    for k in range(1, K + 1):
        if k == 1:
            ts = [s[1] for s in series]
            d = None if all(t is None for t in ts) else fn._tangent(list(primals), ts, static, ans)
        else:
            d = _taylor_step(fn, static, series, primals, ans, ys, k)
        ys.append(None if d is None else hd.multiply(d, 1.0 / k))
    return ys


def _taylor_step(fn, static, series, primals, ans, ys, k):
    Jet = hd.Jet
    trace = Jet([ans] + [None] * (k - 1))._trace

    def jet(coeffs):   # a constant stays a plain value: the engine's rules expect jets to move
        return coeffs[0] if all(c is None for c in coeffs[1:]) else Jet(coeffs, trace)
    with opened(trace):
        xs, dxs = [], []
        for s, p in zip(series, primals):
            xs.append(jet([p] + list(s[1:k])))
            dc = [None if s[j + 1] is None else hd.multiply(s[j + 1], float(j + 1)) for j in range(k)]
            dxs.append(None if all(c is None for c in dc) else jet([_zeros_for(p) if dc[0] is None else dc[0]]
                                                                    + dc[1:]))
        d = fn._tangent(xs, dxs, static, jet([ans] + ys[:k - 1]))
    if type(d) is Jet and d._trace is trace:
        return d.coeffs[k - 1]
    return None   # the JVP does not move along t: its higher coefficients are zero


# ---------------------------------------------------------------------------------------------------------------
# public constructors

@overload
def custom_jvp(fun: Callable[..., Any], *, nondiff_argnums: Sequence[int] = ()) -> CustomFunction: ...
@overload
def custom_jvp(fun: None = None, *,
               nondiff_argnums: Sequence[int] = ()) -> Callable[[Callable[..., Any]], CustomFunction]: ...


def custom_jvp(fun: Callable[..., Any] | None = None, *,
               nondiff_argnums: Sequence[int] = ()) -> CustomFunction | Callable[[Callable[..., Any]], CustomFunction]:
    """Give ``fun`` a forward-mode rule of your own; reverse mode, Hessians and higher orders follow from it.

    Decorate the function, then its rule with ``@f.defjvp``. The rule receives the non-differentiable arguments
    (``nondiff_argnums``) first, then ``primals`` and ``tangents``, tuples over the other arguments, and returns
    ``(primal_out, tangent_out)`` with ``tangent_out = J(primals) @ tangents`` (linear in the tangents, of the
    output's shape). Write it with numpy or hodiff functions: it runs on hodiff values, so it is differentiated
    again, which gives every higher derivative. The VJP (reverse mode) is the transpose of the rule, found by one
    reverse pass over it.

    Parameters
    ----------
    fun : callable
        A function of arrays returning one array.
    nondiff_argnums : sequence of int
        Positions of arguments that are passed through as constants (functions, integers, options).

    Returns
    -------
    CustomFunction
        Callable like ``fun``; ``.defjvp(rule)`` sets the rule.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.custom import custom_jvp
    >>> @custom_jvp
    ... def softplus(x):
    ...     return np.logaddexp(0.0, x)
    >>> @softplus.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return softplus(x), t / (1 + np.exp(-x))
    >>> float(hd.grad(hd.grad(softplus))(0.0))   # sigmoid'(0) = 1/4
    0.25
    """
    if fun is None:
        return lambda f: custom_jvp(f, nondiff_argnums=nondiff_argnums)
    return CustomFunction(fun, nondiff_argnums=nondiff_argnums)


@overload
def custom_vjp(fun: Callable[..., Any], *, nondiff_argnums: Sequence[int] = ()) -> CustomFunction: ...
@overload
def custom_vjp(fun: None = None, *,
               nondiff_argnums: Sequence[int] = ()) -> Callable[[Callable[..., Any]], CustomFunction]: ...


def custom_vjp(fun: Callable[..., Any] | None = None, *,
               nondiff_argnums: Sequence[int] = ()) -> CustomFunction | Callable[[Callable[..., Any]], CustomFunction]:
    """Give ``fun`` a reverse-mode rule of your own; forward mode, Hessians and higher orders follow from it.

    Set the rule with ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` computes the output and whatever
    the backward rule needs; ``bwd(*nondiff_args, residuals, g) -> cotangents`` returns ``g^T J`` as a tuple, one
    entry per differentiable argument (of that argument's shape; ``None`` for zero), linear in ``g``. The residuals
    are recomputed from the arguments whenever a rule runs, on hodiff values, so they carry the derivatives a
    higher order needs. The JVP (forward mode) is the transpose of ``bwd``: the derivative of
    ``g -> <bwd(residuals, g), t>`` with respect to ``g``, which is ``J t``.

    Parameters
    ----------
    fun : callable
        A function of arrays returning one array.
    nondiff_argnums : sequence of int
        Positions of arguments that are passed through as constants.

    Returns
    -------
    CustomFunction
        Callable like ``fun``; ``.defvjp(fwd, bwd)`` sets the rule.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.custom import custom_vjp
    >>> @custom_vjp
    ... def cube(x):
    ...     return x ** 3
    >>> cube.defvjp(lambda x: (x ** 3, x), lambda x, g: (3 * x ** 2 * g,))
    >>> float(hd.jacfwd(cube)(2.0)), float(hd.grad(hd.grad(hd.grad(cube)))(2.0))
    (12.0, 6.0)
    """
    if fun is None:
        return lambda f: custom_vjp(f, nondiff_argnums=nondiff_argnums)
    return CustomFunction(fun, nondiff_argnums=nondiff_argnums)


def primitive(name: str, impl: Callable, *, jvp: Callable | None = None, vjp: Callable | None = None,
              nondiff_argnums: Sequence[int] = (), doc: str | None = None) -> CustomFunction:
    """Declare a new entry of hodiff's primitive table, for library authors.

    The rules take the form the table uses internally: they receive every argument and the output value (which
    carries the derivatives of outer transforms, so a rule may use it instead of recomputing it):

    * ``jvp(primals, tangents, out) -> tangent_out``: ``primals`` and ``tangents`` are tuples over all
      arguments (tangents are zero arrays where the argument has none, ``None`` at ``nondiff_argnums``);
    * ``vjp(primals, out, g) -> cotangents``: a sequence over all arguments (``None`` for zero or for a
      non-differentiable position).

    Either rule alone is enough; with both, forward mode uses ``jvp`` and reverse mode ``vjp``. The entry is made
    at once (``hd.PRIMITIVES[name]``); declaring ``name`` again replaces it, with a warning. Built-in names are
    refused.

    Parameters
    ----------
    name : str
        The table entry's name.
    impl : callable
        ``impl(*args)`` on plain numpy values, returning one array.
    jvp, vjp : callable, optional
        The rules (at least one).
    nondiff_argnums : sequence of int
        Arguments passed through as constants.
    doc : str, optional
        Docstring of the entry (default: ``impl``'s).

    Returns
    -------
    CustomFunction
        The differentiable function.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.custom import primitive
    >>> def _hypot_jvp(primals, tangents, out):
    ...     (x, y), (tx, ty) = primals, tangents
    ...     return (x * tx + y * ty) / out
    >>> my_hypot = primitive("example.hypot", np.hypot, jvp=_hypot_jvp)
    >>> [round(float(g), 12) for g in hd.grad(my_hypot, argnums=(0, 1))(3.0, 4.0)]
    [0.6, 0.8]
    """
    if jvp is None and vjp is None:
        raise ValueError(f"primitive {name!r} needs a jvp rule, a vjp rule or both")
    fn = CustomFunction(impl, name=name, nondiff_argnums=nondiff_argnums, jvp=jvp, vjp=vjp, doc=doc)
    fn._declare(warn=True)
    return fn
