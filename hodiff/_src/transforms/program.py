"""A recorded path turned into a program: straight-line Python over numpy calls, with its guards.

Beside ``jit.py`` on the transforms floor; the recording comes from ``interpreters/staging.py``. :func:`build` takes
the steps and guards a :class:`~hodiff._src.interpreters.staging.StageTrace` wrote down and

1. removes the steps no output and no guard needs (dead code),
2. computes repeated identical steps once (same function, same arguments, same parameters),
3. snapshots the constants (a later write to an array the function captured does not change the program),
4. generates one Python function, ``def program(v0, v1, ...)``, with one line per step and one ``if`` per guard,
   compiled once with ``compile``/``exec``; it has no engine work left, only the numpy calls.

Running the program at a point where a guard gets a different answer raises :class:`Miss` before any step past
the guard runs, and the caller (``jit.py``) records the new path.
"""
from __future__ import annotations

import keyword
import re

import numpy as np

from ..core.pytree import unflatten
from ..interpreters.staging import Guard, Ref, Staged, Step
from .program_opt import matmul_impl, simplify
from .program_pool import buffers, plan

__all__ = ["Miss", "Program", "build"]


#: The replay that compiles a program's generated code; the replays before it loop over the steps.
COMPILE_AT = 2


class Miss(Exception):
    """A guard of the program got a different answer: the arguments take another path through the function."""


_MISS = Miss()


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    try:
        eq = a == b
        if eq is True or eq is False:
            return eq or (a != a and b != b)     # NaN == NaN for a guard
        return bool(np.all(eq))
    except Exception:   # noqa: BLE001 - values that cannot be compared are not the same answer
        return False


def _own(v, inputs, consts=()):
    """The output ``v``, copied when it shares memory with an argument or a constant of the program (a view of
    a temporary of this call is the caller's already)."""
    if type(v) is not np.ndarray:
        return v
    root = v
    while isinstance(root.base, np.ndarray):
        root = root.base
    for a in inputs:
        if type(a) is np.ndarray:
            r = a
            while isinstance(r.base, np.ndarray):
                r = r.base
            if r is root:
                return v.copy()
    if id(root) in consts:
        return v.copy()
    return v


def _copy(v):
    return v.copy() if type(v) is np.ndarray else v


def _live(steps, roots):
    """The steps an output or a guard needs (guards always stay: they decide which path this is)."""
    need = set(roots)
    for s in steps:
        if type(s) is Guard:
            need.add(s.var)
    kept = []
    for s in reversed(steps):
        if type(s) is Guard:
            kept.append(s)
        elif s.out in need:
            need.update(s.reads())
            kept.append(s)
    kept.reverse()
    return kept


_HASHABLE_CONST = (int, float, bool, str, type(None), np.dtype, slice, type(Ellipsis))


def _key(a, alias):
    if type(a) is Ref:
        return ("v", alias.get(a.var, a.var))
    if type(a) in (list, tuple):
        return (type(a).__name__, *(_key(b, alias) for b in a))
    if type(a) in _HASHABLE_CONST:
        return ("k", type(a).__name__, a if type(a) is not slice else (a.start, a.stop, a.step))
    return ("c", id(a))


def _rename(a, alias):
    if not alias:
        return a
    if type(a) is Ref:
        v = alias.get(a.var)
        return a if v is None else Ref(v)
    if type(a) in (list, tuple):
        return type(a)(_rename(b, alias) for b in a)
    return a


def _dedupe(steps):
    """Each identical step computed once: later copies become aliases of the first result."""
    alias, seen, kept = {}, {}, []
    for s in steps:
        if type(s) is Guard:
            v = alias.get(s.var)
            if v is not None:
                s = Guard(v, s.kind, s.read, s.expected, s.where)
            kept.append(s)
            continue
        key = (id(s.fn), _key(s.args, alias), tuple(sorted((k, _key(v, alias)) for k, v in s.kwargs.items())))
        first = seen.get(key)
        if first is not None:
            alias[s.out] = first
            continue
        seen[key] = s.out
        s.args = _rename(s.args, alias)
        s.kwargs = {k: _rename(v, alias) for k, v in s.kwargs.items()}
        kept.append(s)
    return kept, alias


class _Names:
    """Globals of the generated function: functions and constants by name (constants snapshotted once)."""

    def __init__(self, snapshot=True):
        self.snapshot = snapshot
        self.globals = {"_MISS": _MISS, "_same": _same, "_own": _own, "_copy": _copy}
        self._ids = {}
        self._keep = []      # the originals, so that their ids stay unique while the program is built

    def value(self, c):
        """What the program holds for the constant ``c`` (its snapshot, if it was named)."""
        name = self._ids.get(id(c))
        return c if name is None else self.globals[name]

    def const(self, c, prefix="c", label=None):
        if type(c) in (int, bool, type(None)) or (type(c) is float and c == c and abs(c) != float("inf")):
            return repr(c)
        name = self._ids.get(id(c))
        if name is None:
            name = f"{prefix}{len(self._ids)}"
            if label is not None:      # a function: named after its primitive, for a readable listing
                base = re.sub(r"\W", "_", label).strip("_") or "fn"
                name = base if not (keyword.iskeyword(base) or base in self.globals or base[0].isdigit()
                                    or re.fullmatch(r"[vcekr][0-9]+", base)) else f"{base}_{len(self._ids)}"
            self._ids[id(c)] = name
            self._keep.append(c)
            self.globals[name] = np.array(c, copy=True) if self.snapshot and type(c) is np.ndarray else c
        return name


