"""The functional API (JAX / HIPS-autograd style): transforms of plain numpy functions.

Each transform opens fresh levels on entry and closes them on exit: ``grad`` and ``vjp`` a reverse level (inputs
wrapped as :class:`~hodiff.Tensor` of that level), ``jvp`` and ``jacfwd`` a forward level (inputs wrapped as
:class:`~hodiff.Dual`), ``hvp`` and ``hessian`` a forward level under a reverse one: the gradient comes back as a dual
number whose tangent is the Hessian-vector product (forward-over-reverse). Transforms take and return numpy arrays
(0-d results as numpy scalars) and nest to any depth.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..numpy import namespace as N
from ..numpy import shape as S
from ..core.engine import dtype_of, Box, base_value, opened, shape_of
from ..interpreters.forward import Dual, ForwardTrace
from ..interpreters.backward import backprop
from ..interpreters.reverse import ReverseTrace, Tensor
from ..core.pytree import structure, unflatten
from ..core.pytree_nest import Layout, layout, nest_jacobian
from .boundary import (_root_name, arg_leaves, as_input, as_output, check_argnums, check_chunk_size, check_fits,
                       eye_chunk, float_dtype, float_zeros_like, fresh, leaves_like, output_leaves, rebuild,
                       refuse_complex, scalar_seed, snapshot_constants, unbox_aux)

_LEAF = structure(0.0)
# tangent dtypes that np.asarray(v, dtype=np.result_type(p, np.float32)) keeps as they are when p has the same dtype
_AS_IS = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.complex128), np.dtype(np.complex64))

__all__ = ["flat_problem", "nest_result", "grad", "hvp", "jacfwd", "jacobian", "jacrev", "jvp", "value_and_grad", "vjp"]


def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """Return a function giving ``(f(*args), gradient of f)`` in one reverse sweep.

    ``f`` must return a scalar, or an array with exactly one element (or ``(scalar, aux)`` with ``has_aux=True``;
    ``aux`` may be any pytree). The differentiated arguments may be pytrees; each gradient has its argument's
    structure. See :func:`grad`.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))
    """
    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        single, nums = check_argnums(argnums, len(args), "grad")
        trace = ReverseTrace()
        with opened(trace):
            args = list(args)
            boxes, tds = [], []
            for i in nums:
                lv, td = arg_leaves(args[i], "grad", f, i)
                bs = [Tensor._make(v, trace, True) for v in lv]
                args[i] = rebuild(td, bs)
                boxes.append(bs)
                tds.append(td)
            res = f(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise TypeError("with has_aux=True the function must return a pair (output, aux)")
                res, aux = res
                aux = unbox_aux(aux, trace)
            val, seed = scalar_seed(res, trace, "grad")
            found = {}
            if type(res) is Tensor and res._trace is trace and res.requires_grad:
                found = backprop([res._node], [seed], targets=[b._node for bs in boxes for b in bs], tape=trace.tape)
            grads = [rebuild(td, [as_output(found[id(b._node)][1]) if id(b._node) in found
                                  else as_output(float_zeros_like(b._value)) for b in bs])
                     for bs, td in zip(boxes, tds)]
        g = grads[0] if single else tuple(grads)
        return ((as_output(val), aux), g) if has_aux else (as_output(val), g)
    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """Return a function computing the gradient of the scalar function ``f`` by reverse mode.

    For ``f: R^n -> R`` (any input shape), ``grad(f)(x)`` is the array of ``df/dx_i``, of ``x``'s shape, at the cost
    of a small constant times one evaluation of ``f``. ``f`` may be written with plain numpy functions.

    Parameters
    ----------
    f : callable
        Returns a scalar (0-d, or an array with exactly one element); with ``has_aux=True``, a pair
        ``(scalar, aux)``.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to; a tuple gives a tuple of gradients. Each
        argument may be a pytree (dicts, lists, tuples, namedtuples of arrays): its gradient has its structure.
    has_aux : bool
        Return ``(gradient, aux)``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.grad(lambda x: np.sum(np.sin(x)))(np.array([0.0, np.pi]))
    array([ 1., -1.])
    >>> hd.grad(hd.grad(hd.grad(np.sin)))(0.7) == -np.cos(0.7)
    np.True_
    """
    vg = value_and_grad(f, argnums=argnums, has_aux=has_aux)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        res, g = vg(*args, **kwargs)
        return (g, res[1]) if has_aux else g
    return grad_f


def _tangent_leaves(p_lv, td, t, what):
    """The tangent leaves matching the primal leaves ``p_lv`` (structure ``td``): same structure, same shapes, real
    on a real point."""
    t_lv = leaves_like(t, td, what, "tangent", "primal")
    out = []
    for p, v in zip(p_lv, t_lv):
        if (type(v) is np.ndarray and type(p) is np.ndarray and v.dtype == p.dtype and p.dtype in _AS_IS
                and v.shape == p.shape):
            out.append(v)     # the common case: what the checks and the conversion below would give
            continue
        refuse_complex(v, p, what)
        v = v if isinstance(v, Box) else np.asarray(v, dtype=np.result_type(dtype_of(p), np.float32))
        if tuple(shape_of(v)) != tuple(shape_of(p)):
            raise ValueError(f"{what}: tangent shape {tuple(shape_of(v))} does not match primal shape "
                             f"{tuple(shape_of(p))}")
        out.append(v)
    return out


def jvp(f: Callable[..., Any], primals: tuple | list, tangents: tuple | list) -> tuple[Any, Any]:
    """Forward mode: ``(f(*primals), J(primals) @ tangents)`` in one pass with dual numbers.

    Parameters
    ----------
    primals, tangents : tuple
        The point and a direction for each argument (same structures and shapes). Each argument may be a pytree;
        its tangent then has the same structure.

    Returns
    -------
    out, tangent_out
        ``f(*primals)`` and its directional derivative, both with the structure of ``f``'s output (an array or a
        pytree of arrays); new arrays, never the caller's own buffers.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.jvp(np.sin, (0.0,), (2.0,))
    (np.float64(0.0), np.float64(2.0))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents): primals and tangents must be tuples, e.g. jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    trace = ForwardTrace()
    ins = []
    with opened(trace):
        args = []
        for i, (p, t) in enumerate(zip(primals, tangents)):
            p_lv, td = arg_leaves(p, "jvp", f, i)
            t_lv = _tangent_leaves(p_lv, td, t, "jvp")
            ins += p_lv + t_lv
            args.append(rebuild(td, [Dual(a, b, trace) for a, b in zip(p_lv, t_lv)]))
        out = f(*args)
    o_lv, otd = output_leaves(out, "jvp")
    ps, ts = [], []
    for o in o_lv:
        if type(o) is Dual and o._trace is trace:
            ps.append(fresh(as_output(o.primal), *ins))
            ts.append(fresh(as_output(o.tangent), *ins))
        else:
            ps.append(fresh(as_output(o), *ins))
            ts.append(as_output(float_zeros_like(o)))
    return rebuild(otd, ps), rebuild(otd, ts)


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """Reverse mode: ``(f(*primals), vjp_fn)`` where ``vjp_fn(g)`` returns the tuple of ``g^T J`` per argument.

    ``f`` is recorded once; ``vjp_fn`` can be called many times (each call is one backward sweep). Arguments and
    output may be pytrees: ``g`` has the output's structure and each result its argument's. The point, and the
    arrays ``f`` captured that the recording saved, are copied at the call, so later writes into the caller's arrays
    do not reach ``vjp_fn``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> out, vjp_fn = hd.vjp(lambda x: x * x, np.array([1.0, 3.0]))
    >>> vjp_fn(np.ones(2))
    (array([2., 6.]),)
    """
    trace = ReverseTrace()
    with opened(trace):
        args, boxes, tds = [], [], []
        for i, p in enumerate(primals):
            lv, td = arg_leaves(p, "vjp", f, i, copy=True)
            bs = [Tensor._make(v, trace, True) for v in lv]
            args.append(rebuild(td, bs))
            boxes.append(bs)
            tds.append(td)
        out = f(*args)
    o_lv, otd = output_leaves(out, "vjp")
    live = [type(o) is Tensor and o._trace is trace and o.requires_grad for o in o_lv]
    vals = [o._value if (type(o) is Tensor and o._trace is trace) else o for o in o_lv]
    shapes = [tuple(shape_of(v)) for v in vals]
    targets = [b._node for bs in boxes for b in bs]
    # the point was copied above; the constants f captured are copied here (see snapshot_constants for the cost)
    snapshot_constants([o._node for o, lv in zip(o_lv, live) if lv])

    def vjp_fn(g):
        g_lv = leaves_like(g, otd, "vjp_fn", "cotangent", "output")
        for gi, shape in zip(g_lv, shapes):
            if tuple(shape_of(gi)) != shape:
                raise ValueError(f"vjp_fn: the cotangent has shape {tuple(shape_of(gi))}; the output has shape {shape}")
        roots = [(o._node, gi.copy() if type(gi) is np.ndarray else gi) for o, gi, lv in zip(o_lv, g_lv, live) if lv]
        found = (backprop([r[0] for r in roots], [r[1] for r in roots], targets=targets, retain_graph=True,
                          tape=trace.tape) if roots else {})
        return tuple(rebuild(td, [as_output(found[id(b._node)][1]) if id(b._node) in found
                                  else as_output(float_zeros_like(b._value)) for b in bs])
                     for bs, td in zip(boxes, tds))
    return rebuild(otd, [fresh(as_output(v), *primals) for v in vals]), vjp_fn


