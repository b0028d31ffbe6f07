"""One adapter per library. Each module defines ``NAME``, ``MODULES`` (what must be importable), ``setup()``,
``versions()`` and one function per problem returning ``{metric: [Variant, ...]}``. All adapters run the functions
of ``problems.py`` unchanged, only with their library's namespace."""
from __future__ import annotations

import numpy as np

LIBS = ("numpy", "hodiff", "hodiff-jit", "autograd", "mygrad", "jax", "jax-jit", "torch")
PEERS = ("autograd", "mygrad", "jax", "jax-jit", "torch")
MODULES = {"numpy": "numpy", "hodiff": "hodiff", "hodiff-jit": "hodiff", "autograd": "autograd", "mygrad": "mygrad",
           "jax": "jax", "jax-jit": "jax", "torch": "torch"}


class Variant:
    """One way of computing a metric with a library.

    ``fn()`` computes the derivative from the shared inputs (everything a user would do per call, e.g. wrapping
    the input in the library's tensor type, is inside); ``out(result)`` turns its result into a numpy array for the
    accuracy check. ``kind`` is "eager", "jit" (compile excluded by warm-up) or "hand". ``primary`` marks the
    variant whose number is reported as the library's figure (chosen in advance, not the fastest after the fact).
    ``memory`` says tracemalloc can see the library's allocations.

    Compiled variants may carry two more hooks. ``replay_check()`` returns None when the last call of ``fn`` ran
    the compiled code, else why it did not (the worker calls it after warm-up and after timing, and a variant that
    ran eagerly is reported as such). ``first_call`` is ``(fresh, eager)``: ``fresh()`` makes a new compiled
    function and returns ``(call, verify)``, where ``call()`` is its first call (trace + build/compile, timed by the
    worker) and ``verify()`` returns None when that call really traced afresh, else why not; ``eager()`` is one call
    of the same computation without compilation (the baseline of the first call's ratio).
    """

    def __init__(self, label, fn, out=None, kind="eager", primary=False, memory=False, replay_check=None,
                 first_call=None):
        self.label = label
        self.fn = fn
        self.out = out or (lambda r: np.asarray(r, dtype=np.float64))
        self.kind = kind
        self.primary = primary
        self.memory = memory
        self.replay_check = replay_check
        self.first_call = first_call


def load(lib):
    import importlib
    mod = {"numpy": "hand", "hodiff": "hodiff_peer", "hodiff-jit": "hodiff_peer", "autograd": "autograd_peer",
           "mygrad": "mygrad_peer", "jax": "jax_peer", "jax-jit": "jax_peer", "torch": "torch_peer"}[lib]
    m = importlib.import_module(f"peers.{mod}")
    if lib in ("jax-jit", "hodiff-jit"):
        m.JIT = True
    return m