def _expr(a, names):
    if type(a) is Ref:
        return f"v{a.var}"
    if type(a) is list:
        return "[" + ", ".join(_expr(b, names) for b in a) + "]"
    if type(a) is tuple:
        return "(" + "".join(_expr(b, names) + ", " for b in a) + ")"
    return names.const(a)


def _call(s, names):
    parts = [_expr(a, names) for a in s.args]
    extra = {}
    for k, v in s.kwargs.items():
        if k.isidentifier() and not keyword.iskeyword(k):
            parts.append(f"{k}={_expr(v, names)}")
        else:
            extra[k] = v
    if extra:
        parts.append("**" + names.const(extra, "kw"))
    return f"{names.const(s.fn, 'f', s.name)}({', '.join(parts)})"


def _guard(g, names):
    v = f"v{g.var}"
    if g.kind == "bool" and type(g.expected) is bool:
        return f"if {'not ' if g.expected else ''}{v}: raise _MISS"
    return f"if not _same({names.const(g.read, 'r')}({v}), {names.const(g.expected, 'e')}): raise _MISS"


class Program:
    """One recorded path of a function: ``run(leaves)`` gives its outputs or raises :class:`Miss`.

    Attributes
    ----------
    source : str
        The generated Python (what ``hd.jit(f).program(x)`` prints).
    guards : list
        The recorded guards, in order (kind, expected answer, line of code that asked).
    whole : list of str
        The places that read a whole traced value (a guard on all of its numbers): the program replays only at
        the same point there.
    """

    def __init__(self, fn, source, guards, out_def, scope=None):
        self._fn = fn
        self.source = source
        self.guards = guards
        self.whole = [g.where for g in guards if g.kind == "whole value"]
        self._out_def = out_def
        self._scope = scope          # set until the generated code is compiled (at the second replay)
        self._runs = 0

    def run(self, leaves):
        if self._scope is not None:
            self._runs += 1
            if self._runs >= COMPILE_AT:
                self.compile()
        return unflatten(self._out_def, self._fn(*leaves))

    def compile(self):
        """Compile the generated code (done by the second replay; a program replayed once never pays for it)."""
        scope = self._scope
        if scope is None:
            return
        scope = dict(scope)
        exec(compile(self.source, "<hodiff.jit program>", "exec"), scope)   # noqa: S102 - generated from steps
        self._fn = scope["program"]
        self._scope = None

    def __str__(self):
        lines = [self.source.rstrip()]
        if self.guards:
            lines.append("# guards (the path is replayed only where Python gets the same answers):")
            for g in self.guards:
                exp = g.expected if g.kind != "whole value" else "<the recorded array>"
                lines.append(f"#   {g.kind}(v{g.var}) == {exp!r:.60}   asked at {g.where}")
        return "\n".join(lines)


def _lines(steps, slots, names):
    """The body of a generated program, up to its ``return``: one line per step, one ``if`` per guard."""
    names.globals["_buffers"] = buffers(slots)
    body = ["_B = _buffers()"] if slots else []
    for s in steps:
        if type(s) is Guard:
            body.append(_guard(s, names))
        elif s.meta is not None and len(s.meta) == 3:      # written into a reused buffer
            body.append(f"v{s.out} = {_call(s, names)[:-1]}, out=_B[{s.meta[2]}])")
        else:
            body.append(f"v{s.out} = {_call(s, names)}")
    return body


def build(trace, out_leaves, out_def):
    """The program of a finished recording; ``out_leaves`` are the function's outputs (staged values or constants)."""
    outs = []
    for o in out_leaves:
        if type(o) is Staged and o._trace is trace:
            outs.append(o._ref)
        else:
            outs.append(o)
    steps = _live(trace.steps, [o.var for o in outs if type(o) is Ref])
    steps, alias = _dedupe(steps)
    outs = [_rename(o, alias) for o in outs]
    out_vars = {o.var for o in outs if type(o) is Ref}
    steps = simplify(steps, list(out_vars))
    steps, slots, viewed = plan(steps, trace.inputs, out_vars, matmul_impl)
    names = _Names()
    params = ", ".join(f"v{v}" for v in trace.inputs)
    body = _lines(steps, slots, names)
    ins = "(" + "".join(f"v{v}, " for v in trace.inputs) + ")"
    rets = []
    for o in outs:
        if type(o) is Ref and o.var in viewed:
            rets.append(f"_copy(v{o.var})")
        elif type(o) is Ref:
            rets.append(f"_own(v{o.var}, {ins}, _CONSTS)")
        elif type(o) is np.ndarray:
            rets.append(f"{names.const(o)}.copy()")
        else:
            rets.append(names.const(o))
    body.append("return [" + ", ".join(rets) + "]")
    source = f"def program({params}):\n" + "".join(f"    {line}\n" for line in body)
    names.globals["_CONSTS"] = frozenset(id(c) for c in names.globals.values() if type(c) is np.ndarray)
    first = _interpreter(steps, trace.inputs, outs, viewed, names)
    return Program(first, source, [s for s in steps if type(s) is Guard], out_def, dict(names.globals))


