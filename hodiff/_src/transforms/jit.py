"""``hd.jit``: record a function once per argument shapes and dtypes, then replay the recording as plain numpy.

On the transforms floor, the outermost of all: the function it wraps is usually a transform
(``hd.jit(hd.grad(f))``). The first call at given shapes runs the function eagerly under the staging interpreter
(``interpreters/staging.py``), which writes down every primitive applied to the numbers at the bottom of every
level, forward and backward; ``program.py`` turns that into generated Python. Later calls run the generated code.
The answers Python got from the numbers (``if``, ``while``, ``float()``, ``.item()``) are guards: a call where one
differs records a new path (up to ``max_paths`` per shape), so control flow stays right.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Sequence

import numpy as np

from ..core.engine import Box, opened
from ..core.events import PRIMITIVE_RAN
from ..core.pytree import flatten, unflatten
from ..interpreters.staging import StageTrace, Staged
from .program import Miss, Program, build

__all__ = ["Jitted", "jit"]

_ARRAY_LEAVES = (np.ndarray, np.generic)


def _leaf(x, where):
    """A traced argument as the program sees it: arrays as they are, Python numbers as numpy scalars."""
    t = type(x)
    if t is np.ndarray:
        if x.dtype == object:
            raise TypeError(f"hd.jit: {where} is an array of Python objects; pass numbers, or mark the argument "
                            "static with static_argnums")
        return x
    if isinstance(x, np.generic) and not isinstance(x, (np.str_, np.bytes_, np.void)):
        return x
    if t is float:
        return np.float64(x)
    if t is bool:
        return np.bool_(x)
    if t is int:
        return np.int64(x)
    if t is complex:
        return np.complex128(x)
    raise TypeError(f"hd.jit: {where} is a {t.__name__}, which cannot be traced (only arrays and numbers are). "
                    "If it selects what the function does, pass it by position and name it in static_argnums.")


def _sig(leaf):
    return (type(leaf), leaf.shape, leaf.dtype.str)


class _Paths:
    """The programs recorded for one signature, and why the signature runs eagerly if it does."""

    __slots__ = ("programs", "reason")

    def __init__(self):
        self.programs: list[Program] = []
        self.reason: str | None = None


class Jitted:
    """A function with compiled replay (see :func:`jit`). Call it like the function it wraps.

    Attributes
    ----------
    fallback_reason : str or None
        Why the last call ran eagerly instead of replaying a program (None when it replayed or recorded).
    """

    def __init__(self, fn: Callable, static_argnums: Sequence[int] = (), max_paths: int = 8):
        if not callable(fn):
            raise TypeError(f"hd.jit needs a function; got {type(fn).__name__}")
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        self.fn = fn
        self.static_argnums = tuple(sorted(int(i) for i in static_argnums))
        self.max_paths = int(max_paths)
        self.fallback_reason: str | None = None
        self._cache: dict = {}
        self._lock = threading.Lock()
        functools.update_wrapper(self, fn, updated=())

    # the call
    def _split(self, args, kwargs):
        statics, dyn = [], []
        for i, a in enumerate(args):
            if i in self.static_argnums:
                try:
                    hash(a)
                except TypeError:
                    raise TypeError(f"hd.jit: static argument {i} ({type(a).__name__}) must be hashable: it is "
                                    "part of the key programs are cached under") from None
                statics.append((i, a))
            else:
                dyn.append(a)
        for i in self.static_argnums:
            if i >= len(args):
                raise TypeError(f"hd.jit: static_argnums names argument {i}, but the call has {len(args)} "
                                "positional arguments")
        return tuple(statics), dyn

    def _prepare(self, args, kwargs):
        """(key, leaves, treedef, statics), or None when an argument is traced by an outer transform."""
        statics, dyn = self._split(args, kwargs)
        if not kwargs and all(type(a) is np.ndarray for a in dyn):   # the common case, without the pytree walk
            leaves, treedef = dyn, None
        else:
            raw, treedef = flatten((dyn, kwargs))
            leaves = []
            for i, x in enumerate(raw):
                if isinstance(x, Box):
                    return None
                leaves.append(_leaf(x, f"argument leaf {i}"))
        for x in leaves:
            if type(x) is np.ndarray and x.dtype == object:
                _leaf(x, "an argument")
        key = (treedef, statics, tuple(_sig(x) for x in leaves))
        return key, leaves, treedef, statics

    def _rebuild(self, leaves, treedef, statics, n):
        if treedef is None:
            dyn, kwargs = list(leaves), {}
        else:
            dyn, kwargs = unflatten(treedef, leaves)
            dyn = list(dyn)
        args, it, st = [], iter(dyn), dict(statics)
        for i in range(n):
            args.append(st[i] if i in st else next(it))
        return args, kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if PRIMITIVE_RAN:   # the cost analysis is counting primitives: it must see the work, so run it
            self.fallback_reason = "the cost analysis (hd.cost) is counting: ran eagerly"
            return self.fn(*args, **kwargs)
        prep = self._prepare(args, kwargs)
        if prep is None:    # inside another transform: the recording would not see its derivatives
            return self.fn(*args, **kwargs)
        key, leaves, treedef, statics = prep
        paths = self._cache.get(key)
        if paths is not None:
            if paths.reason is not None:
                self.fallback_reason = paths.reason
                return self.fn(*args, **kwargs)
            for prog in paths.programs:
                try:
                    out = prog.run(leaves)
                except Miss:
                    continue
                except Exception as e:   # noqa: BLE001 - the eager call gives the true result or the true error
                    self.fallback_reason = f"the program raised {type(e).__name__}: {e}; this call ran eagerly"
                    return self.fn(*args, **kwargs)
                self.fallback_reason = None
                return out
            whole = [w for p in paths.programs for w in p.whole]
            if whole:
                return self._eager(key, args, kwargs, "the recorded program read a whole traced value (a guard "
                                   "on all of its numbers) at " + "; ".join(sorted(set(whole))))
            if len(paths.programs) >= self.max_paths:
                return self._eager(key, args, kwargs, f"more than max_paths={self.max_paths} control-flow paths "
                                   "for these argument shapes")
        return self._record(key, leaves, treedef, statics, args, kwargs)

    def _eager(self, key, args, kwargs, reason):
        return self._eager_result(key, self.fn(*args, **kwargs), reason)

    def _record(self, key, leaves, treedef, statics, args, kwargs):
        trace = StageTrace()
        try:
            with opened(trace):
                staged = [trace.new_input(x) for x in leaves]
                a, k = self._rebuild(staged, treedef, statics, len(args))
                out = self.fn(*a, **k)
                out_leaves, out_def = flatten(out)
        except Exception as e:   # noqa: BLE001 - retried eagerly below: the eager error is the one to show
            result = self.fn(*args, **kwargs)
            return self._eager_result(key, result, f"recording failed with {type(e).__name__}: {e}")
        values = [x._value if type(x) is Staged and x._trace is trace else x for x in out_leaves]
        for v in values:
            if isinstance(v, Staged):
                trace.taint("an output is a value recorded by another hd.jit")
        result = unflatten(out_def, values)
        if trace.tainted is not None:
            return self._eager_result(key, result, "cannot replay: " + trace.tainted)
        prog = build(trace, out_leaves, out_def)
        with self._lock:
            paths = self._cache.setdefault(key, _Paths())
            if paths.reason is None and len(paths.programs) < self.max_paths:
                paths.programs.append(prog)
        self.fallback_reason = None
        return result

    def _eager_result(self, key, result, reason):
        with self._lock:
            self._cache.setdefault(key, _Paths()).reason = reason
        self.fallback_reason = reason
        return result

    # inspection
    def programs(self, *args: Any, **kwargs: Any) -> list[Program]:
        """The programs recorded for arguments shaped like these (recording one by calling the function if none is)."""
        prep = self._prepare(args, kwargs)
        if prep is None:
            raise TypeError("hd.jit: programs() needs plain arrays, not values traced by a transform")
        paths = self._cache.get(prep[0])
        if paths is None or not paths.programs:
            self(*args, **kwargs)
            paths = self._cache.get(prep[0])
        return list(paths.programs) if paths is not None else []

    def program(self, *args: Any, **kwargs: Any) -> str:
        """The generated Python of the path these arguments take, and its guards, as text (``print`` it)."""
        progs = self.programs(*args, **kwargs)
        if not progs:
            return f"# no program: runs eagerly ({self.fallback_reason})"
        prep = self._prepare(args, kwargs)
        for p in progs:
            try:
                p.run(prep[1])
            except Miss:
                continue
            except Exception:   # noqa: BLE001, S112 - a path that fails here is not this one
                continue
            return str(p)
        return str(progs[-1])

    def __repr__(self):
        return f"<hd.jit of {getattr(self.fn, '__name__', self.fn)!r}>"


def jit(fn: Callable, static_argnums: int | Sequence[int] = (), *, max_paths: int = 8) -> Jitted:
    r"""Compile ``fn`` by recording it: later calls replay plain numpy, with no engine work per operation.

    The first call at given argument shapes and dtypes runs ``fn`` eagerly and records every primitive it
    applies to the numbers, at every level of every transform inside it (forward tangents, backward sweeps,
    Taylor coefficients). The recording becomes one generated Python function over numpy calls, with dead steps
    removed, repeated steps computed once and captured arrays snapshotted. Calls at the same shapes replay it.

    Python control flow stays correct: every answer Python got from a traced number (``if x > 0``, ``while``,
    ``float(x)``, ``x.item()``, ``int(x)``) is a guard of the program. A call where a guard answers differently
    records a new path (up to ``max_paths`` per argument shapes, then the function runs eagerly).

    Parameters
    ----------
    fn : callable
        A function of arrays (or pytrees of arrays), typically a transform: ``hd.grad(f)``,
        ``lambda x, v: hd.hvp(f, x, v)``, ``hd.hessian(f)``. It must be a function of its arguments: random
        numbers drawn and globals read inside it are frozen at recording time.
    static_argnums : int or sequence of int
        Positions of arguments that are not arrays (flags, sizes, callables): they are part of the cache key.
    max_paths : int
        How many control-flow paths to keep per argument shapes.

    Returns
    -------
    Jitted
        Callable like ``fn``; ``.program(*args)`` returns the generated code and its guards as text,
        ``.fallback_reason`` says why the last call ran eagerly, if it did.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> f = lambda x: np.sum(np.sin(x) * x)
    >>> g = hd.jit(hd.grad(f))
    >>> x = np.array([0.5, 1.0])
    >>> bool(np.allclose(g(x), np.sin(x) + x * np.cos(x)))      # recorded
    True
    >>> bool(np.allclose(g(2 * x), np.sin(2 * x) + 2 * x * np.cos(2 * x)))   # replayed
    True
    """
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    return Jitted(fn, nums, max_paths)
