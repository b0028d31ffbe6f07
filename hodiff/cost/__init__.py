"""Cost analysis: why is the second derivative so much more expensive than the first?

``hodiff.cost`` answers with numbers from your own function. It sits beside the engine, not in it: the engine emits
events (a primitive executed on plain values, a level opened, a backward sweep started) and this package subscribes
to them while it counts (and leaves after, so counting off costs nothing). FLOPs come from the ``cost`` hint each
primitive declares in the table; tape bytes, tangent widths and sweeps from watching the transforms' levels.

* :func:`analyze` measures every strategy (gradient; one HVP four ways; the dense Hessian as a loop, batched, in
  chunks; finite differences) on one ``f`` and ``x``, beside the bounds from theory: a :class:`Report`.
* :func:`scaling` repeats it over sizes and fits each strategy's growth exponent: a :class:`ScalingReport`.
* :func:`explain` lays open one strategy's tape and recommends the cheapest strategy for a task under a memory
  budget: an :class:`Explanation`, shown once at a prompt or in a notebook.
* :func:`counting` is the instrumentation itself, for your own measurements; :func:`register_strategy` adds a strategy.
* ``python -m hodiff.cost`` runs the built-in :mod:`~hodiff.cost.problems` and writes plots.

Examples
--------
>>> import numpy as np, hodiff as hd, hodiff.cost
>>> r = hd.cost.analyze(lambda x: 2 * hd.dot(x, x), np.arange(5.0), strategies=["grad"], repeat=1)
>>> r["f"].ops_by_prim, r["f"].flops
({'matmul': 1, 'multiply': 1}, 11)
"""
from . import problems
from ._analyze import Report, Row, analyze
from ._cli import main, tour_table
from ._report import Explanation, explain
from ._instrument import Counts, TapeStats, counting, saved_bytes
from ._scaling import ScalingReport, fit_exponent, scaling
from ._strategies import GRAD_BOUND, HVP_BOUND, JVP_BOUND, STRATEGIES, Bound, Problem, Strategy, register_strategy

__all__ = [
    "GRAD_BOUND",
    "HVP_BOUND",
    "JVP_BOUND",
    "STRATEGIES",
    "Bound",
    "Counts",
    "Explanation",
    "Problem",
    "Report",
    "Row",
    "ScalingReport",
    "Strategy",
    "TapeStats",
    "analyze",
    "counting",
    "explain",
    "fit_exponent",
    "main",
    "problems",
    "register_strategy",
    "saved_bytes",
    "scaling",
    "tour_table",
]
