"""Tests of d2lnotes.downloads: any file by URL into a folder, checked by its sha1, served on 127.0.0.1."""

from __future__ import annotations

import hashlib

import pytest

from d2lnotes.downloads import DownloadFailed, fetch_url

BODY = b"Id,MSSubClass,LotArea,SalePrice\n1,60,8450,208500\n2,20,9600,181500\n"
FILE = "houses.csv"


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@pytest.fixture
def url(mirror) -> str:
    """Serve BODY as /files/houses.csv on the local mirror and return its URL."""
    mirror.files[f"/files/{FILE}"] = BODY
    return f"{mirror.url('/files/')}{FILE}"


def test_a_download_lands_in_the_folder_under_its_own_name(tmp_path, mirror, url):
    path = fetch_url(url, tmp_path / "data", sha1=sha1(BODY), progress=False)
    assert path == tmp_path / "data" / FILE and path.read_bytes() == BODY
    assert sorted(p.name for p in path.parent.iterdir()) == [".locks", FILE]  # no partial file left
    assert mirror.requests == [(f"/files/{FILE}", None)]


def test_a_copy_in_place_whose_sha1_matches_is_used_without_a_request(tmp_path, mirror, url):
    (tmp_path / FILE).write_bytes(BODY)
    assert fetch_url(url, tmp_path, sha1=sha1(BODY)) == tmp_path / FILE
    assert mirror.requests == []


def test_without_a_sha1_any_copy_in_place_is_used(tmp_path, mirror, url):
    (tmp_path / FILE).write_bytes(b"whatever the user put there")
    assert fetch_url(url, tmp_path).read_bytes() == b"whatever the user put there"
    assert mirror.requests == []


def test_a_copy_whose_sha1_differs_is_moved_aside_and_fetched_again(tmp_path, mirror, url):
    (tmp_path / FILE).write_bytes(b"stale")
    with pytest.warns(RuntimeWarning, match=f"sha1 {sha1(b'stale')}, expected {sha1(BODY)}; moved aside"):
        path = fetch_url(url, tmp_path, sha1=sha1(BODY), progress=False)
    assert path.read_bytes() == BODY and (tmp_path / f"{FILE}.corrupt").read_bytes() == b"stale"
    assert len(mirror.requests) == 1


def test_a_download_whose_sha1_differs_is_refused_and_nothing_kept(tmp_path, url):
    with pytest.raises(DownloadFailed) as err:
        fetch_url(url, tmp_path, sha1="0" * 40, progress=False)
    assert str(err.value).startswith(f"Cannot download {url}: downloaded file sha1 {sha1(BODY)}, expected {'0' * 40}")
    assert str(tmp_path / FILE) in str(err.value)  # where to put the file by hand
    assert [p.name for p in tmp_path.iterdir()] == [".locks"]


def test_an_unusable_url_or_folder_is_named_in_the_error(tmp_path):
    with pytest.raises(DownloadFailed, match=r"not a usable URL \(not an http://, https:// or file:// URL\)"):
        fetch_url(f"ftp://example.org/{FILE}", tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(DownloadFailed, match=f"the folder cannot be written \\({blocker} is a file, not a folder\\)"):
        fetch_url(f"http://127.0.0.1:9/{FILE}", blocker / "data")
    assert list(tmp_path.iterdir()) == [blocker]
