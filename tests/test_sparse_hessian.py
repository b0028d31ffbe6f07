"""Sparse Hessians: the detected pattern never misses an entry of the dense Hessian, the colouring recovers every
entry, the number of colours of banded problems does not grow with n, and a pattern/colouring can be reused."""
import numpy as np
import pytest
import scipy.sparse as sp

import hodiff as hd
from hodiff.sparse import (
    SparseHessian,
    check_coloring,
    color_columns,
    hessian_pattern,
    hessian_sparse,
    jacobian_pattern,
    sparse_hessian,
)

A5 = np.random.default_rng(42).normal(size=(5, 5))
M3 = np.random.default_rng(43).normal(size=(3, 4))


def ext_rosenbrock(x):
    return np.sum(100.0 * (x[1::2] - x[::2] ** 2) ** 2 + (1.0 - x[::2]) ** 2)


def chained_rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def laplacian_energy(x):
    return np.sum((x[1:] - x[:-1]) ** 2) + np.sum(x ** 4)


def banded_products(x):
    return np.sum(x[:-2] * x[2:]) + np.sum(np.cos(x)) + np.sum(x[:-1] / (2.0 + x[1:] ** 2))


def indexing_reshape_matmul(x):
    # blocks of 4 mixed by a constant 4x4 matrix, a permutation, a gather with repeats and an einsum
    n = x.size
    B = x.reshape(-1, 4)
    y = np.tanh(B @ A5[:4, :4])                  # each row of 4 is dense, rows independent: block diagonal
    z = x[np.arange(n)[::-1]]                    # a permutation
    w = hd.einsum("ij,ij->i", B, B)              # a product inside each block
    return np.sum(y ** 2) + np.sum(z[:2] * z[2:4]) + np.sum(np.exp(w)) + x[0] * x[-1]


def log_sum_exp(x):
    return np.log(np.sum(np.exp(x)))


def mixed_ops(x):
    # concatenate, scatter (index_add), where, maximum, cumsum/cumprod, prod, transpose, power
    a = np.concatenate([x[:3] ** 2, x[3:6] * x[0]])
    b = hd.index_add(np.zeros(8), np.array([0, 2, 2, 5]), x[4:8])
    c = np.where(x[:4] > 0, x[:4], x[4:8] ** 3)
    d = np.maximum(x[:4], 0.5) ** 2
    e = np.cumsum(x[8:]) ** 2 + np.cumprod(x[:4])
    X = x[:6].reshape(2, 3).T
    return (np.sum(a) + np.sum(b * b) + np.sum(np.sin(c)) + np.sum(d) + np.sum(e) + np.prod(x[5:8])
            + np.sum(X @ M3[:2, :2]) + np.sum(np.abs(x) ** 1.5) + x[9] ** 2 / (1 + x[10] ** 2)
            + np.sum(hd.arctan2(x[:2], 2.0 + x[2:4] ** 2)))


def matrix_input(X):
    # a 2-d input: row-wise quadratic forms and a column coupling
    return np.sum((X @ A5[:3, :3]) * X) + np.sum(np.sin(X[:, 0] * X[:, 1]))


PROBLEMS = [
    ("ext_rosenbrock", ext_rosenbrock, 12),
    ("chained_rosenbrock", chained_rosenbrock, 11),
    ("laplacian", laplacian_energy, 10),
    ("banded_products", banded_products, 13),
    ("index_reshape_matmul", indexing_reshape_matmul, 16),
    ("log_sum_exp", log_sum_exp, 9),
    ("mixed_ops", mixed_ops, 12),
]


