"""The backward sweep's cotangent store: a list indexed by tape position, a dictionary for the nodes off the tape.

Each recorded node of a transform level knows its position on the level's tape (``Node._pos``); leaves and the
nodes of the eager level (which keeps no tape) have none. The sweep keeps its sums in storage of its own call, so
these tests check the positions, a sweep asked for a node on the tape as well as a leaf, and that a sweep leaves
nothing behind on the tape that a second sweep could pick up.
"""
from __future__ import annotations

import numpy as np

import hodiff as hd
from hodiff._src.core.engine import opened
from hodiff._src.interpreters.backward import backprop
from hodiff._src.interpreters.reverse import ReverseTrace, Tensor


def _record(f, x):
    trace = ReverseTrace()
    with opened(trace):
        leaf = Tensor._make(x, trace, True)
        mid, out = f(leaf)
    return trace, leaf, mid, out


def _f(x):
    mid = np.sin(x) * x           # y = x sin x
    return mid, np.sum(mid ** 2) + np.sum(mid[1:] * x[:-1])


X = np.linspace(-1.0, 1.5, 7)


def test_each_recorded_node_knows_its_tape_position_and_leaves_have_none():
    trace, leaf, mid, out = _record(_f, X)
    assert [t._pos for t in trace.tape] == list(range(len(trace.tape)))
    assert leaf._node._pos is None
    eager = hd.tensor(X, requires_grad=True)
    y = np.sin(eager) * 2.0
    assert eager._node._pos is None and y._node._pos is None   # the eager level keeps no tape


def test_a_sweep_returns_a_node_on_the_tape_and_a_leaf_asked_for_together():
    trace, leaf, mid, out = _record(_f, X)
    y = np.sin(X) * X
    # out = sum(y^2) + sum(y[1:] x[:-1]); d out / d y and d out / d x by hand
    want_mid = 2.0 * y
    want_mid[1:] += X[:-1]
    dy_dx = np.sin(X) + X * np.cos(X)
    want_leaf = want_mid * dy_dx
    want_leaf[:-1] += y[1:]
    found = backprop([out._node], [np.ones(())], targets=[mid._node, leaf._node], tape=trace.tape,
                     retain_graph=True)
    np.testing.assert_allclose(found[id(mid._node)][1], want_mid, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(found[id(leaf._node)][1], want_leaf, rtol=1e-13, atol=1e-13)
    # a second sweep over the same tape starts from nothing: the first one left no sums behind
    again = backprop([out._node], [np.full((), 2.0)], targets=[leaf._node], tape=trace.tape)
    np.testing.assert_allclose(again[id(leaf._node)][1], 2.0 * want_leaf, rtol=1e-13, atol=1e-13)


def test_vjp_fn_called_twice_gives_the_forward_mode_answer_both_times():
    # the tape of vjp_fn is swept once per call; each call's sums are its own
    out, vjp_fn = hd.vjp(lambda x: _f(x)[1] * np.cos(x), X)
    g = np.linspace(0.5, 2.0, X.size)
    first = vjp_fn(g)[0]
    second = vjp_fn(g)[0]
    np.testing.assert_array_equal(first, second)
    ref = hd.jacfwd(lambda x: _f(x)[1] * np.cos(x))(X).T @ g      # forward mode: another strategy
    np.testing.assert_allclose(first, ref, rtol=1e-13, atol=1e-13)
