"""numpy's keywords at the dispatch boundary: each one is honoured by hodiff's function or refused by name.

A numpy function reaching hodiff through ``__array_function__`` is bound to numpy's own signature (so a misspelt or
surplus argument fails as numpy would), then each bound argument is passed to hodiff's function under the name it
has there. An argument hodiff's function does not take is dropped only when it holds numpy's default value (it then
changes nothing) or is in :data:`NO_EFFECT` (it changes speed or memory layout, never the value); any other value
raises a ``TypeError`` naming the function and the keyword, and what to write instead. That is what keeps a keyword
from being silently ignored (``np.sum(x, where=mask)`` computing the unmasked sum).

Ufunc keywords (``np.add(x, y, where=...)``, ``np.add.reduce(x, initial=...)``) are checked by
:func:`ufunc_call_kwargs` and the reduce/accumulate routing in ``dispatch.py``.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

__all__ = ["NO_EFFECT", "call", "refuse", "spec", "ufunc_call_kwargs"]

_EMPTY = inspect.Parameter.empty
_NOVALUE = getattr(np, "_NoValue", object())

#: Keywords whose value never changes a result (only speed, memory layout or whether a copy is made).
NO_EFFECT = {
    "einsum": {"optimize"},
    "sort": {"kind", "stable"},
    "reshape": {"copy"},
    "quantile": {"overwrite_input"},
    "percentile": {"overwrite_input"},
    "median": {"overwrite_input"},
    "broadcast_to": {"subok"},
    "full_like": {"order", "subok", "device"},
    "linspace": {"device"},
}

_HINTS = {
    "out": "assign the result instead (x = f(...)); writing a traced value into a plain array would drop its "
           "derivative",
    "dtype": "drop dtype= (hodiff keeps the input's floating precision)",
    "where": "apply the mask first with np.where(mask, x, fill)",
    "casting": "drop casting= (hodiff does not cast traced values)",
    "weights": "weighted quantiles are not differentiable here; sort and interpolate explicitly",
    "method": "only method='linear' (numpy's default) is differentiable here",
    "mean": "drop mean= (hodiff recomputes the mean)",
    "order": "structured-array sorting has no derivative; sort a float array",
    "hermitian": "drop hermitian= (symmetric inputs give the same result)",
}


def refuse(what: str, key: str, value: Any = None, hint: str | None = None) -> TypeError:
    """The error for a numpy keyword hodiff does not honour on values being differentiated."""
    shown = "..." if value is None else _short(value)
    hint = hint or _HINTS.get(key) or ("drop it, or write the computation with supported functions (docs: "
                                       "'Supported functions')")
    return TypeError(f"hodiff: {what}(..., {key}={shown}) is not supported on a value being differentiated: "
                     f"hodiff would ignore {key}= and give a wrong value or derivative. Instead: {hint}.")


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 30 else type(v).__name__


def is_default(value: Any, default: Any) -> bool:
    """Whether ``value`` is numpy's default ``default`` (so dropping it changes nothing)."""
    if value is default or value is _NOVALUE:
        return True
    if default is _EMPTY or default is _NOVALUE:
        return False
    if isinstance(value, (np.ndarray, list, tuple)) or isinstance(default, (np.ndarray, list, tuple)):
        return False
    try:
        return bool(value == default) and type(value) is type(default)
    except Exception:   # noqa: BLE001 - an odd type that does not compare is not the default
        return False


