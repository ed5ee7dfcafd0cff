"""Tests of the built HTML book in _build/html (`make test` builds it just before)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def html() -> Path:
    if not (HTML / "index.html").exists():  # e.g. `pytest tests/html` on its own
        result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), str(HTML)], cwd=ROOT)
        assert result.returncode == 0, "the book build failed (run `make book` to see why)"
    return HTML


@pytest.fixture(scope="session")
def catalog() -> list[dict]:
    return yaml.safe_load((ROOT / "book" / "catalog.yml").read_text())["papers"]