def _spec(a, names):
    """How the interpreter finds an argument: (0, var), (1, constant), (2, list or tuple, parts)."""
    if type(a) is Ref:
        return (0, a.var)
    if type(a) in (list, tuple):      # rebuilt at each replay from its (snapshotted) parts
        return (2, type(a), tuple(_spec(b, names) for b in a))
    return (1, names.value(a))


def _get(sp, V):
    k = sp[0]
    if k == 0:
        return V[sp[1]]
    if k == 1:
        return sp[1]
    return sp[1](_get(b, V) for b in sp[2])


def _interpreter(steps, inputs, outs, viewed, names):
    """The program's first replays: a loop over the steps (compiling the generated code costs more than one
    replay of a long program, so it waits until the program is replayed again, see :class:`Program`)."""
    ops = []
    for s in steps:
        if type(s) is Guard:
            ops.append((None, s.var, s.kind, s.read, s.expected))
        else:
            slot = s.meta[2] if s.meta is not None and len(s.meta) == 3 else None
            ops.append((s.fn, tuple(_spec(a, names) for a in s.args),
                        {k: _spec(v, names) for k, v in s.kwargs.items()}, s.out, slot))
    rets = []
    for o in outs:
        if type(o) is Ref:
            rets.append((0 if o.var in viewed else 1, o.var))
        else:
            rets.append((2, names.value(o)))
    get_buffers = names.globals["_buffers"]
    consts = names.globals["_CONSTS"]

    def run(*leaves):
        V = dict(zip(inputs, leaves))
        B = get_buffers()
        for fn, a, kw, out, slot in ops:
            if fn is None:                                   # a guard
                v = V[a]
                if kw == "bool" and type(slot) is bool:
                    if bool(v) is not slot:
                        raise _MISS
                elif not _same(out(v), slot):
                    raise _MISS
                continue
            args = [_get(x, V) for x in a]
            kws = {k: _get(x, V) for k, x in kw.items()}
            if slot is not None:
                kws["out"] = B[slot]
            V[out] = fn(*args, **kws)
        res = []
        for kind, x in rets:
            if kind == 0:
                res.append(_copy(V[x]))
            elif kind == 1:
                res.append(_own(V[x], leaves, consts))
            else:
                res.append(x.copy() if type(x) is np.ndarray else x)
        return res
    return run


def compile_linear(lp, tangents):
    """Generated code for a recorded linear map (``interpreters/linearize.py``'s ``LinearProgram``, the tangent
    sweep ``hessian_operator`` replays), built while replaying it once on ``tangents``.

    Returns ``(fn, result)``: ``fn(*tangents)`` gives what ``lp(*tangents)`` gives (same numpy calls, exact
    rewrites, temporaries in reused per-thread buffers), and ``result`` is this replay's."""
    n_in = len(tangents)
    vals = [None] * lp._n_slots
    vals[:n_in] = tangents
    steps = []
    for prim, impl, args, params, subs, out, _free in lp._steps:
        a = list(args)
        t = list(args)
        for i, s in subs:
            a[i] = vals[s]
            t[i] = Ref(s)
        ans = vals[out] = impl(*a, **params)
        meta = (ans.shape, ans.dtype) if type(ans) is np.ndarray else None
        steps.append(Step(impl, tuple(t), dict(params), out, prim.name, meta))
    result = lp._result(vals, tangents)
    outs = [o[1] for o in lp._outputs if o[0] == "slot"]
    steps = simplify(steps, outs)
    steps, slots, viewed = plan(steps, list(range(n_in)), set(outs), matmul_impl)
    names = _Names(snapshot=False)      # the linear program's constants are its own copies already
    body = _lines(steps, slots, names)
    ins = "(" + "".join(f"v{v}, " for v in range(n_in)) + ")"
    rets = []
    for o in lp._outputs:
        if o[0] == "slot":
            rets.append(f"_copy(v{o[1]})" if o[1] in viewed else f"_own(v{o[1]}, {ins})")
        elif o[0] == "const":
            rets.append(f"{names.const(o[1])}.copy()")
        else:
            rets.append("None")
    body.append("return [" + ", ".join(rets) + "]")
    source = f"def linear_program({', '.join(f'v{v}' for v in range(n_in))}):\n" + "".join(f"    {x}\n" for x in body)
    scope = dict(names.globals)
    exec(compile(source, "<hodiff linear program>", "exec"), scope)   # noqa: S102 - generated from recorded steps
    fn = scope["linear_program"]
    fn.source = source
    return fn, result
