"""The primitive table, elementwise arithmetic: ``add`` ... ``where``, and the factories of elementwise primitives.

The table (this package) declares every differentiable operation of hodiff exactly once.

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

import operator
from typing import Any, Callable

import numpy as np

from ..core.engine import Primitive, binary_door, bind, lower, lower_value, size_of, unary_door
from .common import binary_domain, ew_cost, unary_domain

# Rules refer to ops declared further down (a rule runs only when called); declaring their types here lets a type
# checker follow those forward references.
negative: Callable[..., Any]
multiply: Callable[..., Any]
divide: Callable[..., Any]
cos: Callable[..., Any]


def _op_doc(name, impl, nargs):
    np_name = name if hasattr(np, name) else getattr(impl, "__name__", name)
    src = "scipy.special" if getattr(impl, "__module__", None) is None and not hasattr(np, np_name) else "numpy"
    args = "x" if nargs == 1 else "x, y"
    return (f"Elementwise ``{src}.{np_name}({args})``, with numpy broadcasting; differentiable to any order in "
            f"forward and reverse mode (primitive ``{name}`` of the table).")


# An elementwise rule is the same function for JVP and VJP: the tangent or the cotangent (here ``d``, for either)
# times the local derivative, elementwise. So each elementwise entry gives one rule per argument, used both ways.


def unary_primitive(name, impl, rule, cost=1, domain=(-2.0, 2.0), linear=False, needs=None):
    """Declare an elementwise primitive of one argument with its rule ``rule(d, ans, x)`` (JVP and VJP alike);
    returns its op function (built by ``unary_door``)."""
    p = Primitive(name, impl, (rule,), (rule,), elementwise=True, linear=linear, cost=ew_cost(cost),
                  domain=unary_domain(*domain), vjp_needs=needs)
    return _named(unary_door(p), p, _op_doc(name, impl, 1))


def binary_primitive(name, impl, rules, cost=1, domain=(-2.0, 2.0), linear=False, needs=None):
    """Declare an elementwise primitive of two arguments with one rule ``rule(d, ans, x, y)`` per argument (JVP
    and VJP alike); returns its op function (built by ``binary_door``)."""
    p = Primitive(name, impl, rules, rules, elementwise=True, linear=linear,
                  cost=cost if callable(cost) else ew_cost(cost),
                  domain=binary_domain(*domain), vjp_needs=needs)
    return _named(binary_door(p), p, _op_doc(name, impl, 2))


def _named(op, p, doc):
    op.__name__ = op.__qualname__ = p.name
    op.__doc__ = p.doc = doc
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
add = binary_primitive("add", operator.add, (lambda d, ans, x, y: d, lambda d, ans, x, y: d),
                       linear=True, needs=((), ()))
subtract = binary_primitive("subtract", operator.sub, (lambda d, ans, x, y: d, lambda d, ans, x, y: negative(d)),
                            linear=True, needs=((), ()))
multiply = binary_primitive("multiply", operator.mul,
                            (lambda d, ans, x, y: multiply(d, y), lambda d, ans, x, y: multiply(d, x)),
                            linear=True, needs=((1,), (0,)))
divide = binary_primitive("divide", _scalar_fast(np.true_divide, operator.truediv),
                          (lambda d, ans, x, y: divide(d, y), lambda d, ans, x, y: negative(multiply(d, divide(ans, y)))),
                          domain=(-2.0, 2.0, 0.5, 2.0), needs=((1,), (1, "ans")))
negative = unary_primitive("negative", np.negative, lambda d, ans, x: negative(d), cost=1, linear=True, needs=((),))


def safe_log(x):
    """The ``log(x)`` factor of d/dy x**y: ``log(x)`` for x > 0; 0 at x = 0 (0**y is 0 for y > 0 on both sides,
    the convention PyTorch and JAX share); NaN for x < 0, where x**y is not defined off the integers."""
    if isinstance(x, (int, float)):   # keep Python numbers weakly typed, so float32 stays float32
        return float(np.log(x)) if x > 0 else (0.0 if x == 0 else float("nan"))
    bad = lower(np.less_equal, x, 0)       # masks through lower: recomputed when an hd.jit program replays
    if bool(lower(np.any, bad)):
        return where(bad, lower(_log_off_domain, x), log(where(bad, 1.0, x)))
    return log(x)


def _log_off_domain(xb):
    return np.where(xb == 0, 0.0, np.nan)


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
    n = size_of(ans)
    small = isinstance(y, (int, float)) and float(y).is_integer() and 0 <= y <= 4
    return (max(int(y) - 1, 1) if small else 20) * n, 8 * (n + size_of(x) + size_of(y))


def _power_impl(x, y):
    # ndarray ** 2 (and ** 0.5, ** -1) take numpy's fast paths (square, sqrt, reciprocal): twice as fast as
    # np.power; Python numbers keep numpy's semantics (no complex results, no ZeroDivisionError)
    if type(x) is np.ndarray or type(x) is np.float64:   # numpy scalars follow numpy's rules with ** too
        return x ** y
    return np.power(x, y)


power = binary_primitive("power", _power_impl,
                         (_pow_dx, lambda d, ans, x, y: multiply(d, multiply(ans, safe_log(x)))),
                         cost=_pow_cost, domain=(0.5, 2.0, -2.0, 2.0), needs=((0, 1), (0, "ans")))
exp = unary_primitive("exp", np.exp, lambda d, ans, x: multiply(d, ans), cost=10, needs=(("ans",),))
log = unary_primitive("log", np.log, lambda d, ans, x: divide(d, x), cost=10, domain=(0.2, 3.0), needs=((0,),))
sin = unary_primitive("sin", np.sin, lambda d, ans, x: multiply(d, cos(x)), cost=10, needs=((0,),))
cos = unary_primitive("cos", np.cos, lambda d, ans, x: negative(multiply(d, sin(x))), cost=10, needs=((0,),))
tan = unary_primitive("tan", np.tan, lambda d, ans, x: multiply(d, add(1.0, power(ans, 2))), cost=10,
                      domain=(-1.2, 1.2), needs=(("ans",),))
tanh = unary_primitive("tanh", np.tanh, lambda d, ans, x: multiply(d, subtract(1.0, power(ans, 2))), cost=10,
                       needs=(("ans",),))
sqrt = unary_primitive("sqrt", np.sqrt, lambda d, ans, x: divide(d, multiply(2.0, ans)), cost=5, domain=(0.2, 3.0),
                       needs=(("ans",),))


def sign_of(x):
    return lower(np.sign, x)


absolute = unary_primitive("absolute", np.absolute, lambda d, ans, x: multiply(d, sign_of(x)), domain=(-2.0, 2.0),
                           needs=((0,),))


def select_weight(x, y, first):
    """Weight of ``x`` in max/min(x, y): 1 where x wins, 0 where it loses, 1/2 on ties (the ties are split)."""
    return lower(_select_weight, x, y, first)


def _select_weight(xb, yb, first):
    win = (xb > yb) if first else (xb < yb)
    w = np.where(win, 1.0, np.where(xb == yb, 0.5, 0.0))
    return w.astype(np.result_type(xb, yb, np.float32), copy=False)


maximum = binary_primitive("maximum", np.maximum,
                           (lambda d, ans, x, y: multiply(d, select_weight(x, y, True)),
                            lambda d, ans, x, y: multiply(d, select_weight(y, x, True))), needs=((0, 1), (0, 1)))
minimum = binary_primitive("minimum", np.minimum,
                           (lambda d, ans, x, y: multiply(d, select_weight(x, y, False)),
                            lambda d, ans, x, y: multiply(d, select_weight(y, x, False))), needs=((0, 1), (0, 1)))


def _where_domain(rng):
    (x, y), _ = binary_domain(-2.0, 2.0)(rng)
    cond = rng.uniform(size=np.broadcast_shapes(np.shape(x), np.shape(y))) > 0.5
    return (cond, x, y), {}


_WHERE_RULES = (None, lambda d, ans, c, x, y: where(c, d, 0.0), lambda d, ans, c, x, y: where(c, 0.0, d))
_where = Primitive(
    "where", np.where,
    _WHERE_RULES, _WHERE_RULES,
    elementwise=True, linear=True, cost=ew_cost(1), domain=_where_domain, vjp_needs=((), (0,), (0,)))


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y`` (differentiable in ``x`` and ``y``)."""
    return bind(_where, lower_value(condition), x, y)
