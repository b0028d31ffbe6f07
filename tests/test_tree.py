"""hodiff.tree: flatten/unflatten, map, paths, ravel, leaf checks, registration, nested Jacobians.

References are independent of the module: a recursive walk written here (dict keys sorted) gives the expected leaf
order, leaf paths are checked by evaluating them as Python expressions on the tree, and nested Jacobian blocks are
checked against analytic derivatives.
"""
from __future__ import annotations

import ast
import collections
import pathlib
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
from hodiff import tree

Point = namedtuple("Point", ["x", "y"])
ROOT = pathlib.Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------------------------------
# Strategies and independent references

def _array(shape, seed, dtype):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


shapes = st.lists(st.integers(0, 3), max_size=3).map(tuple)
arrays = st.builds(_array, shapes, st.integers(0, 2 ** 32 - 1), st.sampled_from([np.float64, np.float32]))
scalars = st.one_of(st.floats(-10, 10, allow_nan=False), st.floats(-10, 10, allow_nan=False).map(np.float64),
                    st.floats(-10, 10, allow_nan=False).map(np.float32))
base = st.one_of(arrays, scalars, st.none())
keys = st.text(alphabet="abcxyz_", min_size=1, max_size=3)
trees = st.recursive(
    base,
    lambda ch: st.one_of(st.lists(ch, max_size=3), st.lists(ch, max_size=3).map(tuple),
                         st.dictionaries(keys, ch, max_size=3), st.builds(Point, ch, ch)),
    max_leaves=10)


def ref_leaves(t):
    """Leaves in the documented order, by a walk written independently of hodiff.tree."""
    if t is None:
        return []
    if isinstance(t, dict):
        return [leaf for k in sorted(t) for leaf in ref_leaves(t[k])]
    if isinstance(t, (list, tuple)):
        return [leaf for c in t for leaf in ref_leaves(c)]
    return [t]


def assert_tree_equal(a, b, exact_types=True):
    """Same containers (dict key order included), same leaves; ``exact_types=False`` lets a Python float come back
    as a numpy float64 scalar and a 0-d array as a numpy scalar (what unravel returns)."""
    if isinstance(a, dict):
        assert type(a) is type(b) and list(a) == list(b)
        for k in a:
            assert_tree_equal(a[k], b[k], exact_types)
    elif isinstance(a, (list, tuple)) or a is None:
        assert type(a) is type(b)
        if a is not None:
            assert len(a) == len(b)
            for x, y in zip(a, b):
                assert_tree_equal(x, y, exact_types)
    else:
        if exact_types:
            assert type(a) is type(b)
        assert np.shape(a) == np.shape(b)
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# ---------------------------------------------------------------------------------------------------------------------
# flatten / unflatten / structure

@given(trees)
def test_flatten_unflatten_roundtrip_and_order(t):
    lv, td = tree.flatten(t)
    ref = ref_leaves(t)
    assert len(lv) == len(ref) == td.num_leaves
    assert all(x is y for x, y in zip(lv, ref))
    assert_tree_equal(tree.unflatten(td, lv), t)
    assert all(x is y for x, y in zip(tree.leaves(t), lv))
    assert tree.structure(t) == td and hash(tree.structure(t)) == hash(td)


@given(trees)
def test_paths_evaluate_to_their_leaves(t):
    pairs, td = tree.flatten_with_path(t)
    assert len(pairs) == td.num_leaves
    for path, leaf in pairs:
        expr = tree.path_str(path, root="t")
        assert eval(expr, {"t": t}) is leaf, expr


@given(trees)
def test_map_against_reference(t):
    doubled = tree.map(lambda x: x * 2, t)
    assert tree.structure(doubled) == tree.structure(t)
    for a, b in zip(tree.leaves(doubled), ref_leaves(t)):
        np.testing.assert_array_equal(a, b * 2)
    diff = tree.map(lambda a, b: b - a, t, doubled)              # 2x - x is exact
    for a, b in zip(tree.leaves(diff), ref_leaves(t)):
        np.testing.assert_array_equal(a, b)
    triples = tree.leaves(tree.map(lambda a, b, c: (a, b, c), t, doubled, t))   # the tuples flatten in turn
    expect = [y for x in ref_leaves(t) for y in (x, x * 2, x)]
    assert len(triples) == len(expect)
    for a, b in zip(triples, expect):
        np.testing.assert_array_equal(a, b)


