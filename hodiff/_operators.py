"""Curvature without forming the Hessian: a SciPy ``LinearOperator`` that linearizes the gradient once, and the dense
Hessian split into chunks of tangents that run on any ``concurrent.futures.Executor``.

:func:`hessian_operator` records the gradient of ``f`` at ``x`` with a dual number under the tape (forward-over-
reverse) a single time, through :func:`hodiff.linearize`: the primal forward pass and the backward pass of ``f`` run
once; every later product ``H v`` replays only the tangent sweep, as a list of numpy calls.

:func:`hessian_chunks` computes the same dense Hessian as ``hd.hessian(f)(x)``: each chunk of ``k`` columns is one
batched forward-over-reverse pass (a dual number carrying ``k`` tangents, under the tape of ``hd.jacrev(f)``). The
chunks are independent, so they are submitted to an executor (a thread or process pool, a Dask client's executor)
and stacked in order.
"""
from __future__ import annotations

import functools
import math
import os

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ._core import shape_of
from ._forward import Dual, ForwardTrace
from ._functional import _eye_chunk, _out, _prep, jacrev, value_and_grad
from ._linearize import _record

__all__ = ["HessianOperator", "hessian_chunks", "hessian_operator"]


class HessianOperator(LinearOperator):
    """The Hessian of a scalar function at a point, as a symmetric ``scipy.sparse.linalg.LinearOperator``.

    Made by :func:`hessian_operator`. Shape ``(n, n)`` with ``n = x.size`` (an ``x`` of any shape is flattened
    in C order). ``matvec`` / ``@ v`` gives ``H v``; ``matmat`` / ``@ V`` gives ``H V``, replaying cache-sized
    batches of columns at once; ``rmatvec`` and ``.T`` / ``.H`` are the operator itself (H is symmetric).

    Attributes
    ----------
    x : ndarray
        The point (a copy, in its original shape).
    value, grad : float and ndarray
        ``f(x)`` and its gradient (of ``x``'s shape), from the same recording as the products.
    n_recordings : int
        How many times ``f`` and its backward pass were run (once, plus once per batch size ``matmat`` uses).
    n_products : int
        How many vectors ``H`` has been applied to.
    batch_elements : int
        ``H @ V`` replays columns together in batches whose largest intermediate stays under this many elements
        (default 2**13, 64 kB of float64: a batch that outgrows the cache is slower per column than single
        replays); each batch size used gets a program of its own, recorded once.
    """

    batch_elements = 1 << 13

    def __init__(self, f, x, args=(), kwargs=None, max_programs=4):
        x = _prep(x, "hessian_operator")
        x = np.array(x, copy=True)
        if x.dtype.kind != "f":
            raise TypeError(f"hessian_operator needs a real floating-point point; got dtype {x.dtype}")
        self.x = x
        self._xshape = x.shape
        self._f = f
        self._args = tuple(args)
        self._kwargs = dict(kwargs or {})
        self._programs = {}          # batch size (None: one vector) -> LinearProgram
        self._max_programs = int(max_programs)
        self._value = self._grad = None
        self.n_recordings = 0
        self.n_products = 0
        super().__init__(dtype=x.dtype, shape=(x.size, x.size))

    # recording -------------------------------------------------------------------------------------------------
    def _vg(self, x):
        return value_and_grad(self._f)(x, *self._args, **self._kwargs)

    def _record(self, batch, tangent):
        """Record the linearized gradient for ``batch`` tangents (None: one); return H applied to ``tangent``."""
        _, _, primals, touts, program = _record(self._vg, (self.x,), None if tangent is None else (tangent,),
                                                batch, keep=(1,))
        self.n_recordings += 1
        if self._value is None:
            self._value = float(primals[0])
            self._grad = np.array(primals[1], dtype=self.dtype, copy=True).reshape(self._xshape)
        if len(self._programs) >= self._max_programs:
            self._programs.pop(next(k for k in self._programs if k is not None), None)
        self._programs[batch] = program
        return touts[1]

    def _apply(self, batch, t):
        """``H`` applied to ``t`` (shape ``x.shape``, or ``(batch,) + x.shape``)."""
        program = self._programs.get(batch)
        if program is None:
            out = self._record(batch, t)
        else:
            out = program(t)[1]
        if out is None:                                # the gradient does not depend on x: H = 0
            out = np.zeros(t.shape, dtype=self.dtype)
        return np.asarray(out)

    @property
    def value(self):
        if self._value is None:
            self._record(None, None)
        return self._value

    @property
    def grad(self):
        if self._grad is None:
            self._record(None, None)
        return self._grad

    # LinearOperator interface -------------------------------------------------------------------------------
    def _matvec(self, v):
        v = np.asarray(v)
        if np.iscomplexobj(v) and self.dtype.kind != "c":
            return self._matvec(v.real) + 1j * self._matvec(v.imag)
        t = np.ascontiguousarray(v, dtype=self.dtype).reshape(self._xshape)
        self.n_products += 1
        return self._apply(None, t).reshape(-1)

    def _matmat(self, V):
        V = np.asarray(V)
        if np.iscomplexobj(V) and self.dtype.kind != "c":
            return self._matmat(V.real) + 1j * self._matmat(V.imag)
        n, k = V.shape
        VT = V.T                                       # columns as rows: the tangents' batch axis leads
        out = np.empty((k, n), dtype=self.dtype)       # filled row by row, returned transposed (a view)
        if k == 0:
            return out.T
        out[0] = self._matvec(VT[0])                   # records the one-vector program if needed
        per_column = max(1, self._programs[None].max_size)
        b = max(1, min(k - 1, self.batch_elements // per_column))
        start = 1
        while start < k:
            m = min(b, k - start)
            if m == 1:
                out[start] = self._matvec(VT[start])
            else:
                T = np.ascontiguousarray(VT[start:start + m], dtype=self.dtype).reshape((m,) + self._xshape)
                self.n_products += m
                out[start:start + m] = self._apply(m, T).reshape(m, n)
            start += m
        return out.T

    def _rmatvec(self, v):
        return self._matvec(np.conj(v)).conj() if np.iscomplexobj(v) else self._matvec(v)

    def _rmatmat(self, V):
        return self._matmat(np.conj(V)).conj() if np.iscomplexobj(V) else self._matmat(V)

    def _adjoint(self):
        return self

    def _transpose(self):
        return self

    def __repr__(self):
        n = self.shape[0]
        return f"<{n}x{n} HessianOperator of {getattr(self._f, '__name__', 'f')} with dtype={self.dtype}>"


def hessian_operator(f, x, *args, **kwargs):
    """The Hessian of the scalar function ``f`` at ``x`` as a ``scipy.sparse.linalg.LinearOperator``.

    ``H @ v`` is the Hessian-vector product, so SciPy's iterative solvers and eigensolvers
    (``scipy.sparse.linalg.eigsh``, ``cg``, ``minres``, ``lobpcg``) work on the curvature without forming the
    ``n x n`` matrix. The gradient of ``f`` is linearized once, at the first product (forward-over-reverse: a dual
    number under the tape): the forward pass of ``f``, its backward pass and everything that does not depend on
    ``v`` are computed a single time, and each later product replays only the tangent sweep (numpy calls on
    arrays). ``H @ V`` for a matrix ``V`` replays programs recorded for batches of tangents (cache-sized batches:
    small problems take many columns per replay, large ones one).

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` returning a scalar; plain numpy code is fine.
    x : array_like
        The point, of any shape; the operator acts on vectors of length ``x.size`` (``x`` flattened in C order).
    *args, **kwargs
        Extra arguments of ``f``, held fixed (not differentiated).

    Returns
    -------
    HessianOperator
        A symmetric LinearOperator of shape ``(x.size, x.size)`` and ``x``'s float dtype; ``.value`` and ``.grad``
        give ``f(x)`` and its gradient from the same recording.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from scipy.sparse.linalg import eigsh
    >>> H = hd.hessian_operator(lambda x: np.sum(x ** 4) / 12, np.array([1.0, 2.0, 3.0]))
    >>> H @ np.ones(3)                                     # diag(x^2) @ 1
    array([1., 4., 9.])
    >>> round(float(eigsh(H, k=1, which="LA", return_eigenvectors=False)[0]), 10)
    9.0
    """
    return HessianOperator(f, x, args, kwargs)


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
        out = jacrev(f)(Dual(x, _eye_chunk(n, start, k, xshape, dtype), trace))
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
    x = _prep(x, "hessian_chunks")
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
    return _out(np.ascontiguousarray(t.reshape(n, m).T).reshape(oshape + xshape))


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
