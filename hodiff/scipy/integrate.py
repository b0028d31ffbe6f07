"""``hodiff.scipy.integrate``: scipy's ODE solvers ``odeint`` and ``solve_ivp``, differentiable to any order.

Part of :mod:`hodiff.scipy`. The values are scipy's own (``scipy.integrate.odeint`` / ``solve_ivp`` run on plain
arrays, with your tolerances); derivatives with respect to the initial state ``y0``, the times (``t``, the ends of
``t_span``, ``t_eval``) and the floating-point entries of ``args`` (the parameters you fit) come from the ODE primitive
of :mod:`hodiff.scipy._ode`: forward mode by forward sensitivities, reverse mode by the adjoint method, both solved by
the same scipy solver with the same tolerances, and both differentiable again (Hessians, Hessian-vector products).

The right-hand side is ordinary numpy code. Everything it depends on that is being differentiated must reach it
through its arguments: a closure over a traced value is refused with an error (its derivative would be lost).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.integrate as si
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult

import hodiff as hd

from ._ode import Solver, is_plain, plain_rhs, solve, vec

__all__ = ["odeint", "solve_ivp"]


def _is_float_arg(a) -> bool:
    if not is_plain(a):
        return True
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (float, np.floating)):
        return True
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _pack_args(args):
    """The floating-point entries of ``args`` as one flat vector, and ``rebuild(p) -> args``."""
    spec, floats = [], []
    for a in args:
        if _is_float_arg(a):
            shape = tuple(a.shape) if not is_plain(a) else np.shape(a)
            spec.append((True, shape, int(np.prod(shape, dtype=np.int64))))
            floats.append(np.reshape(a, (-1,)))
        else:
            spec.append((False, a, 0))
    p = np.concatenate(floats) if floats else np.zeros(0)

    def rebuild(p):
        out, k = [], 0
        for is_f, what, size in spec:
            if not is_f:
                out.append(what)
                continue
            out.append(p[k] if what == () else np.reshape(p[k:k + size], what))
            k += size
        return out
    return p, rebuild


def _vector(x, what):
    """A 1-D float vector from an array, a scalar, a box or a list (a list holding boxes is stacked)."""
    if isinstance(x, (list, tuple)):
        x = vec(x)
    if is_plain(x):
        x = np.asarray(x, dtype=float)
    if len(x.shape) > 1:
        raise ValueError(f"{what} must be a scalar or a 1-D array; got shape {tuple(x.shape)}")
    return np.reshape(x, (-1,))


def _user_rhs(call, rebuild, who):
    """The user's right-hand side as ``fn(y, t, p)`` on flat vectors (``call(y, t, args)`` runs it)."""
    def fn(y, t, p):
        try:
            return vec(call(y, t, rebuild(p)))
        except TypeError as e:
            if is_plain(y) and is_plain(p) and is_plain(t):
                raise
            raise TypeError(f"{who}: the right-hand side failed on hodiff values (derivatives run it on dual "
                            "numbers and tensors). A common cause is building the result with np.array([...]): "
                            "return a list [dx, dy] or np.stack([...]) instead. The error was: " + str(e)) from e
    return fn


