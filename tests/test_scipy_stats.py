"""``hodiff.scipy.stats`` against ``scipy.stats``: values on the same inputs (supports, invalid parameters,
broadcasting, keyword and frozen forms), first derivatives in every argument against scipy.differentiate applied to
scipy's own functions, forward against reverse, Hessians of log-likelihoods against finite differences of the
gradient and against reverse-over-reverse, and the errors where no derivative exists."""
from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest
import scipy.stats as st
from scipy import differentiate as sd

import hodiff as hd
from hodiff.scipy import stats as S

CONT_METHODS = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]
DISC_METHODS = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]

# distribution -> (shape parameter sets, standardized points well inside the support)
CONT = {
    "norm": ([()], [-2.5, -0.3, 0.4, 1.7]),
    "expon": ([()], [0.2, 0.9, 2.5]),
    "laplace": ([()], [-1.5, -0.2, 0.3, 2.0]),
    "logistic": ([()], [-3.0, -0.4, 0.6, 2.0]),
    "cauchy": ([()], [-4.0, -0.5, 0.7, 3.0]),
    "uniform": ([()], [0.1, 0.45, 0.8]),
    "lognorm": ([(0.6,), (1.8,)], [0.3, 1.1, 2.7]),
    "t": ([(1.0,), (3.5,), (25.0,)], [-2.5, -0.3, 0.4, 1.7]),
    "gamma": ([(0.7,), (2.5,)], [0.3, 1.2, 3.5]),
    "chi2": ([(1.5,), (6.0,)], [0.4, 2.0, 7.0]),
    "beta": ([(0.6, 0.8), (2.5, 4.0)], [0.15, 0.5, 0.85]),
}
SHAPED = {"t", "gamma", "chi2", "beta"}   # distribution functions not differentiable in the shape parameters
# points for the value tests: outside every support, on its ends, infinities and nan
EDGES = [-np.inf, -5.0, -1.0, -0.2, 0.0, 0.25, 0.5, 1.0, 1.5, 4.0, 60.0, np.inf, np.nan]
LOC_SCALE = [(0.0, 1.0), (0.3, 2.0), (-1.0, 0.5)]

DISC = {
    "poisson": [(0.0,), (2.5,), (40.0,)],
    "binom": [(5, 0.3), (10, 0.0), (10, 1.0), (20, 0.85)],
    "nbinom": [(2.5, 0.4), (1, 1.0), (7, 0.1)],
    "geom": [(0.3,), (1.0,), (0.05,)],
    "bernoulli": [(0.3,), (0.0,), (1.0,)],
}
KS = [-np.inf, -2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.7, 5.0, 10.0, 30.0, np.inf, np.nan]
BAD_DISC = {"poisson": (-1.0,), "binom": (4.5, 0.3), "nbinom": (0.0, 0.5), "geom": (0.0,), "bernoulli": (1.5,)}


def _close(a, b, rtol=1e-12, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=atol,
                               equal_nan=True)


# scipy forms some log-probabilities near 0 as log(p) with p ~ 1 - tiny, exact only to ~1e-16 absolute; ours use
# log1p(-q) there (exact to rounding: see test_tails_use_stable_forms), so log methods compare to 1e-14 absolute
LOG_ATOL = {"logcdf": 1e-14, "logsf": 1e-14}


