"""The boundary every transform crosses: user values in, derivatives out.

The lowest floor of the transforms: each transform (``functional``, ``hessians``, ``hessian_operator``,
``linearize``, ``sparse``, ``taylor``, ``check``) takes its inputs through :func:`as_input` and hands results back
through :func:`as_output`, so all of them agree on dtypes, 0-d results and writeable arrays. The other helpers
are the pieces more than one transform needs: ``argnums`` checking, zero derivatives, scalar seeds and the
identity-matrix chunks that batched passes use as tangents.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core.engine import Box, base_value, shape_of
from ..interpreters.reverse import Tensor
from .. import table as P

__all__ = ["as_input", "as_output", "check_argnums", "eye_chunk", "float_dtype", "float_zeros_like", "scalar_seed",
           "unbox_aux"]


def as_input(x, what):
    """A differentiable input: boxes pass through; Python numbers become float64; integer arrays are refused."""
    if isinstance(x, Box):
        if getattr(base_value(x), "dtype", np.dtype(float)).kind not in "fc":
            raise TypeError(f"{what}: inputs must be floating point")
        return x
    if isinstance(x, numbers.Number) and not isinstance(x, (bool, np.bool_)):
        if isinstance(x, numbers.Real) and not isinstance(x, np.floating):
            return np.float64(x)
        return x
    a = np.asarray(x)
    if a.dtype.kind not in "fc":
        raise TypeError(f"{what} needs floating-point inputs, got an array of dtype {a.dtype}: derivatives with "
                        "respect to integers are not defined. Pass e.g. np.asarray(x, dtype=float).")
    return a


def as_output(v):
    """A result handed back to the user: boxes as they are, plain arrays writeable, 0-d as numpy scalars."""
    if isinstance(v, Box):
        return v
    a = np.asarray(v)
    if a.ndim == 0:
        return a[()]
    if not a.flags.writeable:
        a = a.copy()
    return a


def check_argnums(argnums, nargs):
    """``(single, indices)``: whether ``argnums`` was one int, and the argument indices it names (made
    non-negative), each checked against the number of positional arguments."""
    single = isinstance(argnums, (int, np.integer))
    nums = (int(argnums),) if single else tuple(int(a) for a in argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"argnums {a} is out of range for a function called with {nargs} positional arguments")
    return single, tuple(a % nargs for a in nums)


def unbox_aux(tree, trace):
    """Strip this level's tensors from an auxiliary output (it carries no derivative at this level)."""
    if type(tree) is Tensor and tree._trace is trace:
        return tree._value
    if isinstance(tree, (list, tuple)):
        return type(tree)(unbox_aux(t, trace) for t in tree)
    if isinstance(tree, dict):
        return {k: unbox_aux(v, trace) for k, v in tree.items()}
    return tree


def float_zeros_like(x):
    """The zero derivative for an input ``x``: zeros of its shape, float64 unless ``x`` is floating point."""
    b = np.asarray(base_value(x))   # a Python float becomes float64 here, as its derivative should be
    return np.zeros(b.shape, dtype=b.dtype if b.dtype.kind == "f" else np.float64)


def scalar_seed(out, trace, what):
    """``(value, 1.0)``: the output of a scalar function (this level's box stripped) and the seed of its reverse
    sweep; a non-scalar output is refused with the way out."""
    val = out._value if (type(out) is Tensor and out._trace is trace) else out
    shape = tuple(shape_of(val))
    if shape != ():
        raise TypeError(f"{what} needs a function with a scalar output; this one returned shape {shape}. "
                        "Reduce it (e.g. .sum()) or use hd.jacrev / hd.jacobian for a vector output.")
    b = np.asarray(base_value(val))
    return val, np.ones((), dtype=b.dtype if b.dtype.kind == "f" else np.float64)


def eye_chunk(n, start, k, shape, dtype):
    """Rows ``start .. start + k`` of the ``n x n`` identity, each reshaped to ``shape``: the tangents (or seeds) of
    one batched pass. For vectors the block is marked so that ``matmul`` can select rows instead of multiplying
    (see ``mark_selector`` beside ``matmul`` in the table)."""
    e = np.zeros((k, n), dtype=dtype)
    e[np.arange(k), start + np.arange(k)] = 1
    if len(shape) == 1:
        return P.mark_selector(e, start)   # matmul may select rows instead of multiplying by it
    return e.reshape((k,) + tuple(shape))


def float_dtype(x):
    """The dtype of derivatives with respect to ``x``: its own if floating point, else float64."""
    b = np.asarray(base_value(x))
    return b.dtype if b.dtype.kind == "f" else np.float64
