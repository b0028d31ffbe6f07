"""``analyze``: one function, one point, every strategy measured three ways, beside the bounds of theory.

Where it sits: for each registered strategy (``_strategies.py``), :func:`analyze` runs it once under the counting
instrumentation (``_instrument.py``: primitive executions, FLOPs from the table's cost hints, tape bytes, tangent
width, sweeps), once under ``tracemalloc`` (peak memory) and ``repeat`` times plainly (median time). The
:class:`Report` puts each measurement beside ``f``'s and beside its bound, and prints, tabulates or plots them.
"""
from __future__ import annotations

import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._src.transforms import functional as F
from .._src.transforms.hessians import hessian
from ._format import fmt_bytes, fmt_count, fmt_ratio, fmt_time, render, wrap
from ._format import legend as legend_text
from ._instrument import counting
from ._strategies import STRATEGIES, Bound, Problem

__all__ = ["Report", "Row", "analyze", "require_matplotlib"]


@dataclass
class Row:
    """The measurements of one strategy (one row of a :class:`Report`).

    Counts (``ops``, ``flops``, ``tape_*``, ``tangent_width``, ``sweeps``, evaluations) are deterministic;
    ``peak_memory`` and ``time`` are measured. ``tape_bytes`` is everything the strategy's tapes saved for backward
    (summed over its tapes) that the run computed; ``tape_peak_bytes`` the most held at once (what the "tape"
    column shows); ``tape_shared_bytes`` what the tapes hold by reference to the input and constants (no copy). Every
    ``*_ratio`` is the measurement divided by ``f``'s; ``tape_ratio`` is ``tape_peak_bytes`` over the bytes of all of
    ``f``'s intermediate results (``f.result_bytes``), i.e. how many copies of ``f``'s intermediates the tape holds.
    """

    name: str
    description: str
    task: str
    n: int
    ops: int = 0
    ops_by_prim: dict = field(default_factory=dict)
    flops: int = 0
    flops_by_prim: dict = field(default_factory=dict)
    bytes_moved: int = 0
    result_bytes: int = 0
    tape_nodes: int = 0
    tape_bytes: int = 0
    tape_peak_bytes: int = 0
    tape_shared_bytes: int = 0
    tape_nodes_by_prim: dict = field(default_factory=dict)
    tape_bytes_by_prim: dict = field(default_factory=dict)
    tape_by_role: dict = field(default_factory=dict)
    tape_by_kind: dict = field(default_factory=dict)
    tangent_width: int = 0
    sweeps: int = 0
    f_evals: int | None = None
    grad_evals: int | None = None
    peak_memory: int | None = None
    time: float | None = None
    times: list = field(default_factory=list)
    error: float | None = None
    counted_equal: bool | None = None
    estimated: bool = False
    uncosted: list = field(default_factory=list)
    bound: Bound | None = None
    ops_ratio: float | None = None
    flops_ratio: float | None = None
    tape_ratio: float | None = None
    memory_ratio: float | None = None
    time_ratio: float | None = None
    ok: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict (the bound as a nested dict).

        Examples
        --------
        >>> import numpy as np, hodiff as hd, hodiff.cost
        >>> r = hd.cost.analyze(np.sum, np.ones(3), strategies=["f"], repeat=1, memory=False)
        >>> r["f"].as_dict()["ops_by_prim"]
        {'sum': 1}
        """
        return asdict(self)


def require_matplotlib() -> Any:
    """Import ``matplotlib.pyplot`` (with the Agg backend when none is chosen), or raise a clear ImportError.

    Examples
    --------
    >>> plt = require_matplotlib()  # doctest: +SKIP
    """
    try:
        import matplotlib
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("hodiff.cost plots need matplotlib, an optional dependency: pip install 'hodiff[plot]' "
                          "(or pip install matplotlib)") from e
    if not os.environ.get("MPLBACKEND") and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


COLUMNS = {
    # name: (header, cell function, alignment)
    "strategy": ("strategy", lambda r: r.name + (" (est.)" if r.estimated else ""), "l"),
    "ops": ("prims", lambda r: fmt_count(r.ops), "r"),
    "ops_ratio": ("xf", lambda r: fmt_ratio(r.ops_ratio), "r"),
    "flops": ("FLOPs", lambda r: fmt_count(r.flops), "r"),
    "flops_ratio": ("xf", lambda r: fmt_ratio(r.flops_ratio), "r"),
    "bound": ("bound", lambda r: r.bound.text if r.bound else "-", "r"),
    "ok": ("ok", lambda r: "" if r.task == "f" else ("est." if r.ok is None else ("ok" if r.ok else "BROKEN")), "l"),
    "tape": ("tape", lambda r: fmt_bytes(r.tape_peak_bytes) if r.tape_peak_bytes else "-", "r"),
    "tape_ratio": ("xf", lambda r: fmt_ratio(r.tape_ratio) if r.tape_peak_bytes else "-", "r"),
    "tape_total": ("taped", lambda r: fmt_bytes(r.tape_bytes) if r.tape_bytes else "-", "r"),
    "tape_nodes": ("nodes", lambda r: fmt_count(r.tape_nodes), "r"),
    "width": ("width", lambda r: str(r.tangent_width), "r"),
    "sweeps": ("sweeps", lambda r: str(r.sweeps), "r"),
    "evals": ("evals", lambda r: (f"{fmt_count(r.f_evals)} f" if r.f_evals else
                                  f"{fmt_count(r.grad_evals)} grad" if r.grad_evals else "-"), "r"),
    "memory": ("peak mem", lambda r: fmt_bytes(r.peak_memory), "r"),
    "memory_ratio": ("xf", lambda r: fmt_ratio(r.memory_ratio), "r"),
    "time": ("time", lambda r: fmt_time(r.time), "r"),
    "time_ratio": ("xf", lambda r: fmt_ratio(r.time_ratio), "r"),
    "error": ("error", lambda r: "-" if r.error is None else f"{r.error:.0e}", "r"),
}
DEFAULT_COLUMNS = ("strategy", "ops", "ops_ratio", "flops", "flops_ratio", "bound", "ok", "tape", "tape_ratio",
                   "width", "sweeps", "evals", "memory", "memory_ratio", "time", "time_ratio", "error")
# The default columns as plain text, in two tables that each fit 100 columns: the work, then memory and time.
TEXT_GROUPS = (("strategy", "ops", "ops_ratio", "flops", "flops_ratio", "bound", "ok", "width", "sweeps", "evals"),
               ("strategy", "tape", "tape_ratio", "memory", "memory_ratio", "time", "time_ratio", "error"))


class Report:
    """What :func:`analyze` measured: one :class:`Row` per strategy, ``f`` first.

    Attributes
    ----------
    rows : list of Row
    n : int
        Size of ``x``.
    title : str
    """

    def __init__(self, rows: list[Row], n: int, title: str) -> None:
        self.rows = rows
        self.n = n
        self.title = title

    def __getitem__(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no strategy {name!r} in this report; it has {[r.name for r in self.rows]}")

    def __contains__(self, name: object) -> bool:
        return any(r.name == name for r in self.rows)

    @property
    def broken(self) -> list[str]:
        """Names of the strategies whose measurement breaks its bound.

        Examples
        --------
        >>> import numpy as np, hodiff as hd, hodiff.cost
        >>> hd.cost.analyze(np.sum, np.ones(3), strategies=["grad"], repeat=0, memory=False).broken
        []
        """
        return [r.name for r in self.rows if r.ok is False]

    def table(self, fmt: str = "text", columns: Sequence[str] | None = None, legend: bool | None = None) -> str:
        """The report as a table: ``fmt="text"`` (aligned columns) or ``"markdown"``.

        In plain text the default columns do not fit :data:`~hodiff.cost._format.WIDTH` (100) columns side by side,
        so they come as two tables, the work (counts against the bounds) and then memory and time, each led by the
        strategy names, followed by a legend of the headers. Markdown keeps one table (a page scrolls sideways).

        Parameters
        ----------
        fmt : {"text", "markdown"}
        columns : sequence of str, optional
            A subset of ``COLUMNS`` (default: all), shown as one table; ``"xf"`` columns are ratios to ``f``.
        legend : bool, optional
            Add what the headers mean (default: for plain text with the default columns).

        Examples
        --------
        >>> import numpy as np, hodiff as hd, hodiff.cost
        >>> r = hd.cost.analyze(lambda x: 2 * hd.dot(x, x), np.arange(5.0), strategies=["f", "grad"],
        ...                     repeat=1, memory=False)
        >>> print(r.table(columns=["strategy", "ops", "flops", "flops_ratio", "bound", "ok", "sweeps"]))
        strategy  prims  FLOPs    xf   bound  ok  sweeps
        --------  -----  -----  ----  ------  --  ------
        f             2     11     1     1 f           0
        grad          6     27  2.45  <= 5 f  ok       1
        """
        if fmt not in ("text", "markdown"):
            raise ValueError(f"fmt must be 'text' or 'markdown', not {fmt!r}")
        default = columns is None
        cols = list(DEFAULT_COLUMNS if columns is None else columns)
        for c in cols:
            if c not in COLUMNS:
                raise ValueError(f"unknown column {c!r}; choose from {sorted(COLUMNS)}")
        groups = list(TEXT_GROUPS) if default and fmt == "text" else [cols]
        out = "\n\n".join(self._one_table(g, fmt) for g in groups)
        if legend if legend is not None else (default and fmt == "text"):
            keys = [COLUMNS[c][0] for c in cols] + (["(est.)"] if any(r.estimated for r in self.rows) else [])
            out += "\n\n" + legend_text(keys, fmt)
        return out

    def _one_table(self, cols: Sequence[str], fmt: str) -> str:
        header = [COLUMNS[c][0] for c in cols]
        body = [[COLUMNS[c][1](r) for c in cols] for r in self.rows]
        return render(header, body, fmt, "".join(COLUMNS[c][2] for c in cols))

    def __str__(self) -> str:
        lines = [self.title, self.table()]
        if self.broken:
            lines.append(wrap("BROKEN: the measured FLOPs (or evaluations) exceed the bound from theory: "
                              + ", ".join(self.broken)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<hodiff.cost.Report n={self.n}: {', '.join(r.name for r in self.rows)}>"

    def plot(self, path: str) -> str:
        """Bar chart of FLOPs, time and peak memory as ratios to ``f`` (log scale), with each FLOP bound marked.

        Needs matplotlib. Returns ``path``.

        Examples
        --------
        >>> import numpy as np, hodiff as hd, hodiff.cost
        >>> r = hd.cost.analyze(np.sum, np.ones(3), strategies=["f", "grad"], repeat=1)
        >>> r.plot("cost.png")  # doctest: +SKIP
        'cost.png'
        """
        plt = require_matplotlib()
        rows = [r for r in self.rows if r.task != "f"]
        names = [r.name + ("*" if r.estimated else "") for r in rows]
        x = np.arange(len(rows))
        series = [("FLOPs", [r.flops_ratio for r in rows]), ("time", [r.time_ratio for r in rows]),
                  ("peak memory", [r.memory_ratio for r in rows])]
        fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(rows) + 2), 4.2))
        w = 0.27
        for k, (label, vals) in enumerate(series):
            vals = [np.nan if v is None else v for v in vals]
            ax.bar(x + (k - 1) * w, vals, w, label=label)
        for i, r in enumerate(rows):
            if r.bound is not None and r.bound.flops:
                ax.plot([i - 1.5 * w, i - 0.5 * w], [r.bound.flops] * 2, color="k", lw=2)
        ax.plot([], [], color="k", lw=2, label="FLOP bound")
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=35, ha="right")
        ax.set_ylabel("cost / cost of f")
        ax.set_title(self.title, fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def _resolve(strategies):
    if strategies is None:
        names = [n for n, s in STRATEGIES.items() if s.default]
    else:
        names = [strategies] if isinstance(strategies, str) else list(strategies)
        for n in names:
            if n not in STRATEGIES:
                raise ValueError(f"unknown strategy {n!r}; registered: {list(STRATEGIES)}")
    return ["f"] + [n for n in names if n != "f"]


def _rel_err(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, np.finfo(float).tiny)
    return float(np.max(np.abs(a - b))) / scale if a.size else 0.0


def _equal(a, b):
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except TypeError:   # pragma: no cover - non-numeric results
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def _measure(strat, p, repeat, time_budget, memory):
    row = Row(strat.name, strat.description, strat.task, p.n)
    p.reset(counting=True)
    gc.collect()
    with counting() as c:
        counted = strat.run(p)
    row.ops_by_prim = dict(sorted(c.ops.items()))
    row.ops = c.total_ops
    row.flops_by_prim = dict(sorted(c.flops.items()))
    row.flops = c.total_flops
    row.bytes_moved = sum(c.bytes_moved.values())
    row.result_bytes = c.result_bytes
    row.uncosted = sorted(c.uncosted)
    row.tape_nodes = c.tape.nodes
    row.tape_bytes = c.tape.bytes
    row.tape_peak_bytes = c.tape_peak_bytes
    row.tape_shared_bytes = c.tape.shared_bytes
    row.tape_nodes_by_prim = dict(c.tape.nodes_by_prim.most_common())
    row.tape_bytes_by_prim = dict(c.tape.bytes_by_prim.most_common())
    row.tape_by_role = dict(c.tape.by_role)
    row.tape_by_kind = dict(c.tape.by_kind)
    row.tangent_width = c.tangent_width
    row.sweeps = c.sweeps
    row.f_evals = p.f_evals or None
    row.grad_evals = p.grad_evals or None
    del c
    plain = None
    if memory:
        p.reset(counting=False)
        gc.collect()
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            plain = strat.run(p)
            row.peak_memory = max(0, tracemalloc.get_traced_memory()[1] - base)
        finally:
            if started:
                tracemalloc.stop()
    spent = 0.0
    for _ in range(max(0, int(repeat))):
        p.reset(counting=False)
        t0 = time.perf_counter()
        plain = strat.run(p)
        dt = time.perf_counter() - t0
        row.times.append(dt)
        spent += dt
        if spent > time_budget:
            break
    if row.times:
        row.time = float(np.median(row.times))
    if plain is not None:
        row.counted_equal = _equal(counted, plain)
    return row, counted


def _estimate(strat, p, frow):
    """A row for a strategy too large to run: its evaluations of f (or of the gradient) times one measured f."""
    fe, ge = strat.evals(p.n)
    row = Row(strat.name, strat.description, strat.task, p.n, estimated=True)
    row.f_evals, row.grad_evals = fe or None, ge or None
    if fe:
        row.ops = fe * frow.ops
        row.flops = fe * frow.flops
        row.time = None if frow.time is None else fe * frow.time
        row.peak_memory = None if frow.peak_memory is None else frow.peak_memory + 8 * p.n * p.n
    return row


def analyze(f: Callable[..., Any], x: Any, strategies: str | Sequence[str] | None = None, repeat: int = 5,
            v: Any = None, *, chunk_size: int | None = None, time_budget: float = 1.0, memory: bool = True,
            fd_max_evals: int = 20_000, progress: Callable[[str], Any] | None = None,
            title: str | None = None) -> Report:
    """Measure the cost of ``f``'s derivatives at ``x`` by every strategy, beside the bounds from theory.

    Each strategy runs once instrumented (primitive executions, FLOPs from the primitive table's cost hints, bytes
    saved on the tapes for backward, tangent width, backward sweeps, evaluations), once under ``tracemalloc`` (peak
    memory) and up to ``repeat`` times plainly (median time). Hessian-vector products and Hessians are checked
    against hodiff's own ``hvp`` and ``hessian`` (``error``), which for finite differences is their accuracy.

    Parameters
    ----------
    f : callable
        Scalar function of one array, written with numpy or hodiff functions.
    x : array_like
        The point (floating point, any shape; ``n = x.size``).
    strategies : sequence of str, optional
        Names from :data:`~hodiff.cost.STRATEGIES` (default: every default one); ``"f"`` is always included.
    repeat : int
        Timed runs per strategy (0: no timing). Fewer when a strategy's runs exceed ``time_budget`` seconds.
    v : array_like, optional
        Direction of the Hessian-vector products (default: a fixed pseudo-random vector).
    chunk_size : int, optional
        Tangents per sweep for ``"hessian_chunked"`` (default ``min(n, 16)``).
    time_budget : float
        Seconds of timed runs per strategy after which no more are started.
    memory : bool
        Measure peak memory with ``tracemalloc`` (one more run per strategy).
    fd_max_evals : int
        Finite differences needing more evaluations than this are not run; their row is extrapolated from ``f``'s
        measurements and marked ``(est.)``.
    progress : callable, optional
        Called with the name of each strategy before it runs.
    title : str, optional
        Heading of the report.

    Returns
    -------
    Report

    Examples
    --------
    >>> import numpy as np, hodiff as hd, hodiff.cost
    >>> r = hd.cost.analyze(lambda x: 2 * hd.dot(x, x), np.arange(5.0), strategies=["grad", "hvp_fwd_rev"],
    ...                     repeat=1, memory=False)
    >>> r["grad"].ops_by_prim, r["grad"].flops, r["grad"].sweeps
    ({'add': 1, 'matmul': 1, 'multiply': 4}, 27, 1)
    >>> r["hvp_fwd_rev"].tangent_width, r["hvp_fwd_rev"].ok
    (1, True)
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if v is None:
        v = np.random.default_rng(0).standard_normal(x.shape).astype(x.dtype)
    v = np.asarray(v, dtype=x.dtype).reshape(x.shape)
    names = _resolve(strategies)
    p = Problem(f, x, v, chunk_size=chunk_size, fd_max_evals=fd_max_evals)
    n = p.n
    rows: list[Row] = []
    results: dict[str, Any] = {}
    for name in names:
        strat = STRATEGIES[name]
        if progress is not None:
            progress(name)
        if strat.too_large is not None and strat.too_large(p) and strat.evals is not None:
            rows.append(_estimate(strat, p, rows[0]))
            continue
        row, res = _measure(strat, p, repeat, time_budget, memory)
        rows.append(row)
        results[name] = res
    _check_results(rows, results, p)
    frow = rows[0]
    for r in rows:
        r.bound = STRATEGIES[r.name].bound(n)
        r.ops_ratio = r.ops / frow.ops if frow.ops else None
        r.flops_ratio = r.flops / frow.flops if frow.flops else None
        r.tape_ratio = r.tape_peak_bytes / frow.result_bytes if frow.result_bytes else None
        if r.peak_memory is not None and frow.peak_memory:
            r.memory_ratio = r.peak_memory / frow.peak_memory
        if r.time is not None and frow.time:
            r.time_ratio = r.time / frow.time
        r.ok = None if r.estimated else _within(r)
    if title is None:
        fname = getattr(f, "__name__", "f")
        title = f"hodiff.cost.analyze: {fname} at n = {n} (x: {x.dtype}{list(x.shape)}); ratios (xf) are to f"
    return Report(rows, n, title)


def _within(r):
    b = r.bound
    ok = True
    if b.flops is not None and r.flops_ratio is not None:
        ok &= r.flops_ratio <= b.flops * (1 + 1e-9)
    if b.f_evals is not None and r.f_evals is not None:
        ok &= r.f_evals <= b.f_evals
    if b.grad_evals is not None and r.grad_evals is not None:
        ok &= r.grad_evals <= b.grad_evals
    return bool(ok)


def _check_results(rows, results, p):
    """Fill ``error``: each HVP against ``hd.hvp``, each Hessian against ``hd.hessian`` (not counted, not timed)."""
    tasks = {r.task for r in rows if r.name in results}
    hv = H = None
    if "hvp" in tasks:
        hv = np.asarray(F.hvp(p.f, p.x, p.v), dtype=float).reshape(-1)
    if "hessian" in tasks:
        H = results.get("hessian_batched")
        if H is None:
            H = np.asarray(hessian(p.f, chunk_size=p.chunk_size)(p.x)).reshape(p.n, p.n)
    for r in rows:
        res = results.get(r.name)
        if res is None:
            continue
        if r.task == "hvp":
            r.error = _rel_err(res, hv)
        elif r.task == "hessian":
            r.error = _rel_err(res, H)

