"""Tensor API against PyTorch's documented semantics (issue 12 item 4): recorded item assignment, ``.data`` sharing
the value, ``backward(inputs=...)`` into non-leaf tensors, the ``.grad`` setter's checks. Expected gradients are
written out by hand from the formulas in each test."""
import copy
import pickle

import numpy as np
import pytest

import hodiff as hd


def vals(t):
    return np.asarray(t.detach().numpy() if isinstance(t, hd.Tensor) else t)


def w12():
    return hd.tensor([1.0, 2.0], requires_grad=True)


# ----------------------------------------------------------------------------------------------------------------
# item assignment records like PyTorch's index_put / copy_


def test_setitem_of_a_value_requiring_grad_into_a_plain_tensor_is_recorded():
    w = w12()
    a = hd.tensor(np.zeros(2))
    a[0] = w[0] * 3
    assert a.requires_grad and not a.is_leaf
    (a.sum() + (w * 0).sum()).backward()
    np.testing.assert_array_equal(vals(w.grad), [3.0, 0.0])


def test_setitem_slices_and_weights():
    # a = [3 w0, w0^2, w1^2]; loss = a . [1, 2, 3] -> dw0 = 3 + 4 w0, dw1 = 6 w1
    w = w12()
    a = hd.zeros(3)
    a[0] = w[0] * 3
    a[1:] = w ** 2
    np.testing.assert_array_equal(vals(a), [3.0, 1.0, 4.0])
    (a * hd.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(vals(w.grad), [3.0 + 4.0, 12.0])


def test_setitem_broadcasts_a_scalar_tensor_and_drops_leading_unit_axes():
    w = w12()
    a = hd.zeros((2, 3))
    a[1] = w[1]                          # broadcast to 3 elements
    a[0, :2] = w.reshape((1, 2))     # numpy accepts a leading unit axis
    np.testing.assert_array_equal(vals(a), [[1.0, 2.0, 0.0], [2.0, 2.0, 2.0]])
    a.sum().backward()
    np.testing.assert_array_equal(vals(w.grad), [1.0, 4.0])


def test_setitem_repeated_advanced_index_last_write_wins():
    w = w12()
    a = hd.zeros(2)
    a[[0, 0]] = w                        # numpy: a[0] = w[1]
    np.testing.assert_array_equal(vals(a), [2.0, 0.0])
    a.sum().backward()
    np.testing.assert_array_equal(vals(w.grad), [0.0, 1.0])


def test_setitem_boolean_mask_and_index_tensor():
    w = w12()
    a = hd.tensor([5.0, 6.0, 7.0])
    a[np.array([True, False, True])] = w * 10
    a[hd.tensor([1])] = w[0]
    np.testing.assert_array_equal(vals(a), [10.0, 1.0, 20.0])
    (a * a).sum().backward()             # 100 w0^2 + w0^2 + 100 w1^2
    np.testing.assert_allclose(vals(w.grad), [202.0, 400.0])


def test_setitem_into_a_non_leaf_overwrites_part_of_the_graph():
    w = w12()
    h = w * 2
    h[0] = 0.0
    assert not h.is_leaf
    h.sum().backward()
    np.testing.assert_array_equal(vals(w.grad), [0.0, 2.0])


def test_setitem_keeps_identity_and_earlier_results():
    w = w12()
    a = hd.zeros(2)
    alias = a
    b = a * 1.0                          # computed before the assignment: unaffected
    a[1] = w[1]
    assert alias is a and alias.requires_grad
    np.testing.assert_array_equal(vals(b), [0.0, 0.0])


def test_setitem_into_a_leaf_requiring_grad_refused_while_recording_allowed_under_no_grad():
    w = w12()
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 5.0
    np.testing.assert_array_equal(vals(w), [1.0, 2.0])
    with hd.no_grad():
        w[0] = 5.0
    assert w.is_leaf and w.requires_grad
    (w * w).sum().backward()
    np.testing.assert_array_equal(vals(w.grad), [10.0, 4.0])


def test_setitem_under_no_grad_is_not_recorded():
    w = w12()
    a = hd.zeros(2)
    with hd.no_grad():
        a[0] = w[0] * 3
    assert not a.requires_grad and a.is_leaf
    np.testing.assert_array_equal(vals(a), [3.0, 0.0])


def test_setitem_refuses_a_derivative_into_integer_or_narrower_tensors():
    w = w12()
    with pytest.raises(TypeError, match="floating-point"):
        hd.tensor([1, 2])[0] = w[0]
    with pytest.raises(TypeError, match="dtype"):
        hd.zeros(2, dtype=np.float32)[0] = w[0]
    a = hd.zeros(2, dtype=np.float32)
    a[0] = 3.0                           # a plain value is converted, as numpy does
    assert a.dtype == np.float32


def test_setitem_does_not_change_values_saved_on_the_tape():
    w = w12()
    c = hd.tensor([3.0, 4.0])
    y = (w * c).sum()                    # the tape saves c for dw
    c[0] = 100.0
    y.backward()
    np.testing.assert_array_equal(vals(w.grad), [3.0, 4.0])


def test_setitem_inside_grad_and_hessian_transforms():
    def f(x):
        a = hd.zeros(3)
        a[1] = x[0] * 2
        a[2] = np.sin(x[1])
        return a.sum()                   # 2 x0 + sin x1

    x = np.array([0.5, 2.0])
    np.testing.assert_allclose(hd.grad(f)(x), [2.0, np.cos(2.0)], rtol=1e-14)
    np.testing.assert_allclose(hd.hessian(f)(x), [[0.0, 0.0], [0.0, -np.sin(2.0)]], rtol=1e-14, atol=1e-15)


def test_setitem_of_a_forward_mode_value_is_refused_not_dropped():
    def f(x):
        a = hd.zeros(2)
        a[0] = x[0] * 2
        return a.sum()

    with pytest.raises(TypeError, match="forward-mode"):
        hd.jvp(f, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))


