"""hodiff's numpy-like namespace: arithmetic, reductions and contractions as composites of the primitive table.

Nothing here has derivative rules of its own: every function is a composition of primitives (``_src/table/``),
so it is differentiable to any order the moment it is written. Shape functions are in ``shape.py``; the
numpy dispatch registries that route ``np.sin(box)`` here are in ``dispatch.py``.
"""
from __future__ import annotations

import numpy as np

from .. import table as P
from ..core.engine import base_value, lower, lower_value, ndim_of, shape_of
from ..table import (
    absolute,
    add,
    broadcast_to,
    cos,
    divide,
    exp,
    getitem,
    log,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    reshape,
    sin,
    sqrt,
    subtract,
    tan,
    tanh,
    transpose,
    where,
)
from ..table.special import (
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    cosh,
    expm1,
    hypot,
    log1p,
    logaddexp,
    logaddexp2,
    sinc,
    sinh,
)
from ..table.linalg import svd
from .shape import concatenate, moveaxis, ravel, sort, squeeze
from .reductions import amax, amin, cumprod, cumsum, mean, nanmean, nansum, prod, std, sum, var

__all__ = [
    "abs",
    "absolute",
    "add",
    "amax",
    "amin",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "average",
    "broadcast_to",
    "cbrt",
    "clip",
    "cos",
    "cosh",
    "cumprod",
    "cumsum",
    "deg2rad",
    "divide",
    "dot",
    "einsum",
    "exp",
    "exp2",
    "expm1",
    "fmax",
    "fmin",
    "getitem",
    "hypot",
    "inner",
    "kron",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logaddexp",
    "logaddexp2",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mod",
    "multiply",
    "negative",
    "norm",
    "outer",
    "positive",
    "power",
    "prod",
    "ptp",
    "rad2deg",
    "reciprocal",
    "remainder",
    "sin",
    "sinc",
    "sinh",
    "softmax",
    "sqrt",
    "square",
    "std",
    "stop_gradient",
    "subtract",
    "sum",
    "tan",
    "tanh",
    "tensordot",
    "var",
    "vdot",
    "where",
]

abs = absolute
max = amax
min = amin


def positive(x):
    """``+x``."""
    return x


def square(x):
    """``x * x``."""
    return multiply(x, x)


def stop_gradient(x):
    """The value of ``x`` with no derivative at any level (``Tensor.detach`` for every box).

    Under ``hd.jit`` recording the result is the staged value (numpy calls on it are recorded), not its numbers.
    """
    return lower_value(x)


def clip(x, a_min=None, a_max=None, *, min=None, max=None):
    """Clip ``x`` to ``[a_min, a_max]`` (``min``/``max`` are numpy 2's names for them); the derivative is 1 inside,
    0 outside and 1/2 on the bounds."""
    if min is not None:
        if a_min is not None:
            raise TypeError("Passed `min` and `a_min`, please pass only one.")
        a_min = min
    if max is not None:
        if a_max is not None:
            raise TypeError("Passed `max` and `a_max`, please pass only one.")
        a_max = max
    if a_min is not None:
        x = maximum(x, a_min)
    if a_max is not None:
        x = minimum(x, a_max)
    return x


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
    """Vector p-norms (``ord`` None/2, 1, inf, -inf, any p > 0) and matrix norms (``'fro'``, 1, -1, inf, -inf,
    2, -2, ``'nuc'``), as ``numpy.linalg.norm``.

    The 2-norm's derivative ``x / |x|`` is not defined at ``x = 0``; there hodiff returns ``nan`` rather than
    pretend a value.
    """
    nd = ndim_of(x)
    matrix = (axis is None and nd == 2) or (isinstance(axis, tuple) and len(axis) == 2)
    if matrix and ord not in (None, "fro"):
        ax = (-2, -1) if axis is None else axis
        if ord in (1, -1):
            red = amax if ord == 1 else amin
            return red(sum(absolute(x), axis=ax[0], keepdims=True), axis=ax, keepdims=keepdims)
        if ord in (np.inf, -np.inf):
            red = amax if ord == np.inf else amin
            return red(sum(absolute(x), axis=ax[1], keepdims=True), axis=ax, keepdims=keepdims)
        if ord == "nuc":
            return sum(svd(x, compute_uv=False), axis=-1)
        if ord in (2, -2):
            s = svd(x, compute_uv=False)
            return (amax if ord == 2 else amin)(s, axis=-1)
        raise ValueError(f"norm: unsupported matrix ord={ord!r}")
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