def test_dict_order_sorted_for_leaves_kept_on_rebuild():
    a = {"w": 1.0, "b": 2.0, "m": 3.0}
    b = {"b": 20.0, "m": 30.0, "w": 10.0}
    la, ta = tree.flatten(a)
    lb, tb = tree.flatten(b)
    assert la == [2.0, 3.0, 1.0] and lb == [20.0, 30.0, 10.0]
    assert ta == tb and hash(ta) == hash(tb)
    assert list(tree.unflatten(ta, lb)) == ["w", "b", "m"]          # a's insertion order
    assert list(tree.unflatten(tb, la)) == ["b", "m", "w"]
    assert list(tree.map(lambda x, y: x + y, a, b)) == ["w", "b", "m"]
    assert tree.map(lambda x, y: x + y, a, b) == {"w": 11.0, "b": 22.0, "m": 33.0}


def test_mixed_key_types_deterministic():
    d1 = {"a": 1.0, 2: 2.0, 1: 3.0, "b": 4.0}
    d2 = {1: 3.0, "b": 4.0, 2: 2.0, "a": 1.0}
    assert tree.leaves(d1) == tree.leaves(d2) == [3.0, 2.0, 1.0, 4.0]      # ints (1, 2), then strs ("a", "b")
    assert tree.structure(d1) == tree.structure(d2)


def test_none_is_an_empty_subtree():
    lv, td = tree.flatten([None, 1.0, {"a": None}])
    assert lv == [1.0] and td.num_leaves == 1
    assert tree.unflatten(td, [5.0]) == [None, 5.0, {"a": None}]
    assert tree.flatten(None)[0] == [] and tree.unflatten(tree.structure(None), []) is None
    assert tree.structure([None]) != tree.structure([1.0])


def test_treedef_equality_and_repr():
    t = {"b": [1.0, (2.0,)], "a": Point(3.0, None), "c": ()}
    td = tree.structure(t)
    assert repr(td) == "TreeDef({'a': Point(x=*, y=None), 'b': [*, (*,)], 'c': ()})"
    assert td.num_leaves == 3
    assert td != tree.structure({"b": [1.0, [2.0]], "a": Point(3.0, None), "c": ()})     # tuple vs list
    assert td != tree.structure({"b": [1.0, (2.0,)], "a": (3.0, None), "c": ()})        # namedtuple vs tuple
    assert td != tree.structure({"b": [1.0, (2.0,)], "a": Point(3.0, None), "d": ()})   # keys
    assert len({td, tree.structure(t), tree.structure([1.0])}) == 2
    assert repr(tree.structure(np.ones(3))) == "TreeDef(*)"


def test_arrays_boxes_and_odd_objects_are_leaves():
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    t = [np.ones(2), x, "name", 3, np.float32(1)]
    lv, td = tree.flatten(t)
    assert len(lv) == 5 and lv[1] is x and td.num_leaves == 5


def test_ordereddict_and_defaultdict():
    od = collections.OrderedDict([("z", 1.0), ("a", 2.0)])
    lv, td = tree.flatten(od)
    assert lv == [1.0, 2.0]                                   # order is the structure
    assert td != tree.structure(collections.OrderedDict([("a", 2.0), ("z", 1.0)]))
    back = tree.unflatten(td, [3.0, 4.0])
    assert type(back) is collections.OrderedDict and list(back.items()) == [("z", 3.0), ("a", 4.0)]
    dd = collections.defaultdict(list, {"z": 1.0, "a": 2.0})
    lv, td = tree.flatten(dd)
    assert lv == [2.0, 1.0]
    back = tree.unflatten(td, [5.0, 6.0])
    assert type(back) is collections.defaultdict and back.default_factory is list
    assert list(back.items()) == [("z", 6.0), ("a", 5.0)]
    assert td != tree.structure({"z": 1.0, "a": 2.0})


