"""The public :func:`explain`: the explanation as a report object that a REPL or a notebook shows once.

Where it sits: ``_explain.py`` measures and writes the explanation as text; this module wraps that text in an
:class:`Explanation` whose ``repr`` *is* the text, so ``hd.cost.explain(f, x)`` at a prompt shows it once (no print
inside, no string echoed with quotes and ``\\n``), ``print(...)`` shows the same, and Jupyter renders it through
``_repr_html_`` / ``_repr_markdown_``. Lines longer than 100 columns are wrapped here, tables excepted.
"""
from __future__ import annotations

import html
import sys
import textwrap
from collections.abc import Callable
from typing import IO, Any

from ._explain import explain as _explain_text
from ._format import WIDTH

__all__ = ["Explanation", "explain"]


class Explanation:
    """What :func:`explain` found: the recommendation, the candidates' costs, the tape of one strategy.

    Shown once wherever it is the value of an expression (REPL, Jupyter); ``str()`` and ``print()`` give the same
    plain text, wrapped to 100 columns. ``text`` holds it; ``in`` and ``splitlines`` work on it.

    Attributes
    ----------
    text : str
        The explanation as plain text.
    """

    def __init__(self, text: str) -> None:
        self.text = _fit(text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:   # the REPL shows repr: the report itself, not a quoted string
        return self.text

    def __contains__(self, part: str) -> bool:
        return part in self.text

    def splitlines(self) -> list[str]:
        """The lines of the text."""
        return self.text.splitlines()

    def _repr_markdown_(self) -> str:
        # fenced: the tables are aligned plain text, which Markdown would reflow
        return "```text\n" + self.text + "\n```"

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.text) + "</pre>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:   # IPython's terminal: the text, once
        p.text(self.text)


def _fit(text: str, width: int = WIDTH) -> str:
    """Wrap the sentences of an explanation to ``width``, continuation lines under their first word.

    Table rows are left alone: a table starts at a line ending with ``:`` followed by a header row and a rule of
    dashes, and ends at the next blank line.
    """
    lines = text.splitlines()
    out: list[str] = []
    in_table = False
    for i, line in enumerate(lines):
        if not line.strip():
            in_table = False
        elif i + 1 < len(lines) and set(lines[i + 1].replace(" ", "")) == {"-"}:
            in_table = True   # a header row followed by its rule
        if in_table or len(line) <= width:
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        body = line.lstrip()
        first = body.split(" ", 1)[0]
        label = len(first) + 1 if first.endswith(":") and first[:-1].isalpha() else 0   # "why: ", "Task: "
        out.append(textwrap.fill(body, width, initial_indent=lead, subsequent_indent=" " * (len(lead) + label + 2),
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def explain(f: Callable[..., Any], x: Any, task: str = "hvp", k: int | None = None,
            memory_budget: int | str | None = None, *, strategy: str | None = None, v: Any = None, repeat: int = 3,
            chunk_size: int | None = None, show: bool = False, file: IO[str] | None = None) -> Explanation:
    """Explain what a second-order task costs with ``f`` at ``x``, and recommend how to do it.

    The candidate strategies for the task are measured with :func:`~hodiff.cost.analyze`; the whole task is priced
    with each (``k`` products, or one dense Hessian and ``k`` matrix-vector products); those whose peak memory
    exceeds ``memory_budget`` are set aside; the fastest of the rest (by measured time, or FLOPs when
    ``repeat=0``) is recommended, with the reasons. Then the tape of one strategy (the recommended one unless
    ``strategy`` is given) is described: its nodes, which primitives dominate the FLOPs and the saved bytes, and
    where the memory goes.

    Parameters
    ----------
    f : callable
        Scalar function of one array.
    x : array_like
        The point.
    task : {"hvp", "k_hvps", "hessian"}
        One Hessian-vector product, ``k`` of them, or the dense Hessian.
    k : int, optional
        Number of products for ``task="k_hvps"`` (default ``n // 2``).
    memory_budget : int or str, optional
        Bytes (or a string such as ``"50 MB"``) the task may use at its peak.
    strategy : str, optional
        Strategy whose tape is described (default: the recommended one).
    v : array_like, optional
        Direction for the HVP strategies.
    repeat : int
        Timed runs per strategy (0: rank by FLOPs only).
    chunk_size : int, optional
        For ``"hessian_chunked"``.
    show : bool
        Also print the text now (for a script; at a prompt or in a notebook the returned report shows itself).
    file : file-like, optional
        Where ``show`` prints (default ``sys.stdout``); giving a file implies ``show``.

    Returns
    -------
    Explanation
        Shown once at a prompt or in a notebook; ``print(report)`` or ``str(report)`` for the plain text.

    Examples
    --------
    >>> import numpy as np, hodiff.cost as hc
    >>> f, x = hc.problems.rosenbrock(50)
    >>> report = hc.explain(f, x, task="hessian", memory_budget="100 MB", repeat=0)
    >>> report.splitlines()[0]
    'Task: the dense Hessian of rosenbrock at n = 50, memory budget 100 MiB'
    """
    text = _explain_text(f, x, task, k, memory_budget, strategy=strategy, v=v, repeat=repeat,
                         chunk_size=chunk_size, show=False)
    report = Explanation(text)
    if show or file is not None:
        print(report.text, file=file or sys.stdout)
    return report
