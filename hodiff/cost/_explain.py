"""``explain``: the tape of one strategy laid open, and the cheapest strategy for a Hessian task.

Where it sits: :func:`explain` runs :func:`~hodiff.cost.analyze` (``_analyze.py``) on the candidate strategies of a
task (one HVP, ``k`` HVPs, the dense Hessian), prices the whole task with each (``k`` products, or one Hessian and
``k`` matrix-vector products), drops those whose measured peak memory exceeds the budget, recommends the fastest,
and describes its tape from the counts of the instrumentation (``_instrument.py``): nodes, the primitives that
dominate FLOPs and saved bytes, and how the saved bytes split between primal values and tangents.
"""
from __future__ import annotations

import math
import sys

import time

import numpy as np

from ._analyze import analyze
from ._format import fmt_bytes, fmt_count, fmt_ratio, fmt_time, parse_bytes, render
from ._strategies import STRATEGIES

__all__ = ["explain"]

TASKS = ("hvp", "k_hvps", "hessian")


class _Option:
    """One way of doing the whole task: a strategy run ``times`` times, plus ``extra_flops`` of dense algebra."""

    def __init__(self, row, times, extra_flops=0, extra_time=0.0, label=None):
        self.row = row
        self.times = times
        self.label = label or (row.name if times == 1 else f"{row.name} x {times}")
        self.flops = row.flops * times + extra_flops
        self.time = None if row.time is None else row.time * times + extra_time
        self.memory = row.peak_memory
        self.fits = True


def _matvec_time(n, k):
    H = np.ones((n, n))
    v = np.ones(n)
    t0 = time.perf_counter()
    for _ in range(min(k, 5)):
        H @ v
    return (time.perf_counter() - t0) / min(k, 5) * k


def _top(counter, total, k=4, nodes=None):
    items = sorted(counter.items(), key=lambda kv: -kv[1])[:k]
    parts = []
    for name, val in items:
        share = 100.0 * val / total if total else 0.0
        extra = f" ({nodes[name]} node{'s' if nodes[name] != 1 else ''})" if nodes and name in nodes else ""
        parts.append(f"{name} {share:.0f}%{extra}")
    return ", ".join(parts) if parts else "-"


def _tape_section(row, frow):
    lines = [f"The tape of {row.name}: {row.description}"]
    if not row.tape_nodes:
        lines.append("  no tape: forward mode carries the tangents beside the values and saves nothing for a "
                     "backward sweep; its cost is in the passes (" + f"{row.sweeps} sweeps, "
                     f"{STRATEGIES[row.name].extra_exponent and 'one pass per entry' or 'one pass'}).")
    else:
        lines.append(f"  {row.tape_nodes} nodes recorded over {row.sweeps} backward sweep(s); held at once: "
                     f"{fmt_bytes(row.tape_peak_bytes)} = {fmt_ratio(row.tape_ratio)} x all of f's intermediate "
                     f"results ({fmt_bytes(frow.result_bytes)}); saved in all: {fmt_bytes(row.tape_bytes)}")
        if row.tape_shared_bytes:
            lines.append(f"  also held by reference, not copied: {fmt_bytes(row.tape_shared_bytes)} (the input x "
                         "and constants such as data matrices)")
        lines.append("  saved bytes by primitive: "
                     + _top(row.tape_bytes_by_prim, row.tape_bytes, nodes=row.tape_nodes_by_prim))
        kinds = row.tape_by_kind
        roles = row.tape_by_role
        tb = row.tape_bytes or 1
        lines.append(f"  where the tape's memory goes: primal values {100 * kinds.get('primal', 0) / tb:.0f}%, "
                     f"tangents {100 * kinds.get('tangent', 0) / tb:.0f}%"
                     + (f" ({row.tangent_width} per value)" if kinds.get("tangent") else "")
                     + f"; node results {100 * roles.get('results', 0) / tb:.0f}%, arguments saved for the VJP "
                       f"rules {100 * roles.get('saved arguments', 0) / tb:.0f}%")
    lines.append(f"  FLOPs by primitive ({fmt_count(row.flops)} in all, {fmt_ratio(row.flops_ratio)} x f): "
                 + _top(row.flops_by_prim, row.flops))
    lines.append(f"  primitive executions: {fmt_count(row.ops)} ({fmt_ratio(row.ops_ratio)} x f's "
                 f"{fmt_count(frow.ops)}); tangent width {row.tangent_width}")
    if row.peak_memory is not None:
        lines.append(f"  peak memory (tracemalloc): {fmt_bytes(row.peak_memory)} = "
                     f"{fmt_ratio(row.memory_ratio)} x f's {fmt_bytes(frow.peak_memory)}")
    return lines


