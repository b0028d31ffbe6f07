"""Engine events: the three moments an observer (the cost analysis) may watch, without patching anything.

On the ground floor beside ``engine``: the engine's hot paths emit, observers subscribe with :func:`subscribed`.

* ``PRIMITIVE_RAN``: a primitive was executed on plain values; handlers get ``(prim, args, params, ans)``.
* ``LEVEL_OPENED``: a forward or reverse transform level was created; handlers get the trace.
* ``SWEEP_STARTED``: a backward sweep is about to walk a tape; handlers get ``(roots, tape)`` (``tape`` is None for
  the eager level, whose graph is found from the roots).

Each event is a list of handlers that is empty when nobody listens, and the hot paths test it before anything
else (``if PRIMITIVE_RAN:``), so an unobserved engine pays one truth test of an empty list. The lists are only
mutated here, under a lock, and the emitters iterate over a snapshot, so a thread subscribing or leaving while
another emits is safe. Handlers run in the thread that emits; an observer that wants the events of one thread
only (the cost analysis does: two threads may count at once) filters by thread itself.
"""
from __future__ import annotations

import contextlib
import threading

__all__ = ["LEVEL_OPENED", "PRIMITIVE_RAN", "SWEEP_STARTED", "emit", "subscribed"]

PRIMITIVE_RAN: list = []
LEVEL_OPENED: list = []
SWEEP_STARTED: list = []

_lock = threading.Lock()


def emit(event, *payload):
    """Call every handler of ``event`` (one of the lists above) with ``payload``; callers test ``if event:`` first."""
    for handler in tuple(event):
        handler(*payload)


@contextlib.contextmanager
def subscribed(primitive_ran=None, level_opened=None, sweep_started=None):
    """Subscribe the given handlers for the duration of a ``with`` block (each may be None)."""
    pairs = [(ev, h) for ev, h in ((PRIMITIVE_RAN, primitive_ran), (LEVEL_OPENED, level_opened),
                                   (SWEEP_STARTED, sweep_started)) if h is not None]
    with _lock:
        for ev, h in pairs:
            ev.append(h)
    try:
        yield
    finally:
        with _lock:
            for ev, h in pairs:
                ev.remove(h)
