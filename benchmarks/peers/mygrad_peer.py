"""MyGrad (reverse mode over numpy, first order only: no HVP, Hessian or higher derivatives)."""
import mygrad as mg
import problems as P

from peers import Variant

NAME = "mygrad"


def setup():
    pass


def versions():
    return {"mygrad": mg.__version__}


def p1(x0):
    def vg():
        x = mg.tensor(x0)
        y = P.p1_f(x, mg)
        y.backward()
        return y.item(), x.grad
    return {"P1.vg": [Variant("tensor + backward()", vg, out=lambda r: r[1], primary=True)]}


def _grad(f, x):
    def run():
        t = mg.tensor(x, copy=False)
        f(t).backward()
        return t.grad
    return run


def p2(x, v):
    return {"grad": [Variant("tensor + backward()", _grad(lambda t: P.p2_f(t, mg), x), primary=True,
                             memory=True)]}


def p3(theta, v, X, Y):
    return {"grad": [Variant("tensor + backward()", _grad(lambda t: P.p3_f(t, mg, X, Y), theta), primary=True)]}


def p4(x, A):
    return {}


def p5(x0):
    return {}
