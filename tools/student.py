"""Write student notebooks: every chapter with its solutions removed.

    python tools/student.py [OUTPUT_DIR]        # default: _build/student

Removed: code cells tagged ``solution``; ``{solution}`` blocks in markdown; and
everything between a ``{solution-start}`` and its ``{solution-end}`` (the gated
form that wraps solution code cells). Outputs of the remaining cells are cleared,
so students run the notebook themselves. The result keeps the book's layout
(``_build/student/book/02-width/ntk.ipynb``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chapters import ROOT, chapter_notebooks  # noqa: E402

# a fenced {solution} block: ```{solution} ... ``` or :::{solution} ... ::: with any fence length
SOLUTION_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)\s*$\n?", re.M | re.S)
# the gated form: ````{solution-start} label / options / ```` ... ````{solution-end} / ````
GATE_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}.*?^\1\s*$\n?", re.M | re.S)
GATE_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}.*?^\1\s*$\n?", re.M | re.S)


def _strip_markdown(source: str, inside_gate: bool) -> tuple[str, bool]:
    """Remove solutions from one markdown cell; track whether a gated solution is still open."""
    kept = []
    while source:
        if inside_gate:
            end = GATE_END.search(source)
            if end is None:
                return "".join(kept), True
            source, inside_gate = source[end.end() :], False
            continue
        start = GATE_START.search(source)
        if start is None:
            kept.append(source)
            break
        kept.append(source[: start.start()])
        source, inside_gate = source[start.end() :], True
    return SOLUTION_BLOCK.sub("", "".join(kept)), inside_gate


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with every solution removed and outputs cleared."""
    kept = []
    inside_gate = False
    for cell in nb.cells:
        new = nbformat.from_dict(dict(cell))
        if cell.cell_type == "markdown":
            new.source, inside_gate = _strip_markdown(cell.source, inside_gate)
            if new.source.strip():
                kept.append(new)
            continue
        if inside_gate or "solution" in cell.metadata.get("tags", []):
            continue
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        kept.append(new)
    out = nbformat.from_dict(dict(nb))
    out.cells = kept
    return out


def main(output: Path) -> int:
    for path in chapter_notebooks():
        nb = nbformat.read(path, as_version=4)
        student = strip_solutions(nb)
        target = output / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(student)
        nbformat.write(student, target)
        print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "student"))
