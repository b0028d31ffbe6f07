"""The command line ``python -m hodiff.cost`` and the short table for the ``python -m hodiff`` tour.

Where it sits: on top of everything else in the package. :func:`main` runs :func:`~hodiff.cost.scaling` on the
built-in :mod:`~hodiff.cost.problems`, prints the tables and writes the plots; :func:`tour_table` is the few-line
summary the package tour shows.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from ._analyze import analyze, require_matplotlib
from ._scaling import scaling
from .problems import PROBLEMS, rosenbrock

__all__ = ["main", "tour_table"]

DEFAULT_NS = (16, 32, 64, 128)
TOUR_COLUMNS = ("strategy", "flops", "flops_ratio", "bound", "ok", "tape", "sweeps", "time", "time_ratio")


def tour_table(n=100, repeat=3):
    """A short cost table: f, its gradient, one HVP and the dense Hessian of extended Rosenbrock at ``n``.

    Parameters
    ----------
    n : int
        Problem size.
    repeat : int
        Timed runs per strategy (0: no timing).

    Returns
    -------
    str
        A heading line and a plain-text table (ratios ``xf`` are to ``f``).

    Examples
    --------
    >>> from hodiff.cost import tour_table
    >>> print(tour_table(repeat=0).splitlines()[0])
    Cost of derivatives of extended Rosenbrock, n = 100 (xf: ratio to f; FLOPs from the primitive table)
    """
    f, x = rosenbrock(n)
    rep = analyze(f, x, ["grad", "hvp_fwd_rev", "hessian_batched"], repeat, memory=False)
    cols = TOUR_COLUMNS if repeat else TOUR_COLUMNS[:-2]
    return (f"Cost of derivatives of extended Rosenbrock, n = {n} (xf: ratio to f; FLOPs from the primitive table)\n"
            + rep.table(columns=cols))


class _Progress:
    """A progress line on stderr, shown only once a run has taken more than ``after`` seconds."""

    def __init__(self, label, after=3.0, stream=None):
        self.label = label
        self.after = after
        self.start = time.perf_counter()
        self.stream = stream or sys.stderr
        self.shown = False

    def __call__(self, n, strategy):
        dt = time.perf_counter() - self.start
        if dt > self.after:
            msg = f"  [{self.label}] n={n}: {strategy} ... ({dt:.0f} s)"
            self.stream.write("\r" + msg.ljust(72))
            self.stream.flush()
            self.shown = True

    def done(self):
        if self.shown:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m hodiff.cost",
        description="Measure what derivatives cost on built-in problems: tables on stdout, plots in a directory.")
    p.add_argument("outdir", nargs="?", default="cost_plots", help="directory for the plots (default ./cost_plots)")
    p.add_argument("--ns", type=int, nargs="+", default=list(DEFAULT_NS), help="problem sizes (default %(default)s)")
    p.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS),
                   help="which built-in problems (default: all)")
    p.add_argument("--strategies", nargs="+", default=None, help="strategies (default: every default one)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per strategy and size (default 3)")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--no-plots", action="store_true", help="do not write plots")
    return p


def main(argv=None):
    """Run the command line (``python -m hodiff.cost --help``); returns the exit status.

    Examples
    --------
    >>> from hodiff.cost import main
    >>> main(["--ns", "8", "16", "--problems", "rosenbrock", "--repeat", "0", "--no-plots"])  # doctest: +SKIP
    0
    """
    args = _parser().parse_args(argv)
    fmt = "markdown" if args.markdown else "text"
    plots = not args.no_plots
    if plots:
        try:
            require_matplotlib()
        except ImportError as e:
            print(f"note: {e}; writing no plots", file=sys.stderr)
            plots = False
        else:
            os.makedirs(args.outdir, exist_ok=True)
    t0 = time.perf_counter()
    written = []
    for name in args.problems:
        make, desc = PROBLEMS[name]
        print(f"== {name}: {desc}")
        prog = _Progress(name)
        try:
            s = scaling(make, args.ns, args.strategies, args.repeat, progress=prog, time_budget=0.3,
                        fd_max_evals=5_000, title=f"{name}: growth with n")
        finally:
            prog.done()
        last = s.reports[-1]
        last.title = f"{name} at n = {last.n}: ratios (xf) are to f"
        print(last.title)
        print(last.table(fmt=fmt))
        if last.broken:
            print("BROKEN (measurement exceeds its bound): " + ", ".join(last.broken))
        print()
        print(s.title + " (log-log slopes; theory = f's slope + the strategy's extra power of n)")
        print(s.table(fmt=fmt))
        print()
        if plots:
            written.append(s.plot(os.path.join(args.outdir, f"{name}_scaling.png")))
            written.append(last.plot(os.path.join(args.outdir, f"{name}_ratios.png")))
    if written:
        print("plots: " + ", ".join(written))
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0