def odeint(func: Callable[..., Any], y0: ArrayLike, t: ArrayLike, args: tuple = (),
           Dfun: Callable[..., Any] | None = None, col_deriv: int = 0, full_output: int = 0, ml: int | None = None,
           mu: int | None = None, rtol: Any = None, atol: Any = None, tcrit: ArrayLike | None = None,
           h0: float = 0.0, hmax: float = 0.0, hmin: float = 0.0, ixpr: int = 0, mxstep: int = 0,
           mxhnil: int = 0, mxordn: int = 12, mxords: int = 5, printmessg: int = 0, tfirst: bool = False) -> Any:
    r"""Integrate ``dy/dt = func(y, t, *args)`` with scipy's LSODA (``scipy.integrate.odeint``), differentiably.

    Same arguments and result as ``scipy.integrate.odeint``. Derivatives, to any order, forward and reverse, with
    respect to ``y0``, ``t`` (every output time, the first one being the start) and every floating-point scalar or
    array in ``args``:

    .. math:: \frac{\partial y(t_i)}{\partial p}:\ s' = J_y s + J_p \ \text{(forward)},\qquad
              \frac{\partial L}{\partial p} = \int_{t_0}^{t_i} a^T J_p\,dt,\ a' = -J_y^T a \ \text{(adjoint)}

    The sensitivity and adjoint systems are integrated by ``odeint`` too, with the same ``rtol``, ``atol``,
    ``hmax``, ``hmin``, ``mxstep``, ``tcrit`` (a per-component ``atol`` becomes its smallest entry there);
    ``Dfun``, ``ml``, ``mu``, ``h0`` are used for the requested solution only. Derivatives are as accurate as
    those tolerances allow (with ``rtol=atol=1e-10``, 1e-9 relative or better on the tests' problems).

    Parameters
    ----------
    func : callable
        ``func(y, t, *args)`` (``func(t, y, *args)`` with ``tfirst=True``) returning ``dy/dt`` of shape ``(n,)``
        (an array, a list of scalars or ``np.stack([...])``; not ``np.array([...])`` of computed values, which
        cannot hold the dual numbers derivatives run it on). Plain numpy code. Values being differentiated must come in through
        ``y``, ``t`` or ``args``: a closure over one raises :class:`hodiff.HodiffError`.
    y0 : array_like, shape (n,)
    t : array_like, shape (nt,)
        Output times, monotonic; ``y(t[0]) = y0``.
    args : tuple
        Extra arguments of ``func``; floating-point scalars and arrays are differentiable, anything else (ints,
        strings, objects) is passed along as a constant.
    full_output : bool
        Also return scipy's ``infodict`` of the requested solve.
    Dfun, col_deriv, ml, mu, rtol, atol, tcrit, h0, hmax, hmin, ixpr, mxstep, mxhnil, mxordn, mxords, printmessg, tfirst
        As in ``scipy.integrate.odeint``.

    Returns
    -------
    y : ndarray or hodiff box, shape (nt, n)
        ``y[i]`` approximates the solution at ``t[i]``.
    infodict : dict
        Only with ``full_output``: scipy's, for the requested solve.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.integrate import odeint
    >>> decay = lambda y, t, k: -k * y
    >>> y_end = lambda k: odeint(decay, np.array([1.0]), np.array([0.0, 2.0]), args=(k,),
    ...                          rtol=1e-10, atol=1e-10)[-1, 0]
    >>> float(np.round(hd.grad(y_end)(0.5), 6))   # d/dk exp(-2k) = -2 exp(-2k)
    -0.735759
    """
    if not isinstance(args, tuple):
        args = (args,)
    y0 = _vector(y0, "odeint: y0")
    t = _vector(t, "odeint: t")
    p, rebuild = _pack_args(args)

    fn = _user_rhs(lambda y, tt, a: func(tt, y, *a) if tfirst else func(y, tt, *a), rebuild, "odeint")
    opts = {"rtol": rtol, "atol": atol, "tcrit": tcrit, "h0": h0, "hmax": hmax, "hmin": hmin, "ixpr": ixpr,
            "mxstep": mxstep, "mxhnil": mxhnil, "mxordn": mxordn, "mxords": mxords, "printmessg": printmessg,
            "col_deriv": col_deriv, "ml": ml, "mu": mu}
    if Dfun is not None:
        opts["Dfun"] = lambda y, tt, pp: Dfun(tt, y, *rebuild(pp)) if tfirst else Dfun(y, tt, *rebuild(pp))
    sink: dict[str, Any] = {}
    y = solve(fn, y0, t, p, Solver("odeint", opts, who="odeint"), sink)
    return (y, sink.get("info")) if full_output else y


