"""Random programs over the whole primitive table, for the differential fuzzer (``benchmarks/fuzz.py``).

Where it sits: a benchmark-side helper, imported by ``benchmarks/fuzz_checks.py`` and ``tests/test_fuzz_sample.py``;
it uses only hodiff's public names (``hd.PRIMITIVES``, ``hd.bind``, ``hd.erf``, ``hd.expit``).

A program is a list of steps. Step ``j`` applies one primitive of ``hd.PRIMITIVES`` to arguments drawn from the
entry's own ``domain(rng)`` (the inputs the table's tests use), with every differentiable argument moved by a
smooth, bounded function of an earlier value ``u`` (the input ``x`` or an earlier step's output)::

    arg = a0 + c * reshape(P @ squash(g * ravel(u)), a0.shape)

``squash`` is one of ``tanh, sin, erf, 2/pi arctan, expit - 1/2`` (all with values in [-1, 1] and slope <= 1) and
``P`` is a fixed random matrix whose rows have unit L1 norm, so ``|arg - a0| <= c`` entrywise *whatever* ``x`` is:
every argument stays in the box of half-width ``c = 0.05`` around a valid domain point, inside the margins the
table's domains keep for their own finite differences (0.1). The gain ``g = 1 / max(1, max |u|)`` at the program's
point (a constant of the step) keeps the squash out of saturation there. The program's vector output ``y`` is the
concatenation of every value no later step consumed; its scalar output is ``s = sum(w * y)`` for fixed weights.

The same interpreter runs on hodiff's boxes (``np.tanh`` etc. dispatch to hodiff) and on plain arrays (``hd.bind``
on plain arrays calls the primitive's ``impl``): the latter is the finite-difference oracle's function.

Programs are JSON-able (``to_json``/``from_json``): a step holds seeds, not arrays, and the mixing matrix ``P`` is
rebuilt from the step's seed and the sizes, so a shrinker can delete a step and rewire its consumers.
"""
from __future__ import annotations

import functools

import numpy as np

import hodiff as hd

NAMES = sorted(hd.PRIMITIVES)
# Half-width of the box around a domain point that a differentiable argument can move in (see the module docs).
C_MIX = 0.05
SQUASH = ("tanh", "sin", "erf", "arctan", "expit")
MAX_OUT = 48          # values larger than this are not kept as outputs (Jacobians stay small)


def squash(name: str, u):
    """A smooth function with values in [-1, 1] and slope at most 1."""
    if name == "tanh":
        return np.tanh(u)
    if name == "sin":
        return np.sin(u)
    if name == "erf":
        return hd.erf(u)
    if name == "arctan":
        return np.arctan(u) * (2 / np.pi)
    if name == "expit":
        return hd.expit(u) - 0.5
    raise ValueError(name)


def diff_args(prim, args) -> list[int]:
    """Positions of the differentiable (floating-point, with a JVP rule) arguments, as in the table's tests."""
    return [i for i, a in enumerate(args) if prim.jvp[i] is not None and np.asarray(a).dtype.kind == "f"]


@functools.lru_cache(maxsize=4096)
def _mixer(pseed: int, i: int, m: int, k: int) -> np.ndarray:
    """The fixed ``(m, k)`` matrix with unit-L1 rows that maps ``k`` squashed inputs to ``m`` argument entries."""
    rng = np.random.default_rng([pseed, i, m, k])
    P = rng.standard_normal((m, k))
    return P / np.sum(np.abs(P), axis=1, keepdims=True)


@functools.lru_cache(maxsize=4096)
def _domain(name: str, dseed: int):
    prim = hd.PRIMITIVES[name]
    args, params = prim.domain(np.random.default_rng(dseed))
    for a in args:                      # cached: any write to a domain point would be a bug, so forbid it
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return prim, tuple(args), params


def domain(step: dict):
    prim, args, params = _domain(step["prim"], step["dseed"])
    return prim, list(args), dict(params)


