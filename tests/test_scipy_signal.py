"""``hodiff.scipy.signal`` against ``scipy.signal``: values, and derivatives to second order.

Values: ``convolve``, ``correlate`` (every mode and method) and ``fftconvolve`` (every mode, with ``axes``) on 1-d,
2-d and 3-d inputs of odd and even sizes, either input the larger. Derivatives with respect to both inputs:
``check_derivatives`` (``_scipy_fd.py``): JVP and VJP against finite differences of scipy's function, the transpose
identity, forward (batched tangents) against reverse, and second order (HVP against finite differences of the
gradient; Hessian and reverse-over-reverse against the HVP; the Hessian of a bilinear map has only mixed terms).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
from _scipy_fd import EXACT_RTOL, assert_close, check_derivatives
from hypothesis import given, settings
from hypothesis import strategies as st

import hodiff as hd
import hodiff.scipy.signal as hs

RNG = np.random.default_rng(7)

SHAPES = [((5,), (3,)), ((4,), (4,)), ((3,), (6,)), ((4, 3), (2, 3)), ((4, 4), (3, 2)), ((2, 2), (4, 5)),
          ((3, 5), (4, 2)), ((2, 3, 4), (2, 2, 3)), ((1,), (1,))]


def _pair(s1, s2):
    return RNG.standard_normal(s1), RNG.standard_normal(s2)


def _same_as_scipy(got, want, what):
    want = np.asarray(want)
    assert np.shape(got) == want.shape, f"{what}: shape {np.shape(got)} != {want.shape}"
    assert_close(got, want, max(1.0, float(np.max(np.abs(want), initial=0.0))), EXACT_RTOL, what)


@pytest.mark.parametrize("fname", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_values(fname, mode, method):
    for s1, s2 in SHAPES:
        a, b = _pair(s1, s2)
        try:
            want = getattr(ss, fname)(a, b, mode=mode, method=method)
        except ValueError:   # 'valid' with neither input the larger: the same error from hodiff
            with pytest.raises(ValueError, match="at least as large"):
                getattr(hs, fname)(a, b, mode=mode, method=method)
            continue
        _same_as_scipy(getattr(hs, fname)(a, b, mode=mode, method=method), want, f"{fname} {s1} {s2} {mode}")


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_fftconvolve_values(mode):
    cases = [(s1, s2, None) for s1, s2 in SHAPES if s1 != (3, 5)] + [
        ((3, 6), (3, 2), 1), ((3, 6), (1, 2), -1), ((4, 3, 5), (1, 3, 2), [0, 2]), ((2, 5), (2, 7), (1,)),
        ((2, 5), (1, 1), 0)]
    for s1, s2, axes in cases:
        a, b = _pair(s1, s2)
        _same_as_scipy(hs.fftconvolve(a, b, mode=mode, axes=axes), ss.fftconvolve(a, b, mode=mode, axes=axes),
                       f"fftconvolve {s1} {s2} {mode} axes={axes}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # scipy's own method choice on empty inputs (log 0)
def test_scalars_integers_and_empty():
    assert hs.convolve(2.0, 3.0) == ss.convolve(2.0, 3.0)
    ai, bi = np.array([1, 2, 3]), np.array([1, 1])
    for f in ("convolve", "correlate"):
        got, want = getattr(hs, f)(ai, bi), getattr(ss, f)(ai, bi)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    e, o = np.zeros((0, 2)), np.ones((1, 1))
    assert hs.convolve(e, o).shape == ss.convolve(e, o).shape and hs.fftconvolve(e, o).shape == ss.fftconvolve(e, o).shape


@pytest.mark.parametrize("fname", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("shapes", [((5,), (3,)), ((2, 4), (3, 4)), ((2, 2, 3), (1, 2, 2))])
def test_derivatives(fname, mode, method, shapes):
    a, b = _pair(*shapes)
    check_derivatives(lambda x, y: getattr(hs, fname)(x, y, mode=mode, method=method),
                      lambda x, y: getattr(ss, fname)(x, y, mode=mode, method=method), [a, b], [0, 1])


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("s1, s2, axes", [((6,), (4,), None), ((3, 6), (3, 2), 1), ((3, 6), (1, 2), -1),
                                          ((2, 3, 4), (2, 1, 3), [0, 2])])
def test_fftconvolve_derivatives(mode, s1, s2, axes):
    a, b = _pair(s1, s2)
    check_derivatives(lambda x, y: hs.fftconvolve(x, y, mode=mode, axes=axes),
                      lambda x, y: ss.fftconvolve(x, y, mode=mode, axes=axes), [a, b], [0, 1])


def test_hessian_of_bilinear_map_is_mixed_only():
    # s(a, b) = sum(w * convolve(a, b)): no second derivative within one input; the mixed block is the
    # correlation of w with itself laid out as a matrix: d2s/da_i db_j = w[i + j]
    a, b = _pair((3,), (2,))
    w = RNG.standard_normal(4)
    H = hd.hessian(lambda z: hd.sum(hd.multiply(w, hs.convolve(z[:3], z[3:]))))(np.concatenate([a, b]))
    np.testing.assert_allclose(H[:3, :3], 0.0, atol=1e-14)
    np.testing.assert_allclose(H[3:, 3:], 0.0, atol=1e-14)
    np.testing.assert_allclose(H[:3, 3:], w[np.add.outer(np.arange(3), np.arange(2))], rtol=1e-12)


def test_tensor_api():
    x = hd.tensor(RNG.standard_normal(6), requires_grad=True)
    k = RNG.standard_normal(3)
    # z[n] = sum_j x[n + j] k[j], so d(sum z)/dx_i = sum of k[j] over 0 <= i - j < 4: ones(4) convolved with k
    hs.correlate(x, k, mode="valid").sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), ss.convolve(np.ones(4), k, mode="full"), rtol=1e-12)


def test_errors():
    with pytest.raises(TypeError, match="complex"):
        hs.convolve(np.ones(3) + 1j, np.ones(2))
    with pytest.raises(TypeError, match="complex"):
        hs.fftconvolve(np.ones(3), np.ones(2, dtype=complex))
    with pytest.raises(ValueError, match="same dimensionality"):
        hs.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="mode"):
        hs.correlate(np.ones(3), np.ones(2), mode="circular")
    with pytest.raises(ValueError, match="method"):
        hs.convolve(np.ones(3), np.ones(2), method="winograd")
    with pytest.raises(ValueError, match="incompatible shapes"):
        hs.fftconvolve(np.ones((2, 3)), np.ones((3, 3)), axes=1)
    with pytest.raises(ValueError, match="at least as large"):
        hs.fftconvolve(np.ones((2, 5)), np.ones((3, 2)), mode="valid")


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_primitive_with_broadcast_axis(method):
    # convolve_full along the last two axes, the first broadcast with length 3 in both inputs (the direct method's
    # per-position path): each slice is scipy's full 2-d convolution of the matching slices
    a, b = _pair((3, 1, 3), (3, 2, 2))
    ref = lambda x, y: np.stack([ss.convolve(x[i], y[i], method=method) for i in range(3)])
    check_derivatives(lambda x, y: hs.conv_full(x, y, (-2, -1), method), ref, [a, b], [0, 1])


def test_docstring_examples():
    import doctest
    res = doctest.testmod(hs, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0, res


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_shapes(seed):
    # any sizes, either input the larger, any mode, method and function: scipy's values and first and second
    # derivatives in both inputs
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 3))
    s1, s2 = tuple(rng.integers(1, 5, nd)), tuple(rng.integers(1, 5, nd))
    mode = ["full", "same", "valid"][rng.integers(3)]
    if mode == "valid" and not (all(np.greater_equal(s1, s2)) or all(np.greater_equal(s2, s1))):
        mode = "same"
    method = ["direct", "fft"][rng.integers(2)]
    fname = ["convolve", "correlate"][rng.integers(2)]
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    check_derivatives(lambda x, y: getattr(hs, fname)(x, y, mode=mode, method=method),
                      lambda x, y: getattr(ss, fname)(x, y, mode=mode, method=method), [a, b], [0, 1], seed=seed)
