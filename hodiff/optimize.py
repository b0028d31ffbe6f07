"""``scipy.optimize.minimize`` driven by hodiff: exact gradients, Hessian-vector products and Hessians of one plain
numpy objective.

:func:`minimize` builds ``fun``, ``jac``, ``hessp`` and ``hess`` for SciPy from ``f`` alone and returns SciPy's
``OptimizeResult``. At each new point the value and the gradient come from one reverse sweep
(``hd.value_and_grad``) and are cached on the exact bytes of ``x``, so SciPy asking for ``fun(x)`` and then
``jac(x)`` (or asking again after a rejected trial step) costs one evaluation, not two. Hessian-vector products at a
point share one linearization of the gradient (:func:`hodiff.hessian_operator`): the first product at ``x`` records
``f`` and its backward pass with a dual number under the tape, every further product at that ``x`` (the inner
conjugate-gradient or Lanczos iterations of ``trust-krylov``, ``trust-ncg``, ``Newton-CG``) replays only the tangent
sweep.
"""
from __future__ import annotations

import inspect
import numbers
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import scipy.optimize as _so

from ._src.transforms.functional import hvp as _hvp
from ._src.transforms.functional import value_and_grad as _value_and_grad
from ._src.transforms.hessians import hessian as _hessian
from ._src.transforms.hessian_operator import HessianOperator
from ._src.transforms.jit import jit as _jit
from . import tree as _tree

__all__ = ["minimize"]

# which SciPy methods use which derivative (scipy.optimize.minimize warns when handed one it does not use)
_USES_JAC = {"cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc", "slsqp", "dogleg", "trust-ncg", "trust-krylov",
             "trust-exact", "trust-constr"}
_USES_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_USES_HESS = _USES_HESSP | {"dogleg", "trust-exact"}
_HESSIAN_MODES = ("auto", "operator", "hvp", "dense", "none")



def _scalar(v) -> float:
    """The objective's value as a float: a one-element output (shape ``(1,)``, ``(1, 1)``) counts, as in ``grad``."""
    a = np.asarray(v)
    if a.size != 1:
        raise ValueError(f"minimize: the objective must return a scalar; it returned shape {a.shape}")
    return float(a.reshape(()))

class _Entry:
    __slots__ = ("H", "grad", "op", "value")

    def __init__(self):
        self.value = self.grad = self.op = self.H = None


