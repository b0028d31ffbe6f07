"""Newton-CG on the extended Rosenbrock function, n = 10^4, end to end: compiled replay against eager (issue 14).

    python benchmarks/minimize_jit.py            # about 20 s

Runs ``hd.optimize.minimize(f, x0, method="Newton-CG")`` with ``compiled=True`` (the default: value-and-gradient
and Hessian-vector products replayed by ``hd.jit``) and with ``compiled=False`` in its two eager Hessian modes
(``"operator"``, the eager default: one linearization per point; ``"hvp"``: a fresh forward-over-reverse pass per
product). Pinned to one core, one BLAS thread, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset before numpy loads; each
configuration is run 7 times in alternation and the minimum thread CPU time is reported (the first compiled run,
which records, is included in every compiled sample: each sample is a fresh ``minimize`` call). Checks that the
iterates are the same: the same number of iterations and exactly the same solution (np.array_equal) as the eager ``"hvp"`` mode,
which computes the same products.
"""
from __future__ import annotations

import os
import sys
import time

for _k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_k, None)
for _k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_k] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import problems as P  # noqa: E402

import hodiff as hd  # noqa: E402


def main():
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    n = 10_000
    f = lambda x: P.p2_f(x, np)   # noqa: E731
    x0 = np.zeros(n)
    configs = {"compiled (default)": dict(compiled=True),
               "eager, hessian='operator' (eager default)": dict(compiled=False, hessian="operator"),
               "eager, hessian='hvp'": dict(compiled=False, hessian="hvp")}
    best = {k: float("inf") for k in configs}
    res = {}
    for _ in range(7):
        for name, kw in configs.items():
            t0 = time.thread_time()
            r = hd.optimize.minimize(f, x0, method="Newton-CG", **kw)
            best[name] = min(best[name], time.thread_time() - t0)
            res[name] = r
    comp, op, hv = (res[k] for k in configs)
    assert comp.success and comp.compile_fallback is None
    same = comp.nit == hv.nit and np.array_equal(comp.x, hv.x)
    print(f"Newton-CG, extended Rosenbrock n = {n}, from zeros: {comp.nit} iterations, "
          f"{comp.n_value_and_grad} gradients, {comp.n_hessp} Hessian-vector products\n")
    print("| configuration | time (min of 7) | compiled is faster by |")
    print("|---|---|---|")
    for name in configs:
        ratio = best[name] / best["compiled (default)"]
        print(f"| {name} | {best[name] * 1e3:.1f} ms | {ratio:.2f}x |")
    print(f"\nsame iterates as eager hessian='hvp' (nit, and x by np.array_equal): {same}; "
          f"eager 'operator' mode: nit {op.nit}, max |x - x_compiled| = {np.max(np.abs(op.x - comp.x)):.1e}")


if __name__ == "__main__":
    main()
