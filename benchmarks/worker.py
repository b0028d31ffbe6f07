"""One library's measurements, in a fresh process: ``python benchmarks/worker.py --lib hodiff --out r.json``.

Started by ``run.py`` (which sets the environment: unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, one BLAS thread).
The process pins itself to one core, keeps the garbage collector on, warms the allocator by allocating and freeing
one large block (``--alloc-warmup-mib``, 31 by default, 0 for none), then for every problem: checks each derivative
once against the hand-written reference, and times plain-numpy ``f`` and every variant in interleaved rounds (median
of each round's median of samples). Compiled variants are also checked to have replayed (after warm-up and after
timing), and the first call of freshly made compiled functions is timed against one call without compilation.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def pin(core):
    try:
        os.sched_setaffinity(0, {core})
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError) as e:           # not Linux: run unpinned and say so
        return f"not pinned ({e})"


def favour_this_process():
    """Best effort: ask the scheduler to give this process its core when other work shares the machine.

    With autogroup scheduling (Linux default for desktop-style kernels), CPU time is shared between *sessions*
    first, so a plain nice value barely helps against a test run in another session; run.py starts each worker in
    a session of its own and the worker raises that session's autogroup priority. Needs privileges; when it is
    not allowed, samples that lose the core are still discarded.
    """
    out = {}
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -20)
    except (AttributeError, OSError) as e:
        out["nice_error"] = str(e)
    try:
        with open("/proc/self/autogroup", "w") as fh:
            fh.write("-20")
    except OSError as e:
        out["autogroup_error"] = str(e)
    try:
        out["nice"] = os.getpriority(os.PRIO_PROCESS, 0)
        with open("/proc/self/autogroup") as fh:
            out["autogroup"] = fh.read().strip()
    except (AttributeError, OSError):
        pass
    return out


def blas_info():
    try:
        import threadpoolctl
        info = threadpoolctl.threadpool_info()
        return {"source": "threadpoolctl", "pools": [
            {k: d.get(k) for k in ("user_api", "internal_api", "prefix", "version", "architecture",
                                   "threading_layer", "num_threads")} for d in info]}
    except ImportError:
        import numpy as np
        try:
            cfg = np.show_config(mode="dicts")
            return {"source": "numpy.show_config", "blas": cfg.get("Build Dependencies", {}).get("blas"),
                    "simd": cfg.get("SIMD Extensions")}
        except TypeError:
            return {"source": "numpy.__config__", "text": str(np.__config__)}


def rel_err(d, ref):
    import numpy as np
    d = np.asarray(d, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if d.shape != ref.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-300)
    return float(np.max(np.abs(d - ref))) / scale if ref.size else 0.0


def first_call(v, s):
    """Median time of the first call of several freshly made compiled functions (trace + build/compile), in ms,
    and its ratio to one (warm) call of the same computation without compilation, timed in this process."""
    from timing import measure
    fresh, eager = v.first_call
    out = {}
    try:
        eager_s = measure(eager, s)["median"]
        times, notes = [], []
        for _ in range(3 if s.quick else 5):
            call, verify = fresh()
            gc.collect()
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
            why = verify()
            if why is not None:
                notes.append(why)
        t = statistics.median(times)
        out.update({"first_call_ms": t * 1e3, "first_call_ratio": t / eager_s, "eager_call_ms": eager_s * 1e3,
                    "first_call_samples_ms": [x * 1e3 for x in times]})
        if notes:
            out["first_call_note"] = "; ".join(sorted(set(notes)))
    except Exception as e:  # noqa: BLE001
        out["first_call_error"] = f"{type(e).__name__}: {e}"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--core", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--problems", default="P1,P2,P3,P4,P5")
    ap.add_argument("--p2-sizes", default=None)
    ap.add_argument("--p4-sizes", default=None)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--alloc-warmup-mib", type=int, default=31,
                    help="MiB allocated, touched and freed before measuring (0: none); see the comment below")
    a = ap.parse_args()

    affinity = pin(a.core if a.core is not None else max(os.sched_getaffinity(0)))
    sched = favour_this_process()
    load_start = os.getloadavg()[0]
    gc.enable()
    t_start = time.perf_counter()

    import numpy as np
    # Warm the allocator: allocate, touch and free one large block. 31 MiB is deliberate: glibc serves blocks above
    # its mmap threshold with fresh mmaps (page faults on every touch of every new large temporary) and raises that
    # threshold to the size of a freed mmapped block, but only up to 32 MiB; after this, the 4-16 MB temporaries of
    # P2 at n = 10^6 are reused from the heap, for f and the derivatives alike (as in a long-running program).
    # --alloc-warmup-mib chooses the block (0: no warm-up) so the report can show n = 10^6 in each allocator state.
    if a.alloc_warmup_mib > 0:
        block = np.ones(a.alloc_warmup_mib * (1 << 17))
        del block

    import peers
    import problems as P
    from timing import Settings, measure, peak_extra_bytes

    s = Settings(a.quick)
    lib = peers.load(a.lib)
    lib.setup()
    import scipy
    result = {"lib": a.lib, "name": lib.NAME, "affinity": affinity, "pid": os.getpid(),
              "versions": {"python": platform.python_version(), "numpy": np.__version__,
                           "scipy": scipy.__version__, **lib.versions()},
              "blas": blas_info(), "env": {k: os.environ.get(k) for k in (
                  "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
              "gc_enabled": gc.isenabled(), "scheduling": sched,
              "alloc_warmup_mib": a.alloc_warmup_mib,
              "quick": a.quick, "metrics": {}, "errors": []}

    def run_metric(key, f_call, variants, refs, scale=1.0, ratio=True, mem_n_bytes=None):
        """Check, then time f and the variants in interleaved rounds."""
        rec = {"scale": scale, "variants": []}
        checked = []
        for v in variants:
            entry = {"label": v.label, "kind": v.kind, "primary": v.primary}
            try:
                entry["rel_err"] = rel_err(v.out(v.fn()), refs)
                checked.append((v, entry))
            except Exception as e:  # noqa: BLE001 -- a library that cannot do it: recorded, not fatal
                entry["error"] = f"{type(e).__name__}: {e}"
                result["errors"].append(f"{key} {v.label}: {traceback.format_exc(limit=3)}")
            rec["variants"].append(entry)
        for v, entry in checked:
            replay(v, entry)
        f_meds = []
        v_meds = {id(v): [] for v, _ in checked}
        v_stats = {id(v): {"samples": 0, "discarded": 0, "cpu_fallback": 0} for v, _ in checked}
        f_stats = {"samples": 0, "discarded": 0, "cpu_fallback": 0}
        for _ in range(s.rounds):
            m = measure(f_call, s)
            f_meds.append(m["median"])
            f_stats["samples"] += m["samples"]
            f_stats["discarded"] += m["discarded"]
            f_stats["cpu_fallback"] += int(m.get("cpu_fallback", False))
            for v, _e in checked:
                if s.quick and v_meds[id(v)] and v_meds[id(v)][0] > s.budget:
                    continue                         # quick mode: a slow call is timed in the first round only
                try:
                    m = measure(v.fn, s)
                except Exception as e:  # noqa: BLE001
                    _e["error"] = f"{type(e).__name__}: {e}"
                    continue
                v_meds[id(v)].append(m["median"])
                v_stats[id(v)]["samples"] += m["samples"]
                v_stats[id(v)]["discarded"] += m["discarded"]
                v_stats[id(v)]["cpu_fallback"] += int(m.get("cpu_fallback", False))
        f_med = statistics.median(f_meds)
        rec["f_seconds"] = f_med
        rec["f_value"] = f_med * scale
        rec["f_round_medians"] = f_meds
        rec.update({"f_" + k: val for k, val in f_stats.items()})
        for v, e in checked:
            meds = [m for m in v_meds[id(v)] if not math.isnan(m)]
            if not meds:
                continue
            med = statistics.median(meds)
            e["seconds"] = med
            e["value"] = med * scale
            e["ratio_to_f"] = med / f_med
            e["round_medians"] = meds
            e.update(v_stats[id(v)])
            if mem_n_bytes and v.memory and not a.no_memory:
                try:
                    e["extra_peak_bytes"] = peak_extra_bytes(v.fn)
                    e["extra_peak_multiple"] = e["extra_peak_bytes"] / mem_n_bytes
                except Exception as ex:  # noqa: BLE001
                    e["memory_error"] = f"{type(ex).__name__}: {ex}"
        for v, e in checked:
            replay(v, e)
            if v.first_call is not None:
                e.update(first_call(v, s))
        result["metrics"][key] = rec
        print(f"[{a.lib}] {key}: f {f_med * scale:.4g}; " + "; ".join(
            f"{e['label']} {e.get('value', float('nan')):.4g} (x{e.get('ratio_to_f', float('nan')):.3g}, "
            f"err {e.get('rel_err', float('nan')):.1e})" for e in rec["variants"]), file=sys.stderr, flush=True)

    def replay(v, entry):
        """A compiled variant whose calls did not replay is recorded as running eagerly, with the reason."""
        if v.replay_check is None:
            return
        try:
            why = v.replay_check()
        except Exception as e:  # noqa: BLE001
            why = f"replay check failed: {type(e).__name__}: {e}"
        if why is not None and "ran_eagerly" not in entry:
            entry["ran_eagerly"] = why
        entry.setdefault("replayed", why is None)
        entry["replayed"] = entry["replayed"] and why is None

    probs = set(a.problems.split(","))
    sizes2 = tuple(int(n) for n in a.p2_sizes.split(",")) if a.p2_sizes else (
        P.P2_SIZES_QUICK if a.quick else P.P2_SIZES_FULL)
    sizes4 = tuple(int(n) for n in a.p4_sizes.split(",")) if a.p4_sizes else P.P4_SIZES

    def guarded(name, fn):
        try:
            fn()
        except Exception:  # noqa: BLE001
            result["errors"].append(f"{name}: {traceback.format_exc(limit=5)}")

    if "P1" in probs:
        def p1():
            x0 = np.float64(P.P1_X0)
            ms = lib.p1(x0)
            f = lambda: P.p1_f(x0, np)
            refs = {"P1.vg": P.p1_hand_value_and_grad(x0)[1], "P1.d2": P.p1_hand_d2(x0)}
            for key, vs in ms.items():
                run_metric(key, f, vs, refs[key], scale=1e6 / P.P1_OPS)    # microseconds per op
        guarded("P1", p1)
    if "P2" in probs:
        for n in sizes2:
            def p2(n=n):
                x, v = P.p2_data(n)
                ms = lib.p2(x, v)
                f = lambda: P.p2_f(x, np)
                refs = {"grad": P.p2_hand_grad(x), "hvp": P.p2_hand_hvp(x, v)}
                for m, vs in ms.items():
                    run_metric(f"P2.{m}@{n}", f, vs, refs[m], scale=1e6,
                               mem_n_bytes=x.nbytes if n == P.P2_MEM_N else None)
            guarded(f"P2 n={n}", p2)
    if "P3" in probs:
        def p3():
            X, Y, theta, v = P.p3_data()
            ms = lib.p3(theta, v, X, Y)
            f = lambda: P.p3_f(theta, np, X, Y)
            refs = {"grad": P.p3_hand_grad(theta, X, Y), "hvp": P.p3_hand_hvp(theta, v, X, Y)}
            for m, vs in ms.items():
                run_metric(f"P3.{m}", f, vs, refs[m], scale=1e6)
        guarded("P3", p3)
    if "P4" in probs:
        for n in sizes4:
            def p4(n=n):
                A, x = P.p4_data(n)
                ms = lib.p4(x, A)
                f = lambda: P.p4_f(x, np, A)
                for m, vs in ms.items():
                    run_metric(f"P4.{m}@{n}", f, vs, P.p4_hand_hessian(x, A), scale=1e3)   # milliseconds
            guarded(f"P4 n={n}", p4)
    if "P5" in probs:
        def p5():
            x0 = np.float64(P.P5_X0)
            ms = lib.p5(x0)
            f = lambda: P.p5_f(x0, np)
            for m, vs in ms.items():
                run_metric(f"P5.{m}", f, vs, P.p5_hand_d3(x0), scale=1e6)         # microseconds
        guarded("P5", p5)
    if a.lib == "numpy":
        result["reference_selfcheck"] = selfcheck(np, P)
    result["wall_seconds"] = time.perf_counter() - t_start
    result["loadavg_start_end"] = [load_start, os.getloadavg()[0]]
    with open(a.out, "w") as fh:
        json.dump(result, fh, indent=1, default=str)


def selfcheck(np, P):
    """The hand-written references against central finite differences (directional), as an independent check."""
    out = {}
    x, v = P.p2_data(1000)
    eps = 1e-6
    fd = (P.p2_f(x + eps * v, np) - P.p2_f(x - eps * v, np)) / (2 * eps)
    out["P2 grad.v vs FD"] = abs(P.p2_hand_grad(x) @ v - fd) / abs(fd)
    fd = (P.p2_hand_grad(x + eps * v) - P.p2_hand_grad(x - eps * v)) / (2 * eps)
    out["P2 Hv vs FD of grad"] = rel_err(P.p2_hand_hvp(x, v), fd)
    X, Y, th, v = P.p3_data()
    fd = (P.p3_f(th + eps * v, np, X, Y) - P.p3_f(th - eps * v, np, X, Y)) / (2 * eps)
    out["P3 grad.v vs FD"] = abs(P.p3_hand_grad(th, X, Y) @ v - fd) / abs(fd)
    fd = (P.p3_hand_grad(th + eps * v, X, Y) - P.p3_hand_grad(th - eps * v, X, Y)) / (2 * eps)
    out["P3 Hv vs FD of grad"] = rel_err(P.p3_hand_hvp(th, v, X, Y), fd)
    A, x = P.p4_data(10)
    def g(x):
        e = np.exp(A @ x)
        return A.T @ (e / e.sum()) + x
    fd = np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(10)], axis=1)
    out["P4 Hessian vs FD of grad"] = rel_err(P.p4_hand_hessian(x, A), fd)
    h = 1e-3
    x0 = P.P5_X0
    f = lambda t: P.p5_f(t, np)
    fd = (f(x0 + 2 * h) - 2 * f(x0 + h) + 2 * f(x0 - h) - f(x0 - 2 * h)) / (2 * h ** 3)
    out["P5 d3 vs FD"] = abs(P.p5_hand_d3(x0) - fd) / abs(fd)
    h = 1e-5
    x0 = P.P1_X0
    f = lambda t: P.p1_f(t, np)
    out["P1 d1 vs FD"] = abs(P.p1_hand_value_and_grad(x0)[1] - (f(x0 + h) - f(x0 - h)) / (2 * h)) / abs(
        P.p1_hand_value_and_grad(x0)[1])
    h = 1e-4
    out["P1 d2 vs FD"] = abs(P.p1_hand_d2(x0) - (f(x0 + h) - 2 * f(x0) + f(x0 - h)) / h ** 2) / abs(P.p1_hand_d2(x0))
    return {k: float(val) for k, val in out.items()}


if __name__ == "__main__":
    main()
