"""Per-thread switches read by the eager tape: is gradient recording on, are we in training mode.

On the ground floor of the engine (next to ``engine.py``): the reverse interpreter reads :func:`is_grad_enabled`
when it records eager tensors; :mod:`hodiff.autograd` reads the recording and training switches.
``no_grad``/``enable_grad``/``set_grad_enabled`` follow PyTorch; ``record``/``pause``/``train_mode``/
``predict_mode`` (in :mod:`hodiff.autograd`) follow MXNet. Functional transforms (``hd.grad`` and friends) always
record on their own levels, whatever these switches say.

The switches are context variables, so each thread (and each asyncio task) has its own. A mode object is a context
manager and a decorator, and it can be entered again while it is already open, or from several threads at once:
every entry pushes the state it replaces on a per-context stack, and its exit restores exactly that state.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]

_grad_enabled = contextvars.ContextVar("hodiff_grad_enabled", default=True)
_recording = contextvars.ContextVar("hodiff_recording", default=False)
_training = contextvars.ContextVar("hodiff_training", default=False)

_VARS = {"grad": _grad_enabled, "recording": _recording, "training": _training}

# The open entries of this context, innermost last: (mode object, ((variable, value it replaced), ...)).
# Tuples, so a thread or task that inherits a copy of the context cannot disturb the original's stack.
_OPEN: contextvars.ContextVar[tuple] = contextvars.ContextVar("hodiff_open_modes", default=())

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require gradients are recorded in this thread.

    True unless inside :func:`no_grad`, ``set_grad_enabled(False)`` or :func:`hodiff.autograd.pause`.

    Examples
    --------
    >>> import hodiff as hd
    >>> with hd.no_grad():
    ...     print(hd.is_grad_enabled())
    False
    >>> hd.is_grad_enabled()
    True
    """
    return _grad_enabled.get()


class _Switch:
    """Set some switches for the duration of a ``with`` block or of each call of a decorated function.

    Re-entrant and shareable between threads: the state an entry replaces is kept on the per-context stack
    :data:`_OPEN`, so nested uses of one object, and uses from several threads at once, each restore what they
    found. Used as a decorator, each call of the function (or each step of a generator) runs inside the switch.
    """

    def __init__(self, **values: bool) -> None:
        self._values = tuple((_VARS[k], bool(v)) for k, v in values.items())

    def __enter__(self) -> _Switch:
        _OPEN.set(_OPEN.get() + ((self, tuple((var, var.get()) for var, _ in self._values)),))
        for var, value in self._values:
            var.set(value)
        return self

    def __exit__(self, *exc: object) -> None:
        stack = _OPEN.get()
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] is self:
                break
        else:
            raise RuntimeError(f"{self!r} was exited in a thread or context where it was not entered")
        for var, value in stack[i][1]:
            var.set(value)
        _OPEN.set(stack[:i] + stack[i + 1:])

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise TypeError(f"{type(self).__name__} decorates functions; got {type(func).__name__}")
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self, func)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(f"{type(self).__name__} cannot decorate the async function {func.__name__!r}: its body "
                            "runs after the call returns. Use `with` inside the function instead.")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        names = {v: k for k, v in _VARS.items()}
        return f"{type(self).__name__}({', '.join(f'{names[var]}={value}' for var, value in self._values)})"


def _wrap_generator(switch: _Switch, func: Callable[..., Any]) -> Callable[..., Any]:
    """A generator function whose body runs inside ``switch`` while it runs, but not while it is suspended."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                with switch:
                    item = gen.send(sent) if thrown is None else gen.throw(thrown)
            except StopIteration as stop:
                return stop.value
            sent = thrown = None
            try:
                sent = yield item
            except GeneratorExit:
                with switch:
                    gen.close()
                raise
            except BaseException as e:  # the caller's exception goes into the body, which runs inside the switch
                thrown = e

    return wrapper


class _NoParamSwitch(_Switch):
    """A switch whose class also works as a decorator without parentheses (``@hd.no_grad``)."""

    _FIXED: dict[str, bool] = {}

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        if func is None:
            return self
        self.__init__()  # type: ignore[misc]
        return self(func)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        super().__init__(**self._FIXED)


class no_grad(_NoParamSwitch):
    """Context manager and decorator: operations on tensors inside it record nothing (PyTorch's ``no_grad``).

    Used for evaluation and for updating parameters in place (an optimizer step). Grad mode is per thread: other
    threads keep theirs. One ``no_grad`` object can be reused, nested in itself and shared by threads; each exit
    restores the state its own entry found. ``@hd.no_grad()`` and ``@hd.no_grad`` both decorate a function (a
    generator function runs each step without grad).

    Examples
    --------
    >>> import hodiff as hd
    >>> x = hd.ones(3, requires_grad=True)
    >>> with hd.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    >>> @hd.no_grad()
    ... def evaluate(x):
    ...     return (x * x).sum()
    >>> evaluate(x).requires_grad
    False
    """

    _FIXED = {"grad": False}


class enable_grad(_NoParamSwitch):
    """Context manager and decorator: turn recording back on inside a :class:`no_grad` block.

    Examples
    --------
    >>> import hodiff as hd
    >>> x = hd.ones(3, requires_grad=True)
    >>> with hd.no_grad():
    ...     with hd.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    _FIXED = {"grad": True}


class set_grad_enabled(_Switch):
    """Turn recording on or off (``mode``): as a function call, as a context manager or as a decorator.

    Called as a function, ``hd.set_grad_enabled(False)`` switches recording off in this thread right away, until
    switched back. As a context manager, the state from before the call comes back at the end of the block. As a
    decorator, ``@hd.set_grad_enabled(False)`` leaves the current state alone and runs each call of the function
    with ``mode`` (PyTorch's semantics for all three).

    Parameters
    ----------
    mode : bool
        True to record, False not to.

    Examples
    --------
    >>> import hodiff as hd
    >>> x = hd.ones(2, requires_grad=True)
    >>> with hd.set_grad_enabled(False):
    ...     (x * 2).requires_grad
    False
    >>> _ = hd.set_grad_enabled(False)
    >>> hd.is_grad_enabled()
    False
    >>> _ = hd.set_grad_enabled(True)
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, (bool, int, np.bool_)):
            raise TypeError(f"set_grad_enabled(mode) takes a bool; got {type(mode).__name__}")
        super().__init__(grad=bool(mode))
        # the call itself switches; the first `with` in this thread then takes over restoring what it replaced
        self._pending: tuple[int, tuple] | None = (threading.get_ident(), ((_grad_enabled, _grad_enabled.get()),))
        _grad_enabled.set(bool(mode))

    def _take_pending(self) -> tuple | None:
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == threading.get_ident():
            return pending[1]
        self._pending = pending  # made in another thread: that thread's state is not ours to restore
        return None

    def __enter__(self) -> set_grad_enabled:
        prev = self._take_pending()
        if prev is None:
            return super().__enter__()  # type: ignore[return-value]
        _OPEN.set(_OPEN.get() + ((self, prev),))
        return self

    def __call__(self, func: F) -> F:
        prev = self._take_pending()
        if prev is not None:  # decorating must not change this thread's state
            for var, value in prev:
                var.set(value)
        return super().__call__(func)