def run(prog: dict, x, values: bool = False, set_gains: bool = False):
    """Evaluate ``prog`` at ``x`` (a vector); returns the output vector ``y`` (or every value, if ``values``).

    ``set_gains`` (at the program's own point, when it is built) fixes each step's ``gain``, the factor its source
    is multiplied by before the squash: ``1 / max(1, max |u|)`` at the point, so squash inputs are O(1) there. A
    saturated squash (``expit(30)``) would make derivatives of ~1e-13 whose rules, each correct, differ by
    cancellation in ``1 - expit`` at the 1e-9 level: rounding, not a bug, and no use to a fuzzer.
    """
    vals = [x]
    for step in prog["steps"]:
        prim, args, params = domain(step)
        for i, src, k in zip(diff_args(prim, args), step["src"], range(len(step["src"]))):
            a0 = np.asarray(args[i], dtype=float)
            if set_gains:
                step.setdefault("gain", [1.0] * len(step["src"]))[k] = \
                    1.0 / max(1.0, float(np.max(np.abs(np.asarray(vals[src], dtype=float)), initial=0.0)))
            u = np.ravel(squash(step["mix"], vals[src] * step.get("gain", [1.0] * len(step["src"]))[k]))
            P = _mixer(step["pseed"], i, a0.size, int(np.size(vals[src])))
            args[i] = a0 + C_MIX * np.reshape(P @ u, a0.shape)
        vals.append(hd.bind(prim, *args, **params))
    if values:
        return vals
    outs = [np.ravel(vals[i]) for i in outputs(prog)]
    return outs[0] if len(outs) == 1 else np.concatenate(outs)


def _moved_args(step: dict, vals: list):
    """The step's primitive, its arguments at the point (as ``run`` moves them) and, for each differentiable
    argument, ``(position, source index, |d arg / d source|)``: ``C |P| diag|squash'(g u)| g``."""
    prim, args, params = domain(step)
    moves = []
    for i, src, k in zip(diff_args(prim, args), step["src"], range(len(step["src"]))):
        a0 = np.asarray(args[i], dtype=float)
        g = step.get("gain", [1.0] * len(step["src"]))[k]
        z = np.ravel(np.asarray(vals[src], dtype=float)) * g
        P = _mixer(step["pseed"], i, a0.size, z.size)
        args[i] = a0 + C_MIX * np.reshape(P @ squash(step["mix"], z), a0.shape)
        slope = np.abs(hd.derivative(lambda t: squash(step["mix"], t), 1)(z))
        moves.append((i, src, C_MIX * g * np.abs(P) * slope[None, :]))
    return prim, args, params, moves


def abs_jacobian(prog: dict, x) -> np.ndarray:
    """``M`` with ``M[i, j] = sum over chain-rule paths from x_j to y_i of |product of the local derivatives|``:
    the size of the terms whose sum is the Jacobian entry ``J[i, j]`` (so ``|J| <= M``, with equality when no
    terms cancel). Local derivatives: each mixing layer's, and each primitive's Jacobian in each differentiable
    argument (by ``hd.jacfwd``; only its magnitude is used). A step whose Jacobian cannot be formed (integer or
    complex output) contributes zero: a smaller ``M``, so a stricter check, never a looser one."""
    x = np.asarray(x, dtype=float)
    vals = run(prog, x, values=True)
    A = [np.eye(x.size)]
    for j, step in enumerate(prog["steps"], start=1):
        prim, args, params, moves = _moved_args(step, vals)
        out_size = int(np.size(vals[j]))
        acc = np.zeros((out_size, x.size))
        for i, src, mix in moves:
            try:
                def f(a, i=i):
                    return hd.bind(prim, *args[:i], a, *args[i + 1:], **params)
                jac = np.abs(np.reshape(np.asarray(hd.jacfwd(f)(np.asarray(args[i], dtype=float)), dtype=float),
                                        (out_size, -1)))
            except Exception:                          # noqa: BLE001 -- no Jacobian here: contributes nothing
                continue
            if np.all(np.isfinite(jac)):
                acc += jac @ mix @ A[src]
        A.append(acc)
    return np.concatenate([A[i] for i in outputs(prog)], axis=0)