class Objective:
    """``fun``, ``jac``, ``hessp`` and ``hess`` of one objective for SciPy, on flat vectors, sharing a cache.

    ``f(x, *args)`` takes ``x`` of ``shape``; SciPy's flat vectors are reshaped on the way in and derivatives
    flattened on the way out. The cache holds the last ``cache_size`` points, keyed by the exact bytes of ``x``;
    per point: the value and gradient (one reverse sweep), the Hessian operator (one linearization, on the first
    product) and the dense Hessian (on request).

    Attributes
    ----------
    n_value, n_value_and_grad, n_linearize, n_hessp, n_hess : int
        Evaluations of ``f`` alone (derivative-free methods), reverse sweeps (value and gradient), linearizations
        of the gradient, Hessian-vector products and dense Hessians computed.
    """

    def __init__(self, f, shape, args=(), hvp_mode="operator", cache_size=4, value_only=False, compiled=True):
        self.f = f
        self.value_only = value_only
        self.shape = tuple(shape)
        self.args = tuple(args)
        self.hvp_mode = hvp_mode
        self._vg = _value_and_grad(f)
        # compiled replay (hd.jit): f's extra arguments are held fixed, so they are constants of the programs
        self._jvg = _jit(_Fixed(_value_and_grad(f), self.args)) if compiled else None
        self._jhvp = _jit(_FixedHvp(f, self.args)) if compiled else None
        self._cache = OrderedDict()
        self._cache_size = max(1, int(cache_size))
        self.n_value = self.n_value_and_grad = self.n_linearize = self.n_hessp = self.n_hess = 0

    def _entry(self, z):
        z = np.asarray(z, dtype=np.float64)
        key = z.tobytes()
        e = self._cache.get(key)
        if e is None:
            e = self._cache[key] = _Entry()
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return e, z

    def _point(self, z):
        return np.array(z, dtype=np.float64).reshape(self.shape)

    def _ensure_vg(self, e, z):
        if e.value is None and self.value_only:      # a derivative-free method: f alone
            e.value = _scalar(self.f(self._point(z), *self.args))
            self.n_value += 1
            return
        if e.grad is None:
            if self._jvg is not None:
                val, g = self._jvg(self._point(z))
            else:
                val, g = self._vg(self._point(z), *self.args)
            e.value = _scalar(val)
            e.grad = np.array(g, dtype=np.float64).reshape(-1)
            self.n_value_and_grad += 1

    def fun(self, z):
        e, z = self._entry(z)
        self._ensure_vg(e, z)
        return e.value

    def jac(self, z):
        e, z = self._entry(z)
        if e.grad is None:
            self.value_only = False
            self._ensure_vg(e, z)
        return e.grad.copy()

    def operator(self, z):
        """The Hessian at ``z`` as a (cached) :class:`hodiff.HessianOperator` on flat vectors."""
        e, z = self._entry(z)
        if e.op is None:
            e.op = HessianOperator(self.f, self._point(z), self.args)
        return e.op

    def hessp(self, z, p):
        p = np.asarray(p, dtype=np.float64)
        self.n_hessp += 1
        if self._jhvp is not None and self._jhvp.fallback_reason is None:
            # compiled forward-over-reverse: cheaper per product than linearizing at each new point
            return np.asarray(self._jhvp(self._point(z), p.reshape(self.shape)), dtype=np.float64).reshape(-1)
        if self.hvp_mode == "hvp":                   # a fresh forward-over-reverse pass per product
            return np.asarray(_hvp(lambda x: self.f(x, *self.args), self._point(z), p.reshape(self.shape)),
                              dtype=np.float64).reshape(-1)
        e, z = self._entry(z)
        op = self.operator(z)
        before = op.n_recordings
        out = op.matvec(p).reshape(-1)
        if op.n_recordings != before:
            self.n_linearize += 1
            if e.grad is None:                       # the recording computed f and its gradient too
                e.value = float(op.value)
                e.grad = np.array(op.grad, dtype=np.float64).reshape(-1)
        return out

    def fallback_reason(self):
        """Why the compiled programs were not used (None: they were, or compilation was not asked for)."""
        for j in (self._jvg, self._jhvp):
            if j is not None and j.fallback_reason is not None:
                return j.fallback_reason
        return None

    def hess(self, z):
        e, z = self._entry(z)
        if e.H is None:
            n = int(np.prod(self.shape, dtype=np.int64))
            e.H = np.asarray(_hessian(self.f)(self._point(z), *self.args), dtype=np.float64).reshape(n, n)
            self.n_hess += 1
        return e.H.copy()


