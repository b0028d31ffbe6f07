"""Counting what really runs: the instrumentation behind :mod:`hodiff.cost`.

Where it sits: on top of the engine, as a client of its events (``hodiff/_src/core/events.py``). The engine emits
``PRIMITIVE_RAN`` after each primitive executed on plain numpy values, ``LEVEL_OPENED`` when a reverse or forward
level is created and ``SWEEP_STARTED`` when a backward sweep begins; :func:`counting` subscribes to the three for
the duration of a ``with`` block (the lists are empty again after it, so the hot paths are back to one truth test).
At a sweep's start the tape it is about to walk still holds every value its VJP rules need, so that is where the
saved bytes are measured.

Nothing here is typed in by hand: operation counts come from the events, FLOPs and bytes moved from the ``cost`` hint
declared beside each primitive's rules in the table.
"""
from __future__ import annotations

import contextlib
import threading
import weakref
from collections import Counter

import numpy as np

from .._src.core import events
from .._src.core.engine import Box, base_value
from .._src.interpreters.backward import toposort
from .._src.interpreters.forward import Dual, ForwardTrace
from .._src.interpreters.reverse import ReverseTrace, Tensor

__all__ = ["Counts", "TapeStats", "counting", "saved_bytes"]


class TapeStats:
    """Bytes and nodes held by one or more tapes (each plain array counted once, by its underlying buffer).

    Attributes
    ----------
    nodes : int
        Recorded tensors (tape nodes).
    bytes : int
        Bytes of the distinct arrays the nodes keep alive, computed during the run: intermediate values, the
        arguments saved for the VJP rules, and every tangent.
    shared_bytes : int
        Bytes the nodes hold by reference to arrays that were not computed by the run (the input ``x``, constants
        such as a data matrix): saved on the tape but no extra memory.
    nodes_by_prim, bytes_by_prim : Counter
        Nodes and ``bytes`` per primitive (an array is charged to the first node that holds it).
    by_role : Counter
        ``bytes`` split into ``"results"`` (node values) and ``"saved arguments"``.
    by_kind : Counter
        ``bytes`` split into ``"primal"`` and ``"tangent"``: tangents are the dual-number parts a forward level adds.
    """

    __slots__ = ("by_kind", "by_role", "bytes", "bytes_by_prim", "nodes", "nodes_by_prim", "shared_bytes")

    def __init__(self):
        self.nodes = 0
        self.bytes = 0
        self.shared_bytes = 0
        self.nodes_by_prim = Counter()
        self.bytes_by_prim = Counter()
        self.by_role = Counter()
        self.by_kind = Counter()

    def add(self, other):
        """Accumulate another :class:`TapeStats` into this one (no cross-tape deduplication)."""
        self.nodes += other.nodes
        self.bytes += other.bytes
        self.shared_bytes += other.shared_bytes
        self.nodes_by_prim.update(other.nodes_by_prim)
        self.bytes_by_prim.update(other.bytes_by_prim)
        self.by_role.update(other.by_role)
        self.by_kind.update(other.by_kind)


def _root(a):
    """The array that owns ``a``'s memory (a view is charged to its base)."""
    while isinstance(a, np.ndarray):
        b = a.base
        if not isinstance(b, np.ndarray):
            break
        a = b
    return a


def _arrays(v, kind):
    """Yield ``(array, kind)`` for each plain array a saved value holds; dual tangents are of kind "tangent"."""
    if isinstance(v, (np.ndarray, np.generic)):
        yield v, kind
    elif isinstance(v, Tensor):
        yield from _arrays(v._value, kind)
    elif isinstance(v, Dual):
        yield from _arrays(v.primal, kind)
        yield from _arrays(v.tangent, "tangent")
    elif isinstance(v, (list, tuple)):
        for e in v:
            yield from _arrays(e, kind)
    elif isinstance(v, Box):
        yield from _arrays(base_value(v), kind)


def _result(node):
    """The result a tape entry keeps for its VJP rules: a tape ``Node``'s ``_ans`` (``None`` when no rule needs it,
    or once freed), or a recorded tensor's ``_value`` (the tape entries of earlier engine versions)."""
    v = getattr(node, "_ans", None)
    return getattr(node, "_value", None) if v is None else v


