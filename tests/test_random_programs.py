"""Random programs built by hypothesis, checked to second order against ``scipy.differentiate``.

A program is a list of steps over a growing list of values, starting from the input ``x`` (a vector of 2 to 6
entries): smooth unary functions (on safe domains: ``log(a*a + 1)``, ``sqrt(a*a + 1)``, ``(a*a + 1) ** c``),
binary operations between earlier values (with broadcasting), reductions over chosen axes (sum, mean, var, std,
prod, logsumexp, norm, trace), scans and shifts along an axis (cumsum, cumprod, flip, roll, softmax), reshapes,
transposes, indexing (slices, integer arrays with repeats, boolean masks, integers), concatenation, stacking,
broadcasting, outer products, matrix products (``@``, ``einsum``, ``dot``) with fixed random matrices or between
values, and linear solves with a fixed well-conditioned matrix. It ends in the scalar
``sum_i sum(w_i * v_i)`` over every value no later step consumed, so each step matters. One to 24 steps make a few
to about a hundred primitive applications.

The programs are plain numpy code: the same interpreter runs them on hodiff's values (``np.sin`` etc. dispatch to
hodiff) and, for the finite-difference oracle, on plain arrays with trailing batch axes, because
``scipy.differentiate`` evaluates many abscissae per call (``x`` of shape ``(n, ...)``). The batched path uses the
same numpy calls except where an operation has to name the batch axes (contractions use ``tensordot``/``einsum``,
constants get trailing unit axes); a sanity test checks it against the unbatched path point by point.

Checked per program: ``hd.grad``, ``hd.hvp`` and ``hd.hessian`` against ``scipy.differentiate.jacobian`` and
``hessian`` (tolerance from SciPy's own error estimate); forward-over-reverse (``hd.hvp``), reverse-over-reverse
(nested ``hd.grad``; the tensor API's ``hd.autograd.grad(..., create_graph=True)`` and
``backward(create_graph=True)``) and ``hd.hessian`` against each other to rounding; the Hessian's symmetry.

Only smooth operations are drawn: at a kink (abs, maximum, amax) a finite-difference Hessian means nothing, and the
piecewise primitives are checked one at a time, away from their kinks, in ``test_primitive_table.py``.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sc
from hypothesis import event, given, note, reject, settings
from hypothesis import strategies as st
from scipy import differentiate as sd

import hodiff as hd

# Largest finite-difference steps, tried in turn until two consecutive ones give converged, agreeing estimates
# (``_fd``). Every drawn operation is defined on the whole real line (the guarded ones, var/std/norm, stay away from
# zero at the drawn point by a margin), so large steps are safe; smaller ones help programs with large curvature.
FD_STEPS = (0.25, 0.05, 0.01, 0.002)
# |hodiff - fd| <= FD_C * fd.error + FD_RTOL * scale. ``fd.error`` is SciPy's estimate, the change between its last
# two (order-8, Richardson-refined) estimates, raised to the disagreement between the runs from two starting steps
# (``_fd``); the last estimate is much more accurate than the change, and FD_C = 10 covers an unlucky pair. FD_RTOL
# covers estimates agreeing by accident while all carry rounding error (~ eps * |f| / step for the gradient; the
# nested Hessian showed ~1.5e-10 of its scale). Wrong derivatives are off by O(1) relative, far above this.
FD_C = 10.0
FD_RTOL = 1e-9
# The oracle is used only when its own error estimate is below this fraction of the scale (SciPy aims for
# sqrt(eps) ~ 1.5e-8 for the gradient and 100x less for the inner Jacobians of its Hessian).
FD_TRUST = {"gradient": 1e-7, "hessian": 1e-5}
# Exact methods against each other: rounding only, 1e-12 of the scale (a few thousand ulps) plus NOISE_C times the
# quantity's measured sensitivity to a few-ulp change of the input (``rounding_noise``), for ill-conditioned points.
EXACT_RTOL = 1e-12
NOISE_C = 10.0
# Programs are cheap to check (the oracle evaluates them vectorized), so each test runs 3x the profile's examples.
MANY = settings(max_examples=3 * settings().max_examples)
# Values at the drawn point are kept below this magnitude (steps that would exceed it are not taken).
MAX_ABS = 1e3


# ------------------------------------------------------------------------------------------------------------------
# the program interpreter: ``nb`` trailing batch axes (0 under hodiff)


def _c(a, nb):
    """A constant of a value's own shape, with unit axes for the batch axes."""
    a = np.asarray(a)
    return a.reshape(a.shape + (1,) * nb)


