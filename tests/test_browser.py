"""The built book as a reader sees it: every page of both editions opened in headless Chromium, served from 127.0.0.1.

Needs Debian's `chromium` (CI installs it). Locally the test is skipped when Chromium is absent; in CI
(`CI` set) a missing browser is a failure. The book that README command 1 built (`_build/html`, with warnings as
errors) is reused when it is newer than every source; otherwise the book is built into a temporary folder.

On every page: no JavaScript error, no request leaving 127.0.0.1, one search field, no '.pdf' entry (it only
printed the page), and at 1280 px no table and no cell output wider than the article's column (on a 390 px phone
the page itself does not scroll sideways). Allowed by design (_static/d2lnotes.css): a code input line longer
than the column scrolls inside its code box, and on a phone a table wider than the screen scrolls inside its own
box. The chapters show no test plumbing, and the API reference documents every module and public name.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import os
import pkgutil
import re
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
#: Test machinery that the chapters keep in tagged cells, out of the reader's sight.
PLUMBING = ("NBVAL_IGNORE_OUTPUT", "glue(")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI needs Debian's chromium for the browser test: apt-get install chromium", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.browser]


#: Where each edition's pages are, in the built book: English at the root, Chinese in zh_CN/.
EDITIONS = {"en": "", "zh_CN": "zh_CN/"}


def toc_pages(edition: str = "en") -> list[str]:
    """Return the HTML path of every page in _toc.yml in one edition, landing page first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return [f"{EDITIONS[edition]}{p}.html" for p in pages]


#: Every page of both editions.
ALL_PAGES = toc_pages("en") + toc_pages("zh_CN")


def page_sources(page: str) -> list[Path]:
    """Return the files a toc page is built from: a chapter's notebook (its stored outputs), or the .md.

    The API reference is also built from the package's docstrings.
    """
    name = page.removeprefix(EDITIONS["zh_CN"]).removesuffix(".html")
    stem = ROOT / name
    sources = [p for p in (stem.with_suffix(".ipynb"), stem.with_suffix(".md")) if p.is_file()][:1]
    if name == "reference/api":
        sources += sorted((ROOT / "d2lnotes").rglob("*.py"))
    if page.startswith(EDITIONS["zh_CN"]):
        sources += [p for p in [ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / f"{name}.po"] if p.is_file()]
    return sources


def current_build() -> Path | None:
    """Return ``_build/html`` when every toc page is newer than its source and the book's settings, else None.

    Sphinx builds incrementally: it rewrites the pages whose sources changed, and every page when a setting did.
    """
    html = ROOT / "_build" / "html"
    pages = {p: html / p for p in ALL_PAGES}
    if not all(f.is_file() for f in pages.values()):
        return None
    settings = [ROOT / "_config.yml", ROOT / "_toc.yml", ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "intro.po",
                *(ROOT / "_ext").glob("*.py"), *(ROOT / "_static").glob("*")]
    if max(f.stat().st_mtime for f in settings) > max(f.stat().st_mtime for f in pages.values()):
        return None
    stale = [p for p, f in pages.items() if any(s.stat().st_mtime > f.stat().st_mtime for s in page_sources(p))]
    return None if stale else html


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the html folder of a current build of both editions: README command 1's, or one made now
    (``tools/build-book``, warnings as errors)."""
    if (built := current_build()) is not None:
        return built
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run([str(ROOT / "tools" / "build-book"), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def server(book: Path) -> Iterator[str]:
    """Serve the built book on 127.0.0.1; yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(book))
    httpd = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the browser cancelling a request it no longer needs is not an error of the book


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    """A fresh 1280 px page that records requests and JavaScript errors and blocks any request leaving 127.0.0.1."""
    yield from _page(browser, WIDE)


@pytest.fixture()
def phone(browser: object) -> Iterator[object]:
    """Like ``page``, 390 px wide."""
    yield from _page(browser, PHONE)


def _page(browser: object, viewport: dict[str, int]) -> Iterator[object]:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(180_000)  # a bound for waiting on a busy machine, not a speed requirement
    page = context.new_page()
    page.requests = []  # every URL the page asked for
    page.outside = []  # the ones that would have left 127.0.0.1
    page.errors = []  # uncaught exceptions and console errors of the page's scripts
    page.on("pageerror", lambda err: page.errors.append(f"uncaught: {err}"))
    page.on("console", lambda msg: _console_error(page, msg))

    def route(r: object) -> None:
        url = r.request.url
        page.requests.append(url)
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            page.outside.append(url)
            r.abort()

    context.route("**/*", route)
    yield page
    context.close()