def _finite_max(xb, axis):
    m = np.amax(xb, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` computed stably (shifted by the maximum, which carries no derivative)."""
    m = lower(_finite_max, x, axis)     # recorded under hd.jit, not frozen
    r = add(log(sum(exp(subtract(x, m)), axis=axis, keepdims=True)), m)
    return r if keepdims else squeeze(r, axis)




_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


def exp2(x):
    """``2 ** x``."""
    return exp(multiply(_LN2, x))


def log2(x):
    """Base-2 logarithm."""
    return divide(log(x), _LN2)


def log10(x):
    """Base-10 logarithm."""
    return divide(log(x), _LN10)


def reciprocal(x):
    """``1 / x``."""
    return divide(1.0, x)


def deg2rad(x):
    """Degrees to radians."""
    return multiply(x, np.pi / 180.0)


def rad2deg(x):
    """Radians to degrees."""
    return multiply(x, 180.0 / np.pi)


def fmax(x, y):
    """Elementwise maximum ignoring NaNs (a NaN loses); ties split the derivative evenly, like ``maximum``."""
    return where(lower(np.isnan, x), y, where(lower(np.isnan, y), x, maximum(x, y)))


def fmin(x, y):
    """Elementwise minimum ignoring NaNs."""
    return where(lower(np.isnan, x), y, where(lower(np.isnan, y), x, minimum(x, y)))


def mod(x, y):
    """``x % y`` with numpy's sign convention; derivative 1 in ``x`` and ``-floor(x / y)`` in ``y``
    (the subgradient; the jumps themselves are not differentiable)."""
    q = lower(np.floor_divide, x, y)
    return subtract(x, multiply(y, q))


remainder = mod


def softmax(x, axis=None):
    """``exp(x) / sum(exp(x))`` along ``axis``, computed stably."""
    return exp(log_softmax(x, axis=axis))


def log_softmax(x, axis=None):
    """``x - logsumexp(x)`` along ``axis``."""
    return subtract(x, logsumexp(x, axis=axis, keepdims=True))


def _size(x):
    return int(np.prod(shape_of(x), dtype=np.int64))


def average(x, axis=None, weights=None, returned=False, keepdims=False):
    """Weighted average along ``axis``; with ``returned`` also the sum of the weights (numpy's pair)."""
    if returned:
        avg = average(x, axis=axis, weights=weights, keepdims=keepdims)
        if weights is None:
            wsum = np.broadcast_to(float(_size(x) // (_size(avg) or 1)),
                                   shape_of(avg)).copy()
        else:
            w = weights
            if ndim_of(w) == 1 and ndim_of(x) > 1 and axis is not None:
                shape = [1] * ndim_of(x)
                shape[axis] = shape_of(w)[0]
                w = reshape(w, tuple(shape))
            wsum = sum(broadcast_to(w, np.broadcast_shapes(shape_of(x), shape_of(w))), axis=axis,
                       keepdims=keepdims)
        return avg, wsum
    if weights is None:
        return mean(x, axis=axis, keepdims=keepdims)
    w = weights
    if ndim_of(w) == 1 and ndim_of(x) > 1 and axis is not None:
        shape = [1] * ndim_of(x)
        shape[axis] = shape_of(w)[0]
        w = reshape(w, tuple(shape))
    return divide(sum(multiply(x, w), axis=axis, keepdims=keepdims),
                  sum(broadcast_to(w, np.broadcast_shapes(shape_of(x), shape_of(w))), axis=axis, keepdims=keepdims))


def ptp(x, axis=None, keepdims=False):
    """Range (maximum minus minimum) along ``axis``."""
    return subtract(amax(x, axis=axis, keepdims=keepdims), amin(x, axis=axis, keepdims=keepdims))


def quantile(x, q, axis=None, keepdims=False):
    """Quantiles with numpy's default (linear) interpolation; the derivative flows to the order statistics used."""
    if axis is None:
        x, axis = ravel(x), -1
    xs = moveaxis(sort(x, axis=axis), axis, -1)
    n = shape_of(xs)[-1]
    qa = np.asarray(base_value(q), dtype=float)
    pos = qa * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = pos - lo
    lead = (slice(None),) * (ndim_of(xs) - 1)
    r = add(multiply(getitem(xs, lead + (lo,)), 1.0 - w), multiply(getitem(xs, lead + (hi,)), w))
    if qa.ndim:
        r = moveaxis(r, -1, 0)
    if keepdims:
        r = reshape(r, shape_of(r) + (1,)) if axis == -1 else r
    return r


def percentile(x, q, axis=None, keepdims=False):
    """Percentiles (``q`` in 0..100), as :func:`quantile`."""
    return quantile(x, np.asarray(base_value(q), dtype=float) / 100.0, axis=axis, keepdims=keepdims)


def median(x, axis=None, keepdims=False):
    """Median along ``axis`` (the mean of the two middle values for even counts)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def cov(m, y=None, rowvar=True, bias=False, ddof=None):
    """Covariance matrix of the variables (rows, or columns with ``rowvar=False``); ``y`` adds variables,
    ``bias`` divides by ``n`` (``ddof`` overrides both)."""
    if ddof is None:
        ddof = 0 if bias else 1
    def rows(v):      # numpy: at least 2-D, then transposed for rowvar=False unless it is a single row
        v = reshape(v, (1, -1)) if ndim_of(v) == 1 else v
        return transpose(v) if not rowvar and shape_of(v)[0] != 1 else v

    m = rows(m)
    if y is not None:
        m = concatenate([m, rows(y)], axis=0)
    d = subtract(m, mean(m, axis=1, keepdims=True))
    n = shape_of(m)[1]
    c = divide(matmul(d, transpose(d)), float(n - ddof))
    return reshape(c, ()) if shape_of(c) == (1, 1) else c


__all__ += ["cov", "median", "nanmean", "nansum", "percentile", "quantile"]

from .more import (  # noqa: E402 - the fuller forms of einsum, kron and cross, and more of numpy's functions
    append,
    atleast_3d,
    column_stack,
    cross,
    dsplit,
    einsum,
    fliplr,
    flipud,
    full_like,
    gradient,
    hsplit,
    interp,
    kron,
    linspace,
    nan_to_num,
    partition,
    rollaxis,
    rot90,
    row_stack,
    select,
    vsplit,
)

__all__ += ["append", "atleast_3d", "column_stack", "dsplit", "fliplr", "flipud", "gradient", "hsplit", "interp",
            "nan_to_num", "partition", "rollaxis", "rot90", "row_stack", "select", "vsplit"]
