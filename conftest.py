"""Shared pytest set-up for the whole repository.

The run also records how long nbval takes for each notebook (all its cells, kernel
start included) in ``_build/runtimes.json``; the book's runtime appendix shows it.

nbval runs each notebook's cells in one kernel, so every cell of a notebook must
go to the same xdist worker: the test command uses ``--dist loadscope``, whose
scope for an nbval cell is its notebook.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RUNTIMES = ROOT / "_build" / "runtimes.json"
_durations: dict[str, float] = defaultdict(float)
_failed: set[str] = set()

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("FIELDGUIDE_THREADS", "1")
os.environ.setdefault("FIELDGUIDE_STATIC", "1")  # explorers draw their static figure only


def pytest_runtest_logreport(report):
    notebook, sep, _ = report.nodeid.partition(".ipynb::")
    if sep:
        _durations[notebook + ".ipynb"] += report.duration
        if report.failed:
            _failed.add(notebook + ".ipynb")


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput") or not _durations:
        return  # xdist workers report to the controller, which writes the file
    RUNTIMES.parent.mkdir(exist_ok=True)
    record = {nb: {"seconds": round(t, 1), "passed": nb not in _failed} for nb, t in sorted(_durations.items())}
    RUNTIMES.write_text(
        json.dumps({"threads_per_notebook": int(os.environ["FIELDGUIDE_THREADS"]), "notebooks": record}, indent=1)
    )
