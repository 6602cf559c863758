"""Offer each chapter's MyST markdown twin for download beside its notebook.

The book is built from ``chapters/NAME.ipynb``; its paired ``chapters/NAME.md`` (the reviewed source) is
excluded from the build.  This extension copies those ``.md`` files next to the notebook sources and adds a
``.md`` entry to the theme's download menu.

It also takes the theme's ``.pdf`` entry out of that menu: sphinx-book-theme adds it to every page with the
download button (no theme option removes it alone), and it only calls ``window.print()``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx


def _markdown_twin(app: Sphinx, pagename: str) -> Path | None:
    """Return the paired ``.md`` file of a page built from a notebook, or None."""
    twin = Path(app.srcdir) / f"{pagename}.md"
    notebook = Path(app.srcdir) / f"{pagename}.ipynb"
    return twin if twin.is_file() and notebook.is_file() else None


def add_markdown_download(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    """Append a ``.md`` link to the download menu of pages that have a markdown twin."""
    if _markdown_twin(app, pagename) is None:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].insert(
                1,
                {
                    "type": "link",
                    "url": f"{context['pathto']('_sources', 1)}/{pagename}.md",
                    "text": ".md",
                    "tooltip": "Download the MyST markdown source",
                    "icon": "fas fa-file-lines",
                    "label": "download-markdown-button",
                },
            )


def drop_print_entry(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    """Remove the ``.pdf`` entry (``window.print()``, not a download) from the download menu of every page."""
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"] = [b for b in button["buttons"] if b.get("label") != "download-pdf-button"]


def copy_markdown_twins(app: Sphinx, exception: Exception | None) -> None:
    """Copy every page's markdown twin into ``_sources`` of the HTML output."""
    if exception is not None or app.builder.format != "html":
        return
    for pagename in app.env.found_docs:
        twin = _markdown_twin(app, pagename)
        if twin is not None:
            target = Path(app.outdir) / "_sources" / f"{pagename}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(twin, target)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", add_markdown_download, priority=502)  # after the theme's buttons (501)
    app.connect("html-page-context", drop_print_entry, priority=502)
    app.connect("build-finished", copy_markdown_twins)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
