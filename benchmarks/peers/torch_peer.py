"""PyTorch 2.13.0 CPU, eager: torch.autograd (double backward for second order) and torch.func transforms.

One intra-op and one inter-op thread (the process is pinned to one core). numpy inputs enter through
torch.from_numpy (no copy) inside each timed call, as a user holding numpy arrays would do.
"""
import numpy as np
import problems as P

from peers import Variant

NAME = "torch"
torch = None


class _NS:
    """The numpy names the problems use, mapped onto torch."""

    def __init__(self, t):
        self.sin, self.exp, self.log, self.tanh = t.sin, t.exp, t.log, t.tanh
        self._t = t

    def sum(self, x, axis=None):
        return self._t.sum(x) if axis is None else self._t.sum(x, dim=axis)

    def mean(self, x, axis=None):
        return self._t.mean(x) if axis is None else self._t.mean(x, dim=axis)


def setup():
    global torch, xp
    import torch as _torch
    torch = _torch
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    xp = _NS(torch)


def versions():
    return {"torch": torch.__version__}


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)




def p1(x0):
    ag = torch.autograd
    f = lambda x: P.p1_f(x, xp)

    def vg():
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        y = f(x)
        (g,) = ag.grad(y, x)
        return y.item(), g.item()

    def vg_backward():
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        y = f(x)
        y.backward()
        return y.item(), x.grad.item()

    def d2():
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        (g,) = ag.grad(f(x), x, create_graph=True)
        (h,) = ag.grad(g, x)
        return h.item()

    fg = torch.func.grad(torch.func.grad(f))

    def d2_func():
        return fg(torch.tensor(x0, dtype=torch.float64)).item()

    return {"P1.vg": [Variant("autograd.grad", vg, out=lambda r: r[1], primary=True),
                      Variant("y.backward()", vg_backward, out=lambda r: r[1])],
            "P1.d2": [Variant("double backward (create_graph=True)", d2, primary=True),
                      Variant("torch.func.grad(torch.func.grad(f))", d2_func)]}


def _grad_hvp(f, x, v, tf_hvp=True):
    ag = torch.autograd
    vt = torch.from_numpy(v)

    def grad():
        xt = torch.from_numpy(x).requires_grad_(True)
        (g,) = ag.grad(f(xt), xt)
        return g

    def hvp():
        xt = torch.from_numpy(x).requires_grad_(True)
        (g,) = ag.grad(f(xt), xt, create_graph=True)
        (hv,) = ag.grad(g, xt, grad_outputs=vt)
        return hv

    fj = torch.func.grad(f)

    def hvp_func():
        return torch.func.jvp(fj, (torch.from_numpy(x),), (vt,))[1]

    return {"grad": [Variant("autograd.grad", grad, out=_np, primary=True)],
            "hvp": [Variant("double backward (create_graph=True)", hvp, out=_np, primary=True),
                    Variant("torch.func.jvp(torch.func.grad(f)) (forward-over-reverse)", hvp_func, out=_np)]}


def p2(x, v):
    return _grad_hvp(lambda t: P.p2_f(t, xp), x, v)


def p3(theta, v, X, Y):
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    return _grad_hvp(lambda t: P.p3_f(t, xp, Xt, Yt), theta, v)


def p4(x, A):
    At = torch.from_numpy(A)
    f = lambda t: P.p4_f(t, xp, At)
    hf = torch.func.hessian(f)
    H = torch.autograd.functional.hessian
    return {"hess": [Variant("autograd.functional.hessian", lambda: H(f, torch.from_numpy(x)), out=_np,
                             primary=True),
                     Variant("autograd.functional.hessian(vectorize=True)",
                             lambda: H(f, torch.from_numpy(x), vectorize=True), out=_np),
                     Variant("torch.func.hessian", lambda: hf(torch.from_numpy(x)), out=_np)]}


def p5(x0):
    ag = torch.autograd
    f = lambda x: P.p5_f(x, xp)

    def d3():
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        (g1,) = ag.grad(f(x), x, create_graph=True)
        (g2,) = ag.grad(g1, x, create_graph=True)
        (g3,) = ag.grad(g2, x)
        return g3.item()

    fg = torch.func.grad(torch.func.grad(torch.func.grad(f)))
    return {"d3": [Variant("triple backward (create_graph=True)", d3, primary=True),
                   Variant("torch.func.grad x3", lambda: fg(torch.tensor(x0, dtype=torch.float64)).item())]}
