"""The numpy face as numpy users write it (issue 10 section 3, issue 11's conversion errors, issue 12 items 2-3).

Values are compared with numpy on the same plain inputs; first derivatives with central differences of numpy's own
function, second derivatives (``hd.hessian``) with central differences of ``hd.grad`` and with ``hd.jacfwd`` of it.
"""
from __future__ import annotations

import numpy as np
from _fd import central_grad
import pytest
import scipy.integrate
import scipy.linalg
import scipy.optimize
import scipy.signal
import scipy.special
import scipy.stats

import hodiff as hd

RNG = np.random.default_rng(0)


def fd_grad(f, x, h=1e-6):
    return central_grad(f, x, h)


def check(f, x, second=True, tol=1e-6):
    """Value vs numpy, gradient vs central differences of numpy, Hessian vs differences of hd.grad and jacfwd."""
    x = np.asarray(x, dtype=float)
    v, g = hd.value_and_grad(f)(x)
    np.testing.assert_allclose(v, f(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, fd_grad(f, x), rtol=tol, atol=tol)
    if second:
        H = hd.hessian(f)(x)
        gf = hd.grad(f)
        Hfd = np.stack([fd_grad(lambda z, i=i: gf(z).reshape(-1)[i], x).reshape(-1)
                        for i in range(x.size)]).reshape(H.shape)
        np.testing.assert_allclose(H, Hfd, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(hd.jacfwd(gf)(x), H, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------------------------------------------
# issue 12 item 2: numpy arguments honoured


X3 = np.array([0.7, -1.3, 2.1])
MASK = np.array([True, False, True])


@pytest.mark.parametrize("f", [
    lambda x: np.add.reduce(x * x, initial=5.0),
    lambda x: np.add.reduce(x * x, where=MASK),
    lambda x: np.multiply.reduce(x, initial=2.0, where=MASK),
    lambda x: np.maximum.reduce(x, initial=-5.0, where=MASK),
    lambda x: np.sum(np.add.accumulate(x ** 3)),
    lambda x: np.sum(x ** 2, where=MASK, initial=1.5),
    lambda x: np.prod(x, where=MASK),
    lambda x: np.max(x, initial=0.0, where=MASK),
    lambda x: np.mean(x ** 2, where=MASK),
    lambda x: np.var(x ** 2, where=MASK, ddof=1),
    lambda x: np.std(x, correction=1),
    lambda x: np.sum(np.cumsum(x ** 2, dtype=np.float64)),
    lambda x: np.add.reduce(x * x, dtype=np.float64),
    lambda x: np.sum(np.full_like(x, x[0] ** 2)),
    lambda x: (x ** 2).sum(where=MASK),
], ids=lambda f: "")
def test_keywords_honoured(f):
    check(f, X3)


def test_full_like_keeps_derivative():
    np.testing.assert_allclose(hd.grad(lambda x: np.sum(np.full_like(x, x[0])))(np.array([1.0, 2.0, 3.0])),
                               [3.0, 0.0, 0.0])


@pytest.mark.parametrize("call, key", [
    (lambda x: np.add.reduce(x, dtype=np.float32), "dtype"),
    (lambda x: np.sum(x, out=np.empty(())), "out"),
    (lambda x: np.add(x, 1.0, where=MASK), "where"),
    (lambda x: np.quantile(x, 0.5, method="nearest"), "method"),
    (lambda x: np.sin(x, dtype=np.float32), "dtype"),
    (lambda x: x.sum(out=np.empty(())), "out"),
    (lambda x: np.linalg.pinv(np.outer(x, x) + np.eye(3), rcond=0.5), "rcond"),
])
def test_keywords_refused_by_name(call, key):
    with pytest.raises(TypeError, match=key):
        hd.grad(lambda x: np.sum(call(x)))(X3)


# ---------------------------------------------------------------------------------------------------------------
# issue 12 item 3: in-place methods keep numpy's semantics


def _run_both(body, x):
    """``body`` on a plain array and under hd.value_and_grad (and hd.jvp): the same value."""
    v, g = hd.value_and_grad(body)(x)
    np.testing.assert_allclose(v, body(x.copy()), rtol=1e-12)
    np.testing.assert_allclose(g, fd_grad(body, x), rtol=1e-6, atol=1e-6)
    pv, t = hd.jvp(body, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(pv, body(x.copy()), rtol=1e-12)
    np.testing.assert_allclose(t, fd_grad(body, x).sum(), rtol=1e-6, atol=1e-6)


def _sort_body(x):
    y = x * 1.0
    z = y                # another name for the same array sees the change too
    assert y.sort() is None
    return y[0] * 3 + z[1]


def _partition_body(x):
    y = x * 2.0
    y.partition(1)
    return y[1] * y[0]


def _fill_body(x):
    y = x * 1.0
    y.fill(x[2] ** 2)
    return np.sum(y * np.arange(3))


def _put_body(x):
    y = x ** 2
    y.put([0, 2, 0], [x[1], 5.0, x[2]])   # repeated index: the last write wins, as numpy
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


def _resize_body(x):
    y = x ** 2
    y.resize((2, 3))
    return np.sum(y * np.arange(6.0).reshape(2, 3))


def _setitem_body(x):
    y = x * 1.0
    y[1] = x[0] * x[2]
    return np.sum(y ** 2)


def _iadd_body(x):
    y = x * 1.0
    z = y
    y += x ** 2
    y *= 2.0
    return np.sum(z * 3.0)


@pytest.mark.parametrize("body", [_sort_body, _partition_body, _fill_body, _put_body, _resize_body, _iadd_body])
def test_inplace_methods_match_numpy(body):
    _run_both(body, np.array([3.0, 1.0, 2.0]))


def test_setitem_matches_numpy_or_refuses():
    x = np.array([3.0, 1.0, 2.0])
    pv, t = hd.jvp(_setitem_body, (x,), (np.ones(3),))      # forward mode: the dual takes the new entries
    np.testing.assert_allclose(pv, _setitem_body(x.copy()))
    np.testing.assert_allclose(t, fd_grad(_setitem_body, x).sum(), rtol=1e-6)
    np.testing.assert_allclose(hd.jacfwd(_setitem_body)(x), fd_grad(_setitem_body, x), rtol=1e-6)
    try:                                                      # reverse mode: Tensor.__setitem__ (tensor API's rules)
        g = hd.grad(_setitem_body)(x)
    except RuntimeError as e:
        assert "where" in str(e) or "at[" in str(e)
    else:
        np.testing.assert_allclose(g, fd_grad(_setitem_body, x), rtol=1e-6)


def test_inplace_sort_finding():
    def f(x):
        y = x * 1.0
        y.sort()
        return y[0]
    v, g = hd.value_and_grad(f)(np.array([3.0, 1.0, 2.0]))
    assert v == 1.0
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_inplace_on_the_input_being_differentiated_is_refused():
    def f(x):
        x.sort()
        return x[0]
    with pytest.raises(RuntimeError, match="np.sort"):
        hd.grad(f)(np.array([3.0, 1.0, 2.0]))


@pytest.mark.parametrize("name", ["setfield", "byteswap", "setflags", "view", "tofile", "getfield", "dump"])
def test_other_ndarray_methods_raise_naming_them(name):
    def f(x):
        getattr(x * 1.0, name)
        return np.sum(x)
    with pytest.raises(AttributeError, match=name):
        hd.grad(f)(X3)


def test_every_ndarray_method_is_offered_or_refused():
    """Walk ndarray's public methods: on a traced value each is either an attribute hodiff offers, or an
    AttributeError that names it; in-place ones (which return None in numpy) are among the rebinding methods."""
    inplace = {"sort", "fill", "put", "resize", "partition", "setfield", "setflags", "itemset", "byteswap"}
    seen = []

    def f(x):
        y = x * 1.0
        for name in dir(np.ndarray):
            if name.startswith("_"):
                continue
            try:
                getattr(y, name)
                seen.append(name)
            except AttributeError as e:
                assert name in str(e)
        return np.sum(y)
    hd.grad(f)(X3)
    offered_inplace = inplace & set(seen)
    assert offered_inplace == {"sort", "fill", "put", "resize", "partition"}


def test_out_arguments_of_methods_refused():
    with pytest.raises(TypeError, match="out"):
        hd.grad(lambda x: (x * 1.0).clip(0, 1, out=np.empty(3)).sum())(X3)
    with pytest.raises(TypeError, match="out"):
        hd.grad(lambda x: np.sin(x, out=np.empty(3)).sum())(X3)


# ---------------------------------------------------------------------------------------------------------------
# issue 10 section 3: numpy's forms and the missing functions


A33 = RNG.normal(size=(3, 3))
SPD = A33 @ A33.T + 3 * np.eye(3)


@pytest.mark.parametrize("f, x", [
    (lambda x: np.sum(np.einsum(x.reshape(2, 3), [0, 1], A33, [1, 2], [0, 2]) ** 2), RNG.normal(size=6)),
    (lambda x: np.einsum(x, [0], x, [0]), RNG.normal(size=3)),
    (lambda x: np.sum(np.linalg.eigh(SPD + np.diag(x), "U")[0] ** 2), RNG.normal(size=3) * 0.1),
    (lambda x: np.sum(np.linalg.eigvalsh(SPD + np.outer(x, np.arange(3.0)), UPLO="U") ** 3), RNG.normal(size=3) * .1),
    (lambda x: np.sum(np.linalg.eigvalsh(SPD + np.outer(x, np.arange(3.0)), UPLO="L") ** 3), RNG.normal(size=3) * .1),
    (lambda x: np.sum(np.linalg.cholesky(SPD + np.diag(x), upper=True) ** 2), RNG.normal(size=3) * 0.1),
    (lambda x: np.sum(np.kron(x, A33) ** 2), RNG.normal(size=3)),
    (lambda x: np.sum(np.kron(x.reshape(1, 3), np.arange(6.0).reshape(1, 2, 3)) ** 2), RNG.normal(size=3)),
    (lambda x: np.sum(np.cross(x.reshape(3, 2), A33[:2], axisa=0, axisb=-1, axisc=0) ** 2), RNG.normal(size=6)),
    (lambda x: np.sum(np.cross(x.reshape(3, 2), A33[:, :2], axis=0) ** 2), RNG.normal(size=6)),
    (lambda x: np.sum(np.vstack([x, x ** 2], dtype=np.float64) ** 2), RNG.normal(size=3)),
    (lambda x: np.sum(np.hsplit(x.reshape(2, 4), 2)[1] ** 3), RNG.normal(size=8)),
    (lambda x: np.sum(np.vsplit(x.reshape(4, 2), [1])[1] ** 3), RNG.normal(size=8)),
    (lambda x: np.sum(np.dsplit(x.reshape(1, 2, 4), 2)[0] ** 3), RNG.normal(size=8)),
    (lambda x: np.sum(np.array_split(x, 3)[2] ** 3), RNG.normal(size=8)),
    (lambda x: np.sum(np.column_stack([x, x ** 2]) * np.arange(6.0).reshape(3, 2)), RNG.normal(size=3)),
    (lambda x: np.sum(np.append(x, x ** 2) * np.arange(6.0)), RNG.normal(size=3)),
    (lambda x: np.sum(np.append(x.reshape(1, 3), x.reshape(1, 3) ** 2, axis=0) ** 3), RNG.normal(size=3)),
    (lambda x: np.sum(np.rot90(x.reshape(2, 3), 3) * np.arange(6.0).reshape(3, 2)), RNG.normal(size=6)),
    (lambda x: np.sum(np.flipud(x.reshape(2, 3)) * np.arange(6.0).reshape(2, 3)), RNG.normal(size=6)),
    (lambda x: np.sum(np.fliplr(x.reshape(2, 3)) * np.arange(6.0).reshape(2, 3)), RNG.normal(size=6)),
    (lambda x: np.sum(np.rollaxis(x.reshape(1, 2, 3), 2) * np.arange(6.0).reshape(3, 1, 2)), RNG.normal(size=6)),
    (lambda x: np.sum(np.atleast_3d(x) * np.arange(3.0).reshape(1, 3, 1)), RNG.normal(size=3)),
    (lambda x: np.sum(np.select([x > 0, x < -1], [x ** 2, x ** 3], default=x)), np.array([0.5, -2.0, -0.5])),
    (lambda x: np.sum(np.partition(x, 2) * np.arange(5.0)), np.array([0.3, -1.2, 2.2, 0.9, -0.1])),
    (lambda x: np.sum(np.nan_to_num(np.log(x)) ** 2), np.array([0.5, 2.0, 3.0])),
    (lambda x: np.sum(np.interp(x, [0.0, 1.0, 3.0], [1.0, -1.0, 2.0])), np.array([0.3, 1.7, 2.2])),
    (lambda x: np.sum(np.interp(0.7, x, [1.0, -1.0, 2.0])), np.array([0.0, 1.0, 3.0])),
    (lambda x: np.sum(np.interp(2.0, [0.0, 1.0, 3.0], x ** 2)), np.array([0.5, 1.0, 3.0])),
    (lambda x: np.sum(np.gradient(x ** 3) * np.arange(5.0)), RNG.normal(size=5)),
    (lambda x: np.sum(np.gradient(x ** 3, 0.5, edge_order=2) * np.arange(5.0)), RNG.normal(size=5)),
    (lambda x: np.sum(np.gradient(x.reshape(2, 3) ** 3)[1] * np.arange(6.0).reshape(2, 3)), RNG.normal(size=6)),
    (lambda x: np.sum(np.linspace(x[0], x[1], 5) ** 2), np.array([0.3, 2.0])),
    (lambda x: np.sum(np.linspace(x[:2], x[2:], 4, axis=1, endpoint=False) ** 3), RNG.normal(size=4)),
    (lambda x: np.sum(np.linspace(x[0], x[1], 4, retstep=True)[1] ** 2), np.array([0.3, 2.0])),
    (lambda x: np.sum(np.full_like(x[:1], x[0] * x[1], shape=(2, 2)) ** 2), np.array([0.3, 2.0])),
    (lambda x: np.sum(np.diff(x, prepend=x[0] ** 2, append=3.0) ** 2), RNG.normal(size=3)),
    (lambda x: np.sum(x.reshape((3, 2), order="F") * np.arange(6.0).reshape(3, 2)), RNG.normal(size=6)),
    (lambda x: np.sum(np.ravel(x.reshape(2, 3), order="F") * np.arange(6.0)), RNG.normal(size=6)),
], ids=lambda v: "")
def test_numpy_forms(f, x):
    check(f, x)


def test_new_functions_registered():
    new = ["hsplit", "vsplit", "dsplit", "array_split", "column_stack", "row_stack", "append", "rot90", "flipud",
           "fliplr", "rollaxis", "atleast_3d", "select", "partition", "nan_to_num", "interp", "gradient",
           "linspace", "full_like"]
    from hodiff._src.numpy.dispatch import HANDLED_FUNCTIONS
    for name in new:
        if hasattr(np, name):
            assert getattr(np, name) in HANDLED_FUNCTIONS, name
        if name not in ("linspace", "full_like"):    # hd.linspace is the tensor API's creation function
            assert hasattr(hd, name), name


def test_full_with_traced_fill_says_what_to_write():
    with pytest.raises(TypeError, match="full_like"):
        hd.grad(lambda x: np.sum(np.full(3, x[0])))(X3)


def test_numpy_conversions_say_which_call_and_what_instead():
    with pytest.raises(TypeError, match=r"np\.stack") as info:
        hd.grad(lambda x: np.sum(np.array([x[0], x[1]])))(X3)
    assert "np.array([x[0], x[1]])" in str(info.value)

    def store(x):
        buf = np.zeros(2)
        buf[0] = x[0]
        return np.sum(buf)
    # numpy re-raises a failed element conversion as its own ValueError; hodiff's explanation is its cause
    with pytest.raises(ValueError) as info:
        hd.grad(store)(X3)
    cause = str(info.value.__cause__)
    assert "buf[0] = x[0]" in cause and ".at[i].set" in cause and "index_set" in cause


def test_dual_batched_hint():
    with pytest.raises(ValueError, match="batched=True"):
        hd.Dual(np.zeros(3), np.ones((4, 3)))
    d = hd.Dual(np.zeros(3), np.ones((4, 3)), batched=True)
    assert d.tangent.shape == (4, 3)


# ---------------------------------------------------------------------------------------------------------------
# issue 11: conversion errors name the library function and its hodiff.scipy twin


A22 = np.array([[2.0, 0.0], [1.0, 3.0]])


@pytest.mark.parametrize("f, name, twin", [
    (lambda x: np.sum(scipy.stats.norm.logpdf(x)), "scipy.stats.norm.logpdf", True),
    (lambda x: np.sum(scipy.stats.norm(0.0, 2.0).logpdf(x)), "scipy.stats.norm.logpdf", True),
    (lambda x: scipy.special.logsumexp(x), "scipy.special.logsumexp", True),
    (lambda x: np.sum(scipy.linalg.solve_triangular(A22, x[:2], lower=True)), "scipy.linalg.solve_triangular", True),
    (lambda x: np.sum(scipy.integrate.odeint(lambda y, t: -y, x, [0.0, 1.0])), "scipy.integrate.odeint", True),
    (lambda x: scipy.optimize.rosen(x), "scipy.optimize.rosen", True),
    (lambda x: np.sum(scipy.signal.detrend(x)), "scipy.signal.detrend", False),
])
@pytest.mark.parametrize("transform", ["grad", "jvp", "hessian"])
def test_conversion_error_names_the_library_function(f, name, twin, transform):
    with pytest.raises(TypeError) as info:
        if transform == "grad":
            hd.grad(f)(X3)
        elif transform == "jvp":
            hd.jvp(f, (X3,), (np.ones(3),))
        else:
            hd.hessian(f)(X3)
    msg = str(info.value)
    assert name + "()" in msg
    assert "value being differentiated" in msg
    for word in ("Tensor", "Dual", "box"):
        assert word not in msg
    if twin:
        assert f"use hodiff.{name} instead" in msg
    else:
        assert "no differentiable version" in msg and "custom_jvp" in msg


def test_conversion_error_for_float_from_user_code():
    with pytest.raises(TypeError, match=r"float\(\)") as info:
        hd.grad(lambda x: float(x[0]) * x[1])(X3)
    assert "Tensor" not in str(info.value)


def test_item_from_user_code_is_the_explicit_escape():
    assert hd.grad(lambda x: x[0].item() * x[1])(X3)[1] == X3[0]
