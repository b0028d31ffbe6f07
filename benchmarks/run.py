"""The issue-5 benchmark harness: hodiff against its eager peers and hand-written numpy, problems P1..P5.

Eager hodiff, hodiff compiled with ``hd.jit`` (library ``hodiff-jit``: its own rows, targets and first-call times),
the peers (JAX with and without jit), and hand-written numpy.

    python benchmarks/run.py --quick                 # about two minutes: every row of the table, fewer samples
    python benchmarks/run.py                         # full: more sizes, more samples, P2 at n = 10^6 in three
                                                     # allocator states; about 15 minutes
    python benchmarks/run.py --peers torch,autograd  # choose peers (default: every one that is installed)
    python benchmarks/run.py --write-docs            # also regenerate docs/performance.md from this run

Each library runs in its own fresh subprocess (``worker.py``), pinned to one core, with the garbage collector on,
the allocator warmed, warm-up calls, and the median of repeated samples (samples where the process lost its core
are discarded). Ratios are to plain-numpy ``f`` timed in the same process. Every derivative is checked against a
hand-written or analytic reference. Output: a Markdown table on stdout, JSON in ``benchmarks/results/``, a plot of
ratio-to-f against n (if matplotlib is installed) and, with ``--write-docs``, ``docs/performance.md``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import functools
import operator

import problems as P
from peers import LIBS, MODULES, PEERS

RESULTS = os.path.join(HERE, "results")
DISPLAY = {"jax": "JAX (eager)", "jax-jit": "JAX (jit)", "hodiff-jit": "hodiff (jit)", "numpy": "hand-written numpy"}
DOCS_PAGE = os.path.join(ROOT, "docs", "performance.md")
TORCH_PIN = "2.13.0"
# Unset for the workers (older OpenBLAS needs them on some CPUs; they slow a current numpy): see the docs page.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ---------------------------------------------------------------------------------------------------------------
# Machine and environment


def _read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def machine_info():
    cpu = next((ln.split(":", 1)[1].strip() for ln in _read("/proc/cpuinfo").splitlines()
                if ln.startswith("model name")), platform.processor() or platform.machine())
    fields = {}
    for ln in _read("/proc/cpuinfo").splitlines():
        k, _, v = ln.partition(":")
        fields.setdefault(k.strip(), v.strip())
    if "cpu family" in fields:
        cpu += f" (family {fields['cpu family']}, model {fields.get('model')}, stepping {fields.get('stepping')})"
    flags = set(fields.get("flags", "").split())
    simd = [f for f in ("avx512f", "avx2", "fma", "neon", "asimd") if f in flags]
    mem = next((ln.split(":", 1)[1].strip() for ln in _read("/proc/meminfo").splitlines()
                if ln.startswith("MemTotal")), "?")
    if mem.endswith(" kB"):
        mem = f"{int(mem[:-3]) / 2 ** 20:.1f} GiB"
    info = {"cpu": cpu, "machine": platform.machine(), "logical_cpus": os.cpu_count(), "memory": mem,
            "os": f"{platform.system()} {platform.release()}", "simd": " ".join(simd), "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "hypervisor": "yes" if "hypervisor" in _read("/proc/cpuinfo") else "no"}
    try:
        info["affinity_available"] = sorted(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "hodiff"], capture_output=True,
                               text=True, timeout=10, check=False).stdout.strip()
        info["hodiff_commit"] = head + (" + uncommitted changes in hodiff/" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        info["hodiff_commit"] = "?"
    info["openblas_env_in_parent"] = {k: os.environ.get(k) for k in OPENBLAS_OVERRIDES}
    return info


def worker_env():
    env = dict(os.environ)
    for k in OPENBLAS_OVERRIDES:
        env.pop(k, None)
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
                "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "2",
                "XLA_FLAGS": (env.get("XLA_FLAGS", "") +
                              " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()})
    env["PYTHONPATH"] = HERE + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def availability(libs):
    """Which libraries can run: importable, and torch only at the pinned version."""
    from importlib.metadata import PackageNotFoundError, version
    ok, skipped = [], {}
    for lib in libs:
        mod = MODULES[lib]
        if importlib.util.find_spec(mod) is None:
            skipped[lib] = "not installed"
            continue
        if lib == "torch":
            try:
                v = version("torch")
            except PackageNotFoundError:
                v = "?"
            if not v.startswith(TORCH_PIN):
                skipped[lib] = f"torch {v} installed; the benchmark pins torch=={TORCH_PIN}"
                continue
        ok.append(lib)
    return ok, skipped


# ---------------------------------------------------------------------------------------------------------------
# Running the workers


def run_worker(lib, args, env, alloc_mib=None):
    """One worker process; ``alloc_mib`` set: only P2 at n = 10^6 after that allocator warm-up (no memory pass)."""
    fd, out = tempfile.mkstemp(prefix=f"hodiff-bench-{lib}-", suffix=".json")
    os.close(fd)
    cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--lib", lib, "--out", out, "--core", str(args.core)]
    if args.quick:
        cmd.append("--quick")
    if alloc_mib is not None:
        cmd += ["--problems", "P2", "--p2-sizes", str(P.P2_MEM_N), "--no-memory", "--alloc-warmup-mib", str(alloc_mib)]
    else:
        if args.problems:
            cmd += ["--problems", args.problems]
        if args.p2_sizes:
            cmd += ["--p2-sizes", args.p2_sizes]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=None if args.verbose else subprocess.PIPE,
                              text=True, timeout=args.timeout, check=False,
                              start_new_session=True)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {args.timeout} s"
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr or "")[-1500:]
        return None, f"worker exited with {proc.returncode}: {tail}"
    with open(out) as fh:
        res = json.load(fh)
    os.unlink(out)
    res["process_seconds"] = dt
    return res, None


def combine(runs):
    """Merge several processes' results for one library: median of the per-process medians."""
    if len(runs) == 1:
        return runs[0]
    base = json.loads(json.dumps(runs[0]))
    base["processes"] = len(runs)
    for key, rec in base["metrics"].items():
        recs = [r["metrics"].get(key) for r in runs if key in r["metrics"]]
        rec["f_seconds"] = statistics.median(r["f_seconds"] for r in recs)
        rec["f_value"] = statistics.median(r["f_value"] for r in recs)
        for i, e in enumerate(rec["variants"]):
            es = [r["variants"][i] for r in recs if i < len(r["variants"])]
            for fld in ("seconds", "value", "ratio_to_f", "extra_peak_bytes", "extra_peak_multiple", "first_call_ms",
                        "first_call_ratio", "eager_call_ms"):
                vals = [x[fld] for x in es if fld in x]
                if vals:
                    e[fld] = statistics.median(vals)
            errs = [x["rel_err"] for x in es if "rel_err" in x]
            if errs:
                e["rel_err"] = max(errs)
            for fld in ("samples", "discarded", "cpu_fallback"):
                e[fld] = sum(x.get(fld, 0) for x in es)
            notes = sorted({x["first_call_note"] for x in es if x.get("first_call_note")})
            if notes:
                e["first_call_note"] = "; ".join(notes)
            eager = sorted({x["ran_eagerly"] for x in es if x.get("ran_eagerly")})
            if eager:                                 # one process that did not replay marks the whole row
                e["ran_eagerly"] = "; ".join(eager)
                e["replayed"] = False
    base["errors"] = functools.reduce(operator.iadd, (r["errors"] for r in runs), [])
    return base