def _axes(nd):
    return tuple(range(nd))


def _unary(fn):
    return lambda vals, nb, k: fn(vals[k["a"]], k, nb)


UNARY = {
    "sin": lambda a, k, nb: np.sin(a),
    "cos": lambda a, k, nb: np.cos(a),
    "tanh": lambda a, k, nb: np.tanh(a),
    "arctan": lambda a, k, nb: np.arctan(a),
    "arcsinh": lambda a, k, nb: np.arcsinh(a),
    "exp": lambda a, k, nb: np.exp(a),
    "expm1": lambda a, k, nb: np.expm1(a),
    "log": lambda a, k, nb: np.log(a * a + 1.0),
    "log1p": lambda a, k, nb: np.log1p(a * a),
    "sqrt": lambda a, k, nb: np.sqrt(a * a + 1.0),
    "square": lambda a, k, nb: np.square(a),
    "cube": lambda a, k, nb: a ** 3,
    "pow": lambda a, k, nb: (a * a + 1.0) ** k["c"],
    "recip": lambda a, k, nb: 1.0 / (a * a + 1.0),
    "neg": lambda a, k, nb: -a,
    "affine": lambda a, k, nb: k["c"] * a + k["d"],
    "expit": lambda a, k, nb: sc.expit(a),
    "erf": lambda a, k, nb: sc.erf(a),
    "gammaln": lambda a, k, nb: sc.gammaln(a * a + 1.0),
    "cumsum": lambda a, k, nb: np.cumsum(a, axis=0),
    "cumprod": lambda a, k, nb: np.cumprod(a, axis=0),
    "flip": lambda a, k, nb: np.flip(a, axis=0),
    "roll": lambda a, k, nb: np.roll(a, k["shift"], axis=0),
    "softmax": lambda a, k, nb: hd.special.softmax(a, axis=0),
}

# unary steps that act along axis 0 and need at least one axis
ALONG_AXIS0 = ("cumsum", "cumprod", "flip", "roll", "softmax")

BINARY = {
    "add": lambda a, b, k, nb: a + b,
    "sub": lambda a, b, k, nb: a - b,
    "mul": lambda a, b, k, nb: a * b,
    "div": lambda a, b, k, nb: a / (b * b + 1.0),
    "tpow": lambda a, b, k, nb: (a * a + 1.0) ** np.tanh(b),   # a tensor exponent
    "logaddexp": lambda a, b, k, nb: np.logaddexp(a, b),
    "arctan2": lambda a, b, k, nb: np.arctan2(a, b * b + 1.0),
    "where": lambda a, b, k, nb: np.where(_c(k["mask"], nb), a, b),
}


def _reduce(name, a, k, nb):
    ax = k["axis"]                            # a tuple of non-negative axes of the value
    if name == "sum":
        return np.sum(a, axis=ax)
    if name == "mean":
        return np.mean(a, axis=ax)
    if name == "var":
        return np.var(a, axis=ax)
    if name == "prod":
        return np.prod(a, axis=ax[0])
    if name == "logsumexp":
        return hd.logsumexp(a, axis=ax)
    if name == "norm":
        return np.linalg.norm(a, axis=ax[0])
    if name == "std":
        return np.std(a, axis=ax)
    if name == "trace":
        return np.trace(a)                    # over axes 0 and 1, batched or not
    raise AssertionError(name)


REDUCE = ("sum", "mean", "var", "std", "prod", "logsumexp", "norm", "trace")


