"""The documentation site builds in strict mode (any warning fails), and its API reference covers every public name.

Skipped when the docs tools are not installed (``pip install -e ".[docs]"``).
"""
from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocstrings_handlers.python")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_docs_build_strict(site):
    for page in ("index.html", "chapter/index.html", "functional/index.html", "api/index.html",
                 "supported/index.html", "img/sin_derivative.png"):
        assert (site / page).is_file(), page


def test_api_reference_covers_public_names(site):
    import hodiff

    html = (site / "api" / "index.html").read_text(encoding="utf-8")
    missing = [name for name in hodiff.__all__
               if (inspect.isfunction(getattr(hodiff, name)) or inspect.isclass(getattr(hodiff, name))
                   or inspect.ismodule(getattr(hodiff, name)))
               and f'id="hodiff.{name}"' not in html]
    assert not missing, f"no entry in the API reference for: {missing}"
    for name in hodiff.autograd.__all__:
        assert f'id="hodiff.autograd.{name}"' in html, name


def test_math_renders_offline(site):
    """Formulas are MathML made at build time: no page loads a script from the network or leaves raw TeX."""
    pages = list(site.rglob("*.html"))
    maths = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "cdn.jsdelivr" not in html and "mathjax" not in html.lower(), page
        assert 'class="arithmatex"' not in html, page
        maths += html.count("<math")
    assert maths > 100   # the chapter, cost and functional pages alone hold more formulas than that
