"""The primitive table: every differentiable operation of hodiff, declared exactly once.

Each entry gives the numpy implementation, one JVP and one VJP rule per argument, flags, a FLOP/byte cost hint and
the domain its generated tests draw from. Everything else in hodiff (``mean``, ``dot``, ``norm``, the numpy
dispatch, ...) is a composite of these with no rules of its own (``_src/numpy/namespace.py``).

The rules are written in hodiff's own operations (the functions defined here), never in raw numpy on the data:
when a rule runs on dual numbers, its operations propagate their tangents, which is how forward-over-reverse gives
Hessian-vector products without any second-order rule. Only piecewise-constant quantities (masks, signs) are
computed with numpy on the base values.

JVP rules receive tangents that may carry leading batch axes (``ndim(t) - ndim(x)`` of them); they are written with
negative axes and explicit leading shapes so that one rule serves single and batched tangents.
"""
from __future__ import annotations

import builtins
import operator
import weakref

import numpy as np

from ..core.engine import Box, Primitive, _hooks, base_value, bind, ndim_of, shape_of

# ----------------------------------------------------------------------------------------------------------------
# cost hints and test domains (shared helpers)

_SHAPES_1 = [(), (3,), (2, 3), (2, 1, 3)]
_SHAPES_2 = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()), ((4,), (4,))]


def _size(x):
    return int(np.prod(shape_of(x), dtype=np.int64))


def _ew_cost(flops_per_elem):
    def cost(ans, *args, **params):
        n = _size(ans)
        return flops_per_elem * n, 8 * (n + builtins.sum(_size(a) for a in args))
    return cost


def _copy_cost(ans, *args, **params):
    return 0, 8 * (_size(ans) + _size(args[0]))


def _unary_domain(lo, hi):
    def draw(rng):
        shape = _SHAPES_1[rng.integers(len(_SHAPES_1))]
        return (rng.uniform(lo, hi, size=shape),), {}
    return draw


def _binary_domain(lo0, hi0, lo1=None, hi1=None):
    lo1 = lo0 if lo1 is None else lo1
    hi1 = hi0 if hi1 is None else hi1

    def draw(rng):
        s0, s1 = _SHAPES_2[rng.integers(len(_SHAPES_2))]
        return (rng.uniform(lo0, hi0, size=s0), rng.uniform(lo1, hi1, size=s1)), {}
    return draw


def _lead(t, x):
    """Number of leading batch axes a tangent carries over its primal."""
    return ndim_of(t) - ndim_of(x)


# ----------------------------------------------------------------------------------------------------------------
# elementwise arithmetic

_NO_PARAMS: dict = {}   # shared by every parameterless call; nothing writes to it

#: Types that are never boxes: the ops below call numpy directly on them (``bind``'s own first case, inlined).
_PLAIN = frozenset({np.ndarray, np.float64, np.float32, np.float16, np.longdouble, float, int, bool, np.int64,
                    np.int32, np.bool_, np.complex128, complex})

def _op_doc(name, impl, nargs):
    np_name = name if hasattr(np, name) else getattr(impl, "__name__", name)
    src = "scipy.special" if getattr(impl, "__module__", None) is None and not hasattr(np, np_name) else "numpy"
    args = "x" if nargs == 1 else "x, y"
    return (f"Elementwise ``{src}.{np_name}({args})``, with numpy broadcasting; differentiable to any order in "
            f"forward and reverse mode (primitive ``{name}`` of the table).")


