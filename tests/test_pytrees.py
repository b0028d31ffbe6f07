"""Pytrees in every transform (issue 10 section 1), the transform boundary's refusals (issue 12 items 5 and 6, the
"Crashes" list).

Each transform is run on dict / list / tuple / namedtuple / nested / None-holding arguments and compared with two
independent references on the raveled vector (``hodiff.tree.layout``): central finite differences, and the same
transform applied to the function of the raveled vector (a different code path: one array in, one array out).
"""
from __future__ import annotations

import collections

import numpy as np
import pytest

import hodiff as hd
from hodiff import tree
from hodiff._src.transforms import boundary, hessians

rng = np.random.default_rng(7)
Pair = collections.namedtuple("Pair", ["w", "b"])


def _trees():
    return {
        "dict": {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)},
        "list": [rng.standard_normal(2), rng.standard_normal(2)],           # equal shapes: must stay a list
        "tuple": (rng.standard_normal(3), 0.7),
        "namedtuple": Pair(rng.standard_normal((2, 2)), rng.standard_normal(2)),
        "nested": {"layers": [(rng.standard_normal((2, 2)), rng.standard_normal(2)),
                              (rng.standard_normal((1, 2)), np.float64(0.3))], "scale": rng.standard_normal(1)},
        "with_none": {"a": rng.standard_normal(2), "skip": None, "c": (None, rng.standard_normal((1, 2)))},
    }


TREES = _trees()


def scalar_f(t):
    """A scalar function coupling every leaf (so the Hessian has off-diagonal blocks)."""
    ls = [np.ravel(v) for v in tree.leaves(t)]
    s = sum(np.sum(np.sin(v) * (k + 1.0)) for k, v in enumerate(ls))
    return s * (1.0 + 0.1 * sum(np.sum(v * v) for v in ls))


def vector_f(t):
    """A pytree-valued function: a dict holding a list and a scalar."""
    ls = [np.ravel(v) for v in tree.leaves(t)]
    z = np.concatenate(ls)
    return {"y": [np.tanh(z) * z[0], np.exp(0.1 * z[:2])], "s": np.sum(z ** 3)}


