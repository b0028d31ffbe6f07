"""``hodiff.scipy.special``: ``scipy.special`` with scipy's names and signatures, differentiable to any order.

Where it sits: the ufuncs here are primitives of hodiff's table (declared in ``_special_table.py`` and
``_bessel_table.py``, with scipy's ufunc as the implementation, so values are scipy's exactly); ``logsumexp``,
``softmax``, ``log_softmax``, ``multigammaln`` and ``softplus`` are composites of primitives; the functions hodiff
already had (``erf``, ``gammaln``, ``polygamma``, ...) are re-exported. Everything works in forward and reverse mode,
nested to any order, and in Taylor mode (``hodiff.derivative``).

Not differentiated, by design: order arguments (``v`` of ``jv``, ``n`` of ``yn``/``polygamma``, ``d`` of
``multigammaln``), which are plain numbers; ``gammasgn`` (piecewise constant), which returns plain values. Not
provided: the derivatives of ``gammainc``, ``gammaincc``, ``betainc`` and their inverses in the shape parameters
``a``/``b``, and of ``zeta`` in its exponent; a traced value there raises :class:`UnsupportedDerivativeError` naming
the function and the argument (so does a traced order).

Plain scipy calls (``scipy.special.gamma(x)`` on a hodiff value) reach these functions once ``SCIPY_UFUNCS`` (at
the end of this module) is merged into hodiff's ufunc dispatch table.
"""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import scipy.special as sp
from numpy.typing import ArrayLike

import hodiff as hd

from . import _bessel_table as B
from . import _special_table as T
from ._special_table import Unsupported, UnsupportedDerivativeError, _plain

# how generated signatures show their arguments (inspect, help(), the API page)
_ARRAY_LABEL = "np.ndarray | float | hodiff value"


def _traced(v) -> bool:
    """Whether ``v`` carries a derivative (a hodiff value being differentiated)."""
    if isinstance(v, (hd.Dual, hd.Jet)):
        return True
    return isinstance(v, hd.Tensor) and v._needs_derivative()


_ORDER = "the order of a Bessel-type function is not a differentiable argument"
_NO_SERIES = "no accurate series for the derivative in a shape parameter is implemented"


def _const(fn: str, name: str, v, why: str):
    """A plain value for a non-differentiated argument; a traced one is an error naming ``fn`` and ``name``."""
    if _traced(v):
        Unsupported(fn, name, why)()
    v = _plain(v)
    return v[()] if v.ndim == 0 else v


def _make(name, prim, argnames, summary, deriv, example, consts=(), why=_ORDER):
    """A public function ``name(*argnames)`` (scipy's positional order) applying ``prim``: the arguments named in
    ``consts`` go to the primitive as keyword parameters (not differentiated; a traced one raises, saying ``why``),
    the others positionally. Its docstring is numpydoc."""
    def fn(*args):
        if len(args) != len(argnames):
            raise TypeError(f"{name}() takes {len(argnames)} positional arguments ({', '.join(argnames)}), "
                            f"got {len(args)}")
        pos = [a for n, a in zip(argnames, args) if n not in consts]
        return hd.bind(prim, *pos, **{n: _const(name, n, a, why) for n, a in zip(argnames, args) if n in consts})
    fn.__name__ = fn.__qualname__ = name
    fn.prim, fn.consts = prim, tuple(consts)   # the table entry and the plain arguments, for the docs' tables
    fn.__signature__ = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_ONLY,
                                                            annotation=_ARRAY_LABEL) for p in argnames],
                                         return_annotation=_ARRAY_LABEL)
    plist = "\n".join(f"{p} : array_like\n    {'Not differentiated: ' + why + '.' if p in consts else 'Input.'}"
                      for p in argnames)
    fn.__doc__ = (f"{summary}\n\nSame as ``scipy.special.{name}`` (values from scipy's ufunc); elementwise with "
                  f"numpy broadcasting.\n\nParameters\n----------\n{plist}\n\nReturns\n-------\nndarray or hodiff "
                  f"value\n    The broadcast shape of the inputs.\n\nNotes\n-----\nDerivatives: {deriv}\n\n"
                  f"Examples\n--------\n>>> import hodiff as hd\n>>> from hodiff.scipy import special\n{example}\n")
    return fn


# ------------------------------------------------------------------------------------------------------------------
# gamma family

