"""The tensor API as a new user meets it: the chapter's examples (PyTorch and MXNet tabs) with ``import hodiff as hd``.

Every expected value here is derived by hand (the chapter's closed forms, or a derivative worked out in a comment),
never taken from hodiff itself. Exact comparisons (``==``) are used where the arithmetic is exact in floating point
(small integers, powers of two); otherwise ``rtol=1e-12``.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import hodiff as hd
from hodiff import autograd

RTOL = 1e-12


def val(t):
    """The plain numpy value of a tensor (through the public API)."""
    return np.asarray(t.detach().numpy())


def assert_exact(t, expected):
    got = val(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)


# ----------------------------------------------------------------------------------------------------------------
# creation functions


def test_tensor_from_list_is_float64_and_holds_a_copy():
    data = [1.0, 2.0, 3.0]
    x = hd.tensor(data)
    assert isinstance(x, hd.Tensor)
    assert x.dtype == np.float64
    assert x.shape == (3,)
    assert not x.requires_grad
    arr = np.array([1.0, 2.0])
    y = hd.tensor(arr)
    arr[0] = 99.0
    assert_exact(y, [1.0, 2.0])


def test_tensor_requires_grad_flag():
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    assert x.requires_grad
    assert x.is_leaf
    assert x.grad is None


def test_arange_float_requires_grad():
    x = hd.arange(4.0, requires_grad=True)
    assert x.requires_grad
    assert x.dtype == np.float64
    assert_exact(x, [0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("maker, fill", [(hd.zeros, 0.0), (hd.ones, 1.0)])
def test_zeros_ones_shapes_and_default_float64(maker, fill):
    for args, kwargs, shape in [((3,), {}, (3,)), ((2, 3), {}, (2, 3)), (((2, 3),), {}, (2, 3)),
                                ((), {"size": (4, 1)}, (4, 1))]:
        t = maker(*args, **kwargs)
        assert t.shape == shape
        assert t.dtype == np.float64
        assert_exact(t, np.full(shape, fill))
    t = maker(2, requires_grad=True)
    assert t.requires_grad and t.grad is None


@pytest.mark.parametrize("maker, fill", [(hd.zeros_like, 0.0), (hd.ones_like, 1.0)])
def test_zeros_like_ones_like(maker, fill):
    x = hd.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    z = maker(x)
    assert z.shape == (2, 3)
    assert z.dtype == np.float64
    assert not z.requires_grad          # like torch: the result is a fresh constant
    assert_exact(z, np.full((2, 3), fill))
    x32 = hd.tensor(np.ones(2, dtype=np.float32))
    assert maker(x32).dtype == np.float32
    assert maker(x, requires_grad=True).requires_grad


def test_randn_shapes_dtype_and_size_keyword():
    a = hd.randn(size=(1,), requires_grad=True)       # the chapter's PyTorch call
    assert a.shape == (1,)
    assert a.requires_grad and a.grad is None
    assert a.dtype == np.float64
    assert hd.randn(2, 3).shape == (2, 3)
    assert hd.randn((2, 3)).shape == (2, 3)
    assert hd.randn(4).dtype == np.float64
    assert hd.randn(3, dtype=np.float32).dtype == np.float32


def test_randn_is_standard_normal_and_seedable():
    hd.manual_seed(123)
    a = val(hd.randn(20000))
    hd.manual_seed(123)
    b = val(hd.randn(20000))
    np.testing.assert_array_equal(a, b)
    # mean ~ N(0, 1/n), std of sample std ~ 1/sqrt(2n): 6-sigma bounds, fails only if it is not N(0, 1)
    assert abs(a.mean()) < 6 / np.sqrt(20000)
    assert abs(a.std() - 1.0) < 6 / np.sqrt(2 * 20000)


# ----------------------------------------------------------------------------------------------------------------
# the simple example (PyTorch tab)


def test_grad_is_none_until_backward():
    x = hd.arange(4.0, requires_grad=True)
    assert x.grad is None
    y = 2 * hd.dot(x, x)
    assert x.grad is None          # building the graph does not touch .grad
    y.backward()
    assert x.grad is not None


def test_grad_of_two_x_dot_x_is_four_x():
    x = hd.arange(4.0, requires_grad=True)
    y = 2 * hd.dot(x, x)
    assert y.shape == ()
    assert float(y) == 28.0        # 2 * (0 + 1 + 4 + 9)
    y.backward()
    assert isinstance(x.grad, hd.Tensor)
    assert_exact(x.grad, [0.0, 4.0, 8.0, 12.0])


def test_grad_equals_four_x_is_an_elementwise_boolean_tensor():
    x = hd.arange(4.0, requires_grad=True)
    (2 * hd.dot(x, x)).backward()
    eq = x.grad == 4 * x
    assert isinstance(eq, hd.Tensor)
    assert eq.dtype == np.bool_
    assert eq.shape == (4,)
    assert not eq.requires_grad
    np.testing.assert_array_equal(val(eq), [True, True, True, True])
    assert bool(np.all(eq))
    # and it really is elementwise: a wrong entry shows up as False in its place
    wrong = x.grad == hd.tensor([0.0, 4.0, 0.0, 12.0])
    np.testing.assert_array_equal(val(wrong), [True, True, False, True])


def test_elementwise_equality_all_method():
    x = hd.arange(4.0, requires_grad=True)
    (2 * hd.dot(x, x)).backward()
    assert bool((x.grad == 4 * x).all())
    assert not bool((x.grad == 0 * x).all())
    assert bool((x.grad == 0 * x).any())


def test_backward_accumulates_by_default_and_zero_clears():
    x = hd.arange(4.0, requires_grad=True)
    (2 * hd.dot(x, x)).backward()
    x.sum().backward()
    assert_exact(x.grad, [1.0, 5.0, 9.0, 13.0])     # 4x + 1: PyTorch accumulates
    g = x.grad
    x.grad.zero_()
    assert x.grad is g                              # in place: the same tensor
    assert_exact(x.grad, [0.0, 0.0, 0.0, 0.0])
    y = x.sum()
    y.backward()
    assert_exact(x.grad, [1.0, 1.0, 1.0, 1.0])      # grad of x.sum() is ones


def test_backward_with_explicit_gradient_gives_vjp():
    x = hd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x                                       # J = diag(2x)
    y.backward(gradient=np.array([1.0, 0.0, -1.0]))
    assert_exact(x.grad, [2.0, 0.0, -6.0])
    x.grad = None
    y = x * x
    y.backward(hd.tensor([0.5, 1.0, 2.0]))
    assert_exact(x.grad, [1.0, 4.0, 12.0])


def test_backward_gradient_of_wrong_shape_is_refused():
    x = hd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2,\)"):
        (x * x).backward(np.ones(2))


def test_non_scalar_backward_error_names_shape_and_both_fixes():
    x = hd.arange(4.0, requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError) as info:
        y.backward()
    msg = str(info.value)
    assert "(4,)" in msg
    assert "y.sum().backward()" in msg
    assert "y.backward(gradient)" in msg
    assert x.grad is None           # nothing was written
    y = hd.ones(2, 3, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()


def test_single_element_non_scalar_backward_is_allowed():
    a = hd.tensor([3.0], requires_grad=True)
    (a * a).backward()
    assert_exact(a.grad, [6.0])


def test_mxnet_implicit_sum_backward():
    x = hd.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = x * x                   # a vector
    autograd.backward(y)            # MXNet: the gradient of y.sum()
    assert_exact(x.grad, [0.0, 2.0, 4.0, 6.0])
    # the chapter's check: same as the gradient of the explicit sum
    u = x.copy()
    u.attach_grad()
    with autograd.record():
        v = (u * u).sum()
    v.backward()
    np.testing.assert_array_equal(val(x.grad == u.grad), [True] * 4)


def test_mxnet_backward_with_head_grads():
    x = hd.tensor([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = x * x
    autograd.backward(y, head_grads=hd.tensor([2.0, 1.0, 0.0]))
    assert_exact(x.grad, [4.0, 4.0, 0.0])


# ----------------------------------------------------------------------------------------------------------------
# MXNet's attach_grad


def test_attach_grad_starts_as_zeros():
    x = hd.arange(4.0)
    assert x.grad is None
    x.attach_grad()
    assert x.requires_grad
    assert isinstance(x.grad, hd.Tensor)
    assert x.grad.dtype == np.float64
    assert_exact(x.grad, [0.0, 0.0, 0.0, 0.0])


def test_attach_grad_write_is_default_and_overwrites():
    x = hd.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = 2 * hd.dot(x, x)
    y.backward()
    assert_exact(x.grad, [0.0, 4.0, 8.0, 12.0])
    with autograd.record():
        y = x.sum()
    y.backward()
    assert_exact(x.grad, [1.0, 1.0, 1.0, 1.0])      # overwritten, not 4x + 1


def test_attach_grad_write_overwrites_even_with_retain_graph():
    x = hd.tensor([1.0, 2.0])
    x.attach_grad("write")
    with autograd.record():
        y = (x * x * x).sum()                       # grad 3x^2
    y.backward(retain_graph=True)
    y.backward()
    assert_exact(x.grad, [3.0, 12.0])


def test_attach_grad_add_accumulates():
    x = hd.arange(4.0)
    x.attach_grad(grad_req="add")
    for _ in range(3):
        with autograd.record():
            y = 2 * hd.dot(x, x)
        y.backward()
    assert_exact(x.grad, [0.0, 12.0, 24.0, 36.0])   # 3 * 4x


def test_attach_grad_rejects_unknown_grad_req():
    x = hd.arange(3.0)
    with pytest.raises(ValueError, match="grad_req"):
        x.attach_grad("sometimes")


# ----------------------------------------------------------------------------------------------------------------
# backward twice, retain_graph


def test_second_backward_raises_about_freed_values_and_retain_graph():
    x = hd.arange(4.0, requires_grad=True)
    y = 2 * hd.dot(x, x)
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    msg = str(info.value)
    assert "freed" in msg
    assert "retain_graph=True" in msg
    assert_exact(x.grad, [0.0, 4.0, 8.0, 12.0])     # the failed call added nothing


def test_second_mxnet_backward_raises_too():
    x = hd.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = x * x
    autograd.backward(y)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        autograd.backward(y)


def test_retain_graph_allows_second_backward_and_accumulates():
    x = hd.arange(4.0, requires_grad=True)
    y = 2 * hd.dot(x, x)
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    assert_exact(x.grad, [0.0, 8.0, 16.0, 24.0])    # 4x + 4x
    y.backward()                                     # the last one may free
    assert_exact(x.grad, [0.0, 12.0, 24.0, 36.0])
    with pytest.raises(RuntimeError, match="freed"):
        y.backward()


def test_backward_through_shared_subgraph_freed_by_other_output():
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 3.0).sum().backward()                  # h's saved values are gone


# ----------------------------------------------------------------------------------------------------------------
# detach


def test_detach_pytorch_tab():
    x = hd.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    assert not u.requires_grad
    assert u.is_leaf
    z = u * x
    z.sum().backward()
    assert_exact(x.grad, [0.0, 1.0, 4.0, 9.0])      # x.grad == u, not 3x^2
    np.testing.assert_array_equal(val(x.grad == u), [True] * 4)
    x.grad.zero_()
    y.sum().backward()
    np.testing.assert_array_equal(val(x.grad == 2 * x), [True] * 4)
    assert_exact(x.grad, [0.0, 2.0, 4.0, 6.0])


def test_detach_mxnet_tab():
    x = hd.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = x * x
        u = y.detach()
        z = u * x
    autograd.backward(z)                            # MXNet's z.backward() sums a vector head
    np.testing.assert_array_equal(val(x.grad == u), [True] * 4)
    assert_exact(x.grad, [0.0, 1.0, 4.0, 9.0])
    autograd.backward(y)
    np.testing.assert_array_equal(val(x.grad == 2 * x), [True] * 4)


# ----------------------------------------------------------------------------------------------------------------
# Python control flow


def f_torch(a):
    b = a * 2
    while b.norm().item() < 1000:
        b = b * 2
    if b.sum().item() > 0:
        c = b
    else:
        c = 100 * b
    return c


def f_mxnet(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def slope(a):
    """The k with f(a) = k * a, worked out by hand: the number of doublings until ||2^m a|| >= 1000, times 100
    when the sum is not positive. Every power of two and 100 * 2^m is exact in float64."""
    a = np.asarray(a, dtype=float)
    k = 2.0
    while np.linalg.norm(k * a) < 1000:
        k *= 2.0
    return k if (k * a).sum() > 0 else 100.0 * k


def check_control_flow_grad(a, d):
    k = slope(val(a))
    # the gradient of a piecewise-linear f is exactly k everywhere
    assert_exact(a.grad, np.full(a.shape, k))
    ratio = val(d) / val(a)
    if k == 2.0 ** round(np.log2(k)):
        # d = 2^m a is exact, so the chapter's a.grad == d / a holds bit for bit
        np.testing.assert_array_equal(val(a.grad == d / a), np.ones(a.shape, bool))
    else:
        # d = 100 * (2^m a) is rounded once, so d / a is k to within an ulp or two
        np.testing.assert_allclose(ratio, val(a.grad), rtol=4e-16)


@pytest.mark.parametrize("seed", range(6))
def test_control_flow_pytorch_tab_random_scalar(seed):
    hd.manual_seed(seed)
    a = hd.randn(size=(1,), requires_grad=True)
    d = f_torch(a)
    d.backward()
    check_control_flow_grad(a, d)


@pytest.mark.parametrize("a0", [0.37, -0.37, 1e-3, -2.5])
def test_control_flow_pytorch_tab_both_branches(a0):
    a = hd.tensor([a0], requires_grad=True)
    d = f_torch(a)
    d.backward()
    check_control_flow_grad(a, d)
    expected_branch_100 = a0 < 0
    assert (slope([a0]) % 100 == 0) == expected_branch_100


@pytest.mark.parametrize("seed", range(6))
def test_control_flow_mxnet_tab_random_scalar(seed):
    a = hd.tensor(np.random.default_rng(seed).normal())     # MXNet: a = np.random.normal()
    a.attach_grad()
    with autograd.record():
        d = f_mxnet(a)
    d.backward()
    assert a.shape == () and d.shape == ()
    check_control_flow_grad(a, d)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (4, 1)])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("f", [f_torch, f_mxnet], ids=["torch", "mxnet"])
def test_control_flow_vector_or_matrix_a(f, shape, seed):
    """The exercise: for a vector or matrix a, d = f(a) is an array with one scalar k: d = k a, so the implicit-sum
    backward gives a.grad = k everywhere, which is d / a elementwise."""
    hd.manual_seed(100 + seed)
    a = hd.randn(*shape, requires_grad=True)
    d = f(a)
    assert d.shape == shape
    hd.autograd.backward(d)
    check_control_flow_grad(a, d)


def test_bool_and_comparisons_of_one_element_tensors():
    t = hd.tensor([2.5], requires_grad=True)
    assert bool(t > 0) is True
    assert bool(t < 0) is False
    assert bool(hd.tensor(0.0)) is False
    assert bool(hd.tensor([1.0])) is True
    assert (t >= 2.5) and (t <= 2.5) and (t == 2.5) and not (t != 2.5)  # noqa: SIM202 - testing __ne__
    steps = 0
    while t < 40:                       # a comparison drives a while loop
        t = t * 2
        steps += 1
    assert steps == 4                   # 2.5 -> 5 -> 10 -> 20 -> 40
    with pytest.raises(ValueError):
        bool(hd.tensor([1.0, 2.0]))     # ambiguous, as in numpy and torch


def test_python_scalars_from_tensors():
    t = hd.tensor([1.5], requires_grad=True)
    assert t.item() == 1.5 and isinstance(t.item(), float)
    assert (t * 2).item() == 3.0
    assert float((t * 2).sum()) == 3.0
    assert int(hd.tensor(3.0)) == 3


# ----------------------------------------------------------------------------------------------------------------
# no_grad and the MXNet autograd module


def test_no_grad_records_nothing():
    x = hd.ones(3, requires_grad=True)
    with hd.no_grad():
        assert not hd.is_grad_enabled()
        y = x * 2
        z = np.sin(x).sum()
    assert hd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert not z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.backward()
    assert x.grad is None


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = hd.ones(2, requires_grad=True)

    @hd.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert (x * 2).requires_grad
    with hd.no_grad():
        with hd.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_set_grad_enabled_context():
    x = hd.ones(2, requires_grad=True)
    with hd.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_is_training_and_is_recording():
    assert autograd.is_training() is False
    assert autograd.is_recording() is False
    with autograd.record():
        assert autograd.is_training() is True
        assert autograd.is_recording() is True
        with autograd.pause():
            assert autograd.is_recording() is False
            assert autograd.is_training() is False
        assert autograd.is_recording() is True
        with autograd.predict_mode():
            assert autograd.is_training() is False
            assert autograd.is_recording() is True
    assert autograd.is_training() is False
    with autograd.train_mode():
        assert autograd.is_training() is True
        assert autograd.is_recording() is False
    with autograd.record(train_mode=False):
        assert autograd.is_recording() is True
        assert autograd.is_training() is False


def test_pause_records_nothing_inside_record():
    x = hd.tensor([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * x
        with autograd.pause():
            c = x * 10.0                            # a constant to the graph
        z = (y * c).sum()                           # d/dx 10 x^3 treated as c * x^2 -> 2 c x = 20 x^2
    z.backward()
    assert not c.requires_grad
    assert_exact(x.grad, [20.0, 80.0])


def test_mode_state_is_per_thread():
    """A no_grad / record scope open in one thread leaves the other thread's modes alone, both ways round."""
    seen = {}
    main_in_scope = threading.Event()
    worker_checked = threading.Event()
    worker_in_scope = threading.Event()
    main_checked = threading.Event()

    def worker():
        # phase 1: the main thread is inside no_grad() + record(train_mode=False)... nothing of it shows here
        assert main_in_scope.wait(10)
        x = hd.ones(2, requires_grad=True)
        seen["w_grad_enabled"] = hd.is_grad_enabled()
        seen["w_records"] = (x * 2).requires_grad
        seen["w_is_recording"] = autograd.is_recording()
        seen["w_is_training"] = autograd.is_training()
        worker_checked.set()
        # phase 2: this thread holds no_grad() + train_mode() open while the main thread looks
        with hd.no_grad(), autograd.train_mode():
            seen["w_inside"] = (hd.is_grad_enabled(), (x * 2).requires_grad, autograd.is_training())
            worker_in_scope.set()
            assert main_checked.wait(10)

    th = threading.Thread(target=worker, daemon=True)
    th.start()
    with autograd.record(), autograd.pause(train_mode=True), hd.no_grad():
        assert not hd.is_grad_enabled() and autograd.is_training()
        main_in_scope.set()
        assert worker_checked.wait(10)
    assert worker_in_scope.wait(10)
    seen["m_grad_enabled"] = hd.is_grad_enabled()
    seen["m_records"] = (hd.ones(1, requires_grad=True) * 2).requires_grad
    seen["m_is_training"] = autograd.is_training()
    main_checked.set()
    th.join(10)
    assert not th.is_alive()
    assert seen == {"w_grad_enabled": True, "w_records": True, "w_is_recording": False, "w_is_training": False,
                    "w_inside": (False, False, True),
                    "m_grad_enabled": True, "m_records": True, "m_is_training": False}


