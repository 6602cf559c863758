"""Two editions of one book, English and Chinese, from the same executed notebooks.

The Chinese edition is the same build with ``language = zh_CN``: Sphinx's gettext catalogs
(``locale/zh_CN/LC_MESSAGES/``, one ``.po`` per page) translate the prose, and code and outputs stay as the
notebooks hold them. This extension does what Sphinx leaves undone:

- the cells of markdown tables (MyST leaves them out of the catalogs);
- the part captions of the table of contents (sphinx-external-toc inserts them after Sphinx has translated the
  page) and the book's title, from the root page's catalog; the search field's text, from Sphinx's own catalog;
- every page links to the same page in the other edition; the Chinese edition is built into ``zh_CN/`` of the
  English one, so the link is relative and works offline;
- a translated page's downloadable sources (``.ipynb``, ``.md``) hold the translated prose around the same code
  and outputs, generated from the catalog at build time.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import _
from sphinx.transforms import SphinxTransform

#: The other edition of each language: (its language, the link text, where its root is from this one's root).
OTHER_EDITION = {"en": ("zh_CN", "中文", "zh_CN/"), "zh_CN": ("en", "English", "../")}


@lru_cache(maxsize=None)
def _catalog(po: Path) -> dict[str, str]:
    """Return {msgid: msgstr} of the translated, non-fuzzy entries of one ``.po`` file (empty if it is missing)."""
    if not po.is_file():
        return {}
    with po.open("rb") as f:
        catalog = read_po(f)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def messages(srcdir: str | Path, config: Config, docname: str) -> dict[str, str]:
    """Return the translations of one page in the language of this build."""
    if not config.language or config.language == "en":
        return {}
    found: dict[str, str] = {}
    for folder in config.locale_dirs:
        found.update(_catalog(Path(srcdir) / folder / config.language / "LC_MESSAGES" / f"{docname}.po"))
    return found


def translate_title(app: Sphinx, config: Config) -> None:
    """Give the book's title in the edition's language (it is the root page's heading, so its catalog has it)."""
    title = messages(app.srcdir, config, config.root_doc).get(config.html_title)
    if title:
        config.html_title = title


class TranslatableTableCells(SphinxTransform):
    """Let the gettext machinery see markdown table cells: MyST gives their paragraphs no source, so Sphinx would
    skip them; they get the page's (before Sphinx extracts or translates messages, at priority 20)."""

    default_priority = 15

    def apply(self, **kwargs: object) -> None:
        """Give each table cell's paragraph the page as its source."""
        for entry in self.document.findall(nodes.entry):
            for paragraph in entry.findall(nodes.paragraph):
                if not paragraph.source and paragraph.rawsource:
                    paragraph.source, paragraph.line = self.document["source"], entry.line or 1


class TranslateTocCaptions(SphinxTransform):
    """Translate the captions of the toctrees that sphinx-external-toc inserted (its transform runs at 100)."""

    default_priority = 101

    def apply(self, **kwargs: object) -> None:
        """Replace each caption by its translation in this page's catalog, where it has one."""
        table = messages(self.env.srcdir, self.config, self.env.docname)
        for toctree in self.document.findall(addnodes.toctree):
            caption = toctree.get("caption")
            if caption in table:
                toctree["caption"] = toctree["rawcaption"] = table[caption]


def translate_search_field(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    """Give the search field Sphinx's own word for "Search" (Jupyter Book sets an English text, which no theme
    translates)."""
    if app.config.language and app.config.language != "en":
        context["theme_search_bar_text"] = _("Search") + "…"


def link_other_edition(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    """Add a header button that opens this page in the other edition."""
    other = OTHER_EDITION.get(app.config.language or "en")
    if other is None:
        return
    language, text, root = other
    up = "../" * pagename.count("/")
    context.setdefault("header_buttons", []).append({
        "type": "link",
        "url": f"{up}{root}{pagename}.html",
        "text": text,
        "tooltip": "English edition" if language == "en" else "中文版",
        "icon": "fas fa-language",
        "label": "other-edition-button",
    })


def translate_markdown(text: str, table: dict[str, str]) -> str:
    """Return MyST ``text`` with every block (paragraph, heading, list item) that has a translation replaced by it.

    A catalog's msgid is a block's source with its line breaks turned into spaces; a block matches when it holds
    the same words, from the start of a line (after a heading, list or quote marker) to the end of one.
    """
    for msgid in sorted(table, key=len, reverse=True):
        body = r"\s+".join(re.escape(word) for word in msgid.split())
        pattern = re.compile(rf"^(?P<lead>[ \t]*(?:#{{1,6}}[ \t]+|[-*+][ \t]+|\d+\.[ \t]+|>[ \t]*)?){body}[ \t]*$",
                             re.MULTILINE)
        text = pattern.sub(lambda m, s=table[msgid]: m.group("lead") + s, text)
    return "\n".join(_translate_table_row(line, table) for line in text.split("\n"))


def _translate_table_row(line: str, table: dict[str, str]) -> str:
    """Return a markdown table row with each cell that has a translation replaced by it (other lines unchanged)."""
    if not line.lstrip().startswith("|"):
        return line
    cells = re.split(r"(?<!\\)\|", line)
    return "|".join(f" {table[c.strip()]} " if c.strip() in table else c for c in cells)


def translate_sources(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite the prose of each translated page's ``_sources`` (``.ipynb`` markdown cells and ``.md`` twin)."""
    if exception is not None or app.builder.format != "html" or not app.config.language or app.config.language == "en":
        return
    for docname in app.env.found_docs:
        table = messages(app.srcdir, app.config, docname)
        if not table:
            continue
        notebook = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        if notebook.is_file():
            nb = json.loads(notebook.read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                if cell["cell_type"] == "markdown":
                    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                    cell["source"] = translate_markdown(source, table).splitlines(keepends=True)
            notebook.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        twin = Path(app.outdir) / "_sources" / f"{docname}.md"
        if twin.is_file():
            twin.write_text(translate_markdown(twin.read_text(encoding="utf-8"), table), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    """Connect the title, captions, edition link and sources steps."""
    app.connect("config-inited", translate_title, priority=900)  # after Jupyter Book has set html_title
    app.add_transform(TranslatableTableCells)
    app.add_transform(TranslateTocCaptions)
    app.connect("html-page-context", link_other_edition, priority=503)  # after the theme's buttons (501)
    app.connect("html-page-context", translate_search_field, priority=503)
    app.connect("build-finished", translate_sources, priority=600)  # after the markdown twins are copied (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

