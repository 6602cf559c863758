"""The book's chapters: every one listed, paired, in sync, executed top to bottom, test machinery off the page."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"


def toc_files(toc: dict) -> list[str]:
    """Return every `file:` entry of a jb-book table of contents, in reading order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
TOC_CHAPTERS = [f for f in toc_files(TOC) if f.startswith("chapters/")]


def test_toc_lists_chapters() -> None:
    assert TOC["root"] == "intro" and (ROOT / "intro.md").is_file()
    assert TOC_CHAPTERS, "_toc.yml lists no chapter"
    assert len(set(TOC_CHAPTERS)) == len(TOC_CHAPTERS), "a chapter is listed twice in _toc.yml"


def test_every_chapter_notebook_is_in_the_toc() -> None:
    on_disk = {f"chapters/{p.stem}" for p in CHAPTERS.glob("*.ipynb")}
    orphans = sorted(on_disk - set(TOC_CHAPTERS))
    assert not orphans, f"notebooks not in _toc.yml (never built, never tested): {orphans}"


@pytest.mark.parametrize("chapter", TOC_CHAPTERS)
def test_chapter_has_md_and_ipynb_pair(chapter: str) -> None:
    missing = [s for s in (".md", ".ipynb") if not (ROOT / f"{chapter}{s}").is_file()]
    assert not missing, f"{chapter} lacks {missing}; create it with: jupytext --sync {chapter}.md"


@pytest.mark.parametrize("chapter", TOC_CHAPTERS)
def test_pair_is_in_sync(chapter: str) -> None:
    md_path, nb_path = ROOT / f"{chapter}.md", ROOT / f"{chapter}.ipynb"
    expected = jupytext.writes(jupytext.read(nb_path), fmt="md:myst")
    actual = md_path.read_text()
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                actual.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                fromfile=f"{chapter}.md",
                tofile=f"{chapter}.ipynb (as md:myst)",
            )
        )
        pytest.fail(
            f"{chapter}.md and .ipynb differ; run tools/execute-chapter {chapter}.md\n{diff[:3000]}"
        )


@pytest.mark.parametrize("chapter", TOC_CHAPTERS)
def test_notebook_was_executed_top_to_bottom(chapter: str) -> None:
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    counts = [c.get("execution_count") for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert counts, f"{chapter} has no code cell"
    assert None not in counts, f"{chapter} has code cells that were never executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{chapter} was not executed top to bottom in one fresh kernel (execution counts {counts}); "
        f"run tools/execute-chapter {chapter}.md"
    )


@pytest.mark.parametrize("chapter", TOC_CHAPTERS)
def test_stored_outputs_hold_no_machine_specific_text(chapter: str) -> None:
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(str(out.get("text", "")))
            texts.append(str(out.get("data", {}).get("text/plain", "")))
    joined = "\n".join(texts)
    for needle in (str(ROOT), "/tmp/ipykernel_", "/home/", "site-packages"):
        assert needle not in joined, f"{chapter} stores machine-specific output containing {needle!r}"
    address = re.search(r"<[^<>]* at 0x[0-9a-f]+>", joined)
    assert not address, f"{chapter} stores an object repr with a memory address: {address.group(0)}"


#: Tags with which Jupyter Book keeps a cell's source off the page.
HIDDEN_SOURCE = {"remove-cell", "remove-input", "hide-cell", "hide-input"}


@pytest.mark.parametrize("chapter", TOC_CHAPTERS)
def test_test_machinery_is_in_cell_tags_and_hidden_cells(chapter: str) -> None:
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        tags = set(cell.metadata.get("tags", []))
        assert "NBVAL_IGNORE_OUTPUT" not in cell.source, (
            f"{chapter}, code cell {i + 1}: tag the cell `:tags: [nbval-ignore-output]` instead of the comment")
        if "glue(" in cell.source:
            assert tags & HIDDEN_SOURCE, (
                f"{chapter}, code cell {i + 1} calls glue() on the page: move the glue calls into a cell tagged "
                "remove-cell right after it")
        if tags & {"remove-cell"} and cell.outputs:
            kinds = {out.output_type for out in cell.outputs}
            assert kinds <= {"display_data"} and all(not out.get("data", {}).get("text/plain") for out in
                                                     cell.outputs), (
                f"{chapter}, hidden code cell {i + 1} shows output nobody sees: {kinds}")