class Spec:
    """numpy's signature of one dispatched function and where each of its parameters goes in hodiff's."""

    __slots__ = ("hd_names", "mapping", "n_direct", "name", "np_sig", "var_kw")

    def __init__(self, func: Callable, fn: Callable, name: str):
        self.name = name
        self.np_sig = inspect.signature(func)
        hd = inspect.signature(fn).parameters
        hd_list = [p for p in hd.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        self.hd_names = set(hd)
        self.var_kw = any(p.kind is p.VAR_KEYWORD for p in hd.values())
        np_names = list(self.np_sig.parameters)
        self.mapping: dict[str, str | None] = {}
        for i, n in enumerate(np_names):
            if n in hd:
                self.mapping[n] = n
            elif i < len(hd_list) and hd_list[i].name not in np_names and i == 0:
                self.mapping[n] = hd_list[i].name   # the data argument's name differs (numpy's ``a``, hodiff's ``x``)
            else:
                self.mapping[n] = None
        # How many leading arguments, given positionally, bind to the same parameters of both functions in the
        # same order: a call with only those needs no binding at all (the common ``np.sum(x)`` on the hot path).
        self.n_direct = 0
        np_params = list(self.np_sig.parameters.values())
        for i, p in enumerate(np_params):
            if (p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or i >= len(hd_list)
                    or hd_list[i].kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                    or self.mapping[p.name] != hd_list[i].name):
                break
            self.n_direct = i + 1


_SPECS: dict[Any, Spec | None] = {}


def spec(func: Callable, fn: Callable, name: str) -> Spec | None:
    """The cached :class:`Spec` of ``func`` (None when numpy's signature cannot be read)."""
    if func not in _SPECS:
        try:
            _SPECS[func] = Spec(func, fn, name)
        except (TypeError, ValueError):
            _SPECS[func] = None
    return _SPECS[func]


def direct_spec(func: Callable) -> Spec | None:
    """The cached :class:`Spec` of ``func`` if :func:`spec` has made it (None otherwise: :func:`call` makes it)."""
    return _SPECS.get(func)


def call(func: Callable, fn: Callable, name: str, args: tuple, kwargs: dict,
         fallback: Callable[[], Any] | None = None) -> Any:
    """Call hodiff's ``fn`` for numpy's ``func`` with numpy's arguments, each honoured or refused by name.

    ``fallback()`` is used instead of a refusal when nothing needs a derivative (numpy then runs on plain values).
    """
    s = spec(func, fn, name)
    if s is None:
        return fn(*args, **kwargs)
    if not kwargs and len(args) <= s.n_direct:
        return fn(*args)
    bound = s.np_sig.bind(*args, **kwargs)
    params = list(s.np_sig.parameters.values())
    var_at = next((i for i, p in enumerate(params) if p.kind is p.VAR_POSITIONAL), -1)
    before_var = {p.name for p in params[:var_at]} if var_at > 0 else set()
    pos: list = []
    kw: dict = {}
    free = NO_EFFECT.get(name.rsplit(".", 1)[-1], set())
    for n, value in bound.arguments.items():
        p = s.np_sig.parameters[n]
        if p.kind is p.VAR_POSITIONAL:
            pos.extend(value)
            continue
        if p.kind is p.VAR_KEYWORD:
            for k, v in value.items():
                if k in s.hd_names or s.var_kw:
                    kw[k] = v
                elif k not in free:
                    return _refused(name, k, v, fallback)
            continue
        target = s.mapping.get(n)
        if p.kind is p.POSITIONAL_ONLY or n in before_var:
            pos.append(value)     # numpy's positional(-only) arguments come first, in hodiff's order too
        elif target is not None:
            kw[target] = value
        elif n in free or is_default(value, p.default):
            continue
        else:
            return _refused(name, n, value, fallback)
    return fn(*pos, **kw)


def _refused(name: str, key: str, value: Any, fallback: Callable[[], Any] | None) -> Any:
    if fallback is not None:
        r = fallback()
        if r is not NotImplemented:
            return r
    raise refuse(name, key, value)


_UFUNC_DEFAULTS = {"casting": ("same_kind", "unsafe"), "signature": (None,), "where": (True,), "keepdims": (False,),
                   "axes": (None,), "axis": (None,)}


def ufunc_call_kwargs(name: str, kwargs: dict) -> Any:
    """Check a ufunc call's keywords; return the requested ``dtype`` (or None). ``order``/``subok`` only change
    memory layout and subclassing, so any value is honoured; the rest must be numpy's defaults."""
    dtype = None
    for k, v in kwargs.items():
        if k in ("order", "subok"):
            continue
        if k == "out":
            if v is None or (isinstance(v, tuple) and all(o is None for o in v)):
                continue
            raise refuse(name, k, v)
        if k == "dtype":
            dtype = v
            continue
        ok = _UFUNC_DEFAULTS.get(k)
        if ok is None or not any(v is o or (isinstance(v, (str, bool)) and v == o) for o in ok):
            hint = "use np.where(mask, f(x), other)" if k == "where" else None
            raise refuse(name, k, v, hint)
    return dtype
