"""Every chapter: its jupytext twin is in sync, it follows the anatomy, its outputs are stored."""

import re

import jupytext
import pytest

import fieldguide as fg

from .conftest import CHAPTERS, chapter_id, load_notebook

SECTIONS = ["## The idea", "## The method", "## The experiment", "## Claim check", "## Exercises", "## Going further"]
PIN = re.compile(r"fieldguide==([0-9][0-9A-Za-z.+-]*)")


def test_there_are_chapters():
    assert len(CHAPTERS) >= 4


@pytest.mark.parametrize("path", CHAPTERS, ids=chapter_id)
def test_py_twin_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{chapter_id(path)} has no py:percent twin"
    ipynb, py = load_notebook(path), jupytext.read(twin)
    a = [(c["cell_type"], "".join(c["source"]).strip(), sorted(c["metadata"].get("tags", []))) for c in ipynb["cells"]]
    b = [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in py.cells]
    assert a == b, f"{chapter_id(path)} and its .py twin differ: run `make execute NB={twin}`"


def _cells(path):
    nb = load_notebook(path)
    return nb, [(c["cell_type"], "".join(c["source"]), c["metadata"].get("tags", []), c) for c in nb["cells"]]


@pytest.mark.parametrize("path", CHAPTERS, ids=chapter_id)
def test_anatomy(path):
    nb, cells = _cells(path)
    name = chapter_id(path)
    first_type, first, _, _ = cells[0]
    assert first_type == "markdown" and first.startswith("# "), f"{name} must open with a '# Title' markdown cell"
    intro = "\n".join(src for kind, src, _, _ in cells[:3] if kind == "markdown")
    assert "Learning objectives" in intro, f"{name}: no 'Learning objectives' in the opening"
    assert "Prerequisites" in intro, f"{name}: no 'Prerequisites' in the opening"
    assert "{cite}" in intro, f"{name}: the opening cites no paper"
    objectives = re.search(r"Learning objectives.*?\n((?:\s*(?:\d+\.|-) .*\n?)+)", intro)
    assert objectives and len(re.findall(r"^\s*(?:\d+\.|-) ", objectives.group(1), re.M)) == 3, (
        f"{name}: give exactly 3 learning objectives"
    )

    code = [c for c in cells if c[0] == "code"]
    assert code and "setup" in code[0][2], f"{name}: the first code cell must be the setup cell, tagged 'setup'"
    setup_src = code[0][1]
    assert "fg.setup(seed=" in setup_src and "import fieldguide as fg" in setup_src
    pins = PIN.findall(setup_src)
    assert pins == [fg.__version__], f"{name}: the setup cell must install fieldguide=={fg.__version__}, found {pins}"

    markdown = "\n".join(src for kind, src, _, _ in cells if kind == "markdown")
    positions = [markdown.find(h) for h in SECTIONS]
    assert all(p >= 0 for p in positions), f"{name}: missing sections {[h for h, p in zip(SECTIONS, positions) if p < 0]}"
    assert positions == sorted(positions), f"{name}: sections out of order, expected {SECTIONS}"

    claims = [c for c in code if "claim" in c[2]]
    assert len(claims) >= 1, f"{name}: no code cell tagged 'claim'"
    rows = []
    for _, src, _, cell in claims:
        assert "assert" in src, f"{name}: a claim cell must assert the claim"
        assert "fg.claims.check(" in src, f"{name}: a claim cell reports each claim with fg.claims.check"
        rows += fg.claims.stored_rows(cell.get("outputs", []))
    assert rows, f"{name}: the claim cell stored no claim rows (the scorecard is built from them)"
    papers = set(nb["metadata"]["fieldguide"]["papers"])
    assert {r["paper"] for r in rows} <= papers, f"{name}: a claim row names a paper the chapter does not cover"

    exercises = re.findall(r"\{exercise\}", markdown)
    solutions = re.findall(r"\{solution(?:-start)?\}", markdown)
    assert len(exercises) >= 2 and len(solutions) >= len(exercises), f"{name}: at least two exercises, each with a solution"
    assert any("solution" in tags for kind, _, tags, _ in cells if kind == "code"), (
        f"{name}: no coding exercise solution cell tagged 'solution'"
    )
    assert "dropdown" in markdown, f"{name}: solutions are shown as dropdowns"


@pytest.mark.parametrize("path", CHAPTERS, ids=chapter_id)
def test_outputs_are_stored_and_honest(path):
    nb, cells = _cells(path)
    name = chapter_id(path)
    counts = []
    for kind, src, tags, cell in cells:
        if kind != "code":
            continue
        assert "NBVAL_IGNORE_OUTPUT" not in src and "nbval-ignore-output" not in tags, f"{name}: output hidden from nbval"
        assert "nbval-skip" not in tags and "NBVAL_SKIP" not in src, f"{name}: a cell skipped by nbval"
        assert cell.get("execution_count") is not None, f"{name}: a code cell was never executed: run `make execute`"
        counts.append(cell["execution_count"])
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{name}: a stored error output"
            data = out.get("data", {})
            text = "".join(out.get("text", "")) + "".join(data.get("text/plain", ""))
            if "image/png" not in data:  # the inline backend labels every shown figure so; alone it is a stray repr
                assert "<Figure size" not in text, f"{name}: a '<Figure size ...>' repr; end the cell with plt.show()"
            assert "it/s]" not in text, f"{name}: a progress bar in the stored output"
    assert counts == list(range(1, len(counts) + 1)), f"{name}: cells were not executed top to bottom in one run"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