gamma = _make("gamma", T.gamma, ("x",), "The gamma function Gamma(x).", "Gamma'(x) = Gamma(x) psi(x).",
              ">>> float(hd.grad(special.gamma)(2.0))   # psi(2) = 1 - euler_gamma\n0.42278433509846713")
rgamma = _make("rgamma", T.rgamma, ("x",), "The reciprocal gamma function 1 / Gamma(x).",
               "(1/Gamma)'(x) = -psi(x) / Gamma(x); nan at the non-positive integers (the zeros of "
               "1/Gamma, where psi has its poles), not the limit.", ">>> float(special.rgamma(3.0))\n0.5")
beta = _make("beta", T.beta, ("a", "b"), "The beta function B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b).",
             "dB/da = B (psi(a) - psi(a + b)), and symmetrically in b.", ">>> float(special.beta(2.0, 3.0))\n"
             "0.08333333333333333")
betaln = _make("betaln", T.betaln, ("a", "b"), "log |B(a, b)|.", "d/da = psi(a) - psi(a + b), symmetrically in b.",
               ">>> float(hd.grad(special.betaln)(1.0, 1.0))   # psi(1) - psi(2)\n-1.0")
poch = _make("poch", T.poch, ("z", "m"), "The Pochhammer symbol (rising factorial) Gamma(z + m) / Gamma(z).",
             "d/dz = poch (psi(z + m) - psi(z)), d/dm = poch psi(z + m).", ">>> float(special.poch(2.0, 3.0))\n24.0")
binom = _make("binom", T.binom, ("n", "k"),
              "The binomial coefficient Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)).",
              "d/dn = binom (psi(n + 1) - psi(n - k + 1)), d/dk = binom (psi(n - k + 1) - psi(k + 1)).",
              ">>> float(special.binom(5.0, 2.0))\n10.0")
gammainc = _make("gammainc", T.gammainc, ("a", "x"), "The regularized lower incomplete gamma function P(a, x).",
                 "dP/dx = x^(a-1) e^-x / Gamma(a); the derivative in a raises UnsupportedDerivativeError.",
                 ">>> float(hd.grad(special.gammainc, argnums=1)(1.0, 0.0))   # e^-x at 0\n1.0",
                 consts=("a",), why=_NO_SERIES)
gammaincc = _make("gammaincc", T.gammaincc, ("a", "x"), "The regularized upper incomplete gamma function Q(a, x).",
                  "dQ/dx = -x^(a-1) e^-x / Gamma(a); the derivative in a raises UnsupportedDerivativeError.",
                  ">>> float(special.gammaincc(1.0, 0.0))\n1.0", consts=("a",), why=_NO_SERIES)
betainc = _make("betainc", T.betainc, ("a", "b", "x"), "The regularized incomplete beta function I_x(a, b).",
                "dI/dx = x^(a-1) (1-x)^(b-1) / B(a, b); the derivatives in a and b raise "
                "UnsupportedDerivativeError.", ">>> float(hd.grad(special.betainc, argnums=2)(1.0, 1.0, 0.3))\n1.0",
                consts=("a", "b"), why=_NO_SERIES)

# ------------------------------------------------------------------------------------------------------------------
# error functions, logistic, entropies, zeta, Box-Cox

erfinv = _make("erfinv", T.erfinv, ("y",), "The inverse of erf.", "erfinv'(y) = sqrt(pi)/2 exp(erfinv(y)^2).",
               ">>> float(hd.grad(special.erfinv)(0.0))\n0.8862269254527579")
erfcinv = _make("erfcinv", T.erfcinv, ("y",), "The inverse of erfc.",
                "erfcinv'(y) = -sqrt(pi)/2 exp(erfcinv(y)^2).", ">>> round(float(special.erfcinv(0.5)), 6)\n0.476936")
erfcx = _make("erfcx", T.erfcx, ("x",), "The scaled complementary error function exp(x^2) erfc(x).",
              "erfcx'(x) = 2 x erfcx(x) - 2 / sqrt(pi).", ">>> float(special.erfcx(0.0))\n1.0")
ndtri = _make("ndtri", T.ndtri, ("y",), "The inverse of the standard normal CDF.",
              "ndtri'(y) = sqrt(2 pi) exp(ndtri(y)^2 / 2).", ">>> float(hd.grad(special.ndtri)(0.5))\n"
              "2.5066282746310002")
