"""The boundary every transform crosses: user values in, derivatives out.

The lowest floor of the transforms: each transform (``functional``, ``hessians``, ``hessian_operator``,
``linearize``, ``sparse``, ``taylor``, ``check``) takes its inputs through :func:`as_input` and hands results back
through :func:`as_output`, so all of them agree on dtypes, 0-d results and writeable arrays. The other helpers
are the pieces more than one transform needs: ``argnums`` checking, zero derivatives, scalar seeds and the
identity-matrix chunks that batched passes use as tangents.
"""
from __future__ import annotations

import inspect
import math
import numbers
import os
from typing import Any

import numpy as np

from ..core.engine import dtype_of, Box, base_value, lower_value, shape_of
from ..interpreters.reverse import Tensor
from .. import table as P
from ..core.pytree import flatten, path_str, unflatten
from ..core.pytree import map as tree_map
from ..core.pytree_nest import check_leaves

__all__ = ["arg_leaves", "as_input", "as_output", "available_memory", "check_argnums", "check_chunk_size",
           "check_executor", "check_fits", "eye_chunk", "float_dtype", "float_zeros_like", "fresh", "output_leaves",
           "leaves_like", "rebuild", "refuse_complex", "scalar_seed", "snapshot_constants", "snapshot_program", "unbox_aux"]


def as_input(x, what):
    """A differentiable input: boxes pass through; Python numbers become float64; integer arrays are refused."""
    tx = type(x)
    if tx is np.ndarray:    # the common cases first, each with the outcome of the general path below
        if x.dtype.kind in "fc":
            return x
    elif tx is float:
        return np.float64(x)
    elif tx is np.float64:
        return x
    if isinstance(x, Box):
        if dtype_of(x).kind not in "fc":
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
    tv = type(v)
    if tv is np.float64:
        return v
    if tv is np.ndarray and v.ndim and v.flags.writeable:
        return v
    if isinstance(v, Box):
        return v
    a = np.asarray(v)
    if a.ndim == 0:
        return a[()]
    if not a.flags.writeable:
        a = a.copy()
    return a


def leaves_like(value, td, what, role, of):
    """The leaves of ``value`` (a tangent or cotangent), which must have the pytree structure ``td`` of ``of`` (None:
    ``value`` is one leaf)."""
    if td is None:
        return [value]
    lv, vtd = flatten(value)
    if vtd != td:
        raise ValueError(f"{what}: the {role} has structure {vtd!r}; the {of} has {td!r}")
    return lv


def unbox_aux(tree, trace):
    """Strip this level's tensors from an auxiliary output (it carries no derivative at this level)."""
    if type(tree) is Tensor:
        return tree._value if tree._trace is trace else tree
    return tree_map(lambda t: t._value if (type(t) is Tensor and t._trace is trace) else t, tree)


def float_zeros_like(x):
    """The zero derivative for an input ``x``: zeros of its shape, float64 unless ``x`` is floating point."""
    dt = dtype_of(x)   # a Python float is float64 here, as its derivative should be
    return np.zeros(tuple(shape_of(x)), dtype=dt if dt.kind == "f" else np.float64)


def scalar_seed(out, trace, what):
    """``(value, seed)``: the output of a scalar function (this level's box stripped) and the seed of its reverse
    sweep (ones of the output's shape). An output with exactly one element (shape ``(1,)``, ``(1, 1)``) counts as a
    scalar; any other output is refused with the way out, and so is one that is not a number at all."""
    val = out._value if (type(out) is Tensor and out._trace is trace) else out
    if type(lower_value(val)) is np.float64:   # the common case, with the outcome of the general path below
        return val, np.array(1.0)
    if _output_problem(val) is not None:
        output_leaves(val, what, tree_ok=False)
    shape = tuple(shape_of(val))
    if shape != () and math.prod(shape) != 1:
        raise TypeError(f"{what} needs a function with a scalar output; this one returned shape {shape}. "
                        "Reduce it (e.g. .sum()) or use hd.jacrev / hd.jacobian for a vector output.")
    dt = dtype_of(val)
    return val, np.ones(shape, dtype=dt if dt.kind == "f" else np.float64)


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
    dt = dtype_of(x)
    return dt if dt.kind == "f" else np.dtype(np.float64)


# ----------------------------------------------------------------------------------------------------------------
# pytrees at the boundary: arguments flattened into checked leaves, outputs checked and flattened, results rebuilt

_PLAIN_LEAF = (np.ndarray, float, np.floating)


