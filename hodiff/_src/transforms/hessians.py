"""Dense and sparse Hessians: the one ``hessian`` that chooses between them, and the dense Hessian in chunks of
tangents that run on any ``concurrent.futures.Executor``.

Above the functional API (``functional``: ``jacfwd(jacrev(f))`` is the dense Hessian) and the sparse Hessian
(``sparse``), so that :func:`hessian` can see every way of computing one. :func:`hessian_chunks` computes the same
dense Hessian: each chunk of ``k`` columns is one batched forward-over-reverse pass (a dual number carrying ``k``
tangents, under the tape of ``hd.jacrev(f)``). The chunks are independent, so they are submitted to an executor (a
thread or process pool, a Dask client's executor) and stacked in order.
"""
from __future__ import annotations

import functools
import math
import os

from typing import Any, Callable

import numpy as np

from ..core.engine import opened, shape_of
from ..interpreters.forward import Dual, ForwardTrace
from ..core.pytree import leaves as tree_leaves
from ..core.pytree_nest import nest_hessian
from .boundary import as_output, check_argnums, check_chunk_size, check_executor, check_fits, eye_chunk
from .functional import flat_problem, jacfwd, jacrev
from .sparse import sparse_hessian

__all__ = ["executor_workers", "hessian", "hessian_chunks", "hessian_on_executor"]


