"""Glued numbers in translated paragraphs: ``{glue:text}`key:fmt``` renders in the Chinese edition as in English.

myst-nb resolves ``{glue:text}`` while it parses a notebook, from the notebook renderer it keeps on the document
for that time only. Sphinx parses a translated paragraph (a catalog's msgstr) later, in a document of its own, so
the key is not found there and the number silently disappears (only a warning). This role does what myst-nb does
for a key of another page (``page.ipynb::key``): it leaves a pending reference to the key in this page's glue
cache, which myst-nb's post-transform fills in, or reports as missing (a warning, so ``-W`` fails the build).
"""

from __future__ import annotations

from docutils import nodes
from myst_nb.ext.glue.roles import PasteTextRole
from myst_nb.ext.glue.utils import PendingGlueReference
from sphinx.application import Sphinx


class PasteTextInTranslation(PasteTextRole):
    """``{glue:text}``: myst-nb's role, and in a translated paragraph a pending reference to this page's key."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        """Paste as myst-nb does while the notebook is parsed; afterwards, refer to this page's glue cache."""
        if "nb_renderer" in self.document or "::" in self.text:
            return super().run()
        key, _, fmt_spec = self.text.partition(":")
        ref = PendingGlueReference(refdoc=self.document.settings.env.docname, key=key, inline=True, gtype="text",
                                   fmt_spec=fmt_spec or "s")
        ref.source, ref.line = self.source, self.line
        return [ref], []


def setup(app: Sphinx) -> dict:
    """Register the role in place of myst-nb's ``glue:text`` (myst-nb must be loaded first)."""
    app.setup_extension("myst_nb")
    app.add_role_to_domain("glue", "text", PasteTextInTranslation(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