# ---------------------------------------------------------------------------------------------------------------
# Tables


def metric_value(key, e):
    """The number a row reports for a variant: per-op / ms / us values, ratio to f, or memory multiple."""
    if key.startswith(("P2.memgrad", "P2.memhvp")):
        return e.get("extra_peak_multiple")
    if key.startswith(("P2.", "P3.")):
        return e.get("ratio_to_f")
    return e.get("value")


def source_key(key):
    if key.startswith("P2.memgrad"):
        return key.replace("memgrad", "grad")
    if key.startswith("P2.memhvp"):
        return key.replace("memhvp", "hvp")
    return key


def entries(results, key, want_memory=False):
    """(lib, variant entry, value) for every library's accurate, measured variants of one row."""
    out = []
    for lib, res in results.items():
        rec = res["metrics"].get(source_key(key))
        if not rec:
            continue
        for e in rec["variants"]:
            v = metric_value(key, e)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if e.get("rel_err", math.inf) > P.ACCURACY_TOL:
                continue
            out.append((lib, e, v))
    return out


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "us/op":
        return f"{v:.3g} µs/op"
    if unit == "us":
        return f"{v:.3g} µs" if v < 100 else f"{v:.0f} µs"
    if unit == "ms":
        return f"{v * 1e3:.0f} µs" if v < 0.1 else f"{v:.3g} ms"
    if unit in ("x f", "x |x|"):
        return f"{v:.3g}x"
    return f"{v:.3g}"


def label(lib, e):
    name = {"jax": "JAX eager", "jax-jit": "JAX jit", "hodiff-jit": "hodiff jit", "numpy": "numpy"}.get(lib, lib)
    return f"{name}: {e['label']}"


def summary_rows(results):
    rows = []
    for key, prob, metric, unit, issue_peer, target, issue_hand in P.ROWS:
        ent = entries(results, key)
        peers = [(lib, e, v) for lib, e, v in ent if lib in PEERS and e["kind"] == "eager"]
        jit = [(lib, e, v) for lib, e, v in ent if lib == "jax-jit"]
        hd = [(lib, e, v) for lib, e, v in ent if lib == "hodiff" and e["primary"]]
        hand = [(lib, e, v) for lib, e, v in ent if lib == "numpy"]
        best = min(peers, key=lambda t: t[2]) if peers else None
        bj = min(jit, key=lambda t: t[2]) if jit else None
        h = hd[0] if hd else None
        # a hodiff variant that failed the accuracy check does not count as measured
        rec = results.get("hodiff", {}).get("metrics", {}).get(source_key(key))
        hd_err = None
        if rec:
            pe = [e for e in rec["variants"] if e["primary"]]
            hd_err = pe[0].get("rel_err") if pe else None
        row = {"key": key, "problem": prob, "metric": metric, "unit": unit, "target": target,
               "issue_peer": issue_peer, "issue_hand": issue_hand,
               "best_peer": None if best is None else {"lib": best[0], "label": best[1]["label"],
                                                       "value": best[2]},
               "jax_jit": None if bj is None else {"label": bj[1]["label"], "value": bj[2]},
               "hodiff": None if h is None else {"label": h[1]["label"], "value": h[2]},
               "hodiff_rel_err": hd_err,
               "hand": None if not hand else {"label": hand[0][1]["label"], "value": hand[0][2]}}
        if key.startswith("P1."):
            r = results.get("numpy", {}).get("metrics", {}).get(key)
            row["f_per_op"] = r["f_value"] if r else None
        row["meets_target"] = None if h is None else bool(h[2] <= target)
        row["beats_peers"] = None if (h is None or best is None) else bool(h[2] < best[2])
        row.update(jit_fields(key, ent, row))
        rows.append(row)
    return rows


def _first_call(e):
    if e.get("first_call_ms") is None:
        return None
    return {"ms": e["first_call_ms"], "ratio": e["first_call_ratio"], "eager_ms": e.get("eager_call_ms"),
            "note": e.get("first_call_note")}