def hessian(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0, chunk_size: int | None = None,
            executor: Any = None, sparse: bool = False) -> Callable[..., Any]:
    """Dense Hessian by forward-over-reverse with batched tangents: ``jacfwd(jacrev(f))``.

    The gradient is recorded once per chunk of ``chunk_size`` directions (all n at once by default) and returned
    as a batched dual number whose tangents are the Hessian's columns. Result shape: ``x.shape + x.shape`` for a
    scalar ``f`` (``f(x).shape + x.shape + x.shape`` otherwise).

    Pytrees: for ``f(params)`` with ``params = {"W": W, "b": b}`` the result is a dict of dicts of blocks,
    ``H["W"]["b"]`` of shape ``W.shape + b.shape`` (the input's structure outside and inside, as
    :func:`hodiff.tree.nest_hessian` nests it); a tuple ``argnums`` gives a tuple of tuples of blocks. A dense
    result that cannot fit in the memory available is refused before any work.

    With ``sparse=True`` the result is a ``scipy.sparse.csr_matrix`` of shape ``(n, n)`` (``n = x.size``, scalar
    ``f`` only, ``argnums`` an int): the pattern is detected by propagating index sets through ``f``, coloured,
    and the entries are recovered from one compressed pass with as many tangents as colours (:mod:`hodiff.sparse`;
    to reuse the pattern and colouring across points use ``hodiff.sparse.SparseHessian``).

    With ``executor`` (any ``concurrent.futures.Executor``: a thread or process pool, or a Dask client's
    executor) each chunk of ``chunk_size`` columns is one task (by default the columns are split evenly over the
    workers), with the same result. ``argnums`` must then be an int; for process pools ``f`` and the other
    arguments must pickle.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> hd.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    chunk_size = check_chunk_size(chunk_size, "hessian")
    check_executor(executor, "hessian")
    if sparse:
        if executor is not None or chunk_size is not None:
            raise ValueError("hessian(sparse=True) takes neither chunk_size nor executor")
        return sparse_hessian(f, argnums=argnums)
    if executor is not None:
        return hessian_on_executor(f, argnums, chunk_size, executor)
    inner = jacfwd(jacrev(f, argnums), argnums, chunk_size)

    @functools.wraps(f)
    def hess(*args, **kwargs):
        single, nums = check_argnums(argnums, len(args), "hessian")
        x0 = args[nums[0]]
        n = x0.size if single and type(x0) is np.ndarray else sum(
            math.prod(np.shape(v)) for i in nums for v in tree_leaves(args[i]))
        if n * n >= _SMALL:                  # only a large result is worth a look at the system's memory
            check_fits((n, n), np.float64, "hessian")
        return inner(*args, **kwargs)
    return hess


# ----------------------------------------------------------------------------------------------------------------
# the dense Hessian in chunks of tangents, on an executor


def _hessian_block(f, x, start, k):
    """Columns ``start .. start + k`` of the Hessian (of each output of ``f``): ``(k,) + f(x).shape + x.shape`` as
    one batched forward-over-reverse pass. A module-level function, so that process pools can pickle it."""
    xshape = tuple(shape_of(x))
    n = int(np.prod(xshape, dtype=np.int64))
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    trace = ForwardTrace(batch=k)
    with opened(trace):
        out = jacrev(f)(Dual(x, eye_chunk(n, start, k, xshape, dtype), trace))
    if type(out) is Dual and out._trace is trace:
        return np.asarray(out.tangent)
    return np.zeros((k,) + tuple(shape_of(out)), dtype=dtype)


def executor_workers(executor: Any) -> int:
    """How many tasks ``executor`` runs at once: a pool's ``_max_workers``; for a Dask executor (or client), the
    cluster's worker threads (``client.nthreads()``, found by duck typing: dask stays optional); else the local
    CPU count."""
    w = getattr(executor, "_max_workers", None)
    if w:
        return int(w)
    for obj in (executor, getattr(executor, "_client", None)):
        nthreads = getattr(obj, "nthreads", None)
        if callable(nthreads):
            try:
                counts = nthreads()
                total = sum(counts.values()) if isinstance(counts, dict) else int(counts)
            except Exception:              # a cluster that cannot answer: fall back to the local count
                continue
            if total > 0:
                return int(total)
    return os.cpu_count() or 1


_SMALL = 1 << 23      # elements: below this (64 MB of float64) a dense result is never refused


def _default_chunk(n, executor):
    return max(1, math.ceil(n / executor_workers(executor)))


def hessian_chunks(f: Callable[..., Any], x: Any, chunk_size: int | None = None, executor: Any = None) -> Any:
    """The dense Hessian of ``f`` at ``x``, its columns computed in chunks, each chunk a task on ``executor``.

    Equal (to rounding) to ``hd.hessian(f)(x)``: each chunk of ``chunk_size`` columns is one batched
    forward-over-reverse pass, ``hd.jacrev(f)`` run on a dual number carrying ``chunk_size`` unit tangents. The
    chunks are independent; they are submitted with ``executor.submit`` and stacked in order.

    Parameters
    ----------
    f : callable
        ``f(x)``, scalar (or array-valued: the result is then ``f(x).shape + x.shape + x.shape``). With a process
        pool, ``f`` must be picklable: a module-level function, or a ``functools.partial`` of one.
    x : array_like or pytree
        The point, of any shape (a pytree is raveled into one vector; the result is nested as in :func:`hessian`).
    chunk_size : int, optional
        Columns per task. Default: ``x.size`` split evenly over the executor's workers (a Dask cluster's worker
        threads; ``os.cpu_count()`` when the executor does not say); all columns in one pass without an executor.
    executor : concurrent.futures.Executor, optional
        Anything with ``submit(fn, *args)`` returning a future: ``ThreadPoolExecutor``, ``ProcessPoolExecutor``,
        ``distributed.Client.get_executor()``. ``None`` runs the chunks here, one after the other.

    Returns
    -------
    ndarray
        Shape ``x.shape + x.shape`` for a scalar ``f``.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> f = lambda x: x[0] ** 2 * x[1]
    >>> with ThreadPoolExecutor(2) as pool:
    ...     hd.hessian_chunks(f, np.array([1.0, 2.0]), chunk_size=1, executor=pool)
    array([[4., 2.],
           [2., 0.]])
    """
    chunk_size = check_chunk_size(chunk_size, "hessian_chunks")
    check_executor(executor, "hessian_chunks")
    fl, x = flat_problem(f, (x,), {}, True, (0,), "hessian_chunks")
    H = _chunks(fl, x, chunk_size, executor)
    if fl.lay is None:
        return H
    if np.ndim(H) != 2 or fl.out_layout is not None:
        raise TypeError("hessian_chunks of a pytree argument needs a scalar function; use hd.hessian(f) (without an "
                        "executor) for the Hessian of a function with several outputs")
    return nest_hessian(H, fl.lay)


def _chunks(f, x, chunk_size, executor):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    xshape = x.shape
    n = x.size
    check_fits((n, n), x.dtype, "hessian")
    if chunk_size is None:
        chunk_size = n if executor is None else _default_chunk(n, executor)
    starts = range(0, n, chunk_size)
    if executor is None:
        blocks = [_hessian_block(f, x, s, min(chunk_size, n - s)) for s in starts]
    else:
        futures = [executor.submit(_hessian_block, f, x, s, min(chunk_size, n - s)) for s in starts]
        blocks = [fut.result() for fut in futures]
    if n == 0:
        return np.zeros(xshape + xshape, dtype=x.dtype)
    t = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    oshape = t.shape[1:]
    m = int(np.prod(oshape, dtype=np.int64))
    return as_output(np.ascontiguousarray(t.reshape(n, m).T).reshape(oshape + xshape))


def _call_with(f, args, kwargs, i, x):
    a = list(args)
    a[i] = x
    return f(*a, **kwargs)


def hessian_on_executor(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                        chunk_size: int | None = None, executor: Any = None) -> Callable[..., Any]:
    """``hd.hessian(f, argnums, chunk_size, executor=...)``: the function of ``*args`` that :func:`hessian_chunks`
    evaluates with the other arguments held fixed (they travel with each task, so they must pickle for processes)."""
    chunk_size = check_chunk_size(chunk_size, "hessian")
    check_executor(executor, "hessian")
    if isinstance(argnums, (tuple, list)):
        raise TypeError("hessian(..., executor=...) differentiates with respect to one argument: pass an int "
                        "argnums (that argument may be a pytree)")

    @functools.wraps(f)
    def hess(*args, **kwargs):
        single, nums = check_argnums(argnums, len(args), "hessian")
        if not single:
            raise TypeError("hessian(..., executor=...) differentiates with respect to one argument: pass an int "
                            "argnums (that argument may be a pytree)")
        i = nums[0]
        g = f if (len(args) == 1 and not kwargs) else functools.partial(_call_with, f, args, kwargs, i)
        return hessian_chunks(g, args[i], chunk_size, executor)
    return hess
