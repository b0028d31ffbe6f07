"""``scaling``: how each strategy's cost grows with the problem size, fitted on a log-log scale.

Where it sits: :func:`scaling` calls :func:`~hodiff.cost.analyze` (``_analyze.py``) once per size and fits, per
strategy, the slope of log(cost) against log(n) by least squares. Theory predicts the slope from ``f``'s own
(measured) slope plus the strategy's ``extra_exponent`` (``_strategies.py``): a gradient or one HVP grows like ``f``,
a dense Hessian like ``n`` times ``f``, finite differences of ``f`` like ``n^2`` times ``f``.
"""
from __future__ import annotations

import typing

import numpy as np

from ._analyze import analyze, require_matplotlib
from ._format import fmt_count, render
from ._format import legend as legend_text

# what the growth table's headers mean where they differ from the single-size report's
_GROWTH_MEANINGS = {
    "ok": "the FLOP slope is within 0.2 of theory (off: not; ?: no fit); slopes are log-log against n, theory = "
          "f's slope + the strategy's extra power of n",
}
from ._strategies import STRATEGIES

__all__ = ["ScalingReport", "fit_exponent", "scaling"]


def fit_exponent(ns, values):
    """Least-squares slope of ``log(values)`` against ``log(ns)`` (points with missing or non-positive values are
    left out; ``nan`` with fewer than two points).

    Examples
    --------
    >>> round(fit_exponent([10, 20, 40], [3.0, 12.0, 48.0]), 6)
    2.0
    """
    pts = [(n, v) for n, v in zip(ns, values) if v is not None and v > 0 and np.isfinite(v)]
    if len(pts) < 2:
        return float("nan")
    lx = np.log([p[0] for p in pts])
    ly = np.log([p[1] for p in pts])
    return float(np.polyfit(lx, ly, 1)[0])


