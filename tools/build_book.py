"""Build the HTML book, failing on any Sphinx warning.

    python tools/build_book.py [HTML_DIR]     # default: _build/html

Jupyter Book 1.x, with stored notebook outputs (execution is off in _config.yml).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(output: Path) -> int:
    # jupyter-book writes into <path-output>/_build/html; build next to it and move up one level
    staging = output.parent / f".{output.name}-staging"
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
        "--path-output", str(staging), "--builder", "html", "--warningiserror", "--keep-going", "--all",
    ]  # fmt: skip
    code = subprocess.run(cmd, cwd=ROOT).returncode
    if code == 0:
        target = output
        if target.exists():
            subprocess.run(["rm", "-rf", str(target)], check=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        (staging / "_build" / "html").rename(target)
        subprocess.run(["rm", "-rf", str(staging)], check=True)
        print(f"HTML book in {target}")
    return code


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    sys.exit(build(out.resolve()))
