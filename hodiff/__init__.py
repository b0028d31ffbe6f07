"""hodiff: first and higher-order derivatives of ordinary numpy code.

Two ways in, one engine:

* the tensor API (PyTorch / MXNet semantics): ``x = hd.tensor(..., requires_grad=True)``, ``y.backward()``,
  ``x.grad``, ``hd.no_grad()``, ``hd.autograd.record()``;
* the functional API (JAX / HIPS-autograd style) over plain numpy arrays: ``hd.grad``, ``hd.hvp``, ``hd.hessian``,
  ``hd.jacfwd``, ``hd.jacrev``, ``hd.jvp``, ``hd.vjp``.

Functions may be written with ``hd`` functions or plain numpy (``np.sin(x)``, ``A @ x``, ``np.sum(x)``): numpy calls on
hodiff values dispatch to hodiff.
"""
from . import autograd
from ._core import PRIMITIVES, EscapedBoxError, HodiffError, Primitive, bind
from ._creation import arange, eye, full, linspace, manual_seed, ones, ones_like, rand, randn, tensor, zeros, \
    zeros_like
from ._forward import Dual
from ._functional import grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp
from ._modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ._numpy import (abs, absolute, add, amax, amin, broadcast_to, clip, concatenate, cos, divide, dot, exp,
                     expand_dims, inner, log, logsumexp, matmul, max, maximum, mean, min, minimum, moveaxis,
                     multiply, negative, norm, outer, positive, power, ravel, reshape, sin, sqrt, square, squeeze,
                     stack, std, stop_gradient, subtract, sum, swapaxes, tan, tanh, tensordot, transpose, var,
                     vdot, where)
from ._prims import getitem, scatter_add
from ._tensor import Tensor
from . import linalg  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Dual", "tensor", "arange", "zeros", "ones", "zeros_like", "ones_like", "full", "eye", "linspace",
    "randn", "rand", "manual_seed", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "autograd",
    "grad", "value_and_grad", "jvp", "vjp", "hvp", "hessian", "jacfwd", "jacrev", "jacobian",
    "PRIMITIVES", "Primitive", "bind", "HodiffError", "EscapedBoxError", "linalg",
    "abs", "absolute", "add", "amax", "amin", "broadcast_to", "clip", "concatenate", "cos", "divide", "dot", "exp",
    "expand_dims", "getitem", "inner", "log", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum",
    "moveaxis", "multiply", "negative", "norm", "outer", "positive", "power", "ravel", "reshape", "scatter_add",
    "sin", "sqrt", "square", "squeeze", "stack", "std", "stop_gradient", "subtract", "sum", "swapaxes", "tan",
    "tanh", "tensordot", "transpose", "var", "vdot", "where",
]
