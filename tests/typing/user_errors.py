"""Calls a type checker must flag: ``tests/test_typing.py`` runs mypy on this file and expects, on each line marked
``# E: <code>``, an error with that code, and no error on any other line. Never run as a program.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import hodiff as hd


def f(x: Any) -> Any:
    return hd.sum(x ** 2)


x = np.ones(3)
hd.grad(f, argnums="zero")  # E: arg-type
hd.hvp(f, x)  # E: call-arg
hd.hessian(f, argnums=1.5)  # E: arg-type
hd.tensor([1.0], requires_grad="yes")  # E: arg-type
hd.tree.ravel(x, x)  # E: call-arg