def test_autograd_grad_leaves_dot_grad_alone():
    x = hd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = autograd.grad((x * x).sum(), [x])
    assert_exact(g, [2.0, 4.0, 6.0])
    assert x.grad is None


def test_autograd_grad_create_graph_second_derivative():
    # y = sum(sin(x) x^3); dy/dx = cos(x) x^3 + 3 x^2 sin(x);
    # d2y/dx2 = -sin(x) x^3 + 6 x^2 cos(x) + 6 x sin(x) (elementwise: the Hessian is diagonal)
    xv = np.array([0.3, -1.2, 2.0])
    x = hd.tensor(xv, requires_grad=True)
    y = (np.sin(x) * x ** 3).sum()
    (g,) = hd.autograd.grad(y, [x], create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(val(g), np.cos(xv) * xv ** 3 + 3 * xv ** 2 * np.sin(xv), rtol=RTOL)
    assert x.grad is None
    g.sum().backward()
    np.testing.assert_allclose(val(x.grad), -np.sin(xv) * xv ** 3 + 6 * xv ** 2 * np.cos(xv) + 6 * xv * np.sin(xv),
                               rtol=RTOL)


def test_backward_create_graph_then_differentiate_grad():
    # y = sum(x^4): grad 4 x^3, second derivative 12 x^2
    xv = np.array([0.5, -1.5, 2.0])
    x = hd.tensor(xv, requires_grad=True)
    (x ** 4).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(val(g), 4 * xv ** 3, rtol=RTOL)
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(val(x.grad), 12 * xv ** 2, rtol=RTOL)


def test_autograd_grad_third_derivative_through_tape():
    # y = x^5 at x = 1.5: 5 x^4, 20 x^3, 60 x^2
    x = hd.tensor(1.5, requires_grad=True)
    (g1,) = autograd.grad(x ** 5, [x], create_graph=True)
    (g2,) = autograd.grad(g1, [x], create_graph=True)
    (g3,) = autograd.grad(g2, [x])
    np.testing.assert_allclose([float(g1), float(g2), float(g3)], [5 * 1.5 ** 4, 20 * 1.5 ** 3, 60 * 1.5 ** 2],
                               rtol=RTOL)


# ----------------------------------------------------------------------------------------------------------------
# dtypes


@pytest.mark.parametrize("make", [lambda: hd.tensor([1, 2, 3], requires_grad=True),
                                  lambda: hd.arange(4, requires_grad=True),
                                  lambda: hd.zeros(3, dtype=np.int32, requires_grad=True),
                                  lambda: hd.tensor([True, False], requires_grad=True)],
                         ids=["tensor-int", "arange-int", "zeros-int32", "tensor-bool"])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError) as info:
        make()
    msg = str(info.value)
    assert "floating" in msg
    assert "int" in msg or "bool" in msg


