"""Generated from the dispatch registries: every keyword numpy accepts, on every dispatched function and ufunc method,
is honoured (value as numpy's on plain arrays, gradient as central differences of numpy's function) or refused by a
TypeError that names the function and the keyword (issue 12 item 2).

The keywords come from ``inspect.signature`` of each numpy function (and a fixed list for ufuncs); the arguments from
``ARGS`` (a builder per function, turning a flat vector ``z`` into numpy's required arguments) and ``VALUES`` (a
non-default value per keyword name, with per-function overrides). A keyword with no value here fails the coverage
test, so a function or keyword added to the registries must be added here too.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import hodiff as hd
from hodiff._src.numpy.dispatch import HANDLED_FUNCTIONS, _name

R = np.random.default_rng(3)
M3 = R.normal(size=(3, 3))
SPD = M3 @ M3.T + 3 * np.eye(3)


def _v(z, k=6):
    return z[:k]


def _m(z):
    return z[:6].reshape(2, 3)


# required arguments of each function, from the flat traced vector z (12 entries, generic point)
ARGS = {
    "sum": lambda z: (_m(z),), "mean": lambda z: (_m(z),), "var": lambda z: (_m(z),), "std": lambda z: (_m(z),),
    "max": lambda z: (_m(z),), "amax": lambda z: (_m(z),), "min": lambda z: (_m(z),), "amin": lambda z: (_m(z),),
    "prod": lambda z: (_m(z),), "cumsum": lambda z: (_m(z),), "cumprod": lambda z: (_m(z),),
    "average": lambda z: (_m(z),), "ptp": lambda z: (_m(z),), "reshape": lambda z: (_v(z), (3, 2)),
    "transpose": lambda z: (_m(z),), "broadcast_to": lambda z: (_v(z, 3), (2, 3)),
    "where": lambda z: (np.array([True, False, True]), _v(z, 3), z[3:6]), "clip": lambda z: (_v(z), -0.5, 0.5),
    "dot": lambda z: (_m(z), _v(z, 3)), "vdot": lambda z: (_v(z, 3), z[3:6]), "inner": lambda z: (_v(z, 3), z[3:6]),
    "outer": lambda z: (_v(z, 3), z[3:5]), "tensordot": lambda z: (_m(z), M3[:, :2]),
    "einsum": lambda z: ("ij,jk->ik", _m(z), M3), "kron": lambda z: (_v(z, 2), _m(z)),
    "matmul": lambda z: (_m(z), M3), "norm": lambda z: (_m(z),), "sinc": lambda z: (_v(z),),
    "ravel": lambda z: (_m(z),), "swapaxes": lambda z: (_m(z), 0, 1), "moveaxis": lambda z: (_m(z), 0, 1),
    "expand_dims": lambda z: (_m(z), 1), "squeeze": lambda z: (z[:3].reshape(1, 3),),
    "concatenate": lambda z: ([_m(z), z[6:12].reshape(2, 3)],), "stack": lambda z: ([_v(z, 3), z[3:6]],),
    "hstack": lambda z: ([_v(z, 3), z[3:6]],), "vstack": lambda z: ([_v(z, 3), z[3:6]],),
    "split": lambda z: (_v(z), 2), "array_split": lambda z: (_v(z), 4), "tile": lambda z: (_v(z, 3), 2),
    "repeat": lambda z: (_v(z, 3), 2), "flip": lambda z: (_m(z),), "roll": lambda z: (_m(z), 1),
    "take": lambda z: (_m(z), [0, 2]), "diag": lambda z: (z[:9].reshape(3, 3),),
    "diagonal": lambda z: (z[:9].reshape(3, 3),), "trace": lambda z: (z[:9].reshape(3, 3),),
    "triu": lambda z: (z[:9].reshape(3, 3),), "tril": lambda z: (z[:9].reshape(3, 3),),
    "pad": lambda z: (_v(z, 3), 1), "atleast_1d": lambda z: (_v(z, 3),), "atleast_2d": lambda z: (_v(z, 3),),
    "atleast_3d": lambda z: (_v(z, 3),), "sort": lambda z: (_m(z),),
    "take_along_axis": lambda z: (_m(z), np.array([[0, 2], [1, 0]])),
    "inv": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),), "solve": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3), z[9:12]),
    "det": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),), "slogdet": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),),
    "cholesky": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),), "eigh": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),),
    "eigvalsh": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),), "qr": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),),
    "svd": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),), "lstsq": lambda z: (M3 + 0.1 * z[:9].reshape(3, 3), z[9:12]),
    "matrix_power": lambda z: (0.3 * z[:9].reshape(3, 3), 2), "multi_dot": lambda z: ([_m(z), M3, M3],),
    "pinv": lambda z: (SPD + 0.1 * z[:9].reshape(3, 3),), "diff": lambda z: (_v(z),),
    "cross": lambda z: (_v(z, 3), z[3:6]), "convolve": lambda z: (_v(z, 4), z[4:6]),
    "quantile": lambda z: (_v(z), 0.3), "percentile": lambda z: (_v(z), 30.0), "median": lambda z: (_m(z),),
    "nansum": lambda z: (_m(z),), "nanmean": lambda z: (_m(z),), "cov": lambda z: (_m(z),),
    "hsplit": lambda z: (_m(z), 3), "vsplit": lambda z: (_m(z), 2), "dsplit": lambda z: (z[:12].reshape(1, 3, 4), 2),
    "column_stack": lambda z: ([_v(z, 3), z[3:6]],), "row_stack": lambda z: ([_v(z, 3), z[3:6]],),
    "append": lambda z: (_v(z, 3), z[3:6]), "rot90": lambda z: (_m(z),), "flipud": lambda z: (_m(z),),
    "fliplr": lambda z: (_m(z),), "rollaxis": lambda z: (_m(z), 1), "select": lambda z: (
        [np.array([True, False, False]), np.array([False, True, False])], [_v(z, 3), z[3:6]]),
    "partition": lambda z: (_v(z), 2), "nan_to_num": lambda z: (_v(z),),
    "interp": lambda z: (np.sort(z[:3]) * 0.5, np.array([-2.0, 0.0, 1.0, 3.0]), z[3:7]),
    "gradient": lambda z: (_v(z),), "linspace": lambda z: (z[0], z[1]), "full_like": lambda z: (z[:3], z[3]),
    "copyto": None,   # writes into its first argument: tested in test_numpy_face (in-place)
}

MASK = np.array([[True, False, True], [False, True, True]])
# a non-default value per keyword name; (function, keyword) overrides first
VALUES = {
    "axis": 0, "keepdims": True, "dtype": np.float64, "where": MASK, "initial": 0.5, "ddof": 1, "correction": 1,
    "mean": None, "weights": np.array([1.0, 2.0, 3.0]), "returned": True, "order": "F", "copy": True, "subok": True,
    "optimize": True, "casting": "unsafe", "mode": "wrap", "kind": "stable", "stable": True, "offset": 1,
    "axis1": 1, "axis2": 0, "k": 1, "axes": 1, "UPLO": "U", "upper": True, "full_matrices": False,
    "compute_uv": False, "hermitian": True, "rcond": 1e-10, "rtol": 1e-10, "n": 2, "prepend": 0.5, "append": 0.5,
    "axisa": 0, "axisb": 0, "axisc": 0, "method": "nearest", "overwrite_input": True, "y": None, "rowvar": False,
    "bias": True, "fweights": np.array([1, 2]), "aweights": np.array([1.0, 2.0]), "constant_values": 1.5,
    "endpoint": False, "retstep": True, "num": 5, "left": 0.5, "right": -0.5, "period": 4.0, "edge_order": 2,
    "nan": 1.0, "posinf": 9.0, "neginf": -9.0, "default": 0.25, "ord": 1, "shape": (2, 3), "device": "cpu",
    "out": "OUT", "start": 1, "signature": None, "min": -0.5, "max": 0.5, "a_min": None, "a_max": None, "b": None, "source": None,
}
OVERRIDES = {
    ("norm", "axis"): 1, ("average", "weights"): np.array([1.0, 2.0]), ("average", "axis"): 0,
    ("mean", "mean"): None, ("var", "mean"): np.zeros((1, 3)), ("std", "mean"): np.zeros((1, 3)),
    ("sort", "order"): None, ("partition", "order"): None, ("quantile", "weights"): np.ones(6),
    ("percentile", "weights"): np.ones(6), ("tensordot", "axes"): 1, ("transpose", "axes"): (1, 0),
    ("diff", "axis"): 0, ("cov", "y"): np.array([0.3, -1.0, 2.0]), ("cross", "axis"): 0,
    ("pad", "mode"): "reflect", ("take", "mode"): "clip", ("qr", "mode"): "r", ("ravel", "order"): "F",
    ("reshape", "order"): "F", ("reshape", "copy"): True, ("clip", "min"): None, ("clip", "max"): None,
    ("linspace", "axis"): 0, ("gradient", "axis"): 0, ("where", "where"): None, ("partition", "kind"): "introselect",
    ("interp", "period"): 4.0, ("diagonal", "axis1"): 1,
}

UFUNC_KEYS = ["out", "where", "axes", "axis", "keepdims", "casting", "order", "dtype", "subok", "signature"]
REDUCE_KEYS = ["axis", "dtype", "out", "keepdims", "initial", "where"]


def _value(fname, key):
    if (fname, key) in OVERRIDES:
        return OVERRIDES[(fname, key)]
    return VALUES.get(key, _MISSING)


_MISSING = object()


def _scalar(res):
    """A weighted sum of every floating array in ``res`` (tuples and lists walked)."""
    if isinstance(res, (tuple, list)):
        parts = [_scalar(r) for r in res]
        parts = [p for p in parts if p is not None]
        return None if not parts else sum(p * (i + 1) for i, p in enumerate(parts))
    kind = np.asarray(hd.stop_gradient(res)).dtype.kind
    if kind != "f":
        return None
    w = np.cos(np.arange(int(np.prod(np.shape(hd.stop_gradient(res))))) + 1.0).reshape(np.shape(hd.stop_gradient(res)))
    return np.sum(res * w)


def _cases():
    out = []
    for func, fn in HANDLED_FUNCTIONS.items():
        name = getattr(func, "__name__", "")
        if ARGS.get(name, "x") is None:
            continue
        sig = inspect.signature(func)
        build = ARGS.get(name)
        nreq = 0 if build is None else len(build(np.ones(12)))
        params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        keys = [p.name for p in params[nreq:]]
        out.append((func, None))
        out += [(func, k) for k in keys]
    return out


CASES = _cases()
Z0 = np.array([0.31, -0.72, 0.53, 1.14, -0.25, 0.87, 0.44, -1.09, 0.66, 0.18, -0.37, 0.95])


def _fd(f, z, h=1e-6):
    g = np.zeros_like(z)
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = h
        g[i] = (f(z + e) - f(z - e)) / (2 * h)
    return g


def test_every_dispatched_function_and_keyword_has_a_case():
    missing = [_name(f) for f in HANDLED_FUNCTIONS if getattr(f, "__name__", "") not in ARGS]
    assert not missing, missing
    no_value = [(f.__name__, k) for f, k in CASES if k is not None and _value(f.__name__, k) is _MISSING]
    assert not no_value, no_value


def _run(func, key):
    name = func.__name__
    build = ARGS[name]
    kw = {}
    if key is not None:
        v = _value(name, key)
        if v is None:
            pytest.skip(f"{name}({key}=...) needs a value of its own (covered elsewhere or not meaningful)")
        kw = {key: v}

    def plain(z):
        return _scalar(func(*build(z), **kw))

    if key == "out":
        try:
            ref = func(*build(Z0))
        except Exception:   # noqa: BLE001
            pytest.skip("numpy refuses the arguments")
        kw = {"out": np.empty_like(ref) if isinstance(ref, np.ndarray) else np.empty(np.shape(ref))}
    try:
        expected = plain(Z0) if key != "out" else None
    except Exception:   # noqa: BLE001 - numpy itself refuses this keyword value with these arguments
        pytest.skip("numpy itself refuses this combination")
    if expected is None and key != "out":
        pytest.skip("no floating result")
    try:
        v, g = hd.value_and_grad(lambda z: _scalar(func(*build(z), **kw)))(Z0)
    except TypeError as e:
        msg = str(e)
        assert key is not None and key in msg and name in msg, msg
        return "refused"
    assert key != "out", "out= must be refused"
    np.testing.assert_allclose(v, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(g, _fd(plain, Z0), rtol=1e-5, atol=1e-6)
    return "honoured"


@pytest.mark.parametrize("func, key", CASES, ids=[f"{f.__name__}-{k}" for f, k in CASES])
def test_function_keyword(func, key):
    _run(func, key)


UFUNCS = [np.add, np.multiply, np.sin, np.exp, np.maximum]


@pytest.mark.parametrize("ufunc", UFUNCS, ids=lambda u: u.__name__)
@pytest.mark.parametrize("key", UFUNC_KEYS)
def test_ufunc_call_keyword(ufunc, key):
    vals = {"out": np.empty(3), "where": np.array([True, False, True]), "axes": [(0,), (0,), (0,)], "axis": 0,
            "keepdims": True, "casting": "unsafe", "order": "C", "dtype": np.float64, "subok": False,
            "signature": None}
    args = (lambda z: (z[:3], z[3:6])) if ufunc.nin == 2 else (lambda z: (z[:3],))
    kw = {key: vals[key]}
    try:
        ufunc(*args(Z0), **kw)
    except Exception:   # noqa: BLE001
        pytest.skip("numpy refuses this keyword for this ufunc")
    plain = lambda z: np.sum(ufunc(*args(z), **kw) * np.array([1.0, -2.0, 0.5]))   # noqa: E731
    if key in ("out", "where"):
        with pytest.raises(TypeError, match=key):
            hd.grad(plain)(Z0)
        return
    v, g = hd.value_and_grad(plain)(Z0)
    np.testing.assert_allclose(v, plain(Z0), rtol=1e-12)
    np.testing.assert_allclose(g, _fd(plain, Z0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.maximum, np.minimum], ids=lambda u: u.__name__)
@pytest.mark.parametrize("key", REDUCE_KEYS + ["float32"])
def test_ufunc_reduce_keyword(ufunc, key):
    vals = {"axis": 1, "dtype": np.float64, "out": np.empty(3), "keepdims": True, "initial": 0.7, "where": MASK,
            "float32": np.float32}
    kw = {"dtype" if key == "float32" else key: vals[key]}
    if key == "where" and ufunc in (np.maximum, np.minimum):
        kw["initial"] = 0.1
    plain = lambda z: _scalar(ufunc.reduce(_m(z), **kw))  # noqa: E731
    if key in ("out", "float32"):
        with pytest.raises(TypeError, match="out" if key == "out" else "dtype"):
            hd.grad(plain)(Z0)
        return
    v, g = hd.value_and_grad(plain)(Z0)
    np.testing.assert_allclose(v, plain(Z0), rtol=1e-12)
    np.testing.assert_allclose(g, _fd(plain, Z0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ufunc", [np.add, np.multiply], ids=lambda u: u.__name__)
@pytest.mark.parametrize("key", ["axis", "dtype", "out"])
def test_ufunc_accumulate_keyword(ufunc, key):
    vals = {"axis": 1, "dtype": np.float64, "out": np.empty((2, 3))}
    plain = lambda z: np.sum(ufunc.accumulate(_m(z), **{key: vals[key]}) * MASK)  # noqa: E731
    if key == "out":
        with pytest.raises(TypeError, match="out"):
            hd.grad(plain)(Z0)
        return
    v, g = hd.value_and_grad(plain)(Z0)
    np.testing.assert_allclose(v, plain(Z0), rtol=1e-12)
    np.testing.assert_allclose(g, _fd(plain, Z0), rtol=1e-5, atol=1e-6)