class _Fixed:
    """``fn(x, *args)`` with ``args`` held fixed: the function ``minimize`` compiles."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __call__(self, x):
        return self.fn(x, *self.args)


class _FixedHvp:
    """``(x, v) -> H(x) v`` of ``f(x, *args)``, by forward-over-reverse."""

    def __init__(self, f, args):
        self.f, self.args = f, args

    def __call__(self, x, v):
        return _hvp(lambda y: self.f(y, *self.args), x, v)


def _flat_callback(callback, shape):
    """A callback that sees ``x`` in its original shape (SciPy hands it flat vectors)."""
    try:
        params = set(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = set()
    if params == {"intermediate_result"}:
        def wrapped(intermediate_result):
            r = _so.OptimizeResult(intermediate_result)
            if "x" in r:
                r.x = np.reshape(r.x, shape)
            return callback(intermediate_result=r)
        return wrapped

    def wrapped(xk, *rest):
        return callback(np.reshape(xk, shape), *rest)
    return wrapped


def _flat_bounds(bounds, shape):
    if isinstance(bounds, _so.Bounds):
        lb, ub = np.asarray(bounds.lb), np.asarray(bounds.ub)
        if lb.shape == shape or ub.shape == shape:
            return _so.Bounds(np.broadcast_to(lb, shape).ravel(), np.broadcast_to(ub, shape).ravel(),
                              keep_feasible=np.broadcast_to(bounds.keep_feasible, shape).ravel())
    return bounds


def _is_tree(x0: Any) -> bool:
    """A pytree start (dict, namedtuple, registered class, or a list/tuple holding arrays or containers) rather
    than array-like data (an array, a number, a list of numbers, which stay one array as before)."""
    if isinstance(x0, (np.ndarray, numbers.Number)):
        return False
    if isinstance(x0, (list, tuple)) and not hasattr(x0, "_fields"):
        return not all(isinstance(v, numbers.Number) or (isinstance(v, (list, tuple)) and not _is_tree(v)
                                                          and not any(isinstance(w, np.ndarray) for w in v))
                       for v in x0)
    return len(_tree.leaves(x0)) != 1 or _tree.leaves(x0)[0] is not x0


def _minimize_tree(f, x0, method, args, callback, kwargs):
    """``minimize`` on a pytree start: SciPy works on the raveled vector, ``f`` and ``callback`` see the tree."""
    lay = _tree.layout(x0, "minimize", "x0")
    unravel = lay.unravel

    def f_flat(z, *a):
        return f(unravel(z), *a)
    cb = None
    if callback is not None:
        try:
            params = set(inspect.signature(callback).parameters)
        except (TypeError, ValueError):
            params = set()
        if params == {"intermediate_result"}:     # SciPy picks the calling convention from this signature
            def cb(intermediate_result):
                r = _so.OptimizeResult(intermediate_result)
                r.x = unravel(np.asarray(r.x))
                return callback(intermediate_result=r)
        else:
            def cb(xk, *rest):
                return callback(unravel(np.asarray(xk)), *rest)
    res = minimize(f_flat, lay.ravel(x0), method, args=args, callback=cb, **kwargs)
    res.x = unravel(np.asarray(res.x))
    return res


def minimize(f: Callable[..., Any], x0: Any, method: str | Callable[..., Any] = "trust-krylov", *,
             args: tuple = (), jac: Any = None, hess: Any = None, hessp: Any = None, hessian: str = "auto",
             callback: Callable[..., Any] | None = None, bounds: Any = None, cache_size: int = 4,
             compiled: bool = True, **kwargs: Any) -> _so.OptimizeResult:
    """Minimize the scalar function ``f`` with ``scipy.optimize.minimize``, with hodiff's exact derivatives.

    ``f`` is one plain numpy function; ``minimize`` hands SciPy ``fun``, ``jac`` and, for the methods that use
    second derivatives, ``hessp`` (Hessian-vector products from one linearization of the gradient per point) or
    ``hess`` (the dense Hessian, for ``trust-exact`` and ``dogleg``, which need the matrix). Each new point costs
    one reverse sweep for the value and the gradient together, whatever SciPy asks for first.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, differentiable by hodiff (plain numpy code).
    x0 : array_like or pytree
        Starting point, of any shape; SciPy works on ``x0.ravel()`` and ``f`` always receives ``x0``'s shape.
        A pytree (a dict, a namedtuple, a list of ``(W, b)`` tuples, ...; a list of plain numbers stays one array)
        is raveled (:func:`hodiff.tree.ravel`): SciPy, ``jac``, ``hessp``, ``hess``, ``bounds`` and the result's
        ``jac`` work on the raveled vector, while ``f``, ``callback`` and ``result.x`` have the tree's structure.
    method : str or callable
        Any ``scipy.optimize.minimize`` method. Gradients are passed to the methods that use them (``CG``,
        ``BFGS``, ``L-BFGS-B``, ``TNC``, ``SLSQP``, ``Newton-CG``, ``dogleg``, ``trust-*``), second derivatives
        to ``Newton-CG``, ``trust-ncg``, ``trust-krylov``, ``trust-constr`` (``hessp``) and ``trust-exact``,
        ``dogleg`` (``hess``). Derivative-free methods get ``fun`` only.
    args : tuple
        Extra arguments of ``f``, held fixed.
    jac, hess, hessp : optional
        Your own, to override hodiff's (handed to SciPy as they are); ``jac=True`` means hodiff's gradient.
    hessian : {"auto", "operator", "hvp", "dense", "none"}
        Second-derivative information: ``"auto"`` is ``"dense"`` for ``trust-exact`` and ``dogleg`` and
        ``"operator"`` otherwise; ``"operator"`` gives ``hessp`` from one linearization of the gradient per point
        (:func:`hodiff.hessian_operator`); ``"hvp"`` a fresh ``hd.hvp`` per product; ``"dense"`` gives ``hess``,
        the dense ``hd.hessian``; ``"none"`` gives neither.
    callback : callable, optional
        As in SciPy; it receives ``x`` in ``x0``'s shape (or ``intermediate_result`` with ``.x`` reshaped).
    bounds : optional
        As in SciPy, for the flattened ``x`` (a ``Bounds`` with arrays of ``x0``'s shape is flattened for you).
    cache_size : int
        How many recent points keep their value, gradient and Hessian operator.
    compiled : bool
        Replay compiled programs (:func:`hodiff.jit`) of the value and gradient and of the Hessian-vector
        product: recorded at the first point, replayed at the others, with the same numbers as the eager
        transforms. ``f`` must then be a function of ``x`` and ``args`` (see :func:`hodiff.jit`). When ``f``
        cannot be compiled the eager transforms run, and ``result.compile_fallback`` says why.
    **kwargs
        Passed to ``scipy.optimize.minimize`` as they are: ``tol``, ``options``, ``constraints``, ...

    Returns
    -------
    scipy.optimize.OptimizeResult
        SciPy's result, with ``x`` (and ``jac``, or ``grad`` for ``trust-constr``) reshaped to ``x0``'s shape, and hodiff's counts of the work
        done: ``n_value`` (evaluations of ``f`` alone, for derivative-free methods), ``n_value_and_grad``
        (reverse sweeps), ``n_linearize`` (recordings of the linearized gradient),
        ``n_hessp`` (Hessian-vector products) and ``n_hess`` (dense Hessians); ``compile_fallback`` is None when
        the compiled programs ran (or ``compiled=False``), else the reason they did not.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> def rosen(x):
    ...     return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    >>> res = hd.optimize.minimize(rosen, np.zeros(5), method="trust-krylov")
    >>> res.success, np.allclose(res.x, 1.0)
    (True, True)
    """
    if hessian not in _HESSIAN_MODES:
        raise ValueError(f"hessian must be one of {_HESSIAN_MODES}; got {hessian!r}")
    if _is_tree(x0):
        return _minimize_tree(f, x0, method, args, callback,
                              dict(jac=jac, hess=hess, hessp=hessp, hessian=hessian, bounds=bounds,
                                   cache_size=cache_size, compiled=compiled, **kwargs))
    x0 = np.asarray(x0)
    if x0.dtype.kind == "c":
        raise TypeError("minimize: x0 must be real")
    x0 = np.array(x0, dtype=np.float64)
    if x0.size == 0:
        raise ValueError("minimize: x0 has no elements; there is nothing to optimize")
    shape = x0.shape
    meth = method.lower() if isinstance(method, str) else "_custom"
    mode = hessian
    if mode == "auto":
        mode = "dense" if meth in ("trust-exact", "dogleg") else "operator"
    custom = meth == "_custom"
    if jac is True:                                  # "fun returns the gradient too": that is what hodiff does
        jac = None
    obj = Objective(f, shape, args, hvp_mode="hvp" if mode == "hvp" else "operator", cache_size=cache_size,
                    value_only=not (custom or meth in _USES_JAC or jac is not None), compiled=compiled)

    if jac is None and (custom or meth in _USES_JAC):
        jac = obj.jac
    if hess is None and hessp is None:
        if mode == "dense" and (custom or meth in _USES_HESS):
            hess = obj.hess
        elif mode in ("operator", "hvp"):
            if custom or meth in _USES_HESSP:
                hessp = obj.hessp
            elif meth in _USES_HESS:                 # trust-exact / dogleg asked for an operator: they need H
                hess = obj.hess
    if callback is not None and len(shape) != 1:
        callback = _flat_callback(callback, shape)
    if bounds is not None:
        bounds = _flat_bounds(bounds, shape)
    if bounds is not None:
        kwargs["bounds"] = bounds
    res = _so.minimize(obj.fun, x0.ravel(), method=method, jac=jac, hess=hess, hessp=hessp, callback=callback,
                       **kwargs)
    if "x" in res and np.size(res.x) == x0.size:
        res.x = np.reshape(res.x, shape)
    for key in ("jac", "grad"):                      # trust-constr names the gradient "grad"
        if key in res and np.size(res[key]) == x0.size:
            res[key] = np.reshape(res[key], shape)
    res.n_value = obj.n_value
    res.n_value_and_grad = obj.n_value_and_grad
    res.n_linearize = obj.n_linearize
    res.n_hessp = obj.n_hessp
    res.n_hess = obj.n_hess
    res.compile_fallback = obj.fallback_reason()
    return res