def test_integer_tensor_attach_grad_refused_but_usable_without_grad():
    x = hd.tensor([1, 2, 3])
    assert x.dtype.kind == "i"
    with pytest.raises(TypeError, match="floating"):
        x.attach_grad()
    with pytest.raises(TypeError, match="floating"):
        x.requires_grad_()
    assert not x.requires_grad
    assert_exact(x * 2, [2, 4, 6])


def test_float64_is_the_default():
    assert hd.tensor([1.0, 2.0]).dtype == np.float64
    assert hd.tensor(1.0).dtype == np.float64
    assert hd.arange(4.0).dtype == np.float64
    assert hd.zeros(2).dtype == np.float64
    assert hd.ones(2).dtype == np.float64
    assert hd.randn(2).dtype == np.float64
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype == np.float64


F32_OPS = {
    "mul": lambda t: (t * 2.0).sum(),
    "sin": lambda t: np.sin(t).sum(),
    "exp": lambda t: hd.exp(t).sum(),
    "div": lambda t: (1.0 / t).sum(),
    "pow2": lambda t: (t ** 2).sum(),
    "mean": lambda t: t.mean(),
    "norm": lambda t: t.norm(),
    "dot": lambda t: hd.dot(t, t),
    "max": lambda t: t.max(),
    "slice": lambda t: t[1:].sum(),
    "pow3": lambda t: (t ** 3).sum(),
    "pow-half": lambda t: (t ** 0.5).sum(),
    "rpow": lambda t: (2.0 ** t).sum(),
}
@pytest.mark.parametrize("name", [pytest.param(n, marks=()) if n in ("pow3", "pow-half", "rpow") else n
                                  for n in F32_OPS])
