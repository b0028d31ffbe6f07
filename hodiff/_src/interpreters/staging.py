"""The recording interpreter of ``hd.jit``: staged values, and the steps and guards they leave behind.

An interpreter like ``forward.py`` and ``reverse.py``, but the lowest of all: ``hd.jit`` opens it before the
function it compiles opens any transform, so every primitive any level applies to plain arrays passes through
:meth:`StageTrace.process` last. There the primitive's implementation runs on the numbers (the call is eager) and
the call is written down as a :class:`Step`: ``out = impl(*args, **params)`` with the arguments that depend on the
function's inputs named by :class:`Ref`. Arguments that do not are constants of the program.

Python looking at a staged number is a **guard**: ``bool(x)``, ``float(x)``, ``int(x)``, ``x.item()``, ``x.tolist()``
record the answer they got, and the program is valid only where the same answers come out (``transforms/jit.py``
re-checks them and records a new path when one differs). Code that reads the whole array underneath
(:func:`~hodiff._src.core.engine.base_value`, ``np.asarray``) gets a guard on the whole value: always correct, and
it ties the program to this one point, so hodiff's own rules compute masks and signs through
:func:`~hodiff._src.core.engine.lower` instead, which is recorded like a primitive.
"""
from __future__ import annotations

import operator
import sys

import numpy as np

from ..core.engine import Box, StagedBox, Trace, bind, bind_below, new_level, shape_of
from ..numpy.arrayops import ArrayOps

__all__ = ["Guard", "Ref", "StageTrace", "Staged", "Step", "refs"]


class Ref:
    """An argument of a step that is a variable of the program (an input or an earlier step's result)."""

    __slots__ = ("var",)

    def __init__(self, var):
        self.var = var

    def __repr__(self):
        return f"v{self.var}"


def refs(a, out):
    """Append to ``out`` the variables :class:`Ref` marks in ``a`` (an argument, or a list or tuple of them)."""
    if type(a) is Ref:
        out.append(a.var)
    elif type(a) in (list, tuple):
        for b in a:
            refs(b, out)
    return out


class Step:
    """``out = fn(*args, **kwargs)``; ``args`` and ``kwargs`` hold :class:`Ref` where a variable goes (also inside
    lists and tuples), constants elsewhere."""

    __slots__ = ("args", "fn", "kwargs", "meta", "name", "out")

    def reads(self):
        """The variables this step reads (its arguments' and keyword arguments' refs)."""
        used = refs(self.args, [])
        for v in self.kwargs.values():
            refs(v, used)
        return used

    def __init__(self, fn, args, kwargs, out, name=None, meta=None):
        self.fn, self.args, self.kwargs, self.out = fn, args, kwargs, out
        self.name = name or getattr(fn, "__name__", "fn")     # for the listing: the primitive's name
        self.meta = meta          # (shape, dtype) of the recorded result when it was an array


class Guard:
    """A question Python asked of variable ``var`` (``read(value)``) and the answer it got (``expected``).

    ``where`` is the line of code that asked, for the program's listing and the fallback reason."""

    __slots__ = ("expected", "kind", "read", "var", "where")

    def __init__(self, var, kind, read, expected, where):
        self.var, self.kind, self.read, self.expected, self.where = var, kind, read, expected, where


def _caller():
    """``file:line`` of the first frame outside hodiff's engine (what asked for the number)."""
    f = sys._getframe(2)
    inside = __file__.rsplit("/", 3)[0]     # hodiff/_src
    while f is not None and f.f_code.co_filename.startswith(inside):
        f = f.f_back
    if f is None:
        return "?"
    return f"{f.f_code.co_filename}:{f.f_lineno}"


def _site():
    """``file:line`` of the frame that read a whole value, inside hodiff or not (for the exact guards' reason)."""
    f = sys._getframe(3)
    here = __file__
    while f is not None and f.f_code.co_filename in (here, __file__.replace("interpreters/staging", "core/engine")):
        f = f.f_back
    return "?" if f is None else f"{f.f_code.co_filename}:{f.f_lineno} ({f.f_code.co_name})"


def _whole(v):
    return np.array(v, copy=True)


