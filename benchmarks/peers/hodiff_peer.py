"""hodiff, through its public API only; user functions are the plain-numpy functions of problems.py.

For the 'hodiff-jit' library (``JIT = True``) every problem returns ``hd.jit``-wrapped variants of the same
computations instead: the first call at the benchmark's shapes records, the warm-up absorbs it, and the timed calls
replay the generated numpy code. Each compiled variant can tell whether a call really replayed (``replay_check``)
and how long the first call of a freshly made compiled function takes (``first_call``).
"""
import numpy as np
import problems as P

import hodiff as hd
from peers import Variant

NAME = "hodiff"
JIT = False


def setup():
    pass


def versions():
    return {"hodiff": hd.__version__}


def _np(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t, dtype=np.float64)


def _counted_jit(make):
    """``hd.jit`` of a fresh ``make()``, and a counter of the calls that reach the wrapped (eager) function.

    The wrapped function runs only when hd.jit records or falls back to eager evaluation, so a call that leaves the
    counter unchanged replayed compiled code. This also catches a replay that raised and silently re-ran eagerly.
    """
    inner = make()
    calls = [0]

    def counted(*a):
        calls[0] += 1
        return inner(*a)

    return hd.jit(counted), calls


def _compiled(label, make, args, out=None, primary=False, memory=False, note=""):
    """A variant calling ``hd.jit(make())(*args)``; ``make()`` returns the eager hodiff function of the metric."""
    j, calls = _counted_jit(make)
    eager = make()

    def replay_check():
        before = calls[0]
        j(*args)
        if calls[0] == before:
            return None
        return j.fallback_reason or "the compiled replay failed and the call ran eagerly"

    def fresh():
        jj, c = _counted_jit(make)

        def verify():
            if c[0] != 1:
                return f"the first call reached the wrapped function {c[0]} times (expected one recording)"
            if jj.fallback_reason is not None:
                return f"the first call did not record a program: {jj.fallback_reason}"
            jj(*args)
            if c[0] != 1:
                return "the second call did not replay: " + (jj.fallback_reason or "replay failed")
            return None

        return (lambda: jj(*args)), verify

    return Variant(f"hd.jit({label})" + (f" ({note})" if note else ""), lambda: j(*args), out=out, kind="jit",
                   primary=primary, memory=memory, replay_check=replay_check, first_call=(fresh, lambda: eager(*args)))


def p1(x0):
    f = lambda x: P.p1_f(x, np)
    if JIT:
        return {"P1.vg": [_compiled("hd.value_and_grad(f)", lambda: hd.value_and_grad(f), (x0,),
                                    out=lambda r: r[1], primary=True)],
                "P1.d2": [_compiled("hd.derivative(f, 2)", lambda: hd.derivative(f, 2), (x0,),
                                    primary=True, note="Taylor mode"),
                          _compiled("hd.grad(hd.grad(f))", lambda: hd.grad(hd.grad(f)), (x0,))]}
    vg = hd.value_and_grad(f)
    gg = hd.grad(hd.grad(f))
    d2 = hd.derivative(f, 2)   # hodiff's API for a scalar function's higher derivatives

    def tensor_vg():
        x = hd.tensor(x0, requires_grad=True)
        y = f(x)
        y.backward()
        return x.grad

    def tensor_d2():
        x = hd.tensor(x0, requires_grad=True)
        (g,) = hd.autograd.grad(f(x), [x], create_graph=True)
        g.backward()
        return x.grad

    return {"P1.vg": [Variant("hd.value_and_grad(f)(x)", lambda: vg(x0), out=lambda r: r[1], primary=True),
                      Variant("hd.tensor + y.backward()", tensor_vg, out=_np)],
            "P1.d2": [Variant("hd.derivative(f, 2) (Taylor mode)", lambda: d2(x0), primary=True),
                      Variant("hd.hvp(f, x, 1.0) (forward-over-reverse)", lambda: hd.hvp(f, x0, 1.0)),
                      Variant("hd.grad(hd.grad(f))", lambda: gg(x0)),
                      Variant("hd.tensor double backward (create_graph=True)", tensor_d2, out=_np)]}


def p2(x, v):
    f = lambda x: P.p2_f(x, np)
    if JIT:
        return {"grad": [_compiled("hd.grad(f)", lambda: hd.grad(f), (x,), primary=True, memory=True)],
                "hvp": [_compiled("lambda x, v: hd.hvp(f, x, v)", lambda: (lambda x, v: hd.hvp(f, x, v)), (x, v),
                                  primary=True, memory=True)]}
    g = hd.grad(f)

    def tensor_grad():
        t = hd.tensor(x, requires_grad=True)
        f(t).backward()
        return t.grad

    return {"grad": [Variant("hd.grad(f)(x)", lambda: g(x), primary=True, memory=True),
                     Variant("hd.tensor + backward()", tensor_grad, out=_np, memory=True)],
            "hvp": [Variant("hd.hvp(f, x, v) (forward-over-reverse)", lambda: hd.hvp(f, x, v), primary=True,
                            memory=True)]}


def p3(theta, v, X, Y):
    f = lambda t: P.p3_f(t, np, X, Y)
    if JIT:
        return {"grad": [_compiled("hd.grad(f)", lambda: hd.grad(f), (theta,), primary=True)],
                "hvp": [_compiled("lambda t, v: hd.hvp(f, t, v)", lambda: (lambda t, v: hd.hvp(f, t, v)),
                                  (theta, v), primary=True)]}
    g = hd.grad(f)
    return {"grad": [Variant("hd.grad(f)(theta)", lambda: g(theta), primary=True)],
            "hvp": [Variant("hd.hvp(f, theta, v)", lambda: hd.hvp(f, theta, v), primary=True)]}


def p4(x, A):
    f = lambda x: P.p4_f(x, np, A)
    if JIT:
        return {"hess": [_compiled("hd.hessian(f)", lambda: hd.hessian(f), (x,), primary=True)]}
    h = hd.hessian(f)
    return {"hess": [Variant("hd.hessian(f)(x)", lambda: h(x), primary=True)]}


def p5(x0):
    f = lambda x: P.p5_f(x, np)
    if JIT:
        return {"d3": [_compiled("hd.derivative(f, 3)", lambda: hd.derivative(f, 3), (x0,),
                                 primary=True, note="Taylor mode"),
                       _compiled("hd.grad(hd.grad(hd.grad(f)))", lambda: hd.grad(hd.grad(hd.grad(f))), (x0,))]}
    d3 = hd.grad(hd.grad(hd.grad(f)))
    dd = hd.derivative(f, 3)   # hodiff's API for a scalar function's higher derivatives (Taylor mode)
    return {"d3": [Variant("hd.derivative(f, 3) (Taylor mode)", lambda: dd(x0), primary=True),
                   Variant("hd.grad(hd.grad(hd.grad(f)))", lambda: d3(x0))]}