def test_float32_stays_float32_through_ops_and_grads(name):
    f = F32_OPS[name]
    x = hd.tensor(np.array([0.5, 1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = f(x)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
    (g,) = autograd.grad(f(x), [x], create_graph=True)   # the recorded gradient, too
    assert g.dtype == np.float32


def test_float32_creation():
    assert hd.tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert hd.ones(3, dtype=np.float32).dtype == np.float32
    assert hd.arange(4.0, dtype=np.float32).dtype == np.float32
    x = hd.tensor(np.ones(2, dtype=np.float32))
    x.attach_grad()
    assert x.grad.dtype == np.float32


def test_float32_numpy_scalar_stays_float32():
    assert hd.tensor(np.float32(1.5), requires_grad=True).dtype == np.float32


# ----------------------------------------------------------------------------------------------------------------
# in-place updates


def test_optimizer_step_under_no_grad_keeps_leaf():
    w = hd.tensor([1.0, -2.0], requires_grad=True)
    lr = 0.25
    for step in range(3):
        loss = (w * w).sum()        # grad 2w: w <- w - lr 2w = w / 2
        loss.backward()
        with hd.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
        assert w.is_leaf
        assert w.requires_grad
        assert w.grad_fn is None
    assert_exact(w, [1.0 / 8, -2.0 / 8])
    # and it still trains: the next backward reaches it
    (w * w).sum().backward()
    assert_exact(w.grad, [0.25, -0.5])


def test_inplace_under_no_grad_keeps_identity():
    w = hd.tensor([1.0, 2.0], requires_grad=True)
    ident = id(w)
    with hd.no_grad():
        w += 1.0
        w *= 2.0
        w /= 4.0
    assert id(w) == ident
    assert_exact(w, [1.0, 1.5])


@pytest.mark.parametrize("op", ["iadd", "isub", "imul", "itruediv"])
def test_inplace_on_leaf_requiring_grad_while_recording_raises(op):
    w = hd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        if op == "iadd":
            w += 1.0
        elif op == "isub":
            w -= 1.0
        elif op == "imul":
            w *= 2.0
        else:
            w /= 2.0
    assert_exact(w, [1.0, 2.0])


def test_inplace_on_attached_leaf_inside_record_raises():
    w = hd.tensor([1.0, 2.0])
    w.attach_grad()
    with autograd.record(), pytest.raises(RuntimeError):
        w += 1.0


def test_inplace_on_non_leaf_is_recorded():
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y += x                          # y = 4x, a new recorded value
    y.sum().backward()
    assert_exact(x.grad, [4.0, 4.0])


# ----------------------------------------------------------------------------------------------------------------
# conversion to numpy


def test_asarray_of_tensor_requiring_grad_raises():
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="detach"):
        np.asarray(x)
    with pytest.raises(TypeError):
        np.array(x * 2)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()


def test_detach_numpy_works():
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    a = x.detach().numpy()
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, [1.0, 2.0])
    b = np.asarray((x * 2).detach())
    np.testing.assert_array_equal(b, [2.0, 4.0])
    np.testing.assert_array_equal(np.asarray(hd.tensor([3.0])), [3.0])   # no grad: converts freely


# ----------------------------------------------------------------------------------------------------------------
# a few more things a new user tries


def test_operations_on_plain_tensors_record_nothing():
    a = hd.tensor([1.0, 2.0])
    b = a * 2 + np.sin(a)
    assert isinstance(b, hd.Tensor)
    assert not b.requires_grad and b.grad_fn is None


def test_mxnet_backward_of_several_heads():
    # heads y1 = 2x (a vector: implicit sum) and y2 = sum(x^2): gradient 2 + 2x
    x = hd.tensor([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y1 = x * 2
        y2 = (x * x).sum()
    autograd.backward([y1, y2])
    assert_exact(x.grad, [4.0, 6.0])
    # with head gradients 2 and 1 on sum(x^2) and sum(3x): 4x + 3
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    autograd.backward([(x * x).sum(), (x * 3).sum()], head_grads=[hd.tensor(2.0), hd.tensor(1.0)])
    assert_exact(x.grad, [7.0, 11.0])


def test_grad_of_matrix_product_sum():
    # d/dX_kl sum(X @ X) = rowsum(X)_l + colsum(X)_k
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = hd.tensor(X, requires_grad=True)
    (x @ x).sum().backward()
    assert_exact(x.grad, X.sum(axis=1)[None, :] + X.sum(axis=0)[:, None])


def test_autograd_grad_with_respect_to_intermediate_and_leaf():
    # y = sum(3 h), h = x^2: dy/dh = 3, dy/dx = 6 x
    x = hd.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    gh, gx = autograd.grad((h * 3).sum(), [h, x])
    assert_exact(gh, [3.0, 3.0])
    assert_exact(gx, [6.0, 12.0])


def test_backward_of_scalar_leaf_gives_one():
    x = hd.tensor(3.0, requires_grad=True)
    x.backward()
    assert_exact(x.grad, 1.0)
