"""What each ``hodiff.scipy`` function differentiates, found by running it: the table of the docs page "SciPy
functions" (``docs/scipy.md``, filled in by ``docs/hooks.py``).

Where it sits: beside the public submodules of :mod:`hodiff.scipy`, which it only calls. Nothing here is
hand-written about derivatives. The declarations below give, for each function, a sample call (plain numbers of a
valid input) and nothing else; :func:`probe` then traces each floating argument in turn and records what happens:

* **forward**: ``hd.jvp``, compared with a central finite difference of the function's value;
* **reverse**: ``hd.grad``, its projection on the same direction compared with the same finite difference;
* **Taylor**: ``hd.taylor`` to order 3, its first coefficient compared with the forward result;
* **2nd order**: ``hd.hvp`` (forward over reverse), ``v^T H v`` compared with a central finite difference of the
  gradient and with twice the second Taylor coefficient (when Taylor mode works).

An argument whose derivative hodiff refuses (a :class:`hodiff.HodiffError`, as for the shape parameter of
``gammainc``) is listed with the first sentence of that error. Integer arguments (an order, a count) are listed
as integers. A disagreement is recorded as ``mismatch``; the tests assert that the table holds none.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.special as _sps

import hodiff as hd

from . import integrate, linalg, optimize, signal, special, stats

__all__ = ["Entry", "Probe", "entries", "probe", "probe_all", "markdown"]

_RTOL = 1e-5   # finite differences of a smooth function at step 1e-5: truncation ~1e-10, rounding ~1e-11


@dataclass
class Entry:
    """One row of the table: ``call(*samples)`` is the function on a sample input.

    ``names`` are the argument names shown; a sample that is a Python ``int`` is an integer argument (not traced).
    ``out`` maps the function's result to one array (the solution of ``root``, the factor of ``cho_factor``).
    ``direction`` may fix the direction of an argument (``dirichlet``'s ``x`` must stay on the simplex).
    """

    module: str
    name: str
    call: Callable[..., Any]
    names: tuple[str, ...]
    samples: tuple[Any, ...]
    out: Callable[[Any], Any] = staticmethod(lambda y: y)
    note: str = ""


@dataclass
class Probe:
    """What :func:`probe` found for one argument: ``status`` is ``ok``, ``integer``, ``refused`` or ``mismatch``/
    ``error``; ``modes`` maps ``forward``/``reverse``/``Taylor``/``2nd order`` to ``ok``, ``refused``,
    ``mismatch`` or ``error``; ``message`` the first line of the first refusal or error."""

    arg: str
    status: str
    modes: dict = field(default_factory=dict)
    message: str = ""


# ------------------------------------------------------------------------------------------------------------------
# sample calls

_SPECIAL_SAMPLES = {   # scalar sample per argument; the default is 0.7 for every argument
    "betainc": (2.0, 3.0, 0.4), "betaincinv": (2.0, 3.0, 0.4), "binom": (5.3, 2.1), "boxcox": (1.3, 0.4),
    "erfcinv": (0.6,), "expn": (2, 0.7), "gammainc": (2.0, 1.3), "gammaincc": (2.0, 1.3),
    "gammaincinv": (2.0, 0.3), "gammainccinv": (2.0, 0.4), "iv": (1.5, 0.7), "ive": (1.5, 0.7), "jn": (2, 2.3),
    "jv": (1.5, 2.3), "kn": (2, 0.7), "kv": (1.5, 0.7), "kve": (1.5, 0.7), "logit": (0.3,), "ndtri": (0.3,),
    "ndtri_exp": (-1.0,), "polygamma": (1, 0.7), "yn": (2, 2.3), "yv": (1.5, 2.3), "zeta": (3.0, 1.5),
    "multigammaln": (3.0, 2),
}
_VECTOR_SPECIAL = {"logsumexp": ("a", "b"), "softmax": ("x",), "log_softmax": ("x",)}
_V = np.array([0.1, 0.5, -0.3])


def _special_entries() -> list[Entry]:
    rows = []
    for name in special.__all__:
        fn = getattr(special, name)
        if not callable(fn) or inspect.isclass(fn):
            continue
        if name in _VECTOR_SPECIAL:
            names = _VECTOR_SPECIAL[name]
            if name == "logsumexp":
                rows.append(Entry("special", name, lambda a, b: special.logsumexp(a, b=b), names,
                                  (_V, np.array([1.0, 2.0, 0.5]))))
            else:
                rows.append(Entry("special", name, fn, names, (_V,)))
            continue
        try:
            params = [p for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
        except (TypeError, ValueError):
            params = []
        names = tuple(p.name for p in params) or ("x",)
        if name == "zeta":
            names = ("x", "q")
        scalars: tuple[Any, ...] = _SPECIAL_SAMPLES.get(name, (0.7,) * len(names))
        # elementwise functions are probed on a small array (so broadcasting is exercised too)
        samples = tuple(s if isinstance(s, int) else np.array([s, 1.1 * s]) for s in scalars)
        rows.append(Entry("special", name, fn, names, samples))
    return rows


_STATS = {   # distribution -> (shape samples, x sample, kind); loc/scale samples follow
    "norm": ((), 0.3), "expon": ((), 1.4), "laplace": ((), 0.8), "logistic": ((), 0.3), "cauchy": ((), 0.3),
    "uniform": ((), 0.6), "lognorm": ((0.6,), 1.3), "t": ((3.5,), 0.3), "gamma": ((2.5,), 1.4),
    "chi2": ((3.5,), 1.4), "beta": ((2.5, 1.5), 0.4),
    "poisson": ((2.5,), 2), "binom": ((6, 0.35), 2), "nbinom": ((3.5, 0.4), 2), "geom": ((0.3,), 2),
    "bernoulli": ((0.3,), 0),
}
_CONT_METHODS = ("logpdf", "pdf", "logcdf", "cdf", "logsf", "sf")
_DISC_METHODS = ("logpmf", "pmf", "logcdf", "cdf", "logsf", "sf")


def _stats_entries() -> list[Entry]:
    rows = []
    for name, (shapes, x) in _STATS.items():
        dist = getattr(stats, name)
        discrete = isinstance(x, int)
        extra = ("loc",) if discrete else ("loc", "scale")
        extra_samples = (0,) if discrete else (0.1, 1.3)
        names = ("k" if discrete else "x",) + tuple(dist.shapes) + extra
        if name == "uniform":
            extra_samples = (0.1, 1.3)   # x = 0.6 inside [0.1, 1.4]
        samples = (x,) + tuple(s if isinstance(s, int) else float(s) for s in shapes) + extra_samples
        for method in (_DISC_METHODS if discrete else _CONT_METHODS):
            rows.append(Entry("stats", f"{name}.{method}", getattr(dist, method), names, samples))
    mvn = stats.multivariate_normal
    cov = np.array([[1.3, 0.4], [0.4, 0.9]])
    for method in ("logpdf", "pdf"):
        # the lower triangle of cov is what scipy reads: probe it through a symmetric parametrisation
        rows.append(Entry("stats", f"multivariate_normal.{method}",
                          lambda x, m, c, _f=getattr(mvn, method): _f(x, m, hd.add(c, np.swapaxes(c, 0, 1))),
                          ("x", "mean", "cov"), (np.array([0.3, -0.2]), np.array([0.1, 0.2]), cov / 2),
                          note="cov probed as C + C^T"))
    for method in ("logpdf", "pdf"):
        rows.append(Entry("stats", f"dirichlet.{method}", getattr(stats.dirichlet, method), ("x", "alpha"),
                          (np.array([0.2, 0.3]), np.array([1.5, 2.0, 2.5])),
                          note="x given by its first K-1 entries (the last is 1 - their sum)"))
    return rows


def _spd(n: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a @ a.T / n + np.eye(n)


_A = _spd(3, 0)
_L = np.linalg.cholesky(_A)
_B = np.array([0.3, -1.1, 0.7])
_M = _A + np.array([[0.0, 0.3, 0.0], [-0.2, 0.0, 0.1], [0.0, 0.4, 0.0]])   # not symmetric


def _rhs(y, t, k):
    return hd.multiply(-k, hd.add(y, hd.multiply(0.1, hd.multiply(y, y))))


def _rhs_ivp(t, y, k):
    return _rhs(y, t, k)


def _root_fun(x, a):
    return hd.subtract(hd.add(hd.multiply(x, x), x), a)


def _solver_entries() -> list[Entry]:
    la, sg, ig, op = linalg, signal, integrate, optimize
    t = np.array([0.0, 0.5, 1.0])
    return [
        Entry("linalg", "solve_triangular", lambda a, b: la.solve_triangular(a, b, lower=True), ("a", "b"),
              (_L, _B), note="lower=True"),
        Entry("linalg", "cholesky", lambda a: la.cholesky(a, lower=True), ("a",), (_A,), note="lower=True"),
        Entry("linalg", "cho_factor", lambda a: la.cho_factor(a, lower=True), ("a",), (_A,),
              out=lambda r: r[0], note="lower=True; the factor"),
        Entry("linalg", "cho_solve", lambda c, b: la.cho_solve((c, True), b), ("c", "b"), (_L, _B),
              note="c_and_lower = (c, True)"),
        Entry("linalg", "solve", la.solve, ("a", "b"), (_M, _B)),
        Entry("linalg", "solve (assume_a='pos')", lambda a, b: la.solve(a, b, assume_a="pos"), ("a", "b"), (_A, _B)),
        Entry("linalg", "inv", la.inv, ("a",), (_M,)),
        Entry("linalg", "det", la.det, ("a",), (_M,)),
        Entry("linalg", "lu_factor", la.lu_factor, ("a",), (_M,), out=lambda r: r[0], note="the packed LU factor"),
        Entry("linalg", "lu_solve", lambda a, b: la.lu_solve(la.lu_factor(a), b), ("a", "b"), (_M, _B),
              note="a through lu_factor"),
        Entry("linalg", "eigh", lambda a: la.eigh(a, eigvals_only=True), ("a",), (_A,), note="eigenvalues"),
        Entry("linalg", "expm", la.expm, ("a",), (_M / 3,)),
        Entry("linalg", "sqrtm", la.sqrtm, ("a",), (_A,), note="symmetric positive definite a"),
        Entry("linalg", "solve_sylvester", la.solve_sylvester, ("a", "b", "q"), (_A, _M, _spd(3, 1))),
        Entry("linalg", "block_diag", la.block_diag, ("A", "B"), (_A[:2, :2], _M)),
        Entry("signal", "convolve", sg.convolve, ("in1", "in2"), (_V, _B)),
        Entry("signal", "correlate", sg.correlate, ("in1", "in2"), (_V, _B)),
        Entry("signal", "fftconvolve", sg.fftconvolve, ("in1", "in2"), (_V, _B)),
        Entry("integrate", "odeint", lambda y0, tt, k: ig.odeint(_rhs, y0, tt, args=(k,)), ("y0", "t", "args"),
              (np.array([1.0, 0.5]), t, 0.8)),
        Entry("integrate", "solve_ivp", lambda y0, te, k: ig.solve_ivp(_rhs_ivp, (0.0, 1.0), y0, t_eval=te,
                                                                       args=(k,), rtol=1e-10, atol=1e-12),
              ("y0", "t_eval", "args"), (np.array([1.0, 0.5]), np.array([0.2, 0.5, 0.9]), 0.8), out=lambda r: r.y),
        Entry("optimize", "root", lambda a: op.root(_root_fun, np.array([0.5, 0.5]), args=(a,), tol=1e-13),
              ("args",), (np.array([0.7, 1.9]),), out=lambda r: r.x),
        Entry("optimize", "rosen", op.rosen, ("x",), (np.array([0.3, 0.8, -0.4]),)),
        Entry("optimize", "rosen_der", op.rosen_der, ("x",), (np.array([0.3, 0.8, -0.4]),)),
        Entry("optimize", "rosen_hess", op.rosen_hess, ("x",), (np.array([0.3, 0.8, -0.4]),)),
        Entry("optimize", "rosen_hess_prod", op.rosen_hess_prod, ("x", "p"),
              (np.array([0.3, 0.8, -0.4]), np.array([1.0, -0.5, 0.2]))),
    ]


def entries() -> list[Entry]:
    """Every row of the table, in the order of the page: special, stats, linalg, signal, integrate, optimize."""
    return _special_entries() + _stats_entries() + _solver_entries()


# ------------------------------------------------------------------------------------------------------------------
# probing

def _close(x: float, ref: float) -> bool:
    return bool(np.isfinite(x)) and abs(x - ref) <= _RTOL * max(1.0, abs(ref))


def _first_line(e: BaseException) -> str:
    msg = str(e).strip().split("\n")[0]
    return f"{type(e).__name__}: {msg}"


def _attempt(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except (hd.HodiffError, NotImplementedError) as e:   # hodiff's own refusals: a clear error, never a number
        return "refused", _first_line(e)
    except Exception as e:  # noqa: BLE001 - recorded in the table and failed by the tests, never hidden
        return "error", _first_line(e)


def _as_sample(s: Any) -> Any:
    return s if isinstance(s, int) else np.asarray(s, dtype=float)


def probe(entry: Entry, seed: int = 0) -> list[Probe]:
    """Trace each floating argument of ``entry`` in turn and check every mode (see the module docstring)."""
    rng = np.random.default_rng(seed)
    args = [_as_sample(s) for s in entry.samples]
    with np.errstate(all="ignore"):
        y0 = np.asarray(entry.out(entry.call(*args)), dtype=float)
    w = rng.standard_normal(y0.shape)
    found = []
    for i, arg in enumerate(entry.names):
        if isinstance(args[i], int):
            found.append(Probe(arg, "integer"))
            continue
        found.append(_probe_arg(entry, args, i, w, rng.standard_normal(np.shape(args[i]))))
    return found


def _probe_arg(entry: Entry, args: list, i: int, w: np.ndarray, v: np.ndarray) -> Probe:
    def s(a):
        xs = list(args)
        xs[i] = a
        return hd.sum(hd.multiply(entry.out(entry.call(*xs)), w))

    a, h = args[i], 1e-5
    fd1 = (float(s(a + h * v)) - float(s(a - h * v))) / (2 * h)
    modes: dict[str, str] = {}
    messages = []

    def judge(mode, status, value, ref):
        if status == "ok" and not _close(value, ref):
            status, value = "mismatch", f"{mode}: {value!r} against {ref!r}"
        modes[mode] = status
        if status != "ok":
            messages.append(value)

    st, tf = _attempt(lambda: float(hd.jvp(s, (a,), (v,))[1]))
    judge("forward", st, tf, fd1)
    st, tr = _attempt(lambda: float(np.sum(np.asarray(hd.grad(s)(a)) * v)))
    judge("reverse", st, tr, fd1)
    st, c = _attempt(lambda: [float(ci) for ci in hd.taylor(s, a, v, order=3)])
    judge("Taylor", st, c[1] if st == "ok" else c, fd1)

    def directional(b):   # the first directional derivative, by whichever mode works
        if modes["reverse"] == "ok":
            return float(np.sum(np.asarray(hd.grad(s)(b)) * v))
        return float(hd.jvp(s, (b,), (v,))[1])

    if "ok" in (modes["forward"], modes["reverse"]):
        fd2 = (directional(a + h * v) - directional(a - h * v)) / (2 * h)
        st, q = _attempt(lambda: float(np.sum(np.asarray(hd.hvp(s, a, v)) * v)))
        if st == "ok" and modes["Taylor"] == "ok" and not _close(2 * c[2], q):
            st, q = "mismatch", f"Taylor c2 {2 * c[2]!r} against HVP {q!r}"
        judge("2nd order", st, q, fd2)
    else:
        modes["2nd order"] = modes["forward"]
    worst = ("mismatch", "error", "refused")
    status = "ok" if modes["forward"] == modes["reverse"] == "ok" else next(
        (x for x in worst if x in (modes["forward"], modes["reverse"])), "ok")
    return Probe(entry.names[i], status, modes, messages[0] if messages else "")


def probe_all(seed: int = 0) -> list[tuple[Entry, list[Probe]]]:
    """:func:`probe` on every entry of :func:`entries`."""
    return [(e, probe(e, seed)) for e in entries()]


# ------------------------------------------------------------------------------------------------------------------
# the Markdown table

_MODES = ("forward", "reverse", "Taylor", "2nd order")
_INTRO = {
    "special": "`hodiff.scipy.special`",
    "stats": "`hodiff.scipy.stats` (one row per distribution and group of methods that behave alike)",
    "linalg": "`hodiff.scipy.linalg`",
    "signal": "`hodiff.scipy.signal`",
    "integrate": "`hodiff.scipy.integrate`",
    "optimize": "`hodiff.scipy.optimize`",
}


def _reason(message: str) -> str:
    """A short why for a refusal: the primitive without a Taylor rule, or the parenthesised reason of the error."""
    import re

    m = re.search(r"no rule for the primitive '(\w+)'", message)
    if m:
        return f"no Taylor rule for `{m.group(1)}`"
    m = re.search(r"\((.*?)\)", message)
    return m.group(1) if m else message.split(": ", 1)[-1]


def _mode_cell(probes: list[Probe], mode: str) -> str:
    live = [p for p in probes if p.status == "ok"]
    good = [p.arg for p in live if p.modes.get(mode) == "ok"]
    if live and len(good) == len(live):
        return "✓"
    bad = [p for p in live if p.modes.get(mode) != "ok"]
    why = "; ".join(sorted({_reason(p.message) for p in bad if p.message}))
    if not good:
        return f"— ({why})" if why else "—"
    return f"in {', '.join(f'`{a}`' for a in good)}" + (f" (not the others: {why})" if why else "")


def _not_cell(probes: list[Probe]) -> str:
    why: dict[str, list[str]] = {}
    for p in probes:
        if p.status != "ok":
            reason = "integer" if p.status == "integer" else _reason(p.message) if p.status == "refused" else p.status
            why.setdefault(reason, []).append(f"`{p.arg}`")
    return "; ".join(f"{', '.join(args)} ({reason})" for reason, args in why.items()) or "—"


def _row(name: str, probes: list[Probe]) -> list[str]:
    diff = ", ".join(f"`{p.arg}`" for p in probes if p.status == "ok") or "—"
    return [name, diff, _not_cell(probes)] + [_mode_cell(probes, m) for m in _MODES]


def _plain_call(name: str) -> str:
    """How a plain ``scipy.special.NAME(x)`` call on a hodiff value fares, from numpy's dispatch registries."""
    from .._src.numpy.dispatch import HANDLED_FUNCTIONS, HANDLED_UFUNCS, NONDIFF

    f = getattr(_sps, name, None)
    if f is None:
        return "not in scipy"
    if f in NONDIFF:
        return "works (plain value, no derivative)"
    if f in HANDLED_UFUNCS or f in HANDLED_FUNCTIONS:
        return "works"
    return "use `hodiff.scipy.special`"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(r) + " |" for r in rows])


