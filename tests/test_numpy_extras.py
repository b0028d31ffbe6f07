"""numpy functions built as composites late in the coverage work: values equal numpy's, derivatives pass hd.check
(scipy.differentiate as the oracle), to second order."""
import numpy as np
import pytest

import hodiff as hd

rng = np.random.default_rng(7)
X8 = rng.standard_normal(8)
M35 = rng.standard_normal((3, 5))
Y43 = rng.standard_normal((4, 3))
K = np.array([1.0, -2.0, 0.5])

CASES = {
    "diff": (lambda x: np.diff(x, 2), X8),
    "cross": (lambda y: np.cross(y, np.array([1.0, 2.0, 3.0])), Y43),
    "convolve-full": (lambda x: np.convolve(x, K), X8),
    "convolve-same": (lambda x: np.convolve(x, K, mode="same"), X8),
    "convolve-valid": (lambda x: np.convolve(K, x, mode="valid"), X8),
    "median-odd": (lambda x: np.median(x[:7]), X8),
    "median-even": (np.median, X8),
    "median-axis": (lambda m: np.median(m, axis=0), M35),
    "percentile": (lambda x: np.percentile(x, [10.0, 55.0]), X8),
    "quantile-axis": (lambda m: np.quantile(m, [0.3, 0.9], axis=1), M35),
    "nansum": (lambda x: np.nansum(x ** 2), X8),
    "nanmean": (np.nanmean, X8),
    "cov": (np.cov, M35),
    "cov-cols": (lambda m: np.cov(m, rowvar=False), M35),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_matches_numpy(name):
    f, a = CASES[name]
    got = hd.jvp(f, (a,), (np.zeros_like(a),))[0]
    np.testing.assert_allclose(got, f(a), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_against_finite_differences(name):
    f, a = CASES[name]
    w = np.random.default_rng(1).standard_normal(np.shape(f(a)))

    def scalar(z):   # a random weighting of the outputs and a square, so second derivatives are exercised
        out = f(z)
        return np.sum(w * out) + np.sum(out * out) / 3.0
    report = hd.check(scalar, a, order=2)
    assert report.passed, report.table()


def test_median_derivative_goes_to_the_middle_values():
    x = np.array([3.0, -1.0, 2.0, 10.0])      # middle values 2 and 3
    np.testing.assert_array_equal(hd.grad(np.median)(x), [0.5, 0.0, 0.5, 0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [0, 1, -1, (0,), None])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_sums_match_numpy(dtype, axis, keepdims):
    # sums over one axis of a matrix take a matrix-vector product internally: same values, shapes and dtypes
    rng = np.random.default_rng(4)
    for shape in [(256, 10), (3, 1), (1, 7), (40, 33)]:
        x = rng.standard_normal(shape).astype(dtype)
        for arr in (x, x.T, x[::2]):            # contiguous, transposed, strided
            got = hd.sum(arr, axis=axis, keepdims=keepdims)
            want = np.sum(arr, axis=axis, keepdims=keepdims)
            assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
            np.testing.assert_allclose(got, want, rtol=5e-6 if dtype == np.float32 else 1e-13, atol=1e-5)
    g = hd.grad(lambda w: np.sum(np.sum(w, axis=1) ** 2))(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(g, [[6.0, 6.0, 6.0], [24.0, 24.0, 24.0]])