def _console_error(page: object, msg: object) -> None:
    """Record a console error, except the 404 of Chromium's own request for /favicon.ico (the book has no icon)."""
    if msg.type != "error" or msg.location.get("url", "").endswith("/favicon.ico"):
        return
    page.errors.append(f"console: {msg.text} ({msg.location.get('url')})")


def load(page: object, server: str, path: str) -> None:
    """Open a page of the book and wait until its network is idle and its math is typeset."""
    page.goto(urljoin(server, path), wait_until="networkidle")
    if page.locator("span.math, div.math").count():
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.document")
        page.evaluate("MathJax.startup.promise")


@pytest.mark.parametrize("path", ALL_PAGES)
def test_page_renders_offline_with_hidden_solutions_that_open(page: object, server: str, path: str) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    load(page, server, path)

    heading = page.locator("main h1").first.inner_text().strip()
    assert heading, f"{path}: no heading"

    broken = page.evaluate(
        "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, f"{path}: broken images {broken}"

    if page.locator("span.math, div.math").count():
        assert page.locator("mjx-container").count() > 0, f"{path}: math was not rendered"

    assert not failed, f"{path}: failed requests {failed}"
    assert not page.outside, f"{path}: requests leaving 127.0.0.1: {page.outside}"
    if "chapters/" in path:
        check_exercises_with_solutions_that_open(page, path)
    check_edition(page, path)
    searches = page.locator(".search-button-field").evaluate_all("els => els.filter(e => e.offsetParent).length")
    assert searches == 1, f"{path}: {searches} search fields are shown (the sidebar's alone is wanted)"
    assert not page.locator(".download-pdf-button").count(), f"{path}: a '.pdf' entry that only opens the print dialog"
    too_wide = page.evaluate(TOO_WIDE)
    assert not too_wide, f"{path}: wider than the column at 1280 px: {too_wide}"
    assert not page.errors, f"{path}: JavaScript errors {page.errors}"


#: JavaScript: the tables and cell outputs of the article that scroll inside their box or reach past the
#: article's column, as [what, how]; and the page itself, when it scrolls sideways.
TOO_WIDE = """() => {
  const article = document.querySelector("article.bd-article");
  const right = article.getBoundingClientRect().right;
  const bad = [];
  const check = (what, e) => {
    const past = e.getBoundingClientRect().right - right;
    if (e.scrollWidth > e.clientWidth + 1) bad.push([what, `${e.scrollWidth} px of content in ${e.clientWidth} px`]);
    else if (past > 1) bad.push([what, `ends ${Math.round(past)} px right of the column`]);
  };
  article.querySelectorAll("table").forEach(t => {
    check("table: " + t.innerText.slice(0, 40), t);
    if (t.parentElement.classList.contains("pst-scrollable-table-container")) check("table box", t.parentElement);
  });
  article.querySelectorAll("div.cell_output, div.cell_output pre").forEach(
    e => check("output: " + e.innerText.slice(0, 40), e));
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) bad.push(["page", `${doc.scrollWidth} px wide`]);
  return bad;
}"""


@pytest.mark.parametrize("path", ALL_PAGES)
def test_page_does_not_scroll_sideways_on_a_phone(phone: object, server: str, path: str) -> None:
    load(phone, server, path)
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{path}: at 390 px the page is {widths[0]} px wide"
    assert not phone.errors, f"{path}: JavaScript errors {phone.errors}"


@pytest.mark.parametrize("path", [p for p in ALL_PAGES if "chapters/" in p])
def test_chapter_shows_no_test_plumbing(book: Path, path: str) -> None:
    """The built chapter shows no nbval comment and no glue call, except inside a cell hidden by a hide-* tag."""
    text = visible_text((book / path).read_text())
    found = {s: text.count(s) for s in PLUMBING if s in text}
    assert not found, f"{path} shows test plumbing to the reader: {found}"


#: HTML elements without an end tag.
VOID_TAGS = ("br", "img", "hr", "input", "meta", "link", "wbr", "col", "source")


def visible_text(page_html: str) -> str:
    """Return the text of a page's <main>, without scripts and without myst-nb's collapsed hide-* cells."""
    parts: list[str] = []

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[bool] = []  # one entry per open element: is the text inside it left out?
            self.in_main = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in VOID_TAGS:
                return
            classes = (dict(attrs).get("class") or "").split()
            hidden = tag in ("script", "style") or (tag == "details" and "hide" in classes)
            self.stack.append(hidden or bool(self.stack and self.stack[-1]))
            self.in_main += tag == "main"

        def handle_endtag(self, tag: str) -> None:
            if self.stack and tag not in VOID_TAGS:
                self.stack.pop()
            self.in_main -= tag == "main"

        def handle_data(self, data: str) -> None:
            if self.in_main and not (self.stack and self.stack[-1]):
                parts.append(data)

    Text().feed(page_html)
    return "".join(parts)


#: Raw MyST that a translated paragraph shows when it did not render: bold markers, an unresolved role, a
#: docstring's reStructuredText.
RAW_MYST = ("**", "{glue", "{py:", "{doc}", "{ref}", ":class:", ":func:", ":mod:", "``")
#: JavaScript: the prose of the page's <main>, without code, outputs and API signatures.
PROSE = """() => {
  const main = document.querySelector("main").cloneNode(true);
  main.querySelectorAll("pre, code, .cell_input, .cell_output, dt.sig, script, style").forEach(e => e.remove());
  return main.innerText;
}"""


def check_edition(page: object, path: str) -> None:
    """Assert the page's language, its link to the same page in the other edition, and (Chinese) rendered prose."""
    chinese = path.startswith(EDITIONS["zh_CN"])
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if chinese else "en"), path
    twin = path.removeprefix(EDITIONS["zh_CN"]) if chinese else EDITIONS["zh_CN"] + path
    link = page.locator("a.btn-other-edition-button")
    assert link.count() == 1, f"{path}: no link to the other edition"
    assert urljoin(page.url, link.get_attribute("href")).endswith("/" + twin), (path, link.get_attribute("href"))
    if chinese:
        text = page.evaluate(PROSE)
        assert re.search(r"[\u4e00-\u9fff]", text), f"{path}: no Chinese on the page"
        placeholder = page.locator(".bd-search input").first.get_attribute("placeholder") or ""
        assert re.search(r"[\u4e00-\u9fff]", placeholder), f"{path}: the search field says {placeholder!r}"
        raw = [r for r in RAW_MYST if r in text]
        assert not raw, f"{path}: raw MyST on the page: {raw}"


