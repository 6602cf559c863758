"""Tests of d2lnotes.transfer: one download into a partial file, served on 127.0.0.1 (resume, restart from byte 0,
size caps, no retry of what cannot heal, no writing through a symlink), the URL check, and the proxy named when a
download through one fails."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from d2lnotes.transfer import Limits, Proxy, TransferFailed, download, proxy_for, url_problem

NAME = "train-labels-idx1-ubyte"
BIG = "train-images-idx3-ubyte"  # 23 kB of random pixels: big enough to cut a transfer in the middle
FAST = Limits(connect_timeout=2.0, read_timeout=2.0, retries=2, backoff=0.01)
MAX_BYTES = 10**6


def fetch(mirror, name: str, part: Path, **kwargs) -> None:
    """Download the tiny ``name.gz`` from the local mirror into ``part`` with fast retries and no progress bar."""
    download(f"{mirror.url()}{name}.gz", part, MAX_BYTES, FAST, progress=False, **kwargs)


def test_resume_after_dropped_connection(tmp_path, tiny, mirror):
    path = f"/good/{BIG}.gz"
    mirror.drop_after[path] = 5000
    part = tmp_path / f"{BIG}.gz.part"
    fetch(mirror, BIG, part)
    assert part.read_bytes() == tiny.gz[BIG]
    assert mirror.requests == [(path, None), (path, "bytes=5000-")]


@pytest.mark.parametrize("stale", [b"garbage-" * 100, None], ids=["garbage-prefix", "longer-than-the-file"])
def test_a_stale_partial_that_cannot_be_resumed_is_fetched_again_from_byte_0(tmp_path, tiny, mirror, stale):
    stale = stale if stale is not None else tiny.gz[BIG] + b"extra"  # the server answers 416 to its Range
    part = tmp_path / f"{BIG}.gz.part"
    part.write_bytes(stale)
    fetch(mirror, BIG, part, accept=lambda p: None if p.read_bytes() == tiny.gz[BIG] else "not the file")
    assert part.read_bytes() == tiny.gz[BIG] and [p.name for p in tmp_path.iterdir()] == [part.name]
    assert mirror.requests == [(f"/good/{BIG}.gz", f"bytes={len(stale)}-"), (f"/good/{BIG}.gz", None)]


def test_a_fresh_file_that_is_not_accepted_is_discarded(tmp_path, mirror):
    part = tmp_path / f"{NAME}.gz.part"
    with pytest.raises(TransferFailed, match=r"^downloaded file md5 is wrong; discarded$"):
        fetch(mirror, NAME, part, accept=lambda p: "md5 is wrong")
    assert not part.exists() and len(mirror.requests) == 1  # a file that was whole is not fetched twice


def test_a_symlinked_partial_file_is_moved_aside_and_its_target_left_untouched(tmp_path, tiny, mirror):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"a file of the user's, outside the data dir")
    folder = tmp_path / "downloads"
    folder.mkdir()
    part = folder / f"{NAME}.gz.part"
    part.symlink_to(outside)
    fetch(mirror, NAME, part)
    assert part.read_bytes() == tiny.gz[NAME] and not part.is_symlink()
    assert outside.read_bytes() == b"a file of the user's, outside the data dir"
    assert mirror.requests == [(f"/good/{NAME}.gz", None)]  # no Range from the link's target's size
    assert (folder / f"{NAME}.gz.part.moved-aside").is_symlink()


def test_a_folder_where_the_partial_file_goes_is_moved_aside(tmp_path, tiny, mirror):
    part = tmp_path / f"{NAME}.gz.part"
    part.mkdir()
    fetch(mirror, NAME, part)
    assert part.read_bytes() == tiny.gz[NAME]
    assert (part.parent / f"{NAME}.gz.part.moved-aside").is_dir()


def test_an_announced_size_beyond_the_cap_is_refused_before_any_byte_is_kept(tmp_path, tiny, mirror):
    mirror.files[f"/bad/{BIG}.gz"] = tiny.gz[BIG]
    mirror.hostile[f"/bad/{BIG}.gz"] = "huge-length"
    part = tmp_path / f"{BIG}.gz.part"
    with pytest.raises(TransferFailed, match=f"announces 10,000,000,000 bytes, more than the {MAX_BYTES:,}"):
        download(f"{mirror.url('/bad/')}{BIG}.gz", part, MAX_BYTES, FAST, progress=False)
    assert not part.exists() and len(mirror.requests) == 1


def test_a_404_is_final_without_a_retry_or_a_wait(tmp_path, mirror, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    with pytest.raises(TransferFailed, match="HTTP 404") as err:
        download(f"{mirror.url('/missing/')}{NAME}.gz", tmp_path / "x.part", MAX_BYTES, Limits(), progress=False)
    assert not err.value.slow and waits == [] and len(mirror.requests) == 1


@pytest.mark.parametrize("url, problem", [
    ("https://example.org/data/", None),
    ("http://127.0.0.1:8000/", None),
    ("file:///srv/fashion-mnist/", None),
    ("ftp://example.org/data/", "not an http://, https:// or file:// URL"),
    ("not a url", "not an http://, https:// or file:// URL"),
    ("http:///data/", "no host name"),
    ("http://[::1", "Invalid IPv6 URL"),
    ("http://example.org:99999/", "Port out of range 0-65535"),
])
def test_url_problem_says_what_is_wrong(url, problem):
    assert url_problem(url) == problem


def dead_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (bound, read, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def no_proxy_env(monkeypatch):
    """Remove every proxy variable (http_proxy, HTTPS_PROXY, all_proxy, no_proxy, ...) for the test."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                 "NO_PROXY", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY"])