def _chunk_hint(report, n, budget):
    """A chunk size that should fit ``budget``, from the measured peaks of the batched and chunked Hessians."""
    if "hessian_batched" not in report or "hessian_chunked" not in report:
        return None
    b, c = report["hessian_batched"], report["hessian_chunked"]
    cw = c.tangent_width
    if not (b.peak_memory and c.peak_memory and n > cw):
        return None
    per_dir = (b.peak_memory - c.peak_memory) / (n - cw)
    if per_dir <= 0:
        return None
    fixed = c.peak_memory - cw * per_dir
    best = int((budget - fixed) // per_dir)
    if best < 1:
        return None
    best = min(best, n)
    return best, fixed + best * per_dir


def explain(f, x, task="hvp", k=None, memory_budget=None, *, strategy=None, v=None, repeat=3, chunk_size=None,
            show=True, file=None):
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
        Print the explanation (it is returned either way).
    file : file-like, optional
        Where to print (default ``sys.stdout``).

    Returns
    -------
    str
        The explanation.

    Examples
    --------
    >>> import numpy as np, hodiff.cost as hc
    >>> f, x = hc.problems.rosenbrock(50)
    >>> text = hc.explain(f, x, task="hessian", memory_budget="100 MB", show=False)
    >>> text.splitlines()[0]
    'Task: the dense Hessian of rosenbrock at n = 50, memory budget 100 MiB'
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    x = np.asarray(x)
    n = int(x.size)
    if task == "k_hvps":
        k = max(1, n // 2) if k is None else int(k)
        if k < 1:
            raise ValueError("k must be at least 1")
    budget = parse_bytes(memory_budget)
    cands, names = _candidates(task, strategy)
    report = analyze(f, x, names, repeat, v=v, chunk_size=chunk_size, memory=True)
    frow = report["f"]
    by_time = repeat > 0 and all(report[c].time is not None for c in cands)
    options = _options(report, cands, task, k, n, budget)

    def key(o):
        return (o.time if by_time else o.flops, o.flops)

    fitting = sorted((o for o in options if o.fits), key=key)
    ranked = fitting + sorted((o for o in options if not o.fits), key=lambda o: o.memory or 0)
    best = ranked[0]

    fname = getattr(f, "__name__", "f")
    what = {"hvp": "one Hessian-vector product", "k_hvps": f"{k} Hessian-vector products",
            "hessian": "the dense Hessian"}[task]
    lines = [f"Task: {what} of {fname} at n = {n}"
             + (f", memory budget {fmt_bytes(budget)}" if budget is not None else "")]
    lines.append("")
    lines.append(f"Recommended: {best.label}: {best.row.description}")
    why = _why(best, fitting, options, report, task, k, n, budget, by_time, key)
    lines += [f"  why: {why[0]}"] + [f"       {w}" for w in why[1:]]
    lines.append("")
    lines += _cost_table(ranked, frow)
    lines.append("")
    shown = report[strategy] if strategy is not None else best.row
    lines += _tape_section(shown, frow)
    text = "\n".join(lines)
    if show:
        print(text, file=file or sys.stdout)
    return text


def _candidates(task, strategy):
    """The exact strategies that can do ``task``, and the names to measure (``strategy`` added if asked for)."""
    hvps = [s for s, st in STRATEGIES.items() if st.task == "hvp" and not st.approximate]
    hess = [s for s, st in STRATEGIES.items() if st.task == "hessian" and not st.approximate]
    cands = {"hvp": hvps, "k_hvps": hvps + hess, "hessian": hess}[task]
    names = list(cands)
    if strategy is not None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; registered: {list(STRATEGIES)}")
        if strategy not in names:
            names.append(strategy)
    return cands, names


def _options(report, cands, task, k, n, budget):
    """Each candidate priced for the whole task, marked with whether it fits the memory budget."""
    options = []
    for c in cands:
        row = report[c]
        if task == "k_hvps" and row.task == "hessian":
            options.append(_Option(row, 1, extra_flops=2 * n * n * k, extra_time=_matvec_time(n, k),
                                   label=f"{c} + {k} products H v"))
        else:
            options.append(_Option(row, k if task == "k_hvps" else 1))
    for o in options:
        o.fits = budget is None or o.memory is None or o.memory <= budget
    return options


def _why(best, fitting, options, report, task, k, n, budget, by_time, key):
    """The reasons for the recommendation, one sentence each."""
    why = []
    measure = "time" if by_time else "FLOPs"
    cost = (lambda o: fmt_time(o.time)) if by_time else (lambda o: fmt_count(o.flops) + " FLOPs")
    if best.fits:
        others = [o for o in fitting if o is not best]
        if others:
            nxt = others[0]
            ratio = (key(nxt)[0] / key(best)[0]) if key(best)[0] else math.inf
            why.append(f"the cheapest by {measure} of the {len(fitting)} candidates that fit: {cost(best)} for the "
                       f"task; next {nxt.label} at {cost(nxt)} ({ratio:.3g}x)")
        else:
            why.append(f"the only candidate that fits: {cost(best)} for the task")
    else:
        why.append(f"nothing fits the budget; this one needs the least memory ({fmt_bytes(best.memory)})")
    r = best.row
    per = f" per {'product' if r.task == 'hvp' else 'Hessian'}"
    why.append(f"{fmt_ratio(r.flops_ratio)} x the FLOPs of f{per} (bound {r.bound.text}), "
               f"{r.sweeps} backward sweep(s), tangent width {r.tangent_width}")
    if r.peak_memory is not None:
        why.append(f"peak memory {fmt_bytes(r.peak_memory)} (tape held {fmt_bytes(r.tape_peak_bytes)})"
                   + (f", within {fmt_bytes(budget)}" if budget is not None and best.fits else ""))
    if task == "k_hvps":
        hv = [o for o in options if o.row.task == "hvp" and o.fits]
        hs = [o for o in options if o.row.task == "hessian" and o.fits]
        if hv and hs:
            a, b = min(hv, key=key), min(hs, key=key)
            if key(a)[0] > 0 and key(b)[0] > 0:
                be = k * key(b)[0] / key(a)[0]
                why.append(f"k products cost k times one; the Hessian costs about n times one: with these "
                           f"measurements forming the Hessian pays off from k ~ {be:.3g} products on")
    if task == "hessian":
        why.append("finite differences are not candidates: 2n gradients (or 2n^2+1 evaluations of f), and they "
                   "lose a third (or half) of the digits")
    skipped = [o for o in options if not o.fits]
    if skipped:
        why.append("over the budget: " + ", ".join(f"{o.label} ({fmt_bytes(o.memory)})" for o in skipped))
        if budget is not None and task in ("hessian", "k_hvps"):
            hint = _chunk_hint(report, n, budget)
            if hint is not None and not report["hessian_batched"].peak_memory <= budget:
                c, est = hint
                why.append(f"hd.hessian(f, chunk_size={c}) should fit (estimated peak {fmt_bytes(est)}, "
                           f"{math.ceil(n / c)} sweeps)")
    return why


def _cost_table(ranked, frow):
    """The table of every candidate's cost for the whole task, cheapest fitting first."""
    header = ["candidate", "time", "FLOPs", "xf", "peak mem", "tape held", "sweeps", "width", "fits"]
    body = [[o.label, fmt_time(o.time), fmt_count(o.flops), fmt_ratio(o.flops / frow.flops if frow.flops else None),
             fmt_bytes(o.memory), fmt_bytes(o.row.tape_peak_bytes) if o.row.tape_peak_bytes else "-",
             str(o.row.sweeps * o.times), str(o.row.tangent_width), "yes" if o.fits else "no"] for o in ranked]
    return [f"Cost of the whole task (f alone: {fmt_time(frow.time)}, {fmt_count(frow.flops)} FLOPs, "
            f"peak {fmt_bytes(frow.peak_memory)}):", render(header, body, "text", "lrrrrrrrl")]
