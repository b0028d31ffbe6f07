"""hodiff: first and higher-order derivatives of ordinary numpy code.

Two ways in, one engine:

* the tensor API (PyTorch / MXNet semantics): ``x = hd.tensor(..., requires_grad=True)``, ``y.backward()``,
  ``x.grad``, ``hd.no_grad()``, ``hd.autograd.record()``;
* the functional API (JAX / HIPS-autograd style) over plain numpy arrays: ``hd.grad``, ``hd.hvp``, ``hd.hessian``,
  ``hd.jacfwd``, ``hd.jacrev``, ``hd.jvp``, ``hd.vjp``.

Functions may be written with ``hd`` functions or plain numpy (``np.sin(x)``, ``A @ x``, ``np.sum(x)``): numpy calls on
hodiff values dispatch to hodiff.
"""
from . import autograd, linalg, special
from ._check import CheckReport, check
from ._core import PRIMITIVES, EscapedBoxError, HodiffError, Primitive, bind
from ._creation import arange, eye, full, linspace, manual_seed, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from ._dispatch import register_function
from ._forward import Dual
from ._functional import grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp
from ._modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ._numpy import *
from ._numpy import __all__ as _numpy_all
from ._prims import scatter_add
from ._prims_math import digamma, erf, erfc, expit, gammaln, log_ndtr, logit, ndtr, polygamma, xlog1py, xlogy  # noqa: F401
from ._shape import *
from ._shape import __all__ as _shape_all
from ._tensor import Tensor

__version__ = "0.1.0"

__all__ = [  # noqa: PLE0605 - extended with numpy's names below
    "Tensor", "Dual", "tensor", "arange", "zeros", "ones", "zeros_like", "ones_like", "full", "eye", "linspace",
    "randn", "rand", "manual_seed", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "autograd",
    "grad", "value_and_grad", "jvp", "vjp", "hvp", "hessian", "jacfwd", "jacrev", "jacobian",
    "PRIMITIVES", "Primitive", "bind", "HodiffError", "EscapedBoxError", "linalg", "special", "scatter_add",
    "register_function", "check", "CheckReport",
]
__all__ += _numpy_all + _shape_all
