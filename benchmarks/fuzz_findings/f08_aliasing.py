"""Finding 8 (issue 12 item 8): returned functions read the caller's arrays after returning; jvp/vjp hand back
the caller's own buffers. (The regression tests are in tests/test_aliasing.py.)"""
import numpy as np

import hodiff as hd
from _check import case, done, isclose


def vjp_mutate_x():
    x = np.array([1.0, 2.0])
    _, fn = hd.vjp(lambda x: x * x, x)
    x[:] = 0.0
    return fn(np.ones(2))[0]


case("out, fn = vjp(x -> x * x, x); x[:] = 0; fn(1)", "[2, 4] (2 x at the point of the call)", vjp_mutate_x,
     lambda got: not isclose(got, [2, 4]))


def vjp_mutate_const():
    c = np.array([1.0, 2.0])
    _, fn = hd.vjp(lambda x: c * x, np.ones(2))
    c[:] = 10.0
    return fn(np.ones(2))[0]


case("vjp(x -> c * x); c[:] = 10; fn(1)", "[1, 2] (c at the point of the call)", vjp_mutate_const,
     lambda got: not isclose(got, [1, 2]))


def hop_mutate_arg():
    A = np.diag([1.0, 2.0])
    H = hd.hessian_operator(lambda x, A: 0.5 * x @ A @ x, np.ones(2), A)
    first = H @ np.ones(2)
    A[:] = 5 * np.eye(2)
    return first, H @ np.ones(2), H.grad


case("H = hessian_operator(f, x, A); H @ 1; A[:] = 5 I; H @ 1, H.grad", "H @ 1 = [1, 2] both times, grad [1, 2]",
     hop_mutate_arg, lambda got: not (isclose(got[1], [1, 2]) and isclose(got[2], [1, 2])))


def hop_mutate_arg_before():
    A = np.diag([1.0, 2.0])
    H = hd.hessian_operator(lambda x, A: 0.5 * x @ A @ x, np.ones(2), A)
    A[:] = 5 * np.eye(2)
    return H @ np.ones(2), H.value


case("H = hessian_operator(f, x, A); A[:] = 5 I (before any product); H @ 1, H.value",
     "[1, 2] and 1.5 (the operator of the call)", hop_mutate_arg_before,
     lambda got: not (isclose(got[0], [1, 2]) and isclose(got[1], 1.5)))


def jvp_buffers():
    x, t = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    out, tan = hd.jvp(lambda x: x, (x,), (t,))
    return np.shares_memory(out, x), np.shares_memory(tan, t)


case("out, tan = jvp(identity, (x,), (t,)): out shares x's memory, tan shares t's", "(False, False)", jvp_buffers,
     lambda got: any(got))


def vjp_buffers():
    x, g = np.array([1.0, 2.0]), np.ones(2)
    out, fn = hd.vjp(lambda x: x, x)
    return np.shares_memory(out, x), np.shares_memory(fn(g)[0], g)


case("out, fn = vjp(identity, x): out shares x, fn(g)[0] shares g", "(False, False)", vjp_buffers,
     lambda got: any(got))
done()
