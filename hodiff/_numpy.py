"""hodiff's numpy-like namespace: composites of the primitive table and the numpy dispatch registries.

Nothing here has derivative rules of its own: every function is a composition of primitives (``hodiff/_prims.py``),
so it is differentiable to any order the moment it is written. The registries map numpy ufuncs and functions to
these, so that ``np.sin(t)`` or ``np.dot(A, t)`` on a hodiff box runs hodiff's version; a numpy function with no entry
raises an error naming it instead of silently dropping the derivative.

Non-differentiable functions (comparisons, ``sign``, ``floor``, ``argmax``, ...) run on the plain values and return
plain results (wrapped as constant tensors when an eager :class:`~hodiff.Tensor` was involved).
"""
from __future__ import annotations

import builtins
import functools

import numpy as np

from . import _prims as P
from ._core import Box, base_value, ndim_of, shape_of
from ._prims import (absolute, add, amax, amin, broadcast_to, cos, divide, exp, getitem, log, matmul, maximum,
                     minimum, multiply, negative, power, reshape, sin, sqrt, subtract, tan, tanh, transpose,
                     where)

__all__ = ["add", "subtract", "multiply", "divide", "negative", "positive", "power", "exp", "log", "sin", "cos",
           "tan", "tanh", "sqrt", "abs", "absolute", "square", "maximum", "minimum", "where", "clip", "sum", "mean",
           "max", "min", "amax", "amin", "var", "std", "reshape", "ravel", "transpose", "swapaxes", "moveaxis",
           "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack", "matmul", "dot", "vdot", "inner",
           "outer", "tensordot", "norm", "logsumexp", "stop_gradient", "getitem", "HANDLED_UFUNCS",
           "HANDLED_FUNCTIONS", "NONDIFF"]

sum = P.reduce_sum  # noqa: A001 - numpy's name
abs = absolute  # noqa: A001
max = amax  # noqa: A001
min = amin  # noqa: A001


def positive(x):
    """``+x``."""
    return x


def square(x):
    """``x * x``."""
    return multiply(x, x)


def stop_gradient(x):
    """The value of ``x`` with no derivative at any level (``Tensor.detach`` for every box)."""
    return base_value(x)


def clip(x, a_min=None, a_max=None):
    """Clip ``x`` to ``[a_min, a_max]``; the derivative is 1 inside, 0 outside and 1/2 on the bounds."""
    if a_min is not None:
        x = maximum(x, a_min)
    if a_max is not None:
        x = minimum(x, a_max)
    return x


def _count(x, axis):
    s = shape_of(x)
    if axis is None:
        return int(np.prod(s, dtype=np.int64))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    return int(np.prod([s[a] for a in axes], dtype=np.int64))


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``."""
    return divide(sum(x, axis=axis, keepdims=keepdims), float(_count(x, axis)))


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom."""
    d = subtract(x, mean(x, axis=axis, keepdims=True))
    return divide(sum(multiply(d, d), axis=axis, keepdims=keepdims), float(_count(x, axis) - ddof))


