"""Grad-mode objects (``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``autograd.record``/``pause``/
``train_mode``/``predict_mode``): PyTorch's context-manager and decorator semantics, re-entrance, and thread safety
(issue 12, "mode leaks")."""
import asyncio
import threading

import numpy as np
import pytest

import hodiff as hd
from hodiff import autograd


@pytest.fixture(autouse=True)
def _defaults_restored():
    assert hd.is_grad_enabled() and not autograd.is_recording() and not autograd.is_training()
    yield
    assert hd.is_grad_enabled(), "a test left grad mode off"
    assert not autograd.is_recording() and not autograd.is_training()


def _records():
    return (hd.ones(2, requires_grad=True) * 2).requires_grad


# ----------------------------------------------------------------------------------------------------------------
# set_grad_enabled: a function call, a context manager, a decorator


def test_set_grad_enabled_decorator_leaves_state_alone_when_applied():
    @hd.set_grad_enabled(False)
    def f(x):
        return x * 2, hd.is_grad_enabled()

    assert hd.is_grad_enabled()           # applying the decorator switched nothing
    y, inside = f(hd.ones(2, requires_grad=True))
    assert inside is False and not y.requires_grad
    assert hd.is_grad_enabled()           # and each call restores
    y, inside = f(hd.ones(2, requires_grad=True))
    assert inside is False


def test_set_grad_enabled_decorator_inside_no_grad_block():
    with hd.no_grad():
        @hd.set_grad_enabled(True)
        def f():
            return hd.is_grad_enabled()
        assert not hd.is_grad_enabled()
        assert f() is True
        assert not hd.is_grad_enabled()
    assert f() is True


def test_set_grad_enabled_as_function_call_switches_until_switched_back():
    hd.set_grad_enabled(False)
    try:
        assert not hd.is_grad_enabled() and not _records()
    finally:
        hd.set_grad_enabled(True)
    assert hd.is_grad_enabled() and _records()


def test_set_grad_enabled_context_restores_state_from_before_the_call():
    with hd.set_grad_enabled(False):
        assert not _records()
        with hd.set_grad_enabled(True):
            assert _records()
        assert not hd.is_grad_enabled()
    assert hd.is_grad_enabled()


def test_set_grad_enabled_restores_on_exception():
    with pytest.raises(KeyError):
        with hd.set_grad_enabled(False):
            raise KeyError
    assert hd.is_grad_enabled()


def test_set_grad_enabled_object_reused_as_context():
    m = hd.set_grad_enabled(False)
    assert not hd.is_grad_enabled()
    with m:
        pass
    assert hd.is_grad_enabled()           # the first `with` restored the state from before the call
    for _ in range(3):
        with m:
            with m:
                assert not hd.is_grad_enabled()
            assert not hd.is_grad_enabled()
        assert hd.is_grad_enabled()


def test_set_grad_enabled_refuses_non_bool():
    with pytest.raises(TypeError, match="bool"):
        hd.set_grad_enabled("no")
    assert hd.is_grad_enabled()


# ----------------------------------------------------------------------------------------------------------------
# no_grad / enable_grad objects reused, nested, as decorators


def test_one_no_grad_object_nested_in_itself_keeps_grad_off():
    ng = hd.no_grad()
    with ng:
        with ng:
            assert not hd.is_grad_enabled()
        assert not hd.is_grad_enabled()   # the inner exit restored the outer's state, not the default
        assert not _records()
    assert hd.is_grad_enabled()


def test_reused_objects_interleaved_with_enable_grad():
    ng, eg = hd.no_grad(), hd.enable_grad()
    with ng:
        with eg:
            with ng:
                assert not hd.is_grad_enabled()
            assert hd.is_grad_enabled()
            with eg:
                assert _records()
            assert hd.is_grad_enabled()
        assert not hd.is_grad_enabled()
    assert hd.is_grad_enabled()