def outputs(prog: dict) -> list[int]:
    """Indices of the values no step consumed (the input too, when nothing did), small enough to keep."""
    used = {s for step in prog["steps"] for s in step["src"]}
    keep = [j for j in range(len(prog["steps"]) + 1) if j not in used and prog["sizes"][j] <= MAX_OUT]
    return keep or [len(prog["steps"])]


def weights(prog: dict) -> np.ndarray:
    m = sum(prog["sizes"][j] for j in outputs(prog))
    return np.random.default_rng([prog["seed"], prog["index"], 7]).uniform(-1, 1, size=m)


def scalar(prog: dict):
    """``s(x) = sum(w * y(x))``, the scalar program."""
    w = weights(prog)
    return lambda x: np.sum(w * run(prog, x))


def vector(prog: dict):
    return lambda x: run(prog, x)


def point(prog: dict) -> np.ndarray:
    return np.random.default_rng([prog["seed"], prog["index"], 1]).uniform(-1, 1, size=prog["n"])


def direction(prog: dict, k: int = 0) -> np.ndarray:
    return np.random.default_rng([prog["seed"], prog["index"], 2, k]).uniform(-1, 1, size=prog["n"])


def refresh(prog: dict) -> dict:
    """Recompute the value sizes (after a step was removed or rewired)."""
    vals = run(prog, point(prog), values=True, set_gains=True)
    prog["sizes"] = [int(np.size(v)) for v in vals]
    return prog


def draw_program(seed: int, index: int, max_steps: int = 5, names=None) -> dict:
    """Program ``index`` of the stream ``seed``: 1 to ``max_steps`` primitives, each from the whole table."""
    rng = np.random.default_rng([seed, index])
    names = NAMES if names is None else names
    n = int(rng.integers(1, 6))
    prog = {"seed": int(seed), "index": int(index), "n": n, "steps": [], "sizes": [n]}
    for _ in range(int(rng.integers(1, max_steps + 1))):
        name = str(names[int(rng.integers(len(names)))])
        step = {"prim": name, "dseed": int(rng.integers(2**32)), "pseed": int(rng.integers(2**32)),
                "mix": str(SQUASH[int(rng.integers(len(SQUASH)))])}
        prim, args, _ = domain(step)
        k = len(diff_args(prim, args))
        # sources: biased towards the latest value, so programs get deep as well as wide
        last = len(prog["sizes"]) - 1
        step["src"] = [last if rng.uniform() < 0.5 else int(rng.integers(last + 1)) for _ in range(k)]
        prog["steps"].append(step)
        prog["sizes"].append(-1)
    return refresh(prog)


def remove_step(prog: dict, j: int) -> dict:
    """A copy without step ``j`` (1-based value index): its consumers read the value it read first instead."""
    new = {k: v for k, v in prog.items() if k != "steps"}
    repl = prog["steps"][j - 1]["src"][0] if prog["steps"][j - 1]["src"] else 0
    steps = []
    for t, step in enumerate(prog["steps"], start=1):
        if t == j:
            continue
        src = [repl if s == j else (s - 1 if s > j else s) for s in step["src"]]
        steps.append({k: v for k, v in step.items() if k != "gain"} | {"src": src})
    new["steps"] = steps
    new["sizes"] = [prog["n"]] + [-1] * len(steps)
    return refresh(new)


def describe(prog: dict) -> str:
    lines = [f"x: shape ({prog['n']},)  [seed {prog['seed']}, program {prog['index']}]"]
    for j, step in enumerate(prog["steps"], start=1):
        src = ", ".join(f"v{s}" for s in step["src"])
        lines.append(f"v{j} = {step['prim']}(domain seed {step['dseed']}; moved by {step['mix']}({src}))"
                     f"  size {prog['sizes'][j]}")
    lines.append("y = concat(" + ", ".join(f"v{j}" for j in outputs(prog)) + ");  s = sum(w * y)")
    return "\n".join(lines)
