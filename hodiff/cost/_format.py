"""Formatting for :mod:`hodiff.cost`: numbers with units, and tables as plain text or Markdown.

Where it sits: the report objects (``_analyze.py``, ``_scaling.py``) and :func:`~hodiff.cost.explain` build lists of
cells and hand them here; nothing in this module knows about derivatives.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

__all__ = ["LEGEND", "WIDTH", "fmt_bytes", "fmt_count", "fmt_ratio", "fmt_time", "legend", "parse_bytes", "render",
           "wrap"]

WIDTH = 100   # columns a text report should fit: tables are split, legends and sentences wrapped to it

# What the short column headers and marks of the cost tables mean, in the order a legend lists them.
LEGEND = {
    "xf": "ratio to f's own measurement",
    "prims": "primitive executions",
    "bound": "what theory allows: FLOPs as a multiple of f's, or evaluations",
    "ok": "the measured FLOPs (or evaluations) are within the bound (BROKEN: not; est.: estimated, not checked)",
    "tape": "bytes the tapes hold at once for the backward sweep",
    "width": "tangents carried per value (0: plain reverse mode)",
    "sweeps": "backward passes over a tape",
    "evals": "evaluations of f or of its gradient (finite differences)",
    "peak mem": "tracemalloc peak while the strategy ran",
    "error": "largest relative difference from hodiff's own HVP or Hessian",
    "(est.)": "too many evaluations to run: extrapolated from f",
    "n=...": "FLOPs at that size",
    "*": "estimated (not run, and left out of the fits)",
}


def fmt_count(x: float | None) -> str:
    """An operation or FLOP count: exact below 10,000, then with a k/M/G/T suffix.

    Examples
    --------
    >>> fmt_count(27), fmt_count(64_900), fmt_count(2.5e9)
    ('27', '64.9k', '2.5G')
    """
    if x is None:
        return "-"
    x = float(x)
    if abs(x) < 10_000:
        return str(round(x))
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"  # pragma: no cover


def fmt_bytes(b: float | None) -> str:
    """Bytes in B, KiB, MiB or GiB.

    Examples
    --------
    >>> fmt_bytes(56), fmt_bytes(15_974), fmt_bytes(2 ** 30)
    ('56 B', '15.6 KiB', '1 GiB')
    """
    if b is None:
        return "-"
    b = float(b)
    for unit, scale in (("GiB", 2.0 ** 30), ("MiB", 2.0 ** 20), ("KiB", 2.0 ** 10)):
        if abs(b) >= scale:
            v = b / scale
            return f"{v:.0f} {unit}" if abs(v) >= 999.5 else f"{v:.3g} {unit}"
    return f"{int(b)} B"


def fmt_time(t: float | None) -> str:
    """Seconds as ns, us, ms or s.

    Examples
    --------
    >>> fmt_time(8.52e-6), fmt_time(0.151), fmt_time(None)
    ('8.52 us', '151 ms', '-')
    """
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def fmt_ratio(r: float | None) -> str:
    """A ratio to ``f``: three significant digits (a count suffix from 1,000 on).

    Examples
    --------
    >>> fmt_ratio(2.4545), fmt_ratio(1554.2)
    ('2.45', '1554')
    """
    if r is None or (isinstance(r, float) and math.isnan(r)):
        return "-"
    if r >= 1000:
        return fmt_count(r)
    return f"{r:.3g}"


def parse_bytes(b: int | float | str | None) -> int | None:
    """A memory size: an int (bytes) or a string such as ``"200 MB"`` or ``"1.5GiB"`` (powers of 1024 either way).

    Examples
    --------
    >>> parse_bytes("1.5 KiB"), parse_bytes(4096), parse_bytes("2MB")
    (1536, 4096, 2097152)
    """
    if b is None or isinstance(b, (int, float)):
        return None if b is None else int(b)
    s = str(b).strip().lower().replace(" ", "")
    for suffix, scale in (("gib", 30), ("gb", 30), ("g", 30), ("mib", 20), ("mb", 20), ("m", 20), ("kib", 10),
                          ("kb", 10), ("k", 10), ("b", 0)):
        if s.endswith(suffix):
            return int(float(s[: -len(suffix)]) * 2 ** scale)
    return int(float(s))


def render(header: Sequence[str], rows: Sequence[Sequence[str]], fmt: str = "text", align: str | None = None) -> str:
    """A table from a header and rows of strings, as aligned plain text or as a Markdown table.

    ``align`` is a string of ``"l"``/``"r"`` per column (default: the first left, the others right).

    Examples
    --------
    >>> print(render(["a", "b"], [["x", "1"], ["yy", "22"]]))
    a    b
    --  --
    x    1
    yy  22
    """
    if fmt not in ("text", "markdown"):
        raise ValueError(f"fmt must be 'text' or 'markdown', not {fmt!r}")
    ncol = len(header)
    align = align or "l" + "r" * (ncol - 1)
    if fmt == "markdown":
        esc = [[str(c).replace("|", "\\|") for c in r] for r in [list(header), *rows]]
        lines = ["| " + " | ".join(esc[0]) + " |",
                 "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [list(header), *rows]) for i in range(ncol)]

    def line(r):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w)
                         for c, w, a in zip(r, widths, align)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    """One paragraph wrapped to ``width`` columns, continuation lines indented by ``indent``.

    Examples
    --------
    >>> print(wrap("one two three four", width=9, indent="  "))
    one two
      three
      four
    """
    return "\n".join(textwrap.wrap(text, width=width, subsequent_indent=indent, break_long_words=False,
                                    break_on_hyphens=False)) or text


def legend(keys: Sequence[str], fmt: str = "text", width: int = WIDTH, meanings: dict[str, str] | None = None) -> str:
    """What the given headers and marks of a cost table mean (those of :data:`LEGEND`, in its order).

    ``meanings`` adds or replaces entries for one table (a header that means something else there).
    Plain text is wrapped to ``width`` columns; ``fmt="markdown"`` gives one paragraph with the keys in italics.

    Examples
    --------
    >>> print(legend(["sweeps", "width"], width=60))
    width: tangents carried per value (0: plain reverse mode);
      sweeps: backward passes over a tape
    """
    if fmt not in ("text", "markdown"):
        raise ValueError(f"fmt must be 'text' or 'markdown', not {fmt!r}")
    wanted = set(keys)
    table = {**LEGEND, **(meanings or {})}
    items = [(k, v) for k, v in table.items() if k in wanted]
    if fmt == "markdown":
        return "; ".join(f"*{k.replace('*', chr(92) + '*')}* {v}" for k, v in items) + "."
    return wrap("; ".join(f"{k}: {v}" for k, v in items), width, indent="  ")