def jit_fields(key, ent, row):
    """The compiled-replay columns of one summary row: hodiff-jit's primary variant against its target."""
    hj = next(((e, v) for lib, e, v in ent if lib == "hodiff-jit" and e["primary"]), None)
    jj = next((e for lib, e, v in ent if lib == "jax-jit"), None)
    mem = key.startswith("P2.mem")
    out = {"jit_target": P.JIT_TARGETS.get(key),
           "hodiff_jit": None if hj is None else {"label": hj[0]["label"], "value": hj[1],
                                                  "ran_eagerly": hj[0].get("ran_eagerly")},
           "hodiff_jit_first": None if (hj is None or mem) else _first_call(hj[0]),
           "jax_jit_first": None if (jj is None or mem) else _first_call(jj)}
    t = out["jit_target"]
    hv = out["hodiff_jit"]
    # a variant that ran eagerly is not the compiled figure: it neither passes nor fails the compiled target
    out["jit_meets"] = None if (hv is None or t is None or hv["ran_eagerly"]) else bool(hv["value"] <= t)
    fc = out["hodiff_jit_first"]
    out["first_call_meets"] = None if fc is None else bool(fc["ratio"] <= P.FIRST_CALL_TARGET)
    if hv is not None and row.get("jax_jit"):
        out["jit_vs_jax_jit"] = hv["value"] / row["jax_jit"]["value"]
    return out


def cell(text):
    """Text for a Markdown table cell: a literal | must not end the cell."""
    return str(text).replace("|", "\\|")


