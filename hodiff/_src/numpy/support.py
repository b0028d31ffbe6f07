"""The table of supported numpy/scipy functions, generated from the dispatch registries and the primitive table.

``docs/`` builds its "Supported functions" page from :func:`supported_functions`, so the page cannot drift from the
code.
"""
from __future__ import annotations

from . import dispatch as D
from ..core.engine import PRIMITIVES


def _primitives_used(fn):
    """Primitive names whose op function is ``fn`` itself (a direct primitive) or None for a composite."""
    prim = getattr(fn, "prim", None)
    return prim.name if prim is not None else None


def supported_functions():
    """Rows ``(numpy/scipy name, hodiff function, kind, orders)`` for every function hodiff dispatches.

    ``kind`` is ``primitive`` (a table entry with its own rules), ``composite`` (built from primitives) or
    ``no derivative`` (computed on plain values). Every differentiable function is differentiable to any order,
    forward and reverse, because every rule is itself written in differentiable primitives.
    """
    rows = []
    for table, kindless in ((D.HANDLED_UFUNCS, False), (D.HANDLED_FUNCTIONS, False), (D.NONDIFF, True)):
        for f, fn in table.items():
            if kindless:
                rows.append((D._name(f), "-", "no derivative", "returns a plain value"))
                continue
            prim = _primitives_used(fn)
            kind = f"primitive `{prim}`" if prim else "composite"
            rows.append((D._name(f), f"hodiff.{getattr(fn, '__name__', '?')}", kind, "any (forward and reverse)"))
    seen, out = set(), []
    for r in sorted(rows):
        if r[0] not in seen:
            seen.add(r[0])
            out.append(r)
    return out


def supported_markdown():
    """The supported-functions table as Markdown, with the count of primitives."""
    rows = supported_functions()
    lines = [f"hodiff's primitive table has {len(PRIMITIVES)} entries; every other function is a composite of them.",
             "", "| function | hodiff | kind | derivative orders |", "|---|---|---|---|"]
    lines += [f"| `{a}` | `{b}` | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"
