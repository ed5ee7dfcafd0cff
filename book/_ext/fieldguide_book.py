"""Sphinx extension of the Field Guide.

* Renders ``book/catalog.yml`` at build time (the ``fieldguide-catalog`` directive).
* Renders the reproduction scorecard (the ``fieldguide-scorecard`` directive) from
  the claim rows that ``fg.claims.check`` stored in each chapter's outputs.
* Lists every public module of the package in the API reference
  (``fieldguide-api``), so a new module appears there without editing the page.
* Adds to every API entry the chapters that use it (``autodoc-process-docstring``),
  found by scanning the chapters' code for ``fg.<module>.<name>``.
* Renders the runtime report (``fieldguide-runtimes``) from ``_build/runtimes.json``,
  which the test command writes.
* Serves MathJax from the book itself when the ``django-static-mathjax`` package is
  installed (it is in requirements.txt), so equations render offline too.
* Drops repeated inline scripts from each page: Jupyter Book 1.x's extensions
  add sphinx-thebe's configuration twice, and the repeated ``const`` declaration is
  a JavaScript error in every page (found by the browser test).
* The instructor build (``FIELDGUIDE_INSTRUCTOR=1``, ``make instructor``) shows every
  exercise solution open instead of as a dropdown.

``.. fieldguide-catalog::`` (MyST: a ``{fieldguide-catalog}`` fence) writes a
coverage summary (papers per part and status) and one table per part, each
covered paper linked to the chapter that teaches it. The page is generated from
the catalog on every build, so it cannot drift from it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from fieldguide.claims import stored_rows

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


def parse_rst(directive: SphinxDirective, lines: list[str]) -> list[nodes.Node]:
    """Parse generated reStructuredText inside a directive, from a MyST page or an RST one.

    MyST parses a directive's nested content as Markdown, so there the lines go
    through an ``{eval-rst}`` block.
    """
    if type(directive.state).__module__.startswith("myst_parser"):
        lines = ["```{eval-rst}", *lines, "```"]
    container = nodes.container()
    directive.state.nested_parse(StringList(lines, source=directive.get_source_info()[0]), directive.content_offset, container)
    return container.children


class CatalogDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        self.env.note_dependency(str(root / "book" / "catalog.yml"))
        return parse_rst(self, catalog_rst(load_catalog(root)))


def chapter_notebooks(root: Path) -> list[Path]:
    """The notebooks named in _toc.yml, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def claim_rows(notebook: Path) -> list[dict]:
    """The claim rows stored in the outputs of a notebook's cells tagged ``claim``."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    rows = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "claim" not in cell["metadata"].get("tags", []):
            continue
        rows += stored_rows(cell.get("outputs", []))
    return rows


def scorecard_rst(root: Path, papers: list[dict]) -> list[str]:
    titles = {p["id"]: p["title"] for p in papers}
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 14 22 28 14 16 6", ""]
    lines += ["   * - chapter", "     - paper", "     - claim", "     - paper's number", "     - measured", "     - pass"]
    passed = total = 0
    for notebook in chapter_notebooks(root):
        doc = "/" + str(notebook.relative_to(root).with_suffix(""))
        for row in claim_rows(notebook):
            total += 1
            passed += bool(row["holds"])
            title = _escape(titles.get(row["paper"], "?"))
            lines += [
                f"   * - :doc:`{doc}`",
                f"     - {title} ({row['paper']})",
                f"     - {_escape(row['claim'])}",
                f"     - {_escape(row['expected'])}",
                f"     - {_escape(row['measured'])}",
                f"     - {'yes' if row['holds'] else '**no**'}",
            ]
    summary = [f"{passed} of {total} claim checks pass in the stored outputs.", ""]
    return summary + lines + [""]


class ScorecardDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        for notebook in chapter_notebooks(root):
            self.env.note_dependency(str(notebook))
        return parse_rst(self, scorecard_rst(root, load_catalog(root)))


USE = re.compile(r"\bfg\.((?:[a-z_]+\.)*[A-Za-z_]+)")


def chapter_usage(root: Path) -> dict[str, list[str]]:
    """Map ``fieldguide.<module>.<name>`` to the docnames of the chapters whose code uses it."""
    usage: dict[str, list[str]] = {}
    for notebook in chapter_notebooks(root):
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        doc = str(notebook.relative_to(root).with_suffix(""))
        for name in sorted(set(USE.findall(code))):
            usage.setdefault(f"fieldguide.{name}", []).append(doc)
    return usage


def add_chapter_links(app, what, name, obj, options, lines) -> None:
    """Append 'Used in' links to the chapters that call this object."""
    if what not in ("function", "class", "method"):
        return
    usage = app.env.fieldguide_usage if hasattr(app.env, "fieldguide_usage") else None
    if usage is None:
        usage = app.env.fieldguide_usage = chapter_usage(Path(app.srcdir))
    aliases = {name}
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", "") or ""
    if module.startswith("fieldguide"):
        parts = module.split(".")
        # re-exports: fieldguide.width.kernels.ntk is used as fg.width.ntk
        aliases |= {".".join(parts[:i] + [qualname]) for i in range(1, len(parts) + 1)}
    docs = sorted({d for alias in aliases for d in usage.get(alias, [])})
    if docs:
        lines += ["", "**Used in:** " + ", ".join(f":doc:`/{d}`" for d in docs), ""]


BUDGET_SECONDS = 60


class RuntimesDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        path = root / "_build" / "runtimes.json"
        if not path.exists():
            lines = ["No run has been recorded on this machine yet: ``make test`` records one, then ``make book`` shows it."]
        else:
            self.env.note_dependency(str(path))
            data = json.loads(path.read_text(encoding="utf-8"))
            runs = data["notebooks"]
            total = sum(r["seconds"] for r in runs.values())
            lines = [
                f"{len(runs)} notebooks, {total:.0f} s in all, each on {data['threads_per_notebook']} CPU thread(s); "
                f"the budget is {BUDGET_SECONDS} s per notebook.",
                "",
                ".. list-table::",
                "   :header-rows: 1",
                "",
                "   * - notebook",
                "     - seconds",
                "     - within budget",
                "     - outputs match",
            ]
            for nb, run in runs.items():
                doc = "/" + str(Path(nb).with_suffix(""))
                known = (root / nb).exists()
                lines += [
                    f"   * - {f':doc:`{doc}`' if known else nb}",
                    f"     - {run['seconds']:.1f}",
                    f"     - {'yes' if run['seconds'] <= BUDGET_SECONDS else '**no**'}",
                    f"     - {'yes' if run['passed'] else '**no**'}",
                ]
        return parse_rst(self, lines + [""])


API_GROUPS = {
    "": "Shared infrastructure",
    "width": "Part 2: signal propagation and infinite width",
    "continual": "Part 7: plasticity and continual learning",
    "memory": "Part 8: memory, Hebbian and biologically plausible learning",
}


def public_modules() -> dict[str, list[str]]:
    """The package's public modules, grouped by subpackage ('' for the shared infrastructure)."""
    import pkgutil

    import fieldguide

    groups: dict[str, list[str]] = {}
    for info in pkgutil.walk_packages(fieldguide.__path__, "fieldguide."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.ispkg and len(parts) > 2:
            continue
        if info.ispkg:  # a subpackage: its modules are listed one by one
            continue
        group = parts[1] if len(parts) > 2 and parts[1] in API_GROUPS else ""
        groups.setdefault(group, []).append(info.name)
    return groups


class ApiDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        lines: list[str] = []
        groups = public_modules()
        for group in sorted(groups, key=lambda g: list(API_GROUPS).index(g) if g in API_GROUPS else 99):
            lines += [f".. rubric:: {API_GROUPS.get(group, group)}", ""]
            for module in groups[group]:
                lines += [f".. automodule:: {module}", ""]
        return parse_rst(self, lines)


def open_solutions(app, doctree) -> None:
    """In the instructor build, drop the ``dropdown`` class from every solution."""
    if not app.config.fieldguide_instructor:
        return
    for node in doctree.findall(nodes.Element):
        classes = node.get("classes", [])
        if "solution" in classes and "dropdown" in classes:
            classes.remove("dropdown")


MATHJAX_FILE = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_FILE, "input", "output", "ui", "a11y")  # what the combined component loads on demand