def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """Hessian-vector product ``H(x) v`` of a scalar function by forward-over-reverse (Pearlmutter's trick).

    ``x`` is wrapped in a dual number with tangent ``v`` and the gradient is taken by reverse mode over it: the
    gradient comes back as a dual whose tangent is ``H v``. Costs a small constant times one gradient, whatever n.
    ``x`` may be a pytree; ``v`` then has its structure, and so has the result. A complex ``v`` at a real ``x`` is
    refused (complex derivatives are not supported).

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> f = lambda x: x[0] ** 2 * x[1]
    >>> hd.hvp(f, np.array([1.0, 2.0]), np.array([1.0, 0.0]))   # H = [[2 x1, 2 x0], [2 x0, 0]]
    array([4., 2.])
    """
    fwd = ForwardTrace()
    rev = ReverseTrace()
    with opened(fwd), opened(rev):
        lv, td = arg_leaves(x, "hvp", f, 0)
        vs = _tangent_leaves(lv, td, v, "hvp")
        boxes = [Tensor._make(Dual(a, b, fwd), rev, True) for a, b in zip(lv, vs)]
        out = f(rebuild(td, boxes))
        _, seed = scalar_seed(out, rev, "hvp")
        # only H v, the tangent of the gradient, is wanted: the gradient's own primal work is skipped where it can be
        found = (backprop([out._node], [seed], targets=[b._node for b in boxes], tape=rev.tape, tangent_of=fwd)
                 if type(out) is Tensor and out._trace is rev else {})
    return rebuild(td, [as_output(found[id(b._node)][1]) if id(b._node) in found else as_output(float_zeros_like(a))
                        for b, a in zip(boxes, lv)])