def check_argnums(argnums: Any, nargs: int, what: str = "argnums") -> tuple[bool, tuple[int, ...]]:
    """``(single, indices)``: whether ``argnums`` was one int, and the argument indices it names (made
    non-negative). Refused with a clear error: bools and other non-integers, an empty tuple, an index given twice
    (``(0, 0)``) and an index out of range for ``nargs`` positional arguments."""
    if type(argnums) is int and 0 <= argnums < nargs:   # the common case, with the outcome of the general path
        return True, (argnums,)
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, (bool, np.bool_)):
        single, raw = True, (argnums,)
    elif isinstance(argnums, (tuple, list)) and argnums and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in argnums):
        single, raw = False, tuple(argnums)
    else:
        raise TypeError(f"{what}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    nums = []
    for a in raw:
        if not -nargs <= a < nargs:
            raise ValueError(f"{what}: argnums {int(a)} is out of range for a function called with {nargs} "
                             "positional argument(s)")
        nums.append(int(a) % nargs)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{what}: argnums {tuple(int(a) for a in raw)} names an argument twice; each argument can "
                         "be differentiated once (pass it twice as two arguments if that is what you mean)")
    return single, tuple(nums)


def check_chunk_size(chunk_size: Any, what: str) -> int | None:
    """``None`` or a positive int; anything else (0, negative, a float, a bool) is refused."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"{what}: chunk_size must be a positive int (or None for all at once), got {chunk_size!r}")
    return int(chunk_size)


def check_executor(executor: Any, what: str) -> None:
    """An executor is anything with a callable ``submit`` (a ``concurrent.futures.Executor``, a Dask executor)."""
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"{what}: executor must be a concurrent.futures.Executor (anything with .submit(fn, *args)),"
                        f" got {type(executor).__name__} {executor!r:.40}")


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else ``os.sysconf``), None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_fits(shape: tuple, dtype: Any, what: str) -> None:
    """Refuse, before any work, a dense result of ``shape`` that cannot fit in the memory available now."""
    nbytes = math.prod(int(s) for s in shape) * np.dtype(dtype).itemsize
    if nbytes < (1 << 26):                 # under 64 MB: not worth a look at the system
        return
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise MemoryError(f"{what}: the dense result would have shape {tuple(shape)}, {nbytes / 2**30:.1f} GiB, more "
                          f"than the {avail / 2**30:.1f} GiB of memory available. Use hd.hessian(f, sparse=True) for "
                          "a sparse Hessian, hd.hessian_operator(f, x) for Hessian-vector products without the "
                          "matrix, or hd.jvp / hd.vjp for products with a Jacobian.")


def _root_name(f: Any, i: int | None) -> str:
    """How argument ``i`` of ``f`` is named in messages: its parameter name when Python can tell, else args[i]."""
    if i is None:
        return "x"
    try:
        params = list(inspect.signature(f).parameters.values())
        if i < len(params) and params[i].kind in (params[i].POSITIONAL_ONLY, params[i].POSITIONAL_OR_KEYWORD):
            return params[i].name
    except (TypeError, ValueError):
        pass
    return f"args[{i}]"


def arg_leaves(x: Any, what: str, f: Any = None, i: int | None = None, copy: bool = False) -> tuple[list, Any]:
    """The differentiable leaves of argument ``x`` (a pytree) and its structure (``None`` for a lone leaf).

    Each leaf goes through :func:`as_input`; a leaf that cannot be differentiated is refused with its path
    (``grad: params["layers"][1][0] is an int64 array; ...``). With ``copy``, plain arrays are copied, so that a
    function handed back to the caller does not see later writes into the caller's arrays."""
    if isinstance(x, _PLAIN_LEAF) or isinstance(x, Box):
        x = as_input(x, what)
        return [x.copy(order="K") if copy and type(x) is np.ndarray else x], None
    try:
        lv, td = check_leaves(x, what, "x")
    except TypeError:
        check_leaves(x, what, _root_name(f, i))   # raises again, with the argument's own name
        raise
    lv = [as_input(v, what) for v in lv]
    if copy:
        lv = [v.copy(order="K") if type(v) is np.ndarray else v for v in lv]
    return lv, td


def rebuild(td: Any, leaves: list) -> Any:
    """The tree of structure ``td`` (from :func:`arg_leaves`) with ``leaves``; the lone leaf when ``td`` is None."""
    return leaves[0] if td is None else unflatten(td, leaves)


def _output_problem(o: Any) -> str | None:
    if isinstance(o, Box) or isinstance(o, (np.ndarray, np.generic)) and o.dtype.kind in "biufc":
        return None
    if isinstance(o, numbers.Number):
        return None
    if o is None:
        return "None"
    if isinstance(o, (str, bytes)):
        return f"a {type(o).__name__} ({o!r:.40})"
    if isinstance(o, np.ndarray):
        return f"an array of dtype {o.dtype}"
    if inspect.isgenerator(o) or inspect.isgeneratorfunction(o):
        return "a generator (materialise it, e.g. np.stack(list(...)))"
    return f"a {type(o).__name__} object"