def solve_ivp(fun: Callable[..., Any], t_span: Sequence[Any], y0: ArrayLike, method: str = "RK45",
              t_eval: ArrayLike | None = None, dense_output: bool = False, events: Any = None,
              vectorized: bool = False, args: tuple | None = None, **options: Any) -> OptimizeResult:
    r"""Solve ``dy/dt = fun(t, y, *args)`` with ``scipy.integrate.solve_ivp``, differentiably.

    Same arguments and result fields as ``scipy.integrate.solve_ivp``: ``t``, ``y`` (shape ``(n, len(t))``),
    ``success``, ``status``, ``message``, ``nfev``, ``njev``, ``nlu``. ``y`` is differentiable, to any order,
    forward and reverse, with respect to ``y0``, ``t_span``, ``t_eval`` and every floating-point scalar or array in
    ``args``: forward sensitivities and the adjoint method, integrated by the same ``method`` with the same
    ``rtol``, ``atol``, ``max_step`` (``jac``, ``jac_sparsity``, ``lband``, ``uband``, ``first_step`` are used for
    the requested solution only).

    Without ``t_eval`` the output times are the solver's own steps: the first and last are ``t_span`` (and carry
    its derivative), the ones in between are taken as fixed times (the step selection is not differentiable).
    With ``t_eval``, ``y`` does not depend on ``t_span[1]``.

    Parameters
    ----------
    fun : callable
        ``fun(t, y, *args)`` returning ``dy/dt``, shape ``(n,)``; plain numpy code. Values being differentiated
        must come in through ``t``, ``y`` or ``args``: a closure over one raises :class:`hodiff.HodiffError`.
    t_span : pair of floats
    y0 : array_like, shape (n,)
    method : str
        ``"RK45"``, ``"RK23"``, ``"DOP853"``, ``"Radau"``, ``"BDF"`` or ``"LSODA"`` (a class is accepted too).
    t_eval : array_like, optional
    dense_output, events : not supported
        Raise ``NotImplementedError`` (their results are not differentiable here).
    vectorized : bool
        Accepted and ignored: ``fun`` is always called with one state.
    args : tuple, optional
    **options
        Passed to scipy (``rtol``, ``atol``, ``max_step``, ``first_step``, ``jac``, ...).

    Returns
    -------
    scipy.optimize.OptimizeResult
        With ``t`` (plain array), ``y`` (array or hodiff box), ``sol``, ``t_events``, ``y_events`` (None) and scipy's
        ``nfev``, ``njev``, ``nlu``, ``status``, ``message``, ``success`` of the requested solve.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.scipy.integrate import solve_ivp
    >>> end = lambda y0: solve_ivp(lambda t, y: -y, (0.0, 1.0), y0, rtol=1e-10, atol=1e-12).y[0, -1]
    >>> float(np.round(hd.grad(end)(np.array([2.0]))[0], 8))   # d/dy0 y0 exp(-1)
    0.36787944
    """
    if dense_output or events is not None:
        raise NotImplementedError("hodiff.scipy.integrate.solve_ivp: dense_output and events are not supported "
                                  "(their results are not differentiable here); use t_eval for the output times")
    del vectorized   # fun is always called with one state
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    if len(t_span) != 2:
        raise ValueError("solve_ivp: t_span must be a pair (t0, tf)")
    t0, tf = t_span
    y0 = _vector(y0, "solve_ivp: y0")
    p, rebuild = _pack_args(args)

    fn = _user_rhs(lambda y, tt, a: fun(tt, y, *a), rebuild, "solve_ivp")
    if callable(options.get("jac")):
        user_jac = options["jac"]
        options["jac"] = lambda y, tt, pp: user_jac(tt, y, *rebuild(pp))
    solver = Solver("ivp", options, method=method, who="solve_ivp")
    ends = [t0 if is_plain(t0) else np.reshape(t0, (1,)), tf if is_plain(tf) else np.reshape(tf, (1,))]
    if t_eval is None:
        # the solver picks the times: one plain run finds them, then they are fixed outputs between t_span's ends
        pp = np.asarray(hd.stop_gradient(p))
        opts = dict(options)
        if callable(opts.get("jac")):
            flat_jac = opts["jac"]
            opts["jac"] = lambda tt, y: flat_jac(y, tt, pp)
        rhs = plain_rhs(fn, pp, "solve_ivp")
        info = si.solve_ivp(lambda tt, y: rhs(y, tt), (float(hd.stop_gradient(t0)), float(hd.stop_gradient(tf))),
                            np.asarray(hd.stop_gradient(y0)), method=method, **opts)
        if all(is_plain(v) for v in (y0, p, t0, tf)):
            y = info.y.T    # nothing to differentiate: scipy's answer as it is
        else:
            # the same times again, through the primitive; the last is t_span[1] only if the solver got there
            inner = info.t[1:-1] if info.success else info.t[1:]
            times = _vector([ends[0], inner] + ([ends[1]] if info.success and info.t.size > 1 else []), "t")
            y = solve(fn, y0, times, p, solver)
        t_out = info.t
    else:
        times = _vector([ends[0], _vector(t_eval, "solve_ivp: t_eval")], "t")   # the start, then the requested times
        sink: dict[str, Any] = {}
        y = solve(fn, y0, times, p, solver, sink)[1:]
        info = sink.get("info")
        t_out = np.asarray(hd.stop_gradient(times))[1:]
        if info is not None and not info.success:   # scipy returns the times it reached (the rest are nan here)
            k = int(np.sum(~np.isnan(np.asarray(hd.stop_gradient(y))).any(axis=1)))
            y, t_out = y[:k], t_out[:k]
    res = OptimizeResult(t=t_out, y=np.transpose(y), sol=None, t_events=None, y_events=None)
    if info is None:   # an empty interval
        res.update(nfev=0, njev=0, nlu=0, status=0, message="The solver successfully reached the end of the "
                   "integration interval.", success=True)
    else:
        res.update(nfev=info.nfev, njev=info.njev, nlu=info.nlu, status=info.status, message=info.message,
                   success=info.success)
    return res
