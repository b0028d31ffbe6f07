"""``elementwise_grad``: the derivative of an elementwise function at every element, in one reverse pass.

A transform built on two others (``vjp`` for the result, ``jvp`` for the check), for programs written
for HIPS-autograd, where ``elementwise_grad(np.tanh)(x)`` is how one plots a derivative over a grid. Nests like the
other transforms: ``elementwise_grad(elementwise_grad(f))`` is the second derivative at every element.

Why the check
-------------
One reverse pass with the cotangent ``1`` gives ``1^T J``: the column sums of the Jacobian ``J = d f(x) / d x``,
that is the gradient of ``sum(f(x))``. It equals the elementwise derivative ``diag(J)`` exactly when ``J`` is
diagonal. For a function that mixes elements (``x - x.mean()``, ``np.cumsum``, a matrix product) the column sums
are a different quantity, and returning them under this name would be a silently wrong derivative. So the result is
checked with one forward pass in a random direction ``v`` (entries uniform on ``[-1, 1)``):

* if ``J`` is diagonal then ``J v = (1^T J) * v`` elementwise;
* if ``J`` has a nonzero off-diagonal entry then ``M = J - diag(1^T J)`` is not zero, and ``M v = 0`` only for ``v``
  in a proper subspace, which a ``v`` drawn from a continuous distribution misses with probability one.

With several differentiated arguments the directions are drawn for all of them and compared in one pass:
``sum_k M_k v_k = 0`` for independent continuous ``v_k`` only if every ``M_k`` is zero (with probability one).

In floating point, output ``i`` passes when ``|a_i - b_i| <= r (max(|a_i|, |b_i|) + s)`` with ``a = J v``,
``b = (1^T J) * v``, ``r = sqrt(eps)`` of the output's dtype (``1.5e-8`` in float64) and ``s`` the largest finite
``max(|a_k|, |b_k|)``; equal infinities and NaN on both sides pass. So a coupling whose effect in direction ``v`` is
below that bound can go unnoticed. The check is local: it is about ``J`` at the
point given, which is the point the result is for. The direction comes from a fixed seed, so a given call is
accepted or refused the same way every time. Cost: one forward-mode pass, about as much as the reverse pass;
``check=False`` skips it.
"""
from __future__ import annotations

import functools
import numbers
from typing import Any, Callable

import numpy as np

from ..core.engine import Box
from ..core.pytree_nest import layout
from ..numpy.namespace import stop_gradient
from .functional import jvp, vjp

__all__ = ["elementwise_grad"]

# A fixed direction generator: the check is deterministic, and the same call is refused or accepted every time.
_CHECK_SEED = 20261206


def _shape(x) -> tuple:
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else tuple(np.shape(x))


def _dtype(x) -> np.dtype:
    dt = getattr(x, "dtype", None)
    dt = dt if isinstance(dt, np.dtype) else np.asarray(x).dtype
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _argnums(argnums, nargs: int) -> tuple[bool, tuple[int, ...]]:
    single = isinstance(argnums, numbers.Integral) and not isinstance(argnums, bool)
    nums = (argnums,) if single else tuple(argnums) if isinstance(argnums, (tuple, list)) else None
    if nums is None or not nums or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in nums):
        raise TypeError(f"elementwise_grad: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"elementwise_grad: argnums {a} is out of range for a call with {nargs} positional "
                             "arguments")
    norm = tuple(int(a) % nargs for a in nums)
    if len(set(norm)) != len(norm):
        raise ValueError(f"elementwise_grad: argnums {argnums!r} names an argument twice")
    return single, norm


def _check_diagonal(f_sel, xs, grads, out_dtype) -> None:
    """Refuse when the Jacobian is not diagonal (see the module notes): one JVP in a random direction."""
    rng = np.random.default_rng(_CHECK_SEED)
    plain = [stop_gradient(x) for x in xs]
    vs = [(2 * rng.random(_shape(x)) - 1).astype(_dtype(x)) for x in plain]
    _, jv = jvp(f_sel, tuple(plain), tuple(vs))
    jv = np.asarray(stop_gradient(jv), dtype=float)
    gv = sum(np.asarray(stop_gradient(g), dtype=float) * v for g, v in zip(grads, vs))
    rtol = float(np.sqrt(np.finfo(out_dtype).eps))
    with np.errstate(invalid="ignore"):
        diff = np.abs(jv - gv)
        scale = np.maximum(np.abs(jv), np.abs(gv))
        top = np.max(scale, where=np.isfinite(scale), initial=0.0)
        bad = ~(diff <= rtol * (scale + top))                     # NaN differences count as bad here...
    if bad.any():
        bad &= ~((jv == gv) | (np.isnan(jv) & np.isnan(gv)))     # ...unless equal infinities or NaN on both sides
    if not bad.any():
        return
    i = tuple(int(j) for j in np.unravel_index(int(np.argmax(bad)), bad.shape))
    if not (np.isfinite(jv[i]) and np.isfinite(gv[i])):
        raise ValueError(
            f"elementwise_grad: the check could not be made at output {list(i)}: there forward mode gives "
            f"{jv[i]:.6g} and reverse mode {gv[i]:.6g} (times a random direction). If f is elementwise, pass "
            "check=False.")
    raise ValueError(
        "elementwise_grad: the function is not elementwise: its outputs depend on other elements of its input "
        f"(in a random direction v, the derivative of output {list(i)} is {jv[i]:.6g}, while an elementwise "
        f"function would give {gv[i]:.6g}). Its Jacobian is not diagonal, so no elementwise derivative exists. "
        "Use hd.jacobian(f)(x) for the full Jacobian, or hd.grad(lambda x: f(x).sum())(x) if the gradient of the "
        "sum is what you want.")


