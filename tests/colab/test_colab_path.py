"""The Colab path, played here: a fresh environment with only what Colab has, the
built wheel as the only source of ``fieldguide``, and one chapter run from its first cell.

Passes only if the chapter's setup cell installs the package from the wheel and
every cell of the chapter runs. Slow (a new virtual environment with torch): it
runs in the last stage of ``make test``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "book" / "08-memory" / "modern-hopfield.py"  # the quickest chapter
# what a Colab runtime brings (plus the kernel that runs the notebook there)
COLAB_PACKAGES = ["torch==2.13.*", "numpy", "scipy", "matplotlib", "ipywidgets", "scikit-learn", "tqdm", "ipykernel"]


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT / "companion")])
    wheels = list(out.glob("fieldguide-*.whl"))
    assert len(wheels) == 1
    return out


@pytest.fixture(scope="module")
def colab_env(tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("colab") / "venv"
    _run([sys.executable, "-m", "venv", str(env_dir)])
    python = env_dir / "bin" / "python"
    # the book's pins as constraints, so that nothing newer is pulled in
    _run([str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "requirements.txt"), *COLAB_PACKAGES])
    return env_dir


def test_chapter_runs_from_its_first_cell_with_only_the_wheel(colab_env, wheel_dir, tmp_path, monkeypatch):
    python = colab_env / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import fieldguide"], capture_output=True).returncode != 0, (
        "the Colab-like environment must start without fieldguide"
    )
    # a kernel spec for the fresh environment, found through JUPYTER_PATH
    kernels = tmp_path / "jupyter"
    _run([str(python), "-m", "ipykernel", "install", "--prefix", str(kernels), "--name", "colab-sim"])
    monkeypatch.setenv("JUPYTER_PATH", str(kernels / "share" / "jupyter"))
    # pip inside the kernel sees the built wheel and nothing else: no index, no config files
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheel_dir))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for var in ("FIELDGUIDE_SEED", "MPLBACKEND", "PYTHONPATH"):
        monkeypatch.delenv(var, raising=False)

    nb = jupytext.read(CHAPTER)
    client = NotebookClient(nb, timeout=600, kernel_name="colab-sim", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises on the first failing cell

    show = _run([str(python), "-m", "pip", "show", "-f", "fieldguide"]).stdout
    import fieldguide

    assert f"Version: {fieldguide.__version__}" in show
    assert "Editable project location" not in show, "fieldguide must come from the wheel, not an editable checkout"
    claims = [
        row
        for cell in nb.cells
        if "claim" in cell.metadata.get("tags", [])
        for row in fieldguide.claims.stored_rows(cell.outputs)
    ]
    assert claims and all(row["holds"] for row in claims)
    print(json.dumps({"installed": show.splitlines()[:2], "claims": len(claims)}))
