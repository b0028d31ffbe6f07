"""Per-thread (contextvars) switches read by the eager tape: is gradient recording on, are we in training mode.

``no_grad``/``enable_grad``/``set_grad_enabled`` follow PyTorch; ``record``/``pause``/``train_mode``/
``predict_mode`` (in :mod:`hodiff.autograd`) follow MXNet. Functional transforms (``hd.grad`` and friends) always
record on their own levels, whatever these switches say.
"""
from __future__ import annotations

import contextlib
import contextvars

_grad_enabled = contextvars.ContextVar("hodiff_grad_enabled", default=True)
_recording = contextvars.ContextVar("hodiff_recording", default=False)
_training = contextvars.ContextVar("hodiff_training", default=False)


def is_grad_enabled():
    """Whether operations on tensors that require gradients are recorded (True unless in ``no_grad``/``pause``)."""
    return _grad_enabled.get()


class _Switch(contextlib.ContextDecorator):
    """A context manager (and decorator) that sets context variables and restores them on exit."""

    def __init__(self, **values):
        self._values = values
        self._tokens = []

    def __enter__(self):
        for var, value in self._values.items():
            self._tokens.append((_VARS[var], _VARS[var].set(value)))
        return self

    def __exit__(self, *exc):
        while self._tokens:
            var, token = self._tokens.pop()
            var.reset(token)
        return False

    def _recreate_cm(self):
        return type(self).__new__(type(self))._init_copy(self._values)

    def _init_copy(self, values):
        self._values = values
        self._tokens = []
        return self


_VARS = {"grad": _grad_enabled, "recording": _recording, "training": _training}


def no_grad():
    """Context manager (or decorator): tensor operations inside record nothing.

    Examples
    --------
    >>> import hodiff as hd
    >>> x = hd.ones(3, requires_grad=True)
    >>> with hd.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    return _Switch(grad=False)


def enable_grad():
    """Context manager (or decorator): turn recording back on inside a ``no_grad`` block."""
    return _Switch(grad=True)


class set_grad_enabled(_Switch):
    """Turn recording on or off: as a function call for the rest of the thread, or as a context manager."""

    def __init__(self, mode):
        super().__init__(grad=bool(mode))
        self._token = _grad_enabled.set(bool(mode))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._token)
        return False