def saved_bytes(nodes, seen=None, stats=None, computed=None):
    """Measure what tape ``nodes`` hold: a :class:`TapeStats`.

    Parameters
    ----------
    nodes : iterable of Tensor
        Recorded tensors (a transform level's ``trace.tape``).
    seen : set, optional
        Ids of buffers already counted (shared across several tapes measured together).
    stats : TapeStats, optional
        Accumulate into this one.
    computed : mapping, optional
        ``id(array) -> array`` of the arrays the run computed (kept by :func:`counting`); primal arrays not in it
        count as ``shared_bytes``. Without it every array counts as computed.

    Examples
    --------
    >>> import numpy as np
    >>> from hodiff._src.interpreters.reverse import ReverseTrace, Tensor
    >>> tr = ReverseTrace()
    >>> x = Tensor._make(np.ones(4), tr, True)
    >>> y = x * x
    >>> s = saved_bytes(tr.tape)
    >>> s.nodes, s.bytes >= 32            # one node; x is saved for the rules (once, though used twice)
    (1, True)
    """
    seen = set() if seen is None else seen
    st = TapeStats() if stats is None else stats
    for t in nodes:
        st.nodes += 1
        name = t._prim.name if t._prim is not None else "input"
        st.nodes_by_prim[name] += 1
        args = t._args
        items = [(_result(t), "results")]
        if args is not None:     # None once the node's backward step has run and freed them
            items += [(a, "saved arguments") for a in args]
        for v, role in items:
            for a, kind in _arrays(v, "primal"):
                r = _root(a)
                if id(r) in seen:
                    continue
                seen.add(id(r))
                b = int(r.nbytes)
                if (computed is not None and kind == "primal" and isinstance(r, np.ndarray)
                        and computed.get(id(r)) is not r):
                    st.shared_bytes += b
                    continue
                st.bytes += b
                st.bytes_by_prim[name] += b
                st.by_role[role] += b
                st.by_kind[kind] += b
    return st


def _nbytes(v):
    if isinstance(v, (np.ndarray, np.generic)):
        return int(v.nbytes)
    if isinstance(v, (list, tuple)):
        return sum(_nbytes(e) for e in v)
    if isinstance(v, (float, int, complex)):
        return 8
    return 0