class StageTrace(Trace):
    """The recorder at one level: ``steps`` (steps and guards in the order they happened), ``inputs`` (variables),
    ``tainted`` (why the recording cannot be replayed, or None)."""

    __slots__ = ("inputs", "nvars", "steps", "tainted")

    def __init__(self):
        super().__init__(new_level())
        self.steps = []
        self.inputs = []
        self.nvars = 0
        self.tainted = None

    # variables
    def _new(self, value):
        s = Staged.__new__(Staged)
        s._trace = self
        s._value = value
        s._ref = Ref(self.nvars)
        self.nvars += 1
        return s

    def new_input(self, value):
        s = self._new(value)
        self.inputs.append(s._ref.var)
        return s

    def _template(self, a):
        """(argument with own staged values replaced by refs, the values, foreign boxes seen?)."""
        if type(a) is Staged and a._trace is self:
            return a._ref, a._value, False
        if isinstance(a, Box):
            return a, a, True
        if type(a) in (list, tuple) and a:
            parts = [self._template(b) for b in a]
            return type(a)(p[0] for p in parts), type(a)(p[1] for p in parts), any(p[2] for p in parts)
        return a, a, False

    def _result(self, fn, tmpl, kwargs, ans, name=None):
        """Record ``fn`` and wrap its result as staged values (arrays), or guard it (any other Python value)."""
        out = self._new(ans)
        meta = (ans.shape, ans.dtype) if type(ans) is np.ndarray else None
        self.steps.append(Step(fn, tmpl, kwargs, out._ref.var, name, meta))
        if isinstance(ans, (np.ndarray, np.generic)):
            return out
        if type(ans) in (tuple, list) and ans and all(isinstance(a, (np.ndarray, np.generic)) for a in ans):
            parts = []
            for i, a in enumerate(ans):
                p = self._new(a)
                self.steps.append(Step(operator.getitem, (out._ref, i), {}, p._ref.var))
                parts.append(p)
            return type(ans)(parts)
        # a Python value computed from the numbers (``np.allclose``, a shape from ``np.nonzero`` ...)
        self.guard(out, "value", _identity, ans)
        return ans

    # the interpreter
    def process(self, prim, args, params):
        tmpl, vals, foreign = [], [], False
        for a in args:
            t, v, f = self._template(a)
            tmpl.append(t)
            vals.append(v)
            foreign = foreign or f
        if foreign:   # computed right (bind finds the outer level), but the program could not replay it
            self.taint(f"{prim.name} received a value traced by an outer transform")
            ans = bind(prim, *vals, **params)
        else:
            ans = bind_below(prim, vals, params, None, False)
        return self._result(prim.impl, tuple(tmpl), dict(params), ans, prim.name)

    def call(self, fn, args, kwargs):
        """``fn(*args, **kwargs)`` on the numbers under the staged values of ``args``, recorded (see ``lower``)."""
        targs = [self._template(a) for a in args]
        tkw = {k: self._template(v) for k, v in kwargs.items()}
        if any(t[2] for t in targs) or any(t[2] for t in tkw.values()):
            self.taint(f"{getattr(fn, '__name__', fn)} received a value traced by an outer transform")
        ans = fn(*[t[1] for t in targs], **{k: t[1] for k, t in tkw.items()})
        return self._result(fn, tuple(t[0] for t in targs), {k: t[0] for k, t in tkw.items()}, ans)

    # guards
    def guard(self, s, kind, read, expected, where=None):
        self.steps.append(Guard(s._ref.var, kind, read, expected, where or _caller()))

    def read(self, s, kind, read, *args):
        if s._trace is not self or not self.alive:
            return read(s._value, *args)
        ans = read(s._value, *args)
        if args:
            fixed = args
            self.guard(s, kind, lambda v: read(v, *fixed), ans)
        else:
            self.guard(s, kind, read, ans)
        return ans

    def read_whole(self, s):
        """The number underneath ``s`` for code outside the table: the whole value becomes a guard."""
        if s._trace is self and self.alive:
            self.guard(s, "whole value", _whole, _whole(s._value), _site())
        return s._value

    def taint(self, why):
        if self.tainted is None:
            self.tainted = why


def _identity(v):
    return v


class Staged(ArrayOps, StagedBox):
    """A value ``hd.jit`` follows while it records: its number (``_value``) and its variable (``_ref``)."""

    __slots__ = ("_ref", "_trace", "_value")

    def _base(self):
        return self._trace.read_whole(self)

    def __array__(self, dtype=None, copy=None):
        v = self._trace.read_whole(self)
        return np.array(v, dtype=dtype, copy=True) if copy else np.asarray(v, dtype=dtype)

    @property
    def shape(self):
        return tuple(shape_of(self._value))

    @property
    def ndim(self):
        return len(shape_of(self._value))

    @property
    def dtype(self):
        v = self._value
        return v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype

    def __bool__(self):
        return self._trace.read(self, "bool", bool)

    def __float__(self):
        return self._trace.read(self, "float", float)

    def __int__(self):
        return self._trace.read(self, "int", int)

    def __index__(self):
        return self._trace.read(self, "index", operator.index)

    def item(self, *args):
        return self._trace.read(self, "item", _item, *args)

    def tolist(self):
        return self._trace.read(self, "tolist", _tolist)

    def _needs_derivative(self):
        return False

    def __repr__(self):
        return f"Staged({self._value!r}, {self._ref!r})"


def _item(v, *args):
    return np.asarray(v).item(*args)


def _tolist(v):
    return np.asarray(v).tolist()
