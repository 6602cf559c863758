"""The built book as a reader sees it: every page opened in headless Chromium, served from 127.0.0.1.

Needs Debian's `chromium` (CI installs it). Locally the test is skipped when Chromium is absent; in CI
(`CI` set) a missing browser is a failure. The book that README command 1 built (`_build/html`, with warnings as
errors) is reused when it is newer than every source; otherwise the book is built into a temporary folder.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
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


def toc_pages() -> list[str]:
    """Return the HTML path of every page in _toc.yml, landing page first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return [f"{p}.html" for p in pages]


def page_sources(page: str) -> list[Path]:
    """Return the files a toc page is built from: a chapter's notebook (its stored outputs), or the .md."""
    stem = ROOT / page.removesuffix(".html")
    return [p for p in (stem.with_suffix(".ipynb"), stem.with_suffix(".md")) if p.is_file()][:1]


def current_build() -> Path | None:
    """Return ``_build/html`` when every toc page is newer than its source and the book's settings, else None.

    Sphinx builds incrementally: it rewrites the pages whose sources changed, and every page when a setting did.
    """
    html = ROOT / "_build" / "html"
    pages = {p: html / p for p in toc_pages()}
    if not all(f.is_file() for f in pages.values()):
        return None
    settings = [ROOT / "_config.yml", ROOT / "_toc.yml", *(ROOT / "_ext").glob("*.py")]
    if max(f.stat().st_mtime for f in settings) > max(f.stat().st_mtime for f in pages.values()):
        return None
    stale = [p for p, f in pages.items() if any(s.stat().st_mtime > f.stat().st_mtime for s in page_sources(p))]
    return None if stale else html


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the html folder of a current build: README command 1's, or one made now with warnings as errors."""
    if (built := current_build()) is not None:
        return built
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output", str(out), "-W", "-n",
         "--keep-going"],
        capture_output=True,
        text=True,
    )
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
def page(browser: object, tmp_path: Path) -> Iterator[object]:
    """A fresh page that records every request and blocks any that leaves 127.0.0.1."""
    context = browser.new_context()
    context.set_default_timeout(180_000)  # a bound for waiting on a busy machine, not a speed requirement
    page = context.new_page()
    page.requests = []  # every URL the page asked for
    page.outside = []  # the ones that would have left 127.0.0.1

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


@pytest.mark.parametrize("path", toc_pages())
def test_page_renders_offline_with_hidden_solutions_that_open(page: object, server: str, path: str) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(urljoin(server, path), wait_until="networkidle")

    heading = page.locator("main h1").first.inner_text().strip()
    assert heading, f"{path}: no heading"

    broken = page.evaluate(
        "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, f"{path}: broken images {broken}"

    if page.locator("span.math, div.math").count():
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.document")
        page.evaluate("MathJax.startup.promise")
        assert page.locator("mjx-container").count() > 0, f"{path}: math was not rendered"

    assert not failed, f"{path}: failed requests {failed}"
    assert not page.outside, f"{path}: requests leaving 127.0.0.1: {page.outside}"
    if path.startswith("chapters/"):
        check_exercises_with_solutions_that_open(page, path)


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
    for path in [p for p in toc_pages() if p.startswith("chapters/")]:
        stem = path.removesuffix(".html")
        for suffix in (".ipynb", ".md"):
            with urlopen(urljoin(server, f"_sources/{stem}{suffix}"), timeout=10) as response:
                assert response.status == 200 and response.read(1)


def test_search_finds_a_chapter(page: object, server: str) -> None:
    page.goto(urljoin(server, "search.html?q=gradient"), wait_until="networkidle")
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results li").count() > 0
    assert not page.outside, page.outside


def _hrefs(html: str) -> list[str]:
    """Return the href of every <a> in an HTML text."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                href = dict(attrs).get("href")
                if href and not href.startswith(("#", "mailto:", "javascript:")):
                    found.append(href)

    Links().feed(html)
    return found