ndtri_exp = _make("ndtri_exp", T.ndtri_exp, ("y",), "ndtri(exp(y)), accurate for very negative y.",
                  "d/dy = e^y sqrt(2 pi) exp(ndtri_exp(y)^2 / 2).",
                  ">>> round(float(special.ndtri_exp(-1.0)), 6)\n-0.337475")
log_expit = _make("log_expit", T.log_expit, ("x",), "log(expit(x)) = -log(1 + exp(-x)), accurate in both tails.",
                  "d/dx = expit(-x).", ">>> float(hd.grad(special.log_expit)(0.0))\n0.5")
entr = _make("entr", T.entr, ("x",), "-x log(x) (0 at 0, -inf for x < 0).", "d/dx = -(log(x) + 1).",
             ">>> float(hd.grad(special.entr)(1.0))\n-1.0")
rel_entr = _make("rel_entr", T.rel_entr, ("x", "y"), "x log(x / y) (the relative entropy summand).",
                 "d/dx = log(x / y) + 1, d/dy = -x / y.", ">>> float(special.rel_entr(1.0, 1.0))\n0.0")
kl_div = _make("kl_div", T.kl_div, ("x", "y"), "x log(x / y) - x + y.", "d/dx = log(x / y), d/dy = 1 - x / y.",
               ">>> float(special.kl_div(1.0, 1.0))\n0.0")
boxcox = _make("boxcox", T.boxcox, ("x", "lmbda"), "The Box-Cox transform (x^lmbda - 1) / lmbda (log(x) at 0).",
               "d/dx = x^(lmbda-1); d/dlmbda = (x^lmbda log x - boxcox) / lmbda, by its power series for small "
               "|lmbda log x| (log(x)^2 / 2 at lmbda = 0).", ">>> float(special.boxcox(1.0, 0.5))\n0.0")
gammaincinv = _make("gammaincinv", T.gammaincinv, ("a", "y"), "The inverse of gammainc in x: P(a, x) = y.",
                    "dx/dy = Gamma(a) x^(1-a) e^x; the derivative in a raises UnsupportedDerivativeError.",
                    ">>> float(hd.grad(special.gammaincinv, argnums=1)(1.0, 0.0))   # x = -log(1 - y)\n1.0",
                    consts=("a",), why=_NO_SERIES)
gammainccinv = _make("gammainccinv", T.gammainccinv, ("a", "y"), "The inverse of gammaincc in x: Q(a, x) = y.",
                     "dx/dy = -Gamma(a) x^(1-a) e^x; the derivative in a raises UnsupportedDerivativeError.",
                     ">>> float(hd.grad(special.gammainccinv, argnums=1)(1.0, 1.0))   # x = -log(y)\n-1.0",
                     consts=("a",), why=_NO_SERIES)
betaincinv = _make("betaincinv", T.betaincinv, ("a", "b", "y"), "The inverse of betainc in x: I_x(a, b) = y.",
                   "dx/dy = B(a, b) x^(1-a) (1-x)^(1-b); the derivatives in a and b raise "
                   "UnsupportedDerivativeError.", ">>> float(special.betaincinv(1.0, 1.0, 0.25))\n0.25",
                   consts=("a", "b"), why=_NO_SERIES)
exp1 = _make("exp1", T.exp1, ("x",), "The exponential integral E_1(x) = int_1^inf e^(-x t) / t dt.",
             "E_1' = -e^-x / x.", ">>> round(float(special.exp1(1.0)), 6)\n0.219384")
expi = _make("expi", T.expi, ("x",), "The exponential integral Ei(x).", "Ei' = e^x / x.",
             ">>> round(float(hd.grad(special.expi)(1.0)), 6)\n2.718282")
expn = _make("expn", T.expn, ("n", "x"), "The generalized exponential integral E_n(x) of integer order n.",
             "E_n' = -E_{n-1} in x (E_0 = e^-x / x).", ">>> round(float(special.expn(1, 1.0)), 6)\n0.219384",
             consts=("n",))
exp10 = _make("exp10", T.exp10, ("x",), "10 ** x.", "d/dx = log(10) 10^x.", ">>> float(special.exp10(2.0))\n100.0")


