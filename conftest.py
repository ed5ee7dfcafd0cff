"""Shared pytest set-up for the whole repository.

nbval runs each notebook's cells in one kernel, so every cell of a notebook must
go to the same xdist worker: they get one ``xdist_group`` per notebook (the test
command uses ``--dist loadgroup``); every other test is spread freely.
"""

import os

import pytest

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("FIELDGUIDE_THREADS", "1")
os.environ.setdefault("FIELDGUIDE_STATIC", "1")  # explorers draw their static figure only


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.xdist_group(name=str(item.fspath)))
