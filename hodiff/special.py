"""``hodiff.special``: differentiable ``scipy.special`` functions.

The scipy ufuncs among them (``erf``, ``expit``, ``gammaln``, ...) also dispatch when called as ``scipy.special.erf(x)``
on a hodiff value; ``logsumexp``, ``softmax``, ``log_softmax`` and ``polygamma`` are Python functions in scipy, so call
them from here.
"""
from ._src.numpy.namespace import log_softmax, logsumexp, softmax
from ._src.table.special import digamma, erf, erfc, expit, gammaln, log_ndtr, logit, ndtr, polygamma, xlog1py, xlogy

psi = digamma

__all__ = [
           "digamma",
           "erf",
           "erfc",
           "expit",
           "gammaln",
           "log_ndtr",
           "log_softmax",
           "logit",
           "logsumexp",
           "ndtr",
           "polygamma",
           "psi",
           "softmax",
           "xlog1py",
           "xlogy",
]