def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation over ``axis``."""
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def ravel(x):
    """``x`` flattened to one dimension."""
    return reshape(x, (-1,))


def swapaxes(x, axis1, axis2):
    """``x`` with two axes exchanged."""
    nd = ndim_of(x)
    axes = list(range(nd))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def moveaxis(x, source, destination):
    """``x`` with axes moved to new positions (numpy's ``moveaxis``)."""
    nd = ndim_of(x)
    src = [s % nd for s in np.atleast_1d(source).tolist()]
    dst = [d % nd for d in np.atleast_1d(destination).tolist()]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def expand_dims(x, axis):
    """``x`` with unit axes inserted at ``axis``."""
    shape = np.expand_dims(np.empty(shape_of(x), dtype=np.int8), axis).shape
    return reshape(x, shape)


def squeeze(x, axis=None):
    """``x`` with unit axes removed."""
    shape = np.squeeze(np.empty(shape_of(x), dtype=np.int8), axis).shape
    return reshape(x, shape)


def concatenate(arrays, axis=0):
    """Join arrays along an existing axis (a sum of zero-padded pieces, so each piece gets its own cotangent)."""
    arrays = list(arrays)
    nd = ndim_of(arrays[0])
    axis = axis % nd
    sizes = [shape_of(a)[axis] for a in arrays]
    shape = list(shape_of(arrays[0]))
    shape[axis] = builtins.sum(sizes)
    out, start = None, 0
    for a, n in zip(arrays, sizes):
        idx = (slice(None),) * axis + (slice(start, start + n),)
        piece = P.scatter_add(a, idx, tuple(shape))
        out = piece if out is None else add(out, piece)
        start += n
    return out


def stack(arrays, axis=0):
    """Join arrays along a new axis."""
    arrays = list(arrays)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def tensordot(a, b, axes=2):
    """Sum of products over the given axes, as numpy's ``tensordot``: reshaped to one matrix product."""
    na, nb = ndim_of(a), ndim_of(b)
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    ax_a = [x % na for x in ax_a]
    ax_b = [x % nb for x in ax_b]
    sa, sb = shape_of(a), shape_of(b)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    k = int(np.prod([sa[i] for i in ax_a], dtype=np.int64))
    a2 = reshape(transpose(a, free_a + ax_a), (-1, k))
    b2 = reshape(transpose(b, ax_b + free_b), (k, -1))
    return reshape(matmul(a2, b2), tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b))


def dot(a, b):
    """numpy's ``dot``: a product for scalars, ``matmul`` up to 2-D, a ``tensordot`` over (last, second-to-last)."""
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [0 if nb == 1 else -2]))


def vdot(a, b):
    """Dot product of the flattened arrays (real values)."""
    return matmul(ravel(a), ravel(b))


