"""Shared reporting for the finding reproducers in this folder: each script prints what it expected and what it
got for every case, and exits with status 1 while any case still reproduces (0 once all are fixed)."""
from __future__ import annotations

import warnings

import numpy as np

_bad = []


def case(title: str, expected: str, compute, wrong) -> None:
    """Run ``compute()``; the case reproduces when ``wrong(result)`` is true (an exception is printed as got)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            got = compute()
            bad = bool(wrong(got))
        except Exception as exc:                      # noqa: BLE001 -- an exception is reported as the result
            got, bad = f"raises {type(exc).__name__}: {exc}", bool(wrong(exc))
    print(f"{'REPRODUCES' if bad else 'fixed     '}  {title}\n    expected: {expected}\n    got:      {got!r}")
    if bad:
        _bad.append(title)


def done() -> None:
    print(f"{len(_bad)} case(s) reproduce")
    raise SystemExit(1 if _bad else 0)


def isclose(a, b) -> bool:
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-9, atol=1e-12)
