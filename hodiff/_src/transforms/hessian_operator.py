"""Curvature without forming the Hessian: a SciPy ``LinearOperator`` that linearizes the gradient once.

:func:`hessian_operator` records the gradient of ``f`` at ``x`` with a dual number under the tape (forward-over-
reverse) a single time, through :func:`hodiff.linearize`: the primal forward pass and the backward pass of ``f`` run
once; every later product ``H v`` replays only the tangent sweep, as a list of numpy calls.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ..core.engine import Box
from ..core.events import PRIMITIVE_RAN
from ..core.pytree import map as tree_map
from ..core.pytree_nest import layout
from .boundary import as_input, snapshot_program
from .functional import value_and_grad
from .linearize import record
from .program import compile_linear

__all__ = ["HessianOperator", "hessian_operator"]


def _snapshot(a):
    return a.copy(order="K") if type(a) is np.ndarray else a


class _OnTree:
    """``f`` of a pytree as a function of its raveled vector (a class, so the operator stays picklable)."""

    def __init__(self, f, lay):
        self.f, self.lay = f, lay
        self.__name__ = getattr(f, "__name__", "f")

    def __call__(self, z, *args, **kwargs):
        return self.f(self.lay.unravel(z), *args, **kwargs)


class HessianOperator(LinearOperator):
    """The Hessian of a scalar function at a point, as a symmetric ``scipy.sparse.linalg.LinearOperator``.

    Made by :func:`hessian_operator`. Shape ``(n, n)`` with ``n = x.size`` (an ``x`` of any shape is flattened
    in C order). ``matvec`` / ``@ v`` gives ``H v``; ``matmat`` / ``@ V`` gives ``H V``, replaying cache-sized
    batches of columns at once; ``rmatvec`` and ``.T`` / ``.H`` are the operator itself (H is symmetric).

    For a pytree point (``{"W": W, "b": b}``, a list of ``(W, b)`` tuples) the operator acts on the raveled
    vector (:func:`hodiff.tree.ravel`, leaves in :func:`hodiff.tree.flatten` order), while ``.x`` and ``.grad``
    have the tree's structure. The point and the extra arguments are copied when the operator is made.

    Attributes
    ----------
    x : ndarray or pytree
        The point (a copy, in its original shape or structure).
    value, grad : float and ndarray (or pytree)
        ``f(x)`` and its gradient (of ``x``'s shape or structure), from the same recording as the products.
    n_recordings : int
        How many times ``f`` and its backward pass were run (once, plus once per batch size ``matmat`` uses).
    n_products : int
        How many vectors ``H`` has been applied to.
    compile_fallback : str or None
        The products from the second on run generated code (the tangent sweep compiled like :func:`hodiff.jit`'s
        programs, same numbers); this says why they did not, if they did not (``compiled=False``, the cost
        analysis counting, a vector traced by another transform).
    batch_elements : int
        ``H @ V`` replays columns together in batches whose largest intermediate stays under this many elements
        (default 2**13, 64 kB of float64: a batch that outgrows the cache is slower per column than single
        replays); each batch size used gets a program of its own, recorded once.
    """

    batch_elements = 1 << 13

    def __init__(self, f: Callable[..., Any], x: Any, args: tuple = (), kwargs: dict | None = None,
                 max_programs: int = 4, compiled: bool = True) -> None:
        self._layout = None
        if not isinstance(x, (np.ndarray, numbers.Number)):
            lay = layout(x, "hessian_operator", "x")
            self._layout, f = lay, _OnTree(f, lay)
            x = lay.ravel(x)
        x = as_input(x, "hessian_operator")
        x = np.array(x, copy=True)
        if x.dtype.kind != "f":
            raise TypeError(f"hessian_operator needs a real floating-point point; got dtype {x.dtype}")
        self.x = x if self._layout is None else self._layout.unravel(x)
        self._x = x
        self._xshape = x.shape
        self._f = f
        # snapshots: later writes into the caller's arrays must reach neither .value/.grad nor H @ v
        self._args = tree_map(_snapshot, tuple(args))
        self._kwargs = tree_map(_snapshot, dict(kwargs or {}))
        self._programs: dict[Any, Any] = {}   # batch size (None: one vector) -> LinearProgram
        self._compiled: dict[Any, Any] = {}   # batch size -> the generated code of that program
        self.compiled = bool(compiled)
        self.compile_fallback: str | None = None if compiled else "compiled=False"
        self._max_programs = int(max_programs)
        self._value = self._grad = None
        self.n_recordings = 0
        self.n_products = 0
        super().__init__(dtype=x.dtype, shape=(x.size, x.size))

    # recording -------------------------------------------------------------------------------------------------
    def _vg(self, x):
        return value_and_grad(self._f)(x, *self._args, **self._kwargs)

    def record(self, batch, tangent):
        """Record the linearized gradient for ``batch`` tangents (None: one); return H applied to ``tangent``."""
        _, _, primals, touts, program = record(self._vg, (self._x,), None if tangent is None else (tangent,),
                                                batch, keep=(1,))
        snapshot_program(program)     # constants f captured: later writes into them must not reach H @ v
        self.n_recordings += 1
        if self._value is None:
            self._value = float(np.asarray(primals[0]).reshape(()))   # a one-element output counts, as in grad
            self._grad = np.array(primals[1], dtype=self.dtype, copy=True).reshape(self._xshape)
        if len(self._programs) >= self._max_programs:
            self._programs.pop(next(k for k in self._programs if k is not None), None)
        self._programs[batch] = program
        self._compiled.pop(batch, None)
        return touts[1]

    def _apply(self, batch, t):
        """``H`` applied to ``t`` (shape ``x.shape``, or ``(batch,) + x.shape``)."""
        program = self._programs.get(batch)
        if program is None:
            out = self.record(batch, t)
        elif not self.compiled or PRIMITIVE_RAN or isinstance(t, Box):
            if self.compiled:    # counted by hd.cost, or inside another transform: each step through the engine
                self.compile_fallback = ("the cost analysis is counting" if PRIMITIVE_RAN
                                         else "the vector is traced by another transform")
            out = program(t)[1]
        else:
            fn = self._compiled.get(batch)
            if fn is None:       # the second product: generate the code while replaying once more
                fn, res = compile_linear(program, (t,))
                self._compiled[batch] = fn
                out = res[1]
            else:
                out = fn(t)[1]
        if out is None:                                # the gradient does not depend on x: H = 0
            out = np.zeros(t.shape, dtype=self.dtype)
        return np.asarray(out)

    @property
    def value(self):
        if self._value is None:
            self.record(None, None)
        return self._value

    @property
    def grad(self):
        if self._grad is None:
            self.record(None, None)
        return self._grad if self._layout is None else self._layout.unravel(self._grad)

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


def hessian_operator(f: Callable[..., Any], x: Any, *args: Any, **kwargs: Any) -> HessianOperator:
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
    x : array_like or pytree
        The point, of any shape; the operator acts on vectors of length ``x.size`` (``x`` flattened in C order).
        A pytree is raveled into one vector (its leaves in :func:`hodiff.tree.flatten` order); ``.grad`` then has
        the tree's structure.
    *args, **kwargs
        Extra arguments of ``f``, held fixed (not differentiated). Arrays among them are copied now, so writing
        into them later changes neither ``.value``/``.grad`` nor ``H @ v``.

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