def _step(vals, nb, op, k):
    a = vals[k["a"]] if "a" in k else None
    b = vals[k["b"]] if "b" in k else None
    if op in UNARY:
        return UNARY[op](a, k, nb)
    if op in BINARY:
        return BINARY[op](a, b, k, nb)
    if op in REDUCE:
        return _reduce(op, a, k, nb)
    batch = () if a is None or nb == 0 else np.shape(a)[-nb:]
    if op == "reshape":
        return np.reshape(a, k["shape"] + batch)
    if op == "transpose":
        return np.swapaxes(a, 0, 1)
    if op == "index":
        return a[k["idx"]]
    if op == "concat":
        return np.concatenate([a, b], axis=0)
    if op == "stack":
        return np.stack([a, b], axis=0)
    if op == "broadcast":
        return np.broadcast_to(a, (k["m"],) + np.shape(a))
    if op == "expand":
        return np.expand_dims(a, 0)
    if op == "outer":
        return a[:, None] * b[None, :]
    if op == "matvec_const":      # A @ a
        return k["A"] @ a if nb == 0 else np.tensordot(k["A"], a, axes=(1, 0))
    if op == "matmat_const":      # a @ B
        return a @ k["B"] if nb == 0 else np.einsum("rc...,cq->rq...", a, k["B"])
    if op == "dot":               # <a, b> of two vectors
        return np.dot(a, b) if nb == 0 else np.einsum("i...,i...->...", a, b)
    if op == "matvec":            # a @ b, a matrix and a vector
        return a @ b if nb == 0 else np.einsum("rc...,c...->r...", a, b)
    if op == "einsum":            # the same contraction spelled with einsum
        return np.einsum("rc,c->r", a, b) if nb == 0 else np.einsum("rc...,c...->r...", a, b)
    if op == "solve_const":       # A^-1 a for a fixed well-conditioned A (batched: one right-hand side per column)
        return np.linalg.solve(k["A"], a) if nb == 0 else \
            np.linalg.solve(k["A"], a.reshape(a.shape[0], -1)).reshape(a.shape)
    raise AssertionError(op)


def run(prog, x, nb=0):
    """Evaluate ``prog`` at ``x`` (shape ``(n,)``, or ``(n,) + batch`` with ``nb`` batch axes)."""
    vals = [x]
    for op, k in prog["steps"]:
        vals.append(_step(vals, nb, op, k))
    total = 0.0
    for i, w in prog["outputs"]:
        v = vals[i]
        nd = np.ndim(w)
        prod = _c(w, nb) * v
        total = total + (np.sum(prod) if nb == 0 else np.sum(prod, axis=_axes(nd)) if nd else prod)
    return total


def describe(prog):
    lines = [f"x: shape ({prog['n']},)"]
    for j, (op, k) in enumerate(prog["steps"], start=1):
        args = {key: (f"v{val}" if key in ("a", "b") else
                      (np.round(val, 3).tolist() if isinstance(val, np.ndarray) and val.dtype.kind == "f" else val))
                for key, val in k.items()}
        lines.append(f"v{j} = {op}({args})  shape {prog['shapes'][j]}")
    lines.append("out = " + " + ".join(f"sum(w{i} * v{i})" for i, _ in prog["outputs"]))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------------
# drawing programs


def _bcast_ok(s, t):
    try:
        np.broadcast_shapes(s, t)
        return True
    except ValueError:
        return False


