"""The "SciPy functions" table (``hodiff/scipy/_catalog.py``, rendered into ``docs/scipy.md``) holds no
disagreement and covers every public function of ``hodiff.scipy``; and the probe it is built from does catch a
wrong derivative and an unexpected crash (so a ✓ in the table means something)."""
from __future__ import annotations

import numpy as np
import pytest

import hodiff as hd
from hodiff import scipy as hs
from hodiff.scipy import _catalog as C


@pytest.fixture(scope="module")
def found():
    return C.probe_all()


def test_no_mismatch_and_no_crash(found):
    bad = [(e.module, e.name, p.arg, p.modes, p.message) for e, ps in found for p in ps
           if p.status in ("mismatch", "error") or any(m in ("mismatch", "error") for m in p.modes.values())]
    assert not bad, bad


def test_every_public_function_is_in_the_table(found):
    names = {(e.module, e.name.split(".")[0].split(" ")[0]) for e, _ in found}
    for module in ("special", "stats", "linalg", "signal", "integrate", "optimize"):
        mod = getattr(hs, module)
        public = {n for n in mod.__all__ if callable(getattr(mod, n)) and not isinstance(getattr(mod, n), type)}
        missing = {n for n in public if (module, n) not in names}
        assert not missing, (module, missing)


def test_every_traced_argument_differentiates_in_some_row(found):
    # the table is not made of refusals: each function has an argument that works forward and reverse
    for e, ps in found:
        if e.name == "gammasgn":
            continue
        assert any(p.status == "ok" for p in ps), e.name


def test_known_refusals_are_recorded(found):
    rows = {(e.module, e.name): {p.arg: p for p in ps} for e, ps in found}
    assert rows[("special", "gammainc")]["a"].status == "refused"
    assert rows[("special", "jv")]["v"].status == "refused"
    assert rows[("stats", "t.cdf")]["df"].status == "refused"
    assert rows[("stats", "poisson.logpmf")]["k"].status == "integer"


def _wrong(x):
    return hd.bind(_WRONG, x)


_WRONG = hd.Primitive("catalog_test_wrong_sin", np.sin, (lambda t, ans, x: hd.multiply(t, hd.sin(x)),),
                      (lambda g, ans, x: hd.multiply(g, hd.sin(x)),), elementwise=True)
hd.PRIMITIVES.pop(_WRONG.name)   # not a table entry: the generated table tests must not walk it


def test_probe_catches_a_wrong_rule():
    entry = C.Entry("test", "wrong_sin", _wrong, ("x",), (np.array([0.3, 0.9]),))
    (p,) = C.probe(entry)
    assert p.status == "mismatch" and p.modes["forward"] == "mismatch"


def test_probe_reports_a_crash_as_error():
    def crash(x):
        return np.asarray(x) * 2.0   # converts a traced value: an error, not a refusal with a reason
    entry = C.Entry("test", "crash", crash, ("x",), (np.array([0.3, 0.9]),))
    (p,) = C.probe(entry)
    assert p.status in ("error", "refused") and p.modes["forward"] != "ok"


def test_markdown_has_a_row_per_function():
    md = C.markdown()
    assert "| `logsumexp` | `a`, `b` |" in md
    assert "| `gamma` | `x` | — | ✓ | ✓ | ✓ | ✓ | works |" in md
    assert "mismatch" not in md and "error" not in md


def test_strict_markdown_refuses_a_wrong_rule(monkeypatch):
    monkeypatch.setattr(C, "entries", lambda: [C.Entry("special", "wrong_sin", _wrong, ("x",),
                                                       (np.array([0.3, 0.9]),))])
    with pytest.raises(RuntimeError, match="wrong_sin"):
        C.markdown()
