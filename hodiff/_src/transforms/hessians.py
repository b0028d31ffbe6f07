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

import numpy as np

from ..core.engine import shape_of
from ..interpreters.forward import Dual, ForwardTrace
from .boundary import as_input, as_output, eye_chunk
from .functional import jacfwd, jacrev
from .sparse import sparse_hessian

__all__ = ["hessian", "hessian_chunks", "hessian_on_executor"]


def hessian(f, argnums=0, chunk_size=None, executor=None, sparse=False):
    """Dense Hessian by forward-over-reverse with batched tangents: ``jacfwd(jacrev(f))``.

    The gradient is recorded once per chunk of ``chunk_size`` directions (all n at once by default) and returned
    as a batched dual number whose tangents are the Hessian's columns. Result shape: ``x.shape + x.shape`` for a
    scalar ``f`` (``f(x).shape + x.shape + x.shape`` otherwise).

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
    if sparse:
        if executor is not None or chunk_size is not None:
            raise ValueError("hessian(sparse=True) takes neither chunk_size nor executor")
        return sparse_hessian(f, argnums=argnums)
    if executor is not None:
        return hessian_on_executor(f, argnums, chunk_size, executor)
    return jacfwd(jacrev(f, argnums), argnums, chunk_size)


# ----------------------------------------------------------------------------------------------------------------
# the dense Hessian in chunks of tangents, on an executor


def _hessian_block(f, x, start, k):
    """Columns ``start .. start + k`` of the Hessian (of each output of ``f``): ``(k,) + f(x).shape + x.shape`` as
    one batched forward-over-reverse pass. A module-level function, so that process pools can pickle it."""
    xshape = tuple(shape_of(x))
    n = int(np.prod(xshape, dtype=np.int64))
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    trace = ForwardTrace(batch=k)
    try:
        out = jacrev(f)(Dual(x, eye_chunk(n, start, k, xshape, dtype), trace))
    finally:
        trace.alive = False
    if type(out) is Dual and out._trace is trace:
        return np.asarray(out.tangent)
    return np.zeros((k,) + tuple(shape_of(out)), dtype=dtype)


def _default_chunk(n, executor):
    workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
    return max(1, math.ceil(n / int(workers)))


def hessian_chunks(f, x, chunk_size=None, executor=None):
    """The dense Hessian of ``f`` at ``x``, its columns computed in chunks, each chunk a task on ``executor``.

    Equal (to rounding) to ``hd.hessian(f)(x)``: each chunk of ``chunk_size`` columns is one batched
    forward-over-reverse pass, ``hd.jacrev(f)`` run on a dual number carrying ``chunk_size`` unit tangents. The
    chunks are independent; they are submitted with ``executor.submit`` and stacked in order.

    Parameters
    ----------
    f : callable
        ``f(x)``, scalar (or array-valued: the result is then ``f(x).shape + x.shape + x.shape``). With a process
        pool, ``f`` must be picklable: a module-level function, or a ``functools.partial`` of one.
    x : array_like
        The point, of any shape.
    chunk_size : int, optional
        Columns per task. Default: ``x.size`` split evenly over the executor's workers (``os.cpu_count()`` when
        the executor does not say); all columns in one pass without an executor.
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
    x = as_input(x, "hessian_chunks")
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    xshape = x.shape
    n = x.size
    if chunk_size is None:
        chunk_size = n if executor is None else _default_chunk(n, executor)
    chunk_size = max(1, int(chunk_size))
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


def hessian_on_executor(f, argnums=0, chunk_size=None, executor=None):
    """``hd.hessian(f, argnums, chunk_size, executor=...)``: the function of ``*args`` that :func:`hessian_chunks`
    evaluates with the other arguments held fixed (they travel with each task, so they must pickle for processes)."""
    if not isinstance(argnums, (int, np.integer)):
        raise TypeError("hessian(..., executor=...) differentiates with respect to one argument: pass an int argnums")

    @functools.wraps(f)
    def hess(*args, **kwargs):
        if not -len(args) <= argnums < len(args):
            raise ValueError(f"argnums {argnums} is out of range for a function called with {len(args)} positional "
                             "arguments")
        i = int(argnums) % len(args)
        g = f if (len(args) == 1 and not kwargs) else functools.partial(_call_with, f, args, kwargs, i)
        return hessian_chunks(g, args[i], chunk_size, executor)
    return hess
