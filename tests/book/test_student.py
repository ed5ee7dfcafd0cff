"""`make student`: the chapters with every solution removed, still valid notebooks."""

import ast
import re
import sys

import nbformat
import pytest

from .conftest import CHAPTERS, ROOT, chapter_id

sys.path.insert(0, str(ROOT / "tools"))
from student import main as write_student_notebooks  # noqa: E402
from student import strip_solutions  # noqa: E402


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    assert write_student_notebooks(out) == 0
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=chapter_id)
def test_no_solution_survives(path, student_dir):
    original = nbformat.read(path, as_version=4)
    student = nbformat.read(student_dir / path.relative_to(ROOT), as_version=4)
    nbformat.validate(student)
    text = "\n".join(c.source for c in student.cells)
    assert "{solution" not in text, f"{chapter_id(path)}: a solution directive survived"
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    # the exercises stay, and every code cell that is not a solution stays
    assert text.count("{exercise}") == sum(c.source.count("{exercise}") for c in original.cells)
    solution_cells = sum("solution" in c.metadata.get("tags", []) for c in original.cells)
    assert (
        sum(c.cell_type == "code" for c in student.cells) == sum(c.cell_type == "code" for c in original.cells) - solution_cells
    )
    for cell in student.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
            ast.parse(re.sub(r"^\s*[%!].*$", "", cell.source, flags=re.M))  # every code cell still parses


def test_strip_solutions_on_a_handmade_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            ":::{exercise}\n:label: e1\nDo it.\n:::\n\n:::{solution} e1\n:class: dropdown\nSecret.\n:::\n\nAfter."
        ),
        nbformat.v4.new_markdown_cell(
            ":::{exercise}\n:label: e2\nCode it.\n:::\n\n````{solution-start} e2\n:class: dropdown\n````"
        ),
        nbformat.v4.new_code_cell("secret = 1", metadata={"tags": ["solution"]}),
        nbformat.v4.new_markdown_cell("Secret discussion.\n\n````{solution-end}\n````\n\n## Next"),
        nbformat.v4.new_code_cell("x = 2"),
    ]
    out = strip_solutions(nb)
    text = "\n".join(c.source for c in out.cells)
    assert "Secret" not in text and "secret" not in text
    assert "Do it." in text and "Code it." in text and "After." in text and "## Next" in text
    assert [c.source for c in out.cells if c.cell_type == "code"] == ["x = 2"]
