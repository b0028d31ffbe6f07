"""Repeated eigenvalues and singular values: the gap matrix of the ``eigh`` and ``svd`` rules and the checks that
decide, at a repeated pair, between an exact answer and NaN (the table's ``linalg`` module uses these).

Why the rules need this: the eigenvector tangent is ``V (F * (V^T dA V))`` with ``F_ij = 1 / (w_j - w_i)``, which
is undefined where ``w_i == w_j``; the eigenvalue tangent ``v_i^T dA v_i`` never needs ``F``. At a repeated pair
the product is still the derivative when the projected (co)tangent vanishes in that pair's entries (every term
``F_ij`` would multiply is zero, whatever basis of the eigenspace LAPACK returned); otherwise the result depends on
that basis and there is no derivative to report: NaN, never a finite number that looks right.

What cannot be had this way: second derivatives of a smooth spectral function (``sum(eigvalsh(A)**2)``) along a
direction that splits a repeated eigenvalue. The composite is twice differentiable there, but the chain rule runs
through eigenvectors, which are not; the answer would need the function's second derivatives inside the cluster,
which no local rule of ``eigh`` sees. Those entries are NaN.

Every check reads plain values (masks are piecewise constant, like the signs and masks of other rules), but reads
all of a value's forward-mode components: a cotangent whose value is zero can carry a batch of nonzero cotangents
as its tangent (``jacrev`` seeds one so).
"""
from __future__ import annotations

import numpy as np

from ..core.engine import Box, StagedBox, lower, shape_of
from .elementwise import add, divide, multiply, subtract
from .indexing import reshape

__all__ = ["cluster_nan", "gap_inverse", "is_zero"]


def _components(x):
    """Every plain array a value is made of: its base value and, for forward-mode boxes of any level, each
    level's tangent (batched tangents keep their leading axes). ``None`` when a box of another kind (a reverse
    Tensor, a Taylor Jet) is among them: what it will be differentiated by is not known here.

    Checks of a (co)tangent for zeros must look at all of these: a cotangent with a zero value can be a batch of
    nonzero cotangents (``jacrev`` seeds a dual number with a zero primal), and masks read from the value alone
    would drop them.
    """
    if isinstance(x, StagedBox):     # hd.jit recording: kept staged, so checks on it are recorded (lower)
        return {(): x}
    if not isinstance(x, Box):
        return {(): np.asarray(x)}
    if not hasattr(x, "tangent"):
        return None
    p, t = _components(x.primal), _components(x.tangent)
    if p is None or t is None:
        return None
    lv = x._trace.level
    p.update({(lv,) + k: v for k, v in t.items()})   # keyed by the levels whose tangents were taken
    return p


def _zero_entries(x):
    """Plain bools of ``x``'s shape: entries that are zero in every component (see :func:`_components`)."""
    comps = _components(x)
    shape = tuple(shape_of(x))
    if comps is None:
        return np.zeros(shape, dtype=bool)
    return lower(_zero_in_all, list(comps.values()), shape)


def _zero_in_all(comps, shape):
    z = np.ones(shape, dtype=bool)
    for c in comps:
        nz = np.asarray(c) != 0
        z &= ~np.any(nz, axis=tuple(range(nz.ndim - len(shape)))) if nz.ndim > len(shape) else ~nz
    return z


def is_zero(x):
    return bool(lower(np.all, _zero_entries(x)))


def _repeated(w):
    """Pairs (i, j) of (numerically) equal entries of the last axis of ``w``, the diagonal included (bools, computed
    through ``lower``: under ``hd.jit`` the mask is recorded, not frozen)."""
    return lower(_repeated_plain, w)


def _repeated_plain(w0):
    w0 = np.asarray(w0, dtype=float)
    n = w0.shape[-1]
    scale = np.max(np.abs(w0), axis=-1, keepdims=True)[..., None] if n else 0.0
    gap = np.abs(w0[..., None, :] - w0[..., :, None])
    return gap <= 8 * n * np.finfo(float).eps * np.maximum(scale, np.finfo(float).tiny)


