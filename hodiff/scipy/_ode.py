"""The ODE primitive under ``hodiff.scipy.integrate``: one entry of the primitive table, rules that call it again.

``ode_solve`` integrates ``y' = fn(y, t, p)`` from ``y(t[0]) = y0`` and returns the states at the times ``t``, shape
``(len(t), n)``. Its one differentiable argument ``z`` holds the parts of ``(y0, t, p)`` being differentiated, flat
and concatenated; the plain parts ride along as constants (``consts``), so a rule never integrates a sensitivity
nobody asked for. ``fn`` works on flat vectors: ``y`` of shape ``(n,)``, a scalar ``t``, ``p`` of shape ``(P,)``.

* **Forward rule** (forward sensitivities): the tangent ``dy`` obeys ``dy' = J_y dy + J_p dp``, integrated together
  with ``y`` as one ``ode_solve`` call on the augmented state ``(y, dy_1 .. dy_B)`` with parameters ``(p, dp)``; a
  perturbed start time shifts the start, ``dy(t0) = dy0 - f(y0, t0) dt0``, and a perturbed output time adds
  ``f(y_i, t_i) dt_i``.
* **Reverse rule** (the adjoint method): between consecutive output times, backwards, one ``ode_solve`` call on
  ``(y, a, q)`` with ``y' = f``, ``a' = -a J_y``, ``q' = -a J_p`` (``y`` restarted at each output from the forward
  solution); the cotangent of output ``i`` is added to ``a`` at ``t_i``. Then ``dL/dy0 = a(t0)``, ``dL/dp = q(t0)``,
  ``dL/dt_i = g_i . f(y_i, t_i)`` and ``dL/dt_0`` gets ``-a(t0) . f(y0, t0)`` besides.

Both rules are hodiff code whose only solver is ``ode_solve`` itself, with ``J_y dy`` and ``a J_y`` formed inside the
augmented right-hand sides by ``hd.jvp`` / ``hd.vjp`` of ``fn`` on plain values. Differentiating a rule applies the
rules again to the augmented system, so every order and every nesting of forward and reverse works, each level
doubling the state. Values always come from scipy's own solvers (``odeint`` or ``solve_ivp``) on plain arrays.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.integrate as si

import hodiff as hd

__all__ = ["Solver", "is_plain", "plain_rhs", "solve", "vec"]

_PLAIN = (np.ndarray, np.generic, numbers.Number)
_ODEINT_OK = "Integration successful."
# options that describe the user's own system (its Jacobian, its band structure, a first step sized for it): they
# are used for the solve the user asked for and not for the augmented sensitivity and adjoint systems
_PRIMAL_ONLY = {"Dfun", "col_deriv", "ml", "mu", "h0", "jac", "jac_sparsity", "lband", "uband", "first_step"}

CAPTURED = ("{who}'s right-hand side returned a value being differentiated when called on plain numbers: it reads "
            "a traced value other than through its state, its time or a floating-point entry of `args` (a closure "
            "over a variable of an enclosing hd.grad / hd.jvp, a global, or a traced value inside a list or dict "
            "in `args`). Its derivative would be silently lost, so this is refused. Pass the value to {who} "
            "through `args` (as a float or a float array) instead.")


def is_plain(x) -> bool:
    """A numpy value or Python number (not a hodiff box): it goes to the solver as a constant."""
    return isinstance(x, _PLAIN)


def vec(r):
    """A right-hand side's result as a flat vector (a list or tuple of scalars or boxes is stacked)."""
    if isinstance(r, (list, tuple)):
        if all(is_plain(e) for e in r):
            try:
                return np.asarray(r, dtype=float).reshape(-1)
            except ValueError:   # ragged: scalars and arrays mixed
                return np.concatenate([np.asarray(e, dtype=float).reshape(-1) for e in r])
        if all(len(np.shape(e) if is_plain(e) else e.shape) == 0 for e in r):
            return np.stack(r)   # the usual `return [dx, dy]`: one operation
        return np.concatenate([np.reshape(e, (-1,)) for e in r])
    if is_plain(r):
        return np.asarray(r, dtype=float).reshape(-1)
    return np.reshape(r, (-1,))