def _points(n, shape=None, k=3, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(k):
        x = rng.normal(size=n) * 0.8
        yield x if shape is None else x.reshape(shape)


@pytest.mark.parametrize("name,f,n", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_pattern_contains_dense_nonzeros_and_values_match(name, f, n):
    P = hessian_pattern(f, np.zeros(n) + 0.3)
    assert P.shape == (n, n) and P.dtype == bool
    assert (P != P.T).nnz == 0
    sh = SparseHessian(f, np.full(n, 0.3))
    assert check_coloring(sh.pattern, sh.colors)
    for x in _points(n):
        Hd = hd.hessian(f)(x)
        missing = (np.abs(Hd) > 0) & ~P.toarray()
        assert not missing.any(), f"pattern misses {np.argwhere(missing)[:5]}"
        H = sh(x)
        assert sp.issparse(H) and H.format == "csr" and H.dtype == np.float64 and H.shape == (n, n)
        np.testing.assert_allclose(H.toarray(), Hd, rtol=1e-10, atol=1e-10)


def test_exact_patterns():
    n = 8
    P = hessian_pattern(laplacian_energy, np.zeros(n)).toarray()
    assert np.array_equal(P, np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1)
    P = hessian_pattern(ext_rosenbrock, np.zeros(n)).toarray()
    assert np.array_equal(P, np.kron(np.eye(n // 2, dtype=bool), np.ones((2, 2), bool)))
    # linear functions have an empty pattern; a product of two distinct inputs has no diagonal
    assert hessian_pattern(lambda x: np.sum(3.0 * x) + x[0], np.zeros(4)).nnz == 0
    assert hessian_pattern(lambda x: x[0] * x[1], np.zeros(3)).toarray().tolist() == [
        [False, True, False], [True, False, False], [False, False, False]]
    # a nonlinear function of a linear combination couples every pair in it
    assert hessian_pattern(lambda x: np.exp(x[0] + x[2]), np.zeros(3)).toarray()[[0, 0, 2, 2], [0, 2, 0, 2]].all()
    # a divide: (a / b) couples b with a and b
    P = hessian_pattern(lambda x: x[0] / x[1] + x[2] / 3.0, np.ones(3)).toarray()
    assert P.tolist() == [[False, True, False], [True, True, False], [False, False, False]]


def test_piecewise_linear_option():
    f = lambda x: np.sum(np.abs(x)) + np.sum(np.maximum(x, 0.0)) + np.max(x)
    assert hessian_pattern(f, np.ones(4)).nnz > 0                       # conservative by default
    assert hessian_pattern(f, np.ones(4), piecewise_linear=True).nnz == 0
    x = np.array([1.0, -2.0, 0.5, 3.0])
    assert hessian_sparse(f, x, piecewise_linear=True).nnz == 0
    np.testing.assert_array_equal(hd.hessian(f)(x), 0.0)


@pytest.mark.parametrize("f,want", [(ext_rosenbrock, 2), (chained_rosenbrock, 3), (laplacian_energy, 3),
                                    (banded_products, 5)])
def test_colors_constant_in_n(f, want):
    counts = []
    for n in (10, 100, 1000):
        sh = SparseHessian(f, np.ones(n))
        assert check_coloring(sh.pattern, sh.colors)
        counts.append(sh.ncolors)
    assert counts == [want] * 3


def test_large_banded_against_hvp():
    n = 2000
    rng = np.random.default_rng(1)
    x = rng.normal(size=n)
    H = hessian_sparse(chained_rosenbrock, x)
    for _ in range(2):
        v = rng.normal(size=n)
        np.testing.assert_allclose(H @ v, hd.hvp(chained_rosenbrock, x, v), rtol=1e-10, atol=1e-8)


def test_reuse_pattern_and_coloring():
    n = 30
    rng = np.random.default_rng(2)
    x0, x1 = rng.normal(size=n), rng.normal(size=n)
    sh = SparseHessian(banded_products, x0)
    H1 = sh(x1)
    again = SparseHessian(banded_products, pattern=sh.pattern, coloring=sh.colors)
    np.testing.assert_array_equal(again(x1).toarray(), H1.toarray())
    np.testing.assert_array_equal(hessian_sparse(banded_products, x1, pattern=sh.pattern).toarray(), H1.toarray())
    np.testing.assert_allclose(H1.toarray(), hd.hessian(banded_products)(x1), rtol=1e-10, atol=1e-12)
    h = sparse_hessian(banded_products, reuse=True)
    np.testing.assert_array_equal(h(x0).toarray(), sh(x0).toarray())
    np.testing.assert_array_equal(h(x1).toarray(), H1.toarray())
    assert len(h.cache) == 1
    with pytest.raises(ValueError, match="colour"):
        SparseHessian(banded_products, pattern=sh.pattern, coloring=np.zeros(n, dtype=int))


def test_matrix_input_and_extra_args():
    X = np.random.default_rng(3).normal(size=(4, 3))
    H = hessian_sparse(matrix_input, X)
    np.testing.assert_allclose(H.toarray(), hd.hessian(matrix_input)(X).reshape(12, 12), rtol=1e-10, atol=1e-12)
    g = lambda x, c: np.sum(c * x[1:] * x[:-1])
    x = np.linspace(-1, 1, 6)
    np.testing.assert_allclose(hessian_sparse(g, x, 2.0).toarray(), hd.hessian(g)(x, 2.0), atol=1e-12)
    h = lambda c, x: np.sum(c * x ** 3)
    np.testing.assert_allclose(sparse_hessian(h, argnums=1)(2.0, x).toarray(), np.diag(12.0 * x), atol=1e-12)


def test_coloring_helpers():
    P = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=bool))
    c = color_columns(P)
    assert check_coloring(P, c) and c.max() + 1 == 3
    assert not check_coloring(P, np.zeros(4, dtype=int))
    # an arrowhead needs n colours for direct recovery (documented limitation)
    n = 6
    arrow = np.eye(n, dtype=bool)
    arrow[0, :] = arrow[:, 0] = True
    assert color_columns(sp.csr_matrix(arrow)).max() + 1 == n


def test_jacobian_pattern():
    J = jacobian_pattern(lambda x: x[1:] * x[:-1], np.zeros(5)).toarray()
    assert np.array_equal(J, np.eye(4, 5, dtype=bool) | np.eye(4, 5, 1, dtype=bool))
    assert jacobian_pattern(lambda x: np.ones(3), np.zeros(2)).nnz == 0


def test_nested_grad_inside_f():
    # f itself uses a gradient: the sparsity trace follows the backward pass too
    inner = lambda x: np.sum(x[1:] ** 2 * x[:-1])
    f = lambda x: np.sum(hd.grad(inner)(x) ** 2)
    x = np.random.default_rng(4).normal(size=7)
    Hd = hd.hessian(f)(x)
    P = hessian_pattern(f, x).toarray()
    assert not ((np.abs(Hd) > 0) & ~P).any()
    np.testing.assert_allclose(hessian_sparse(f, x).toarray(), Hd, rtol=1e-10, atol=1e-10)


def test_constant_function():
    H = hessian_sparse(lambda x: np.float64(3.0), np.ones(4))
    assert H.shape == (4, 4) and H.nnz == 0


def _table_case(name, seed):
    """A primitive of the table on its own domain, as a function of one flat vector of its float arguments."""
    prim = hd.PRIMITIVES[name]
    rng = np.random.default_rng(seed)
    args, params = prim.domain(rng)
    rules = prim.jvp
    diff = [i for i, a in enumerate(args)
            if (len(rules) == 0 or rules[i] is not None) and np.asarray(a).dtype.kind == "f"]
    shapes = [np.shape(args[i]) for i in diff]
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    x0 = np.concatenate([np.ravel(args[i]) for i in diff]) if diff else np.zeros(0)

    def g(x):
        a, k = list(args), 0
        for i, s, m in zip(diff, shapes, sizes):
            a[i] = np.reshape(x[k:k + m], s)
            k += m
        return hd.bind(prim, *a, **params)
    w = rng.normal(size=np.shape(prim.impl(*args, **params)))
    return g, (lambda x: np.sum(w * g(x))), x0


@pytest.mark.parametrize("name", sorted(hd.PRIMITIVES))
def test_table_patterns_never_miss(name):
    """For every primitive: the Jacobian and Hessian patterns contain every nonzero of the dense derivatives."""
    for seed in range(3):
        g, s, x0 = _table_case(name, seed)
        if x0.size == 0:
            continue
        J = hd.jacfwd(g)(x0).reshape(-1, x0.size)
        Jp = jacobian_pattern(g, x0).toarray()
        assert not ((J != 0) & ~Jp).any(), f"{name}: Jacobian pattern misses {np.argwhere((J != 0) & ~Jp)[:4]}"
        H = hd.hessian(s)(x0)
        Hp = hessian_pattern(s, x0).toarray()
        assert not ((H != 0) & ~Hp).any(), f"{name}: Hessian pattern misses {np.argwhere((H != 0) & ~Hp)[:4]}"


def test_hessian_sparse_flag():
    """``hd.hessian(f, sparse=True)`` (once hodiff._functional dispatches to hodiff.sparse)."""
    import inspect
    if "sparse" not in inspect.signature(hd.hessian).parameters:
        pytest.skip("hd.hessian has no sparse= parameter yet")
    x = np.linspace(-1.0, 1.0, 8)
    H = hd.hessian(laplacian_energy, sparse=True)(x)
    assert sp.issparse(H) and H.shape == (8, 8)
    np.testing.assert_allclose(H.toarray(), hd.hessian(laplacian_energy)(x), rtol=1e-12, atol=1e-12)
    g = lambda c, x: np.sum(c * x[1:] * x[:-1])
    np.testing.assert_allclose(hd.hessian(g, argnums=1, sparse=True)(2.0, x).toarray(), hd.hessian(g, argnums=1)(2.0, x),
                               atol=1e-12)