def test_is_leaf():
    t = {"a": (1.0, 2.0), "b": [3.0]}
    lv, td = tree.flatten(t, is_leaf=lambda n: isinstance(n, tuple))
    assert lv == [(1.0, 2.0), 3.0] and td.num_leaves == 2
    assert tree.map(lambda p: p[0] if isinstance(p, tuple) else p, t, is_leaf=lambda n: isinstance(n, tuple)) == \
        {"a": 1.0, "b": [3.0]}


def test_unflatten_errors():
    td = tree.structure([1.0, 2.0])
    with pytest.raises(ValueError, match="holds 2 leaves, got 3"):
        tree.unflatten(td, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="must be a TreeDef"):
        tree.unflatten([1.0], [1.0])


def test_map_names_first_difference():
    a = {"layers": [(1.0, 2.0), (3.0, 4.0)], "out": 5.0}
    with pytest.raises(ValueError, match=r'tree\["layers"\]\[1\] the first tree has a tuple of length 2, '
                                         r'tree 2 has a list of length 2'):
        tree.map(lambda x, y: x, a, {"layers": [(1.0, 2.0), [3.0, 4.0]], "out": 5.0})
    with pytest.raises(ValueError, match=r"at tree the first tree has a dict with keys \['layers', 'out'\], "
                                         r"tree 3 has a dict with keys \['layers'\]"):
        tree.map(lambda x, y, z: x, a, a, {"layers": [(1.0, 2.0), (3.0, 4.0)]})
    with pytest.raises(ValueError, match=r'tree\["out"\] the first tree has a leaf, tree 2 has None'):
        tree.map(lambda x, y: x, a, {"layers": [(1.0, 2.0), (3.0, 4.0)], "out": None})
    with pytest.raises(ValueError, match=r"tree\.x the first tree has a leaf, tree 2 has a list of length 1"):
        tree.map(lambda x, y: x, Point(1.0, 2.0), Point([1.0], 2.0))


def test_path_str():
    path = (tree.Key("layers"), tree.Index(1), tree.Index(0))
    assert tree.path_str(path) == 'params["layers"][1][0]'
    assert tree.path_str((tree.Key(3), tree.Attr("W")), root="p") == "p[3].W"
    assert tree.path_str((tree.Key('say "hi"'),), root="d") == 'd["say \\"hi\\""]'
    assert eval(tree.path_str((tree.Key('say "hi"'),), root="d"), {"d": {'say "hi"': 7}}) == 7
    assert tree.path_str(()) == "params"


# ---------------------------------------------------------------------------------------------------------------------
# register

class Affine:
    def __init__(self, W, b, name):
        self.W, self.b, self.name = W, b, name


def _setup_affine():
    tree.register(Affine, lambda a: ((a.W, a.b), a.name), lambda name, ch: Affine(ch[0], ch[1], name))


def test_register_user_class():
    _setup_affine()
    m = [Affine(np.ones((2, 2)), np.zeros(2), "first"), Affine(np.eye(2), np.ones(2), "second")]
    lv, td = tree.flatten(m)
    assert len(lv) == 4 and lv[0] is m[0].W and lv[3] is m[1].b
    back = tree.unflatten(td, [x * 3 for x in lv])
    assert isinstance(back[1], Affine) and back[1].name == "second"
    np.testing.assert_array_equal(back[1].W, 3 * np.eye(2))
    assert td != tree.structure([Affine(1.0, 2.0, "other"), Affine(1.0, 2.0, "second")])   # aux is structure
    assert repr(tree.structure(Affine(1.0, 2.0, "n"))) == "TreeDef(Affine['n'](*, *))"
    paths = [tree.path_str(p) for p, _ in tree.flatten_with_path(m)[0]]
    assert paths == ["params[0][0]", "params[0][1]", "params[1][0]", "params[1][1]"]


def test_register_refuses_builtins_and_non_classes():
    with pytest.raises(ValueError, match="already a pytree container"):
        tree.register(dict, lambda d: ((), None), lambda a, c: {})
    with pytest.raises(ValueError, match="always leaves"):
        tree.register(np.ndarray, lambda d: ((), None), lambda a, c: {})
    with pytest.raises(TypeError, match="needs a class"):
        tree.register("Affine", lambda d: ((), None), lambda a, c: {})


