"""The scripts in ``examples/`` and the code on the documentation pages run, as a new user would run them.

Each example runs in a subprocess from a fresh temporary directory (so a PNG it writes lands there, not in the
repository) and must exit 0 within a generous time limit; ``docs/check_snippets.py`` runs every ``python`` block of
``docs/*.md`` and compares what it prints with the output shown on the page.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT = 120  # seconds; each example takes a second or two


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=TIMEOUT)


def test_there_are_examples():
    names = {p.name for p in EXAMPLES}
    assert {"chapter.py", "sin_derivative.py", "second_derivatives.py"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    if script.name == "sin_derivative.py":
        pytest.importorskip("matplotlib")
    proc = _run([script], cwd=tmp_path)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"


def test_sin_derivative_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    script = ROOT / "examples" / "sin_derivative.py"
    out = tmp_path / "plot.png"
    proc = _run([script, out], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = _run([script], cwd=tmp_path)          # default output: sin_derivative.png in the working directory
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "sin_derivative.png").is_file()


def test_doc_snippets(tmp_path):
    pytest.importorskip("matplotlib")  # the chapter page plots
    proc = _run([ROOT / "docs" / "check_snippets.py"], cwd=tmp_path)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