_LEAF_TYPES = (np.ndarray, numbers.Number, Box)


def _on_trees(f, args, kwargs, single, nums, check):
    """Pytree arguments: each raveled into one vector, ``f``'s output (a pytree of the same structure) raveled
    too; elementwise on the trees is elementwise on the vectors, and each result is rebuilt in its tree."""
    lays = [layout(args[i], "elementwise_grad", f"args[{i}]") for i in nums]
    out_lay = []

    def f_flat(*flat):
        full = list(args)
        for i, lay, z in zip(nums, lays, flat):
            full[i] = lay.unravel(z)
        out = f(*full, **kwargs)
        lo = layout(out, "elementwise_grad", "out")
        for i, lay in zip(nums, lays):
            if lo.treedef != lay.treedef or lo.shapes != lay.shapes:
                raise ValueError(f"elementwise_grad: f returned {lo.treedef!r} with shapes {list(lo.shapes)} for "
                                 f"argument {i} of structure {lay.treedef!r} and shapes {list(lay.shapes)}; an "
                                 "elementwise function returns its input's structure and shapes")
        out_lay.append(lo)
        return lo.ravel(out)
    g = elementwise_grad(f_flat, tuple(range(len(nums))), check)(*[lay.ravel(args[i]) for i, lay in zip(nums, lays)])
    return lays[0].unravel(g[0]) if single else tuple(lay.unravel(gi) for lay, gi in zip(lays, g))


def elementwise_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                     check: bool = True) -> Callable[..., Any]:
    r"""Return a function giving the derivative of the elementwise function ``f`` at every element.

    For ``y = f(x)`` with ``y_i`` depending on ``x_i`` only, ``elementwise_grad(f)(x)[i] = d y_i / d x_i``, the
    diagonal of the Jacobian, computed as the gradient of ``sum(f(x))`` in one reverse pass (cost: a small constant
    times one evaluation of ``f``, whatever the size of ``x``).

    Parameters
    ----------
    f : callable
        A function whose output has the shape of each differentiated argument, each output element depending on
        the same element of the input(s) only (``np.tanh``, ``lambda x: x * np.exp(-x ** 2)``, ...).
    argnums : int or tuple of int
        Which positional argument(s) to differentiate. An argument may be a pytree: ``f`` then returns a pytree of
        the same structure and shapes, elementwise leaf by leaf, and the result has that structure. With a tuple,
        returns a tuple: the elementwise partial
        derivatives with respect to each (every one must have the output's shape).
    check : bool
        Verify that ``f`` is elementwise at this point with one forward pass in a random direction (see the module
        notes for the guarantee). ``check=False`` skips that pass; the result is then the gradient of
        ``sum(f(x))``, which is the elementwise derivative only if ``f`` is elementwise.

    Returns
    -------
    callable
        ``g(*args, **kwargs)`` returning an array of the differentiated argument's shape (a tuple with a tuple
        ``argnums``).

    Raises
    ------
    ValueError
        If the output's shape is not the argument's shape, or the check finds that ``f`` mixes elements.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> x = np.array([0.0, 0.5, 1.0])
    >>> np.allclose(hd.elementwise_grad(np.tanh)(x), 1 - np.tanh(x) ** 2)
    True
    >>> d2 = hd.elementwise_grad(hd.elementwise_grad(np.sin))(x)       # nests: the second derivative
    >>> np.allclose(d2, -np.sin(x))
    True
    """
    @functools.wraps(f)
    def elementwise_grad_f(*args, **kwargs):
        single, nums = _argnums(argnums, len(args))
        if any(not isinstance(args[i], _LEAF_TYPES) for i in nums):
            return _on_trees(f, args, kwargs, single, nums, check)
        xs = [args[i] for i in nums]

        def f_sel(*sel):
            full = list(args)
            for i, s in zip(nums, sel):
                full[i] = s
            out = f(*full, **kwargs)
            if isinstance(out, (tuple, list, dict)) or out is None:
                raise TypeError(f"elementwise_grad needs a function returning one array, got {type(out).__name__}")
            return out

        out, vjp_fn = vjp(f_sel, *xs)
        oshape = _shape(out)
        for i, x in zip(nums, xs):
            if _shape(x) != oshape:
                raise ValueError(
                    f"elementwise_grad: f returned shape {oshape} for argument {i} of shape {_shape(x)}; an "
                    "elementwise function returns its input's shape. Use hd.jacobian for a general function, or "
                    "hd.grad(lambda x: f(x).sum()) for the gradient of the sum.")
        grads = vjp_fn(np.ones(oshape, dtype=_dtype(out)))
        if check and int(np.prod(oshape, dtype=np.int64)) > 1:   # a 1x1 Jacobian is diagonal
            _check_diagonal(f_sel, xs, grads, _dtype(out))
        return grads[0] if single else tuple(grads)
    return elementwise_grad_f