def summary_table(rows):
    lines = [("| problem | metric | best eager peer (here) | JAX jit, compile excluded (here) | hodiff target | "
             "hodiff (here) | meets target | ahead of eager peers | hand-written numpy (here) |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        u = r["unit"]
        bp = r["best_peer"]
        bp_s = "n/a" if bp is None else f"{fmt(bp['value'], u)} ({_short(bp['lib'], bp['label'])})"
        jj = "n/a" if r["jax_jit"] is None else fmt(r["jax_jit"]["value"], u)
        hv = "n/a" if r["hodiff"] is None else fmt(r["hodiff"]["value"], u)
        ok = {True: "**pass**", False: "FAIL", None: "n/a"}[r["meets_target"]]
        bt = {True: "yes", False: "no", None: "n/a"}[r["beats_peers"]]
        hand = "n/a" if r["hand"] is None else fmt(r["hand"]["value"], u)
        if r["key"] == "P1.vg" and r.get("f_per_op") is not None:
            hand += f" (f alone: {fmt(r['f_per_op'], u)})"
        lines.append(f"| {cell(r['problem'])} | {cell(r['metric'])} | {bp_s} | {jj} | ≤ {fmt(r['target'], u)} | {hv} | {ok} | "
                     f"{bt} | {hand} |")
    return "\n".join(lines)


def _first_cell(fc):
    if fc is None:
        return "n/a"
    ms = fc["ms"]
    t = f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1e3:.3g} s"
    return f"{t} = {fc['ratio']:.3g}x eager" + (f" ({cell(fc['note'])})" if fc.get("note") else "")


def jit_table(rows):
    """hodiff's compiled replay beside eager hodiff, the peers, JAX jit and hand-written numpy."""
    lines = [("| problem | metric | hodiff eager (here) | **hodiff jit (here)** | jit target | meets | "
              "JAX jit (here) | best eager peer (here) | hand-written numpy (here) | first call, hodiff jit | "
              f"first call ≤ {P.FIRST_CALL_TARGET:g}x eager | first call, JAX jit |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        u = r["unit"]
        hj = r.get("hodiff_jit")
        if hj is None:
            hjs = "n/a"
        elif hj["ran_eagerly"]:
            hjs = f"{fmt(hj['value'], u)} (RAN EAGERLY: {cell(hj['ran_eagerly'][:120])})"
        else:
            hjs = f"**{fmt(hj['value'], u)}**"
        t = r.get("jit_target")
        ok = {True: "**pass**", False: "FAIL", None: "n/a"}[r.get("jit_meets")]
        if hj is not None and hj["ran_eagerly"] and t is not None:
            ok = "no (ran eagerly)"
        bp = r["best_peer"]
        bp_s = "n/a" if bp is None else f"{fmt(bp['value'], u)} ({_short(bp['lib'], bp['label'])})"
        fc_ok = {True: "**pass**", False: "FAIL", None: "n/a"}[r.get("first_call_meets")]
        lines.append(" | ".join([
            f"| {cell(r['problem'])}", cell(r["metric"]),
            "n/a" if r["hodiff"] is None else fmt(r["hodiff"]["value"], u), hjs,
            "n/a" if t is None else f"≤ {fmt(t, u)}", ok,
            "n/a" if r["jax_jit"] is None else fmt(r["jax_jit"]["value"], u), bp_s,
            "n/a" if r["hand"] is None else fmt(r["hand"]["value"], u),
            _first_cell(r.get("hodiff_jit_first")), fc_ok, _first_cell(r.get("jax_jit_first"))]) + " |")
    return "\n".join(lines)


def first_call_table(results):
    """Every compiled variant's first call (trace + build/compile) against one call without compilation."""
    lines = ["| metric | library | variant | first call (median of fresh functions) | one call without jit | "
             "ratio | each fresh function (ms) |", "|---|---|---|---|---|---|---|"]
    n = 0
    for lib in ("hodiff-jit", "jax-jit"):
        res = results.get(lib)
        if not res:
            continue
        for k, rec in res["metrics"].items():
            for e in rec["variants"]:
                if "first_call_ms" not in e and "first_call_error" not in e:
                    continue
                n += 1
                name = {"jax-jit": "JAX (jit)", "hodiff-jit": "hodiff (jit)"}.get(lib, lib)
                if "first_call_error" in e:
                    lines.append(f"| {k} | {name} | {cell(e['label'])} | error: {cell(e['first_call_error'][:100])} "
                                 "| | | |")
                    continue
                note = f" ({cell(e['first_call_note'])})" if e.get("first_call_note") else ""
                each = ", ".join(f"{x:.3g}" for x in e.get("first_call_samples_ms", []))
                lines.append(f"| {k} | {name} | {cell(e['label'])} | {e['first_call_ms']:.4g} ms{note} | "
                             f"{e['eager_call_ms']:.4g} ms | {e['first_call_ratio']:.3g}x | {each} |")
    return "\n".join(lines) if n else "(no compiled library in this run)"


def _short(lib, lab):
    name = {"jax": "JAX eager", "jax-jit": "JAX jit", "hodiff-jit": "hodiff jit"}.get(lib, lib)
    short = {"autograd.grad": "", "y.backward()": "backward()", "double backward (create_graph=True)":
             "double backward", "triple backward (create_graph=True)": "triple backward"}.get(lab, lab)
    return f"{name}{'; ' + short if short else ''}"


def detail_tables(results):
    """Every metric, every library and variant: value, ratio to f, accuracy, samples."""
    keys = []
    for res in results.values():
        for k in res["metrics"]:
            if k not in keys:
                keys.append(k)

    def order(k):
        p, rest = k.split(".", 1)
        m, _, n = rest.partition("@")
        return (p, m, int(n) if n else 0)
    keys.sort(key=order)
    out = []
    unit = {"P1": ("µs per op", 1), "P2": ("µs", 1), "P3": ("µs", 1), "P4": ("ms", 1), "P5": ("µs", 1)}
    for k in keys:
        u = unit[k[:2]][0]
        out.append(f"\n### {k}\n")
        out.append(f"| library | variant | time ({u}) | ratio to f | plain numpy f ({u}) | max rel. error | "
                   "samples (discarded) |" + (" extra peak memory (x x's size) |" if k == f"P2.grad@{P.P2_MEM_N}"
                                             or k == f"P2.hvp@{P.P2_MEM_N}" else ""))
        mem = k in (f"P2.grad@{P.P2_MEM_N}", f"P2.hvp@{P.P2_MEM_N}")
        out.append("|---|---|---|---|---|---|---|" + ("---|" if mem else ""))
        for lib in LIBS:
            res = results.get(lib)
            if not res or k not in res["metrics"]:
                continue
            rec = res["metrics"][k]
            for e in rec["variants"]:
                name = DISPLAY.get(lib, lib)
                if "error" in e and "value" not in e:
                    out.append(f"| {name} | {e['label']} | error: {e['error'][:80]} | | | | |" + (" |" if mem else ""))
                    continue
                err = e.get("rel_err")
                flag = "" if err is not None and err <= P.ACCURACY_TOL else " (FAILS CHECK)"
                tag = " (reported)" if e["primary"] and lib in ("hodiff", "hodiff-jit") else ""
                if e.get("ran_eagerly"):
                    tag += f" (RAN EAGERLY: {e['ran_eagerly'][:100]})"
                line = (f"| {name} | {cell(e['label'] + tag)} | "
                        f"{e.get('value', float('nan')):.4g} | {e.get('ratio_to_f', float('nan')):.3g}x | "
                        f"{rec['f_value']:.4g}{'†' if rec.get('f_cpu_fallback') else ''} | {err:.1e}{flag} | "
                        f"{e.get('samples', 0)} ({e.get('discarded', 0)}){'†' if e.get('cpu_fallback') else ''} |")
                if mem:
                    m = e.get("extra_peak_multiple")
                    line += f" {m:.2f}x |" if m is not None else " n/a |"
                out.append(line)
    return "\n".join(out)


def _reported(lib, rec):
    """The entry a library is represented by: hodiff's designated variant, else the fastest accurate one."""
    vals = [e for e in rec["variants"] if "ratio_to_f" in e and e.get("rel_err", 1) <= P.ACCURACY_TOL]
    if not vals:
        return None
    if lib in ("hodiff", "hodiff-jit"):
        return next((e for e in vals if e["primary"]), vals[0])
    return min(vals, key=lambda e: e["ratio_to_f"])


def alloc_table(doc):
    """P2 at n = 10^6 in each allocator state: ratio to f, and f itself (which depends on the state too)."""
    runs = {int(k): v for k, v in doc.get("alloc_runs", {}).items()}
    main_mib = P.ALLOC_STATES_MIB[-1]
    runs[main_mib] = {lib: res["metrics"] for lib, res in doc["results"].items()}
    states = sorted(runs)
    n = P.P2_MEM_N
    head = {0: "no warm-up"}
    lines = ["| library | metric | variant | " + " | ".join(
        head.get(m, f"{m} MiB warm-up") + (" (main run)" if m == main_mib else "") for m in states)
        + " | target |", "|---|---|---|" + "---|" * len(states) + "---|"]
    for lib in LIBS:
        for m in ("grad", "hvp"):
            key = f"P2.{m}@{n}"
            cells, lab = [], None
            for st in states:
                rec = runs[st].get(lib, {}).get(key)
                e = None if rec is None else _reported(lib, rec)
                if e is None:
                    cells.append("n/a")
                    continue
                lab = lab or e["label"]
                eager = " (RAN EAGERLY)" if e.get("ran_eagerly") else ""
                cells.append(f"{e['ratio_to_f']:.3g}x{eager} (f {rec['f_seconds'] * 1e3:.3g} ms)")
            if lab is None:
                continue
            tgt = {"hodiff": next((r[5] for r in P.ROWS if r[0] == key), None),
                   "hodiff-jit": P.JIT_TARGETS.get(key)}.get(lib)
            lines.append(f"| {DISPLAY.get(lib, lib)} | {m} / f | {cell(lab)} | " + " | ".join(cells)
                         + f" | {'' if tgt is None else f'≤ {tgt:g}x'} |")
    return "\n".join(lines)


def p2_series(results):
    """ratio-to-f against n for P2 (primary variant of each library; best eager variant for peers)."""
    series = {}
    for lib, res in results.items():
        for k, rec in res["metrics"].items():
            if not k.startswith("P2."):
                continue
            m, n = k[3:].split("@")
            vals = [e for e in rec["variants"] if "ratio_to_f" in e and e.get("rel_err", 1) <= P.ACCURACY_TOL]
            if not vals:
                continue
            e = min(vals, key=lambda e: e["ratio_to_f"]) if lib not in ("hodiff", "hodiff-jit") else next(
                (e for e in vals if e["primary"]), vals[0])
            series.setdefault(m, {}).setdefault(lib, []).append((int(n), e["ratio_to_f"]))
    for per_lib in series.values():
        for pts in per_lib.values():
            pts.sort()
    return series


def series_table(series):
    lines = []
    for m in ("grad", "hvp"):
        if m not in series:
            continue
        ns = sorted({n for pts in series[m].values() for n, _ in pts})
        lines.append(f"\nP2 {'gradient' if m == 'grad' else 'Hessian-vector product'} / f against n:\n")
        lines.append("| library | " + " | ".join(f"n = {n:,}" for n in ns) + " |")
        lines.append("|---|" + "---|" * len(ns))
        for lib in LIBS:
            if lib not in series[m]:
                continue
            d = dict(series[m][lib])
            name = DISPLAY.get(lib, lib)
            lines.append(f"| {name} | " + " | ".join(f"{d[n]:.3g}x" if n in d else "" for n in ns) + " |")
    return "\n".join(lines)


def plot(series, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    colors = dict(zip(LIBS, ("tab:blue", "tab:orange", "black", "tab:green", "tab:red", "tab:purple", "tab:brown",
                             "tab:pink")))
    names = DISPLAY
    targets = {(m, int(k.split("@")[1])): t for k, _, _, _, _, t, _ in P.ROWS
               for m in ("grad", "hvp") if k.startswith(f"P2.{m}@")}
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.2), sharey=True)
    handles = {}
    for ax, m in zip(axes, ("grad", "hvp")):
        for lib in LIBS:
            pts = series.get(m, {}).get(lib)
            if not pts:
                continue
            (h,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=colors[lib],
                           label=names.get(lib, lib), linewidth=2.5 if lib.startswith("hodiff") else 1.2)
            handles[lib] = h
        tn = sorted(n for (mm, n) in targets if mm == m)
        if tn:
            (h,) = ax.plot(tn, [targets[(m, n)] for n in tn], linestyle="none", marker="_", markersize=18,
                           markeredgewidth=2.5, color=colors["hodiff"], label="hodiff target")
            handles["target"] = h
        jn = sorted(int(k.split("@")[1]) for k in P.JIT_TARGETS if k.startswith(f"P2.{m}@"))
        if jn:
            (h,) = ax.plot(jn, [P.JIT_TARGETS[f"P2.{m}@{n}"] for n in jn], linestyle="none", marker="_",
                           markersize=18, markeredgewidth=2.5, color=colors["hodiff-jit"], label="hodiff jit target")
            handles["jit target"] = h
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n")
        ax.set_title(f"P2 extended Rosenbrock: {'gradient' if m == 'grad' else 'HVP'} / f")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("time / time of plain-numpy f (one core)")
    order = [k for k in (*LIBS, "target", "jit target") if k in handles]
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    fig.legend([handles[k] for k in order], [handles[k].get_label() for k in order], fontsize=8,
               loc="center right")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------------------------
# Report


def versions_of(results):
    vers = {}
    for res in results.values():
        for k, v in res.get("versions", {}).items():
            vers.setdefault(k, v)
    return vers


def blas_line(results):
    res = results.get("hodiff") or next(iter(results.values()))
    b = res.get("blas", {})
    if b.get("source") == "threadpoolctl":
        parts = [f"{p['internal_api']} {p.get('version') or ''} ({p['prefix']}), kernel "
                 f"{p.get('architecture') or '?'}, {p['num_threads']} thread(s)"
                 for p in b["pools"] if p["user_api"] == "blas"]
        return "; ".join(parts) + " (threadpoolctl, in the hodiff worker)"
    return f"{b} ({b.get('source')})"


def commands(args):
    c = "python benchmarks/run.py" + (" --quick" if args.quick else "")
    if args.peers_arg:
        c += f" --peers {args.peers_arg}"
    if args.procs != 1:
        c += f" --procs {args.procs}"
    if getattr(args, "alloc_states", None):
        c += f" --alloc-states {args.alloc_states}"
    return c + " --write-docs"


# The profile behind each target hodiff does not meet (counts are exact; the commands reproduce them).
WHERE_THE_TIME_GOES = [
    "## Where the time goes where a target is missed", "",
    ("Profiles come from `python benchmarks/profile_hodiff.py METRIC [--n N] --by-primitive` (numpy time per "
     "primitive and argument shapes; the rest of a call is the engine's own Python work), or without "
     "`--by-primitive` for cProfile, or with `--pyinstrument`."), "",
    ("- **P1 (value and gradient, at the 2.5 µs target: 2.4-2.5 µs per operation from run to run).** All of it "
     "is Python: about 1.5 µs to record an operation (the operator call, the node, the output tensor) and 0.85 "
     "µs to run its rule backwards; numpy's own scalar arithmetic is 0.06 µs. The garbage collector, which the "
     "harness leaves on, adds 0.15-0.3 µs per operation, because every recorded operation leaves four or five "
     "tracked objects alive until the backward pass (`gc.disable()` around the same loop measures 2.27 against "
     "2.42-2.57 µs). Levers: fewer objects per node (argument tuples, parents without pair tuples), a compiled "
     "core."),
    ("- **P2 at n = 10^4 (gradient, HVP): Python per operation.** `f` is 8 numpy calls (about 14 µs). "
     "`hd.grad` runs 20 (10 recorded forward, 10 in the backward pass) where the hand-written gradient runs "
     "about 7, and every recorded operation adds about 1.5-2 µs of Python: making the tape node, dispatching "
     "the rule, summing the cotangent. Numpy accounts for about half of the gradient's time. The 4x target "
     "would need the per-operation engine cost halved (a compiled core for recording and the backward loop) "
     "or fewer operations (fusing elementwise chains); the HVP doubles both counts (41 numpy calls on dual "
     "numbers)."),
    ("- **P2 at n = 10^6 (gradient, HVP): memory passes.** Every numpy call streams 4 MB arrays (the halves "
     "of x) through memory; plain `f` is cheaper per pass because numpy reuses its temporaries in place, which "
     "a recorded graph prevents (it holds references). The gradient makes about 20 array passes (8 forward, 9 "
     "rules, 2 strided slice accumulations and a zero fill) against about 12 hand-written; the HVP 41 against "
     "about 14. What would close it: fusing elementwise chains into one pass, and dead-tangent elimination "
     "(lazy tangents: the tangents of `r**2`, `100*r**2`, `(1-xo)**2`, their sum and of f itself are computed "
     "by the forward pass and never read by a rule, 7 of the HVP's passes). Memory is within its targets."),
    ("- **P3 (gradient, HVP): elementwise work and Python.** The matrix products are at parity with the "
     "hand-written code (5 in the gradient; 11 in the HVP, where `hvp` skips the gradient's own products "
     "that H v does not need, such as `X.T @ g` for the first layer). The rest is elementwise work on the "
     "256 x 128 activations (tanh's rule `g (1 - y^2)` on dual numbers is 9 passes where the hand-written "
     "R-operator reuses `1 - y^2`) and the Python of 19 recorded operations and 20 rule calls (gradient), "
     "plus 30 operations on dual numbers and 36 rule calls in all (HVP). The levers are the same as for P2."), ""]


def markdown_report(doc, args, for_docs):
    m = doc["machine"]
    rows = doc["summary"]
    v = doc["versions"]
    out = []
    if for_docs:
        out += ["# Performance", "",
                "<!-- Generated by benchmarks/run.py --write-docs: do not edit by hand; rerun the harness. -->", "",
                ("hodiff against the eager automatic-differentiation libraries it competes with and against "
                "hand-written numpy derivatives, on the problems of the performance issue (P1..P5). "
                "This page is produced by the benchmark harness in `benchmarks/`; the numbers are from the run "
                "described below, on one core of the machine named there."), "",
                "## How to reproduce", "", "```bash",
                "pip install -e '.[bench]'        # autograd, mygrad, jax, torch==2.13.0, threadpoolctl",
                commands(args), "```", "",
                ("`--quick` takes about two minutes (fewer samples, P2 at two sizes, one allocator state); without "
                "it the run takes about 15 minutes on an idle machine. `--peers torch,autograd` chooses the peers; missing peers are skipped. "
                "`python benchmarks/overhead.py` gives the small per-operation overhead table."), ""]
    out += [f"## Run of {doc['date']} ({'quick' if doc['quick'] else 'full'} mode)", "",
            (f"- Machine: {m['cpu']}, {m['machine']} ({m.get('simd', '')}), {m['logical_cpus']} logical CPUs, "
            f"virtual machine: {m['hypervisor']}, {m['memory']} RAM, {m['os']}"),
            (f"- Each library in its own fresh process pinned to core {doc['core']}; "
            f"{doc['procs']} process(es) per library"),
            (f"- Python {m['python']}, numpy {v.get('numpy')}, scipy {v.get('scipy')}, hodiff {v.get('hodiff', '?')} "
            f"(commit {m.get('hodiff_commit')})"),
            "- Peers: " + (", ".join(f"{k} {v[k]}" for k in ("autograd", "mygrad", "jax", "jaxlib", "torch")
                                    if k in v) or "none"),
            "- Skipped: " + (", ".join(f"{k} ({r})" for k, r in doc["skipped"].items()) or "none"),
            f"- BLAS: {doc['blas']}",
            "- Load average (1 min) when each worker started/ended: " + (", ".join(
                f"{lib} {r['loadavg_start_end'][0]:.1f}/{r['loadavg_start_end'][1]:.1f}"
                for lib, r in doc["results"].items() if r.get("loadavg_start_end")) or "not recorded"),
            "- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the calling environment: "
            + ", ".join(f"{k}={val!r}" for k, val in m["openblas_env_in_parent"].items())
            + " (unset for the workers)", ""]
    out += ["## Summary against the targets", "",
            ("Ratios are to plain numpy `f` at the same size, timed in the same process. *Best eager peer* is the "
            "fastest accurate variant among autograd, MyGrad, PyTorch (autograd and torch.func) and JAX without "
            "jit; JAX with jit is a separate column (compile time excluded). The hodiff figure is its designated "
            "public-API variant (listed per problem below), not the best of several. Memory: extra peak of "
            "numpy/Python allocations (tracemalloc) while the derivative is computed, in multiples of x's size "
            "(8 MB); PyTorch's and XLA's own allocators are invisible to tracemalloc, so only the numpy-based "
            "libraries are compared there."), "", summary_table(rows), ""]
    met = [r for r in rows if r["meets_target"] is True]
    miss = [r for r in rows if r["meets_target"] is False]
    out += [f"hodiff meets {len(met)} of {len(met) + len(miss)} targets"
            + (": misses " + "; ".join(f"{r['key']} {r['metric']} "
                                        f"({fmt(r['hodiff']['value'], r['unit'])} vs ≤ {fmt(r['target'], r['unit'])})"
                                        for r in miss) if miss else "") + ".", ""]
    out += ["## Compiled replay (hd.jit) against its targets", "",
            ("`hd.jit` records the derivative computation on the first call at given shapes and replays the generated "
            "numpy code afterwards (library `hodiff-jit`: the same public-API computations as eager hodiff, each "
            "wrapped in `hd.jit`, primary variant chosen in advance; the warm-up absorbs the recording). After the "
            "warm-up and again after timing, every compiled variant is checked to have replayed: the wrapped "
            "function must not run (hodiff) or retrace (JAX); a variant that ran eagerly says so here instead of "
            "passing for compiled. *First call*: the first call of a freshly made compiled function at the "
            "benchmark's shapes (hodiff: record + build the program; JAX: trace + compile), median over "
            f"{'3' if doc['quick'] else '5'} fresh functions, and its ratio to one warm call of the same "
            "computation without compilation (eager hodiff; JAX op by op) timed in the same process."), "",
            jit_table(rows), ""]
    jmet = [r for r in rows if r.get("jit_meets") is True]
    jmiss = [r for r in rows if r.get("jit_meets") is False]
    jeager = [r for r in rows if r.get("hodiff_jit") and r["hodiff_jit"]["ran_eagerly"]]
    fmiss = [r for r in rows if r.get("first_call_meets") is False]
    out += [f"hodiff jit meets {len(jmet)} of {len(jmet) + len(jmiss)} compiled targets"
            + (": misses " + "; ".join(f"{r['key']} ({fmt(r['hodiff_jit']['value'], r['unit'])} vs "
                                        f"≤ {fmt(r['jit_target'], r['unit'])})" for r in jmiss) if jmiss else "")
            + (f"; ran eagerly: {', '.join(r['key'] for r in jeager)}" if jeager else "")
            + f". First call within {P.FIRST_CALL_TARGET:g}x one eager call: "
            + f"{sum(1 for r in rows if r.get('first_call_meets') is True)} of "
            + f"{sum(1 for r in rows if r.get('first_call_meets') is not None)} rows"
            + (f" (misses {', '.join(r['key'] for r in fmiss)})" if fmiss else "") + ".", ""]
    out += ["### First calls of every compiled variant", "", first_call_table(doc["results"]), ""]
    out += ["### P2 at n = 10^6 by allocator state", "",
            ("At n = 10^6 the temporaries are 4-8 MB, above glibc's initial mmap threshold (128 KiB): without a "
            "warm-up every one is mapped afresh and page-faulted on each call; freeing a large block raises the "
            "threshold to that block's size (up to 32 MiB), so the temporaries come from the heap, and the trim "
            "threshold to twice that, which decides how much freed heap memory is kept rather than returned to the "
            "system (16 MiB: 32 MiB kept; 31 MiB: 62 MiB kept). The figures therefore depend on the allocator's "
            "state, for `f` as much as for the derivatives. Each state is a fresh process per library (the main "
            "run uses the last state)."), "",
            alloc_table(doc) if doc.get("alloc_runs") else
            "(one allocator state in this run: pass --alloc-states 0,16, the default of a full run)", ""]
    errs = [r["hodiff_rel_err"] for r in rows if r["hodiff_rel_err"] is not None]
    out += ["Accuracy: every derivative of every library is checked against the hand-written/analytic reference "
            f"(max relative error, normwise). hodiff's largest: {max(errs):.1e}." if errs else "", ""]
    out += ["For comparison, the figures quoted in the issue (measured on another machine of the same kind):", "",
            "| problem | metric | issue: best eager peer | issue: hand-written numpy | target |",
            "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {cell(r['problem'])} | {cell(r['metric'])} | {r['issue_peer']} | {r['issue_hand']} | "
                   f"≤ {fmt(r['target'], r['unit'])} |")
    out += ["", "## Ratio to f against n (P2)", series_table(doc["series"]), ""]
    if doc.get("plot") and not for_docs:
        out += [f"Plot: `{os.path.relpath(doc['plot'], ROOT)}`", ""]
    out += ["## Every measurement", "",
            ("Times are medians of samples (a sample is a batch of back-to-back calls, discarded if the process held "
            "its core for less than 90% of it); in full mode, the median of three interleaved rounds' medians. "
            "`max rel. error` is max|d - ref| / max|ref| against the hand-written reference. † marks a measurement "
            "where every sample lost its core: it reports the median CPU time per call instead of wall time."),
            detail_tables(doc["results"]), ""]
    if doc["reference_selfcheck"]:
        out += ["", "The references themselves, against central finite differences (relative error):", "",
                "| check | rel. error |", "|---|---|"]
        out += [f"| {k} | {val:.1e} |" for k, val in doc["reference_selfcheck"].items()]
        out.append("")
    errs = [e for res in doc["results"].values() for e in res.get("errors", [])]
    if errs:
        out += ["", "Errors recorded by the workers:", "", "```"] + [e.strip()[-600:] for e in errs] + ["```", ""]
    if for_docs:
        out += WHERE_THE_TIME_GOES
        out += ["## Method", "",
                ("- Same `f`, same data, same n for every library: `benchmarks/problems.py` writes each problem once "
                "against a numpy-like namespace (numpy itself for hodiff, whose values dispatch numpy calls; "
                "`autograd.numpy`; `jax.numpy`; MyGrad; a thin shim over `torch`). Data come from a fixed seed."),
                ("- Fresh process per library (`benchmarks/worker.py`), pinned with `os.sched_setaffinity` to one "
                "core, one BLAS/OpenMP thread, garbage collector on. The allocator is warmed by allocating, touching "
                "and freeing one 31 MiB block: that raises glibc's mmap threshold, so large temporaries are reused "
                "from the heap instead of being mapped afresh (and page-faulted) on every call, for `f` and the "
                "derivatives alike."),
                ("- Every variant is called once and checked against the reference, then warmed up, then sampled; "
                "samples where process CPU time / wall time < 0.9 are dropped (the core was taken by something "
                "else). Each worker runs in a session of its own with raised scheduling priority (nice and "
                "autogroup), so other work on the machine rarely takes its core; what the CPU-time check cannot "
                "see is work on the *other* core competing for shared caches, memory bandwidth or, on a virtual "
                "machine, a sibling hardware thread. On a busy 2-vCPU machine, expect run-to-run differences of "
                "10-30% (more in `--quick` mode, which takes fewer samples); the load average above tells how "
                "busy the machine was."),
                ("- PyTorch: inputs enter through `torch.from_numpy` inside the timed call; one intra- and one "
                "inter-op thread. JAX: float64, inputs converted to JAX arrays once outside the timed call, "
                "`block_until_ready` on every result; `jax-jit` is a separate process whose warm-up absorbs the "
                "compile. MyGrad has no higher-order derivatives (n/a rows)."),
                ("- hodiff is used only through its public API: `hd.value_and_grad`, `hd.grad`, `hd.hvp`, "
                "`hd.hessian`, nested `hd.grad`, and `hd.tensor(...).backward()` as extra variants. The `hodiff-jit` "
                "rows wrap the same calls in `hd.jit` (its own process, like `jax-jit`); whether a timed call "
                "replayed is checked by counting the calls that reach the wrapped function, which runs only when "
                "`hd.jit` records or falls back to eager evaluation."), ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="about two minutes: fewer samples, P2 at n = 10^4 and 10^6")
    ap.add_argument("--peers", dest="peers_arg", default=None,
                    help=f"comma-separated subset of {','.join(PEERS)} (default: all installed); 'none' for none")
    ap.add_argument("--procs", type=int, default=1, help="fresh processes per library (median of their medians)")
    ap.add_argument("--core", type=int, default=None, help="core to pin the workers to (default: the last one)")
    ap.add_argument("--problems", default=None, help="e.g. P1,P2 (default: all)")
    ap.add_argument("--p2-sizes", default=None, help="e.g. 1000,10000,1000000")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per worker process")
    ap.add_argument("--alloc-states", default=None, metavar="MIB,...",
                    help=("extra runs of P2 at n = 10^6 after these allocator warm-ups (MiB; 0: none), beside the main "
                          f"run's {P.ALLOC_STATES_MIB[-1]} MiB (default: "
                          f"{','.join(map(str, P.ALLOC_STATES_MIB[:-1]))} in full mode, none with --quick; "
                          "'none' for none)"))
    ap.add_argument("--write-docs", action="store_true", help=f"write {os.path.relpath(DOCS_PAGE, ROOT)}")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true", help="show the workers' progress lines")
    ap.add_argument("--from-json", default=None, metavar="PATH",
                    help="no measuring: print (and with --write-docs, write) the report of a saved run")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as fh:
            doc = json.load(fh)
        args.quick, args.procs = doc["quick"], doc["procs"]
        args.peers_arg = doc.get("peers_arg")
        report(doc, args)
        return
    if args.core is None:
        try:
            args.core = max(os.sched_getaffinity(0))
        except AttributeError:
            args.core = 0
    if args.timeout is None:
        args.timeout = 600 if args.quick else 3600

    if args.peers_arg in (None, "", "all"):
        wanted = list(PEERS)
    elif args.peers_arg == "none":
        wanted = []
    else:
        wanted = [p.strip() for p in args.peers_arg.split(",") if p.strip()]
        bad = [p for p in wanted if p not in PEERS]
        if bad:
            ap.error(f"unknown peer(s) {bad}; choose from {', '.join(PEERS)}")
    libs, skipped = availability(["numpy", "hodiff", "hodiff-jit"] + wanted)
    if "hodiff" not in libs:
        sys.exit("hodiff is not importable: pip install -e . first")

    machine = machine_info()
    env = worker_env()
    t0 = time.perf_counter()
    results = {}
    for lib in libs:
        runs = []
        for i in range(args.procs):
            print(f"running {lib} ({i + 1}/{args.procs}) ...", file=sys.stderr, flush=True)
            res, err = run_worker(lib, args, env)
            if err:
                print(f"  {lib}: {err}", file=sys.stderr)
                skipped[lib] = err.splitlines()[0][:200]
                break
            print(f"  {lib}: {res['process_seconds']:.1f} s", file=sys.stderr, flush=True)
            runs.append(res)
        if runs and lib not in skipped:
            results[lib] = combine(runs)
    alloc_runs = run_alloc_states(args, results, env)
    total = time.perf_counter() - t0

    numpy_res = results.get("numpy", {})
    doc = {"date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "quick": args.quick, "procs": args.procs,
           "core": args.core, "machine": machine, "versions": versions_of(results), "skipped": skipped,
           "blas": blas_line(results) if results else "?", "summary": summary_rows(results),
           "series": p2_series(results), "results": results, "total_seconds": total,
           "reference_selfcheck": numpy_res.get("reference_selfcheck", {}),
           "blas_per_library": {lib: r.get("blas") for lib, r in results.items()}, "peers_arg": args.peers_arg,
           "alloc_runs": alloc_runs, "alloc_states_arg": args.alloc_states}
    os.makedirs(RESULTS, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if not args.no_plot:
        doc["plot"] = plot(doc["series"], os.path.join(RESULTS, "p2_ratio_vs_n.png"))
    path = os.path.join(RESULTS, f"run-{stamp}{'-quick' if args.quick else ''}.json")
    for p in (path, os.path.join(RESULTS, "latest.json")):
        with open(p, "w") as fh:
            json.dump(doc, fh, indent=1, default=str)
    print(f"JSON: {os.path.relpath(path, ROOT)}; total {total:.0f} s", file=sys.stderr)
    report(doc, args)


def run_alloc_states(args, results, env):
    """P2 at n = 10^6 again, in fresh processes, after each other allocator warm-up: {MiB: {lib: metrics}}."""
    if args.alloc_states is None:
        states = [] if args.quick else list(P.ALLOC_STATES_MIB[:-1])
    elif args.alloc_states in ("", "none"):
        states = []
    else:
        states = [int(x) for x in args.alloc_states.split(",") if x.strip()]
    states = [m for m in states if m != P.ALLOC_STATES_MIB[-1]]
    if args.problems and "P2" not in args.problems.split(","):
        return {}
    if args.p2_sizes and str(P.P2_MEM_N) not in args.p2_sizes.split(","):
        return {}
    out = {}
    for mib in states:
        for lib in results:
            runs = []
            for i in range(args.procs):
                print(f"running {lib}, P2 n = {P.P2_MEM_N:,} after a {mib} MiB allocator warm-up "
                      f"({i + 1}/{args.procs}) ...", file=sys.stderr, flush=True)
                res, err = run_worker(lib, args, env, alloc_mib=mib)
                if err:
                    print(f"  {lib}: {err}", file=sys.stderr)
                    break
                runs.append(res)
            if runs:
                out.setdefault(str(mib), {})[lib] = combine(runs)["metrics"]
    return out


def report(doc, args):
    print(markdown_report(doc, args, for_docs=False))
    if args.write_docs:
        os.makedirs(os.path.dirname(DOCS_PAGE), exist_ok=True)
        with open(DOCS_PAGE, "w") as fh:
            fh.write(markdown_report(doc, args, for_docs=True))
        print(f"wrote {os.path.relpath(DOCS_PAGE, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