def fd_jac(fun, z, h=1e-6):
    """Central differences of a function of a vector returning a vector (or scalar): (m, n)."""
    cols = []
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = h
        cols.append((np.ravel(fun(z + e)) - np.ravel(fun(z - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def raveled(f, t):
    lay = tree.layout(t)
    return lay, lay.ravel(t), (lambda z: f(lay.unravel(z)))


def out_raveled(f, t):
    lay, z, fz = raveled(f, t)
    return lay, z, lambda v: tree.ravel(fz(v))[0]


def same_structure(a, b):
    assert tree.structure(a) == tree.structure(b), (tree.structure(a), tree.structure(b))


IDS = list(TREES)


# ---------------------------------------------------------------------------------------------------------------
# first derivatives


@pytest.mark.parametrize("name", IDS)
def test_grad_and_value_and_grad(name):
    t = TREES[name]
    g = hd.grad(scalar_f)(t)
    same_structure(g, t)
    lay, z, fz = raveled(scalar_f, t)
    np.testing.assert_allclose(lay.ravel(g), fd_jac(fz, z)[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(lay.ravel(g), hd.grad(fz)(z), rtol=1e-13, atol=1e-14)
    v, g2 = hd.value_and_grad(scalar_f)(t)
    assert v == pytest.approx(fz(z), rel=1e-14)
    np.testing.assert_array_equal(lay.ravel(g2), lay.ravel(g))


def test_list_of_equal_shape_arrays_stays_a_list():
    t = [np.ones(2), 2.0 * np.ones(2)]
    g = hd.grad(lambda t: np.sum(t[0] * t[1]))(t)
    assert type(g) is list and len(g) == 2
    np.testing.assert_array_equal(g[0], [2.0, 2.0])
    np.testing.assert_array_equal(g[1], [1.0, 1.0])


@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_grad_of_a_one_element_output(shape):
    x = np.array([0.3, 0.4])
    g = hd.grad(lambda x: np.reshape(np.sum(np.sin(x)), shape))(x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-15)


def test_has_aux_pytree_and_namedtuple_aux():
    t = TREES["dict"]
    (val, aux), g = hd.value_and_grad(lambda t: (scalar_f(t), Pair(t["w"] * 2, {"k": t["b"]})), has_aux=True)(t)
    assert isinstance(aux, Pair) and type(aux.w) is np.ndarray
    np.testing.assert_allclose(aux.w, 2 * t["w"])


@pytest.mark.parametrize("name", IDS)
def test_jvp_and_linearize(name):
    t = TREES[name]
    v = tree.map(lambda a: np.asarray(rng.standard_normal(np.shape(a))), t)
    out, tan = hd.jvp(vector_f, (t,), (v,))
    same_structure(out, vector_f(t))
    same_structure(tan, out)
    lay, z, fz = out_raveled(vector_f, t)
    np.testing.assert_allclose(tree.ravel(tan)[0], fd_jac(fz, z) @ lay.ravel(v), rtol=1e-6, atol=1e-8)
    y, fn = hd.linearize(vector_f, t)
    np.testing.assert_allclose(tree.ravel(fn(v))[0], tree.ravel(tan)[0], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(tree.ravel(y)[0], tree.ravel(out)[0], rtol=0, atol=0)


@pytest.mark.parametrize("name", IDS)
def test_vjp(name):
    t = TREES[name]
    out, fn = hd.vjp(vector_f, t)
    c = tree.map(lambda a: np.asarray(rng.standard_normal(np.shape(a))), out)
    (g,) = fn(c)
    same_structure(g, t)
    lay, z, fz = out_raveled(vector_f, t)
    np.testing.assert_allclose(lay.ravel(g), tree.ravel(c)[0] @ fd_jac(fz, z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jac", [hd.jacfwd, hd.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize("name", IDS)
def test_jacobians_nest_out_outside_in_inside(jac, name):
    t = TREES[name]
    J = jac(vector_f)(t)
    lay, z, fz = out_raveled(vector_f, t)
    out_lay = tree.layout(vector_f(t))
    # structure: output's outside, input's inside, blocks out_leaf.shape + in_leaf.shape
    assert J["s"] is not None and tree.structure(J["s"]) == lay.treedef
    flat = tree.flat_jacobian(J, out_lay, lay)
    np.testing.assert_allclose(flat, fd_jac(fz, z), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(flat, hd.jacfwd(fz)(z), rtol=1e-12, atol=1e-13)


def test_jacobian_of_two_arguments_is_a_tuple_inside():
    a, b = {"p": np.array([1.0, 2.0])}, [np.array(3.0)]
    J = hd.jacrev(lambda a, b: a["p"] * b[0], argnums=(0, 1))(a, b)
    assert isinstance(J, tuple) and len(J) == 2
    np.testing.assert_allclose(J[0]["p"], 3.0 * np.eye(2))
    np.testing.assert_allclose(J[1][0], [1.0, 2.0])


# ---------------------------------------------------------------------------------------------------------------
# second derivatives


@pytest.mark.parametrize("name", IDS)
def test_hvp_hessian_operator_and_sparse(name):
    t = TREES[name]
    v = tree.map(lambda a: np.asarray(rng.standard_normal(np.shape(a))), t)
    lay, z, fz = raveled(scalar_f, t)
    H_fd = fd_jac(hd.grad(fz), z)
    hv = hd.hvp(scalar_f, t, v)
    same_structure(hv, t)
    np.testing.assert_allclose(lay.ravel(hv), H_fd @ lay.ravel(v), rtol=1e-6, atol=1e-8)
    H = hd.hessian(scalar_f)(t)
    flat = tree.flat_jacobian(H, lay, lay)                 # in outside, in inside
    np.testing.assert_allclose(flat, H_fd, rtol=1e-6, atol=1e-8)
    op = hd.hessian_operator(scalar_f, t)
    np.testing.assert_allclose(op @ np.eye(lay.size), flat, rtol=1e-12, atol=1e-13)
    same_structure(op.grad, t)
    np.testing.assert_allclose(lay.ravel(op.grad), hd.grad(fz)(z), rtol=1e-13)
    assert op.value == pytest.approx(fz(z), rel=1e-14)
    S = hd.hessian(scalar_f, sparse=True)(t)
    np.testing.assert_allclose(S.toarray(), flat, rtol=1e-12, atol=1e-13)


def test_hessian_of_dict_params_is_a_dict_of_dicts():
    p = {"W": np.array([[1.0, 2.0], [0.5, -1.0]]), "b": np.array([0.1, 0.2])}
    f = lambda p: np.sum((p["W"] @ p["b"]) ** 2)     # noqa: E731
    H = hd.hessian(f)(p)
    assert set(H) == {"W", "b"} and all(set(H[k]) == {"W", "b"} for k in H)
    assert H["W"]["b"].shape == (2, 2, 2) and H["b"]["W"].shape == (2, 2, 2) and H["W"]["W"].shape == (2, 2, 2, 2)
    # analytic: f = |W b|^2, d2f/db2 = 2 W^T W
    np.testing.assert_allclose(H["b"]["b"], 2 * p["W"].T @ p["W"], rtol=1e-14)
    np.testing.assert_allclose(H["W"]["b"], np.transpose(H["b"]["W"], (1, 2, 0)), rtol=1e-14)


def test_hessian_argnums_tuple_gives_tuple_of_tuples():
    f = lambda a, b: np.sum(a ** 2 * b)                 # noqa: E731
    a, b = np.array([1.0, 2.0]), 3.0
    H = hd.hessian(f, argnums=(0, 1))(a, b)
    assert isinstance(H, tuple) and all(isinstance(r, tuple) and len(r) == 2 for r in H)
    np.testing.assert_allclose(H[0][0], 2 * b * np.eye(2))
    np.testing.assert_allclose(H[0][1], 2 * a)
    np.testing.assert_allclose(H[1][0], 2 * a)
    assert H[1][1] == 0.0


def test_hessian_on_executor_with_a_pytree():
    from concurrent.futures import ThreadPoolExecutor
    t = TREES["nested"]
    with ThreadPoolExecutor(2) as pool:
        H = hd.hessian(scalar_f, executor=pool, chunk_size=3)(t)
    lay = tree.layout(t)
    np.testing.assert_allclose(tree.flat_jacobian(H, lay, lay),
                               tree.flat_jacobian(hd.hessian(scalar_f)(t), lay, lay), rtol=1e-13, atol=1e-14)


def test_check_elementwise_grad_and_minimize_on_pytrees():
    t = TREES["nested"]
    assert hd.check(scalar_f, t).passed
    e = hd.elementwise_grad(lambda t: tree.map(np.sin, t))(t)
    same_structure(e, t)
    np.testing.assert_allclose(tree.ravel(e)[0], np.cos(tree.ravel(t)[0]), rtol=1e-15)
    target = tree.map(lambda a: np.asarray(a) * 0 + 1.5, t)
    res = hd.optimize.minimize(lambda p: sum(np.sum((a - 1.5) ** 2) for a in tree.leaves(p)), t,
                               method="Newton-CG")
    same_structure(res.x, t)
    np.testing.assert_allclose(tree.ravel(res.x)[0], tree.ravel(target)[0], atol=1e-7)


# ---------------------------------------------------------------------------------------------------------------
# refusals: leaves, argnums, outputs, complex directions


def test_a_leaf_that_cannot_be_differentiated_is_named_by_path():
    params = {"layers": [(np.ones(2), np.ones(2)), (np.arange(3), np.ones(1))]}
    with pytest.raises(TypeError, match=r'params\["layers"\]\[1\]\[0\] is an int64 array'):
        hd.grad(lambda params: 0.0)(params)
    with pytest.raises(TypeError, match=r'params\["layers"\]\[1\]\[0\] is an int64 array'):
        hd.jacrev(lambda params: 0.0)(params)
    with pytest.raises(TypeError, match=r'\["name"\] is a str'):
        hd.grad(lambda t: 0.0)({"name": "w", "x": np.ones(2)})


@pytest.mark.parametrize("bad, err", [((0, 0), ValueError), (True, TypeError), (1.0, TypeError), (5, ValueError),
                                      ((), TypeError), ("0", TypeError)])
@pytest.mark.parametrize("transform", [hd.grad, hd.jacfwd, hd.jacrev, hd.hessian, hd.value_and_grad,
                                       hd.elementwise_grad])
def test_bad_argnums(transform, bad, err):
    with pytest.raises(err, match="argnums"):
        transform(lambda a, b: np.sum(a * b), argnums=bad)(np.ones(2), np.ones(2))


NOT_NUMERIC = {"None": lambda x: None, "str": lambda x: "loss", "generator": lambda x: (v for v in x),
               "object": lambda x: object()}


@pytest.mark.parametrize("kind", list(NOT_NUMERIC))
@pytest.mark.parametrize("transform", ["grad", "hvp", "hessian", "jacfwd", "jacrev", "jvp", "vjp", "linearize"])
def test_outputs_that_are_not_numbers_are_refused(transform, kind):
    f, x = NOT_NUMERIC[kind], np.array([1.0, 2.0])
    calls = {"grad": lambda: hd.grad(f)(x), "hvp": lambda: hd.hvp(f, x, x), "hessian": lambda: hd.hessian(f)(x),
             "jacfwd": lambda: hd.jacfwd(f)(x), "jacrev": lambda: hd.jacrev(f)(x),
             "jvp": lambda: hd.jvp(f, (x,), (x,)), "vjp": lambda: hd.vjp(f, x),
             "linearize": lambda: hd.linearize(f, x)}
    with pytest.raises(TypeError, match="returned|output"):
        calls[transform]()


def test_pytree_outputs_with_a_bad_leaf_name_it():
    with pytest.raises(TypeError, match=r'out\["name"\] is a str'):
        hd.jvp(lambda x: {"y": x, "name": "z"}, (np.ones(2),), (np.ones(2),))


@pytest.mark.parametrize("transform", ["hvp", "jvp", "linearize"])
def test_complex_direction_at_a_real_point_is_refused(transform):
    x, v = np.array([1.0, 2.0]), np.array([1.0 + 1j, 0.0])
    f = lambda x: np.sum(x ** 3)                         # noqa: E731
    with pytest.raises(TypeError, match="complex"):
        if transform == "hvp":
            hd.hvp(f, x, v)
        elif transform == "jvp":
            hd.jvp(f, (x,), (v,))
        else:
            hd.linearize(f, x)[1](v)


def test_tangent_structure_must_match():
    with pytest.raises(ValueError, match="structure"):
        hd.jvp(lambda t: t["a"], ({"a": np.ones(2)},), ({"b": np.ones(2)},))


# ---------------------------------------------------------------------------------------------------------------
# crashes turned into results or clear errors


def test_empty_inputs_and_outputs():
    assert hd.jacrev(lambda x: x[:0] * 2)(np.ones(3)).shape == (0, 3)
    assert hd.jacrev(lambda x: np.sum(x) * np.ones(2))(np.ones(0)).shape == (2, 0)
    assert hd.jacfwd(lambda x: x * 2)(np.ones(0)).shape == (0, 0)
    assert hd.hessian(lambda x: np.sum(x ** 2))(np.ones(0)).shape == (0, 0)
    with pytest.raises(ValueError, match="no elements"):
        hd.check(lambda x: np.sum(x), np.ones(0))
    with pytest.raises(ValueError, match="no elements"):
        hd.optimize.minimize(lambda x: np.sum(x), np.ones(0))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
@pytest.mark.parametrize("transform", [hd.jacfwd, hd.jacrev, hd.hessian])
def test_bad_chunk_size(transform, bad):
    with pytest.raises(ValueError, match="chunk_size"):
        transform(lambda x: x, chunk_size=bad)


def test_bad_executor():
    with pytest.raises(TypeError, match="Executor"):
        hd.hessian(lambda x: np.sum(x ** 2), executor=1)
    with pytest.raises(ValueError, match="chunk_size"):
        hd.hessian_chunks(lambda x: np.sum(x ** 2), np.ones(3), chunk_size=-1, executor=None)


def test_a_dense_result_that_cannot_fit_is_refused_before_any_work(monkeypatch):
    calls = []

    def f(x):
        calls.append(1)
        return np.sum(x ** 2)
    monkeypatch.setattr(boundary, "available_memory", lambda: 1 << 30)
    x = np.ones(20_000)                                  # 20000^2 * 8 bytes = 3.2 GB > 1 GiB
    for make in (lambda: hd.hessian(f)(x), lambda: hd.hessian(f, chunk_size=64)(x),
                 lambda: hd.hessian_chunks(f, x, chunk_size=64)):
        with pytest.raises(MemoryError, match=r"\(20000, 20000\).*GiB.*sparse=True.*hessian_operator"):
            make()
    assert calls == []
    with pytest.raises(MemoryError, match="jacrev"):
        hd.jacrev(lambda x: x * 2)(x)
    with pytest.raises(MemoryError, match="jacfwd"):
        hd.jacfwd(lambda x: x * 2, chunk_size=10)(x)


def test_available_memory_is_read():
    m = boundary.available_memory()
    assert m is None or m > 0


class _FakeDaskExecutor:
    """Duck-types a Dask executor: submit, and the client's nthreads() (worker address -> threads)."""

    class _Client:
        def nthreads(self):
            return {"tcp://a": 3, "tcp://b": 2}

    def __init__(self):
        self._client = self._Client()
        self.tasks = 0

    def submit(self, fn, *args):
        from concurrent.futures import Future
        self.tasks += 1
        fut = Future()
        fut.set_result(fn(*args))
        return fut


def test_dask_executor_chunks_by_cluster_threads():
    ex = _FakeDaskExecutor()
    assert hessians.executor_workers(ex) == 5
    x = rng.standard_normal(10)
    f = lambda x: np.sum(np.sin(x) * x[0])               # noqa: E731
    H = hd.hessian(f, executor=ex)(x)
    assert ex.tasks == 5                                 # 10 columns over 5 worker threads: chunks of 2
    np.testing.assert_allclose(H, hd.hessian(f)(x), rtol=1e-14, atol=1e-15)

