"""Primitives behind ``hodiff.scipy.linalg``: ``expm``, ``sqrtm``, ``solve_sylvester`` and the packed LU factor.

They join hodiff's primitive table (``hd.PRIMITIVES``) with a domain each, so the table's generated tests check them
like every other entry. Each rule is written in hodiff operations and, where it needs another matrix function, calls
the primitive itself, so the rules are differentiated again to any order:

* ``expm``: the Fréchet derivative ``L(A, E)`` is the upper-right block of ``expm([[A, E], [0, A]])``, and the
  adjoint of ``E -> L(A, E)`` is ``G -> L(A^T, G)``;
* ``solve_sylvester`` (``A X + X B = Q``): tangents and cotangents are Sylvester solves with ``(A, B)`` and
  ``(A^T, B^T)``;
* ``sqrtm``: ``X dX + dX X = dA`` is a Sylvester equation for ``dX``;
* ``lu_packed``: with the row permutation fixed, ``P A = L U`` gives ``L^-1 P dA U^-1 = L^-1 dL + dU U^-1``, split
  into its strictly lower and upper parts.

Matrices may be stacked along leading axes, which broadcast (this is how batched tangents pass through the rules).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

import hodiff as hd
from .._src.core.engine import lower

__all__ = ["expm", "lu_packed", "lu_perm_matrix", "sqrtm", "sylvester"]


# ---------------------------------------------------------------------------------------------------------------
# helpers shared by hodiff.scipy.linalg's modules

_BOXES = (hd.Dual, hd.Tensor, hd.Jet)


def _shape(x) -> tuple:
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else np.shape(x)


def _mT(x):
    return hd.swapaxes(x, -1, -2)


def _reshape(x, shape):
    return x.reshape(shape) if isinstance(x, _BOXES) else np.reshape(x, shape)


def _real(x, fname: str, arg: str = "a"):
    """``x`` as an array (a hodiff value passes through), refusing complex input by name."""
    base = hd.stop_gradient(x)
    if np.iscomplexobj(base):
        raise TypeError(f"hodiff.scipy.linalg.{fname}: '{arg}' is complex; hodiff differentiates real matrices "
                        f"only (call scipy.linalg.{fname} directly for complex values, without derivatives)")
    if isinstance(x, _BOXES):
        return x
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _square(a, fname: str):
    s = _shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"hodiff.scipy.linalg.{fname}: expected a square matrix (or a stack of them), got shape {s}")


def _eye_like(a) -> np.ndarray:
    return np.eye(_shape(a)[-1])


def _sym_from(a, lower: bool):
    """The symmetric matrix a routine sees when it reads only the ``lower`` (or upper) triangle of ``a``."""
    if lower:
        return hd.add(hd.tril(a), _mT(hd.tril(a, -1)))
    return hd.add(hd.triu(a), _mT(hd.triu(a, 1)))


def _size(x) -> int:
    return int(np.prod(_shape(x), dtype=np.int64))


def _cubic_cost(ans, *args, **params):
    n = _shape(ans)[-1]
    k = max(1, _size(ans) // max(1, n * _shape(ans)[-2]))
    return int(30 * k * n ** 3), 8 * (sum(_size(a) for a in args) + _size(ans))


def _batch(*xs) -> tuple:
    return np.broadcast_shapes(*(_shape(x)[:-2] for x in xs))


def _bcast(x, lead):
    """``x`` broadcast to the leading (batch) shape ``lead``, its last two axes unchanged."""
    want = tuple(lead) + _shape(x)[-2:]
    return x if _shape(x) == want else hd.broadcast_to(x, want)


# ---------------------------------------------------------------------------------------------------------------
# expm


def _frechet(a, e):
    """``L(a, e)``: the derivative of ``expm`` at ``a`` along ``e``, from one exponential of a 2n x 2n block."""
    n = _shape(a)[-1]
    lead = _batch(a, e)
    a, e = _bcast(a, lead), _bcast(e, lead)
    zero = np.zeros(lead + (n, n))
    block = hd.concatenate([hd.concatenate([a, e], axis=-1), hd.concatenate([zero, a], axis=-1)], axis=-2)
    top_right = (Ellipsis, slice(0, n), slice(n, 2 * n))
    return hd.getitem(expm(block), top_right)


def _square_domain(rng, shift=0.0):
    n = int(rng.integers(2, 4))
    batch = [(), (2,)][rng.integers(2)]
    return rng.standard_normal(batch + (n, n)) * 0.7 + shift * np.eye(n)


_expm = hd.Primitive(
    "expm", lambda a: sla.expm(a),
    (lambda t, ans, a: _frechet(a, t),),
    (lambda g, ans, a: _frechet(_mT(a), g),),
    cost=_cubic_cost, domain=lambda rng: ((_square_domain(rng),), {}),
    doc="Matrix exponential (scipy.linalg.expm), stacked matrices allowed.")


def expm(a):
    """The matrix exponential of ``a`` (``(..., n, n)``) as a primitive of the table."""
    return hd.bind(_expm, a)


# ---------------------------------------------------------------------------------------------------------------
# Sylvester equations


def _syl_impl(a, b, q):
    return sla.solve_sylvester(a, b, q)


def _syl_adjoint(g, a, b):
    """``Y`` with ``A^T Y + Y B^T = G``: the cotangent of ``q``."""
    return sylvester(_mT(a), _mT(b), g)


def _syl_domain(rng):
    n, m = int(rng.integers(2, 4)), int(rng.integers(1, 4))
    # spectra of a and -b kept apart (real parts > 0 for both), so the equation is well conditioned
    a = rng.standard_normal((n, n)) * 0.5 + 2 * np.eye(n)
    b = rng.standard_normal((m, m)) * 0.5 + 2 * np.eye(m)
    q = rng.standard_normal([(n, m), (2, n, m)][rng.integers(2)])
    return (a, b, q), {}


def _align(t, x, nd: int):
    """A tangent of ``x`` with unit axes inserted after its own leading (batch) axes, so that it lines up with
    values of ``nd`` dimensions whose stack axes ``x`` broadcast against."""
    k = len(_shape(t)) - len(_shape(x))
    if len(_shape(x)) >= nd:
        return t
    s = _shape(t)
    return t.reshape(s[:k] + (1,) * (nd - len(_shape(x))) + s[k:])


_sylvester = hd.Primitive(
    "solve_sylvester", _syl_impl,
    (lambda t, ans, a, b, q: sylvester(a, b, hd.negative(hd.matmul(_align(t, a, len(_shape(ans))), ans))),
     lambda t, ans, a, b, q: sylvester(a, b, hd.negative(hd.matmul(ans, _align(t, b, len(_shape(ans)))))),
     lambda t, ans, a, b, q: sylvester(a, b, _align(t, q, len(_shape(ans))))),
    (lambda g, ans, a, b, q: hd.negative(hd.matmul(_syl_adjoint(g, a, b), _mT(ans))),
     lambda g, ans, a, b, q: hd.negative(hd.matmul(_mT(ans), _syl_adjoint(g, a, b))),
     lambda g, ans, a, b, q: _syl_adjoint(g, a, b)),
    linear=False, cost=_cubic_cost, domain=_syl_domain,
    doc="Solution X of A X + X B = Q (scipy.linalg.solve_sylvester), stacked matrices broadcast.")


def sylvester(a, b, q):
    """``X`` with ``a X + X b = q`` as a primitive of the table (leading axes broadcast)."""
    return hd.bind(_sylvester, a, b, q)


# ---------------------------------------------------------------------------------------------------------------
# principal square root


def _sqrtm_impl(a):
    x = sla.sqrtm(a)
    if np.iscomplexobj(x):
        if np.any(np.imag(x) != 0):
            raise ValueError("hodiff.scipy.linalg.sqrtm: the principal square root of this matrix is complex (an "
                             "eigenvalue on the negative real axis); hodiff differentiates real square roots only")
        x = np.real(x)
    return x


def _spd_domain(rng):
    n = int(rng.integers(2, 4))
    batch = [(), (2,)][rng.integers(2)]
    c = rng.standard_normal(batch + (n, n))
    return c @ np.swapaxes(c, -1, -2) + n * np.eye(n)


# X dX + dX X = dA: a Sylvester equation whose coefficients are X (its adjoint uses X^T)
_sqrtm = hd.Primitive(
    "sqrtm", _sqrtm_impl,
    (lambda t, ans, a: sylvester(ans, ans, t),),
    (lambda g, ans, a: sylvester(_mT(ans), _mT(ans), g),),
    cost=_cubic_cost, domain=lambda rng: ((_spd_domain(rng),), {}),
    doc="Principal matrix square root (scipy.linalg.sqrtm) of a matrix whose square root is real.")


def sqrtm(a):
    """The principal square root of ``a`` as a primitive of the table."""
    return hd.bind(_sqrtm, a)


# ---------------------------------------------------------------------------------------------------------------
# LU with partial pivoting, packed as LAPACK stores it (unit-lower L below the diagonal, U on and above it)


def lu_perm_matrix(piv) -> np.ndarray:
    """The permutation matrix ``P`` with ``P A = L U`` from LAPACK's pivot indices (row ``i`` swapped with
    ``piv[i]``), for stacked pivots too."""
    piv = np.asarray(piv)
    n = piv.shape[-1]
    flat = piv.reshape(-1, n)
    out = np.zeros((flat.shape[0], n, n))
    for k, row in enumerate(flat):
        perm = np.arange(n)
        for i, j in enumerate(row):
            perm[i], perm[j] = perm[j], perm[i]
        out[k, np.arange(n), perm] = 1.0
    return out.reshape(piv.shape[:-1] + (n, n))


def _perm_of(a) -> np.ndarray:
    # the pivot order is piecewise constant in a: computed from the plain value, as masks and signs are (through
    # lower, so that hd.jit records the computation instead of freezing the permutation)
    return lower(_lu_perm, a)


def _lu_perm(a) -> np.ndarray:
    return lu_perm_matrix(sla.lu_factor(a, check_finite=False)[1])


def _unit_lower(lu):
    n = _shape(lu)[-1]
    return hd.add(hd.tril(lu, -1), np.eye(n))


def _right_solve_upper(w, u):
    """``w U^-1`` for upper triangular ``U``."""
    return _mT(hd.linalg.solve_triangular(_mT(u), _mT(w), lower=True))


def _lu_jvp(t, ans, a):
    low, up = _unit_lower(ans), hd.triu(ans)
    x = hd.linalg.solve_triangular(low, hd.matmul(_perm_of(a), t), lower=True)
    x = _right_solve_upper(x, up)
    return hd.add(hd.matmul(low, hd.tril(x, -1)), hd.matmul(hd.triu(x), up))


def _lu_vjp(g, ans, a):
    low, up = _unit_lower(ans), hd.triu(ans)
    m = hd.add(hd.tril(hd.matmul(_mT(low), g), -1), hd.triu(hd.matmul(g, _mT(up))))
    w = hd.linalg.solve_triangular(_mT(low), m, lower=False)
    w = _mT(hd.linalg.solve_triangular(up, _mT(w), lower=False))       # w U^-T
    return hd.matmul(_mT(_perm_of(a)), w)


def _lu_domain(rng):
    n = int(rng.integers(2, 5))
    batch = [(), (2,)][rng.integers(2)]
    # diagonally dominant rows, shuffled: partial pivoting undoes the shuffle with clear margins (no near-ties)
    d = rng.standard_normal(batch + (n, n)) + 4 * np.eye(n)
    return (d[..., rng.permutation(n), :],), {}


_lu = hd.Primitive(
    "lu_packed", lambda a: sla.lu_factor(a, check_finite=False)[0],
    (_lu_jvp,), (_lu_vjp,), cost=_cubic_cost, domain=_lu_domain,
    doc="The packed LU factor of scipy.linalg.lu_factor (square matrices; the pivots are not differentiable).")


def lu_packed(a):
    """The packed factor ``lu`` of ``scipy.linalg.lu_factor(a)`` as a primitive of the table."""
    return hd.bind(_lu, a)
