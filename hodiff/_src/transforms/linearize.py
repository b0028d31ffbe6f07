"""``linearize``: evaluate a function once, replay its tangent computation for many tangents.

The transform over the linear-recording interpreter (``interpreters/linearize.py`` explains how the recording
works): :func:`record` opens the recording level and a forward level above it, runs ``f`` once, and compiles the
recording into a :class:`~hodiff._src.interpreters.linearize.LinearProgram`; :func:`linearize` wraps the program
as ``jvp_fn``. :func:`hodiff.hessian_operator` records through :func:`record` too.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core.engine import dtype_of, Box, base_value, opened, shape_of
from ..interpreters.forward import Dual, ForwardTrace
from ..interpreters.linearize import LinearBox, LinearProgram, LinearTrace, compile_steps
from .boundary import arg_leaves, as_input, leaves_like, as_output, output_leaves, rebuild, refuse_complex, snapshot_program

__all__ = ["linearize", "record"]


def record(f, primals, tangents=None, batch=None, keep=None):
    """Run ``f`` on duals whose tangents are boxes of a recording level opened first; compile the recording.

    Returns ``(out, is_seq, primal_outs, tangent_outs, program)``: ``f``'s raw output, whether it was a tuple/list,
    the primal output values, the tangent outputs computed while recording (for ``tangents``, zeros when ``None``)
    and the :class:`LinearProgram`. ``keep`` (indices of outputs) limits the program to those outputs' tangents.
    """
    lin = LinearTrace()                     # the lowest level: opened before the forward level
    fwd = ForwardTrace(batch=batch)
    lead = () if batch is None else (int(batch),)
    with opened(lin), opened(fwd):
        duals, in_shapes, in_dtypes = [], [], []
        for k, p in enumerate(primals):
            if isinstance(p, Box):
                raise TypeError("linearize: the point must be plain numbers or arrays, not values traced by another "
                                "transform")
            p = as_input(p, "linearize")
            if isinstance(p, np.ndarray):
                p = p.copy()                 # the program keeps views of the point: later edits must not reach it
            dtype = np.result_type(dtype_of(p), np.float32)
            tshape = lead + tuple(shape_of(p))
            if tangents is None:
                t0 = np.zeros(tshape, dtype=dtype)
            else:
                t0 = np.asarray(tangents[k], dtype=dtype)
                if t0.shape != tshape:
                    raise ValueError(f"linearize: tangent shape {t0.shape} does not match {tshape}")
            duals.append(Dual(p, lin.input(t0), fwd))
            in_shapes.append(tshape)
            in_dtypes.append(dtype)
        out = f(*duals)
    is_seq = isinstance(out, (list, tuple))
    outs = list(out) if is_seq else [out]
    primal_outs, tangent_outs, kinds = [], [], []
    for j, o in enumerate(outs):
        is_dual = type(o) is Dual and o._trace is fwd
        if isinstance(o, Box) and not is_dual:
            raise TypeError("linearize: the function returned a value traced by a transform that has finished")
        primal_outs.append(o.primal if is_dual else o)
        if keep is not None and j not in keep:
            kinds.append(("drop",))
            tangent_outs.append(None)
        elif is_dual and type(o.tangent) is LinearBox and o.tangent._trace is lin:
            kinds.append(("slot", o.tangent._slot))
            tangent_outs.append(o.tangent._value)
        elif is_dual:                        # a tangent that does not depend on the input tangents
            c = np.asarray(base_value(o.tangent))
            kinds.append(("const", c))
            tangent_outs.append(c)
        else:                                # an output that does not depend on the input at all
            b = np.asarray(o)
            dtype = b.dtype if b.dtype.kind in "fc" else np.float64
            kinds.append(("zero", lead + b.shape, dtype))
            tangent_outs.append(np.zeros(lead + b.shape, dtype=dtype))
    out_slots = [k[1] for k in kinds if k[0] == "slot"]
    steps, n_slots, renum, max_size = compile_steps(lin.steps, len(primals), out_slots)
    lin.steps = None
    outputs = [("slot", renum[k[1]]) if k[0] == "slot" else k for k in kinds]
    max_size = max([max_size] + [int(np.prod(s, dtype=np.int64)) for s in in_shapes])
    program = LinearProgram(steps, n_slots, outputs, tuple(in_shapes), tuple(in_dtypes), batch, max_size)
    return out, is_seq, primal_outs, tangent_outs, program


def _finish(program, results, is_seq, out_type):
    vals = []
    for o, r in zip(program._outputs, results):
        if o[0] == "zero":
            r = np.zeros(o[1], dtype=o[2])
        elif o[0] == "const" and program.batch is not None and np.shape(r)[:1] != (program.batch,):
            r = np.broadcast_to(r, (program.batch,) + np.shape(r)).copy()
        vals.append(as_output(r))
    return out_type(vals) if is_seq else vals[0]


def linearize(f: Callable[..., Any], *primals: Any, batch: int | None = None) -> tuple[Any, Callable[..., Any]]:
    """Evaluate ``f`` once at ``primals`` and return ``(f(*primals), jvp_fn)``; ``jvp_fn(*tangents)`` replays
    only the tangent computation.

    ``jvp_fn(v)`` equals ``hd.jvp(f, primals, (v,))[1]`` but does not run ``f`` again: the forward-mode tangent
    work was recorded during the one evaluation, as a straight-line program linear in ``v`` (constants such as
    ``cos(x)`` are computed once and kept), and each call replays that program on plain numpy arrays. Use it when
    the same Jacobian is applied to many vectors: iterative solvers, eigensolvers, Newton steps. Linearizing a
    gradient gives Hessian-vector products (see :func:`hodiff.hessian_operator`).

    Parameters
    ----------
    f : callable
        A function of arrays returning an array, or a pytree of arrays (a tuple, a dict, ...).
    *primals : array_like or pytree
        The point, one array (or pytree of arrays) per positional argument of ``f``; each tangent has its
        primal's structure.
    batch : int, optional
        Record for ``batch`` tangents at once: ``jvp_fn`` then takes tangents of shape ``(batch,) + x.shape``
        and returns outputs with the same leading axis (a Jacobian-matrix product in one replay).

    Returns
    -------
    out : array or tuple
        ``f(*primals)``.
    jvp_fn : callable
        ``jvp_fn(*tangents)``, one tangent per primal, of the primal's shape (``(batch,) +`` it with ``batch``),
        returns ``J tangents`` with ``out``'s structure. It keeps the recorded constants (memory of the order of
        what the tangent computation reads) and can be called any number of times; ``jvp_fn.program`` is the
        recorded :class:`~hodiff._src.interpreters.linearize.LinearProgram`. The point and the constant arrays
        the recording kept (among them arrays ``f`` closes over) are copied, so later writes into the caller's
        arrays do not change the replay.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> y, f_jvp = hd.linearize(lambda x: np.sin(x) * x, np.array([0.0, 1.0]))
    >>> f_jvp(np.array([1.0, 1.0]))          # (x cos(x) + sin(x)) v
    array([0.        , 1.38177329])
    """
    if not primals:
        raise TypeError("linearize(f, *primals) needs at least one primal")
    leaves, tds = [], []
    for i, p in enumerate(primals):
        if isinstance(p, Box):
            raise TypeError("linearize: the point must be plain numbers or arrays, not values traced by another "
                            "transform")
        lv, td = arg_leaves(p, "linearize", f, i)
        leaves.append(lv)
        tds.append(td)
    counts = [len(lv) for lv in leaves]
    out_def = []

    def f_leaves(*flat):
        trees, k = [], 0
        for td, c in zip(tds, counts):
            trees.append(rebuild(td, list(flat[k:k + c])))
            k += c
        lv, otd = output_leaves(f(*trees), "linearize")
        out_def.append(otd)
        return tuple(lv)
    _, _, primal_outs, _, program = record(f_leaves, [v for lv in leaves for v in lv], None, batch)
    otd = out_def[0]
    snapshot_program(program)          # constants f captured: later writes into them must not reach jvp_fn
    n_in = len(primals)
    shapes, dtypes = iter(program.in_shapes), iter(program.in_dtypes)
    per_arg = [[(next(shapes), next(dtypes)) for _ in range(c)] for c in counts]

    def jvp_fn(*tangents):
        if len(tangents) != n_in:
            raise TypeError(f"jvp_fn takes {n_in} tangent(s), one per primal; got {len(tangents)}")
        ts = []
        for t, td, sd in zip(tangents, tds, per_arg):
            t_lv = leaves_like(t, td, "jvp_fn", "tangent", "primal")
            for v, (shape, dtype) in zip(t_lv, sd):
                if not isinstance(v, Box):
                    refuse_complex(v, np.zeros((), dtype), "linearize")
                    v = np.asarray(v, dtype=dtype)
                if tuple(shape_of(v)) != shape:
                    raise ValueError(f"jvp_fn: tangent shape {tuple(shape_of(v))} does not match the primal's "
                                     f"{shape}")
                ts.append(v)
        return rebuild(otd, list(_finish(program, program(*ts), True, list)))
    jvp_fn.program = program  # type: ignore[attr-defined]
    return rebuild(otd, [as_output(p) for p in primal_outs]), jvp_fn
