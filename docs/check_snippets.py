"""Run the Python code blocks of the documentation pages and check their printed output.

    python docs/check_snippets.py                 # every docs/*.md
    python docs/check_snippets.py docs/chapter.md # some pages

Conventions, so that a page reads like a notebook and stays true:

* Every fenced block whose info string starts with ``python`` is run, in page order, in one namespace per page
  (a later block may use names from an earlier one), with a fresh temporary directory as the working directory.
* A fenced ``text`` block that directly follows a ``python`` block (only blank lines between) is that block's
  expected output: what the block prints must equal it, line by line (trailing spaces ignored).
* An HTML comment ``<!-- snippet: skip -->`` on the line before a block leaves that block out.

Exit status 0 when every block runs and every output matches; 1 otherwise, with the page, the line and the
difference or traceback for each failure.
"""
from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

DOCS = Path(__file__).resolve().parent
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
SKIP = "<!-- snippet: skip -->"


def blocks(text):
    """``(line number, info, code, skip)`` for each fenced block of a Markdown text."""
    lines = text.splitlines()
    i = 0
    out = []
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, indent, fence, info = i, m["indent"], m["fence"], m["info"].strip()
        body = []
        i += 1
        while i < len(lines):
            close = lines[i].strip()
            if close.startswith(fence[0] * len(fence)) and set(close) <= {fence[0]}:
                break
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        skip = start > 0 and lines[start - 1].strip() == SKIP
        out.append((start + 1, info.split()[0].lower() if info else "", "\n".join(body) + "\n", skip, i))
        i += 1
    return out, lines


def _expected_outputs(found, lines):
    """Pair each python block with the text block right after it, if any."""
    pairs = []
    for k, (lineno, info, code, skip, end) in enumerate(found):
        if not info.startswith("python"):
            continue
        expected = None
        if k + 1 < len(found):
            nxt = found[k + 1]
            between = lines[end + 1:nxt[0] - 1]
            if nxt[1] == "text" and all(not s.strip() for s in between):
                expected = nxt[2]
        pairs.append((lineno, code, skip, expected))
    return pairs


def _norm(s):
    return "\n".join(line.rstrip() for line in s.strip("\n").splitlines())


def check_page(path):
    """Run one page's blocks; return a list of failure messages and the number of blocks run."""
    text = Path(path).read_text(encoding="utf-8")
    found, lines = blocks(text)
    failures = []
    ran = 0
    namespace = {"__name__": f"__snippets_{Path(path).stem}__"}
    old_cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for lineno, code, skip, expected in _expected_outputs(found, lines):
                if skip:
                    continue
                ran += 1
                buf = io.StringIO()
                try:
                    compiled = compile(code, f"{path}:{lineno}", "exec")
                    with contextlib.redirect_stdout(buf):
                        exec(compiled, namespace)
                except Exception:
                    failures.append(f"{path}:{lineno}: the block raised\n{traceback.format_exc()}")
                    continue
                if expected is not None and _norm(buf.getvalue()) != _norm(expected):
                    diff = "\n".join(difflib.unified_diff(_norm(expected).splitlines(),
                                                          _norm(buf.getvalue()).splitlines(),
                                                          "shown on the page", "printed", lineterm=""))
                    failures.append(f"{path}:{lineno}: printed output differs from the page\n{diff}")
        finally:
            os.chdir(old_cwd)
    return failures, ran


def main(argv):
    pages = [Path(a) for a in argv] or sorted(DOCS.glob("*.md"))
    try:
        import matplotlib
        matplotlib.use("Agg")
    except ImportError:
        pass
    all_failures = []
    for page in pages:
        failures, ran = check_page(page)
        status = "ok" if not failures else f"{len(failures)} failed"
        print(f"{page}: {ran} blocks, {status}")
        all_failures += failures
    for f in all_failures:
        print("\n" + f, file=sys.stderr)
    return 1 if all_failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
