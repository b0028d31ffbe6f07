"""Timing and memory measurement used inside each (pinned, fresh) worker process.

A *sample* is ``k`` back-to-back calls timed together (``k`` chosen so a sample lasts about ``target`` seconds);
its per-call time is ``wall / k``. A sample is discarded when the process did not hold its core for the whole
sample: process CPU time / wall time < ``MIN_CPU_SHARE`` (the process is pinned to one core, so anything else
running on that core shows up as lost CPU time). ``measure`` returns the median of the accepted samples.
"""
from __future__ import annotations

import gc
import statistics
import time
import tracemalloc

MIN_CPU_SHARE = 0.9

_perf = time.perf_counter
_cpu = time.process_time


class Settings:
    """How long to spend per measurement. ``quick`` keeps a whole run near a minute."""

    def __init__(self, quick):
        self.quick = quick
        self.budget = 0.04 if quick else 0.4        # seconds of sampling per measurement per round
        self.target = 0.005 if quick else 0.02      # seconds per sample
        self.rounds = 3                             # rounds (f and the derivatives interleaved); median of medians
        self.min_samples = 3 if quick else 5
        self.min_samples_slow = 1 if quick else 3   # for calls that alone take longer than the budget
        self.max_samples = 60 if quick else 200
        self.warmup = 0.01 if quick else 0.1        # seconds of warm-up calls (at least min_warmup_calls)
        self.min_warmup_calls = 1 if quick else 2   # (each variant was also called once for the accuracy check)
        self.hard_cap = 1.0 if quick else 8.0       # seconds per measurement when samples keep being discarded


def warm_up(fn, seconds, min_calls=2):
    """Call ``fn`` until ``min_calls`` calls and ``seconds`` have passed; return the mean time of the last call."""
    t_start = _perf()
    n = 0
    last = 0.0
    while n < min_calls or (_perf() - t_start) < seconds:
        t0 = _perf()
        fn()
        last = _perf() - t0
        n += 1
        if n >= 1000:
            break
    return last


def measure(fn, s: Settings, budget=None):
    """Median per-call seconds of ``fn`` over accepted samples, plus sample statistics.

    Sampling stops once ``min_samples`` samples are accepted and ``budget`` seconds have passed, or at a hard cap
    when the core is busy. If no sample at all was accepted by then, the median *CPU* time per call is reported
    instead and flagged ``cpu_fallback`` (the report marks it).
    """
    budget = s.budget if budget is None else budget
    per_call = max(warm_up(fn, s.warmup, s.min_warmup_calls), 1e-7)
    k = max(1, round(s.target / per_call))
    min_samples = s.min_samples_slow if per_call > budget else s.min_samples
    hard_cap = max(s.hard_cap, 4 * min_samples * k * per_call)
    samples, cpu_times, discarded = [], [], 0
    t_start = _perf()
    while True:
        c0 = _cpu()
        t0 = _perf()
        for _ in range(k):
            fn()
        t1 = _perf()
        c1 = _cpu()
        wall = t1 - t0
        cpu_times.append((c1 - c0) / k)
        if wall > 0 and (c1 - c0) / wall < MIN_CPU_SHARE:
            discarded += 1
        else:
            samples.append(wall / k)
        elapsed = t1 - t_start
        if len(samples) >= s.max_samples:
            break
        if len(samples) >= min_samples and elapsed >= budget:
            break
        if elapsed >= hard_cap and (samples or elapsed >= 2 * hard_cap):
            break                                   # the core is busy: keep what we have
    if not samples:
        return {"median": statistics.median(cpu_times), "samples": 0, "discarded": discarded, "k": k,
                "cpu_fallback": True}
    return {"median": statistics.median(samples), "min": min(samples), "samples": len(samples),
            "discarded": discarded, "k": k}


def peak_extra_bytes(fn):
    """Extra peak memory (bytes) that numpy/Python allocations reach while ``fn()`` runs, above the baseline.

    numpy reports its data buffers to tracemalloc, so this sees hodiff, autograd, MyGrad and hand-written numpy;
    it does not see PyTorch's or XLA's own allocators. The result of ``fn`` is counted (it is alive at the peak).
    """
    gc.collect()
    fn()                                            # anything cached on first use is not counted
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del out
    finally:
        tracemalloc.stop()
    return peak - base
