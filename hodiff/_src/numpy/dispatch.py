"""numpy's protocols routed to hodiff: the registries behind every box's ``__array_ufunc__``/``__array_function__``.

A numpy ufunc or function applied to a hodiff value runs hodiff's composite of the same name, so existing numpy code
is differentiated unchanged. A function with no entry raises an error that names it (never a silent fallback that
would drop the derivative), unless no argument needs a derivative, in which case numpy runs on the plain values.
Non-differentiable functions (comparisons, ``sign``, ``floor``, ``argmax``, ...) run on the plain values and return
plain results (constant tensors when an eager :class:`~hodiff.Tensor` was involved).
"""
from __future__ import annotations

import builtins
import functools

import numpy as np
import scipy.special as sp

from . import namespace as N
from ..table import special as M
from . import shape as S
from . import linalg as L
from . import keywords as K
from . import reductions as R
from . import more as X
from ..core.engine import Box, lower

__all__ = ["HANDLED_FUNCTIONS", "HANDLED_UFUNCS", "NONDIFF", "array_function", "array_ufunc", "nondiff"]


def _flat_boxes(args):
    for a in args:
        if isinstance(a, Box):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from _flat_boxes(a)


def nondiff(fn):
    """Wrap ``fn`` to run on plain values: its result carries no derivative."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        wrap = None
        for b in _flat_boxes(list(args) + list(kwargs.values())):
            wrap = b._const_maker()
            if wrap is not None:
                break
        res = lower(fn, *args, **kwargs)   # recorded (not frozen) when hd.jit records
        if wrap is None:
            return res
        if isinstance(res, tuple):
            return tuple(wrap(r) if isinstance(r, np.ndarray) else r for r in res)
        return wrap(res) if isinstance(res, (np.ndarray, np.generic)) else res
    return wrapper


_NONDIFF_UFUNCS = [np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal, np.sign,
                   np.floor, np.ceil, np.rint, np.trunc, np.fix, np.isfinite, np.isnan, np.isinf, np.logical_and,
                   np.logical_or, np.logical_not, np.logical_xor, np.signbit, np.floor_divide, np.heaviside]
_NONDIFF_FUNCS = [np.argmax, np.argmin, np.argsort, np.round, np.around, np.shape, np.ndim, np.size,
                  np.zeros_like, np.ones_like, np.empty_like, np.isclose, np.allclose,
                  np.array_equal, np.all, np.any, np.nonzero, np.count_nonzero, np.result_type,
                  np.iscomplexobj, np.isrealobj, np.isscalar, np.searchsorted, np.digitize,
                  np.argwhere, np.flatnonzero, np.may_share_memory, np.shares_memory]

NONDIFF = {f: nondiff(f) for f in _NONDIFF_UFUNCS + _NONDIFF_FUNCS}

HANDLED_UFUNCS = {
    np.add: N.add, np.subtract: N.subtract, np.multiply: N.multiply, np.divide: N.divide,
    np.true_divide: N.divide, np.negative: N.negative, np.positive: N.positive, np.power: N.power,
    np.float_power: N.power, np.exp: N.exp, np.exp2: N.exp2, np.expm1: M.expm1, np.log: N.log, np.log2: N.log2,
    np.log10: N.log10, np.log1p: M.log1p, np.sqrt: N.sqrt, np.cbrt: M.cbrt, np.square: N.square,
    np.reciprocal: N.reciprocal, np.sin: N.sin, np.cos: N.cos, np.tan: N.tan, np.arcsin: M.arcsin,
    np.arccos: M.arccos, np.arctan: M.arctan, np.arctan2: M.arctan2, np.sinh: M.sinh, np.cosh: M.cosh,
    np.tanh: N.tanh, np.arcsinh: M.arcsinh, np.arccosh: M.arccosh, np.arctanh: M.arctanh, np.hypot: M.hypot,
    np.absolute: N.absolute, np.fabs: N.absolute, np.maximum: N.maximum, np.minimum: N.minimum,
    np.fmax: N.fmax, np.fmin: N.fmin, np.logaddexp: M.logaddexp, np.logaddexp2: M.logaddexp2,
    np.deg2rad: N.deg2rad, np.radians: N.deg2rad, np.rad2deg: N.rad2deg, np.degrees: N.rad2deg,
    np.remainder: N.mod, np.matmul: N.matmul,
    sp.erf: M.erf, sp.erfc: M.erfc, sp.expit: M.expit, sp.logit: M.logit, sp.ndtr: M.ndtr,
    sp.log_ndtr: M.log_ndtr, sp.gammaln: M.gammaln, sp.psi: M.digamma, sp.xlogy: M.xlogy, sp.xlog1py: M.xlog1py,
}

HANDLED_FUNCTIONS = {
    np.sum: R.sum, np.mean: R.mean, np.var: R.var, np.std: R.std, np.max: R.amax, np.amax: R.amax,
    np.min: R.amin, np.amin: R.amin, np.prod: R.prod, np.cumsum: R.cumsum, np.cumprod: R.cumprod,
    np.average: N.average, np.ptp: N.ptp, np.reshape: S.reshape_order, np.transpose: N.transpose,
    np.broadcast_to: N.broadcast_to, np.where: N.where, np.clip: N.clip, np.dot: N.dot, np.vdot: N.vdot,
    np.inner: N.inner, np.outer: N.outer, np.tensordot: N.tensordot, np.einsum: X.einsum, np.kron: X.kron,
    np.matmul: N.matmul, np.linalg.norm: N.norm, np.sinc: M.sinc,
    np.ravel: S.ravel, np.swapaxes: S.swapaxes, np.moveaxis: S.moveaxis, np.expand_dims: S.expand_dims,
    np.squeeze: S.squeeze, np.concatenate: S.concatenate, np.stack: S.stack, np.hstack: S.hstack,
    np.vstack: S.vstack, np.split: S.split, np.array_split: S.array_split, np.tile: S.tile,
    np.repeat: S.repeat, np.flip: S.flip, np.roll: S.roll, np.take: S.take, np.diag: S.diag,
    np.diagonal: S.diagonal, np.trace: S.trace, np.triu: S.triu, np.tril: S.tril, np.pad: S.pad,
    np.atleast_1d: S.atleast_1d, np.atleast_2d: S.atleast_2d, np.atleast_3d: X.atleast_3d, np.sort: S.sort,
    np.take_along_axis: S.take_along_axis,
    np.linalg.inv: L.inv, np.linalg.solve: L.solve, np.linalg.det: L.det, np.linalg.slogdet: L.slogdet,
    np.linalg.cholesky: L.cholesky, np.linalg.eigh: L.eigh, np.linalg.eigvalsh: L.eigvalsh, np.linalg.qr: L.qr,
    np.linalg.svd: L.svd, np.linalg.lstsq: L.lstsq, np.linalg.matrix_power: L.matrix_power,
    np.linalg.multi_dot: L.multi_dot, np.linalg.pinv: L.pinv,
    np.diff: S.diff, np.cross: X.cross, np.convolve: S.convolve, np.quantile: N.quantile,
    np.percentile: N.percentile, np.median: N.median, np.nansum: R.nansum, np.nanmean: R.nanmean, np.cov: N.cov,
    np.hsplit: X.hsplit, np.vsplit: X.vsplit, np.dsplit: X.dsplit, np.column_stack: X.column_stack,
    np.append: X.append, np.rot90: X.rot90, np.flipud: X.flipud, np.fliplr: X.fliplr, np.rollaxis: X.rollaxis,
    np.select: X.select, np.partition: X.partition, np.nan_to_num: X.nan_to_num, np.interp: X.interp,
    np.gradient: X.gradient, np.linspace: X.linspace, np.full_like: X.full_like, np.copyto: X.copyto,
}
if hasattr(np, "row_stack"):      # deprecated in numpy 2.0
    HANDLED_FUNCTIONS[np.row_stack] = X.row_stack


def register_function(numpy_function, hodiff_function):
    """Route ``numpy_function`` applied to hodiff values to ``hodiff_function`` (for extensions)."""
    HANDLED_FUNCTIONS[numpy_function] = hodiff_function


_NAMES: dict = {}


def _name(f):
    """The public dotted name of a numpy/scipy function (``numpy.linalg.eig``, ``scipy.special.erf``)."""
    try:
        return _NAMES[f]
    except (KeyError, TypeError):
        pass
    n = _dotted(f)
    try:
        _NAMES[f] = n
    except TypeError:   # an unhashable callable: computed each time
        pass
    return n


def _dotted(f):
    name = getattr(f, "__name__", repr(f))
    for prefix, mod in (("numpy", np), ("numpy.linalg", np.linalg), ("numpy.fft", np.fft),
                        ("numpy.random", np.random), ("scipy.special", sp)):
        if getattr(mod, name, None) is f:
            return f"{prefix}.{name}"
    mod = getattr(f, "__module__", None) or "numpy"
    return f"{mod}.{name}"


def _no_rule(what, args):
    needs = builtins.any(b._needs_derivative() for b in _flat_boxes(args))
    if not needs:
        return None
    return TypeError(
        f"hodiff has no derivative rule for {what}, so it cannot be applied to a value being differentiated "
        "(that would silently lose the derivative). Rewrite it with supported functions (docs: 'Supported "
        "functions'), wrap an argument that should be constant with hodiff.stop_gradient, or declare a primitive "
        "for it (hodiff/_src/table/).")


_REDUCE = {np.add: (R.sum, 0.0), np.multiply: (R.prod, 1.0), np.maximum: (R.amax, None), np.minimum: (R.amin, None)}
_REDUCE_KEYS = {"axis", "dtype", "out", "keepdims", "initial", "where"}


def _reduce(ufunc, inputs, kwargs):
    """``ufunc.reduce`` for add/multiply/maximum/minimum with every keyword of numpy's (``out`` refused)."""
    fn = _REDUCE[ufunc][0]
    what = _name(ufunc) + ".reduce"
    kw = dict(zip(("axis", "dtype", "out", "keepdims", "initial", "where"), inputs[1:]))
    kw.update(kwargs)
    for k, v in kw.items():
        if k not in _REDUCE_KEYS:
            raise K.refuse(what, k, v)
    out = kw.pop("out", None)
    if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
        raise K.refuse(what, "out", out)
    dtype = kw.pop("dtype", None)
    if kw.get("where", True) is True:
        kw.pop("where", None)
    if kw.get("initial", np._NoValue) is np._NoValue:
        kw.pop("initial", None)
    kw.setdefault("axis", 0)
    r = fn(inputs[0], **kw)
    return R.check_dtype(r, dtype, what.replace("numpy.", ""))


