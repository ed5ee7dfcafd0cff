"""_toc.yml against the files in book/."""

from .conftest import ROOT


def test_every_toc_entry_exists(toc):
    missing = [f for f in toc if not any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"


def test_every_page_is_in_the_toc(toc):
    pages = {
        str(p.relative_to(ROOT).with_suffix(""))
        for ext in ("*.md", "*.ipynb")
        for p in (ROOT / "book").rglob(ext)
        if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts
    }
    orphans = sorted(pages - set(toc))
    assert not orphans, f"pages in book/ that _toc.yml does not list: {orphans}"


def test_no_page_listed_twice(toc):
    assert len(toc) == len(set(toc)), "a page appears twice in _toc.yml"


def test_every_part_has_an_index_listing_its_chapters(toc):
    for folder in sorted(p for p in (ROOT / "book").iterdir() if p.is_dir() and p.name[:2].isdigit()):
        index = folder / "index.md"
        assert index.exists(), f"{folder.relative_to(ROOT)} has no index.md"
        text = index.read_text()
        for nb in folder.glob("*.ipynb"):
            assert f"{{doc}}`{nb.stem}`" in text, f"{index.relative_to(ROOT)} does not link its chapter {nb.stem}"
