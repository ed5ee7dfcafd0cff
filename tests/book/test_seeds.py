"""Every chapter again with another seed: its claim must not hang on seed 0.

nbval (strict, seed 0) proves the stored outputs are what the code produces;
this re-runs each chapter top to bottom with ``FIELDGUIDE_SEED`` set (seed 1 by
default, ``FIELDGUIDE_TEST_SEEDS=1,2,3`` for more) and fails if any cell raises,
claim cells included.
"""

import os

import jupytext
import pytest
from nbclient import NotebookClient

from .conftest import CHAPTERS, chapter_id

SEEDS = [int(s) for s in os.environ.get("FIELDGUIDE_TEST_SEEDS", "1").split(",") if s.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("path", CHAPTERS, ids=chapter_id)
def test_chapter_claims_hold_for_another_seed(path, seed, monkeypatch):
    monkeypatch.setenv("FIELDGUIDE_SEED", str(seed))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("FIELDGUIDE_THREADS", "1")
    monkeypatch.setenv("FIELDGUIDE_STATIC", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = jupytext.read(path.with_suffix(".py"))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, with the failing cell, if a claim fails
