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
from ._numpy import *  # noqa: F401,F403 - numpy's names, differentiable
from ._numpy import __all__ as _numpy_all
from ._shape import *  # noqa: F401,F403
from ._shape import __all__ as _shape_all
from ._prims_math import erf, erfc, expit, gammaln, digamma, polygamma, log_ndtr, logit, ndtr, xlog1py, xlogy  # noqa: F401
from ._dispatch import register_function
from ._check import CheckReport, check
from ._prims import getitem, scatter_add
from ._tensor import Tensor
from . import linalg, special  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Dual", "tensor", "arange", "zeros", "ones", "zeros_like", "ones_like", "full", "eye", "linspace",
    "randn", "rand", "manual_seed", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "autograd",
    "grad", "value_and_grad", "jvp", "vjp", "hvp", "hessian", "jacfwd", "jacrev", "jacobian",
    "PRIMITIVES", "Primitive", "bind", "HodiffError", "EscapedBoxError", "linalg", "special", "scatter_add",
    "register_function", "check", "CheckReport",
] + _numpy_all + _shape_all
