"""Solutions fold away in the default book and show open in the instructor build."""

import os
import re
import subprocess
import sys

from .conftest import ROOT

SOLUTION = re.compile(r'<div class="solution( [^"]*)? admonition"')


def _solution_classes(page: str) -> list[list[str]]:
    return [(m.group(1) or "").split() for m in SOLUTION.finditer(page)]


def test_default_book_shows_solutions_as_dropdowns(html):
    classes = _solution_classes((html / "book" / "02-width" / "ntk.html").read_text())
    assert classes and all("dropdown" in c for c in classes)


def test_instructor_build_shows_solutions_open(tmp_path):
    out = tmp_path / "instructor"
    env = {**os.environ, "FIELDGUIDE_INSTRUCTOR": "1"}
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), str(out)], cwd=ROOT, env=env)
    assert result.returncode == 0, "the instructor build failed"
    for page in ("book/02-width/ntk.html", "book/08-memory/modern-hopfield.html"):
        classes = _solution_classes((out / page).read_text())
        assert classes, f"{page}: no solutions found"
        assert not any("dropdown" in c for c in classes), f"{page}: a solution is still a dropdown"
