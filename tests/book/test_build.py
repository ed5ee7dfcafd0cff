"""The HTML book builds with no Sphinx warning, and the built pages show what they should."""

import re
from html import escape as html_escape
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

BUILD = ROOT / "_build" / "test-html"


@pytest.fixture(scope="module")
def html() -> Path:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py"), str(BUILD)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"the book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return BUILD


@pytest.mark.slow
def test_book_builds_without_warnings(html):
    assert (html / "index.html").exists()


@pytest.mark.slow
def test_catalog_page_lists_every_paper_and_links_chapters(html, catalog):
    page = (html / "book" / "appendix" / "catalog.html").read_text()
    for paper in catalog:
        assert f"<p>{paper['id']}</p>" in page, f"paper {paper['id']} is missing from the catalog page"
    for paper in catalog:
        if paper["status"] == "chapter":
            target = Path(paper["where"]).with_suffix(".html").name
            assert re.search(rf'href="[^"]*{re.escape(target)}"', page), f"no link to {target} on the catalog page"
    assert "All parts" in page


@pytest.mark.slow
def test_chapter_pages_render_outputs_and_citations(html):
    page = (html / "book" / "02-width" / "ntk.html").read_text()
    assert "<img" in page, "the NTK chapter shows no figure"
    assert "colab.research.google.com/github/" in page, "no Colab launch button"
    assert 'class="reference internal"' in page


@pytest.mark.slow
def test_scorecard_has_one_row_per_stored_claim(html):
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from fieldguide_book import chapter_notebooks, claim_rows

    rows = [row for nb in chapter_notebooks(ROOT) for row in claim_rows(nb)]
    page = (html / "book" / "appendix" / "scorecard.html").read_text()
    passed = sum(row["holds"] for row in rows)
    assert f"{passed} of {len(rows)} claim checks pass" in page
    for row in rows:
        assert html_escape(row["measured"], quote=False) in page, f"scorecard lacks the measured value {row['measured']!r}"


@pytest.mark.slow
def test_api_reference_links_functions_to_chapters(html):
    page = (html / "book" / "appendix" / "api.html").read_text()
    assert 'id="fieldguide.width.kernels.ntk"' in page
    entry = page.split('id="fieldguide.width.kernels.ntk"', 1)[1].split('<dl class="py', 1)[0]
    assert "Used in:" in entry and "ntk.html" in entry, "fg.width.ntk should link back to the NTK chapter"
