"""Differential fuzzer for hodiff: random programs over the whole primitive table, every transform, compared.

Where it sits: the harness of issue 12 ("a harness that keeps it so"); a command-line driver over
``fuzz_programs`` (random programs), ``fuzz_checks`` (transforms and the relations between them) and
``fuzz_oracle`` (finite differences and tolerances). ``tests/test_fuzz_sample.py`` runs a short sample in CI.

Programs are numbered: program ``i`` of seed ``S`` is a pure function of ``(S, i)``, so a run is resumable and any
program reproducible from its two numbers::

    python benchmarks/fuzz.py --seed 0 --start 0 --count 100000 --out fuzz_run      # a long run
    python benchmarks/fuzz.py --state fuzz_run/state.json                           # resume it where it stopped
    python benchmarks/fuzz.py --replay fuzz_run/failures.json                       # re-check the reproducers

Each disagreement is shrunk (steps deleted while the same relation still fails) and written, with the program's
description and the failing relation's detail, to ``<out>/failures.json``; the exit status is 1 when any program
disagreed, 0 otherwise. ``--only`` restricts the relations checked (their names are in ``fuzz_checks``).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import fuzz_checks as FC  # noqa: E402
import fuzz_programs as FP  # noqa: E402


def shrink(prog: dict, relation: str) -> dict:
    """Delete steps, one at a time, while ``relation`` still fails: a minimal program for the report."""
    changed = True
    while changed and prog["steps"]:
        changed = False
        for j in range(len(prog["steps"]), 0, -1):
            try:
                cand = FP.remove_step(prog, j)
            except Exception:                                  # noqa: BLE001 -- a rewiring that no longer fits
                continue
            if relation in FC.check_program(cand, only={relation})["fail"]:
                prog, changed = cand, True
                break
    return prog


def reproducer(prog: dict, relation: str, detail: str) -> dict:
    return {"relation": relation, "detail": detail, "description": FP.describe(prog), "program": prog,
            "command": f"python benchmarks/fuzz.py --seed {prog['seed']} --start {prog['index']} --count 1"}


class Run:
    """Counters of one run, saved to (and restored from) a JSON state file."""

    def __init__(self, seed, start, stop, out):
        self.seed, self.start, self.next, self.stop, self.out = seed, start, start, stop, out
        self.programs = self.relations = 0
        self.inconclusive = collections.Counter()
        self.unsupported = collections.Counter()
        self.fail = collections.Counter()
        self.failures = []
        self.seconds = 0.0
        self.only = None
        self.max_steps = 5

    def state(self):
        return {"seed": self.seed, "start": self.start, "next": self.next, "stop": self.stop, "out": self.out,
                "programs": self.programs, "relations": self.relations, "seconds": self.seconds,
                "inconclusive": dict(self.inconclusive), "unsupported": dict(self.unsupported),
                "fail": dict(self.fail), "only": sorted(self.only) if self.only else None,
                "max_steps": self.max_steps}

    @classmethod
    def load(cls, path):
        with open(path) as fh:
            st = json.load(fh)
        run = cls(st["seed"], st["start"], st["stop"], st["out"])
        run.next = st["next"]
        run.only, run.max_steps = (set(st["only"]) if st.get("only") else None), st.get("max_steps", 5)
        run.programs, run.relations, run.seconds = st["programs"], st["relations"], st["seconds"]
        run.inconclusive.update(st["inconclusive"])
        run.unsupported.update(st["unsupported"])
        run.fail.update(st["fail"])
        fpath = os.path.join(run.out, "failures.json")
        if os.path.exists(fpath):
            with open(fpath) as fh:
                run.failures = json.load(fh)
        return run

    def save(self):
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(self.out, "state.json"), "w") as fh:
            json.dump(self.state(), fh, indent=1)
        with open(os.path.join(self.out, "failures.json"), "w") as fh:
            json.dump(self.failures, fh, indent=1, default=str)

    def record(self, prog, res, max_shrunk=3):
        self.programs += 1
        self.relations += res["passed"] + len(res["fail"])
        self.inconclusive.update(res["inconclusive"])
        self.unsupported.update(reason.split(": ", 1)[-1][:120] for reason in res["unsupported"].values())
        for rel, detail in res["fail"].items():
            self.fail[rel] += 1
            # each relation's first few failures are shrunk; the rest are listed by number only
            if self.fail[rel] <= max_shrunk:
                small = shrink(prog, rel)
                res2 = FC.check_program(small, only={rel})
                self.failures.append(reproducer(small, rel, res2["fail"].get(rel, detail)))
            else:
                self.failures.append({"relation": rel, "command": reproducer(prog, rel, "")["command"],
                                      "primitives": sorted({st["prim"] for st in prog["steps"]})})

    def summary(self):
        rate = self.programs / max(self.seconds, 1e-9)
        lines = [f"seed {self.seed}, program indices [{self.start}, {self.next}): "
                 f"{self.programs} programs, {self.relations} relations checked, {rate:.1f} programs/s",
                 f"disagreements: {sum(self.fail.values())} in {len({f['command'] for f in self.failures})} programs"]
        for rel, k in self.fail.most_common():
            lines.append(f"  FAIL {k:6d}  {rel}")
        for rel, k in self.inconclusive.most_common():
            lines.append(f"  inconclusive (finite differences could not resolve the point) {k:6d}  {rel}")
        for why, k in self.unsupported.most_common():
            lines.append(f"  unsupported {k:6d}  {why}")
        return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--out", default="fuzz_out")
    ap.add_argument("--state", help="resume the run saved in this state file (its seed, range, --only and "
                                    "--max-steps; edit its 'stop' to extend it)")
    ap.add_argument("--replay", help="re-check the reproducers in this failures.json")
    ap.add_argument("--only", nargs="*", help="check only these relations")
    ap.add_argument("--max-steps", type=int, default=5)
    ap.add_argument("--every", type=float, default=30.0, help="seconds between progress lines and state saves")
    a = ap.parse_args(argv)
    if a.count < 0 or a.start < 0 or a.max_steps < 1:
        ap.error("--start and --count must be >= 0 and --max-steps >= 1")
    if a.replay:
        with open(a.replay) as fh:
            bad = 0
            for rec in json.load(fh):
                if "program" not in rec:
                    continue
                res = FC.check_program(rec["program"], only={rec["relation"]})
                still = rec["relation"] in res["fail"]
                bad += still
                print(("STILL FAILS " if still else "now passes  ") + rec["relation"] + "\n" + rec["description"])
        return 1 if bad else 0
    if a.state:
        run = Run.load(a.state)
    else:
        run = Run(a.seed, a.start, a.start + a.count, a.out)
        run.only, run.max_steps = (set(a.only) if a.only else None), a.max_steps
    last = t0 = time.perf_counter()
    base = run.seconds
    while run.next < run.stop:
        prog = FP.draw_program(run.seed, run.next, run.max_steps)
        run.record(prog, FC.check_program(prog, run.only))
        run.next += 1
        now = time.perf_counter()
        run.seconds = base + now - t0
        if now - last >= a.every:
            last = now
            run.save()
            print(f"[{time.strftime('%H:%M:%S')}] seed {run.seed} next {run.next}/{run.stop}: {run.programs} "
                  f"programs, {run.programs / run.seconds:.1f}/s, {sum(run.fail.values())} disagreements",
                  flush=True)
    run.save()
    print(run.summary(), flush=True)
    return 1 if run.fail else 0


if __name__ == "__main__":
    sys.exit(main())
