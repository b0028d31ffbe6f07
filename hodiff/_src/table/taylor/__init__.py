"""Taylor-mode rules of the primitive table: output Taylor coefficients from input Taylor coefficients.

``series`` holds the registry :data:`TAYLOR_RULES` and the series arithmetic; the rules are in modules named after
the table's kinds. Importing this package registers all of them.
"""
from __future__ import annotations

from . import elementwise, linalg, structural  # noqa: F401  (importing registers the rules)
from .series import TAYLOR_RULES

__all__ = ["TAYLOR_RULES"]