def test_no_grad_decorator_with_and_without_parentheses():
    @hd.no_grad()
    def f(x):
        return x * 2

    @hd.no_grad
    def g(x):
        return x * 2

    @hd.enable_grad
    def h(x):
        return x * 2

    x = hd.ones(2, requires_grad=True)
    assert not f(x).requires_grad and not g(x).requires_grad
    assert f.__name__ == "f" and g.__name__ == "g"
    with hd.no_grad():
        assert h(x).requires_grad
        assert not hd.is_grad_enabled()


def test_decorated_recursive_function_restores_each_level():
    ng = hd.no_grad()

    @ng
    def depth(k):
        assert not hd.is_grad_enabled()
        return 0 if k == 0 else 1 + depth(k - 1)

    assert depth(20) == 20
    assert hd.is_grad_enabled()


def test_decorated_generator_runs_its_steps_in_the_mode_only():
    seen = []

    @hd.no_grad()
    def gen(n):
        for i in range(n):
            seen.append(hd.is_grad_enabled())
            got = yield i
            seen.append(("sent", got))
        return "done"

    g = gen(3)
    assert next(g) == 0
    assert hd.is_grad_enabled()           # suspended: the caller's mode
    assert g.send("a") == 1
    assert hd.is_grad_enabled()
    assert list(g) == [2]
    assert seen == [False, ("sent", "a"), False, ("sent", None), False, ("sent", None)]
    assert hd.is_grad_enabled()


def test_decorated_generator_throw_and_close_run_inside_the_mode():
    seen = []

    @hd.set_grad_enabled(False)
    def gen():
        try:
            yield 1
        except ValueError:
            seen.append(("caught", hd.is_grad_enabled()))
            yield 2
        finally:
            seen.append(("finally", hd.is_grad_enabled()))

    g = gen()
    assert next(g) == 1
    assert g.throw(ValueError) == 2
    assert hd.is_grad_enabled()
    g.close()
    assert seen == [("caught", False), ("finally", False)]
    assert hd.is_grad_enabled()


def test_decorated_generator_return_value():
    @hd.no_grad()
    def gen():
        yield 1
        return 7

    def outer():
        return (yield from gen())

    o = outer()
    assert next(o) == 1
    with pytest.raises(StopIteration) as stop:
        next(o)
    assert stop.value.value == 7


def test_async_function_decoration_is_refused():
    async def f():
        return 1

    with pytest.raises(TypeError, match="async"):
        hd.no_grad()(f)


def test_modes_in_asyncio_tasks_are_independent():
    async def task(off, results):
        if off:
            with hd.no_grad():
                await asyncio.sleep(0.01)
                results.append(("off", hd.is_grad_enabled()))
        else:
            await asyncio.sleep(0.005)
            results.append(("on", hd.is_grad_enabled()))

    async def main():
        results = []
        await asyncio.gather(task(True, results), task(False, results))
        return sorted(results)

    assert asyncio.run(main()) == [("off", False), ("on", True)]


def test_exit_without_enter_is_an_error():
    with pytest.raises(RuntimeError, match="not entered"):
        hd.no_grad().__exit__(None, None, None)


def test_decorating_a_non_callable_is_refused():
    with pytest.raises(TypeError, match="decorates functions"):
        hd.no_grad()(3)


# ----------------------------------------------------------------------------------------------------------------
# MXNet's record / pause share the machinery


def test_record_object_reused_nested_and_pause_inside():
    rec = autograd.record()
    with rec:
        with rec:
            assert autograd.is_recording() and autograd.is_training()
        assert autograd.is_recording()
        with autograd.pause():
            assert not autograd.is_recording() and not hd.is_grad_enabled()
        assert autograd.is_recording() and hd.is_grad_enabled()
    assert not autograd.is_recording() and not autograd.is_training()


def test_record_as_decorator():
    @autograd.record()
    def f():
        return autograd.is_recording(), autograd.is_training()

    assert f() == (True, True)
    assert not autograd.is_recording()


# ----------------------------------------------------------------------------------------------------------------
# thread stress: every mode object shared by 8 threads, entered nested and interleaved


def _mode_state():
    return hd.is_grad_enabled(), autograd.is_recording(), autograd.is_training()


