"""The primitive table, continued: scans, products, joins and Einstein sums.

Same conventions as ``prims.py``. ``cumsum``, ``cumprod`` and ``prod`` act on the last axis only (the
composites in ``_src/numpy/namespace.py`` move any axis there), which keeps their rules short and batch-safe.
"""
from __future__ import annotations

import string

import numpy as np

from ..core.engine import dtype_of, Primitive, Variadic, bind, lower, ndim_of, shape_of, size_of
from .elementwise import divide, multiply, where
from .indexing import getitem, reshape
from .reductions import broadcast_to, sum_axes


def _last_cost(ans, x, **p):
    return size_of(x), 8 * (size_of(x) + size_of(ans))


def _last_domain(lo, hi):
    def draw(rng):
        x = rng.uniform(lo, hi, size=[(4,), (2, 3), (2, 1, 4)][rng.integers(3)])
        if rng.integers(4) == 0:   # exact zeros take the rules' other branch
            x.reshape(-1)[rng.integers(x.size)] = 0.0
        return (x,), {}
    return draw


def _rev_last(x):
    nd = ndim_of(x)
    return getitem(x, (slice(None),) * (nd - 1) + (slice(None, None, -1),))


def _expand_last(x, at=-1):
    s = tuple(shape_of(x))
    i = len(s) + 1 + at if at < 0 else at
    return reshape(x, s[:i] + (1,) + s[i:])


_cumsum = Primitive(
    "cumsum_last", lambda x: np.cumsum(x, axis=-1),
    (lambda t, ans, x: cumsum_last(t),),
    (lambda g, ans, x: _rev_last(cumsum_last(_rev_last(g))),),
    linear=True, cost=_last_cost, domain=_last_domain(-2, 2))


def cumsum_last(x):
    """Cumulative sum along the last axis."""
    return bind(_cumsum, x)


def _replaced(x):
    """``X[..., i, j] = 1 if i == j else x[..., j]``: row i is x with its i-th entry taken out of a product."""
    k = shape_of(x)[-1]
    return where(np.eye(k, dtype=bool), 1.0, _expand_last(x, -2))


def _all_nonzero(xb):
    return np.all(xb != 0)


def _no_zeros(x):
    """Whether ``x`` has no zero entry: a guard of the path under ``hd.jit`` (the test is recorded, not frozen)."""
    return bool(lower(_all_nonzero, x))


def _others(x, ans):
    """The product of all entries but one along the last axis, for each one; exact even where x has zeros."""
    if _no_zeros(x):
        return divide(_expand_last(ans), x)
    return prod_last(_replaced(x))


_prod = Primitive(
    "prod_last", lambda x: np.prod(x, axis=-1),
    (lambda t, ans, x: sum_axes(multiply(t, _others(x, ans)), (-1,), False),),
    (lambda g, ans, x: multiply(_expand_last(g), _others(x, ans)),),
    cost=_last_cost, domain=_last_domain(-2, 2))


def prod_last(x):
    """Product along the last axis."""
    return bind(_prod, x)


def _upper(k):
    """M[i, k] = 1 where output k depends on input i (k >= i)."""
    return np.triu(np.ones((k, k)))


def _cumprod_jvp(t, ans, x):
    if _no_zeros(x):
        return multiply(ans, cumsum_last(divide(t, x)))
    Y = multiply(cumprod_last(_replaced(x)), _upper(shape_of(x)[-1]))
    return sum_axes(multiply(_expand_last(t), Y), (-2,), False)


def _cumprod_vjp(g, ans, x):
    if _no_zeros(x):
        return divide(_rev_last(cumsum_last(_rev_last(multiply(g, ans)))), x)
    Y = multiply(cumprod_last(_replaced(x)), _upper(shape_of(x)[-1]))
    return sum_axes(multiply(_expand_last(g, -2), Y), (-1,), False)


_cumprod = Primitive("cumprod_last", lambda x: np.cumprod(x, axis=-1), (_cumprod_jvp,), (_cumprod_vjp,),
                     cost=_last_cost, domain=_last_domain(-2, 2))


def cumprod_last(x):
    """Cumulative product along the last axis."""
    return bind(_cumprod, x)


# ----------------------------------------------------------------------------------------------------------------
# concatenate: variadic, with a joint JVP (absent tangents become zeros once, not one scatter per argument)

def _concat_vjp(i, g, ans, *xs, axis):
    start = sum(shape_of(x)[axis] for x in xs[:i])
    n = shape_of(xs[i])[axis]
    nd = ndim_of(g)
    return getitem(g, (slice(None),) * (nd + axis) + (slice(start, start + n),))


def _concat_jvp(tangents, ans, *xs, axis):
    ref = next((t, x) for t, x in zip(tangents, xs) if t is not None)
    lead = tuple(shape_of(ref[0])[:ndim_of(ref[0]) - ndim_of(ref[1])])
    dtype = dtype_of(ans)
    ts = [t if t is not None else np.zeros(lead + tuple(shape_of(x)), dtype=dtype) for t, x in zip(tangents, xs)]
    return concatenate_(ts, axis)