def _unary(name, impl, jvp, vjp, cost=1, domain=(-2.0, 2.0), linear=False, needs=None):
    p = Primitive(name, impl, (jvp,), (vjp,), elementwise=True, linear=linear, cost=_ew_cost(cost),
                  domain=_unary_domain(*domain), vjp_needs=needs)

    def op(x):
        # the cases of ``bind`` inlined: plain values (most of what rules run in a backward pass), or one box
        if type(x) in _PLAIN:
            if not _hooks:
                return impl(x)
        elif isinstance(x, Box):
            tr = x._trace
            if tr.alive:
                return tr.process(p, (x,), _NO_PARAMS)
        else:
            x = np.asarray(x)   # a list, a numpy scalar of another type, ...
        return bind(p, x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = p.doc = _op_doc(name, impl, 1)
    op.prim = p
    return op


def _binary(name, impl, jvps, vjps, cost=1, domain=(-2.0, 2.0), linear=False, needs=None):
    p = Primitive(name, impl, jvps, vjps, elementwise=True, linear=linear,
                  cost=cost if callable(cost) else _ew_cost(cost),
                  domain=_binary_domain(*domain), vjp_needs=needs)

    def op(x, y):
        px, py = type(x) in _PLAIN, type(y) in _PLAIN
        if px and py:
            if not _hooks:
                return impl(x, y)
            return bind(p, x, y)
        if not px and not isinstance(x, Box):
            x = np.asarray(x)   # a list, a numpy scalar of another type, ...
            px = True
        if not py and not isinstance(y, Box):
            y = np.asarray(y)
            py = True
        if px:
            tr = None if py else y._trace
        elif py:
            tr = x._trace
        else:   # two boxes: the common case of one trace skips bind's search
            tr = x._trace
            if y._trace is not tr:
                tr = None
        if tr is not None and tr.alive:
            return tr.process(p, (x, y), _NO_PARAMS)
        return bind(p, x, y)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = p.doc = _op_doc(name, impl, 2)
    op.prim = p
    return op


def _scalar_fast(ufunc, pyop):
    """``ufunc`` with the operator's fast path for numpy scalars (a ufunc call on two scalars costs ~10x more);
    two Python floats still go through numpy, so 1.0 / 0.0 is inf, as for arrays, not an exception."""
    def impl(x, y):
        if type(x) is float and type(y) is float:
            return ufunc(x, y)
        return pyop(x, y)
    impl.__name__ = ufunc.__name__
    return impl


# For +, - and * the operator itself is the implementation: on arrays and numpy scalars it is the ufunc, and on
# two Python floats it cannot raise (overflow gives inf). The op functions turn lists into arrays first.
add = _binary("add", operator.add, (lambda t, ans, x, y: t, lambda t, ans, x, y: t),
              (lambda g, ans, x, y: g, lambda g, ans, x, y: g), linear=True, needs=((), ()))
subtract = _binary("subtract", operator.sub, (lambda t, ans, x, y: t, lambda t, ans, x, y: negative(t)),
                   (lambda g, ans, x, y: g, lambda g, ans, x, y: negative(g)), linear=True, needs=((), ()))
multiply = _binary("multiply", operator.mul,
                   (lambda t, ans, x, y: multiply(t, y), lambda t, ans, x, y: multiply(x, t)),
                   (lambda g, ans, x, y: multiply(g, y), lambda g, ans, x, y: multiply(g, x)), linear=True, needs=((1,), (0,)))
divide = _binary("divide", _scalar_fast(np.true_divide, operator.truediv),
                 (lambda t, ans, x, y: divide(t, y), lambda t, ans, x, y: negative(multiply(t, divide(ans, y)))),
                 (lambda g, ans, x, y: divide(g, y), lambda g, ans, x, y: negative(multiply(g, divide(ans, y)))),
                 domain=(-2.0, 2.0, 0.5, 2.0), needs=((1,), (1, "ans")))
negative = _unary("negative", np.negative, lambda t, ans, x: negative(t), lambda g, ans, x: negative(g),
                  cost=1, linear=True, needs=((),))


def _safe_log(x):
    """log(x) where x > 0 and 0 elsewhere: the d/dy of x**y where it exists (0**y has derivative 0 in y)."""
    if isinstance(x, (int, float)):   # keep Python numbers weakly typed, so float32 stays float32
        return float(np.log(x)) if x > 0 else 0.0
    xb = base_value(x)
    bad = xb <= 0
    if np.any(bad):
        return where(bad, 0.0, log(where(bad, 1.0, x)))
    return log(x)


def _pow_dx(d, ans, x, y):
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        if y == 2:
            return multiply(multiply(d, 2.0), x)   # a scalar seed (from a sum) makes this one pass
        if y == 1:
            return d
        if y == 0:
            return multiply(d, 0.0)
    ym1 = y - 1 if isinstance(y, (int, float)) else subtract(y, 1)   # a Python number stays weakly typed
    return multiply(d, multiply(y, power(x, ym1)))


def _pow_cost(ans, x, y, **p):
    n = _size(ans)
    small = isinstance(y, (int, float)) and float(y).is_integer() and 0 <= y <= 4
    return (max(int(y) - 1, 1) if small else 20) * n, 8 * (n + _size(x) + _size(y))


def _power_impl(x, y):
    # ndarray ** 2 (and ** 0.5, ** -1) take numpy's fast paths (square, sqrt, reciprocal): twice as fast as
    # np.power; Python numbers keep numpy's semantics (no complex results, no ZeroDivisionError)
    if type(x) is np.ndarray or type(x) is np.float64:   # numpy scalars follow numpy's rules with ** too
        return x ** y
    return np.power(x, y)


power = _binary("power", _power_impl,
                (_pow_dx, lambda t, ans, x, y: multiply(t, multiply(ans, _safe_log(x)))),
                (_pow_dx, lambda g, ans, x, y: multiply(g, multiply(ans, _safe_log(x)))),
                cost=_pow_cost, domain=(0.5, 2.0, -2.0, 2.0), needs=((0, 1), (0, "ans")))
exp = _unary("exp", np.exp, lambda t, ans, x: multiply(t, ans), lambda g, ans, x: multiply(g, ans), cost=10, needs=(("ans",),))
log = _unary("log", np.log, lambda t, ans, x: divide(t, x), lambda g, ans, x: divide(g, x), cost=10,
             domain=(0.2, 3.0), needs=((0,),))
sin = _unary("sin", np.sin, lambda t, ans, x: multiply(t, cos(x)), lambda g, ans, x: multiply(g, cos(x)), cost=10, needs=((0,),))
cos = _unary("cos", np.cos, lambda t, ans, x: negative(multiply(t, sin(x))),
             lambda g, ans, x: negative(multiply(g, sin(x))), cost=10, needs=((0,),))
tan = _unary("tan", np.tan, lambda t, ans, x: multiply(t, add(1.0, power(ans, 2))),
             lambda g, ans, x: multiply(g, add(1.0, power(ans, 2))), cost=10, domain=(-1.2, 1.2), needs=(("ans",),))
tanh = _unary("tanh", np.tanh, lambda t, ans, x: multiply(t, subtract(1.0, power(ans, 2))),
              lambda g, ans, x: multiply(g, subtract(1.0, power(ans, 2))), cost=10, needs=(("ans",),))
sqrt = _unary("sqrt", np.sqrt, lambda t, ans, x: divide(t, multiply(2.0, ans)),
              lambda g, ans, x: divide(g, multiply(2.0, ans)), cost=5, domain=(0.2, 3.0), needs=(("ans",),))


def _sign(x):
    return np.sign(base_value(x))


absolute = _unary("absolute", np.absolute, lambda t, ans, x: multiply(t, _sign(x)),
                  lambda g, ans, x: multiply(g, _sign(x)), domain=(-2.0, 2.0), needs=((0,),))


def _select_weight(x, y, first):
    """Weight of ``x`` in max/min(x, y): 1 where x wins, 0 where it loses, 1/2 on ties (the ties are split)."""
    xb, yb = base_value(x), base_value(y)
    win = (xb > yb) if first else (xb < yb)
    w = np.where(win, 1.0, np.where(xb == yb, 0.5, 0.0))
    return w.astype(np.result_type(xb, yb, np.float32), copy=False)


maximum = _binary("maximum", np.maximum,
                  (lambda t, ans, x, y: multiply(t, _select_weight(x, y, True)),
                   lambda t, ans, x, y: multiply(t, _select_weight(y, x, True))),
                  (lambda g, ans, x, y: multiply(g, _select_weight(x, y, True)),
                   lambda g, ans, x, y: multiply(g, _select_weight(y, x, True))), needs=((0, 1), (0, 1)))
minimum = _binary("minimum", np.minimum,
                  (lambda t, ans, x, y: multiply(t, _select_weight(x, y, False)),
                   lambda t, ans, x, y: multiply(t, _select_weight(y, x, False))),
                  (lambda g, ans, x, y: multiply(g, _select_weight(x, y, False)),
                   lambda g, ans, x, y: multiply(g, _select_weight(y, x, False))), needs=((0, 1), (0, 1)))


def _where_domain(rng):
    (x, y), _ = _binary_domain(-2.0, 2.0)(rng)
    cond = rng.uniform(size=np.broadcast_shapes(np.shape(x), np.shape(y))) > 0.5
    return (cond, x, y), {}


_where = Primitive(
    "where", np.where,
    (None, lambda t, ans, c, x, y: where(c, t, 0.0), lambda t, ans, c, x, y: where(c, 0.0, t)),
    (None, lambda g, ans, c, x, y: where(c, g, 0.0), lambda g, ans, c, x, y: where(c, 0.0, g)),
    elementwise=True, linear=True, cost=_ew_cost(1), domain=_where_domain, vjp_needs=((), (0,), (0,)))


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y`` (differentiable in ``x`` and ``y``)."""
    return bind(_where, base_value(condition), x, y)


# ----------------------------------------------------------------------------------------------------------------
# reductions

def _norm_axis(axis, nd):
    """Axes as a sorted tuple of negative ints (so rules work unchanged on batched tangents)."""
    if axis is None:
        return tuple(range(-nd, 0))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -nd <= a < nd:
            raise np.exceptions.AxisError(a, nd)
        out.append(a - nd if a >= 0 else a)
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate value in 'axis': {axis}")
    return tuple(sorted(out))


def _keep_shape(xshape, axis):
    nd = len(xshape)
    return tuple(1 if (i - nd) in axis else d for i, d in enumerate(xshape))


def _expand_reduced(g, xshape, axis, keepdims, lazy=False):
    """Broadcast a reduced cotangent back to the input shape. With ``lazy`` the result may stay broadcastable
    (unit axes, or a scalar): the backward engine broadcasts cotangents only where a rule needs the full shape."""
    if not keepdims:
        g = reshape(g, _keep_shape(xshape, axis) if len(axis) < len(xshape) else ())
    return g if lazy else broadcast_to(g, xshape)


def _sum_domain(rng):
    shape = [(3,), (2, 3), (2, 3, 4)][rng.integers(3)]
    nd = len(shape)
    k = rng.integers(0, nd + 1)
    axis = tuple(sorted(rng.choice(nd, size=k, replace=False).tolist())) if k else None
    return (rng.uniform(-2, 2, size=shape),), {"axis": _norm_axis(axis, nd), "keepdims": bool(rng.integers(2))}


_ONES: dict = {}
_BLAS_FLOATS = frozenset({np.dtype(np.float64), np.dtype(np.float32)})


def _ones(k, dtype):
    v = _ONES.get((k, dtype))
    if v is None:
        v = np.ones(k, dtype=dtype)
        v.flags.writeable = False
        if k <= 4096:
            _ONES[(k, dtype)] = v
    return v


def _sum_impl(x, axis, keepdims):
    if (type(x) is np.ndarray and x.ndim == 2 and len(axis) == 1 and x.dtype in _BLAS_FLOATS
            and x.flags.c_contiguous and x.size):
        # one axis of a matrix: a matrix-vector product with ones is 2-4x faster than add.reduce on the short
        # rows and columns of a batch of logits or activations (same value up to rounding)
        ans = x @ _ones(x.shape[1], x.dtype) if axis[0] == -1 else _ones(x.shape[0], x.dtype) @ x
        return ans.reshape(_keep_shape(x.shape, axis)) if keepdims else ans
    # the ufunc's own reduce skips np.sum's Python layer; a full reduction is fastest with axis=None
    return np.add.reduce(x, axis=None if len(axis) == np.ndim(x) and not keepdims else axis, keepdims=keepdims)


_sum_p = Primitive(
    "sum", _sum_impl,
    (lambda t, ans, x, axis, keepdims: _sum(t, axis, keepdims),),
    (lambda g, ans, x, axis, keepdims: _expand_reduced(g, shape_of(x), axis, keepdims, lazy=True),),
    linear=True, cost=lambda ans, x, **p: (_size(x), 8 * (_size(x) + _size(ans))), domain=_sum_domain, vjp_needs=((),))


def _sum(x, axis, keepdims):
    return bind(_sum_p, x, axis=axis, keepdims=keepdims)


def reduce_sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (an int, a tuple of ints or ``None`` for all)."""
    return bind(_sum_p, x, axis=_norm_axis(axis, ndim_of(x)), keepdims=bool(keepdims))


def _extreme_weights(x, ans, axis, keepdims):
    """Where the max/min is attained, each tie weighted 1/(number of ties): the derivative splits ties evenly."""
    xb, ab = base_value(x), base_value(ans)
    if not keepdims:
        ab = np.reshape(ab, _keep_shape(np.shape(xb), axis))
    hit = (xb == ab).astype(np.result_type(xb, np.float32))
    return hit / np.sum(hit, axis=axis, keepdims=True)


def _extreme(name, impl):
    p = Primitive(
        name, lambda x, axis, keepdims: impl(x, axis=axis, keepdims=keepdims),
        (lambda t, ans, x, axis, keepdims: _sum(multiply(t, _extreme_weights(x, ans, axis, keepdims)),
                                                axis, keepdims),),
        (lambda g, ans, x, axis, keepdims: multiply(_expand_reduced(g, shape_of(x), axis, keepdims),
                                                    _extreme_weights(x, ans, axis, keepdims)),),
        cost=lambda ans, x, **p: (_size(x), 8 * (_size(x) + _size(ans))), domain=_sum_domain)

    def op(x, axis=None, keepdims=False):
        return bind(p, x, axis=_norm_axis(axis, ndim_of(x)), keepdims=bool(keepdims))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{'Maximum' if name == 'amax' else 'Minimum'} over ``axis``; ties share the derivative evenly."
    op.prim = p
    return op


amax = _extreme("amax", np.amax)
amin = _extreme("amin", np.amin)

# ----------------------------------------------------------------------------------------------------------------
# shape and indexing


def _reshape_domain(rng):
    x = rng.uniform(-2, 2, size=(2, 3, 2))
    return (x,), {"shape": [(12,), (3, 4), (2, 6, 1), (4, 3)][rng.integers(4)]}


def _reshape_impl(x, shape):
    return x.reshape(shape) if isinstance(x, np.ndarray) else np.reshape(x, shape)


_reshape = Primitive(
    "reshape", _reshape_impl,
    (lambda t, ans, x, shape: reshape(t, tuple(shape_of(t)[:_lead(t, x)]) + shape),),
    (lambda g, ans, x, shape: reshape(g, shape_of(x)),),
    linear=True, cost=_copy_cost, domain=_reshape_domain, vjp_needs=((),))


def reshape(x, shape):
    """``x`` with a new shape (one entry may be -1)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        shape = np.empty(shape_of(x), dtype=np.int8).reshape(shape).shape
    if shape == tuple(shape_of(x)):
        return x
    return bind(_reshape, x, shape=shape)


def _transpose_domain(rng):
    x = rng.uniform(-2, 2, size=(2, 3, 4))
    return (x,), {"axes": tuple(rng.permutation(3).tolist())}


def _transpose_jvp(t, ans, x, axes):
    k = _lead(t, x)
    return transpose(t, tuple(range(k)) + tuple(a + k for a in axes))


_transpose = Primitive(
    "transpose", lambda x, axes: np.transpose(x, axes),
    (_transpose_jvp,),
    (lambda g, ans, x, axes: transpose(g, tuple(np.argsort(axes).tolist())),),
    linear=True, cost=_copy_cost, domain=_transpose_domain, vjp_needs=((),))


def transpose(x, axes=None):
    """Permute the axes of ``x`` (reverse them when ``axes`` is None)."""
    nd = ndim_of(x)
    axes = tuple(range(nd))[::-1] if axes is None else tuple(int(a) % nd if nd else int(a) for a in axes)
    if axes == tuple(range(nd)):
        return x
    return bind(_transpose, x, axes=axes)


def _align(t, nd_from, nd_to):
    """Insert unit axes after a tangent's batch axes so it broadcasts like its primal against ``nd_to`` dims."""
    k = ndim_of(t) - nd_from
    if k == 0 or nd_from == nd_to:
        return t
    s = tuple(shape_of(t))
    return reshape(t, s[:k] + (1,) * (nd_to - nd_from) + s[k:])


def _broadcast_domain(rng):
    x = rng.uniform(-2, 2, size=[(3,), (2, 1), (1, 3), ()][rng.integers(4)])
    return (x,), {"shape": (2, 2, 3) if np.ndim(x) != 2 or np.shape(x)[1] == 3 else (2, 2, 1)}


def _broadcast_jvp(t, ans, x, shape):
    k = _lead(t, x)
    t = _align(t, ndim_of(x), len(shape))
    return broadcast_to(t, tuple(shape_of(t)[:k]) + shape)


def _broadcast_impl(x, shape):
    if type(x) is np.ndarray and x.ndim == 0 or isinstance(x, (float, np.floating)):
        # a scalar spread over ``shape`` as a read-only zero-stride view (np.broadcast_to's Python layer is slow)
        x = np.asarray(x)
        out = np.ndarray(shape, dtype=x.dtype, buffer=x, strides=(0,) * len(shape))
        out.flags.writeable = False
        return out
    return np.broadcast_to(x, shape)


_broadcast_to = Primitive(
    "broadcast_to", _broadcast_impl,
    (_broadcast_jvp,),
    (lambda g, ans, x, shape: unbroadcast(g, shape_of(x)),),
    linear=True, cost=_copy_cost, domain=_broadcast_domain, vjp_needs=((),))


def broadcast_to(x, shape):
    """A read-only view of ``x`` broadcast to ``shape``."""
    shape = tuple(int(s) for s in shape)
    if tuple(shape_of(x)) == shape:
        return x
    return bind(_broadcast_to, x, shape=shape)


def unbroadcast(g, shape):
    """Sum a cotangent over the axes that broadcasting added or stretched, giving it ``shape``."""
    gshape = tuple(shape_of(g))
    shape = tuple(shape)
    if gshape == shape:
        return g
    nd = len(gshape)
    k = nd - len(shape)
    axes = tuple(range(-nd, -nd + k)) + tuple(i - len(shape) for i, d in enumerate(shape)
                                                if d == 1 and gshape[k + i] != 1)
    if axes:
        g = _sum(g, axes, False)
    return reshape(g, shape)


def _to_end(t, k):
    """Move the first ``k`` (batch) axes of ``t`` to the end."""
    nd = ndim_of(t)
    return transpose(t, tuple(range(k, nd)) + tuple(range(k)))


def _to_front(t, k):
    """Move the last ``k`` axes of ``t`` to the front."""
    nd = ndim_of(t)
    return transpose(t, tuple(range(nd - k, nd)) + tuple(range(nd - k)))


def _getitem_jvp(t, ans, x, idx):
    k = _lead(t, x)
    if k == 0:
        return getitem(t, idx)
    # batch axes moved to the end are untouched by ``idx`` (it holds no Ellipsis), whatever advanced indexing does
    return _to_front(getitem(_to_end(t, k), idx), k)


def _scatter_jvp(t, ans, g, idx, shape):
    k = _lead(t, g)
    if k == 0:
        return scatter_add(t, idx, shape)
    lead = tuple(shape_of(t)[:k])
    return _to_front(scatter_add(_to_end(t, k), idx, shape + lead), k)


def _getitem_domain(rng):
    x = rng.uniform(-2, 2, size=(4, 3))
    idx = [(1,), (slice(1, 3),), (slice(None), 2), (np.array([0, 2, 2]),), (x > 0,),
           (np.array([1, 0]), slice(None, None, -1)), (None, slice(None), 1)][rng.integers(7)]
    return (x,), {"idx": idx}


def _getitem_into(buf, g, ans, x, idx):
    if _has_int_array(idx):
        np.add.at(buf, idx, g)   # repeated indices must add up
    else:
        buf[idx] += g


_getitem = Primitive(
    "getitem", lambda x, idx: x[idx],
    (_getitem_jvp,),
    (lambda g, ans, x, idx: scatter_add(g, idx, tuple(shape_of(x))),),
    linear=True, cost=_copy_cost, domain=_getitem_domain, vjp_into=(_getitem_into,), vjp_needs=((),))


def _has_int_array(idx):
    for i in idx:
        if type(i) is not slice and isinstance(i, np.ndarray) and i.dtype.kind in "iu":
            return True
    return False


def _scatter_impl(g, idx, shape):
    g = np.asarray(g)
    z = np.zeros(shape, dtype=g.dtype)
    if _has_int_array(idx):
        np.add.at(z, idx, g)   # repeated indices must add up
    else:
        z[idx] = g
    return z


def _scatter_domain(rng):
    (x,), p = _getitem_domain(rng)
    return (rng.uniform(-2, 2, size=np.shape(x[p["idx"]])),), {"idx": p["idx"], "shape": (4, 3)}


_scatter_add = Primitive(
    "scatter_add", _scatter_impl,
    (_scatter_jvp,),
    (lambda ct, ans, g, idx, shape: getitem(ct, idx),),
    linear=True, cost=lambda ans, g, **p: (_size(g), 8 * (_size(ans) + _size(g))), domain=_scatter_domain, vjp_needs=((),))


def normalize_index(idx, nd):
    """An index as a tuple with plain-array entries and no Ellipsis (expanded against ``nd`` dimensions)."""
    ti = type(idx)
    if ti is slice or ti is int:   # the common cases, already normal
        return (idx,)
    if ti is not tuple:
        idx = (idx,)
    elif all(type(i) is slice or type(i) is int for i in idx):
        return idx
    out = []
    for i in idx:
        i = base_value(i)
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind == "f":
            raise IndexError("arrays used as indices must be of integer or boolean type")
        out.append(i)
    if builtins.any(i is Ellipsis for i in out):
        used = builtins.sum(np.ndim(i) if isinstance(i, np.ndarray) and i.dtype == bool else 1
                            for i in out if i is not None and i is not Ellipsis)
        e = next(j for j, i in enumerate(out) if i is Ellipsis)
        out[e:e + 1] = [slice(None)] * (nd - used)
        if builtins.any(i is Ellipsis for i in out):
            raise IndexError("an index can only have a single ellipsis ('...')")
    return tuple(out)


def getitem(x, idx):
    """``x[idx]`` for basic and advanced numpy indices."""
    ti = type(idx)
    idx = (idx,) if ti is slice or ti is int else normalize_index(idx, ndim_of(x))
    if type(x) in _PLAIN:
        if not _hooks:
            return x[idx]
    elif isinstance(x, Box) and x._trace.alive:
        return x._trace.process(_getitem, (x,), {"idx": idx})
    return bind(_getitem, x, idx=idx)


def scatter_add(g, idx, shape):
    """A zero array of ``shape`` with ``g`` added at ``idx`` (repeated indices add up): the transpose of getitem."""
    return bind(_scatter_add, g, idx=normalize_index(idx, len(shape)), shape=tuple(shape))


# ----------------------------------------------------------------------------------------------------------------
# contraction


def _mT(x):
    nd = ndim_of(x)
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _matmul_jvp_a(t, ans, a, b):
    k, na, nb = _lead(t, a), ndim_of(a), ndim_of(b)
    if k == 0 or na == 1 and nb <= 2:
        return matmul(t, b)   # a batch of row vectors times a matrix is one matrix product
    lead = tuple(shape_of(t)[:k])
    if na == 1:   # (L, n) -> (L, 1.., 1, n) so the vector meets b's batch axes as a row
        t = reshape(t, lead + (1,) * (nb - 2) + (1, shape_of(a)[0]))
        r = matmul(t, b)
        return reshape(r, lead + tuple(shape_of(ans)))
    return matmul(reshape(t, lead + (1,) * max(0, nb - na) + tuple(shape_of(a))), b)


def _matmul_jvp_b(t, ans, a, b):
    k, na, nb = _lead(t, b), ndim_of(a), ndim_of(b)
    if k == 0:
        return matmul(a, t)
    if nb == 1 and na == 2:
        return matmul(t, _mT(a))   # (L, n) @ a^T: one matrix product, not L matrix-vector products
    lead = tuple(shape_of(t)[:k])
    if nb == 1:   # (L, n) -> (L, 1.., n, 1): a column per batch entry
        t = reshape(t, lead + (1,) * max(0, na - 2) + (shape_of(b)[0], 1))
        return reshape(matmul(a, t), lead + tuple(shape_of(ans)))
    return matmul(a, reshape(t, lead + (1,) * max(0, na - nb) + tuple(shape_of(b))))


def _matmul_vjp_a(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if na == 1 and nb == 1:
        return multiply(g, b)
    if nb == 1:
        return multiply(reshape(g, tuple(shape_of(g)) + (1,)), b)
    if na == 1 and nb == 2:
        return matmul(b, g)
    if na == 1:
        g = reshape(g, tuple(shape_of(g)[:-1]) + (1, shape_of(g)[-1]))
        return matmul(g, _mT(b))
    return matmul(g, _mT(b))


def _matmul_vjp_b(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if na == 1 and nb == 1:
        return multiply(g, a)
    if na == 2 and nb == 1:
        return matmul(g, a)
    if na == 1:
        return multiply(reshape(a, (shape_of(a)[0], 1)), reshape(g, tuple(shape_of(g)[:-1]) + (1, shape_of(g)[-1])))
    if nb == 1:
        return reshape(matmul(_mT(a), reshape(g, tuple(shape_of(g)) + (1,))), tuple(shape_of(g)[:-1])
                       + (shape_of(a)[-1],))
    return matmul(_mT(a), g)


def _matmul_domain(rng):
    sa, sb = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
              ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2))][rng.integers(7)]
    return (rng.uniform(-2, 2, size=sa), rng.uniform(-2, 2, size=sb)), {}


