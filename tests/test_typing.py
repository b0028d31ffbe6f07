"""hodiff's type hints, as a type-checking user meets them: mypy on the package and on two small user scripts.

One mypy run (about ten seconds; its cache goes to a temporary directory) checks, with the ``[tool.mypy]`` settings of
``pyproject.toml``:

* ``tests/typing/user_ok.py``, correct typed user code over the common doors of the API: no error may be reported
  (a false error on correct code is the failure this guards against). The script is also run, so it is real code.
* ``tests/typing/user_errors.py``, wrong calls each marked ``# E: <code>``: each must be flagged with that code, and
  nothing else in the file. A wrong call into a function that has no annotations yet cannot be flagged by any checker;
  such a line is skipped with the name of the function, so the check turns itself on when the hints arrive.
* the package ``hodiff`` itself: no errors outside the files listed in ``KNOWN_ERRORS`` (files other helpers are
  annotating in this phase; the list can only shrink: a listed file that has become clean fails the test too, so the
  list is kept exact).
"""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("mypy")

import hodiff as hd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"
OK, ERRORS = TYPING / "user_ok.py", TYPING / "user_errors.py"

# Files of the package where mypy still reports errors, each with who is expected to fix it (phase 2 ownership).
KNOWN_ERRORS: dict[str, str] = {}

# For each expected error in user_errors.py: the public function whose annotations make it detectable, and the
# parameter that must be annotated (None: arity alone, which mypy checks even without annotations).
NEEDS = {
    "hd.grad": (hd.grad, "argnums"),
    "hd.hvp": (hd.hvp, None),
    "hd.hessian": (hd.hessian, "argnums"),
    "hd.tensor": (hd.tensor, "requires_grad"),
    "hd.tree.ravel": (hd.tree.ravel, None),
}

_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<msg>.*?)(?:  \[(?P<code>[a-z-]+)\])?$")


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory):
    """{relative path: [(line, code, message), ...]} from one mypy run over the package and the two scripts."""
    cache = tmp_path_factory.mktemp("mypy_cache")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--cache-dir", str(cache),
         "--show-error-codes", "--no-color-output", "--no-error-summary", "hodiff",
         str(OK.relative_to(ROOT)), str(ERRORS.relative_to(ROOT))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1), f"mypy crashed:\n{proc.stdout}\n{proc.stderr}"
    found: dict[str, list] = defaultdict(list)
    for line in proc.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            found[m["path"].replace(os.sep, "/")].append((int(m["line"]), m["code"], m["msg"]))
    return found


def test_user_script_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(OK)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr


def test_correct_user_code_has_no_type_errors(mypy_errors):
    assert mypy_errors.get("tests/typing/user_ok.py", []) == []


def _expected():
    out = []
    for i, text in enumerate(ERRORS.read_text().splitlines(), start=1):
        m = re.search(r"#\s*E:\s*([a-z-]+)", text)
        if m:
            out.append((i, m[1], text.split("(")[0].strip()))
    return out


def test_error_script_marks_what_it_means():
    # the marks are what the next test reads: make sure the file still has them all, one per function of NEEDS
    assert sorted(name for _, _, name in _expected()) == sorted(NEEDS)


@pytest.mark.parametrize("line,code,name", _expected(), ids=[e[2] for e in _expected()])
def test_wrong_calls_are_flagged(mypy_errors, line, code, name):
    fn, param = NEEDS[name]
    if param is not None and inspect.signature(fn).parameters[param].annotation is inspect.Parameter.empty:
        pytest.skip(f"{name} has no annotation for {param!r} yet: no checker can flag this call")
    got = [(c, msg) for ln, c, msg in mypy_errors.get("tests/typing/user_errors.py", []) if ln == line]
    assert any(c == code for c, _ in got), f"line {line} ({name}): expected [{code}], mypy said {got}"


def test_no_unexpected_errors_in_error_script(mypy_errors):
    marked = {line for line, _, _ in _expected()}
    stray = [e for e in mypy_errors.get("tests/typing/user_errors.py", []) if e[0] not in marked]
    assert stray == []


def test_package_is_clean_outside_known_files(mypy_errors):
    pkg = {p: errs for p, errs in mypy_errors.items() if p.startswith("hodiff/")}
    unexpected = {p: errs for p, errs in pkg.items() if p not in KNOWN_ERRORS}
    assert unexpected == {}, "mypy errors in files expected to be clean:\n" + "\n".join(
        f"{p}:{ln}: {msg} [{c}]" for p, errs in unexpected.items() for ln, c, msg in errs)
    now_clean = sorted(set(KNOWN_ERRORS) - set(pkg))
    assert now_clean == [], f"clean now, remove from KNOWN_ERRORS: {now_clean}"