# ---------------------------------------------------------------------------------------------------------------------
# check_leaves

@pytest.mark.parametrize("bad, expected", [
    (np.arange(3), 'grad: params["layers"][1][0] is an int64 array; derivatives need floating-point leaves '
                   "(pass np.asarray(..., dtype=float))"),
    (np.array([True]), 'grad: params["layers"][1][0] is a bool array; derivatives need floating-point leaves'),
    (True, 'grad: params["layers"][1][0] is a bool (True)'),
    (np.int32(2), 'grad: params["layers"][1][0] is an int32 scalar'),
    ("relu", "grad: params[\"layers\"][1][0] is a str ('relu'); only arrays and numbers can be differentiated"),
    (np.ones(2, dtype=complex), 'grad: params["layers"][1][0] is a complex128 array; complex derivatives are not '
                                "supported"),
    (1 + 2j, 'grad: params["layers"][1][0] is a complex number'),
    (object(), 'grad: params["layers"][1][0] is an object object; only arrays and numbers can be differentiated; '
               "if object holds arrays, make it a container with hodiff.tree.register"),
    (hd.tensor([1, 2]), 'grad: params["layers"][1][0] is an int64 array'),
])
def test_check_leaves_names_the_path(bad, expected):
    params = {"layers": [(np.ones(2), np.ones(2)), (bad, np.ones(2))], "scale": 1.0}
    with pytest.raises(TypeError) as info:
        tree.check_leaves(params, "grad")
    assert str(info.value).startswith(expected)


def test_check_leaves_accepts_floats_and_boxes():
    t = {"a": np.ones(2, dtype=np.float32), "b": 3, "c": 2.5, "d": np.float64(1), "e": None,
         "f": hd.tensor([1.0], requires_grad=True)}
    lv, td = tree.check_leaves(t, "grad")
    assert len(lv) == td.num_leaves == 5
    with pytest.raises(TypeError, match=r"^hessian: x is an int64 array"):
        tree.check_leaves(np.arange(2), "hessian", root_name="x")


# ---------------------------------------------------------------------------------------------------------------------
# ravel

float_trees = st.recursive(
    st.one_of(arrays, scalars, st.none(), st.integers(-5, 5)),
    lambda ch: st.one_of(st.lists(ch, max_size=3), st.lists(ch, max_size=3).map(tuple),
                         st.dictionaries(keys, ch, max_size=3), st.builds(Point, ch, ch)),
    max_leaves=10)


@given(float_trees)
def test_ravel_unravel_roundtrip(t):
    flat, unravel = tree.ravel(t)
    ref = ref_leaves(t)
    expect = (np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in ref]) if ref else np.zeros(0))
    assert flat.ndim == 1 and flat.shape == expect.shape
    np.testing.assert_array_equal(flat, expect)
    dtypes = [np.float64 if isinstance(x, (int, float)) and not isinstance(x, np.generic) else np.asarray(x).dtype
              for x in ref]
    assert flat.dtype == (np.result_type(*dtypes) if ref else np.float64)
    back = unravel(flat)
    assert tree.structure(back) == tree.structure(t)
    for a, b in zip(tree.leaves(back), ref):
        assert np.shape(a) == np.shape(b)
        assert np.asarray(a).dtype == (np.float64 if isinstance(b, (int, float)) and not isinstance(b, np.generic)
                                       else np.asarray(b).dtype)
        np.testing.assert_array_equal(a, b)
    # new values land where the leaves were
    back2 = unravel(np.arange(flat.size, dtype=flat.dtype))
    k = 0
    for a, b in zip(tree.leaves(back2), ref):
        n = int(np.size(b))
        np.testing.assert_array_equal(np.ravel(a), np.arange(k, k + n).astype(np.asarray(a).dtype))
        k += n