def output_leaves(out: Any, what: str, tree_ok: bool = True) -> tuple[list, Any]:
    """Check a function's output and flatten it: ``(leaves, structure)`` (structure ``None`` for a lone leaf).

    Every leaf must be numeric (an array, a number, a hodiff value); ``None``, strings, generators and other objects
    are refused by name instead of being read as a zero derivative. ``tree_ok=False`` also refuses containers."""
    problem = _output_problem(out)
    if problem is None:
        return [out], None
    if out is None or not tree_ok or isinstance(out, (str, bytes)) or not isinstance(out, (dict, list, tuple)):
        extra = "" if tree_ok else " (this transform needs one array)"
        raise TypeError(f"{what}: the function returned {problem}; it must return numbers or arrays{extra}")
    lv, td = flatten(out)
    if not lv:
        raise TypeError(f"{what}: the function returned {td!r}, a container with no arrays in it")
    for k, o in enumerate(lv):
        problem = _output_problem(o)
        if problem is not None:
            raise TypeError(f"{what}: the function's output {path_str(td.paths()[k], 'out')} is {problem}; "
                            "outputs must be numbers or arrays (pytrees of them)")
    return lv, td


def refuse_complex(t: Any, p: Any, what: str) -> None:
    """A complex direction on a real point is refused (it would be cast to real and give a wrong derivative)."""
    tk = dtype_of(t)
    if tk is None:
        tk = np.asarray(t).dtype
    pk = dtype_of(p)
    if tk.kind == "c" and pk.kind != "c":
        raise TypeError(f"{what}: the direction is complex but the point is real; complex derivatives are not "
                        "supported. Apply the transform to the real and imaginary parts separately.")


def fresh(a: Any, *inputs: Any) -> Any:
    """``a``, copied if it shares memory with any of ``inputs``: results never hand back the caller's buffers."""
    if type(a) is np.ndarray:
        for x in inputs:
            if type(x) is np.ndarray and np.may_share_memory(a, x):
                return a.copy()
    return a


def snapshot_program(program: Any) -> int:
    """As :func:`snapshot_constants`, for a linearized program: every constant array argument of its steps is
    replaced by a copy. Returns the bytes copied. The memory kept is only that of arrays someone else still holds
    (the caller's captured arrays): values computed during the recording (``cos(x)``) were held by the program
    alone, so their originals are freed as their copies replace them."""
    memo: dict[int, np.ndarray] = {}
    copied, steps = 0, []
    for step in program._steps:
        args, subs = step[2], step[4]
        slots = {i for i, _ in subs}
        new = None
        for k, a in enumerate(args):
            if type(a) is np.ndarray and k not in slots and a.size and a.flags.writeable:
                new = list(args) if new is None else new
                c = memo.get(id(a))
                if c is None:
                    c = memo[id(a)] = a.copy(order="K")
                    copied += a.nbytes
                new[k] = c
        steps.append(step if new is None else step[:2] + (type(args)(new),) + step[3:])
    program._steps = steps
    return copied


def snapshot_constants(nodes: list) -> int:
    """Copy the plain arrays a recording saved as constants, so that a function handed back to the caller (``vjp``'s
    ``vjp_fn``) does not see later writes into arrays ``f`` captured from its closure.

    Walks the tape back from ``nodes``; in each entry, an argument that is not traced (not at a parent position) and
    is a writeable numpy array is replaced by a copy. Traced arguments are values computed during the recording (or
    the copied point), which nobody else holds. Returns the bytes copied. The memory kept is that of the arrays
    someone else still holds (a captured matrix ``A`` in ``A @ x``, once); a constant made inside ``f`` was held
    by the tape alone, and its original is freed when the copy replaces it."""
    seen, stack, copied = set(), list(nodes), 0
    memo: dict[int, np.ndarray] = {}
    nd = np.ndarray
    while stack:
        node = stack.pop()
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        parents = node._parents
        args = node._args
        if args is not None and any(type(a) is nd for a in args):
            traced = {k for k, _ in parents} if parents else ()
            new = list(args)
            for k, a in enumerate(args):
                if type(a) is nd and k not in traced and a.flags.writeable and a.size:
                    c = memo.get(id(a))
                    if c is None:
                        c = memo[id(a)] = a.copy(order="K")
                        copied += a.nbytes
                    new[k] = c
            node._args = type(args)(new) if isinstance(args, tuple) else new
        if parents:
            for _, p in parents:
                stack.append(p)
    return copied
