"""The cost reports as a reader meets them: tables within 100 columns with a legend, and ``explain`` as a report
object that shows itself once (REPL, ``print``, Jupyter's HTML and Markdown), never printing on its own.
"""
from __future__ import annotations

import html
import io
import re
import sys

import numpy as np
import pytest

import hodiff.cost as hc
from hodiff.cost._format import LEGEND, legend, wrap
from hodiff.cost._report import _fit

WIDTH = 100


def _widest(text):
    return max(len(line) for line in str(text).splitlines())


@pytest.fixture(scope="module")
def advice():
    f, x = hc.problems.rosenbrock(30)
    return hc.explain(f, x, task="hessian", memory_budget="50 MB", repeat=0)


def test_explain_prints_nothing_and_returns_a_report(capsys):
    f, x = hc.problems.rosenbrock(12)
    rep = hc.explain(f, x, task="k_hvps", k=3, repeat=0, strategy="grad")
    assert capsys.readouterr().out == ""            # no print inside: the caller decides where it shows
    assert isinstance(rep, hc.Explanation) and not isinstance(rep, str)
    assert "3 Hessian-vector products" in rep and "The tape of grad" in rep


def test_report_shows_once_at_a_prompt(advice, capsys):
    sys.displayhook(advice)                         # what the REPL does with the value of an expression
    out = capsys.readouterr().out
    assert out == advice.text + "\n"
    assert out.count("Task: the dense Hessian") == 1
    assert repr(advice) == str(advice) == advice.text
    assert not advice.text.startswith(("'", '"')) and "\\n" not in advice.text


def test_report_rich_reprs(advice):
    page = advice._repr_html_()
    assert page.startswith("<pre>") and page.endswith("</pre>")
    assert html.unescape(page[len("<pre>"):-len("</pre>")]) == advice.text
    assert "<=" not in page[5:-6]                   # the bound "<= 12 n f" is escaped, not markup
    md = advice._repr_markdown_()
    assert md == "```text\n" + advice.text + "\n```"


def test_report_show_and_file():
    f, x = hc.problems.rosenbrock(10)
    buf = io.StringIO()
    rep = hc.explain(f, x, task="hvp", repeat=0, file=buf)
    assert buf.getvalue() == rep.text + "\n"


def test_explain_fits_100_columns(advice):
    assert _widest(advice) <= WIDTH
    assert advice.splitlines()[0] == "Task: the dense Hessian of rosenbrock at n = 30, memory budget 50 MiB"


def test_fit_wraps_sentences_and_leaves_tables_alone():
    long_why = "  why: " + " ".join(f"word{i}" for i in range(40))
    row = "a" * 60 + "  " + "b" * 60                # a table row wider than 100: left as it is
    text = "\n".join(["Title", "", long_why, "", "Cost:", "h1  h2", "--  --", row, "", "tail " * 30])
    out = _fit(text)
    assert row in out.splitlines()
    assert " ".join(out.split()) == " ".join(text.split())          # the same words in the same order
    wrapped = [ln for ln in out.splitlines() if ln != row]
    assert max(map(len, wrapped)) <= WIDTH
    cont = out.splitlines()[3]                      # the why line's continuation sits under its text
    assert cont.startswith(" " * 9 + "word") and not cont.startswith(" " * 10)


def test_analyze_text_fits_100_columns_with_legend():
    f, x = hc.problems.rosenbrock(24)
    rep = hc.analyze(f, x, repeat=1, memory=True, fd_max_evals=50)
    text = str(rep)
    assert _widest(text) <= WIDTH
    tables = rep.table().split("\n\n")
    assert len(tables) == 3                          # the work, memory and time, the legend
    assert tables[0].split("\n")[0].split()[:3] == ["strategy", "prims", "xf"]
    assert tables[1].split("\n")[0].split()[:2] == ["strategy", "tape"]
    for key in ("width:", "sweeps:", "evals:", "ok:", "(est.):"):
        assert key in tables[2], key
    # every row is in both tables, in the same order
    names = [r.name for r in rep.rows]
    for t in tables[:2]:
        assert [ln.split()[0] for ln in t.splitlines()[2:]] == names
    # an explicit choice of columns is one table and no legend; Markdown is one table
    assert "\n\n" not in rep.table(columns=["strategy", "flops"])
    md = rep.table(fmt="markdown")
    assert md.count("| strategy |") == 1 and "width:" not in md
    assert "*width* tangents" in rep.table(fmt="markdown", legend=True)


def test_scaling_text_fits_100_columns_with_legend():
    s = hc.scaling(hc.problems.rosenbrock, [16, 32, 64, 128], strategies=["grad", "fd_f"], repeat=0,
                   memory=False, fd_max_evals=500)
    text = str(s)
    assert _widest(text) <= WIDTH
    assert re.search(r"[0-9kMG]\*\s", text)         # fd_f is estimated (too many evaluations) ...
    assert "*: estimated" in text and "ok: the FLOP slope" in text   # ... and the legend says what * means
    assert "FLOPs n=128" in s.table(fmt="markdown")


def test_command_line_tables_fit_100_columns(capsys):
    hc.main(["--no-plots", "--ns", "8", "16", "--repeat", "0", "--problems", "rosenbrock",
             "--strategies", "grad", "hvp_fwd_rev", "fd_f"])
    out = capsys.readouterr().out
    assert "sweeps:" in out and "evals:" in out and "width:" in out
    assert _widest(out) <= WIDTH, [ln for ln in out.splitlines() if len(ln) > WIDTH]


def test_legend_and_wrap():
    assert set(["width", "sweeps", "evals", "ok", "*"]) <= set(LEGEND)
    text = legend(list(LEGEND))
    assert _widest(text) <= WIDTH and text.startswith("xf: ")
    assert legend(["ok"], meanings={"ok": "fine"}) == "ok: fine"
    assert legend(["*"], fmt="markdown") == "*\\** " + LEGEND["*"] + "."
    with pytest.raises(ValueError):
        legend(["ok"], fmt="html")
    assert wrap("a b", width=100) == "a b"
    assert np.all([len(ln) <= 20 for ln in wrap("lorem ipsum " * 10, width=20).splitlines()])
