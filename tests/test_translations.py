"""The Chinese edition cannot drift: every paragraph of the English book has a translation in
locale/zh_CN/LC_MESSAGES/ (one catalog per page), none is left fuzzy, and each keeps what must not change
(roles and glued numbers, math, inline code, links) and renders as markdown; the glossary's terms are used.

A translation is parsed with the page's own parser, MyST markdown, also where the English is a docstring in
reStructuredText (the API page): there, a role such as :class:`~d2lnotes.data.TensorLoader` is written
{py:class}`~d2lnotes.data.TensorLoader`, and a paragraph that introduces a code block ends with a colon, not ``::``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale" / "zh_CN"
CATALOGS = sorted((LOCALE / "LC_MESSAGES").rglob("*.po"))

#: What a translation must keep exactly: roles with their target (glue keys included), inline math, inline code,
#: link targets. Math between single dollars; code between backticks that are not a role's.
ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
MATH = re.compile(r"(?<![\\$])\$(?!\$)[^$\n]+?(?<!\\)\$")
CODE = re.compile(r"(?<![`}])`([^`]+)`(?!`)")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def entries(po: Path) -> list:
    """Return the messages of a catalog, without its header."""
    with po.open("rb") as f:
        return [m for m in read_po(f) if m.id]


#: A reStructuredText role of a docstring (the API page): its translation is parsed as the page's MyST, where the
#: same role is written {py:class}`target`.
RST_ROLE = re.compile(r":(class|func|meth|mod|attr|data|exc|obj):`([^`]+)`")


#: A role with its own link text, {doc}`text <target>`: the text is the reader's, the target must stay.
TITLED_ROLE = re.compile(r"(\{(?:doc|ref)\})`[^`<]*<([^`>]+)>`")


def kept(text: str, *, english: bool = False) -> dict[str, Counter]:
    """Return the roles, math, code spans and link targets of a paragraph, counted (a titled link by its target; in
    the English, a docstring's roles as MyST's: a translation must write them so, or they show as plain text)."""
    text = TITLED_ROLE.sub(r"\1`<\2>`", RST_ROLE.sub(r"{py:\1}`\2`", text) if english else text)
    without_roles = ROLE.sub(" ", text)
    return {"roles": Counter(ROLE.findall(text)), "math": Counter(MATH.findall(without_roles)),
            "code": Counter(CODE.findall(without_roles)), "links": Counter(LINK.findall(text))}


def test_every_page_of_the_book_has_a_catalog() -> None:
    pages = {p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.glob("chapters/*.ipynb")}
    pages |= {"intro", "reference/api", "reference/compatibility"}
    have = {p.relative_to(LOCALE / "LC_MESSAGES").with_suffix("").as_posix() for p in CATALOGS}
    assert pages <= have, f"pages without a Chinese catalog: {sorted(pages - have)} (run tools/update-catalogs)"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.stem)
def test_every_entry_is_translated_and_none_is_fuzzy(po: Path) -> None:
    untranslated = [m.id for m in entries(po) if not m.string]
    fuzzy = [m.id for m in entries(po) if m.fuzzy]
    assert not untranslated, f"{po.name}: {len(untranslated)} untranslated, e.g. {untranslated[0][:200]!r}"
    assert not fuzzy, (f"{po.name}: {len(fuzzy)} fuzzy (the English changed; update the translation, then delete "
                       f"the fuzzy mark), e.g. {fuzzy[0][:200]!r}")


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.stem)
def test_translations_keep_roles_math_code_and_links(po: Path) -> None:
    bad = []
    for m in entries(po):
        if m.string and (want := kept(m.id, english=True)) != (got := kept(m.string)):
            diff = {k: (sorted((want[k] - got[k]).elements()), sorted((got[k] - want[k]).elements()))
                    for k in want if want[k] != got[k]}
            bad.append(f"{m.id[:80]!r}: missing / added {diff}")
    assert not bad, f"{po.name}: {len(bad)} translations change what must stay as it is:\n" + "\n".join(bad[:5])


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.stem)
def test_translations_render_their_markdown(po: Path) -> None:
    """Bold and italics render: a ``**`` left over as text is the CJK flanking pitfall (``**“引号”**之后``)."""
    md = MarkdownIt("commonmark")
    bad = []
    for m in entries(po):
        if not m.string:
            continue
        leftover = [t.content for t in md.parseInline(ROLE.sub("x", m.string))[0].children or []
                    if t.type == "text" and "**" in t.content]
        if leftover and "**" not in "".join(t.content for t in md.parseInline(ROLE.sub("x", m.id))[0].children
                                            if t.type == "text"):
            bad.append(f"{m.string[:120]!r}")
    assert not bad, f"{po.name}: ** shown literally (write “**引号**” or put a space):\n" + "\n".join(bad[:5])


def glossary() -> list[tuple[str, str]]:
    """Return the glossary's checked terms as (English, Chinese) pairs.

    A row names one term or several, comma-separated in English and separated by 、 in Chinese; "✓" checks all of
    them, "✓ (term)" that one only.
    """
    pairs = []
    for line in (LOCALE / "GLOSSARY.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[2].startswith("✓"):
            continue
        english = [e.strip() for e in cells[0].split(",")]
        chinese = [c.strip() for c in cells[1].split("、")]
        row = list(zip(english, chinese)) if len(english) == len(chinese) else [(e, chinese[0]) for e in english]
        only = re.search(r"\((.*)\)", cells[2])
        pairs += [(e, c) for e, c in row if not only or e == only.group(1)]
    return pairs


def prose(text: str) -> str:
    """Return a paragraph without roles, math, code and link targets: the words a reader reads."""
    for pattern in (RST_ROLE, ROLE, MATH, re.compile(r"``.+?``"), re.compile(r"`[^`]*`"), LINK):
        text = pattern.sub(" ", text)
    return text


def test_the_glossary_is_followed() -> None:
    terms = glossary()
    assert len(terms) >= 15, terms
    bad = []
    for po in CATALOGS:
        for m in entries(po):
            if not m.string:
                continue
            english, chinese = prose(m.id).lower(), m.string.replace(" ", "")
            for term, chosen in terms:
                if re.search(rf"\b{re.escape(term.lower())}(?:s|es)?\b", english) and chosen not in chinese:
                    bad.append(f"{po.stem}: {term!r} should be {chosen!r} in {m.string[:80]!r}")
    assert not bad, f"{len(bad)} translations do not use the glossary's term:\n" + "\n".join(bad[:10])


@pytest.mark.slow  # builds the English book's catalog templates (a gettext build)
def test_the_catalogs_hold_the_current_english(tmp_path: Path) -> None:
    """Every paragraph of the current English book is in its page's catalog: an edited paragraph without a new
    translation fails here (run tools/update-catalogs, then translate)."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jupyter_book), "build", str(ROOT), "--builder", "custom", "--custom-builder",
                           "gettext", "--path-output", str(tmp_path)], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    templates = tmp_path / "_build" / "gettext"
    missing = {}
    for pot in sorted(templates.rglob("*.pot")):
        po = LOCALE / "LC_MESSAGES" / pot.relative_to(templates).with_suffix(".po")
        have = {m.id for m in entries(po)} if po.is_file() else set()
        lost = [m.id for m in entries(pot) if m.id not in have]
        if lost:
            missing[po.relative_to(ROOT).as_posix()] = lost
    assert not missing, "English paragraphs with no entry in their catalog (run tools/update-catalogs): " + str(
        {k: v[:2] for k, v in missing.items()})
