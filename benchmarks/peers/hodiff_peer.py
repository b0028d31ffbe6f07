"""hodiff, through its public API only; user functions are the plain-numpy functions of problems.py."""
import numpy as np
import problems as P

import hodiff as hd
from peers import Variant

NAME = "hodiff"


def setup():
    pass


def versions():
    return {"hodiff": hd.__version__}


def _np(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t, dtype=np.float64)


def p1(x0):
    f = lambda x: P.p1_f(x, np)
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
    g = hd.grad(f)
    return {"grad": [Variant("hd.grad(f)(theta)", lambda: g(theta), primary=True)],
            "hvp": [Variant("hd.hvp(f, theta, v)", lambda: hd.hvp(f, theta, v), primary=True)]}


def p4(x, A):
    h = hd.hessian(lambda x: P.p4_f(x, np, A))
    return {"hess": [Variant("hd.hessian(f)(x)", lambda: h(x), primary=True)]}


def p5(x0):
    f = lambda x: P.p5_f(x, np)
    d3 = hd.grad(hd.grad(hd.grad(f)))
    dd = hd.derivative(f, 3)   # hodiff's API for a scalar function's higher derivatives (Taylor mode)
    return {"d3": [Variant("hd.derivative(f, 3) (Taylor mode)", lambda: dd(x0), primary=True),
                   Variant("hd.grad(hd.grad(hd.grad(f)))", lambda: d3(x0))]}
