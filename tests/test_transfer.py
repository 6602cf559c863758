"""Tests of d2lnotes.transfer: one download into a partial file, served on 127.0.0.1 (resume, restart from byte 0,
size caps, no retry of what cannot heal, no writing through a symlink) and the URL check."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from d2lnotes.transfer import Limits, TransferFailed, download, url_problem

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