def _matmul_cost(ans, a, b, **p):
    k = shape_of(a)[-1]
    return 2 * _size(ans) * k, 8 * (_size(a) + _size(b) + _size(ans))


# Seeds of batched forward passes (jacfwd, hessian) are rows ``start..start+k`` of an identity matrix. matmul
# recognizes them (by identity of the object, through a weak reference, so no copy or view can pass for one) and
# returns the selected rows instead of multiplying: a dense Hessian then costs one matrix product fewer.
_SELECTORS: dict = {}


def mark_selector(e, start):
    """Register ``e`` (shape ``(k, n)``, rows ``start..start+k`` of the n x n identity) for :func:`matmul`."""
    key = id(e)
    _SELECTORS[key] = (weakref.ref(e, lambda _, key=key: _SELECTORS.pop(key, None)), start)
    return e


def _matmul_impl(a, b):
    if _SELECTORS and type(a) is np.ndarray and type(b) is np.ndarray:
        hit = _SELECTORS.get(id(a))
        if hit is not None and hit[0]() is a and b.ndim in (1, 2) and b.shape[0] == a.shape[1]:
            start = hit[1]
            return np.array(b[start:start + a.shape[0]], dtype=np.result_type(a, b))
    return np.matmul(a, b)


_matmul = Primitive("matmul", _matmul_impl, (_matmul_jvp_a, _matmul_jvp_b), (_matmul_vjp_a, _matmul_vjp_b),
                    linear=True, cost=_matmul_cost, domain=_matmul_domain, vjp_needs=((1,), (0,)))


def matmul(a, b):
    """Matrix product with numpy's ``@`` semantics (1-D operands are vectors; leading axes broadcast)."""
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        raise ValueError("matmul: input operand does not have enough dimensions (use multiply for scalars)")
    return bind(_matmul, a, b)


# names under which the table's ops are exported
sum = reduce_sum