def _local_mathjax() -> Path | None:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or spec.origin is None:
        return None
    es5 = Path(spec.origin).parent / "static" / "mathjax" / "es5"
    return es5 if (es5 / MATHJAX_FILE).exists() else None


def use_local_mathjax(app, config) -> None:
    if _local_mathjax() is not None:
        config.mathjax_path = f"mathjax/{MATHJAX_FILE}"  # relative to _static


def copy_local_mathjax(app, exception) -> None:
    es5 = _local_mathjax()
    if exception is not None or es5 is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = es5 / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)


def drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""  # inline scripts: None or "" (both occur)
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: later handlers (MathJax) still add to this same list


def setup(app):
    app.add_directive("fieldguide-catalog", CatalogDirective)
    app.add_directive("fieldguide-scorecard", ScorecardDirective)
    app.add_directive("fieldguide-runtimes", RuntimesDirective)
    app.add_directive("fieldguide-api", ApiDirective)
    app.add_config_value("fieldguide_instructor", os.environ.get("FIELDGUIDE_INSTRUCTOR", "0") not in ("", "0"), "env")
    app.connect("doctree-read", open_solutions)
    app.connect("config-inited", use_local_mathjax)
    app.connect("build-finished", copy_local_mathjax)
    app.connect("html-page-context", drop_repeated_scripts, priority=100)  # before handlers that end the event
    app.connect("autodoc-process-docstring", add_chapter_links)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