def test_unravel_copies_and_keeps_dtypes_and_order():
    t = {"w": np.ones((2, 2)), "b": np.float32(3.0), "c": [np.zeros(1, dtype=np.float32)]}
    flat, unravel = tree.ravel(t)
    np.testing.assert_array_equal(flat, [3.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    back = unravel(flat)
    assert list(back) == ["w", "b", "c"]
    assert type(back["b"]) is np.float32 and back["c"][0].dtype == np.float32 and back["w"].dtype == np.float64
    back["w"][0, 0] = 99.0
    assert flat[2] == 1.0                                      # not a view of flat


def test_ravel_errors_name_the_path():
    with pytest.raises(TypeError, match=r'ravel: tree\["b"\]\[1\] is an int64 array; a raveled vector needs'):
        tree.ravel({"a": 1.0, "b": [np.ones(2), np.arange(2)]})
    with pytest.raises(TypeError, match=r"ravel: tree\.y is a str"):
        tree.ravel(Point(1.0, "s"))
    _, unravel = tree.ravel([np.ones(3)])
    with pytest.raises(ValueError, match=r"expected a vector of shape \(3,\), got shape \(4,\)"):
        unravel(np.ones(4))
    lay = tree.layout([np.ones(3)])
    with pytest.raises(ValueError, match=r"has structure"):
        lay.ravel((np.ones(3),))
    with pytest.raises(ValueError, match=r"tree\[0\] has shape \(2,\), this layout has \(3,\)"):
        lay.ravel([np.ones(2)])


def test_ravel_and_unravel_are_differentiable():
    # d/dx of sum(ravel({"a": x, "b": 2.0})**2) = 2 x; d/dv of sum(unravel(v)["a"]**3) = 3 v^2 on a's part
    g = hd.grad(lambda x: np.sum(tree.ravel({"a": x, "b": 2.0})[0] ** 2))(np.array([1.0, -3.0]))
    np.testing.assert_allclose(g, [2.0, -6.0], rtol=1e-15)
    _, unravel = tree.ravel({"a": np.zeros(2), "b": 0.0})
    v = np.array([1.0, 2.0, 3.0])                              # "a" is v[0:2], "b" is v[2]
    g = hd.grad(lambda v: np.sum(unravel(v)["a"] ** 3) + unravel(v)["b"] * 5.0)(v)
    np.testing.assert_allclose(g, [3.0, 12.0, 5.0], rtol=1e-15)


# ---------------------------------------------------------------------------------------------------------------------
# nested Jacobians

def test_nest_jacobian_blocks_against_analytic():
    rng = np.random.default_rng(0)
    x = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)}

    def f(x):       # out[0] = 2 a (2, 3); out[1] = (b**2, sum(a)) as a tuple of a (3,) and a scalar
        return [2 * x["a"], (x["b"] ** 2, np.sum(x["a"]))]

    lin, lout = tree.layout(x), tree.layout(f(x))
    _, unravel = tree.ravel(x)
    J = hd.jacobian(lambda v: tree.ravel(f(unravel(v)))[0])(tree.ravel(x)[0])
    nested = tree.nest_jacobian(J, lout, lin)
    assert tree.structure(nested) == tree.structure([{"a": 0, "b": 0}, ({"a": 0, "b": 0}, {"a": 0, "b": 0})])
    np.testing.assert_array_equal(nested[0]["a"], 2 * np.eye(6).reshape(2, 3, 2, 3))
    np.testing.assert_array_equal(nested[0]["b"], np.zeros((2, 3, 3)))
    np.testing.assert_array_equal(nested[1][0]["a"], np.zeros((3, 2, 3)))
    np.testing.assert_allclose(nested[1][0]["b"], np.diag(2 * x["b"]), rtol=1e-15)
    np.testing.assert_array_equal(nested[1][1]["a"], np.ones((2, 3)))
    np.testing.assert_array_equal(nested[1][1]["b"], np.zeros(3))
    np.testing.assert_array_equal(tree.flat_jacobian(nested, lout, lin), J)