def _draw_step(draw, rng, shapes, vals):
    """Draw one step applicable to the current values: ``(op, params)``, or None when the drawn op does not fit."""
    kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduce", "shape", "contract"]))
    a = draw(st.integers(0, len(shapes) - 1))
    sa = shapes[a]
    if kind == "unary":
        op = draw(st.sampled_from(sorted(UNARY)))
        k = {"a": a}
        if op == "pow":
            k["c"] = float(draw(st.sampled_from([0.5, -1.5, 2.5, 3.0])))
        if op == "affine":
            k["c"], k["d"] = float(rng.uniform(-2, 2)), float(rng.uniform(-1, 1))
        if op in ALONG_AXIS0 and not sa:
            return None
        if op == "roll":
            k["shift"] = int(rng.integers(1, 3))
        return op, k
    if kind == "binary":
        op = draw(st.sampled_from(sorted(BINARY)))
        partners = [j for j, s in enumerate(shapes) if _bcast_ok(sa, s)]
        b = partners[draw(st.integers(0, len(partners) - 1))]
        k = {"a": a, "b": b}
        if op == "where":
            k["mask"] = rng.uniform(size=np.broadcast_shapes(sa, shapes[b])) > 0.5
        return op, k
    if kind == "reduce":
        if not sa:
            return None
        op = draw(st.sampled_from(REDUCE))
        nd = len(sa)
        if op == "trace":
            if nd != 2 or sa[0] != sa[1]:
                return None
            axis = (0, 1)
        elif op in ("prod", "norm"):
            axis = (draw(st.integers(0, nd - 1)),)
        else:
            axis = tuple(sorted(draw(st.sets(st.integers(0, nd - 1), min_size=1, max_size=nd))))
        if op in ("var", "std") and int(np.prod([sa[i] for i in axis])) < 2:
            return None
        return op, {"a": a, "axis": axis}
    if kind == "shape":
        op = draw(st.sampled_from(["reshape", "transpose", "index", "index", "concat", "stack", "broadcast",
                                   "expand"]))
        if op == "reshape":
            size = int(np.prod(sa, dtype=int))
            if len(sa) >= 2:
                return op, {"a": a, "shape": (size,)}
            divs = [d for d in range(2, size) if size % d == 0]
            if not divs:
                return None
            r = draw(st.sampled_from(divs))
            return op, {"a": a, "shape": (r, size // r)}
        if op == "transpose":
            return (op, {"a": a}) if len(sa) == 2 else None
        if op == "index":
            if not sa:
                return None
            n0 = sa[0]
            form = draw(st.sampled_from(["int", "slice", "array", "mask", "col"]))
            if form == "int":
                idx = (int(rng.integers(n0)),)
            elif form == "slice":
                lo = int(rng.integers(n0))
                hi = int(rng.integers(lo + 1, n0 + 1))
                idx = (slice(lo, hi, None),)
            elif form == "array":
                idx = (rng.integers(0, n0, size=int(rng.integers(1, 5))),)   # repeats allowed
            elif form == "mask":
                m = rng.uniform(size=n0) > 0.4
                if not m.any():
                    m[rng.integers(n0)] = True
                idx = (m,)
            else:
                if len(sa) < 2:
                    return None
                idx = (slice(None), int(rng.integers(sa[1])))
            return op, {"a": a, "idx": idx}
        if op in ("concat", "stack"):
            if not sa:
                return None
            ok = ([j for j, s in enumerate(shapes) if len(s) == len(sa) and s[1:] == sa[1:]] if op == "concat"
                  else [j for j, s in enumerate(shapes) if s == sa])
            b = ok[draw(st.integers(0, len(ok) - 1))]
            return op, {"a": a, "b": b}
        if op == "broadcast":
            return (op, {"a": a, "m": int(rng.integers(2, 4))}) if len(sa) <= 1 else None
        return (op, {"a": a}) if len(sa) <= 1 else None
    # contractions
    op = draw(st.sampled_from(["matvec_const", "matmat_const", "dot", "matvec", "einsum", "outer", "solve_const"]))
    if op == "solve_const":
        if len(sa) != 1:
            return None
        q, _ = np.linalg.qr(rng.standard_normal((sa[0], sa[0])))
        return op, {"a": a, "A": (q * rng.uniform(0.5, 2.0, size=sa[0])) @ q.T}   # eigenvalues in [0.5, 2]
    if op == "matvec_const":
        return (op, {"a": a, "A": rng.standard_normal((int(rng.integers(1, 5)), sa[0])) / np.sqrt(sa[0])}) \
            if len(sa) == 1 else None
    if op == "matmat_const":
        return (op, {"a": a, "B": rng.standard_normal((sa[1], int(rng.integers(1, 4)))) / np.sqrt(sa[1])}) \
            if len(sa) == 2 else None
    if op in ("dot", "outer"):
        if len(sa) != 1:
            return None
        ok = [j for j, s in enumerate(shapes) if len(s) == 1 and (op == "outer" or s == sa)]
        return op, {"a": a, "b": ok[draw(st.integers(0, len(ok) - 1))]}
    if len(sa) != 2:
        return None
    ok = [j for j, s in enumerate(shapes) if s == (sa[1],)]
    return (op, {"a": a, "b": ok[draw(st.integers(0, len(ok) - 1))]}) if ok else None


def _guard_ok(op, k, vals, new):
    """Keep values moderate and smooth at the drawn point (a margin from the kinks of var and norm at zero)."""
    new = np.asarray(new)
    if not np.all(np.isfinite(new)) or np.max(np.abs(new), initial=0.0) > MAX_ABS:
        return False
    if op in ("var", "std", "norm") and np.min(np.abs(new), initial=1.0) < 0.3:
        return False
    return new.size <= 64


@st.composite
def programs(draw, max_steps=24):
    n = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(-1.5, 1.5, size=n)
    shapes, vals, steps, used = [(n,)], [x], [], set()
    for _ in range(draw(st.integers(1, max_steps))):
        step = _draw_step(draw, rng, shapes, vals)
        if step is None:
            continue
        op, k = step
        new = _step(vals, 0, op, k)
        if not _guard_ok(op, k, vals, new):
            continue
        steps.append(step)
        shapes.append(np.shape(new))
        vals.append(new)
        used.update(k[key] for key in ("a", "b") if key in k)
    # every value that no step consumed feeds the output (the input too, if nothing used it)
    outputs = [(i, rng.uniform(-1, 1, size=shapes[i])) for i in range(len(vals)) if i not in used]
    prog = {"n": n, "steps": steps, "shapes": shapes, "outputs": outputs}
    event(f"steps: {'0-4' if len(steps) < 5 else '5-14' if len(steps) < 15 else '15+'}")
    return prog, x


# ------------------------------------------------------------------------------------------------------------------
# the oracle


def _batched(prog):
    """The program as SciPy's ``f``: input ``(n, ...)`` -> output ``(...)``."""
    return lambda X: np.asarray(run(prog, X, nb=X.ndim - 1), dtype=float) * np.ones(X.shape[1:])


def _fd(prog, x, kind):
    """SciPy's gradient or Hessian of the program, cross-validated between two starting steps.

    A random composition can oscillate fast (``sin((x*x + 1) ** 6)`` near |x| = 1.3 turns ~300 radians per unit),
    and then SciPy's sequence of estimates can agree with itself on a wrong value: from step 0.05 it reported
    -104924 with an error estimate of 1.5e-6 for a second derivative of -616973. So an estimate is accepted only when
    the runs from two consecutive starting steps both converge and agree with each other within their own error
    estimates; the one from the smaller step is returned with the larger of the two error estimates. If no pair
    agrees, the example is rejected (the oracle cannot judge it; hypothesis errors out if that happens often). The
    error returned is the larger of the two runs' estimates and their disagreement.
    """
    f = _batched(prog)
    key, run_fd = ("df", sd.jacobian) if kind == "gradient" else ("ddf", sd.hessian)
    runs = []
    for step in FD_STEPS:
        res = run_fd(f, x, initial_step=step)
        est, err = np.asarray(res[key]), np.asarray(res.error)
        scale = max(1.0, float(np.max(np.abs(est))))
        ok = np.max(err) <= FD_TRUST[kind] * scale
        runs.append((est, err, scale, ok))
        if len(runs) >= 2 and runs[-2][3] and ok:
            prev = runs[-2][0]
            spread = np.abs(est - prev)
            both = np.maximum(err, runs[-2][1])
            if np.all(spread <= 2 * FD_C * both + FD_RTOL * scale):
                # the oracle's uncertainty is at least the disagreement of its two runs (for the nested Hessian,
                # rounding in the inner differences can exceed both error estimates: ~1.5e-10 of the scale seen)
                return est, np.maximum(both, spread), scale
    note(f"finite-difference {kind}: no two starting steps gave converged, agreeing estimates")
    reject()


def fd_gradient(prog, x):
    return _fd(prog, x, "gradient")


def fd_hessian(prog, x):
    return _fd(prog, x, "hessian")


def _assert_vs_fd(exact, fd, tol, what, prog):
    exact, fd, tol = np.ravel(exact), np.ravel(fd), np.ravel(tol)
    bad = np.abs(exact - fd) > tol
    assert not bad.any(), (
        f"{what} disagrees with finite differences at flat indices {np.flatnonzero(bad).tolist()}:\n"
        f" hodiff {exact[bad]}\n fd     {fd[bad]}\n |diff| {np.abs(exact - fd)[bad]}\n tol    {tol[bad]}\n"
        + describe(prog))


def _assert_exact(a, b, scale, what, prog, noise=0.0):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    err = np.max(np.abs(a - b), initial=0.0)
    assert err <= EXACT_RTOL * scale + NOISE_C * noise + 1e-300, (
        f"{what}: max difference {err:.3g} > {EXACT_RTOL} * scale {scale:.3g} + {NOISE_C} * noise {noise:.3g}\n"
        f" {a}\n {b}\n" + describe(prog))


def rounding_noise(fn, x, samples=2):
    """How far ``fn``'s computed value moves when ``x`` moves by a few ulps: the rounding level of the quantity at
    this point (condition * eps), which two correct methods cannot beat; ~1e-16 of the scale when well
    conditioned, while a wrong derivative errs by O(1) of the scale."""
    rng = np.random.default_rng(1)
    base = np.asarray(fn(x), dtype=float)
    out = 0.0
    for _ in range(samples):
        x1 = x * (1 + 4 * np.finfo(float).eps * rng.uniform(-1, 1, size=x.shape))
        out = max(out, float(np.max(np.abs(np.asarray(fn(x1), dtype=float) - base), initial=0.0)))
    return out


# ------------------------------------------------------------------------------------------------------------------
# the tests


def program_fn(prog):
    return lambda x: run(prog, x)


@MANY
@given(programs())
def test_batched_oracle_matches_program(case):
    """The oracle's batched evaluation is the same function as the program, point by point."""
    prog, x = case
    note(describe(prog))
    rng = np.random.default_rng(0)
    X = x[:, None] + 0.1 * rng.standard_normal((x.size, 4))
    X2 = X.reshape(x.size, 2, 2)
    want = np.array([run(prog, X[:, j]) for j in range(4)])
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(_batched(prog)(X), want, rtol=0, atol=EXACT_RTOL * scale)
    np.testing.assert_allclose(_batched(prog)(X2).ravel(), want, rtol=0, atol=EXACT_RTOL * scale)
    # and hodiff computes the same value
    val, _ = hd.value_and_grad(program_fn(prog))(x)
    np.testing.assert_allclose(val, run(prog, x), rtol=EXACT_RTOL, atol=EXACT_RTOL * scale)


@MANY
@given(programs(), st.integers(0, 2**32 - 1))
def test_second_order_methods_agree(case, vseed):
    """hvp (forward-over-reverse) = nested grad = tensor-API create_graph = hessian @ v; Hessian symmetric."""
    prog, x = case
    note(describe(prog))
    f = program_fn(prog)
    n = x.size
    v = np.random.default_rng(vseed).uniform(-1, 1, size=n)

    H = hd.hessian(f)(x)
    assert np.shape(H) == (n, n)
    hv = hd.hvp(f, x, v)
    # A Hessian that vanishes by cancellation (logaddexp(x, x) = x + log 2) comes out as rounding residue of O(|g|)
    # terms, so the scale is at least 1e-3 * max(1, |g|) (an absolute 1e-15 at EXACT_RTOL); inputs, constants and
    # weights are O(1), so a real error is far above that.
    floor = 1e-3 * max(1.0, float(np.max(np.abs(hd.grad(f)(x)))))
    scale = max(floor * float(np.max(np.abs(v))), float(np.max(np.abs(H) @ np.abs(v))))
    noise = rounding_noise(lambda z: hd.hvp(f, z, v), x)
    _assert_exact(H @ v, hv, scale, "hessian @ v vs hvp (forward-over-reverse)", prog, noise)

    hv_rr = hd.grad(lambda z: np.vdot(hd.grad(f)(z), v))(x)
    _assert_exact(hv_rr, hv, scale, "nested hd.grad (reverse-over-reverse) vs hvp", prog, noise)

    # the tensor API, reverse-over-reverse through the recorded backward pass. As in PyTorch, a gradient that does
    # not depend on x (an affine program) comes back without a graph: its derivative is zero.
    xt = hd.tensor(x, requires_grad=True)
    (g,) = hd.autograd.grad(f(xt), [xt], create_graph=True)
    gv = (g * v).sum()
    hv_t = hd.autograd.grad(gv, [xt])[0].detach().numpy() if gv.requires_grad else np.zeros(n)
    _assert_exact(hv_t, hv, scale, "autograd.grad(create_graph=True) twice vs hvp", prog, noise)

    xt = hd.tensor(x, requires_grad=True)
    f(xt).backward(create_graph=True)
    g = xt.grad
    g_val = np.array(g.detach().numpy(), copy=True)
    xt.grad = None
    gv = (g * v).sum()
    if gv.requires_grad:
        gv.backward()
        hv_b = xt.grad.detach().numpy()
    else:
        hv_b = np.zeros(n)
    _assert_exact(hv_b, hv, scale, "backward(create_graph=True) twice vs hvp", prog, noise)
    _assert_exact(g_val, hd.grad(f)(x), max(1e-300, float(np.max(np.abs(g_val)))),
                  "backward(create_graph=True) gradient vs hd.grad", prog, rounding_noise(hd.grad(f), x, 1))

    hscale = max(floor, float(np.max(np.abs(H))))
    h_noise = rounding_noise(hd.hessian(f), x, 1)
    _assert_exact(H, H.T, hscale, "Hessian symmetry", prog, h_noise)
    # the dense Hessian in chunks (several batched passes) is the same matrix
    _assert_exact(hd.hessian(f, chunk_size=2)(x), H, hscale, "hessian(chunk_size=2) vs hessian", prog, h_noise)


@MANY
@given(programs(), st.integers(0, 2**32 - 1))
def test_derivatives_match_scipy_differentiate(case, vseed):
    """hd.grad, hd.hvp and hd.hessian against scipy.differentiate.jacobian / hessian."""
    prog, x = case
    note(describe(prog))
    f = program_fn(prog)
    v = np.random.default_rng(vseed).uniform(-1, 1, size=x.size)

    g = hd.grad(f)(x)
    J, jerr, jscale = fd_gradient(prog, x)
    _assert_vs_fd(g, J, FD_C * jerr + FD_RTOL * jscale, "hd.grad", prog)

    H = hd.hessian(f)(x)
    Hfd, herr, hscale = fd_hessian(prog, x)
    _assert_vs_fd(H, Hfd, FD_C * herr + FD_RTOL * hscale, "hd.hessian", prog)
    va = np.abs(v)
    _assert_vs_fd(hd.hvp(f, x, v), Hfd @ v, FD_C * (herr @ va) + FD_RTOL * hscale * va.sum(), "hd.hvp", prog)


# ------------------------------------------------------------------------------------------------------------------
# pytrees: random nestings of dicts, lists and tuples as arguments and outputs, checked on the raveled vector


class _Leaf:
    """A leaf placeholder (its shape) while hypothesis draws a structure: not a container, so not a pytree node."""

    def __init__(self, shape):
        self.shape = shape

    def __repr__(self):
        return f"leaf{self.shape}"


_LEAF_SHAPES = st.sampled_from([(), (1,), (2,), (3,), (2, 2)]).map(_Leaf)


def _nestings(leaf):
    return st.recursive(leaf, lambda ch: st.one_of(
        st.lists(ch, min_size=1, max_size=3),
        st.lists(ch, min_size=1, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from("abcd"), ch, min_size=1, max_size=3)), max_leaves=5)


_ELEMENTWISE = (np.sin, np.tanh, lambda u: np.exp(0.3 * u), lambda u: u * u + u)


def _tree_program(in_struct, out_struct, seed):
    """``(x, f)``: a random point of ``in_struct`` and a random smooth function of it with ``out_struct``'s
    structure; every output leaf reads random elements of all inputs through a random elementwise function, times
    a coupling term (so the Jacobian is dense enough to catch a block put in the wrong place)."""
    r = np.random.default_rng(seed)
    x = hd.tree.map(lambda s: np.asarray(r.uniform(-1, 1, s.shape)), in_struct)
    n = hd.tree.layout(x).size
    plans = []
    for s in hd.tree.leaves(out_struct):
        m = int(np.prod(s.shape, dtype=int))
        plans.append((s.shape, r.integers(0, n, m), r.uniform(-1, 1, m), int(r.integers(len(_ELEMENTWISE)))))

    def f(t):
        z = np.concatenate([np.reshape(v, (-1,)) for v in hd.tree.leaves(t)])
        couple = 1.0 + 0.1 * np.sum(z * z)
        outs = [np.reshape(_ELEMENTWISE[k](z[idx]) * w * couple, shape) for shape, idx, w, k in plans]
        return hd.tree.unflatten(hd.tree.structure(out_struct), outs)
    return x, f


def _central(fun, z, h=1e-5):
    """Fourth-order central differences of a vector function: (m, n)."""
    cols = []
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = h
        cols.append((-fun(z + 2 * e) + 8 * fun(z + e) - 8 * fun(z - e) + fun(z - 2 * e)) / (12 * h))
    return np.stack(cols, axis=-1)


@settings(max_examples=12, deadline=None)
@given(_nestings(_LEAF_SHAPES), _nestings(_LEAF_SHAPES), st.integers(0, 2**32 - 1))
def test_pytree_programs_match_finite_differences(in_struct, out_struct, seed):
    x, f = _tree_program(in_struct, out_struct, seed)
    note(f"x = {x!r}")
    lay, out_lay = hd.tree.layout(x), hd.tree.layout(f(x))
    z = lay.ravel(x)
    f_flat = lambda v: out_lay.ravel(f(lay.unravel(v)))          # noqa: E731
    J_fd = _central(f_flat, z)
    for name, jac in (("jacrev", hd.jacrev), ("jacfwd", hd.jacfwd)):
        J = jac(f)(x)
        assert hd.tree.structure(J) == hd.tree.structure(
            hd.tree.unflatten(out_lay.treedef, [hd.tree.unflatten(lay.treedef, [0] * len(lay.shapes))]
                              * len(out_lay.shapes))), name
        np.testing.assert_allclose(hd.tree.flat_jacobian(J, out_lay, lay), J_fd, rtol=1e-7, atol=1e-8, err_msg=name)
    # a scalar of the tree output: gradient and Hessian on the tree, against differences on the raveled vector
    w = np.random.default_rng(seed + 1).uniform(-1, 1, out_lay.size)
    s = lambda t: np.sum(out_lay.ravel(f(t)) * w)                 # noqa: E731
    g = hd.grad(s)(x)
    assert hd.tree.structure(g) == lay.treedef
    np.testing.assert_allclose(lay.ravel(g), w @ J_fd, rtol=1e-7, atol=1e-8)
    H = hd.tree.flat_jacobian(hd.hessian(s)(x), lay, lay)
    H_fd = _central(lambda v: lay.ravel(hd.grad(s)(lay.unravel(v))), z)
    np.testing.assert_allclose(H, H_fd, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-13)
