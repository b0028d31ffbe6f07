"""Cost of a sparse Hessian (``hodiff.sparse``) vs the dense ``hd.hessian`` vs one ``hd.grad``.

    python benchmarks/sparse_hessian.py                      # extended Rosenbrock, n = 1e3, 1e4, 1e5 (~1 min)
    python benchmarks/sparse_hessian.py --problem laplacian  # also: chained (chained Rosenbrock)
    python benchmarks/sparse_hessian.py --quick              # fewer repeats, dense only at n = 1,000

Reported per n (median of repeated calls, one BLAS thread):

* ``grad``: one ``hd.grad(f)(x)``; ``hvp``: one ``hd.hvp(f, x, v)`` (a sparse Hessian with k colours costs about
  k of these, in one batched pass);
* ``pattern``: ``hessian_pattern`` (index-set propagation through f), and ``colouring``: the greedy colouring; both
  are paid once and reused by a ``SparseHessian`` object;
* ``sparse H``: one evaluation of a ``SparseHessian`` (one compressed forward-over-reverse pass with as many
  tangents as colours, and the recovery into a CSR matrix), also as a multiple of ``grad``;
* ``dense H``: ``hd.hessian(f)(x)`` where it fits (n <= 10,000; at n = 10,000 with ``chunk_size=1000``, since all
  10,000 tangents at once would need several GB per intermediate), measured once.

The sparse result is checked against the dense Hessian where that is computed, and against ``hd.hvp`` otherwise.
The issue's target: at n = 100,000 the sparse Hessian costs a small constant times one gradient.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

for _k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")

import numpy as np

import hodiff as hd
from hodiff.sparse import SparseHessian, color_columns, hessian_pattern


def ext_rosenbrock(x):
    return np.sum(100.0 * (x[1::2] - x[::2] ** 2) ** 2 + (1.0 - x[::2]) ** 2)


def chained_rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def laplacian(x):
    return np.sum((x[1:] - x[:-1]) ** 2) + np.sum(x ** 4)


PROBLEMS = {"extended": ("extended Rosenbrock", ext_rosenbrock), "chained": ("chained Rosenbrock", chained_rosenbrock),
            "laplacian": ("1-D Laplacian energy + sum x^4", laplacian)}


def timeit(fn, budget, min_runs=3, max_runs=200):
    """Median seconds per call over at least ``min_runs`` calls and about ``budget`` seconds."""
    fn()
    times = []
    t_start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - t_start < budget and len(times) < max_runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt(t):
    if t is None:
        return "—"
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", choices=sorted(PROBLEMS), default="extended")
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    ap.add_argument("--dense-max", type=int, default=10_000, help="largest n for the dense Hessian")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    budget = 0.2 if args.quick else 1.0
    dense_max = min(args.dense_max, 1_000) if args.quick else args.dense_max
    title, f = PROBLEMS[args.problem]
    rng = np.random.default_rng(0)
    rows = []
    for n in args.sizes:
        x = rng.uniform(-1.5, 1.5, size=n)
        g = hd.grad(f)
        t_grad = timeit(lambda g=g, x=x: g(x), budget)
        v0 = rng.normal(size=n)
        t_hvp = timeit(lambda x=x, v0=v0: hd.hvp(f, x, v0), budget)
        t_pat = timeit(lambda x=x: hessian_pattern(f, x), budget, min_runs=1)
        P = hessian_pattern(f, x)
        t_col = timeit(lambda P=P: color_columns(P), budget, min_runs=1)
        sh = SparseHessian(f, x, pattern=P)
        H = sh(x)
        t_sparse = timeit(lambda sh=sh, x=x: sh(x), budget)
        t_dense = None
        if n <= dense_max:
            chunk = None if n <= 2_000 else 1_000
            t0 = time.perf_counter()
            Hd = hd.hessian(f, chunk_size=chunk)(x)
            t_dense = time.perf_counter() - t0
            err = np.abs(H.toarray() - Hd).max() / max(np.abs(Hd).max(), 1.0)
            del Hd
        else:
            v = rng.normal(size=n)
            hv = hd.hvp(f, x, v)
            err = np.abs(H @ v - hv).max() / max(np.abs(hv).max(), 1.0)
        if err > 1e-10:
            raise SystemExit(f"n = {n}: the sparse Hessian differs from the reference by {err:.3g} (relative)")
        rows.append((n, sh.ncolors, P.nnz, t_grad, t_hvp, t_pat, t_col, t_sparse, t_dense))
        print(f"  n = {n}: done", file=sys.stderr)

    cmd = "python benchmarks/sparse_hessian.py" + (" " + " ".join(sys.argv[1:]) if argv is None and sys.argv[1:] else "")
    print(f"\n{title}; `{cmd}`; median times, one thread\n")
    print("| n | colours | nnz(H) | grad | hvp | pattern | colouring | sparse H | sparse H / grad | sparse H / hvp "
          "| dense H | dense / sparse |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, k, nnz, tg, th, tp, tc, ts, td in rows:
        ratio = f"{td / ts:.3g}x" if td is not None else "—"
        print(f"| {n:,} | {k} | {nnz:,} | {fmt(tg)} | {fmt(th)} | {fmt(tp)} | {fmt(tc)} | {fmt(ts)} | "
              f"{ts / tg:.2g}x | {ts / th:.2g}x | {fmt(td)} | {ratio} |")
    print("\nDense H at n > 2,000 is computed in chunks of 1,000 tangents (`chunk_size=1000`) and timed once; "
          "'—': not computed (n above --dense-max).")


if __name__ == "__main__":
    main()
