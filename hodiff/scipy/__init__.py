"""``hodiff.scipy``: differentiable twins of scipy's Python-level functions, with scipy's names and signatures.

scipy's ufuncs (``scipy.special.erf`` and friends) already dispatch to hodiff when called on a hodiff value; the
functions here are the ones scipy writes in Python (they call ``np.asarray`` on their input, so no numpy protocol
reaches hodiff). Each is declared through the primitive table or as a composite of it, so it is differentiable to any
order in forward and reverse mode.
"""
from __future__ import annotations

from . import integrate, linalg, optimize, signal, special, stats

__all__: list[str] = ["integrate", "linalg", "optimize", "signal", "special", "stats"]