def check_exercises_with_solutions_that_open(page: object, path: str) -> None:
    """Assert that the loaded chapter has two or more exercises whose solutions stay hidden until clicked."""
    assert page.locator("div.exercise").count() >= 2, f"{path}: fewer than two exercises"
    solutions = page.locator("div.solution.dropdown")
    assert solutions.count() >= 2, f"{path}: fewer than two solutions"
    first = solutions.first
    body = first.locator("section, div.section, .cell").first
    assert not body.is_visible(), f"{path}: a solution is visible before it is clicked"
    first.locator("button.toggle-button").first.click()
    body.wait_for(state="visible")


def test_internal_links_resolve(server: str, book: Path) -> None:
    bad: list[str] = []
    checked: set[str] = set()
    for html in sorted(book.rglob("*.html")):
        rel = html.relative_to(book).as_posix()
        if rel.startswith("_"):
            continue
        text = html.read_text(errors="replace")
        for href in _hrefs(text):
            target = urldefrag(urljoin(urljoin(server, rel), href))[0]
            if urlparse(target).hostname != "127.0.0.1" or target in checked:
                continue
            checked.add(target)
            try:
                with urlopen(target, timeout=10) as response:
                    response.read(1)
            except HTTPError as err:
                bad.append(f"{rel} -> {href} ({err.code})")
    assert checked, "no internal link found"
    assert not bad, f"internal links that 404: {bad}"


def test_markdown_and_notebook_downloads(server: str) -> None:
    for path in [p for p in ALL_PAGES if "chapters/" in p]:
        edition, _, stem = path.removesuffix(".html").rpartition("chapters/")
        for suffix in (".ipynb", ".md"):
            with urlopen(urljoin(server, f"{edition}_sources/chapters/{stem}{suffix}"), timeout=10) as response:
                assert response.status == 200 and response.read(1)