class Counts:
    """What one instrumented run executed (filled by :func:`counting`).

    Attributes
    ----------
    ops, flops, bytes_moved : Counter
        Per primitive name: executions, FLOPs and bytes moved by the table's cost hints.
    result_bytes : int
        Bytes of all results the primitives produced (the volume of intermediates allocated).
    uncosted : set
        Primitives that ran without a cost hint (their FLOPs count as 0).
    sweeps : int
        Backward passes (calls of the engine's ``backprop``).
    reverse_levels, forward_levels : int
        Transform levels opened.
    tangent_width : int
        Largest number of tangents a forward level carried at once (1 for an unbatched dual; 0 without forward mode).
    tape : TapeStats
        Every tape the run recorded, each measured once when its first backward sweep started (or at the end of the
        block if it was never swept).
    tape_peak_bytes : int
        The most computed bytes (see :class:`TapeStats`) held at once by the tapes alive at the start of any sweep.
    """

    def __init__(self):
        self.ops = Counter()
        self.flops = Counter()
        self.bytes_moved = Counter()
        self.result_bytes = 0
        self.uncosted = set()
        self.sweeps = 0
        self.reverse_levels = 0
        self.forward_levels = 0
        self.tangent_width = 0
        self.tape = TapeStats()
        self.tape_peak_bytes = 0
        self._live = {}            # level -> weakref to a ReverseTrace opened in the block
        self._measured = set()     # levels whose tape is already in ``tape``
        self._computed = weakref.WeakValueDictionary()   # id -> array, for the arrays primitives computed

    def hook(self, prim, args, params, ans):
        """The ``PRIMITIVE_RAN`` handler: count one primitive executed on plain values."""
        name = prim.name
        self.ops[name] += 1
        self.result_bytes += _nbytes(ans)
        for a in (ans if isinstance(ans, tuple) else (ans,)):
            if type(a) is np.ndarray and a.base is None:   # new memory (a view's memory belongs to its base)
                self._computed[id(a)] = a
        cost = prim.cost
        if cost is None:
            self.uncosted.add(name)
            return
        fl, by = cost(ans, *args, **params)
        self.flops[name] += int(fl)
        self.bytes_moved[name] += int(by)

    def _level(self, trace):
        """A transform level was opened (the ``LEVEL_OPENED`` event)."""
        if isinstance(trace, ReverseTrace):
            self.reverse_levels += 1
            self._live[trace.level] = weakref.ref(trace)
        elif isinstance(trace, ForwardTrace):
            self.forward_levels += 1
            self.tangent_width = max(self.tangent_width, 1 if trace.batch is None else int(trace.batch))

    def _measure_level(self, level, nodes):
        if level in self._measured:
            return
        self._measured.add(level)
        self.tape.add(saved_bytes(nodes, computed=self._computed))

    def _level_of(self, tape):
        for level, ref in self._live.items():
            tr = ref()
            if tr is not None and tr.tape is tape:
                return level
        return ("tape", id(tape))   # a level opened before the block: measured once per sweep

    def _sweep(self, roots, tape):
        self.sweeps += 1
        if tape is not None:
            if tape:
                self._measure_level(self._level_of(tape), tape)
        else:   # the tensor API: the graph reachable from the roots, on the eager level
            tape = [t for t in toposort(roots) if t._prim is not None]
            self.tape.add(saved_bytes(tape, computed=self._computed))
        # the tapes alive right now, together (a buffer shared by two nested tapes is counted once)
        # a tape whose first node has been freed was swept and is garbage (awaiting the cycle collector)
        tapes = [tr.tape for tr in (ref() for ref in list(self._live.values()))
                 if tr is not None and tr.tape and tr.tape[0]._args is not None]
        if tape is not None and not any(t is tape for t in tapes):
            tapes.append(tape)
        seen, st = set(), TapeStats()
        for t in tapes:
            saved_bytes(t, seen, st, self._computed)
        self.tape_peak_bytes = max(self.tape_peak_bytes, st.bytes)

    def _finish(self):
        for level, ref in self._live.items():
            tr = ref()
            if tr is not None and tr.tape and level not in self._measured:
                self._measure_level(level, tr.tape)
                self.tape_peak_bytes = max(self.tape_peak_bytes, saved_bytes(tr.tape, computed=self._computed).bytes)
        self._live.clear()

    @property
    def total_ops(self):
        """Primitive executions, all primitives together."""
        return sum(self.ops.values())

    @property
    def total_flops(self):
        """FLOPs, all primitives together."""
        return sum(self.flops.values())


_active = threading.local()   # the Counts of the block open in this thread, if any


@contextlib.contextmanager
def counting():
    """Instrument hodiff for the duration of a ``with`` block; yields the :class:`Counts` it fills.

    Inside the block every primitive executed on plain values is counted (with its FLOPs from the table's cost
    hints), every reverse and forward level opened is observed, and every backward sweep measures the tape it
    walks. The counts come from the engine's events (``hodiff/_src/core/events.py``), subscribed for the block and
    left on exit, so hodiff runs exactly as before; nothing is patched. Only the events of the thread that opened
    the block are counted: two threads may count at once, each its own work (work a block hands to other threads,
    such as an executor's, is not counted). Blocks do not nest.

    Examples
    --------
    >>> import numpy as np, hodiff as hd
    >>> from hodiff.cost import counting
    >>> with counting() as c:
    ...     g = hd.grad(lambda x: 2 * hd.dot(x, x))(np.arange(5.0))
    >>> sorted(c.ops.items()), c.total_flops, c.sweeps
    ([('add', 1), ('matmul', 1), ('multiply', 4)], 27, 1)
    """
    if getattr(_active, "counts", None) is not None:
        raise RuntimeError("hodiff.cost: counting() blocks do not nest (an analysis is already running)")
    c = Counts()
    me = threading.get_ident()

    def on_primitive(prim, args, params, ans):
        if threading.get_ident() == me:
            c.hook(prim, args, params, ans)

    def on_level(trace):
        if threading.get_ident() == me:
            c._level(trace)

    def on_sweep(roots, tape):
        if threading.get_ident() == me:
            c._sweep(roots, tape)

    _active.counts = c
    try:
        with events.subscribed(primitive_ran=on_primitive, level_opened=on_level, sweep_started=on_sweep):
            yield c
            c._finish()
    finally:
        _active.counts = None