def _accumulate(ufunc, inputs, kwargs):
    what = _name(ufunc) + ".accumulate"
    kw = dict(zip(("axis", "dtype", "out"), inputs[1:]))
    kw.update(kwargs)
    for k, v in kw.items():
        if k not in ("axis", "dtype", "out"):
            raise K.refuse(what, k, v)
    if kw.get("out") is not None and not (isinstance(kw["out"], tuple) and all(o is None for o in kw["out"])):
        raise K.refuse(what, "out", kw["out"])
    fn = R.cumsum if ufunc is np.add else R.cumprod
    return R.check_dtype(fn(inputs[0], axis=kw.get("axis", 0)), kw.get("dtype"), what.replace("numpy.", ""))


def array_ufunc(box, ufunc, method, inputs, kwargs):
    """The body of every box's ``__array_ufunc__``: every keyword honoured or refused by name."""
    if method == "reduce" and ufunc in _REDUCE:
        return _reduce(ufunc, inputs, kwargs)
    if method == "accumulate" and ufunc in (np.add, np.multiply):
        return _accumulate(ufunc, inputs, kwargs)
    if method == "at":
        raise TypeError(f"{_name(ufunc)}.at(...) updates an array in place, which would drop the derivative of "
                        "a traced value; use x = hd.index_add(x, idx, v) (or x.at[idx].add(v) on hodiff values)")
    if method == "__call__":
        fn = HANDLED_UFUNCS.get(ufunc)
        if fn is not None:
            dtype = K.ufunc_call_kwargs(_name(ufunc), kwargs)
            return R.check_dtype(fn(*inputs), dtype, _name(ufunc).replace("numpy.", ""))
        fn = NONDIFF.get(ufunc)
        if fn is not None:
            return fn(*inputs, **kwargs)
    what = _name(ufunc) + ("" if method == "__call__" else f".{method}")
    err = _no_rule(what, inputs)
    if err is not None:
        raise err
    return nondiff(getattr(ufunc, method))(*inputs, **kwargs)


def array_function(box, func, types, args, kwargs):
    """The body of every box's ``__array_function__``: numpy's arguments bound by name, each honoured or refused."""
    fn = HANDLED_FUNCTIONS.get(func)
    if fn is not None:
        if not kwargs:   # the common case (np.sum(x)): numpy's positional arguments are hodiff's (keywords.py)
            s = K.direct_spec(func)
            if s is not None and len(args) <= s.n_direct:
                return fn(*args)

        def plain():
            if _no_rule(_name(func), list(args) + list(kwargs.values())) is None:
                return nondiff(func)(*args, **kwargs)
            return NotImplemented
        return K.call(func, fn, _name(func), args, kwargs, fallback=plain)
    fn = NONDIFF.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    err = _no_rule(_name(func), list(args) + list(kwargs.values()))
    if err is not None:
        raise err
    return nondiff(func)(*args, **kwargs)