class ScalingReport:
    """What :func:`scaling` measured: one :class:`~hodiff.cost.Report` per size, and the fitted exponents.

    Attributes
    ----------
    ns : list of int
        The sizes (``x.size`` of each problem).
    reports : list of Report
    exponents : dict
        ``exponents[strategy][metric]`` for metric ``"flops"``, ``"ops"``, ``"time"``, ``"tape"`` and ``"memory"``:
        the fitted log-log slope against ``n`` (measured rows only; estimates are left out of the fit).
    expected : dict
        ``expected[strategy]``: the slope theory predicts for FLOPs, ``f``'s fitted FLOP slope plus the strategy's
        extra power of ``n``.
    title : str
    """

    #: metric name -> Row attribute
    METRICS: typing.ClassVar[dict] = {"flops": "flops", "ops": "ops", "time": "time", "tape": "tape_peak_bytes", "memory": "peak_memory"}

    def __init__(self, ns, reports, title):
        self.ns = list(ns)
        self.reports = reports
        self.title = title
        names = [r.name for r in reports[0].rows]
        self.names = names
        self.exponents = {}
        for name in names:
            rows = [rep[name] for rep in reports]
            self.exponents[name] = {
                m: fit_exponent([r.n for r in rows if not r.estimated],
                                [getattr(r, attr) for r in rows if not r.estimated])
                for m, attr in self.METRICS.items()}
        fexp = self.exponents["f"]["flops"]
        self.expected = {name: fexp + STRATEGIES[name].extra_exponent for name in names}

    def series(self, name, metric="flops"):
        """``(ns, values)`` of one strategy and metric (``None`` where not measured).

        Examples
        --------
        >>> import hodiff.cost as hc
        >>> s = hc.scaling(hc.problems.rosenbrock, [10, 20], strategies=["grad"], repeat=0, memory=False)
        >>> s.series("f")[1]
        [585, 1235]
        """
        attr = self.METRICS[metric]
        return [rep.n for rep in self.reports], [getattr(rep[name], attr) for rep in self.reports]

    def deviation(self, name):
        """|fitted FLOP exponent - theory| for one strategy.

        Examples
        --------
        >>> import hodiff.cost as hc
        >>> s = hc.scaling(hc.problems.rosenbrock, [50, 100], strategies=["grad"], repeat=0, memory=False)
        >>> s.deviation("grad") < 0.2
        True
        """
        return abs(self.exponents[name]["flops"] - self.expected[name])

    def table(self, fmt: str = "text", legend: bool | None = None) -> str:
        """The fitted exponents beside theory, and FLOPs at each size: ``fmt="text"`` or ``"markdown"``.

        Plain text heads the FLOP columns ``n=16`` (``FLOPs n=16`` in Markdown) so that four sizes fit 100 columns,
        and ends with a legend (``legend=False`` leaves it out; Markdown has none unless asked).

        Examples
        --------
        >>> import hodiff.cost as hc
        >>> s = hc.scaling(hc.problems.rosenbrock, [10, 20], strategies=["grad"], repeat=0, memory=False)
        >>> print(s.table().splitlines()[0])
        strategy  FLOPs ~ n^  theory  ok  time ~ n^  tape ~ n^  n=10  n=20
        """
        header = ["strategy", "FLOPs ~ n^", "theory", "ok", "time ~ n^", "tape ~ n^"]
        header += [f"FLOPs n={n}" if fmt == "markdown" else f"n={n}" for n in self.ns]
        body = []
        estimated = False
        for name in self.names:
            e = self.exponents[name]
            ok = "ok" if self.deviation(name) <= 0.2 else ("?" if np.isnan(e["flops"]) else "off")
            cells = [name, _e(e["flops"]), _e(self.expected[name]), ok, _e(e["time"]), _e(e["tape"])]
            for rep in self.reports:
                r = rep[name]
                estimated |= r.estimated
                cells.append(fmt_count(r.flops) + ("*" if r.estimated else ""))
            body.append(cells)
        out = render(header, body, fmt, "lrrlrr" + "r" * len(self.ns))
        if legend if legend is not None else fmt == "text":
            keys = ["ok", "n=..."] + (["*"] if estimated else [])
            out += "\n\n" + legend_text(keys, fmt, meanings=_GROWTH_MEANINGS)
        return out

    def __str__(self) -> str:
        return f"{self.title}\n{self.table()}"

    def __repr__(self):
        return f"<hodiff.cost.ScalingReport ns={self.ns}>"

    def plot(self, path, metrics=("flops", "tape", "time")):
        """Cost against ``n`` on log-log axes, one line per strategy, one panel per metric (FLOPs, the tape held at
        once, median time by default; also ``"ops"`` and ``"memory"``). Dashed lines grow faster than ``f``;
        dotted crosses are estimates. Needs matplotlib.

        Returns ``path``.

        Examples
        --------
        >>> import hodiff.cost as hc
        >>> s = hc.scaling(hc.problems.rosenbrock, [10, 20], strategies=["grad"], repeat=1)
        >>> s.plot("scaling.png")  # doctest: +SKIP
        'scaling.png'
        """
        plt = require_matplotlib()
        labels = {"flops": "FLOPs", "ops": "primitive executions", "time": "median time [s]",
                  "tape": "tape held [bytes]", "memory": "peak memory [bytes]"}
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.8 * len(metrics), 6.2), squeeze=False)
        palette = [plt.get_cmap("tab10")(i) for i in range(10)] + ["black", "gold", "navy", "lime"]
        for ax, m in zip(axes[0], metrics):
            for k, name in enumerate(self.names):
                ns, vals = self.series(name, m)
                est = [rep[name].estimated for rep in self.reports]
                xs = [n for n, v, e in zip(ns, vals, est) if v and not e]
                ys = [v for v, e in zip(vals, est) if v and not e]
                if not xs:
                    continue
                e = self.exponents[name][m]
                style = "-" if STRATEGIES[name].extra_exponent == 0 else "--"
                line, = ax.plot(xs, ys, style, marker="o", ms=3, color=palette[k % len(palette)],
                                label=f"{name} (n^{e:.2f})" if np.isfinite(e) else name)
                xe = [n for n, v, e_ in zip(ns, vals, est) if v and e_]
                if xe:
                    ax.plot(xe, [v for v, e_ in zip(vals, est) if v and e_], ":", marker="x", ms=4,
                            color=line.get_color())
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(self.ns)
            ax.set_xticklabels([str(n) for n in self.ns])
            ax.xaxis.set_minor_formatter(plt.NullFormatter())
            ax.set_xlabel("n")
            ax.set_ylabel(labels[m])
            ax.grid(True, which="both", lw=0.3, alpha=0.5)
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
        fig.suptitle(self.title, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def _e(x):
    return "-" if x is None or not np.isfinite(x) else f"{x:.2f}"


def scaling(make_f, ns, strategies=None, repeat=3, *, title=None, progress=None, **analyze_kwargs):
    """Run :func:`~hodiff.cost.analyze` over problem sizes and fit each strategy's growth exponent.

    Parameters
    ----------
    make_f : callable
        ``make_f(n) -> (f, x)``: the problem of size ``n`` (see :mod:`hodiff.cost.problems`).
    ns : sequence of int
        Sizes, at least two.
    strategies : sequence of str, optional
        As for :func:`~hodiff.cost.analyze`.
    repeat : int
        Timed runs per strategy and size (0: FLOPs and counts only, which are deterministic).
    title : str, optional
    progress : callable, optional
        Called with ``(n, strategy)`` before each run.
    **analyze_kwargs
        Passed on to :func:`~hodiff.cost.analyze` (``memory``, ``chunk_size``, ``fd_max_evals``, ...).

    Returns
    -------
    ScalingReport

    Examples
    --------
    >>> import hodiff.cost as hc
    >>> s = hc.scaling(hc.problems.rosenbrock, [50, 100, 200], strategies=["grad", "hessian_batched"],
    ...                repeat=0, memory=False)
    >>> round(s.exponents["grad"]["flops"], 1), round(s.exponents["hessian_batched"]["flops"], 1)
    (1.0, 2.0)
    """
    ns = list(ns)
    if len(ns) < 2:
        raise ValueError("scaling needs at least two sizes")
    reports = []
    for n in ns:
        f, x = make_f(n)
        prog = None if progress is None else (lambda s, n=n: progress(n, s))
        reports.append(analyze(f, x, strategies, repeat, progress=prog, **analyze_kwargs))
    sizes = [rep.n for rep in reports]
    if title is None:
        fname = getattr(make_f, "__name__", "f")
        title = f"hodiff.cost.scaling: {fname}, n = {', '.join(map(str, sizes))}"
    return ScalingReport(sizes, reports, title)