def test_inplace_operator_with_a_value_requiring_grad_keeps_identity():
    w = w12()
    a = hd.zeros(2)
    alias = a
    a += w * 3
    assert alias is a and a.requires_grad
    a.sum().backward()
    np.testing.assert_array_equal(vals(w.grad), [3.0, 3.0])


def test_copy_and_fill_are_recorded():
    w = w12()
    a = hd.zeros(2)
    a.copy_(w * 2)
    b = hd.zeros(2).fill_(w[1])
    (a.sum() + b.sum()).backward()       # 2 w0 + 2 w1 + 2 w1
    np.testing.assert_array_equal(vals(w.grad), [2.0, 4.0])


# ----------------------------------------------------------------------------------------------------------------
# .data and detach() share the value


def test_data_write_changes_the_tensor():
    w = w12()
    w.data[0] = 5.0
    np.testing.assert_array_equal(vals(w), [5.0, 2.0])
    assert w.is_leaf and w.requires_grad


def test_data_inplace_update_and_zero():
    w = w12()
    w.data -= 0.5                        # an optimizer step through .data
    np.testing.assert_array_equal(vals(w), [0.5, 1.5])
    w.data.zero_()
    np.testing.assert_array_equal(vals(w), [0.0, 0.0])


def test_tensors_sharing_a_value_see_each_others_writes():
    w = w12()
    d, e = w.data, w.detach()
    with hd.no_grad():
        w += 1.0
    np.testing.assert_array_equal(vals(d), [2.0, 3.0])
    np.testing.assert_array_equal(vals(e), [2.0, 3.0])
    e[1] = 7.0
    np.testing.assert_array_equal(vals(w), [2.0, 7.0])
    np.testing.assert_array_equal(vals(d), [2.0, 7.0])
    assert np.shares_memory(d.numpy(), e.numpy())