def markdown(seed: int = 0, strict: bool = True) -> str:
    """The tables of the page "SciPy functions", one per submodule, from :func:`probe_all`.

    With ``strict`` (the docs build), a disagreement or an unexpected crash raises ``RuntimeError`` listing them,
    so the page cannot be built around a wrong derivative.
    """
    found = probe_all(seed)
    bad = [f"{e.module}.{e.name}({p.arg}): {p.message}" for e, ps in found for p in ps
           if {p.status, *p.modes.values()} & {"mismatch", "error"}]
    if strict and bad:
        raise RuntimeError("hodiff.scipy functions whose derivatives disagree or crash:\n" + "\n".join(bad))
    head = ["function", "differentiable in", "not differentiable in"] + list(_MODES)
    out = []
    counts = {}
    for module in _INTRO:
        rows = [(e, ps) for e, ps in found if e.module == module]
        out += ["", f"### {_INTRO[module]}", ""]
        if module == "special":
            body = []
            for e, ps in rows:
                cells = _row("", ps)[1:]
                plain = _plain_call(e.name)
                if "no derivative" in plain:   # piecewise constant: its derivative is 0 where it exists
                    cells[0] = f"{cells[0]} (derivative 0: piecewise constant)"
                body.append([f"`{e.name}`"] + cells + [plain])
            out += _table(head + ["plain `scipy.special` call"], body)
            counts[module] = len(rows)
        elif module == "stats":
            groups: dict[tuple[str, tuple, str], list[str]] = {}
            for e, ps in rows:
                dist, method = e.name.split(".")
                key = (dist, tuple(_row("", ps)[1:]), e.note)
                groups.setdefault(key, []).append(method)
            body = [[f"`{dist}`: " + ", ".join(f"`{m}`" for m in methods)] + list(cells)
                    + [note or ""] for (dist, cells, note), methods in groups.items()]
            out += _table(head + ["note"], body)
            counts[module] = len({e.name.split(".")[0] for e, _ in rows})
        else:
            body = [_row(f"`{e.name}`", ps) + [e.note] for e, ps in rows]
            out += _table(head + ["note"], body)
            counts[module] = len({e.name.split(" ")[0] for e, _ in rows})
    total = ", ".join(f"{n} in `{m}`" for m, n in counts.items())
    return f"Functions probed: {total}" + ("; `stats` counts distributions." if "stats" in counts else ".") + \
        "\n" + "\n".join(out) + "\n"