class _Flat:
    """``f`` as a function of one array: the differentiated arguments (a pytree, raveled into one vector by
    ``lay``, or one array when ``lay`` is None) go in, the output comes out raveled when it is a pytree (its layout
    is kept in ``out_layout``) or as it is when it is one array. A class, not a closure, so that process pools
    can pickle it."""

    def __init__(self, f, args, kwargs, nums, single, lay, what):
        self.f, self.args, self.kwargs, self.nums, self.single = f, args, kwargs, nums, single
        self.lay, self.what, self.out_layout = lay, what, None

    def __call__(self, x):
        a = list(self.args)
        t = x if self.lay is None else self.lay.unravel(x)
        if self.single:
            a[self.nums[0]] = t
        else:
            for k, i in enumerate(self.nums):
                a[i] = t[k]
        out = self.f(*a, **self.kwargs)
        lv, td = output_leaves(out, self.what)
        if td is None:
            self.out_layout = None
            return out
        self.out_layout = Layout(td, [tuple(shape_of(o)) for o in lv], [float_dtype(o) for o in lv])
        return S.concatenate([N.reshape(o, (-1,)) for o in lv]) if lv else np.zeros(0)


def flat_problem(f, args, kwargs, single, nums, what):
    """``(fl, x)``: the differentiated arguments of ``f`` as one array ``x`` (the argument itself when it is one
    array, else the raveled pytree, leaves checked by path) and ``fl``, ``f`` as a function of it (a :class:`_Flat`).
    Used by every transform that works on one vector: Jacobians, Hessians, operators, optimizers, checks."""
    if single and isinstance(args[nums[0]], (np.ndarray, float, np.floating, Box)):
        return _Flat(f, args, kwargs, nums, single, None, what), as_input(args[nums[0]], what)
    tree = args[nums[0]] if single else tuple(args[i] for i in nums)
    try:
        lay = layout(tree, what, _root_name(f, nums[0]) if single else "args")
    except TypeError as e:
        raise TypeError(str(e).replace("a raveled vector needs floating-point leaves", "derivatives need "
                                       "floating-point leaves")) from None
    return _Flat(f, args, kwargs, nums, single, lay, what), lay.ravel(tree)


