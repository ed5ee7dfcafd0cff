"""Sphinx extension of the Field Guide.

* Renders ``book/catalog.yml`` at build time (the ``fieldguide-catalog`` directive).
* The instructor build (``FIELDGUIDE_INSTRUCTOR=1``, ``make instructor``) shows every
  exercise solution open instead of as a dropdown.

``.. fieldguide-catalog::`` (MyST: a ``{fieldguide-catalog}`` fence) writes a
coverage summary (papers per part and status) and one table per part, each
covered paper linked to the chapter that teaches it. The page is generated from
the catalog on every build, so it cannot drift from it.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

PART_TITLES = {
    "01-start": "Getting started",
    "02-width": "Signal propagation and infinite width",
    "03-activations": "Activation functions and learnable nonlinearities",
    "04-optim": "Optimization and loss landscapes",
    "05-theory": "Generalization and expressivity theory",
    "06-representations": "Representations",
    "07-continual": "Plasticity and continual learning",
    "08-memory": "Memory, Hebbian and biologically plausible learning",
    "09-hyper": "Hypernetworks and weight space",
    "10-sequences": "Sequences, sets and graphs",
    "11-sciml": "Scientific machine learning",
    "12-generative": "Probabilistic and generative models",
    "13-efficient": "Efficient networks",
    "14-rl": "Decisions (RL, bandits)",
    "15-apps": "Applications",
}
STATUSES = ("chapter", "section", "discussion", "planned")


def load_catalog(root: Path) -> list[dict]:
    with open(root / "book" / "catalog.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)["papers"]


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("*", "\\*")


def catalog_rst(papers: list[dict]) -> list[str]:
    lines = [".. list-table:: Papers per part and status", "   :header-rows: 1", ""]
    lines += ["   * - Part", *[f"     - {s}" for s in STATUSES], "     - total"]
    by_part: dict[str, list[dict]] = {}
    for paper in papers:
        by_part.setdefault(paper["part"], []).append(paper)
    totals: Counter = Counter()
    for part in sorted(by_part):
        counts = Counter(p["status"] for p in by_part[part])
        totals.update(counts)
        lines += [
            f"   * - {PART_TITLES.get(part, part)}",
            *[f"     - {counts.get(s, 0)}" for s in STATUSES],
            f"     - {len(by_part[part])}",
        ]
    lines += ["   * - **All parts**", *[f"     - **{totals.get(s, 0)}**" for s in STATUSES], f"     - **{len(papers)}**", ""]
    for part in sorted(by_part):
        lines += [
            f".. rubric:: {PART_TITLES.get(part, part)}",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 6 64 30",
            "",
        ]
        lines += ["   * - id", "     - title", "     - where"]
        for paper in sorted(by_part[part], key=lambda p: p["id"]):
            where = paper.get("where")
            if where:
                doc = "/" + str(Path(where).with_suffix(""))
                cell = f":doc:`{paper['status']} <{doc}>`"
            else:
                cell = paper["status"]
            lines += [f"   * - {paper['id']}", f"     - {_escape(paper['title'])}", f"     - {cell}"]
        lines.append("")
    return lines


class CatalogDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        self.env.note_dependency(str(root / "book" / "catalog.yml"))
        container = nodes.container()
        self.state.nested_parse(StringList(catalog_rst(load_catalog(root))), self.content_offset, container)
        return container.children


def open_solutions(app, doctree) -> None:
    """In the instructor build, drop the ``dropdown`` class from every solution."""
    if not app.config.fieldguide_instructor:
        return
    for node in doctree.findall(nodes.Element):
        classes = node.get("classes", [])
        if "solution" in classes and "dropdown" in classes:
            classes.remove("dropdown")


def setup(app):
    app.add_directive("fieldguide-catalog", CatalogDirective)
    app.add_config_value("fieldguide_instructor", os.environ.get("FIELDGUIDE_INSTRUCTOR", "0") not in ("", "0"), "env")
    app.connect("doctree-read", open_solutions)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
