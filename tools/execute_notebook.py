"""Execute book chapters from their py:percent twins and store fresh outputs.

    python tools/execute_notebook.py book/02-width/ntk.py [more.py ...]

For each chapter: read the ``.py`` twin with jupytext, run it top to bottom in a
fresh kernel (TQDM_DISABLE=1, FIELDGUIDE_THREADS=1, the settings nbval uses),
write the ``.ipynb`` with its outputs, and print the wall time. The two files
stay a jupytext pair (``ipynb,py:percent``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ENV = {"TQDM_DISABLE": "1", "FIELDGUIDE_THREADS": "1", "FIELDGUIDE_SCALE": "quick", "FIELDGUIDE_STATIC": "1"}


def execute(path: Path, timeout: int = 600) -> float:
    py = path.with_suffix(".py")
    nb = jupytext.read(py)
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    os.environ.update(ENV)
    os.environ.pop("FIELDGUIDE_SEED", None)
    os.environ.pop("MPLBACKEND", None)  # the kernel picks the inline backend
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(py.parent)}}, record_timing=False
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    jupytext.write(nb, py.with_suffix(".ipynb"))
    jupytext.write(nb, py, fmt="py:percent")
    return elapsed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for arg in argv:
        elapsed = execute(Path(arg))
        print(f"{arg}: {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
