"""The error raised when a value being differentiated is converted to a plain number or array.

``np.asarray(x)``, ``x.__array__()``, ``float(x)``, ``int(x)`` on a traced value would drop its derivative, so they
raise. The message says *who* converted it, read from the call stack: the library function the user called (the
outermost frame of a library such as scipy below the user's own code, e.g. ``scipy.stats.norm.logpdf``), with its
``hodiff.scipy`` twin when there is one; or, when the user's own line converted it (``np.array([x[0], x[1]])``,
``buf[0] = x[0]``), that line and what to write instead. The message speaks of "a value being differentiated", never
of boxes, duals or tensors, which functional-API users never meet.
"""
from __future__ import annotations

import linecache
import os
import sys
import sysconfig
from types import FrameType

__all__ = ["ConversionError", "conversion_error", "library_caller"]


class ConversionError(TypeError):
    """A value being differentiated was converted to a plain numpy value (which would drop its derivative)."""


_LIB_DIRS = tuple({os.path.realpath(p) for p in (sysconfig.get_paths().get("purelib"), sysconfig.get_paths().get(
    "platlib"), sysconfig.get_paths().get("stdlib")) if p})


def _module(frame: FrameType) -> str:
    return frame.f_globals.get("__name__", "") or ""


def _is_hodiff(frame: FrameType) -> bool:
    m = _module(frame)
    return m == "hodiff" or m.startswith("hodiff.")


def _is_library(frame: FrameType) -> bool:
    """numpy, scipy and every other installed package or the standard library (but not hodiff, not user code)."""
    if _is_hodiff(frame):
        return False
    m = _module(frame)
    if m.split(".", 1)[0] in ("numpy", "scipy"):
        return True
    f = os.path.realpath(frame.f_code.co_filename)
    return any(f.startswith(d + os.sep) for d in _LIB_DIRS)


def _public_module(mod: str, name: str) -> str:
    """``scipy.special._logsumexp`` + ``logsumexp`` -> ``scipy.special`` (the first package exporting the name)."""
    parts = mod.split(".")
    for i in range(1, len(parts) + 1):
        m = sys.modules.get(".".join(parts[:i]))
        if m is not None and getattr(m, name, None) is not None and not any(p.startswith("_") for p in parts[:i]):
            return ".".join(parts[:i])
    return ".".join(p for p in parts if not p.startswith("_")) or mod


def _public_name(frame: FrameType) -> str:
    """The dotted public name of the function running in ``frame`` (``scipy.stats.norm.logpdf``)."""
    code = frame.f_code
    mod = _module(frame)
    name = code.co_name
    if name in _GENERIC:      # a decorator's wrapper: name the function it wraps (a closure variable)
        for v in (frame.f_locals.get(n) for n in code.co_freevars):
            if callable(v) and isinstance(getattr(v, "__name__", None), str) and hasattr(v, "__module__"):
                return f"{_public_module(v.__module__ or mod, v.__name__)}.{v.__name__}"
    self = frame.f_locals.get("self")
    if self is not None and mod.startswith("scipy.stats"):
        dist = getattr(self, "dist", self)        # frozen distributions keep theirs in .dist
        dname = getattr(dist, "name", None)
        if isinstance(dname, str):
            return f"scipy.stats.{dname}.{name}"
    if self is not None:
        cls = type(self).__name__
        return f"{_public_module(mod, cls)}.{cls}.{name}"
    return f"{_public_module(mod, name)}.{name}"


def library_caller(frame: FrameType | None) -> tuple[FrameType | None, FrameType | None]:
    """``(entry, user)``: the library function the user's code called (None if the user's own line did the
    conversion) and the user's frame. ``frame`` is where the walk starts (hodiff frames at its bottom are skipped)."""
    f = frame
    while f is not None and _is_hodiff(f):
        f = f.f_back
    lib = []
    while f is not None and _is_library(f):
        lib.append(f)
        f = f.f_back
    # the outermost library frame is what the user called, unless it is a decorator's wrapper or a private helper
    named = [g for g in reversed(lib) if not g.f_code.co_name.startswith("_")]
    return (named[0] if named else lib[-1] if lib else None), f


_GENERIC = frozenset({"wrapper", "inner", "wrapped", "decorated", "<lambda>", "__call__"})


def _twin(public: str) -> str | None:
    """``hodiff.scipy.stats.norm.logpdf`` for ``scipy.stats.norm.logpdf`` when hodiff.scipy has it."""
    if not public.startswith("scipy."):
        return None
    obj = sys.modules.get("hodiff.scipy")
    for part in public.split(".")[1:]:
        obj = getattr(obj, part, None) if obj is not None else None
    return "hodiff." + public if obj is not None else None


_NUMPY_HINTS = {
    "numpy.full": "np.full_like(np.empty(shape), x) (or x * np.ones(shape)), which keeps the derivative",
    "numpy.full_like": "np.full_like(x, v) with x itself a value being differentiated, or v * np.ones(shape)",
    "numpy.asarray": "use the value directly (hodiff values already behave as arrays)",
    "numpy.array": "np.stack([...]) to build an array from values being differentiated",
}


def _where(user: FrameType | None) -> tuple[str, str]:
    if user is None:
        return "", ""
    line = linecache.getline(user.f_code.co_filename, user.f_lineno).strip()
    return f"{os.path.basename(user.f_code.co_filename)}:{user.f_lineno}", line


def conversion_error(how: str, start: FrameType | None = None, tensor_api: bool = False) -> ConversionError:
    """The error for converting a value being differentiated with ``how`` (``np.asarray``, ``float()``, ...);
    ``tensor_api`` adds the tensor API's way out (``x.detach().numpy()``)."""
    err = _conversion_error(how, start if start is not None else sys._getframe(1))
    if tensor_api:
        err = ConversionError(str(err) + " For a tensor, x.detach().numpy() gives its value without gradient.")
    return err


def _conversion_error(how: str, start: FrameType) -> ConversionError:
    entry, user = library_caller(start)
    where, line = _where(user)
    at = f" (called at {where}: `{line}`)" if where else ""
    if entry is not None:
        public = _public_name(entry)
        twin = _twin(public)
        if twin is not None:
            fix = f"use {twin} instead: the same function, differentiable"
        elif public in _NUMPY_HINTS:
            fix = _NUMPY_HINTS[public]
        else:
            fix = (f"hodiff has no differentiable version of {public}: write it with numpy functions on the value, "
                   "declare it with hodiff.custom_jvp / hodiff.custom_vjp, or pass hodiff.stop_gradient(x) if no "
                   "derivative is wanted through it")
        return ConversionError(
            f"{public}(){at} converted a value being differentiated to a plain numpy array or number ({how}), which "
            f"would silently drop its derivative. To fix: {fix}.")
    if "] =" in line or "]=" in line or "__setitem__" in line:
        fix = ("numpy cannot store a value being differentiated in a plain array; build a new value instead: "
               "y = x.at[i].set(v) or y = hodiff.index_set(x, i, v), or collect the values and np.stack them")
    elif "array(" in line or "asarray(" in line:
        fix = "build the array with np.stack([...]) (or np.concatenate), which keeps the derivative"
    else:
        fix = ("use numpy/hodiff functions on it, or take the value explicitly with hodiff.stop_gradient(x) (or "
               "x.item()) where no derivative is wanted")
    where_txt = f"the line {where}, `{line}`," if where else "a conversion"
    return ConversionError(f"{where_txt} converted a value being differentiated to a plain numpy array or number ({how}), "
                           f"which would silently drop its derivative. To fix: {fix}.")
