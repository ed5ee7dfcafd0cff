import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED_CATALOG = ROOT.parent / "shared" / "catalog" / "papers.jsonl"
sys.path.insert(0, str(ROOT / "tools"))

from chapters import chapter_notebooks, toc_files  # noqa: E402

CHAPTERS = chapter_notebooks(ROOT)


def chapter_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(scope="session")
def catalog() -> list[dict]:
    return yaml.safe_load((ROOT / "book" / "catalog.yml").read_text())["papers"]


@pytest.fixture(scope="session")
def seed_papers() -> dict[int, dict]:
    if not SHARED_CATALOG.exists():
        pytest.fail(f"the seed catalog {SHARED_CATALOG} is missing: clone the repository beside shared/")
    return {r["id"]: r for r in map(json.loads, SHARED_CATALOG.read_text().splitlines())}


@pytest.fixture(scope="session")
def toc() -> list[str]:
    return toc_files(ROOT)


def load_notebook(path: Path) -> dict:
    return json.loads(path.read_text())
