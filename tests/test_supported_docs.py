"""What the README's "What is supported" and ``docs/supported.md`` say about scipy holds for the installed code:
scipy's ufuncs work as plain calls, its Python-level functions do not (they need ``hodiff.scipy``), and complex
numbers / ``np.fft`` are refused with an error naming the function."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import scipy.special
import scipy.stats

import hodiff as hd
from hodiff._src.numpy import support as S
from hodiff.scipy import special as hs_special


def test_every_listed_scipy_ufunc_works_as_a_plain_call():
    rows = [r for r in S.supported_functions() if r[0].startswith("scipy.special.") and r[2] != "no derivative"]
    assert len(rows) > 40
    for name, _, _, _ in rows:
        fn = getattr(scipy.special, name.rsplit(".", 1)[1])
        ours = getattr(hs_special, name.rsplit(".", 1)[1])
        assert isinstance(fn, np.ufunc), name
        assert S.D.HANDLED_UFUNCS[fn] is ours, name


@pytest.mark.parametrize("name", ["gamma", "erf", "expit", "log_expit", "gammaln", "j0"])
def test_plain_scipy_ufunc_call_differentiates(name):
    fn = getattr(scipy.special, name)
    x = np.array([0.6, 1.3])
    g = hd.grad(lambda v: np.sum(fn(v)))(x)
    h = 1e-6
    assert np.allclose(g, (fn(x + h) - fn(x - h)) / (2 * h), rtol=1e-6)


PYTHON_LEVEL = {
    "scipy.special.logsumexp": lambda x: scipy.special.logsumexp(x),
    "scipy.special.softmax": lambda x: np.sum(scipy.special.softmax(x) * x),
    "scipy.stats.norm.logpdf": lambda x: np.sum(scipy.stats.norm.logpdf(x, 0.0, 1.0)),
    "scipy.linalg.cho_solve": lambda x: np.sum(scipy.linalg.cho_solve((np.eye(2), True), x)),
    "scipy.signal.convolve": lambda x: np.sum(scipy.signal.convolve(x, x)),
}


@pytest.mark.parametrize("name", sorted(PYTHON_LEVEL))
def test_python_level_scipy_functions_need_hodiff_scipy(name):
    with pytest.raises((TypeError, ValueError, hd.HodiffError)):
        hd.grad(PYTHON_LEVEL[name])(np.array([0.3, 0.8]))


def test_out_of_scope_functions_are_refused_by_name():
    names = S.out_of_scope()
    assert "numpy.fft.fft" in names and "numpy.real" in names
    for name in ("numpy.fft.fft", "numpy.fft.rfft", "numpy.real", "numpy.imag", "numpy.angle"):
        fn = S._lookup(name)
        with pytest.raises(TypeError, match=name.replace(".", r"\.")):
            hd.grad(lambda x, _f=fn: np.sum(np.abs(_f(x))))(np.array([0.3, 0.8, 1.1, 0.2]))


def test_supported_page_has_both_sections():
    md = S.supported_markdown()
    assert "### numpy (" in md and "### scipy.special ufuncs: plain calls work" in md
    assert "| `scipy.special.jv` | `hodiff.scipy.special.jv` | primitive `jv` |" in md
    assert "not in `v`" in md
