"""``hodiff.linalg``: the differentiable part of ``numpy.linalg`` (more arrives with the coverage work)."""
from ._numpy import norm

__all__ = ["norm"]
