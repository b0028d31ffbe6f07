"""The engine's meeting point: primitives, boxes, traces (levels) and ``bind``.

Every differentiable operation in hodiff is a :class:`Primitive`, declared once in the primitive table
(``_src/table/``). The only way a primitive is applied is :func:`bind`. ``bind`` looks at its arguments: plain
arrays go straight to the numpy implementation; otherwise the box (a forward :class:`~hodiff.Dual` or a reverse
:class:`~hodiff.Tensor`) with the highest *level* decides which interpreter (trace) handles the call. That interpreter
unwraps its own boxes, calls ``bind`` again on the values one level down, and applies the primitive's JVP rule or
records a tape node. Boxes of lower levels are constants to it, which is what keeps nested transforms from confusing
their perturbations.

Levels are unique, increasing integers: a transform opened later (an inner one) always has the higher level.
"""
from __future__ import annotations

import itertools

import numpy as np

from .events import PRIMITIVE_RAN, emit

__all__ = [
    "NO_PARAMS",
    "PLAIN",
    "PRIMITIVES",
    "Box",
    "EscapedBoxError",
    "HodiffError",
    "Primitive",
    "Trace",
    "Variadic",
    "base_value",
    "bind",
    "bind1",
    "bind_below",
    "binary_door",
    "ndim_of",
    "opened",
    "shape_of",
    "size_of",
    "StagedBox",
    "lower",
    "lower_value",
    "dtype_of",
    "unary_door",
]


class HodiffError(Exception):
    """Base class of hodiff's own errors."""


class EscapedBoxError(HodiffError):
    """A box of a transform that has already returned reached an operation."""


#: The primitive table: name -> Primitive. Filled by the modules of ``_src/table/``; read by every interpreter and the tests.
PRIMITIVES: dict[str, Primitive] = {}


class Primitive:
    """One entry of the primitive table.

    Attributes
    ----------
    name : str
        Unique name, also the key in :data:`PRIMITIVES`.
    impl : callable
        ``impl(*arrays, **params)``: the numpy implementation on plain values.
    jvp : tuple of callables or None
        One rule per positional argument, ``rule(t, ans, *primals, **params)`` returning the contribution of
        the tangent ``t`` of that argument to the output tangent. ``None`` marks an argument that is not
        differentiable. Tangents may carry leading batch axes; rules must treat them uniformly.
    vjp : tuple of callables or None
        One rule per positional argument, ``rule(g, ans, *primals, **params)`` returning the cotangent of that
        argument. The engine sums it back to the argument's shape when broadcasting made it bigger.
    elementwise : bool
        Elementwise with numpy broadcasting: the engine aligns batched tangents before the JVP rule.
    linear : bool
        Linear in its differentiable arguments (jointly or separately); metadata for cost and sparsity analysis.
    cost : callable
        ``cost(ans, *args, **params) -> (flops, bytes)`` a rough count used by the cost analysis.
    domain : callable
        ``domain(rng) -> (args, params)`` draws a valid input; the generated tests walk every entry with it.
    jvp_joint : callable, optional
        ``rule(tangents, ans, *primals, **params)`` with ``None`` for absent tangents, for primitives whose
        tangent is cheaper to form in one go (``concatenate``); replaces the per-argument rules in forward mode.

    vjp_into : tuple of callables, optional
        A faster form of a VJP rule for plain arrays, ``rule(buf, g, ans, *primals, **params)``, that adds the
        cotangent into ``buf`` (a buffer the engine owns, of the argument's shape) in place. ``getitem`` uses it
        so that a slice's cotangent is added into the slice instead of into a new zero array. Used only when
        nothing is being traced through the backward pass; the ``vjp`` rule stays the definition.

    vjp_needs : tuple, optional
        Per argument, what its VJP rule reads: argument indices and/or ``"ans"``. The tape saves only what the
        rules of the arguments being differentiated need (others keep just their shape and dtype), so
        intermediates can be freed. ``None`` (the default) saves everything.

    Variadic primitives give ``jvp``/``vjp`` as a :class:`Variadic`, which hands the argument index to one rule.
    """

    def save_plan(self, key):
        """What the tape saves for a call ``key = (mask, nargs)``, ``mask`` having bit i set for each argument i
        being differentiated: ``(indices of arguments it may drop, save ans?)``, cached per key."""
        plan = self._plans.get(key)
        if plan is None:
            mask, nargs = key
            needs = self.vjp_needs
            if needs is None:
                plan = ((), True)
            else:
                want = set()
                for i in range(nargs):
                    if mask >> i & 1:
                        want.update(needs[i])
                plan = (tuple(j for j in range(nargs) if j not in want), "ans" in want)
            self._plans[key] = plan
        return plan

    __slots__ = (
        "_plans",
        "cost",
        "doc",
        "domain",
        "elementwise",
        "impl",
        "jvp",
        "jvp_joint",
        "linear",
        "name",
        "vjp",
        "vjp_into",
        "vjp_needs",
    )

    def __init__(self, name, impl, jvp, vjp, *, elementwise=False, linear=False, cost=None, domain=None, doc="",
                 jvp_joint=None, vjp_into=None, vjp_needs=None):
        if name in PRIMITIVES:
            raise ValueError(f"primitive {name!r} is declared twice")
        self.name = name
        self.impl = impl
        self.jvp = jvp if isinstance(jvp, Variadic) else tuple(jvp)
        self.vjp = vjp if isinstance(vjp, Variadic) else tuple(vjp)
        self.elementwise = elementwise
        self.linear = linear
        self.cost = cost
        self.domain = domain
        self.doc = doc
        self.jvp_joint = jvp_joint
        self.vjp_into = vjp_into
        self.vjp_needs = vjp_needs
        self._plans = {}
        PRIMITIVES[name] = self

    def __repr__(self):
        return f"<primitive {self.name}>"

    def bind(self, *args, **params):
        return bind(self, *args, **params)