def plain_rhs(fn, p, who):
    """``rhs(y, t)`` for scipy: ``fn`` on plain values, refusing a traced result (see ``CAPTURED``)."""
    def rhs(y, t):
        r = vec(fn(y, t, p))
        if not is_plain(r):
            raise hd.HodiffError(CAPTURED.format(who=who))
        if r.shape != np.shape(y):
            raise ValueError(f"{who}: the right-hand side returned {r.size} values for a state of {np.size(y)}")
        return r
    return rhs


class Solver:
    """Which scipy solver integrates, with which options: ``kind`` is ``"odeint"`` or ``"ivp"`` (``method``).

    ``who`` names the public function in error messages.
    """

    __slots__ = ("kind", "method", "opts", "who")

    def __init__(self, kind, opts, method=None, who="odeint"):
        self.kind = kind
        self.method = method
        self.opts = dict(opts)
        self.who = who

    def derived(self) -> Solver:
        """The same solver for an augmented system: the user's Jacobian and the like dropped, a per-component
        ``atol`` replaced by its smallest entry (the augmented state has other components)."""
        opts = {k: v for k, v in self.opts.items() if k not in _PRIMAL_ONLY and v is not None}
        if np.ndim(opts.get("atol", 0.0)) > 0:
            opts["atol"] = float(np.min(opts["atol"]))
        return Solver(self.kind, opts, self.method, self.who)

    def run(self, fn, y0, t, p, sink):
        """Integrate on plain values; ``sink`` (a dict) receives scipy's report, else a failure raises."""
        rhs = plain_rhs(fn, p, self.who)
        rhs(y0, t[0])   # the check above, before scipy sees the function (it would only report a failed step)
        opts = dict(self.opts)
        if self.kind == "odeint":
            dfun = opts.pop("Dfun", None)
            if dfun is not None:
                opts["Dfun"] = lambda y, tt: dfun(y, tt, p)
            y, info = si.odeint(rhs, y0, t, full_output=True, **opts)
            if sink is not None:
                sink["info"] = info
            elif info["message"] != _ODEINT_OK:
                raise hd.HodiffError(f"{who}: the sensitivity/adjoint integration failed ({info['message']}); its "
                                     "derivative is not available at this point. Try other tolerances or mxstep.")
            return y
        jac = opts.pop("jac", None)
        if jac is not None and callable(jac):
            opts["jac"] = lambda tt, y: jac(y, tt, p)
        if t[0] == t[-1]:   # scipy refuses an empty interval; every output is the start
            if sink is not None:
                sink["info"] = None
            return np.tile(y0, (len(t), 1))
        # scipy wants strictly monotonic t_eval: a repeated time (t_eval starting at t_span[0]) is asked once
        new = np.r_[True, np.diff(t) != 0]
        sol = si.solve_ivp(lambda tt, y: rhs(y, tt), (t[0], t[-1]), y0, method=self.method, t_eval=t[new], **opts)
        y = np.full((int(new.sum()), len(y0)), np.nan)
        y[:sol.y.shape[1]] = sol.y.T
        y = y[np.cumsum(new) - 1]
        if sink is not None:
            sink["info"] = sol
        elif not sol.success:
            raise hd.HodiffError(f"{who}: the sensitivity/adjoint integration failed ({sol.message}); its "
                                 "derivative is not available at this point. Try other tolerances or max_step.")
        return y


def _split(z, n, nt, P, inz, consts):
    """``(y0, t, p)`` from the packed argument and the constants."""
    out, k = [], 0
    for size, inside, c in zip((n, nt, P), inz, consts):
        if inside:
            out.append(z[k:k + size])
            k += size
        else:
            out.append(c)
    return out


