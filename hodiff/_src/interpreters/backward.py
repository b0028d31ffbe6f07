"""The backward sweep: cotangents pushed from outputs to inputs through a recorded tape.

Below the reverse interpreter (``reverse.py``, which records the tape and offers ``backward()`` on tensors) and
above the tape's node type (``tape.py``). :func:`backprop` walks the nodes in reverse topological order, calls
each node's VJP rules once with the summed cotangent, sums cotangents back to each argument's shape (the engine's
job, not the rules'), and frees the saved values unless asked to retain them.

The VJP rules run through ``bind`` like any user code. Without ``rebox`` (``create_graph``) they see the values one
level down, so if those are dual numbers the cotangents come out as duals (forward-over-reverse); with it they see
this level's tensors, so the backward pass is itself recorded (reverse-over-reverse).
"""
from __future__ import annotations

import numpy as np

from .. import table as P
from ..core.engine import PLAIN
from ..core.events import SWEEP_STARTED, emit
from .forward import Dual, _dual
from .tape import _SCALARS, Unsaved

__all__ = ["backprop", "toposort"]


def toposort(roots):
    """Nodes reachable from ``roots`` through recorded parents, each after all of its parents."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        parents = t._parents
        if parents:
            for _, p in parents:
                if id(p) not in seen:
                    stack.append((p, False))
    return order


_FREED = ("hodiff: trying to run backward through a part of the graph whose saved values were already freed "
          "by an earlier backward(). Call the first backward with retain_graph=True to keep them "
          "(or recompute the output).")


def _shape(x):
    try:
        return x.shape
    except AttributeError:
        return ()


def _fit(c, shape):
    """A cotangent for a value of ``shape``: summed over axes broadcasting added, or left smaller when it merely
    broadcasts to ``shape`` (a seed spread by ``sum``): the broadcast is made only where a rule needs it."""
    cs = _shape(c)
    if cs == shape or cs == ():
        return c
    if len(cs) <= len(shape) and all(a == 1 or a == b for a, b in zip(cs[::-1], shape[::-1])):
        return c
    return P.unbroadcast(c, shape)


def _full(g, shape):
    return g if _shape(g) == shape else P.broadcast_to(g, shape)


def _tangent_only(tape, targets, fwd):
    """Forward-over-reverse where only the tangent of the targets' cotangents is wanted (``hvp``).

    The cotangents are dual numbers at ``fwd``. A node needs the primal part of its cotangent only if a rule it
    applies reads a value carrying a tangent (then the primal cotangent enters the tangent: the product rule) or
    one of its parents needs the primal part. The nodes that do not (the linear tail down to the inputs:
    slicing, reshaping, additions, products with constants) carry only the tangent, which skips the gradient's
    own work there, such as ``X.T @ g`` for a first layer ``X @ W``.

    Returns ``(tangent-only node ids, (node id, argument) pairs whose rule reads only plain values, ids of the
    nodes on the border: those that need the primal part and have a tangent-only parent)``. Only the border
    nodes treat their parents differently from a plain sweep.
    """
    need = {id(t): False for t in targets}
    direct, border = set(), set()
    for t in tape:
        needs = t._prim.vjp_needs
        args = t._args
        tid = id(t)
        primal = tail = False
        for i, p in t._parents:
            reads = needs[i] if needs is not None else (*range(len(args)), "ans")
            plain = True
            for j in reads:
                v = t._ans if j == "ans" else args[j]
                if type(v) not in PLAIN and type(v) is not Unsaved:
                    plain = False
                    break
            if plain:
                direct.add((tid, i))
            if need.get(id(p), True):
                primal = True
            else:
                tail = True
                if not plain:
                    primal = True
        need[tid] = primal
        if primal and tail:
            border.add(tid)
    return {k for k, v in need.items() if not v}, direct, border


def backprop(roots, seeds, *, targets=None, rebox=None, retain_graph=False, tape=None, tangent_of=None):
    """Propagate ``seeds`` (cotangents of the nodes ``roots``) backwards through the tape.

    ``tape`` (a transform level's list of recorded nodes, in creation order) replaces the graph search when
    given. Returns ``{id(node): (node, cotangent)}`` for the nodes ``targets``, or, when ``targets`` is None, for
    every leaf and every node marked with ``retain_grad``.

    Cotangents are summed in storage of this call, never on the nodes: a list indexed by the nodes' positions on
    ``tape`` (``Node._pos``), and a dictionary for the nodes that have none (the leaves, and every node of the
    eager level, which keeps no tape). A tape may be swept by several calls at once (one ``vjp_fn`` called from
    many threads, graphs sharing a leaf), and each sweep sees only its own sums. A cotangent may stay smaller than
    its value while it only broadcasts (it is expanded before a rule that needs the full shape, and in the
    results). Sums of plain arrays go into buffers the sweep allocated itself, in place; nothing else holds those.
    Without ``retain_graph`` the saved values of each node are freed once its rules ran (the one write to the tape).

    ``rebox(value, node)`` (``create_graph``): the rules see each saved value boxed as a recorded tensor linked to
    ``node``, so the backward pass is itself recorded.

    ``tangent_of`` (a forward trace, with ``tape``): the seeds are plain and only the tangent at that level of the
    targets' cotangents is wanted; the results are those tangents (see :func:`_tangent_only`).
    """
    if SWEEP_STARTED:
        emit(SWEEP_STARTED, roots, tape)
    tonly = direct = border = None
    if tangent_of is not None:
        tonly, direct, border = _tangent_only(tape, targets, tangent_of)
    cts = _Cotangents(tape)
    cts.seed(roots, seeds, tonly, tangent_of)                                   # seed
    if tape is None:
        order, want = toposort(roots), None if targets is None else {id(t) for t in targets}
    else:   # the walk watches only the targets on the tape; the leaves collect their sums last
        order, want = tape, {id(t) for t in targets if t._pos is not None}
    results = {}
    at, loose = cts.at, cts.loose
    for t in reversed(order):                                                   # walk
        k = t._pos
        if k is None:
            g = loose.pop(t, None)
        else:
            g = at[k]
            at[k] = None
        if g is None:
            continue
        if t.ref is not None if want is None else want and id(t) in want:   # a leaf or retain_grad(), or a target
            results[id(t)] = (t, g)
        prim = t._prim
        if prim is None:
            continue
        if t._args is None:
            raise RuntimeError(_FREED)
        if prim.vjp_into is None and (border is None or id(t) not in border):
            _push_plain(t, g, cts, rebox)
        else:
            _push_general(t, g, cts, rebox, tonly, direct, tangent_of)
        if not retain_graph:
            t._args = t._parents = t._ans = None
    if tape is not None:                                                         # collect
        # leaves (the transform's inputs) are not on the tape: they collect their cotangents last
        for t in targets:
            g = loose.get(t)
            if g is not None and t._prim is None:
                results[id(t)] = (t, g)
    for k, (t, g) in results.items():
        if _shape(g) != t.shape:
            results[k] = (t, P.broadcast_to(g, t.shape))
    return results


class _Cotangents:
    """One sweep's cotangent sums: ``at[node._pos]`` for the nodes on the tape, ``loose[node]`` for the others
    (leaves; on the eager level, every node). ``owned`` holds the nodes whose sum is a buffer this sweep allocated,
    which it may add into in place."""

    __slots__ = ("at", "loose", "owned")

    def __init__(self, tape):
        self.at = [None] * len(tape) if tape is not None else []
        self.loose = {}
        self.owned = set()

    def get(self, p):
        k = p._pos
        return self.loose.get(p) if k is None else self.at[k]

    def set(self, p, c):
        k = p._pos
        if k is None:
            self.loose[p] = c
        else:
            self.at[k] = c

    def seed(self, roots, seeds, tonly, fwd):
        """Store the seeds (a tangent-only root keeps its seed's tangent, if any)."""
        for r, s in zip(roots, seeds):
            if tonly is not None and id(r) in tonly:
                if type(s) is not Dual or s._trace is not fwd:
                    continue
                s = s.tangent
            old = self.get(r)
            self.set(r, s if old is None else P.add(old, s))


def _rule_inputs(t, g, rebox):
    """What node ``t``'s rules are called with: its saved values (boxed for ``create_graph``) and the cotangent,
    made whole if it was kept smaller while it only broadcast and the rule needs the full shape."""
    args, ans = t._args, t._ans
    if rebox is not None:   # the rules see this level's tensors, so the backward pass is recorded too
        args = list(args)
        for i, p in t._parents:
            if type(args[i]) is not Unsaved:
                args[i] = rebox(args[i], p)
        if ans is not None:
            ans = rebox(ans, t)
    tshape = t.shape
    if getattr(g, "shape", ()) != tshape:
        # a lazily broadcast seed must be made whole before a rule that reshapes, contracts or broadcasts
        # against a smaller argument (whose cotangent then sums over the copies)
        whole = not t._prim.elementwise
        if not whole:
            for _, p in t._parents:   # a loop, not any(...): this runs for every node a lazy seed reaches
                if p.shape != tshape:
                    whole = True
                    break
        if whole:
            g = _full(g, tshape)
    return args, ans, g


def _push_plain(t, g, cts, rebox):
    """The common case: each rule's cotangent is summed into its parent's."""
    if rebox is None and getattr(g, "shape", ()) == t.shape:
        args, ans = t._args, t._ans   # nothing to prepare (the common case, without a call)
    else:
        args, ans, g = _rule_inputs(t, g, rebox)
    rules = t._prim.vjp
    params = t._params
    at = cts.at
    for i, p in t._parents:
        c = rules[i](g, ans, *args, **params) if params else rules[i](g, ans, *args)
        pshape = p.shape
        if getattr(c, "shape", ()) != pshape:
            c = _fit(c, pshape)
        k = p._pos   # cts.get and cts.set written out: this loop runs once per recorded argument
        old = cts.loose.get(p) if k is None else at[k]
        if old is None:
            pass
        elif type(old) in _SCALARS and type(c) in _SCALARS:
            c = old + c
        else:
            _accumulate(cts, p, old, c)
            continue
        if k is None:
            cts.loose[p] = c
        else:
            at[k] = c


def _push_general(t, g, cts, rebox, tonly, direct, fwd):
    """Rules with an in-place form (``vjp_into``), and the tangent-only tail of ``hvp`` (see :func:`_tangent_only`)."""
    args, ans, g = _rule_inputs(t, g, rebox)
    prim = t._prim
    rules, into, params = prim.vjp, prim.vjp_into, t._params
    plain_g = rebox is None and type(g) in PLAIN
    # a single-tangent dual of plain arrays can be summed in place too
    dual_g = (not plain_g and into is not None and rebox is None and type(g) is Dual and g._trace.batch is None
              and type(g.primal) is np.ndarray and type(g.tangent) is np.ndarray)
    t_only = tonly is not None and id(t) in tonly
    for i, p in t._parents:
        gi, pl, du, take = g, plain_g, dual_g, False
        if tonly is not None and not t_only and id(p) in tonly:
            # a full cotangent going into a tangent-only parent: only its tangent is kept
            if (id(t), i) in direct:
                # the rule reads only constants and is linear in g: the tangent of g is all it needs
                if type(g) is not Dual or g._trace is not fwd:
                    continue       # no tangent: contributes nothing
                gi = g.tangent
                pl, du = type(gi) in PLAIN, False
            else:
                pl = du = False
                take = True
        if (pl or du) and into is not None and _add_into(cts, p, into[i], gi, pl, ans, args, params):
            continue
        c = rules[i](gi, ans, *args, **params) if params else rules[i](gi, ans, *args)
        if take:
            if type(c) is not Dual or c._trace is not fwd:
                continue
            c = c.tangent
        if getattr(c, "shape", ()) != p.shape:
            c = _fit(c, p.shape)
        old = cts.get(p)
        if old is None:
            cts.set(p, c)
        else:
            _accumulate(cts, p, old, c)


def _add_into(cts, p, rule_into, g, plain, ans, args, params):
    """Add ``g`` (plain, or a single-tangent dual of plain arrays) into a buffer of ``p``'s shape that this sweep
    owns, with the rule's in-place form; False when the parent's cotangent so far cannot take it."""
    old = cts.get(p)
    owned = cts.owned
    pshape = p.shape
    if plain:
        if old is not None and type(old) not in PLAIN:
            return False
        if old is None or p not in owned or _shape(old) != pshape:
            dt = np.result_type(g, *(() if old is None else (old,)))
            buf = np.zeros(pshape, dtype=dt) if old is None else np.array(np.broadcast_to(old, pshape), dtype=dt)
            owned.add(p)
        else:
            buf = old
        rule_into(buf, g, ans, *args, **params)
        cts.set(p, buf)
        return True
    if old is not None and not (p in owned and type(old) is Dual and old._trace is g._trace):
        return False
    if old is None:   # primal and tangent buffers (forward-over-reverse)
        dt = np.result_type(g.primal, g.tangent)
        old = _dual(np.zeros(pshape, dtype=dt), np.zeros(pshape, dtype=dt), g._trace)
        owned.add(p)
    rule_into(old.primal, g.primal, ans, *args, **params)
    rule_into(old.tangent, g.tangent, ans, *args, **params)
    cts.set(p, old)
    return True


def _accumulate(cts, p, old, c):
    """``p``'s cotangent becomes ``old + c``, in place when ``old`` is a buffer of this sweep (``cts.owned``) that
    can take the sum."""
    owned = cts.owned
    pshape = p.shape
    if (p in owned and type(c) in PLAIN and type(old) is np.ndarray and _shape(old) == pshape
            and np.result_type(old, c) == old.dtype):
        np.add(old, c, out=old)
        return
    new = P.add(old, c)
    cts.set(p, new)
    if type(new) is np.ndarray and _shape(new) == pshape:
        owned.add(p)
    else:
        owned.discard(p)