class Variadic:
    """Per-argument rules of a variadic primitive: ``rules[i]`` is ``rule`` with ``i`` bound first."""

    __slots__ = ("rule",)

    def __init__(self, rule):
        self.rule = rule

    def __getitem__(self, i):
        rule = self.rule
        return lambda *a, **k: rule(i, *a, **k)

    def __len__(self):
        return 0


class Trace:
    """An interpreter at one level. Subclasses implement :meth:`process`."""

    __slots__ = ("__weakref__", "alive", "level")

    def __init__(self, level):
        self.level = level
        self.alive = True

    def process(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError


class opened:
    """``with opened(trace):`` keeps a transform's level open for the block and closes it however the block ends,
    so that its boxes, if they escape, raise :class:`EscapedBoxError` instead of being taken for constants."""

    __slots__ = ("trace",)

    def __init__(self, trace):
        self.trace = trace

    def __enter__(self):
        return self.trace

    def __exit__(self, *exc):
        self.trace.alive = False


_level_counter = itertools.count(1)


def new_level():
    """A fresh level, higher than every level handed out before."""
    return next(_level_counter)


class Box:
    """Base class of the values an interpreter follows (``Dual`` and ``Tensor``)."""

    __slots__ = ()
    # numpy must hand mixed operations (ndarray * box) to the box.
    __array_priority__ = 1000.0


#: Types that are never boxes: the doors below call numpy directly on them (``bind``'s first case).
PLAIN = frozenset({np.ndarray, np.float64, np.float32, np.float16, np.longdouble, float, int, bool, np.int64,
                   np.int32, np.bool_, np.complex128, complex})

NO_PARAMS: dict = {}   # shared by every parameterless call; nothing writes to it


def bind(prim, *args, **params):
    """Apply ``prim`` to ``args``: the one entry point of every primitive in hodiff."""
    top = None
    for a in args:
        if isinstance(a, Box):
            tr = a._trace
            if top is None or tr.level > top.level:
                top = tr
    if top is None:
        ans = prim.impl(*args, **params)
        if PRIMITIVE_RAN:
            emit(PRIMITIVE_RAN, prim, args, params, ans)
        return ans
    if not top.alive:
        raise EscapedBoxError(
            f"a value traced by a hodiff transform that has already returned reached {prim.name!r}. "
            "Values inside a function being differentiated must not be stored and used after the transform "
            "finishes; return them instead.")
    return top.process(prim, args, params)


# ----------------------------------------------------------------------------------------------------------------
# The fast doors: ``bind`` for callers that already know something about the arguments.
#
# Most primitive calls have one argument or two, or come from an interpreter that has just unwrapped its own
# boxes and knows what is left. For them the search of ``bind`` is wasted work, so the op functions of the table
# (built by :func:`unary_door`, :func:`binary_door`), ``getitem`` (:func:`bind1`) and the interpreters' ``process``
# (:func:`bind_below`) enter through these instead. They keep ``bind``'s invariants, and nothing else may
# shortcut it:
#
# 1. plain arguments only (types in ``PLAIN``): the numpy implementation runs directly, unless someone listens
#    to ``PRIMITIVE_RAN``, in which case ``bind`` runs (so every primitive on plain values is seen);
# 2. boxes of one trace only, and that trace alive: its ``process`` runs directly (it is the highest level);
# 3. anything else (boxes of several traces, a dead trace, lists and other array-likes): ``bind`` itself, which
#    finds the highest level and raises ``EscapedBoxError`` for a dead one.
#
# ``unary_door`` and ``binary_door`` return the op function itself rather than being called by it: the op
# functions are the hottest path of the engine (every rule runs through them), and a call layer would cost more
# than the work the door saves.


def unary_door(prim):
    """The op function ``op(x)`` of a one-argument, parameterless primitive."""
    impl = prim.impl

    def op(x):
        if type(x) in PLAIN:
            if not PRIMITIVE_RAN:
                return impl(x)
        elif isinstance(x, Box):
            tr = x._trace
            if tr.alive:
                return tr.process(prim, (x,), NO_PARAMS)
        else:
            x = np.asarray(x)   # a list, a numpy scalar of another type, ...
        return bind(prim, x)
    return op


def binary_door(prim):
    """The op function ``op(x, y)`` of a two-argument, parameterless primitive."""
    impl = prim.impl

    def op(x, y):
        px, py = type(x) in PLAIN, type(y) in PLAIN
        if px and py:
            if not PRIMITIVE_RAN:
                return impl(x, y)
            return bind(prim, x, y)
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
            return tr.process(prim, (x, y), NO_PARAMS)
        return bind(prim, x, y)
    return op


def bind1(prim, x, params):
    """``bind(prim, x, **params)`` for one argument (``getitem``)."""
    if type(x) in PLAIN:
        if not PRIMITIVE_RAN:
            return prim.impl(x, **params)
    elif isinstance(x, Box) and x._trace.alive:
        return x._trace.process(prim, (x,), params)
    return bind(prim, x, **params)


def bind_below(prim, args, params, below, mixed):
    """``bind`` for an interpreter's ``process`` once it has unwrapped its own boxes: ``args`` are the values one
    level down, ``below`` the trace of the boxes among them (None: all plain), ``mixed`` whether boxes of other
    traces are there too."""
    if below is None:
        if not PRIMITIVE_RAN:
            return prim.impl(*args, **params) if params else prim.impl(*args)
    elif not mixed and below.alive:
        return below.process(prim, args, params)
    return bind(prim, *args, **params)


def base_value(x):
    """Strip every box: the plain numpy value underneath."""
    while isinstance(x, Box):
        x = x._base()
    return x


class StagedBox(Box):
    """Base class of the values ``hd.jit`` follows while it records a program (``interpreters/staging.py``).

    A staged value is the lowest box of all while a program is recorded. Reading its number directly (through
    :func:`base_value`, ``np.asarray``, ``bool``, ``float``) is what Python control flow and raw numpy in a rule
    do, and the recorder must see it: such a read becomes a guard of the program. :func:`lower_value` stops at a
    staged value instead, so code that only needs a value without derivative can hand it to :func:`lower` and stay
    recorded.
    """

    __slots__ = ()


def lower_value(x):
    """Strip every box down to the plain value, or to a staged value (``hd.jit`` recording) if there is one."""
    while isinstance(x, Box) and not isinstance(x, StagedBox):
        x = x._base()
    return x


def dtype_of(x):
    """The dtype of ``x`` (an array, a box, a Python number), without reading its numbers."""
    v = lower_value(x)
    d = getattr(v, "dtype", None)
    return d if d is not None else np.asarray(v).dtype


def _lowered(a):
    if isinstance(a, Box):
        return lower_value(a)
    if type(a) in (list, tuple) and any(isinstance(b, Box) or type(b) in (list, tuple) for b in a):
        return type(a)(_lowered(b) for b in a)
    return a


def _staged_in(a):
    if isinstance(a, StagedBox):
        return a
    if type(a) in (list, tuple):
        for b in a:
            s = _staged_in(b)
            if s is not None:
                return s
    return None


def lower(fn, *args, **kwargs):
    """``fn`` applied to the values under the boxes of ``args``: a result that carries no derivative.

    The way for a rule or the numpy face to compute a mask, a sign or a comparison from a traced value: unlike
    ``fn(base_value(x))``, the call is recorded when ``hd.jit`` is recording (the result is then a staged value),
    so the mask is recomputed when the program runs at another point instead of being frozen in it.
    """
    args = [_lowered(a) for a in args]
    if kwargs:
        kwargs = {k: _lowered(v) for k, v in kwargs.items()}
    for a in (*args, *kwargs.values()):
        s = _staged_in(a)
        if s is not None:
            return s._trace.call(fn, args, kwargs)
    return fn(*args, **kwargs)


def shape_of(x):
    s = getattr(x, "shape", None)
    return s if s is not None else np.shape(x)


def ndim_of(x):
    n = getattr(x, "ndim", None)
    return n if n is not None else np.ndim(x)


def size_of(x):
    """Number of elements of ``x`` (an array, a box or a scalar), as a Python int."""
    return int(np.prod(shape_of(x), dtype=np.int64))