def _impl(z, *, fn, n, nt, P, inz, consts, solver, sink=None):
    y0, t, p = (np.asarray(v, dtype=float) for v in _split(z, n, nt, P, inz, consts))
    return solver.run(fn, y0, t, p, sink)


def solve(fn, y0, t, p, solver, sink=None):
    """``ode_solve`` of ``fn`` from ``y0`` (shape ``(n,)``) at times ``t`` (``(nt,)``), parameters ``p`` (``(P,)``);
    any of them may be a hodiff box. Returns shape ``(nt, n)``."""
    parts = (y0, t, p)
    inz = tuple(not is_plain(x) for x in parts)
    sizes = tuple(int(np.prod(np.shape(x) if is_plain(x) else x.shape, dtype=np.int64)) for x in parts)
    z = (np.concatenate([np.reshape(x, (-1,)) for x, i in zip(parts, inz) if i]) if any(inz)
         else np.zeros(0))
    consts = tuple(None if i else np.asarray(x, dtype=float).reshape(-1) for x, i in zip(parts, inz))
    return hd.bind(ODE, z, fn=fn, n=sizes[0], nt=sizes[1], P=sizes[2], inz=inz, consts=consts, solver=solver,
                   sink=sink)


# ---------------------------------------------------------------------------------------------------------------
# augmented right-hand sides

def _checked(v, who):
    if not is_plain(v):
        raise hd.HodiffError(CAPTURED.format(who=who))
    return v


def _tangent_system(fn, n, P, B, with_dp, who):
    """``(y, dy_1..dy_B)' = (f, J_y dy_b + J_p dp_b)`` with parameters ``(p, dp_1..dp_B)`` (or ``p`` alone)."""
    def aug(Y, t, Q):
        y, dY = Y[:n], np.reshape(Y[n:], (B, n))
        p = Q[:P]
        dP = np.reshape(Q[P:], (B, P)) if with_dp else None
        if is_plain(Y) and is_plain(Q) and is_plain(t) and B > 1:
            # plain values (scipy calling): all B directions in one batched dual pass
            if with_dp:
                d = hd.Dual(np.concatenate([y, p]), np.concatenate([dY, dP], axis=1), batched=True)
                r = vec(fn(d[:n], t, d[n:]))
            else:
                r = vec(fn(hd.Dual(y, dY, batched=True), t, p))
            if isinstance(r, hd.Dual):
                f, tan = _checked(r.primal, who), _checked(r.tangent, who)
                tan = np.broadcast_to(tan, (B, n))
            else:
                f, tan = _checked(r, who), np.zeros((B, n))
            return np.concatenate([f, np.reshape(tan, (-1,))])
        outs = []
        for b in range(B):
            if with_dp:
                f, tb = hd.jvp(lambda y_, p_: vec(fn(y_, t, p_)), (y, p), (dY[b], dP[b]))
            else:
                f, tb = hd.jvp(lambda y_: vec(fn(y_, t, p)), (y,), (dY[b],))
            outs.append(np.reshape(tb, (-1,)))
        return np.concatenate([np.reshape(f, (-1,))] + outs)
    return aug


def _adjoint_system(fn, n, with_q):
    """``(y, a, q)' = (f, -a J_y, -a J_p)`` (or ``(y, a)`` when no parameter needs a cotangent)."""
    def adj(S, t, p):
        y, a = S[:n], S[n:2 * n]
        if with_q:
            f, pull = hd.vjp(lambda y_, p_: vec(fn(y_, t, p_)), y, p)
            gy, gp = pull(a)
            return np.concatenate([f, -gy, -gp])
        f, pull = hd.vjp(lambda y_: vec(fn(y_, t, p)), y)
        (gy,) = pull(a)
        return np.concatenate([f, -gy])
    return adj


# ---------------------------------------------------------------------------------------------------------------
# rules