def test_a_dead_proxy_is_named_with_its_variable(tmp_path, mirror, no_proxy_env, variable):
    proxy = f"http://127.0.0.1:{dead_port()}"
    no_proxy_env.setenv(variable, proxy)
    with pytest.raises(TransferFailed) as err:
        fetch(mirror, NAME, tmp_path / "x.part")
    assert err.value.reason.startswith("cannot connect (")
    assert err.value.reason.endswith(f") through the proxy {proxy} (set by ${variable}; check it, or unset it to "
                                     "connect directly)")
    assert mirror.requests == []  # it went to the proxy, not to the mirror


def test_the_lower_case_variable_wins_as_in_urllib(mirror, no_proxy_env):
    no_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:1")
    no_proxy_env.setenv("http_proxy", "http://127.0.0.1:2")
    assert proxy_for(mirror.url()) == Proxy("http://127.0.0.1:2", "$http_proxy")


def test_no_proxy_bypasses_it_and_a_failure_then_does_not_blame_it(tmp_path, tiny, mirror, no_proxy_env):
    no_proxy_env.setenv("http_proxy", f"http://127.0.0.1:{dead_port()}")
    no_proxy_env.setenv("no_proxy", "127.0.0.1")
    assert proxy_for(mirror.url()) is None
    part = tmp_path / f"{NAME}.gz.part"
    fetch(mirror, NAME, part)
    assert part.read_bytes() == tiny.gz[NAME] and mirror.requests == [(f"/good/{NAME}.gz", None)]
    with pytest.raises(TransferFailed) as err:
        download(f"http://127.0.0.1:{dead_port()}/{NAME}.gz", tmp_path / "y.part", MAX_BYTES, FAST, progress=False)
    assert err.value.reason.startswith("cannot connect (") and "proxy" not in err.value.reason


def test_without_a_proxy_the_reason_does_not_mention_one(tmp_path, no_proxy_env):
    url = f"http://127.0.0.1:{dead_port()}/{NAME}.gz"
    assert proxy_for(url) is None
    with pytest.raises(TransferFailed) as err:
        download(url, tmp_path / "x.part", MAX_BYTES, FAST, progress=False)
    assert err.value.reason.startswith("cannot connect (") and err.value.reason.endswith(")")
    assert "proxy" not in err.value.reason


@pytest.mark.parametrize("written, shown", [
    ("http://alice:s3cret@127.0.0.1:{port}", "http://127.0.0.1:{port}"),
    ("alice:s3cret@127.0.0.1:{port}", "127.0.0.1:{port}"),  # urllib takes a proxy without a scheme as http://
    ("http://alice:p@ss/w:rd@127.0.0.1:{port}/", "http://127.0.0.1:{port}/"),
])
def test_the_proxy_credentials_are_never_shown(tmp_path, mirror, no_proxy_env, written, shown):
    port = dead_port()
    no_proxy_env.setenv("http_proxy", written.format(port=port))
    with pytest.raises(TransferFailed) as err:
        fetch(mirror, NAME, tmp_path / "x.part")
    assert f" through the proxy {shown.format(port=port)} (set by $http_proxy;" in err.value.reason
    assert "alice" not in err.value.reason and "s3cret" not in err.value.reason and "rd@" not in err.value.reason


class _WantsPassword(http.server.BaseHTTPRequestHandler):
    """A proxy that answers every request with 407, as one does without the user's password."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # quiet
        pass


def test_a_407_from_the_proxy_names_it_and_a_404_through_it_does_not(tmp_path, mirror, no_proxy_env):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WantsPassword)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        no_proxy_env.setenv("http_proxy", proxy)
        with pytest.raises(TransferFailed) as err:
            fetch(mirror, NAME, tmp_path / "x.part")
    finally:
        server.shutdown()
        server.server_close()
    assert err.value.reason == (f"HTTP 407 Proxy Authentication Required through the proxy {proxy} (set by "
                                "$http_proxy; check it, or unset it to connect directly)")
    no_proxy_env.setenv("http_proxy", f"http://127.0.0.1:{mirror.port}")  # the mirror as a proxy: 404 for any URL
    with pytest.raises(TransferFailed, match=r"^HTTP 404 Not Found$"):
        download(f"{mirror.url('/missing/')}{NAME}.gz", tmp_path / "y.part", MAX_BYTES, FAST, progress=False)
    assert mirror.requests == [(f"{mirror.url('/missing/')}{NAME}.gz", None)]  # it did go through the "proxy"
