"""HIPS autograd (reverse mode over numpy; higher order by nesting reverse over reverse)."""
import autograd
import autograd.numpy as anp
import problems as P

from peers import Variant

NAME = "autograd"


def setup():
    pass


def versions():
    from importlib.metadata import version
    return {"autograd": version("autograd")}


def p1(x0):
    f = lambda x: P.p1_f(x, anp)
    vg = autograd.value_and_grad(f)
    gg = autograd.grad(autograd.grad(f))
    return {"P1.vg": [Variant("value_and_grad(f)(x)", lambda: vg(x0), out=lambda r: r[1], primary=True)],
            "P1.d2": [Variant("grad(grad(f))", lambda: gg(x0), primary=True)]}


def p2(x, v):
    f = lambda x: P.p2_f(x, anp)
    g = autograd.grad(f)
    hvp = autograd.hessian_vector_product(f)
    return {"grad": [Variant("grad(f)(x)", lambda: g(x), primary=True, memory=True)],
            "hvp": [Variant("hessian_vector_product (reverse-over-reverse)", lambda: hvp(x, v), primary=True,
                            memory=True)]}


def p3(theta, v, X, Y):
    f = lambda t: P.p3_f(t, anp, X, Y)
    g = autograd.grad(f)
    hvp = autograd.hessian_vector_product(f)
    return {"grad": [Variant("grad(f)(theta)", lambda: g(theta), primary=True)],
            "hvp": [Variant("hessian_vector_product", lambda: hvp(theta, v), primary=True)]}


def p4(x, A):
    h = autograd.hessian(lambda x: P.p4_f(x, anp, A))
    return {"hess": [Variant("hessian(f)(x)", lambda: h(x), primary=True)]}


def p5(x0):
    d3 = autograd.grad(autograd.grad(autograd.grad(lambda x: P.p5_f(x, anp))))
    return {"d3": [Variant("grad(grad(grad(f)))", lambda: d3(x0), primary=True)]}