def _shared_objects():
    """Each shared object with the state it sets (None: unchanged)."""
    sge_off = hd.set_grad_enabled(False)
    hd.set_grad_enabled(True)             # the constructor switched the main thread: switch back
    sge_on = hd.set_grad_enabled(True)
    return [
        (hd.no_grad(), (False, None, None)),
        (hd.enable_grad(), (True, None, None)),
        (sge_off, (False, None, None)),
        (sge_on, (True, None, None)),
        (autograd.record(), (True, True, True)),
        (autograd.record(train_mode=False), (True, True, False)),
        (autograd.pause(), (False, False, False)),
        (autograd.train_mode(), (None, None, True)),
        (autograd.predict_mode(), (None, None, False)),
    ]


def _expect(before, sets):
    return tuple(b if s is None else s for b, s in zip(before, sets))


def _run_threads(target, n=8):
    errors = []
    barrier = threading.Barrier(n)

    def run(k):
        try:
            barrier.wait()
            target(k)
        except BaseException as e:   # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_every_mode_object_shared_by_8_threads_as_context():
    objs = _shared_objects()
    x = hd.ones(3, requires_grad=True)

    def work(k):
        rng = np.random.default_rng(k)
        for _ in range(150):
            order = rng.permutation(len(objs))[:3]
            stack = [_mode_state()]
            # three objects nested, the first one entered again innermost (re-entrance under contention)
            chosen = [objs[i] for i in order] + [objs[order[0]]]
            with chosen[0][0]:
                stack.append(_mode_state())
                assert stack[-1] == _expect(stack[-2], chosen[0][1])
                with chosen[1][0]:
                    stack.append(_mode_state())
                    assert stack[-1] == _expect(stack[-2], chosen[1][1])
                    with chosen[2][0]:
                        stack.append(_mode_state())
                        with chosen[3][0]:
                            assert _mode_state() == _expect(stack[-1], chosen[3][1])
                            assert (x * 2).requires_grad == hd.is_grad_enabled()
                        assert _mode_state() == stack.pop()
                    assert _mode_state() == stack.pop()
                assert _mode_state() == stack.pop()
            assert _mode_state() == stack.pop() == (True, False, False)

    _run_threads(work)


def test_every_mode_object_shared_by_8_threads_as_decorator():
    objs = _shared_objects()
    funcs = []
    for obj, sets in objs:
        def f(before, sets=sets):
            assert _mode_state() == _expect(before, sets)
            return (hd.ones(1, requires_grad=True) * 2).requires_grad
        funcs.append(obj(f))

    def gen_body():
        for i in range(3):
            assert not hd.is_grad_enabled()
            yield i

    gen = hd.no_grad()(gen_body)

    def work(k):
        rng = np.random.default_rng(100 + k)
        for _ in range(200):
            i = int(rng.integers(len(funcs)))
            with hd.no_grad() if k % 2 else hd.enable_grad():
                before = _mode_state()
                assert funcs[i](before) == _expect(before, objs[i][1])[0]
                assert _mode_state() == before
                for _ in gen():
                    assert _mode_state() == before
        assert _mode_state() == (True, False, False)

    _run_threads(work)


def test_set_grad_enabled_constructed_in_one_thread_entered_in_others():
    m = hd.set_grad_enabled(False)
    hd.set_grad_enabled(True)

    def work(k):
        for _ in range(200):
            assert hd.is_grad_enabled()
            with m:
                assert not hd.is_grad_enabled()
            assert hd.is_grad_enabled()

    _run_threads(work)


def test_grad_mode_is_per_thread():
    """One thread turning grad off (function call) leaves the others recording."""
    flags = []
    off = threading.Event()
    done = threading.Event()

    def switcher():
        hd.set_grad_enabled(False)
        off.set()
        done.wait(5)
        flags.append(("switcher", hd.is_grad_enabled()))

    def watcher(k):
        off.wait(5)
        flags.append(("watcher", _records()))

    threads = [threading.Thread(target=switcher)] + [threading.Thread(target=watcher, args=(k,)) for k in range(7)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    done.set()
    threads[0].join()
    assert sorted(flags) == [("switcher", False)] + [("watcher", True)] * 7
    assert hd.is_grad_enabled()
