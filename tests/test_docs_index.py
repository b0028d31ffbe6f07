"""The home page links every page of the site, and the navigation lists every page (a reader finds each from both).

Plain file checks, no docs toolchain needed: every ``docs/*.md`` other than ``index.md`` must be the target of a
Markdown link on ``docs/index.md`` (outside HTML comments), and every page named in ``mkdocs.yml``'s ``nav`` must
exist and be linked from the home page too.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _home_links():
    text = re.sub(r"<!--.*?-->", "", (DOCS / "index.md").read_text(encoding="utf-8"), flags=re.S)
    return {m.split("#")[0] for m in re.findall(r"\]\(([^)\s]+\.md(?:#[^)]*)?)\)", text)}


def _nav_pages():
    # the nav entries are "- Title: page.md" lines; mkdocs.yml is read as text to need no YAML parser
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r":\s*([\w./-]+\.md)\s*$", nav, flags=re.M))


def test_home_page_links_every_page():
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    missing = sorted(pages - _home_links())
    assert missing == [], f"docs/index.md links none of: {missing}"


def test_home_links_point_at_pages():
    dangling = sorted(link for link in _home_links() if not (DOCS / link).is_file())
    assert dangling == [], dangling


def test_nav_pages_exist_and_are_linked_from_home():
    nav = _nav_pages()
    assert {"index.md", "coming-from.md", "functional.md", "api.md"} <= nav
    assert sorted(p for p in nav if not (DOCS / p).is_file()) == []
    assert sorted(nav - {"index.md"} - _home_links()) == []


def test_install_lines_name_the_extras():
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    assert '".[test,docs]"' in text and '".[docs]"' in text
    assert '".[test]"' not in text   # the test extra alone does not build the docs the suite checks