def test_nest_hessian_against_analytic():
    rng = np.random.default_rng(1)
    W, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    params = {"W": W, "b": b}

    def f(p):       # f = sum_ij W_ij^2 b_j
        return np.sum(p["W"] ** 2 * p["b"])

    lay = tree.layout(params)
    flat, unravel = tree.ravel(params)
    H = tree.nest_hessian(hd.hessian(lambda v: f(unravel(v)))(flat), lay)
    hWW = np.einsum("ik,jl,j->ijkl", np.eye(2), np.eye(3), 2 * b)
    hWb = np.einsum("jk,ij->ijk", np.eye(3), 2 * W)
    np.testing.assert_allclose(H["W"]["W"], hWW, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(H["W"]["b"], hWb, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(H["b"]["W"], hWb.transpose(2, 0, 1), rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(H["b"]["b"], np.zeros((3, 3)))
    assert list(H) == ["W", "b"] and list(H["b"]) == ["W", "b"]


def test_nest_jacobian_single_arrays_and_scalars():
    J = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(tree.nest_jacobian(J, tree.layout(np.zeros(2)), tree.layout(np.zeros(3))), J)
    out = tree.nest_jacobian(np.array([[4.0]]), tree.layout(0.0), tree.layout((np.float64(1.0),)))
    assert isinstance(out, tuple) and type(out[0]) is np.float64 and out[0] == 4.0
    empty = tree.nest_jacobian(np.zeros((2, 0)), tree.layout(np.zeros(2)), tree.layout(None))
    assert empty is None
    np.testing.assert_array_equal(tree.flat_jacobian(empty, tree.layout(np.zeros(2)), tree.layout(None)),
                                  np.zeros((2, 0)))
    with pytest.raises(ValueError, match=r"expected a matrix of shape \(2, 3\)"):
        tree.nest_jacobian(np.zeros((3, 2)), tree.layout(np.zeros(2)), tree.layout(np.zeros(3)))
    with pytest.raises(ValueError, match=r"block jac\[1\] has shape \(2,\), expected \(2, 2\)"):
        tree.flat_jacobian([np.zeros((2, 3)), np.zeros(2)], tree.layout(np.zeros(2)),
                           tree.layout([np.zeros(3), np.zeros(2)]))
    with pytest.raises(ValueError, match="outputs outside, inputs inside"):
        tree.flat_jacobian(np.zeros((2, 3)), tree.layout(np.zeros(2)), tree.layout([np.zeros(3)]))


# ---------------------------------------------------------------------------------------------------------------------

def test_no_engine_imports():
    for name in ("pytree.py", "pytree_nest.py"):
        mod = ast.parse((ROOT / "hodiff" / "_src" / "core" / name).read_text())
        for node in ast.walk(mod):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] in {"numpy", "collections", "typing", "itertools", "math"}
                           for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                ok = node.module in {"__future__", "typing", "collections"} or (
                    node.level == 1 and node.module in {"pytree", "pytree_nest"})
                assert ok, f"{name} imports {node.module}"


def test_registered_aux_cannot_pass_for_a_namedtuple():
    class Box1:
        def __init__(self, v, tag):
            self.v, self.tag = v, tag
    tree.register(Box1, lambda b: ((b.v,), b.tag), lambda tag, ch: Box1(ch[0], tag))
    back = tree.unflatten(tree.structure(Box1(1.0, "namedtuple")), [2.0])
    assert isinstance(back, Box1) and back.v == 2.0 and back.tag == "namedtuple"


def test_docstring_examples():
    import doctest

    from hodiff._src.core import pytree, pytree_nest
    for mod in (pytree, pytree_nest):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert res.failed == 0 and res.attempted > 5, mod.__name__


def test_nest_jacobian_of_traced_matrix_is_differentiable():
    lout, lin = tree.layout([np.zeros(2)]), tree.layout({"a": np.zeros(1), "b": np.zeros((1, 2))})
    M = np.arange(6.0).reshape(2, 3)

    def f(m):      # sum of squares of the "b" block of the nested form: d/dm = 2 m on columns 1, 2, 0 on column 0
        return np.sum(tree.nest_jacobian(m, lout, lin)[0]["b"] ** 2)

    g = hd.grad(f)(M)
    np.testing.assert_array_equal(g, np.array([[0.0, 2.0, 4.0], [0.0, 8.0, 10.0]]))
    assert tree.nest_jacobian(M, lout, lin)[0]["b"].shape == (2, 1, 2)
