"""``hodiff.scipy.linalg`` against ``scipy.linalg``: values, and derivatives to second order.

Values: every function and option on the same inputs as scipy. Derivatives: ``check_derivatives`` (``_scipy_fd.py``):
JVP and VJP against finite differences of scipy's function, the transpose identity, forward against reverse, and
second order (HVP against finite differences of the gradient, Hessian and reverse-over-reverse against the HVP).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from _scipy_fd import EXACT_RTOL, assert_close, check_derivatives
from hypothesis import given, settings
from hypothesis import strategies as st

import hodiff as hd
import hodiff.scipy.linalg as hla

# ---------------------------------------------------------------------------------------------------------------
# inputs

RNG = np.random.default_rng(20261206)
N = 3
A = RNG.standard_normal((N, N)) + 3 * np.eye(N)
SPD = A @ A.T + N * np.eye(N)
B2 = RNG.standard_normal((N, 2))
B1 = RNG.standard_normal(N)
AS = RNG.standard_normal((2, N, N)) + 3 * np.eye(N)
SPDS = AS @ np.swapaxes(AS, -1, -2) + N * np.eye(N)


def _noisy(m, scale=0.3, seed=1):
    """``m`` plus noise that breaks its symmetry, so a function reading one triangle is told apart."""
    return m + scale * np.random.default_rng(seed).standard_normal(m.shape)


def _values_equal(got, want, what):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want), what
        for k, (g, w) in enumerate(zip(got, want)):
            _values_equal(g, w, f"{what}[{k}]")
        return
    if isinstance(want, bool) or np.asarray(want).dtype == bool:
        assert np.array_equal(got, want) and np.shape(got) == np.shape(want) and type(got) is type(want), what
        return
    want = np.asarray(want)
    assert_close(got, want, max(1.0, float(np.max(np.abs(want), initial=0.0))), EXACT_RTOL, what)


# ---------------------------------------------------------------------------------------------------------------
# solve_triangular, cholesky, cho_factor, cho_solve


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular_values(trans, lower, unit):
    for a, b in [(A, B2), (A, B1), (AS, B1), (AS, B2), (A, RNG.standard_normal((2, N, 2)))]:
        _values_equal(hla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit, check_finite=False),
                      sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit),
                      f"solve_triangular {np.shape(a)} {np.shape(b)}")


@pytest.mark.parametrize("trans, lower, unit, b", [(0, True, False, B2), ("T", False, True, B1), (2, True, True, B2),
                                                   (1, False, False, B1)])
def test_solve_triangular_derivatives(trans, lower, unit, b):
    kw = {"trans": trans, "lower": lower, "unit_diagonal": unit}
    check_derivatives(lambda a, b: hla.solve_triangular(a, b, **kw), lambda a, b: sla.solve_triangular(a, b, **kw),
                      [A, b], [0, 1])


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_family_values(lower):
    for m in (SPD, SPDS, _noisy(SPD)):
        _values_equal(hla.cholesky(m, lower=lower), sla.cholesky(m, lower=lower), "cholesky")
        c, low = hla.cho_factor(m, lower=lower)
        _values_equal((c, low), sla.cho_factor(m, lower=lower), "cho_factor (both triangles, as scipy's)")
        for b in (B1, B2):
            _values_equal(hla.cho_solve((c, low), b), sla.cho_solve(sla.cho_factor(m, lower=lower), b), "cho_solve")
    assert hla.cholesky(SPD).shape == (N, N) and np.allclose(np.tril(hla.cholesky(SPD), -1), 0.0)   # upper default


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_derivatives(lower):
    # noisy input: the derivative w.r.t. the triangle that is not read must be zero, as scipy's finite differences say
    check_derivatives(lambda a: hla.cholesky(a, lower=lower), lambda a: sla.cholesky(a, lower=lower),
                      [_noisy(SPD, 0.1)], [0])


@pytest.mark.parametrize("lower", [False, True])
def test_cho_factor_and_solve_derivatives(lower):
    m = _noisy(SPD, 0.1)
    check_derivatives(lambda a: hla.cho_factor(a, lower=lower)[0], lambda a: sla.cho_factor(a, lower=lower)[0],
                      [m], [0])
    check_derivatives(lambda a, b: hla.cho_solve(hla.cho_factor(a, lower=lower), b),
                      lambda a, b: sla.cho_solve(sla.cho_factor(a, lower=lower), b), [m, B2], [0, 1])
    # w.r.t. the factor itself, with garbage in the unused triangle (read by neither)
    c = _noisy(sla.cholesky(SPD, lower=lower), 0.5)
    check_derivatives(lambda c, b: hla.cho_solve((c, lower), b), lambda c, b: sla.cho_solve((c, lower), b),
                      [c, B1], [0, 1])


def test_cho_solve_batched():
    check_derivatives(lambda a, b: hla.cho_solve(hla.cho_factor(a), b), lambda a, b: sla.cho_solve(sla.cho_factor(a), b),
                      [SPDS, B1], [0, 1])


# ---------------------------------------------------------------------------------------------------------------
# solve, inv, det

STRUCTURES = [None, "gen", "general", "sym", "symmetric", "her", "hermitian", "pos", "positive definite",
              "diagonal", "tridiagonal", "banded", "upper triangular", "lower triangular"]


@pytest.mark.parametrize("assume_a", STRUCTURES)
def test_solve_values(assume_a):
    m = _noisy(SPD, 0.2)
    for lower in (False, True):
        for transposed in (False, True):
            for a, b in [(m, B2), (m, B1), (_noisy(SPDS, 0.2), B1)]:
                _values_equal(hla.solve(a, b, lower=lower, assume_a=assume_a, transposed=transposed),
                              sla.solve(a, b, lower=lower, assume_a=assume_a, transposed=transposed),
                              f"solve assume_a={assume_a} lower={lower} transposed={transposed}")


@pytest.mark.parametrize("assume_a, lower, transposed", [
    (None, False, False), ("gen", False, True), ("sym", False, False), ("sym", True, False), ("pos", False, False),
    ("pos", True, False), ("diagonal", False, False), ("tridiagonal", False, False), ("banded", False, False),
    ("upper triangular", False, True), ("lower triangular", False, False)])
def test_solve_derivatives(assume_a, lower, transposed):
    kw = {"lower": lower, "assume_a": assume_a, "transposed": transposed}
    check_derivatives(lambda a, b: hla.solve(a, b, **kw), lambda a, b: sla.solve(a, b, **kw),
                      [_noisy(SPD, 0.2), B2], [0, 1])


@pytest.mark.parametrize("assume_a", [None, "gen", "sym", "her", "pos", "upper triangular", "lower triangular"])
def test_inv_values_and_derivatives(assume_a):
    for lower in (False, True):
        for a in (_noisy(SPD, 0.2), _noisy(SPDS, 0.2)):
            _values_equal(hla.inv(a, assume_a=assume_a, lower=lower), sla.inv(a, assume_a=assume_a, lower=lower),
                          f"inv assume_a={assume_a} lower={lower}")
    check_derivatives(lambda a: hla.inv(a, assume_a=assume_a), lambda a: sla.inv(a, assume_a=assume_a),
                      [_noisy(SPD, 0.2)], [0])


def test_inv_diagonal():
    # scipy 1.17 copies the off-diagonal input into its result; on a diagonal matrix (the option's case) both agree
    d = np.diag([2.0, -3.0, 0.5])
    _values_equal(hla.inv(d, assume_a="diagonal"), sla.inv(d, assume_a="diagonal"), "inv diagonal")
    # the derivative reads only the diagonal: the oracle is diag(1 / diag(a))
    check_derivatives(lambda a: hla.inv(a, assume_a="diagonal"), lambda a: np.diag(1.0 / np.diag(a)),
                      [_noisy(d, 0.2)], [0])


def test_det():
    _values_equal(hla.det(A), sla.det(A), "det")
    _values_equal(hla.det(AS), sla.det(AS), "det stacked")
    check_derivatives(hla.det, sla.det, [A], [0])
    check_derivatives(hla.det, sla.det, [AS], [0])


# ---------------------------------------------------------------------------------------------------------------
# lu_factor, lu_solve


def _shuffled(seed=3, batch=()):
    r = np.random.default_rng(seed)
    d = r.standard_normal(batch + (4, 4)) + 4 * np.eye(4)
    return d[..., r.permutation(4), :]   # pivoting with clear margins


def test_lu_values():
    for a in (_shuffled(), _shuffled(batch=(2,)), A):
        _values_equal(hla.lu_factor(a), sla.lu_factor(a), "lu_factor")
        for trans in (0, 1, 2):
            for b in (RNG.standard_normal(a.shape[-1]), RNG.standard_normal((a.shape[-1], 2))):
                _values_equal(hla.lu_solve(hla.lu_factor(a), b, trans=trans),
                              sla.lu_solve(sla.lu_factor(a), b, trans=trans), f"lu_solve trans={trans}")
                # scipy's own factorization works too
                _values_equal(hla.lu_solve(sla.lu_factor(a), b, trans=trans),
                              sla.lu_solve(sla.lu_factor(a), b, trans=trans), "lu_solve of scipy's factors")


def test_lu_factor_derivatives():
    check_derivatives(lambda a: hla.lu_factor(a)[0], lambda a: sla.lu_factor(a)[0], [_shuffled()], [0])


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve_derivatives(trans):
    b = RNG.standard_normal((4, 2))
    check_derivatives(lambda a, b: hla.lu_solve(hla.lu_factor(a), b, trans=trans),
                      lambda a, b: sla.lu_solve(sla.lu_factor(a), b, trans=trans), [_shuffled(), b], [0, 1])
    check_derivatives(lambda a, b: hla.lu_solve(hla.lu_factor(a), b, trans=trans),
                      lambda a, b: sla.lu_solve(sla.lu_factor(a), b, trans=trans),
                      [_shuffled(batch=(2,)), b[:, 0]], [0, 1])


# ---------------------------------------------------------------------------------------------------------------
# eigh


SYM = _noisy(np.diag([1.0, 2.5, 4.0]) + 0.3 * (A + A.T), 0.2)   # well separated eigenvalues
# LAPACK may flip an eigenvector's sign between nearby inputs (scipy's eigh does, 1e-3 away from SYM): for the
# finite differences, both sides hold each eigenvector's sign against one fixed reference (a piecewise-constant
# factor read from plain values, as hodiff's own sign matching is)
REF_V = sla.eigh(SYM)[1]


def _held(v):
    return np.sign(np.sum(hd.stop_gradient(v) * REF_V, axis=-2))


def _eig_pair(res):
    w, v = res
    return np.concatenate([np.asarray(w)[..., None, :], np.asarray(v) * _held(v)], axis=-2)


def _eig_pair_hd(res):
    w, v = res
    return hd.concatenate([w.reshape(w.shape[:-1] + (1, w.shape[-1])), hd.multiply(v, _held(v))], axis=-2)


@pytest.mark.parametrize("lower", [True, False])
def test_eigh_values(lower):
    _values_equal(hla.eigh(SYM, lower=lower), sla.eigh(SYM, lower=lower), "eigh")
    _values_equal(hla.eigh(SYM, lower=lower, eigvals_only=True), sla.eigh(SYM, lower=lower, eigvals_only=True), "w")
    for itype in (1, 2, 3):
        _values_equal(hla.eigh(SYM, _noisy(SPD, 0.1), lower=lower, type=itype),
                      sla.eigh(SYM, _noisy(SPD, 0.1), lower=lower, type=itype), f"generalized type {itype}")
    _values_equal(hla.eigh(SYM, subset_by_index=[1, 2], driver="evr"), sla.eigh(SYM, subset_by_index=[1, 2]), "index")
    w = sla.eigh(SYM, eigvals_only=True)
    _values_equal(hla.eigh(SYM, subset_by_value=(w[0], w[2])), sla.eigh(SYM, subset_by_value=(w[0], w[2])), "value")
    stack = SPDS + np.diag([0.0, 3.0, 9.0])
    _values_equal(hla.eigh(stack, lower=lower), sla.eigh(stack, lower=lower), "eigh stacked")


@pytest.mark.parametrize("lower", [True, False])
def test_eigh_derivatives(lower):
    check_derivatives(lambda a: _eig_pair_hd(hla.eigh(a, lower=lower)), lambda a: _eig_pair(sla.eigh(a, lower=lower)),
                      [SYM], [0])
    check_derivatives(lambda a: hla.eigh(a, lower=lower, eigvals_only=True, subset_by_index=(1, 2)),
                      lambda a: sla.eigh(a, lower=lower, eigvals_only=True, subset_by_index=(1, 2)), [SYM], [0])


@pytest.mark.parametrize("itype", [1, 2, 3])
def test_eigh_generalized_derivatives(itype):
    check_derivatives(lambda a, b: _eig_pair_hd(hla.eigh(a, b, type=itype)),
                      lambda a, b: _eig_pair(sla.eigh(a, b, type=itype)), [SYM, _noisy(SPD, 0.1)], [0, 1])


# ---------------------------------------------------------------------------------------------------------------
# expm, sqrtm, solve_sylvester, block_diag


def test_expm():
    m = 0.5 * RNG.standard_normal((N, N))
    _values_equal(hla.expm(m), sla.expm(m), "expm")
    _values_equal(hla.expm(0.5 * AS), sla.expm(0.5 * AS), "expm stacked")
    check_derivatives(hla.expm, sla.expm, [m], [0])
    check_derivatives(hla.expm, sla.expm, [0.3 * AS], [0])


def test_expm_third_order_matches_series():
    # d^3/dt^3 expm(t M)[0, 1] at 0 is (M^3)[0, 1]: three nested levels through the block identity
    m = RNG.standard_normal((N, N))
    f = lambda t: hla.expm(t * m)[0, 1]
    want = (m @ m @ m)[0, 1]
    np.testing.assert_allclose(hd.grad(hd.grad(hd.grad(f)))(0.0), want, rtol=1e-10)
    fwd = lambda g: lambda t: hd.jvp(g, (t,), (1.0,))[1]
    np.testing.assert_allclose(fwd(fwd(fwd(f)))(0.0), want, rtol=1e-10)
    # Taylor mode has no rule for the new primitives: a clear error naming it
    with pytest.raises(NotImplementedError, match="expm"):
        hd.derivative(f, 3)(0.0)


def test_sqrtm():
    _values_equal(hla.sqrtm(SPD), sla.sqrtm(SPD), "sqrtm")
    _values_equal(hla.sqrtm(SPDS), sla.sqrtm(SPDS), "sqrtm stacked")
    x, err = hla.sqrtm(SPD, disp=False)
    _values_equal(x, sla.sqrtm(SPD), "sqrtm disp=False")
    assert isinstance(err, float) and err < 1e-20
    check_derivatives(hla.sqrtm, lambda a: sla.sqrtm(a), [SPD], [0])
    # at the identity (every eigenvalue repeated) the Sylvester form of the derivative still holds
    check_derivatives(hla.sqrtm, lambda a: sla.sqrtm(a), [np.eye(N)], [0])


def test_sqrtm_complex_root_raises():
    with pytest.raises(ValueError, match="complex"):
        hla.sqrtm(np.diag([1.0, -1.0]))


def test_solve_sylvester():
    a = RNG.standard_normal((N, N)) + 2 * np.eye(N)
    b = RNG.standard_normal((2, 2)) + 2 * np.eye(2)
    q = RNG.standard_normal((N, 2))
    _values_equal(hla.solve_sylvester(a, b, q), sla.solve_sylvester(a, b, q), "solve_sylvester")
    check_derivatives(hla.solve_sylvester, sla.solve_sylvester, [a, b, q], [0, 1, 2])
    qs = RNG.standard_normal((2, N, 2))
    _values_equal(hla.solve_sylvester(a, b, qs), sla.solve_sylvester(a, b, qs), "solve_sylvester stacked")
    check_derivatives(hla.solve_sylvester, sla.solve_sylvester, [a, b, qs], [0, 1, 2])


def test_block_diag():
    parts = [np.array(1.5), np.array([1.0, 2.0]), RNG.standard_normal((2, 1)), np.zeros((0, 2)), RNG.standard_normal((2, 2))]
    _values_equal(hla.block_diag(*parts), sla.block_diag(*parts), "block_diag")
    _values_equal(hla.block_diag(), sla.block_diag(), "block_diag()")
    ints = hla.block_diag([1, 2], [[3]])
    assert ints.dtype == sla.block_diag([1, 2], [[3]]).dtype
    check_derivatives(lambda x, y: hla.block_diag(x, y), sla.block_diag, [parts[2], parts[4]], [0, 1])
    with pytest.raises(ValueError, match="greater than 2"):
        hla.block_diag(np.zeros((2, 2, 2)))


# ---------------------------------------------------------------------------------------------------------------
# errors and ignored flags


def test_errors():
    with pytest.raises(TypeError, match="complex"):
        hla.solve(A + 1j, B1)
    with pytest.raises(TypeError, match="complex"):
        hla.expm(A.astype(complex))
    with pytest.raises(ValueError, match="trans"):
        hla.solve_triangular(A, B1, trans=3)
    with pytest.raises(ValueError, match="not a recognized"):
        hla.solve(A, B1, assume_a="orthogonal")
    with pytest.raises(ValueError, match="square"):
        hla.lu_factor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="trans"):
        hla.lu_solve(hla.lu_factor(A), B1, trans=3)
    with pytest.raises(NotImplementedError, match="subset_by_value"):
        hla.eigh(SPDS, subset_by_value=(0.0, 10.0))
    with pytest.raises(ValueError):   # scipy's own validation
        hla.eigh(SYM, driver="nonsense")
    with pytest.raises(np.linalg.LinAlgError):
        hla.cholesky(-np.eye(2))


def test_check_only_flags_are_accepted():
    _values_equal(hla.solve(A, B1, check_finite=False, overwrite_a=True, overwrite_b=True), sla.solve(A, B1), "solve")
    _values_equal(hla.cho_solve(hla.cho_factor(SPD, overwrite_a=True, check_finite=False), B1, overwrite_b=True,
                                check_finite=False), sla.cho_solve(sla.cho_factor(SPD), B1), "cho_solve")
    _values_equal(hla.lu_solve(hla.lu_factor(A, overwrite_a=True, check_finite=False), B1, overwrite_b=True,
                               check_finite=False), sla.lu_solve(sla.lu_factor(A), B1), "lu_solve")


def test_tensor_api():
    a = hd.tensor(SPD, requires_grad=True)
    hla.solve(a, B1, assume_a="pos").sum().backward()
    g = hd.grad(lambda m: hd.sum(hla.solve(m, B1, assume_a="pos")))(SPD)
    np.testing.assert_allclose(np.asarray(a.grad), g, rtol=1e-12)


def test_one_element_inputs():
    # scipy divides by a one-element a whatever b's length, and takes a one-element array as a 1 x 1 matrix in expm
    for a, b in [([[2.0]], [1.0, 2.0, 3.0]), (2.0, [1.0, 2.0]), ([[2.0]], [[1.0], [2.0]]), ([[[2.0]]], [1.0, 2.0])]:
        _values_equal(hla.solve(a, b), sla.solve(a, b), f"solve {np.shape(a)} {np.shape(b)}")
    check_derivatives(hla.solve, sla.solve, [np.array([[2.0]]), np.array([1.0, -3.0])], [0, 1])
    _values_equal(hla.expm(np.array([0.5])), sla.expm(np.array([0.5])), "expm of a one-element array")


@pytest.mark.parametrize("module", ["hodiff.scipy.linalg", "hodiff.scipy._matfuncs"])
def test_docstring_examples(module):
    import doctest
    import importlib
    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0, res


def _third(f):
    """d^3/dt^3 f(t) at 0 by three nested reverse passes (f returns a scalar)."""
    return hd.grad(hd.grad(hd.grad(f)))(0.0)


def test_third_order_against_series():
    # x(t) = (M + t E)^-1 b = sum_k (-t)^k (M^-1 E)^k M^-1 b, so x'''(0) = -6 (M^-1 E)^3 M^-1 b
    e = RNG.standard_normal((N, N))
    e = e + e.T                                   # symmetric, so the symmetric solvers see the same matrix
    w = RNG.standard_normal(N)
    k = np.linalg.solve(SPD, e)
    want = -6.0 * w @ (k @ k @ k @ np.linalg.solve(SPD, B1))
    solvers = {
        "lu": lambda m: hla.lu_solve(hla.lu_factor(m), B1),
        "cho": lambda m: hla.cho_solve(hla.cho_factor(m), B1),
        "pos": lambda m: hla.solve(m, B1, assume_a="pos"),
        "sym": lambda m: hla.solve(m, B1, assume_a="sym", lower=True),
    }
    for name, sol in solvers.items():
        got = _third(lambda t, sol=sol: hd.sum(hd.multiply(w, sol(SPD + t * e))))
        np.testing.assert_allclose(got, want, rtol=1e-9, err_msg=name)
    # sqrt(I + t E) = I + t E / 2 - t^2 E^2 / 8 + t^3 E^3 / 16 - ...: the third derivative is 3/8 E^3
    got = _third(lambda t: hla.sqrtm(np.eye(N) + t * e)[0, 1])
    np.testing.assert_allclose(got, 0.375 * (e @ e @ e)[0, 1], rtol=1e-9)


# (name, hodiff function, scipy function, number of matrix arguments): square n x n arguments, the first SPD-like
RANDOM_CASES = [
    ("solve", hla.solve, sla.solve, 2),
    ("solve pos lower", lambda a, b: hla.solve(a, b, assume_a="pos", lower=True),
     lambda a, b: sla.solve(a, b, assume_a="pos", lower=True), 2),
    ("solve_triangular T unit", lambda a, b: hla.solve_triangular(a, b, trans="T", unit_diagonal=True),
     lambda a, b: sla.solve_triangular(a, b, trans="T", unit_diagonal=True), 2),
    ("cho_solve", lambda a, b: hla.cho_solve(hla.cho_factor(a), b), lambda a, b: sla.cho_solve(sla.cho_factor(a), b), 2),
    ("lu_solve", lambda a, b: hla.lu_solve(hla.lu_factor(a), b), lambda a, b: sla.lu_solve(sla.lu_factor(a), b), 2),
    ("inv sym", lambda a: hla.inv(a, assume_a="sym"), lambda a: sla.inv(a, assume_a="sym"), 1),
    ("det", hla.det, sla.det, 1),
    ("eigvalsh", lambda a: hla.eigh(a, eigvals_only=True), lambda a: sla.eigh(a, eigvals_only=True), 1),
    ("expm", hla.expm, sla.expm, 1),
    ("sqrtm", hla.sqrtm, sla.sqrtm, 1),
    ("solve_sylvester", hla.solve_sylvester, sla.solve_sylvester, 3),
]


@settings(max_examples=12)
@given(seed=st.integers(0, 2**32 - 1), case=st.sampled_from(RANDOM_CASES))
def test_random_sizes(seed, case):
    # sizes 1 to 4 (1 x 1 included), random well-conditioned inputs, values and derivatives to second order
    _name, f_hd, f_ref, k = case
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    c = rng.standard_normal((n, n))
    first = c @ c.T + n * np.eye(n) + 0.1 * rng.standard_normal((n, n))   # positive definite in both triangles
    args = [first] + [rng.standard_normal((n, n)) * 0.5 + 2 * np.eye(n) for _ in range(k - 1)]
    check_derivatives(f_hd, f_ref, args, list(range(k)), seed=seed)