def zeta(x: ArrayLike, q: ArrayLike | None = None) -> Any:
    """The Riemann zeta function zeta(x), or the Hurwitz zeta function zeta(x, q) = sum_k (k + q)^-x.

    Same as ``scipy.special.zeta``; elementwise with broadcasting.

    Parameters
    ----------
    x : array_like
        The exponent (> 1). Not differentiable: a traced ``x`` raises :class:`UnsupportedDerivativeError`.
    q : array_like, optional
        The shift (> 0); differentiable, d/dq zeta(x, q) = -x zeta(x + 1, q). ``None`` gives Riemann's zeta.

    Returns
    -------
    ndarray or hodiff value
        The broadcast shape of ``x`` and ``q``.

    Examples
    --------
    >>> import hodiff as hd
    >>> from hodiff.scipy import special
    >>> float(hd.grad(lambda q: special.zeta(2.0, q))(1.0))   # -2 zeta(3)
    -2.404113806319188
    """
    x = _const("zeta", "x", x, "the derivative of the zeta function in its exponent is not implemented")
    if q is None:
        return sp.zeta(x)
    return hd.bind(T.zeta, q, x=x)


# ------------------------------------------------------------------------------------------------------------------
# Bessel functions

_BES = "C_v' = (C_{v-1} - C_{v+1}) / 2 in x (the order is not differentiated)."
jv = _make("jv", B.jv, ("v", "x"), "The Bessel function of the first kind J_v(x) of real order v.", _BES,
           ">>> float(hd.grad(lambda x: special.jv(1, x))(0.0))\n0.5", consts=("v",))
jn = _make("jn", B.jv, ("v", "x"), "J_n(x), the Bessel function of the first kind (scipy's jn is jv).", _BES,
           ">>> float(special.jn(0, 0.0))\n1.0", consts=("v",))
yv = _make("yv", B.yv, ("v", "x"), "The Bessel function of the second kind Y_v(x) of real order v.", _BES,
           ">>> round(float(special.yv(0, 1.0)), 6)\n0.088257", consts=("v",))
yn = _make("yn", B.yn, ("n", "x"), "The Bessel function of the second kind Y_n(x) of integer order n.", _BES,
           ">>> round(float(special.yn(0, 1.0)), 6)\n0.088257", consts=("n",))
iv = _make("iv", B.iv, ("v", "x"), "The modified Bessel function of the first kind I_v(x).",
           "I_v' = (I_{v-1} + I_{v+1}) / 2 in x.", ">>> float(special.iv(0, 0.0))\n1.0", consts=("v",))
ive = _make("ive", B.ive, ("v", "x"), "The exponentially scaled I_v(x) exp(-|x|).",
            "(I_{v-1} + I_{v+1}) e^-|x| / 2 - sign(x) ive in x (at x = 0, a kink of e^-|x|, the mean of the "
            "one-sided derivatives).", ">>> float(special.ive(0, 0.0))\n1.0", consts=("v",))
kv = _make("kv", B.kv, ("v", "x"), "The modified Bessel function of the second kind K_v(x).",
           "K_v' = -(K_{v-1} + K_{v+1}) / 2 in x.", ">>> round(float(special.kv(0.5, 1.0)), 6)\n0.461069",
           consts=("v",))
kve = _make("kve", B.kve, ("v", "x"), "The exponentially scaled K_v(x) exp(x).",
            "kve - (kve_{v-1} + kve_{v+1}) / 2 in x.",
            ">>> round(float(special.kve(0.5, 1.0)), 6)\n1.253314", consts=("v",))
j0 = _make("j0", B.j0, ("x",), "J_0(x).", "J_0' = -J_1.", ">>> float(special.j0(0.0))\n1.0")
j1 = _make("j1", B.j1, ("x",), "J_1(x).", "J_1' = (J_0 - J_2) / 2.", ">>> float(hd.grad(special.j1)(0.0))\n0.5")
y0 = _make("y0", B.y0, ("x",), "Y_0(x).", "Y_0' = -Y_1.", ">>> round(float(special.y0(1.0)), 6)\n0.088257")
y1 = _make("y1", B.y1, ("x",), "Y_1(x).", "Y_1' = (Y_0 - Y_2) / 2.", ">>> round(float(special.y1(1.0)), 6)\n-0.781213")
i0 = _make("i0", B.i0, ("x",), "I_0(x).", "I_0' = I_1.", ">>> float(special.i0(0.0))\n1.0")
i1 = _make("i1", B.i1, ("x",), "I_1(x).", "I_1' = (I_0 + I_2) / 2.", ">>> float(hd.grad(special.i1)(0.0))\n0.5")
i0e = _make("i0e", B.i0e, ("x",), "I_0(x) exp(-|x|).",
            "i1e - sign(x) i0e (the mean of the one-sided derivatives at the kink x = 0).",
            ">>> float(special.i0e(0.0))\n1.0")
