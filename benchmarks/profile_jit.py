"""Where the time of a compiled program goes: each line of the generated code timed (issue 14's misses).

    python benchmarks/profile_jit.py            # P2 HVP at n = 10^6, 31 MiB allocator warm-up; about 10 s
    python benchmarks/profile_jit.py --p4       # the dense Hessian of P4 at n = 500

Pinned to one core with one BLAS thread (OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset). Runs ``hd.jit`` of
``hd.hvp`` on the extended Rosenbrock function, then re-executes the program's generated source with a clock read
between lines (the program itself is not changed) and prints each line's minimum over 30 runs beside the
hand-written H v of ``problems.py`` timed the same way, line by line.
"""
from __future__ import annotations

import os
import sys
import time

for _k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_k, None)
os.environ["OPENBLAS_NUM_THREADS"] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import problems as P  # noqa: E402

import hodiff as hd  # noqa: E402


def timed_lines(source, scope, args, runs=30):
    lines = source.splitlines()
    body = ["    _T = []", "    _t = _pc()"]
    for ln in lines[1:-1]:
        body += [ln, "    _T.append(_pc() - _t); _t = _pc()"]
    body += ["    " + lines[-1].strip().replace("return ", "_r = "), "    _T.append(_pc() - _t)", "    return _T"]
    g = dict(scope)
    g["_pc"] = time.perf_counter
    exec(compile(lines[0] + "\n" + "\n".join(body), "<timed>", "exec"), g)   # noqa: S102
    fn = g[lines[0].split()[1].split("(")[0]]
    best = None
    for _ in range(runs):
        t = fn(*args)
        best = t if best is None else [min(a, b) for a, b in zip(best, t)]
    return list(zip([ln.strip() for ln in lines[1:]], best))


def main():
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    block = np.ones(31 * (1 << 17))
    del block
    if "--p4" in sys.argv:
        A, x = P.p4_data(500)
        h = hd.jit(hd.hessian(lambda x: P.p4_f(x, np, A)))
        for _ in range(3):
            h(x)
        prog = h.programs(x)[0]
        rows = timed_lines(prog.source, prog._fn.__globals__, (x,), runs=10)
        print(f"hd.jit dense Hessian program, P4 n = 500: {sum(t for _, t in rows) * 1e3:.2f} ms in its lines\n")
        for line, t in rows:
            print(f"{t * 1e3:8.3f} ms  {line}")
        return
    x, v = P.p2_data(10 ** 6)
    f = lambda x: P.p2_f(x, np)   # noqa: E731
    h = hd.jit(lambda x, v: hd.hvp(f, x, v))
    for _ in range(3):
        h(x, v)
    prog = h.programs(x, v)[0]
    rows = timed_lines(prog.source, prog._fn.__globals__, (x, v))
    total = sum(t for _, t in rows)
    print(f"hd.jit HVP program, n = 10^6: {total * 1e3:.2f} ms in its lines\n")
    for line, t in rows:
        print(f"{t * 1e3:8.3f} ms  {line}")
    src = ("def hand(x, v):\n    xo = x[0::2]\n    xe = x[1::2]\n    vo = v[0::2]\n    ve = v[1::2]\n"
           "    out = np.empty_like(x)\n    t = -400.0 * xo\n"
           "    out[0::2] = (1200.0 * xo * xo - 400.0 * xe + 2.0) * vo + t * ve\n"
           "    out[1::2] = t * vo + 200.0 * ve\n    return out\n")
    rows = timed_lines(src, {"np": np}, (x, v))
    print(f"\nhand-written H v (problems.p2_hand_hvp): {sum(t for _, t in rows) * 1e3:.2f} ms\n")
    for line, t in rows:
        print(f"{t * 1e3:8.3f} ms  {line}")
    t0 = time.perf_counter()
    for _ in range(20):
        f(x)
    print(f"\nf: {(time.perf_counter() - t0) / 20 * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
