"""Finding 4 (issue 12 item 4): tensor API differs from PyTorch without an error."""
import numpy as np

import hodiff as hd
from _check import case, done, isclose


def setitem():
    w = hd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    a = hd.tensor(np.zeros(2))
    a[0] = w[0] * 3                     # PyTorch: a now requires grad, its graph goes through w
    (a.sum() + (w * 0).sum()).backward()
    return w.grad.numpy()


case("a[0] = w[0] * 3 into a tensor without grad; (a.sum() + 0 * w.sum()).backward(); w.grad", "[3, 0]",
     setitem, lambda got: isinstance(got, Exception) or not isclose(got, [3, 0]))


def data_write():
    w = hd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w.data[0] = 5.0                     # .data shares memory with w (documented)
    return w.detach().numpy().copy()


case("w.data[0] = 5.0; w's value", "[5, 2]", data_write, lambda got: not isclose(got, [5, 2]))


def inputs_non_leaf():
    w = hd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = w * 2
    (h * h).sum().backward(inputs=[h])
    return None if h.grad is None else h.grad.numpy()


case("h = 2 w; (h * h).sum().backward(inputs=[h]); h.grad", "[4, 8] (2 h)", inputs_non_leaf,
     lambda got: got is None or isinstance(got, Exception) or not isclose(got, [4, 8]))


def grad_setter():
    w = hd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w.grad = hd.tensor(np.zeros(5))
    return w.grad.shape


case("w.grad = a tensor of shape (5,) for w of shape (2,)", "an error naming the shape mismatch", grad_setter,
     lambda got: not isinstance(got, Exception))
done()