i1e = _make("i1e", B.i1e, ("x",), "I_1(x) exp(-|x|).",
            "(i0e + ive(2)) / 2 - sign(x) i1e (the mean of the one-sided derivatives at x = 0).",
            ">>> float(special.i1e(0.0))\n0.0")
k0 = _make("k0", B.k0, ("x",), "K_0(x).", "K_0' = -K_1.", ">>> round(float(special.k0(1.0)), 6)\n0.421024")
k1 = _make("k1", B.k1, ("x",), "K_1(x).", "K_1' = -(K_0 + K_2) / 2.", ">>> round(float(special.k1(1.0)), 6)\n0.601907")
k0e = _make("k0e", B.k0e, ("x",), "K_0(x) exp(x).", "k0e - k1e.", ">>> round(float(special.k0e(1.0)), 6)\n1.144463")
kn = _make("kn", B.kn, ("n", "x"), "The modified Bessel function of the second kind K_n(x) of integer order n.",
           "K_n' = -(K_{n-1} + K_{n+1}) / 2 in x.", ">>> round(float(special.kn(1, 1.0)), 6)\n0.601907", consts=("n",))
k1e = _make("k1e", B.k1e, ("x",), "K_1(x) exp(x).", "k1e - (k0e + kve(2)) / 2.",
            ">>> round(float(special.k1e(1.0)), 6)\n1.636153")

from ._special_composites import (  # noqa: E402  (they use the functions above)
    gammasgn,
    log_softmax,
    logsumexp,
    multigammaln,
    softmax,
    softplus,
)

# ------------------------------------------------------------------------------------------------------------------
# already in hodiff: re-exported under scipy's names

cbrt, expm1, log1p, exp2, sinc = hd.cbrt, hd.expm1, hd.log1p, hd.exp2, hd.sinc
digamma, erf, erfc, expit, gammaln = hd.digamma, hd.erf, hd.erfc, hd.expit, hd.gammaln
log_ndtr, logit, ndtr, polygamma, xlog1py, xlogy = hd.log_ndtr, hd.logit, hd.ndtr, hd.polygamma, hd.xlog1py, hd.xlogy
psi = digamma

__all__ = [
    "UnsupportedDerivativeError", "beta", "betainc", "betaincinv", "betaln", "binom", "boxcox", "cbrt", "digamma",
    "entr", "erf", "erfc", "erfcinv", "erfcx", "erfinv", "exp1", "exp10", "exp2", "expi", "expit", "expm1", "expn",
    "gamma", "gammainc", "gammaincc", "gammainccinv", "gammaincinv", "gammaln", "gammasgn", "i0", "i0e", "i1", "i1e",
    "iv", "ive", "j0", "j1", "jn", "jv", "k0", "k0e", "k1", "k1e", "kl_div", "kn", "kv", "kve", "log1p", "log_expit",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "ndtri_exp", "poch",
    "polygamma", "psi", "rel_entr", "rgamma", "sinc", "softmax", "softplus", "xlog1py", "xlogy", "y0", "y1", "yn",
    "yv", "zeta",
]

#: scipy's ufuncs -> the functions here, for numpy's dispatch (``scipy.special.gamma(x)`` on a hodiff value): the
#: integrator merges it into ``hodiff._dispatch.HANDLED_UFUNCS`` (``gammasgn`` goes to the non-differentiable ones).
SCIPY_UFUNCS = {getattr(sp, _n): globals()[_n] for _n in __all__
                if isinstance(getattr(sp, _n, None), np.ufunc) and _n != "gammasgn"}


def _register_ufuncs():
    """Plain ``scipy.special.NAME(x)`` calls on hodiff values dispatch to the functions above."""
    from .._src.numpy.dispatch import HANDLED_UFUNCS, NONDIFF, nondiff

    HANDLED_UFUNCS.update(SCIPY_UFUNCS)
    NONDIFF[sp.gammasgn] = nondiff(sp.gammasgn)


_register_ufuncs()