def nest_result(J, fl, x, out_shape):
    """Rebuild a Jacobian of shape ``out_shape + x.shape`` (from :func:`flat_problem`'s ``fl`` and ``x``) with the
    output's structure outside and the input's inside; a plain array when both are single arrays."""
    if fl.lay is None and fl.out_layout is None:
        return J
    xshape = tuple(shape_of(x))
    in_lay = fl.lay or Layout(_LEAF, [xshape], [float_dtype(x)])
    out_lay = fl.out_layout or Layout(_LEAF, [tuple(out_shape)], [float_dtype(x)])
    return nest_jacobian(np.reshape(J, (out_lay.size, in_lay.size)), out_lay, in_lay)


def jacfwd(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
           chunk_size: int | None = None) -> Callable[..., Any]:
    """Jacobian by forward mode: all n directions at once as one batched dual pass (or ``chunk_size`` at a time).

    Returns an array of shape ``f(x).shape + x.shape``. Best when n (inputs) is small compared with outputs.
    Arguments and outputs may be pytrees: the result nests the output's structure outside and the differentiated
    arguments' inside (a tuple of them for a tuple ``argnums``), each block of shape ``out_leaf.shape +
    in_leaf.shape``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    return _jacobian(f, argnums, check_chunk_size(chunk_size, "jacfwd"), "jacfwd", _jacfwd_array)


def _jacobian(f, argnums, chunk_size, what, array_fn):
    """The transform ``jacfwd``/``jacrev`` return: arguments through the boundary as one flat array, the Jacobian of
    that by ``array_fn``, nested back in the arguments' and output's structures."""
    @functools.wraps(f)
    def jac(*args, **kwargs):
        single, nums = check_argnums(argnums, len(args), what)
        fl, x = flat_problem(f, args, kwargs, single, nums, what)
        J, oshape = array_fn(fl, x, chunk_size)
        return nest_result(J, fl, x, oshape)
    return jac


def _jacfwd_array(fl, x, chunk_size):
    """The Jacobian of the one-array function ``fl`` at ``x``, shape ``out.shape + x.shape``, and ``out.shape``."""
    xshape = tuple(shape_of(x))
    n = int(np.prod(xshape, dtype=np.int64))
    if n == 0:                                       # no directions: the output's shape from one plain call
        oshape = tuple(shape_of(fl(x)))
        return np.zeros(oshape + xshape, dtype=float_dtype(x)), oshape
    step = n if not chunk_size else chunk_size
    pieces, oshape = [], None
    for start in range(0, n, step):
        k = min(step, n - start)
        trace = ForwardTrace(batch=k)
        with opened(trace):
            out = fl(Dual(x, eye_chunk(n, start, k, xshape, float_dtype(x)), trace))
        if type(out) is Dual and out._trace is trace:
            oshape, t = tuple(shape_of(out.primal)), out.tangent
        else:
            oshape = tuple(shape_of(out))
            t = np.zeros((k,) + oshape, dtype=float_dtype(x))
        if start == 0 and k < n:
            check_fits(oshape + xshape, float_dtype(x), "jacfwd")
        pieces.append(t)
    t = pieces[0] if len(pieces) == 1 else S.concatenate(pieces, axis=0)
    m = int(np.prod(oshape, dtype=np.int64))
    return as_output(N.reshape(N.transpose(N.reshape(t, (n, m))), oshape + xshape)), oshape


def jacrev(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
           chunk_size: int | None = None) -> Callable[..., Any]:
    """Jacobian by reverse mode: f is recorded once, then one backward sweep carries all output directions.

    The cotangent seed is a batched dual number holding the identity, so all m rows come out of one sweep (or
    ``chunk_size`` rows per sweep). Returns an array of shape ``f(x).shape + x.shape``. For a scalar ``f`` this is
    the gradient. Best when m (outputs) is small compared with inputs. Pytrees nest as in :func:`jacfwd`. An empty
    input or output gives an empty Jacobian of the right shape.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.jacrev(lambda p: p["a"] * p["b"])({"a": np.array([1.0, 2.0]), "b": 3.0})["b"]
    array([1., 2.])
    """
    return _jacobian(f, argnums, check_chunk_size(chunk_size, "jacrev"), "jacrev", _jacrev_array)


def _jacrev_array(fl, x, chunk_size):
    """The Jacobian of the one-array function ``fl`` at ``x`` by reverse mode, and ``out.shape``."""
    rev = ReverseTrace()
    with opened(rev):
        box = Tensor._make(x, rev, True)
        out = fl(box)
    xshape = tuple(shape_of(x))
    is_box = type(out) is Tensor and out._trace is rev
    val = out._value if is_box else out
    oshape = tuple(shape_of(val))
    m = int(np.prod(oshape, dtype=np.int64))
    if m * int(np.prod(xshape, dtype=np.int64)) >= 1 << 23:   # only a large result is worth a look at the memory
        check_fits(oshape + xshape, float_dtype(x), "jacrev")
    if not is_box or m == 0:
        return as_output(np.zeros(oshape + xshape, dtype=float_dtype(x))), oshape
    if oshape == ():
        found = backprop([out._node], [np.ones((), dtype=float_dtype(val))], targets=[box._node], tape=rev.tape)
        g = found[id(box._node)][1] if id(box._node) in found else float_zeros_like(x)
        return as_output(g), oshape
    step = m if not chunk_size else chunk_size
    rows = []
    for start in range(0, m, step):
        k = min(step, m - start)
        fwd = ForwardTrace(batch=k)
        with opened(fwd):
            seed = Dual(np.zeros(oshape, dtype=float_dtype(val)),
                        eye_chunk(m, start, k, oshape, float_dtype(val)), fwd)
            found = backprop([out._node], [seed], targets=[box._node], retain_graph=start + k < m,
                             tape=rev.tape)
        g = found[id(box._node)][1] if id(box._node) in found else None
        rows.append(g.tangent if type(g) is Dual and g._trace is fwd
                    else np.zeros((k,) + xshape, dtype=float_dtype(x)))
    t = rows[0] if len(rows) == 1 else S.concatenate(rows, axis=0)
    return as_output(N.reshape(t, oshape + xshape)), oshape


jacobian = jacrev