def _concat_domain(rng):
    k = int(rng.integers(1, 4))
    axis = int(rng.integers(-2, 0))
    shapes = []
    for _ in range(k):
        s = [2, 3]
        s[axis] = int(rng.integers(1, 4))
        shapes.append(tuple(s))
    return tuple(rng.uniform(-2, 2, size=s) for s in shapes), {"axis": axis}


_concat = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis), Variadic(None),
                    Variadic(_concat_vjp), linear=True, jvp_joint=_concat_jvp,
                    cost=lambda ans, *xs, **p: (0, 16 * size_of(ans)), domain=_concat_domain)


def concatenate_(arrays, axis):
    """Join arrays along an existing (negative) axis."""
    return bind(_concat, *arrays, axis=axis)


# ----------------------------------------------------------------------------------------------------------------
# einsum: variadic, each rule an einsum of the others

_LETTERS = string.ascii_letters


def normalize_subscripts(subscripts, ndims):
    """Explicit subscripts ``'ij,jk->ik'`` without spaces or ellipses, for operands of the given ndims."""
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, out = s.split("->")
    else:
        ins, out = s, None
    ins = ins.split(",")
    if len(ins) != len(ndims):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(ndims)} operands")
    used = {c for c in s if c.isalpha()}
    free = [c for c in _LETTERS if c not in used]
    ell = max([nd - len(spec.replace("...", "")) for spec, nd in zip(ins, ndims) if "..." in spec] or [0])
    ell_letters = "".join(free[:ell])
    new_ins = []
    for spec, nd in zip(ins, ndims):
        if "..." in spec:
            k = nd - len(spec.replace("...", ""))
            spec = spec.replace("...", ell_letters[ell - k:])
        if len(spec) != nd:
            raise ValueError(f"einsum: subscripts {spec!r} do not match an operand with {nd} dimensions")
        new_ins.append(spec)
    if out is None:
        counts = {}
        for c in "".join(new_ins):
            counts[c] = counts.get(c, 0) + 1
        out = ell_letters + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell_letters))
    else:
        out = out.replace("...", ell_letters)
    return ",".join(new_ins) + "->" + out


def _einsum_jvp(i, t, ans, *ops, subscripts):
    ins, out = subscripts.split("->")
    ins = ins.split(",")
    k = ndim_of(t) - ndim_of(ops[i])
    if k:
        used = set(subscripts)
        lead = "".join([c for c in _LETTERS if c not in used][:k])
        ins[i] = lead + ins[i]
        out = lead + out
    args = list(ops)
    args[i] = t
    return einsum_(",".join(ins) + "->" + out, args)


def _einsum_vjp(i, g, ans, *ops, subscripts):
    ins, out = subscripts.split("->")
    ins = ins.split(",")
    target = ins[i]
    if len(set(target)) != len(target):
        raise NotImplementedError(f"einsum: the derivative for an operand with a repeated index ({target!r}, a "
                                  "diagonal) is not supported; take the diagonal with hd.diagonal first")
    others = [s for j, s in enumerate(ins) if j != i]
    avail = set(out) | set("".join(others))
    reduced = "".join(c for c in target if c in avail)
    r = einsum_(",".join([out] + others) + "->" + reduced, [g] + [o for j, o in enumerate(ops) if j != i])
    if reduced != target:
        shape = tuple(shape_of(ops[i]))
        r = reshape(r, tuple(d if c in avail else 1 for c, d in zip(target, shape)))
        r = broadcast_to(r, shape)
    return r


def _einsum_domain(rng):
    spec, shapes = [("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->", [(3,), (3,)]), ("ij->j", [(2, 3)]),
                    ("ijk,ik->j", [(2, 3, 4), (2, 4)]), ("i,j->ij", [(2,), (3,)]),
                    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)])][rng.integers(6)]
    return tuple(rng.uniform(-2, 2, size=s) for s in shapes), {"subscripts": spec}


def _einsum_cost(ans, *ops, subscripts):
    sizes = {}
    for spec, o in zip(subscripts.split("->")[0].split(","), ops):
        sizes.update(zip(spec, shape_of(o)))
    return 2 * int(np.prod(list(sizes.values()), dtype=np.int64)), 8 * (size_of(ans) + sum(size_of(o) for o in ops))


_einsum = Primitive("einsum", lambda *ops, subscripts: np.einsum(subscripts, *ops, optimize=len(ops) > 2),
                    Variadic(_einsum_jvp), Variadic(_einsum_vjp), linear=True, cost=_einsum_cost,
                    domain=_einsum_domain)


def einsum_(subscripts, operands):
    return bind(_einsum, *operands, subscripts=subscripts)


def einsum(subscripts, *operands):
    """Einstein summation (``numpy.einsum``), differentiable in every operand.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> A = np.arange(6.0).reshape(2, 3)
    >>> hd.grad(lambda x: hd.einsum("ij,j->", A, x))(np.ones(3))
    array([3., 5., 7.])
    """
    if not isinstance(subscripts, str):
        raise TypeError("hodiff's einsum takes the subscripts string form, e.g. einsum('ij,jk->ik', a, b)")
    return einsum_(normalize_subscripts(subscripts, [ndim_of(o) for o in operands]), list(operands))


__all__ = ["concatenate_", "cumprod_last", "cumsum_last", "einsum", "normalize_subscripts", "prod_last"]
