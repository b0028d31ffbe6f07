"""MXNet-style ``autograd`` module over hodiff's eager tape.

``record()`` opens a recording scope in training mode, ``pause()`` stops recording inside one, ``train_mode()`` and
``predict_mode()`` set only the mode. ``is_recording()`` and ``is_training()`` report them (both ``False`` outside
``record()``). hodiff also records eager tensors that require gradients outside ``record()`` (PyTorch's default);
``pause()`` and :func:`hodiff.no_grad` turn that off. ``backward`` sums over non-scalar heads as MXNet does, and
``grad`` returns gradients without touching ``.grad``. Mode state is per thread (contextvars).

Examples
--------
>>> import hodiff as hd
>>> from hodiff import autograd
>>> x = hd.arange(4.0)
>>> x.attach_grad()
>>> with autograd.record():
...     y = x * x
>>> autograd.backward(y)          # MXNet: the gradient of y.sum()
>>> x.grad
tensor([0., 2., 4., 6.])
"""
from __future__ import annotations

from typing import Any

from ._src.core import modes as _modes
from ._src.interpreters.reverse import backward as _backward
from ._src.interpreters.reverse import grad as _grad

__all__ = [
    "backward",
    "grad",
    "is_recording",
    "is_training",
    "pause",
    "predict_mode",
    "record",
    "set_recording",
    "set_training",
    "train_mode",
]


def record(train_mode: bool = True) -> _modes._Switch:
    """Scope that records operations on tensors (and sets training mode unless ``train_mode=False``).

    A context manager and a decorator; one object can be reused, nested and shared by threads (the modes are
    per thread, and each exit restores what its entry found)."""
    return _modes._Switch(grad=True, recording=True, training=bool(train_mode))


def pause(train_mode: bool = False) -> _modes._Switch:
    """Scope inside ``record()`` where nothing is recorded (prediction mode unless ``train_mode=True``)."""
    return _modes._Switch(grad=False, recording=False, training=bool(train_mode))


def train_mode() -> _modes._Switch:
    """Scope in training mode (recording unchanged)."""
    return _modes._Switch(training=True)


def predict_mode() -> _modes._Switch:
    """Scope in prediction mode (recording unchanged)."""
    return _modes._Switch(training=False)


def is_recording() -> bool:
    """True inside ``record()`` (and not inside a ``pause()`` within it)."""
    return _modes._recording.get()


def is_training() -> bool:
    """True in training mode: inside ``record()`` or ``train_mode()``."""
    return _modes._training.get()


def set_recording(is_recording: bool) -> bool:
    """Turn recording on or off for the rest of this thread; returns the previous state."""
    prev = _modes._recording.get()
    _modes._recording.set(bool(is_recording))
    _modes._grad_enabled.set(bool(is_recording) or _modes._grad_enabled.get())
    return prev


def set_training(train_mode: bool) -> bool:
    """Turn training mode on or off for the rest of this thread; returns the previous state."""
    prev = _modes._training.get()
    _modes._training.set(bool(train_mode))
    return prev


def backward(heads: Any, head_grads: Any = None, retain_graph: bool = False, train_mode: bool = True,
             create_graph: bool = False) -> None:
    """Backpropagate from ``heads`` (a tensor or a list) into the ``.grad`` of the leaves.

    Unlike ``Tensor.backward``, a non-scalar head without ``head_grads`` is seeded with ones: the gradient of
    its sum, as in MXNet.
    """
    _backward(heads, head_grads, retain_graph=retain_graph, create_graph=create_graph, implicit_sum=True)


def grad(heads: Any, variables: Any, head_grads: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, train_mode: bool = True) -> list:
    """Gradients of ``heads`` with respect to ``variables`` as a list of tensors, leaving ``.grad`` alone.

    With ``create_graph=True`` the results are recorded and can be differentiated again.

    Examples
    --------
    >>> import hodiff as hd
    >>> x = hd.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = hd.autograd.grad((x ** 3).sum(), [x], create_graph=True)
    >>> g.sum().backward()
    >>> x.grad                      # d/dx sum(3 x^2) = 6 x
    tensor([ 6., 12.])
    """
    return _grad(heads, variables, head_grads=head_grads, retain_graph=retain_graph, create_graph=create_graph)