@pytest.mark.parametrize("path", [p for p in toc_pages("zh_CN") if "chapters/" in p])
def test_chinese_page_shows_the_same_glued_numbers_as_the_english(book: Path, path: str) -> None:
    pasted = re.compile(r'<span class="pasted-text">([^<]*)</span>')
    english = Counter(pasted.findall((book / path.removeprefix(EDITIONS["zh_CN"])).read_text()))
    chinese = Counter(pasted.findall((book / path).read_text()))
    assert english, f"{path}: no glued number in the English page"
    assert chinese == english, f"{path}: glued numbers differ: only English {english - chinese}, only Chinese " \
                               f"{chinese - english}"


@pytest.mark.parametrize("path", [p for p in toc_pages("zh_CN") if "chapters/" in p])
def test_chinese_notebook_download_has_chinese_prose_around_the_same_code_and_outputs(book: Path, path: str) -> None:
    import json

    from babel.messages.pofile import read_po

    name = path.removeprefix(EDITIONS["zh_CN"]).removesuffix(".html")
    english = json.loads((ROOT / f"{name}.ipynb").read_text())
    chinese = json.loads((book / "zh_CN" / "_sources" / f"{name}.ipynb").read_text())
    assert [c for c in chinese["cells"] if c["cell_type"] == "code"] == [
        c for c in english["cells"] if c["cell_type"] == "code"], f"{name}: code or outputs differ"
    prose = "\n".join("".join(c["source"]) for c in chinese["cells"] if c["cell_type"] == "markdown")
    flat = " ".join(prose.split())
    with (ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / f"{name}.po").open("rb") as f:
        english_paragraphs = [m.id for m in read_po(f) if m.id and m.string != m.id and len(m.id.split()) >= 6]
    left = [p for p in english_paragraphs if " ".join(p.split()) in flat]
    assert not left, f"{name}: {len(left)} English paragraphs left in the Chinese notebook, e.g. {left[0][:120]!r}"


@pytest.mark.parametrize("query", ["search.html?q=gradient", "zh_CN/search.html?q=梯度"])
def test_search_finds_a_chapter(page: object, server: str, query: str) -> None:
    page.goto(urljoin(server, query), wait_until="networkidle")
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results li").count() > 0
    assert not page.outside, page.outside
    assert not page.errors, page.errors


def test_reference_links_reach_their_anchors(book: Path) -> None:
    """Every internal link of the reference pages leads to a page of the book and to an anchor on it."""
    bad: list[str] = []
    for rel in ("reference/api.html", "reference/compatibility.html"):
        links = _hrefs((book / rel).read_text())
        internal = [h for h in links if not urlparse(h).scheme]
        assert internal, f"{rel}: no internal link"
        for href in internal:
            target, fragment = urldefrag(urljoin(f"http://book/{rel}", href))
            file = book / urlparse(target).path.lstrip("/")
            if not file.is_file():
                bad.append(f"{rel} -> {href} (no page)")
            elif fragment and f'id="{fragment}"' not in file.read_text():
                bad.append(f"{rel} -> {href} (no anchor)")
    assert not bad, f"links that lead nowhere: {bad}"


def test_api_reference_documents_every_module_and_public_name(book: Path) -> None:
    """Every module of d2lnotes, and every name of ``import d2lnotes as d2l`` it defines, has an API entry."""
    import d2lnotes

    api = (book / "reference/api.html").read_text()
    modules = [m.name for m in pkgutil.walk_packages(d2lnotes.__path__, "d2lnotes.") if m.name != "d2lnotes.__main__"]
    missing = [m for m in ["d2lnotes", *modules] if f'id="module-{m}"' not in api]
    for module, names in d2lnotes._SOURCES.items():
        for name in names:
            obj = getattr(importlib.import_module(module), name)
            if inspect.ismodule(obj) or getattr(obj, "__module__", module) != module:
                continue  # defined elsewhere: d2l.ones is torch.ones, d2l.plt is pyplot, FitHistory is train.History
            if f'id="{module}.{name}"' not in api:
                missing.append(f"{module}.{name}")
    assert not missing, f"modules and public names without an entry in reference/api.md: {missing}"


def _hrefs(html: str) -> list[str]:
    """Return the href of every <a> in an HTML text."""
    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                href = dict(attrs).get("href")
                if href and not href.startswith(("#", "mailto:", "javascript:")):
                    found.append(href)

    Links().feed(html)
    return found