def test_data_write_after_recording_keeps_the_recorded_values_for_backward():
    w = w12()
    y = (w * w).sum()
    w.data[0] = 5.0
    y.backward()                         # d/dw sum(w^2) at the recorded w = [1, 2]
    np.testing.assert_array_equal(vals(w.grad), [2.0, 4.0])


def test_data_setter_checks_shape_and_dtype():
    w = w12()
    w.data = np.array([3.0, 4.0])
    np.testing.assert_array_equal(vals(w), [3.0, 4.0])
    with pytest.raises(ValueError, match="shape"):
        w.data = np.zeros(3)


# ----------------------------------------------------------------------------------------------------------------
# backward(inputs=...)


def test_backward_inputs_non_leaf_gets_its_grad():
    w = w12()
    h = w * 2
    (h * h).sum().backward(inputs=[h])   # d/dh sum(h^2) = 2 h = [4, 8]
    np.testing.assert_array_equal(vals(h.grad), [4.0, 8.0])
    assert w.grad is None                # only the inputs receive gradients


def test_backward_inputs_leaf_and_non_leaf_accumulate():
    w = w12()
    h = w * 2
    y = (h * h).sum()                    # dy/dw = 8 w
    y.backward(inputs=[w, h], retain_graph=True)
    y.backward(inputs=(h,))
    np.testing.assert_array_equal(vals(w.grad), [8.0, 16.0])
    np.testing.assert_array_equal(vals(h.grad), [8.0, 16.0])


def test_backward_inputs_single_tensor_and_create_graph():
    w = w12()
    h = w ** 2
    (h ** 2).sum().backward(inputs=h, create_graph=True)   # h.grad = 2 h = 2 w^2, still recorded
    h.grad.sum().backward(inputs=[w])                       # d/dw sum(2 w^2) = 4 w
    np.testing.assert_array_equal(vals(w.grad), [4.0, 8.0])


def test_backward_inputs_refusals():
    w = w12()
    y = (w * w).sum()
    with pytest.raises(ValueError, match="no tensors"):
        y.backward(inputs=[], retain_graph=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        y.backward(inputs=[hd.tensor([1.0])], retain_graph=True)
    with pytest.raises(TypeError):
        y.backward(inputs=[np.ones(2)], retain_graph=True)


def test_backward_inputs_unused_leaf_stays_none():
    w, u = w12(), w12()
    (w * w).sum().backward(inputs=[w, u])
    assert u.grad is None
    np.testing.assert_array_equal(vals(w.grad), [2.0, 4.0])


# ----------------------------------------------------------------------------------------------------------------
# the .grad setter


def test_grad_setter_refuses_wrong_shape_dtype_and_type():
    w = w12()
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        w.grad = hd.tensor(np.zeros(5))
    with pytest.raises(RuntimeError, match="dtype"):
        w.grad = hd.tensor(np.zeros(2, dtype=np.float32))
    with pytest.raises(TypeError, match="hd.tensor"):
        w.grad = np.zeros(2)
    assert w.grad is None


def test_grad_setter_accepts_matching_tensor_and_none_and_accumulates_on_it():
    w = w12()
    w.grad = hd.tensor([10.0, 20.0])
    (w * w).sum().backward()
    np.testing.assert_array_equal(vals(w.grad), [12.0, 24.0])
    w.grad = None
    assert w.grad is None


# ----------------------------------------------------------------------------------------------------------------
# pickling and copying leaves (the shared-value group must not get in the way)


def test_pickle_and_deepcopy_of_leaves():
    w = w12()
    (w * w).sum().backward()
    for c in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w)):
        assert c.requires_grad and c.is_leaf
        np.testing.assert_array_equal(vals(c), [1.0, 2.0])
        np.testing.assert_array_equal(vals(c.grad), [2.0, 4.0])
        (c * 3).sum().backward()         # still an eager tensor that trains
        np.testing.assert_array_equal(vals(c.grad), [5.0, 7.0])
    with pytest.raises(RuntimeError, match="leaf"):
        pickle.dumps(w * 2)
