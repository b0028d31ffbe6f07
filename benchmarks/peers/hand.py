"""Hand-written numpy derivatives (the references, and the 'hand-written numpy' column)."""

import problems as P

from peers import Variant

NAME = "numpy (hand-written)"


def setup():
    pass


def versions():
    return {}


def p1(x0):
    return {"P1.vg": [Variant("forward-mode chain rule on numpy scalars", lambda: P.p1_hand_value_and_grad(x0),
                              out=lambda r: r[1], kind="hand", primary=True)],
            "P1.d2": [Variant("second-order chain rule on numpy scalars", lambda: P.p1_hand_d2(x0), kind="hand",
                              primary=True)]}


def p2(x, v):
    return {"grad": [Variant("hand-written gradient", lambda: P.p2_hand_grad(x), kind="hand", primary=True,
                             memory=True)],
            "hvp": [Variant("hand-written H v", lambda: P.p2_hand_hvp(x, v), kind="hand", primary=True,
                            memory=True)]}


def p3(theta, v, X, Y):
    return {"grad": [Variant("hand-written backprop", lambda: P.p3_hand_grad(theta, X, Y), kind="hand",
                             primary=True)],
            "hvp": [Variant("hand-written R-operator", lambda: P.p3_hand_hvp(theta, v, X, Y), kind="hand",
                            primary=True)]}


def p4(x, A):
    return {"hess": [Variant("analytic A^T (diag p - p p^T) A + I", lambda: P.p4_hand_hessian(x, A), kind="hand",
                             primary=True)]}


def p5(x0):
    return {"d3": [Variant("closed form", lambda: P.p5_hand_d3(x0), kind="hand", primary=True)]}
