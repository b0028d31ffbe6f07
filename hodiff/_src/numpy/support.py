"""The table of supported numpy/scipy functions, generated from the dispatch registries and the primitive table.

Where it sits: on the numpy floor, reading the registries of ``dispatch`` (what a numpy or scipy call on a hodiff
value runs). ``docs/`` builds its "Supported functions" page from :func:`supported_markdown`, so the page cannot
drift from the code. It lists only what a *plain* numpy/scipy call reaches; scipy's Python-level functions
(``scipy.stats``, ``scipy.special.logsumexp``, ``scipy.linalg``, ...) never reach hodiff through numpy, so they
are on the "SciPy functions" page (``hodiff.scipy``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import dispatch as D
from ..core.engine import PRIMITIVES

__all__ = ["supported_functions", "supported_markdown", "out_of_scope"]

Row = tuple[str, str, str, str]


def _primitive_name(fn: Callable[..., Any]) -> str | None:
    """The name of the primitive ``fn`` applies directly, or None for a composite."""
    prim = getattr(fn, "prim", None)
    return prim.name if prim is not None else None


def _public_name(fn: Callable[..., Any]) -> str:
    """Where a user finds ``fn``: ``hodiff.NAME`` for the top-level functions, the full module path otherwise."""
    name = getattr(fn, "__name__", "?")
    mod = getattr(fn, "__module__", "") or ""
    if mod.startswith("hodiff.scipy"):
        return f"hodiff.scipy.{mod.split('.')[2].lstrip('_').split('_')[0]}.{name}"
    return f"hodiff.{name}"


def supported_functions() -> list[Row]:
    """Rows ``(numpy/scipy name, hodiff function, kind, orders)`` for every function hodiff dispatches.

    ``kind`` is ``primitive `NAME``` (a table entry with its own rules), ``composite`` (built from primitives) or
    ``no derivative`` (computed on plain values). Every differentiable function is differentiable to any order,
    forward and reverse, because every rule is itself written in differentiable primitives.

    Returns
    -------
    list of tuple of str
        Sorted by the numpy/scipy name, one row per name.

    Examples
    --------
    >>> rows = dict((r[0], r) for r in supported_functions())
    >>> rows["numpy.sin"][2]
    'primitive `sin`'
    """
    rows = []
    for table, kindless in ((D.HANDLED_UFUNCS, False), (D.HANDLED_FUNCTIONS, False), (D.NONDIFF, True)):
        for f, fn in table.items():
            if kindless:
                rows.append((D._name(f), "-", "no derivative", "returns a plain value"))
                continue
            prim = _primitive_name(fn)
            kind = f"primitive `{prim}`" if prim else "composite"
            consts = getattr(fn, "consts", ())
            orders = "any (forward and reverse)" + (
                f"; not in {', '.join(f'`{c}`' for c in consts)}" if consts else "")
            rows.append((D._name(f), _public_name(fn), kind, orders))
    seen, out = set(), []
    for r in sorted(rows):
        if r[0] not in seen:
            seen.add(r[0])
            out.append(r)
    return out


def out_of_scope() -> list[str]:
    """The ``numpy.fft`` functions and numpy's complex-number functions, none of which hodiff dispatches (checked
    against the registries: a test keeps this true). Each raises an error naming it on a value being
    differentiated."""
    handled = set(D.HANDLED_UFUNCS) | set(D.HANDLED_FUNCTIONS) | set(D.NONDIFF)
    names = [f"numpy.fft.{n}" for n in sorted(np.fft.__all__) if callable(getattr(np.fft, n))]
    names += [f"numpy.{n}" for n in ("real", "imag", "conj", "conjugate", "angle") if getattr(np, n) not in handled]
    return [n for n in names if _lookup(n) not in handled]


def _lookup(dotted: str) -> Any:
    obj: Any = np
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _table(rows: list[Row]) -> list[str]:
    lines = ["| function | hodiff | kind | derivative orders |", "|---|---|---|---|"]
    return lines + [f"| `{a}` | `{b}` | {c} | {d} |" for a, b, c, d in rows]


def supported_markdown() -> str:
    """The supported-functions page's tables as Markdown: numpy's functions, then scipy's ufuncs.

    Returns
    -------
    str
        Markdown with two ``###`` sections and the count of primitives.
    """
    rows = supported_functions()
    numpy_rows = [r for r in rows if not r[0].startswith("scipy.")]
    scipy_rows = [r for r in rows if r[0].startswith("scipy.")]
    lines = [f"hodiff's primitive table has {len(PRIMITIVES)} entries; every other function is a composite of them.",
             "", f"### numpy ({len(numpy_rows)} functions)", ""]
    lines += _table(numpy_rows)
    lines += ["", f"### scipy.special ufuncs: plain calls work ({len(scipy_rows)} functions)", "",
              "These are numpy ufuncs, so `scipy.special.NAME(x)` on a hodiff value runs the hodiff function named "
              "in the second column; no import change is needed.", ""]
    lines += _table(scipy_rows)
    return "\n".join(lines) + "\n"
