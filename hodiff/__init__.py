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
from ._prims import scatter_add
from ._prims_math import digamma, erf, erfc, expit, gammaln, log_ndtr, logit, ndtr, polygamma, xlog1py, xlogy  # noqa: F401
from ._shape import *
from ._tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "CheckReport", "Dual", "EscapedBoxError", "HodiffError", "PRIMITIVES", "Primitive", "Tensor", "abs", "absolute",
    "add", "amax", "amin", "arange", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "array_split", "atleast_1d", "atleast_2d", "autograd", "average", "bind", "broadcast_to", "cbrt", "check",
    "clip", "concatenate", "cos", "cosh", "cumprod", "cumsum", "deg2rad", "diag", "diagonal", "divide", "dot",
    "einsum", "enable_grad", "exp", "exp2", "expand_dims", "expm1", "eye", "flip", "fmax", "fmin", "full",
    "getitem", "grad", "hessian", "hstack", "hvp", "hypot", "index_add", "index_set", "inner", "is_grad_enabled",
    "jacfwd", "jacobian", "jacrev", "jvp", "kron", "linalg", "linspace", "log", "log10", "log1p", "log2",
    "log_softmax", "logaddexp", "logaddexp2", "logsumexp", "manual_seed", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mod", "moveaxis", "multiply", "negative", "no_grad", "norm", "ones", "ones_like", "outer", "pad",
    "positive", "power", "prod", "ptp", "rad2deg", "rand", "randn", "ravel", "reciprocal", "register_function",
    "remainder", "repeat", "roll", "scatter_add", "set_grad_enabled", "sin", "sinc", "sinh", "softmax", "sort",
    "special", "split", "sqrt", "square", "squeeze", "stack", "std", "stop_gradient", "subtract", "sum", "swapaxes",
    "take", "take_along_axis", "tan", "tanh", "tensor", "tensordot", "tile", "trace", "tril", "triu",
    "value_and_grad", "var", "vdot", "vjp", "vstack", "where", "zeros", "zeros_like",
]
