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

__all__ = [
    "PRIMITIVES",
    "Box",
    "EscapedBoxError",
    "HodiffError",
    "Primitive",
    "Trace",
    "Variadic",
    "base_value",
    "bind",
    "ndim_of",
    "shape_of",
    "size_of",
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


_level_counter = itertools.count(1)


def new_level():
    """A fresh level, higher than every level handed out before."""
    return next(_level_counter)


class Box:
    """Base class of the values an interpreter follows (``Dual`` and ``Tensor``)."""

    __slots__ = ()
    # numpy must hand mixed operations (ndarray * box) to the box.
    __array_priority__ = 1000.0


# Hooks called after every primitive executed on plain values, as ``hook(prim, args, params, ans)`` (cost
# counting, sparsity detection). Empty, and free, when off: the fast paths test this list's truth.
_hooks: list = []


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
        if _hooks:
            for h in _hooks:
                h(prim, args, params, ans)
        return ans
    if not top.alive:
        raise EscapedBoxError(
            f"a value traced by a hodiff transform that has already returned reached {prim.name!r}. "
            "Values inside a function being differentiated must not be stored and used after the transform "
            "finishes; return them instead.")
    return top.process(prim, args, params)


def base_value(x):
    """Strip every box: the plain numpy value underneath."""
    while isinstance(x, Box):
        x = x._base()
    return x


def shape_of(x):
    s = getattr(x, "shape", None)
    return s if s is not None else np.shape(x)


def ndim_of(x):
    n = getattr(x, "ndim", None)
    return n if n is not None else np.ndim(x)


def size_of(x):
    """Number of elements of ``x`` (an array, a box or a scalar), as a Python int."""
    return int(np.prod(shape_of(x), dtype=np.int64))