def _jvp(tz, ans, z, *, fn, n, nt, P, inz, consts, solver, sink=None):
    y0, t, p = _split(z, n, nt, P, inz, consts)
    lead = tuple(tz.shape[:-1]) if not is_plain(tz) else np.shape(tz)[:-1]
    B = int(np.prod(lead, dtype=np.int64))
    T = np.reshape(tz, (B, -1))
    parts, k = [], 0
    for size, inside in zip((n, nt, P), inz):
        parts.append(T[:, k:k + size] if inside else None)
        k += size if inside else 0
    dy0, dt, dp = parts
    if dy0 is None:
        dy0 = np.zeros((B, n))
    if dt is not None:   # a later start: the solution starts from y0 further along, dy(t0) = dy0 - f(y0, t0) dt0
        dy0 = dy0 - dt[:, 0:1] * vec(fn(y0, t[0], p))
    with_dp = dp is not None and P > 0
    aug = _tangent_system(fn, n, P, B, with_dp, solver.who)
    Y0 = np.concatenate([y0, np.reshape(dy0, (-1,))])
    Q = np.concatenate([p, np.reshape(dp, (-1,))]) if with_dp else p
    out = solve(aug, Y0, t, Q, solver.derived())
    dys = np.transpose(np.reshape(out[:, n:], (nt, B, n)), (1, 0, 2))
    if dt is not None:   # a later output time reads the solution further along
        fs = np.stack([vec(fn(ans[i], t[i], p)) for i in range(nt)])
        dys = dys + np.reshape(dt, (B, nt, 1)) * fs
    return np.reshape(dys, lead + (nt, n))


def _vjp(g, ans, z, *, fn, n, nt, P, inz, consts, solver, sink=None):
    y0, t, p = _split(z, n, nt, P, inz, consts)
    need_y0, need_t, need_p = inz
    with_q = need_p and P > 0
    adj = _adjoint_system(fn, n, with_q)
    der = solver.derived()
    a = g[nt - 1]
    q = np.zeros(P)
    for i in range(nt - 1, 0, -1):
        s0 = np.concatenate([ans[i], a, q] if with_q else [ans[i], a])
        s1 = solve(adj, s0, np.stack([t[i], t[i - 1]]), p, der)[1]
        a = s1[n:2 * n] + g[i - 1]
        if with_q:
            q = s1[2 * n:]
    out = []
    if need_y0:
        out.append(a)
    if need_t:
        gt = [np.sum(g[i] * vec(fn(ans[i], t[i], p))) for i in range(nt)]
        gt[0] = gt[0] - np.sum(a * vec(fn(y0, t[0], p)))
        out.append(np.stack(gt))
    if need_p:
        out.append(q)
    return np.concatenate(out) if len(out) > 1 else out[0]


def _cost(ans, z, **params):
    # a rough hint only: the solver's work is not known in advance
    size = int(np.prod(np.shape(ans), dtype=np.int64))
    return 100 * size, 8 * size


def _const_rhs(y, t, p):
    # y' = p * p: every solver integrates it exactly, so forward and reverse rules agree to rounding in the
    # table's generic checks (the accuracy of the sensitivities proper is tested in tests/test_scipy_integrate.py)
    return p * p


def _domain(rng):
    n = 2
    t = np.cumsum(rng.uniform(0.2, 1.0, size=3)) - 0.5
    z = np.concatenate([rng.normal(size=n), t, rng.uniform(0.5, 1.5, size=n)])
    return (z,), {"fn": _const_rhs, "n": n, "nt": 3, "P": n, "inz": (True, True, True), "consts": (None,) * 3,
                  "solver": Solver("odeint", {"rtol": 1e-12, "atol": 1e-12})}


ODE = hd.Primitive("ode_solve", _impl, (_jvp,), (_vjp,), cost=_cost, domain=_domain,
                   doc="states of y' = fn(y, t, p) at the times t (scipy's odeint or solve_ivp)")