def inner(a, b):
    """Sum of products over the last axes."""
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b):
    """Outer product of the flattened arrays."""
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector p-norms (``ord`` = None/2, 1, inf, -inf, 0 is not differentiable, other p) and the Frobenius norm.

    The 2-norm's derivative ``x / |x|`` is not defined at ``x = 0``; there hodiff returns ``nan`` rather than
    pretend a value.
    """
    nd = ndim_of(x)
    matrix = (axis is None and nd == 2) or (isinstance(axis, tuple) and len(axis) == 2)
    if matrix and ord not in (None, "fro"):
        raise NotImplementedError(f"the matrix norm ord={ord!r} is not supported yet; use ord=None or 'fro', "
                                  "or pass a single axis for vector norms")
    if ord in (None, 2, "fro"):
        return sqrt(sum(multiply(x, x), axis=axis, keepdims=keepdims))
    if ord == 1:
        return sum(absolute(x), axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return amax(absolute(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return amin(absolute(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)) and ord > 0:
        return power(sum(power(absolute(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)
    raise ValueError(f"norm: unsupported ord={ord!r}")


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` computed stably (shifted by the maximum, which carries no derivative)."""
    m = np.amax(base_value(x), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    r = add(log(sum(exp(subtract(x, m)), axis=axis, keepdims=True)), m)
    return r if keepdims else squeeze(r, axis)


# ----------------------------------------------------------------------------------------------------------------
# non-differentiable functions: computed on the plain values

def _nondiff(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        wrap = None
        plain = []
        for a in args:
            if isinstance(a, Box):
                wrap = wrap or a._const_maker()
                a = base_value(a)
            elif isinstance(a, (list, tuple)) and builtins.any(isinstance(b, Box) for b in a):
                a = type(a)(base_value(b) for b in a)
            plain.append(a)
        res = fn(*plain, **{k: base_value(v) for k, v in kwargs.items()})
        return wrap(res) if wrap is not None else res
    return wrapper


_NONDIFF_UFUNCS = [np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal, np.sign,
                   np.floor, np.ceil, np.rint, np.trunc, np.isfinite, np.isnan, np.isinf, np.logical_and,
                   np.logical_or, np.logical_not, np.logical_xor, np.signbit, np.floor_divide]
_NONDIFF_FUNCS = [np.argmax, np.argmin, np.argsort, np.round, np.around, np.shape, np.ndim, np.size,
                  np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.isclose, np.allclose,
                  np.array_equal, np.all, np.any, np.nonzero, np.count_nonzero, np.sort, np.result_type,
                  np.iscomplexobj, np.isrealobj, np.isscalar, np.unique]

NONDIFF = {f: _nondiff(f) for f in _NONDIFF_UFUNCS + _NONDIFF_FUNCS}

HANDLED_UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.divide: divide, np.true_divide: divide,
    np.negative: negative, np.positive: positive, np.power: power, np.exp: exp, np.log: log, np.sin: sin,
    np.cos: cos, np.tan: tan, np.tanh: tanh, np.sqrt: sqrt, np.absolute: absolute, np.fabs: absolute,
    np.square: square, np.maximum: maximum, np.minimum: minimum, np.matmul: matmul,
}

HANDLED_FUNCTIONS = {
    np.sum: sum, np.mean: mean, np.var: var, np.std: std, np.max: amax, np.amax: amax, np.min: amin,
    np.amin: amin, np.reshape: reshape, np.ravel: ravel, np.transpose: transpose, np.swapaxes: swapaxes,
    np.moveaxis: moveaxis, np.expand_dims: expand_dims, np.squeeze: squeeze, np.broadcast_to: broadcast_to,
    np.concatenate: concatenate, np.stack: stack, np.where: where, np.clip: clip, np.dot: dot, np.vdot: vdot,
    np.inner: inner, np.outer: outer, np.tensordot: tensordot, np.linalg.norm: norm, np.matmul: matmul,
}


def _ufunc_name(ufunc):
    return f"numpy.{getattr(ufunc, '__name__', ufunc)}"


def array_ufunc(box, ufunc, method, inputs, kwargs):
    """The body of every box's ``__array_ufunc__``."""
    if method != "__call__":
        if method == "reduce" and ufunc is np.add:
            return sum(inputs[0], axis=kwargs.get("axis", 0), keepdims=kwargs.get("keepdims", False))
        raise TypeError(f"hodiff cannot differentiate {_ufunc_name(ufunc)}.{method}; write the computation with "
                        "hodiff/numpy functions that have derivative rules instead")
    if kwargs.get("out") is not None:
        raise TypeError(f"{_ufunc_name(ufunc)}(..., out=...) would write a traced value into a plain array and "
                        "lose its derivative; assign the result instead")
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    fn = HANDLED_UFUNCS.get(ufunc)
    if fn is not None:
        if kwargs:
            raise TypeError(f"hodiff supports {_ufunc_name(ufunc)} without keyword arguments; got {sorted(kwargs)}")
        return fn(*inputs)
    fn = NONDIFF.get(ufunc)
    if fn is not None:
        return fn(*inputs, **kwargs)
    raise TypeError(
        f"hodiff has no derivative rule for {_ufunc_name(ufunc)}, so it cannot be applied to a value being "
        "differentiated. Rewrite it with supported functions (see the table in docs/), wrap a constant "
        "argument with hodiff.stop_gradient, or declare a primitive for it in hodiff/_prims.py.")


def array_function(box, func, types, args, kwargs):
    """The body of every box's ``__array_function__``."""
    fn = HANDLED_FUNCTIONS.get(func) or NONDIFF.get(func)
    if fn is None:
        raise TypeError(
            f"hodiff has no derivative rule for numpy.{func.__name__}, so it cannot be applied to a value being "
            "differentiated. Rewrite it with supported functions (see the table in docs/), wrap a constant "
            "argument with hodiff.stop_gradient, or declare a primitive for it in hodiff/_prims.py.")
    return fn(*args, **kwargs)
