"""Tests of d2lnotes.datafiles: the data directory, the one hash-checking path, atomic installs, corrupt copies
moved aside, leftovers removed; every file in a temp dir."""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
from pathlib import Path

import platformdirs
import pytest

from d2lnotes.datafiles import (Checksum, data_dir, digest_problem, install_verified, max_download_bytes, move_aside,
                                remove_leftovers, system_copy_paths, verify_file, writable_problem)
from d2lnotes.transfer import WriteFailed

pytestmark = pytest.mark.usefixtures("data_root")
NAME = "train-labels-idx1-ubyte"
BIG = "train-images-idx3-ubyte"  # 23 kB of random pixels: gzip cannot shrink them
DATA = b"0123456789" * 300


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_default_data_dir_is_the_user_cache_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("D2LNOTES_DATA")
    monkeypatch.chdir(tmp_path)
    assert data_dir() == Path(platformdirs.user_cache_dir("d2lnotes", appauthor=False))
    assert data_dir().is_absolute() and tmp_path not in data_dir().parents


def test_digest_problem_checks_the_size_then_the_digest_of_any_algorithm():
    md5_hex, sha1_hex = hashlib.md5(DATA).hexdigest(), hashlib.sha1(DATA).hexdigest()
    assert digest_problem(io.BytesIO(DATA), "md5", md5_hex, len(DATA)) is None
    assert digest_problem(io.BytesIO(DATA), "sha1", sha1_hex) is None
    assert digest_problem(io.BytesIO(DATA), "sha1", sha1_hex.upper()) is None
    assert digest_problem(io.BytesIO(DATA), "sha1", "0" * 40) == f"sha1 {sha1_hex}, expected {'0' * 40}"
    assert digest_problem(io.BytesIO(DATA), "md5", md5_hex, 3001) == "size 3,000 bytes, expected 3,001"
    assert digest_problem(io.BytesIO(DATA), "md5", md5_hex, 2999) == "too long: more than the expected 2,999 bytes"


def test_digest_problem_stops_reading_as_soon_as_there_are_too_many_bytes():
    class Long(io.RawIOBase):  # up to 100 chunks of the size asked for
        reads = 0

        def read(self, n: int = -1) -> bytes:
            self.reads += 1
            return b"x" * n if self.reads <= 100 else b""

    source = Long()
    assert digest_problem(source, "md5", "", size=10) == "too long: more than the expected 10 bytes"
    assert source.reads == 1


def test_digest_problem_copies_what_it_reads_and_reports_a_failed_write_as_such():
    out = io.BytesIO()
    assert digest_problem(io.BytesIO(DATA), "md5", hashlib.md5(DATA).hexdigest(), len(DATA), out) is None
    assert out.getvalue() == DATA

    class FullDisk(io.BytesIO):
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteFailed) as err:
        digest_problem(io.BytesIO(DATA), "md5", "", out=FullDisk())
    assert err.value.errno == errno.ENOSPC


def test_verify_file_names_the_problem(tmp_path, tiny):
    path = tmp_path / NAME
    checksum = tiny.checksums[NAME]
    assert verify_file(path, checksum) == "not present"
    path.write_bytes(tiny.raw[NAME])
    assert verify_file(path, checksum) is None
    path.write_bytes(tiny.raw[NAME][:-2] + b"xx")
    assert verify_file(path, checksum) == f"md5 {md5(path)}, expected {checksum.md5}"
    path.write_bytes(b"\x1f\x8b not gzip at all")
    assert verify_file(path, checksum).startswith("cannot be read or decompressed: BadGzipFile: ")


def test_install_verified_decompresses_a_good_copy_and_leaves_nothing_of_a_bad_one(tmp_path, tiny):
    source = tiny.write_gz(tmp_path / "source") / f"{NAME}.gz"
    raw = tmp_path / "raw"
    raw.mkdir()
    wrong = Checksum("0" * 32, tiny.checksums[NAME].size)
    assert install_verified(source, raw / NAME, wrong) == f"md5 {hashlib.md5(tiny.raw[NAME]).hexdigest()}, " \
                                                          f"expected {'0' * 32}"
    assert list(raw.iterdir()) == []  # neither the file nor a temporary copy
    assert install_verified(source, raw / NAME, tiny.checksums[NAME]) is None
    assert (raw / NAME).read_bytes() == tiny.raw[NAME] and [p.name for p in raw.iterdir()] == [NAME]
    assert source.is_file()  # the source is never touched


def test_move_aside_keeps_one_corrupt_copy_the_newest_and_warns(tmp_path):
    path = tmp_path / NAME
    for content in (b"first damaged copy", b"second damaged copy"):
        path.write_bytes(content)
        with pytest.warns(RuntimeWarning, match=f"{NAME} failed verification: cut short; moved aside"):
            note = move_aside(path, "cut short")
    assert note == f"cut short; moved aside to {NAME}.corrupt"
    assert [p.name for p in tmp_path.iterdir()] == [f"{NAME}.corrupt"]
    assert (tmp_path / f"{NAME}.corrupt").read_bytes() == b"second damaged copy"


def test_writable_problem_names_a_file_in_the_way_and_leaves_no_trace(tmp_path):
    assert writable_problem(tmp_path / "not" / "yet") is None
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a-file").write_text("")
    assert writable_problem(tmp_path / "a-file" / "data") == f"{tmp_path / 'a-file'} is a file, not a folder"


def test_remove_leftovers_deletes_temporary_copies_but_keeps_the_resumable_part(tmp_path):
    names = [f"{NAME}.tmp-abcdefgh.part", f"{NAME}.k3j2h1g0.part", f"{NAME}.gz.part", NAME, f"{BIG}.tmp-x.part"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    remove_leftovers(tmp_path, NAME)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{NAME}.gz.part", NAME, f"{BIG}.tmp-x.part"])


def test_system_copy_paths_lists_the_gz_first(tmp_path, tiny):
    assert system_copy_paths(tmp_path, NAME) == []
    (tmp_path / NAME).write_bytes(tiny.raw[NAME])
    assert system_copy_paths(tmp_path, NAME) == [tmp_path / NAME]
    tiny.write_gz(tmp_path)
    assert system_copy_paths(tmp_path, NAME) == [tmp_path / f"{NAME}.gz", tmp_path / NAME]


def test_max_download_bytes_leaves_room_for_gzip_on_data_it_cannot_shrink(tiny):
    stored = gzip.compress(tiny.raw[BIG], compresslevel=0)  # the largest a .gz of these bytes gets
    assert len(stored) > len(tiny.raw[BIG])
    assert len(stored) <= max_download_bytes(tiny.checksums[BIG]) < 2 * len(tiny.raw[BIG])
