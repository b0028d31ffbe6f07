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
from collections.abc import Sequence

from ._analyze import analyze, require_matplotlib
from ._scaling import scaling
from ._strategies import STRATEGIES
from .problems import PROBLEMS, rosenbrock

__all__ = ["main", "tour_table"]

DEFAULT_NS = (16, 32, 64, 128)
TOUR_COLUMNS = ("strategy", "flops", "flops_ratio", "bound", "ok", "tape", "sweeps", "time", "time_ratio")


def tour_table(n: int = 100, repeat: int = 3) -> str:
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


def _int_at_least(low: int, kind: str, rule: str):
    """An argparse type: an int of at least ``low``; errors name the ``kind`` of value and the ``rule``."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind} {text!r}: {rule}") from None
        if n < low:
            raise argparse.ArgumentTypeError(f"invalid {kind} {n}: {rule}")
        return n
    parse.__name__ = kind       # argparse names the type in its messages
    return parse


_size = _int_at_least(2, "size", "sizes are integers of at least 2")
_count = _int_at_least(0, "count", "a non-negative integer")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hodiff.cost",
        description="Measure what derivatives cost on built-in problems: tables on stdout, plots in a directory.")
    p.add_argument("outdir", nargs="?", default="cost_plots", help="directory for the plots (default ./cost_plots)")
    p.add_argument("--ns", type=_size, nargs="+", default=list(DEFAULT_NS), metavar="N",
                   help="problem sizes, at least two different ones, each >= 2 (default %(default)s)")
    p.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS), metavar="PROBLEM",
                   help=f"which built-in problems, from {', '.join(PROBLEMS)} (default: all)")
    p.add_argument("--strategies", nargs="+", choices=list(STRATEGIES), default=None, metavar="STRATEGY",
                   help=f"strategies, from {', '.join(STRATEGIES)} (default: every default one)")
    p.add_argument("--repeat", type=_count, default=3, help="timed runs per strategy and size, >= 0 (default 3)")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--no-plots", action="store_true", help="do not write plots")
    return p


def _check(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors that argparse's per-argument checks cannot see, found before any work (exit status 2)."""
    if len(set(args.ns)) < 2:
        p.error(f"argument --ns: give at least two different sizes to fit a growth rate; got {args.ns}")
    for name in args.problems:
        # a problem may round a size (mlp builds whole hidden units): the sizes it really uses must differ too.
        # Building a problem allocates its data (logsumexp: 32 n numbers), so only small sizes are tried here.
        if max(args.ns) <= _CHEAP_SIZE:
            sizes = [int(PROBLEMS[name][0](n)[1].size) for n in args.ns]
            if len(set(sizes)) < 2:
                p.error(f"argument --ns: for {name}, the sizes {args.ns} all give problems of size {sizes[0]}; "
                        "choose sizes further apart")
    if not args.no_plots:
        where = os.path.abspath(args.outdir)
        if os.path.exists(where) and not os.path.isdir(where):
            p.error(f"argument outdir: {args.outdir!r} exists and is not a directory "
                    "(use --no-plots to write no plots)")
        while not os.path.exists(where):
            where = os.path.dirname(where)
        if not os.path.isdir(where):
            p.error(f"argument outdir: cannot create {args.outdir!r}: {where!r} is not a directory")


_CHEAP_SIZE = 100_000


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``python -m hodiff.cost --help``); returns the exit status.

    Bad arguments are usage errors: a message on stderr and ``SystemExit(2)``, before any work.

    Examples
    --------
    >>> from hodiff.cost import main
    >>> main(["--ns", "8", "16", "--problems", "rosenbrock", "--repeat", "0", "--no-plots"])  # doctest: +SKIP
    0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    fmt = "markdown" if args.markdown else "text"
    plots = not args.no_plots
    if plots:
        try:
            require_matplotlib()
        except ImportError as e:
            print(f"note: {e}; writing no plots", file=sys.stderr)
            plots = False
        else:
            try:
                os.makedirs(args.outdir, exist_ok=True)
            except OSError as e:
                parser.error(f"argument outdir: cannot create the directory {args.outdir!r}: {e.strerror or e}")
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
