"""book/catalog.yml against the seed catalog, the table of contents and the chapters."""

from collections import Counter
from pathlib import Path

from .conftest import CHAPTERS, ROOT, chapter_id, load_notebook

STATUSES = {"chapter", "section", "discussion", "planned"}
PARTS = {
    "02-width", "03-activations", "04-optim", "05-theory", "06-representations", "07-continual", "08-memory",
    "09-hyper", "10-sequences", "11-sciml", "12-generative", "13-efficient", "14-rl", "15-apps",
}  # fmt: skip


THEME_PART = {
    "infinite-width": "02-width", "activations": "03-activations", "optimization": "04-optim",
    "dl-theory": "05-theory", "representations": "06-representations", "plasticity-continual": "07-continual",
    "hebbian-memory": "08-memory", "hypernetworks-weightspace": "09-hyper", "sequences-structures": "10-sequences",
    "scientific-ml": "11-sciml", "probabilistic": "12-generative", "efficiency": "13-efficient",
    "rl-decision": "14-rl", "applications": "15-apps",
}  # fmt: skip


def test_moves_from_the_proposed_part_are_recorded(catalog, seed_papers):
    for paper in catalog:
        proposed = THEME_PART[seed_papers[paper["id"]]["theme"]]
        if paper["part"] != proposed:
            assert paper.get("moved", "").startswith(f"from {proposed}:"), (
                f'paper {paper["id"]} moved from {proposed} to {paper["part"]}: record `moved: "from {proposed}: why"`'
            )


def test_every_seed_paper_appears_exactly_once(catalog, seed_papers):
    counts = Counter(p["id"] for p in catalog)
    duplicated = sorted(i for i, c in counts.items() if c > 1)
    missing = sorted(set(seed_papers) - set(counts))
    unknown = sorted(set(counts) - set(seed_papers))
    assert not duplicated, f"ids listed more than once in book/catalog.yml: {duplicated}"
    assert not missing, f"ids of ../shared/catalog missing from book/catalog.yml: {missing}"
    assert not unknown, f"ids in book/catalog.yml that the seed catalog does not know: {unknown}"


def test_entries_are_well_formed(catalog, seed_papers, toc):
    for paper in catalog:
        assert paper["title"] == seed_papers[paper["id"]]["title"], f"title of paper {paper['id']} differs from the seed catalog"
        assert paper["status"] in STATUSES, f"paper {paper['id']}: status {paper['status']!r} not in {STATUSES}"
        assert paper["part"] in PARTS, f"paper {paper['id']}: unknown part {paper['part']!r}"
        if paper["status"] == "planned":
            assert "where" not in paper, f"paper {paper['id']} is planned but names a place"
            continue
        where = paper.get("where")
        assert where, f"paper {paper['id']} has status {paper['status']} but no 'where'"
        assert (ROOT / where).exists(), f"paper {paper['id']}: {where} does not exist"
        assert str(Path(where).with_suffix("")) in toc, f"paper {paper['id']}: {where} is not in _toc.yml"
        assert Path(where).parts[1] == paper["part"], f"paper {paper['id']}: {where} is not in part {paper['part']}"
        if paper["status"] == "discussion":
            assert paper.get("why"), f"paper {paper['id']} is discussed only: say why in 'why'"


def test_chapters_and_catalog_point_at_each_other(catalog):
    by_id = {p["id"]: p for p in catalog}
    named = {}
    for nb_path in CHAPTERS:
        papers = load_notebook(nb_path)["metadata"].get("fieldguide", {}).get("papers")
        assert papers, f"{chapter_id(nb_path)} names no papers in its metadata (fieldguide: papers: [...])"
        for pid in papers:
            assert pid in by_id, f"{chapter_id(nb_path)} names paper {pid}, which the catalog does not list"
            assert by_id[pid].get("where") == chapter_id(nb_path), (
                f"{chapter_id(nb_path)} covers paper {pid} but book/catalog.yml points it to {by_id[pid].get('where')}"
            )
            named[pid] = chapter_id(nb_path)
    for paper in catalog:
        where = paper.get("where", "")
        if where.endswith(".ipynb") and paper["status"] in {"chapter", "section"}:
            assert named.get(paper["id"]) == where, f"catalog points paper {paper['id']} to {where}, which does not name it"