def _scipy(name, method, *args, **kwds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(getattr(st, name), method)(*args, **kwds)


# ------------------------------------------------------------------------------------------------------------------
# values

@pytest.mark.parametrize("name", sorted(CONT))
def test_continuous_values(name):
    x = np.array(EDGES)
    for shapes in CONT[name][0] + [tuple(-1.0 for _ in CONT[name][0][0])] * bool(CONT[name][0][0]):
        for loc, scale in LOC_SCALE + [(0.0, -1.0), (0.0, 0.0)]:
            for m in CONT_METHODS:
                got = getattr(getattr(S, name), m)(x, *shapes, loc, scale)
                _close(got, _scipy(name, m, x, *shapes, loc, scale), atol=LOG_ATOL.get(m, 0.0))


@pytest.mark.parametrize("name", sorted(DISC))
def test_discrete_values(name):
    k = np.array(KS)
    for shapes in DISC[name]:
        for loc in (0, 2):
            for m in DISC_METHODS:
                _close(getattr(getattr(S, name), m)(k, *shapes, loc), _scipy(name, m, k, *shapes, loc),
                       atol=LOG_ATOL.get(m, 0.0))
    # invalid parameters give nan, like scipy (scipy's logcdf alone gives 0 at k >= the support's end: not matched)
    for m in DISC_METHODS:
        kk = k[np.isfinite(k) & (k < 1)] if m == "logcdf" else k
        _close(getattr(getattr(S, name), m)(kk, *BAD_DISC[name]), _scipy(name, m, kk, *BAD_DISC[name]))


def test_t_infinite_df_is_normal():
    x, df = np.array(EDGES), np.array([np.inf, 3.0, np.inf, 0.5] * 3 + [np.inf])
    for m in CONT_METHODS:
        _close(getattr(S.t, m)(x, df, 0.2, 1.5), _scipy("t", m, x, df, 0.2, 1.5), atol=LOG_ATOL.get(m, 0.0))
    x = np.array([-1.2, 0.3, 2.0])
    for m in CONT_METHODS:
        _check_grads(getattr(S.t, m), getattr(st.t, m), [x, np.inf, 0.2, 1.5], [0, 2, 3])


def test_tails_use_stable_forms():
    cases = [("norm", "logcdf", [-40.0, 40.0], ()), ("norm", "logsf", [-40.0, 40.0], ()),
             ("t", "logcdf", [-1e5, 50.0], (3.0,)), ("gamma", "logsf", [1e-3, 200.0], (2.0,)),
             ("beta", "logcdf", [1e-6, 1 - 1e-9], (2.0, 3.0)), ("cauchy", "logcdf", [-1e10, 1e10], ()),
             ("expon", "logcdf", [1e-10, 50.0], ()), ("logistic", "logcdf", [-800.0, 50.0], ()),
             ("lognorm", "logsf", [1e-8, 1e8], (1.0,)), ("poisson", "logsf", [30.0, 60.0], (2.0,)),
             ("geom", "logsf", [1.0, 1000.0], (0.3,)), ("uniform", "logsf", [1e-12, 1 - 1e-12], ())]
    for name, m, x, shapes in cases:
        x = np.array(x)
        _close(getattr(getattr(S, name), m)(x, *shapes), _scipy(name, m, x, *shapes), rtol=1e-13)
    # where scipy takes log(sf) of an sf within 1e-12 of 1, the reference is log1p(-cdf) of scipy's own cdf
    k = np.arange(4.0)
    _close(S.binom.logsf(k, 20, 0.85), np.log1p(-st.binom.cdf(k, 20, 0.85)), rtol=1e-13)
    _close(S.gamma.logcdf(np.array([40.0, 60.0]), 3.0), np.log1p(-st.gamma.sf([40.0, 60.0], 3.0)), rtol=1e-13)


def test_broadcasting_keywords_frozen():
    x = np.linspace(0.2, 3.0, 4).reshape(4, 1)
    loc, scale, a = np.array([0.0, 0.1, -0.2]), np.array([[1.0], [2.0], [0.5], [1.5]]), np.array([0.8, 2.0, 3.0])
    for name, shapes, kw in [("gamma", (a,), {"a": a}), ("norm", (), {}), ("t", (a,), {"df": a}),
                             ("beta", (a, 2.0), {"a": a, "b": 2.0})]:
        xx = x / 4.0 if name == "beta" else x
        for m in CONT_METHODS:
            want = _scipy(name, m, xx, *shapes, loc, scale)
            d = getattr(S, name)
            got = getattr(d, m)(xx, *shapes, loc, scale)
            assert np.shape(got) == np.shape(want) == (4, 3)
            _close(got, want)
            _close(getattr(d, m)(xx, **kw, loc=loc, scale=scale), want)
            _close(getattr(d, m)(xx, *shapes, scale=scale, loc=loc), want)
            _close(getattr(d(*shapes, loc=loc, scale=scale), m)(xx), want)
    k = np.arange(5.0).reshape(5, 1)
    for m in DISC_METHODS:
        want = _scipy("binom", m, k, 4, np.array([0.2, 0.5]))
        _close(getattr(S.binom(n=4, p=np.array([0.2, 0.5])), m)(k), want)
        _close(getattr(S.binom, m)(k, 4, p=np.array([0.2, 0.5])), want)
    # scalars in, numpy scalar out, as scipy
    out = S.norm.logpdf(0.5, 0.1, 2.0)
    assert isinstance(out, np.float64) and out == st.norm.logpdf(0.5, 0.1, 2.0)
    assert isinstance(S.poisson.pmf(3, 2.0), np.float64)


def test_argument_errors():
    with pytest.raises(TypeError, match="missing required argument"):
        S.t.logpdf(1.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        S.norm.logpdf(1.0, mu=0.0)
    with pytest.raises(TypeError, match="multiple values"):
        S.norm.logpdf(1.0, 0.0, loc=1.0)
    with pytest.raises(TypeError, match="at most"):
        S.norm.logpdf(1.0, 0.0, 1.0, 2.0)


# ------------------------------------------------------------------------------------------------------------------
# first derivatives against scipy.differentiate on scipy's own functions

def _fd(fun, args, i, step=1e-2):
    """d fun / d args[i], elementwise, by scipy.differentiate on ``fun`` (a scipy function)."""
    others = args[:i] + args[i + 1:]

    def f(v, *rest):
        a = list(rest)
        a.insert(i, v)
        return fun(*a)
    res = sd.derivative(f, args[i], args=others, initial_step=step, tolerances={"atol": 1e-11})
    assert np.all(res.success), res
    return res.df


def _check_grads(ours, theirs, args, diff, rtol=1e-7, atol=1e-10):
    """Elementwise derivatives of ``ours`` (hodiff) in each argument of ``diff``: forward (jvp with ones), reverse
    (grad of the sum) and scipy.differentiate of ``theirs`` all agree."""
    args = [np.asarray(a, dtype=float) for a in np.broadcast_arrays(*args)]
    for i in diff:
        def f(v, i=i):
            a = list(args)
            a[i] = v
            return ours(*a)
        fwd = hd.jvp(f, (args[i],), (np.ones_like(args[i]),))[1]
        rev = hd.grad(lambda v: hd.sum(f(v)))(args[i])
        np.testing.assert_allclose(fwd, rev, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(rev, _fd(theirs, args, i), rtol=rtol, atol=atol, err_msg=f"argument {i}")


@pytest.mark.parametrize("method", CONT_METHODS)
@pytest.mark.parametrize("name", sorted(CONT))
def test_continuous_grads(name, method):
    shape_sets, z = CONT[name]
    loc, scale = 0.3, 1.7
    x = loc + scale * np.array(z)
    ours, theirs = getattr(getattr(S, name), method), getattr(getattr(st, name), method)
    for shapes in shape_sets:
        args = [x, *shapes, loc, scale]
        n = len(args)
        diff = [0, n - 2, n - 1] if method not in ("logpdf", "pdf") and name in SHAPED else range(n)
        _check_grads(ours, theirs, args, diff)


@pytest.mark.parametrize("method", DISC_METHODS)
@pytest.mark.parametrize("name", sorted(DISC))
def test_discrete_grads(name, method):
    params = {"poisson": [(2.5,), (0.7,)], "binom": [(12, 0.3), (8, 0.8)], "nbinom": [(2.5, 0.4), (7.0, 0.7)],
              "geom": [(0.3,), (0.8,)], "bernoulli": [(0.3,), (0.75,)]}[name]
    k = np.array([0.0, 1.0, 3.0, 5.0]) + (name == "geom")
    if name == "bernoulli":
        k = np.array([0.0, 1.0, 0.0, 1.0]) if method in ("logpmf", "pmf") else np.zeros(4)
    ours, theirs = getattr(getattr(S, name), method), getattr(getattr(st, name), method)
    for shapes in params:
        args = [k, *shapes]
        if name == "binom":    # n is an integer: only p is differentiable
            diff = [2]
        elif name == "nbinom" and method not in ("logpmf", "pmf"):
            diff = [2]
        else:
            diff = range(1, len(args))
        _check_grads(ours, theirs, args, diff, atol=1e-9)


def test_multivariate_normal():
    rng = np.random.default_rng(0)
    d = 3
    A = rng.normal(size=(d, d))
    mean = rng.normal(size=d)
    X = rng.normal(size=(5, d))

    def cov_of(a):
        return a @ a.T + np.eye(d)
    cov = cov_of(A)
    for x in (X, X[0], X[:1]):
        _close(S.multivariate_normal.logpdf(x, mean, cov), st.multivariate_normal.logpdf(x, mean, cov), 1e-12)
        _close(S.multivariate_normal(mean, cov).pdf(x), st.multivariate_normal(mean, cov).pdf(x), 1e-12)
    for x, m, c in [(np.array([0.3, -1.0, 2.0]), None, 2.5), (1.5, 0.5, 2.0), (X, mean, np.array([1.0, 2.0, 0.5]))]:
        _close(S.multivariate_normal.logpdf(x, m, c), st.multivariate_normal.logpdf(x, m, c), 1e-12)
    assert np.shape(S.multivariate_normal.logpdf(X[:, :1], 0.0, 2.0)) == (5,)
    # gradients in x, mean and (through a factor) cov, against differences of scipy's logpdf
    ll = lambda x, m, a: hd.sum(S.multivariate_normal.logpdf(x, m, hd.matmul(a, hd.swapaxes(a, 0, 1)) + np.eye(d)))
    ref = lambda x, m, a: np.sum(st.multivariate_normal.logpdf(x, m, cov_of(a)))
    for i, v in enumerate((X, mean, A)):
        args = [X, mean, A]
        g = hd.grad(ll, argnums=i)(*args)

        def f(flat, i=i, v=v):
            out = []
            for row in np.moveaxis(flat, 0, -1).reshape(-1, v.size):
                a = list(args)
                a[i] = row.reshape(v.shape)
                out.append(ref(*a))
            return np.array(out).reshape(flat.shape[1:])
        fd = sd.jacobian(f, v.ravel(), initial_step=1e-2).df
        np.testing.assert_allclose(g.ravel(), fd, rtol=1e-7, atol=1e-9)
    # directly in cov: like scipy's (which reads the lower triangle), entry by entry
    g = hd.grad(lambda c: S.multivariate_normal.logpdf(X[0], mean, c))(cov)
    fd = sd.jacobian(lambda c: np.array([st.multivariate_normal.logpdf(X[0], mean, ci.reshape(d, d))
                                          for ci in np.moveaxis(c, 0, -1).reshape(-1, d * d)]
                                         ).reshape(c.shape[1:]), cov.ravel(), initial_step=1e-2).df
    np.testing.assert_allclose(g.ravel(), fd, rtol=1e-7, atol=1e-9)
    assert np.all(np.triu(g, 1) == 0)
    # the Hessian in the mean is -n * cov^-1, exactly
    H = hd.hessian(lambda m: ll(X, m, A))(mean)
    np.testing.assert_allclose(H, -5 * np.linalg.inv(cov), rtol=1e-12)
    with pytest.raises(hd.HodiffError, match="numerical integration"):
        hd.grad(lambda m: S.multivariate_normal.cdf(X[0], m, cov))(mean)


def test_dirichlet():
    alpha = np.array([0.7, 2.0, 3.5])
    x1 = np.array([0.2, 0.3, 0.5])
    X = np.array([[0.2, 0.1, 0.6], [0.3, 0.8, 0.1], [0.5, 0.1, 0.3]])
    for x in (x1, X, X[:2], x1[:2]):
        _close(S.dirichlet.logpdf(x, alpha), st.dirichlet.logpdf(x, alpha), 1e-12)
        _close(S.dirichlet(alpha).pdf(x), st.dirichlet(alpha).pdf(x), 1e-12)
    with pytest.raises(ValueError, match="simplex"):
        S.dirichlet.logpdf(np.array([0.2, 0.3, 0.6]), alpha)
    # d/d alpha_i = psi(sum alpha) - psi(alpha_i) + log x_i; d/dx_i = (alpha_i - 1)/x_i
    from scipy.special import polygamma, psi
    g = hd.grad(lambda a: S.dirichlet.logpdf(x1, a))(alpha)
    np.testing.assert_allclose(g, psi(alpha.sum()) - psi(alpha) + np.log(x1), rtol=1e-12)
    np.testing.assert_allclose(hd.grad(lambda x: S.dirichlet.logpdf(x, alpha))(x1), (alpha - 1) / x1, rtol=1e-12)
    H = hd.hessian(lambda a: hd.sum(S.dirichlet.logpdf(X, a)))(alpha)
    np.testing.assert_allclose(H, 3 * (polygamma(1, alpha.sum()) - np.diag(polygamma(1, alpha))), rtol=1e-12)


# ------------------------------------------------------------------------------------------------------------------
# second and higher order

def _fd_jac(g, th, h=1e-5):
    cols = []
    for j in range(th.size):
        e = np.zeros_like(th)
        e[j] = h
        cols.append((g(th + e) - g(th - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def _check_hessian(f, th):
    H = hd.hessian(f)(th)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H, _fd_jac(hd.grad(f), th), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H, hd.jacrev(hd.grad(f))(th), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H, hd.jacfwd(hd.jacfwd(f))(th), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CONT))
def test_continuous_hessians(name):
    shapes, z = CONT[name][0][-1], np.array(CONT[name][1])
    data = 0.3 + 1.7 * z
    ns = len(shapes)
    d = getattr(S, name)

    def ll(th, method="logpdf", fixed=None):
        """sum of ``method`` over the data, in th = (shapes, loc, log scale), or th = (loc, log scale) with the
        shapes ``fixed``."""
        sh = [hd.getitem(th, i) for i in range(ns)] if fixed is None else list(fixed)
        i = ns if fixed is None else 0
        return hd.sum(getattr(d, method)(data, *sh, th[i], hd.exp(th[i + 1])))
    th = np.array([*shapes, 0.3, np.log(1.7)])
    _check_hessian(ll, th)
    # a censored likelihood: survival function and cdf terms; in (shapes, loc, log scale), or in (loc, log scale)
    # where the distribution functions have no shape derivative
    if name in SHAPED:
        _check_hessian(lambda th2: ll(th2, "logsf", shapes) + ll(th2, "logcdf", shapes), th[ns:])
    else:
        _check_hessian(lambda th: ll(th, "logsf") + ll(th, "logcdf"), th)


@pytest.mark.parametrize("name", sorted(DISC))
def test_discrete_hessians(name):
    k = np.array([0.0, 1.0, 2.0, 4.0]) + (name == "geom")
    if name == "bernoulli":
        k = np.array([0.0, 1.0, 1.0, 0.0])
    sh = {"poisson": (1.7,), "binom": (6, 0.35), "nbinom": (3.5, 0.45), "geom": (0.3,), "bernoulli": (0.4,)}[name]
    d = getattr(S, name)
    if name == "binom":
        f = lambda th: hd.sum(d.logpmf(k, 6, th[0])) + hd.sum(d.logsf(k, 6, th[0]))
        th = np.array([0.35])
    elif name == "nbinom":
        f = lambda th: hd.sum(d.logpmf(k, th[0], th[1])) + hd.sum(d.logcdf(k, 3.5, th[1]))
        th = np.array(sh)
    else:
        f = lambda th: hd.sum(d.logpmf(k, th[0])) + hd.sum(d.logcdf(k, th[0])) + hd.sum(d.logsf(k, th[0]))
        th = np.array(sh)
    _check_hessian(f, th)


def test_hessian_with_broadcast_shapes():
    # distribution functions with a vector of shapes broadcast against a column of data, in (loc, log scale)
    x, a = np.linspace(0.5, 3.0, 4).reshape(4, 1), np.array([0.8, 2.0, 3.0])
    for name, sh in [("gamma", (a,)), ("t", (a,)), ("chi2", (a,)), ("beta", (a, 2.0))]:
        xx, d = (x / 4 if name == "beta" else x), getattr(S, name)
        _check_hessian(lambda th: hd.sum(d.logsf(xx, *sh, th[0], hd.exp(th[1])))
                       + hd.sum(d.cdf(xx, *sh, th[0], hd.exp(th[1]))), np.array([0.05, 0.1]))


def test_third_order_through_cdf_rule():
    # d^3/dx^3 t.cdf = d^2/dx^2 t.pdf: through the cdf primitive's rule vs through the pdf composite vs scipy
    x0, df = 0.7, 4.5
    d3 = hd.grad(hd.grad(hd.grad(lambda x: S.t.cdf(x, df, 0.1, 1.3))))(x0)
    d2pdf = hd.grad(hd.grad(lambda x: S.t.pdf(x, df, 0.1, 1.3)))(x0)
    assert abs(d3 - d2pdf) <= 1e-12 * abs(d2pdf)
    ref = sd.derivative(lambda x: _fd(lambda y: st.t.pdf(y, df, 0.1, 1.3), [x], 0), np.array(x0),
                        initial_step=1e-2).df
    np.testing.assert_allclose(d3, ref, rtol=1e-6)
    # the mixed second derivative d2 cdf / dx d df exists (d pdf / d df) although d cdf / d df does not
    mixed = hd.grad(lambda d: hd.grad(lambda x: S.t.cdf(x, d))(x0))(df)
    np.testing.assert_allclose(mixed, _fd(lambda d: st.t.pdf(x0, d), [np.array(df)], 0), rtol=1e-7)


# ------------------------------------------------------------------------------------------------------------------
# where no derivative exists: a clear error, never a number

@pytest.mark.parametrize("name,method,shapes", [
    ("t", "cdf", (3.0,)), ("t", "logsf", (3.0,)), ("gamma", "sf", (2.0,)), ("chi2", "logcdf", (3.0,)),
    ("beta", "cdf", (2.0, 3.0)), ("beta", "sf", (2.0, 3.0)), ("nbinom", "cdf", (2.5, 0.4))])
def test_shape_derivative_of_cdf_raises(name, method, shapes):
    d = getattr(getattr(S, name), method)
    x = np.array([0.3, 2.0])
    for i in range(len(shapes) - (name == "nbinom")):
        def f(s, i=i):
            sh = list(shapes)
            sh[i] = s
            return hd.sum(d(x, *sh))
        msg = rf"{name}\.[a-z/]*{method}.*shape parameter '{d.__self__.shapes[i]}'"
        with pytest.raises(hd.HodiffError, match=msg):
            hd.grad(f)(shapes[i])
        with pytest.raises(hd.HodiffError, match=msg):
            hd.jvp(f, (shapes[i],), (1.0,))
        # held fixed, the other arguments still differentiate (x; nbinom's p)
        if name == "nbinom":
            g = hd.grad(lambda s: hd.sum(d(x, hd.stop_gradient(s), s / 6.25)))(2.5)
        else:
            g = hd.grad(lambda s: hd.sum(d(x * s, *shapes[:i], hd.stop_gradient(s), *shapes[i + 1:])))(shapes[i])
        assert np.isfinite(g) and g != 0


def test_integer_arguments_raise():
    with pytest.raises(hd.HodiffError, match="integer argument 'k'"):
        hd.grad(lambda k: hd.sum(S.poisson.logpmf(k, 2.0)))(np.array([1.0, 2.0]))
    with pytest.raises(hd.HodiffError, match="integer argument 'n'"):
        hd.grad(lambda n: S.binom.logpmf(2, n, 0.3))(5.0)
    with pytest.raises(hd.HodiffError, match="integer argument 'k'"):
        hd.jvp(lambda k: S.geom.cdf(k, 0.3), (2.0,), (1.0,))


def test_tensor_api():
    x = hd.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    mu = hd.tensor(0.2, requires_grad=True)
    S.norm.logpdf(x, mu, 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -(x.detach().numpy() - 0.2) / 4.0, rtol=1e-14)
    np.testing.assert_allclose(mu.grad.numpy(), np.sum(x.detach().numpy() - 0.2) / 4.0, rtol=1e-14)
    k = hd.tensor(np.array([1.0, 3.0]))   # a tensor that needs no derivative is fine as a count
    _close(S.poisson.logpmf(k, 2.0), st.poisson.logpmf([1, 3], 2.0))


@pytest.mark.parametrize("name", sorted(CONT))
def test_taylor_mode_matches_nested_reverse(name):
    # hd.derivative (Taylor mode) to third order in x, against three nested reverse passes
    shapes, z = CONT[name][0][-1], CONT[name][1][1]
    for m in ("logpdf", "cdf", "logsf"):
        f = lambda v: getattr(getattr(S, name), m)(v, *shapes, 0.1, 1.3)
        x = 0.1 + 1.3 * z
        d3, n3 = hd.derivative(f, 3)(x), hd.grad(hd.grad(hd.grad(f)))(x)
        assert abs(d3 - n3) <= 1e-10 * max(1.0, abs(n3)), (m, d3, n3)


def test_docstring_examples():
    import hodiff.scipy.stats._base as b
    import hodiff.scipy.stats._continuous as c
    import hodiff.scipy.stats._discrete as d
    import hodiff.scipy.stats._multivariate as m
    import hodiff.scipy.stats._shaped as sh
    for mod in (S, b, c, d, m, sh):
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        for test in doctest.DocTestFinder().find(mod):
            runner.run(test)
        assert runner.failures == 0, f"doctest failures in {mod.__name__}"


def test_derivative_outside_support_and_at_invalid_parameters():
    # outside the support the log-density is the constant -inf: its derivative is 0, not nan
    x = np.array([-1.0, 2.0])
    g = hd.grad(lambda v: hd.sum(S.gamma.logpdf(x, 2.0, v)))(0.0)
    assert g == -(2.0 - 1.0) / 2.0 + 1.0          # d/dloc of (a-1) log(x-loc) - (x-loc) at x = 2, a = 2
    # at invalid parameters the value is nan, and so is the derivative in every argument, both modes
    for f, p in [(lambda s: S.norm.logpdf(0.5, 0.0, s), -1.0), (lambda a: S.gamma.logpdf(1.0, a), -2.0),
                 (lambda p: S.binom.logpmf(2, 5, p), 1.5), (lambda s: S.gamma.cdf(1.0, 2.0, 0.0, s), 0.0),
                 (lambda x: S.t.logcdf(x, -1.0), 0.3)]:
        assert np.isnan(f(p))
        assert np.isnan(hd.grad(f)(p)) and np.isnan(hd.jvp(f, (p,), (1.0,))[1])
    # valid entries next to an invalid one keep their derivatives
    g = hd.grad(lambda x: hd.sum(S.norm.logpdf(x, 0.0, np.array([1.0, -1.0]))))(np.array([0.5, 0.5]))
    assert g[0] == -0.5 and np.isnan(g[1])
