"""List the book's chapters (notebooks named in _toc.yml), as their .py twins.

python tools/chapters.py            # one path per line
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files(root: Path = ROOT) -> list[str]:
    """Every file named in _toc.yml, without suffix, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """The .ipynb chapters named in the table of contents."""
    return [root / f"{f}.ipynb" for f in toc_files(root) if (root / f"{f}.ipynb").exists()]


if __name__ == "__main__":
    for nb in chapter_notebooks():
        print(nb.with_suffix(".py").relative_to(ROOT))