def _off_diagonal(rep):
    return rep & ~np.eye(rep.shape[-1], dtype=bool)


def _as_float(m, flip):
    return (~m if flip else m).astype(float)


def _nan_where(m):
    return np.where(m, np.nan, 0.0)


def gap_inverse(w, proj=None):
    """``F_ij = 1 / (w_j - w_i)`` off the diagonal, as a differentiable function of ``w`` (second derivatives need it).

    At a repeated pair ``w_i == w_j`` the eigenvector (singular vector) derivative is not defined by the gap
    formula. The pair's entry is set to 0 when the projected (co)tangent ``proj`` vanishes in both entries
    ``(i, j)`` and ``(j, i)``: every term the entry multiplies is then zero, whatever basis of the eigenspace was
    chosen, so the result is the derivative (e.g. eigenvalues only, or cotangents that involve only the vectors
    of simple eigenvalues). Otherwise the entry is NaN: the result depends on that basis, so there is no
    derivative to report (``proj=None`` means nothing is known: NaN at every repeated pair).
    """
    n = shape_of(w)[-1]
    rep = _repeated(w)
    bad = lower(_off_diagonal, rep)
    if bool(lower(np.any, bad)):      # a guard under hd.jit; the rare repeated case reads plain values
        bad = np.asarray(bad)
        if proj is not None:
            z = np.asarray(_zero_entries(proj))
            bad = bad & ~(z & np.swapaxes(z, -1, -2))
    d = subtract(reshape(w, tuple(shape_of(w)[:-1]) + (1, n)), reshape(w, tuple(shape_of(w)) + (1,)))
    F = multiply(divide(1.0, add(d, lower(_as_float, rep, False))), lower(_as_float, rep, True))
    if bool(lower(np.any, bad)):
        F = add(F, lower(_nan_where, bad))
    return F


def _differ(x):
    """Plain bools ``(..., n, n)``: pairs of entries of the last axis of ``x`` that differ (relative to its size)."""
    scale = np.max(np.abs(x), axis=-1, keepdims=True)[..., None]
    return np.abs(x[..., None, :] - x[..., :, None]) > 1e-8 * np.maximum(scale, np.finfo(float).tiny)


def cluster_nan(w, gw):
    """A NaN factor (plain, ``(..., 1, 1)``) when a cotangent ``gw`` of ``w`` tells apart entries that are equal;
    None when it does not. Multiplied in, it reaches every level's tangent (added, it would reach the value only).

    A function of the eigenvalues (singular values) is differentiable at a repeated one only if it is symmetric
    in that cluster; its gradient then has equal entries there, and ``V diag(gw) V^T`` does not depend on the
    basis LAPACK chose for the eigenspace. Unequal entries mean the derivative does not exist. The same holds
    for each forward level's tangent of ``gw`` (a batch of cotangents, as ``jacrev`` makes, or the second-order
    part of ``hessian``), except where that level's tangent of ``w`` itself splits the pair: there the
    eigenvector tangent of the same level carries the check (:func:`gap_inverse`).
    """
    rep = lower(_off_diagonal, _repeated(w))
    if not bool(lower(np.any, rep)):
        return None
    rep = np.asarray(rep)
    cg = _components(gw)
    if cg is None:
        return np.full(tuple(shape_of(gw)[:-1]) + (1, 1), np.nan)
    cw = _components(w) or {}
    bad = False
    for key, g0 in cg.items():
        g0 = np.asarray(g0, dtype=float)
        if not g0.size:
            continue
        differ = _differ(g0)
        if key and key in cw:           # the same level's tangent of w: does it split the pair?
            differ = differ & ~_differ(np.asarray(cw[key], dtype=float))
        bad = bad or bool(np.any(rep & differ))
    return np.full(tuple(shape_of(gw)[:-1]) + (1, 1), np.nan) if bad else None
