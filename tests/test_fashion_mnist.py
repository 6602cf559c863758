"""Tests of d2lnotes.fashion_mnist and the `data` command line: the sources of the four files (every one served on
127.0.0.1 or from temp dirs), the IDX decoding, the tensors and the class names."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from d2lnotes.__main__ import download, export, info
from d2lnotes.datafiles import data_dir, verify_file
from d2lnotes.fashion_mnist import (OFFICIAL_MIRRORS, TEXT_LABELS, DataDirWriteError, FashionMNISTUnavailable,
                                    decode_idx, ensure_fashion_mnist, ensure_file, fashion_mnist_root,
                                    get_fashion_mnist_labels, inspect_data_dir, load_fashion_mnist_tensors,
                                    mirror_urls, raw_dir, read_idx)
from helpers import REAL_DATA

pytestmark = pytest.mark.usefixtures("data_root")
NAME = "train-labels-idx1-ubyte"
BIG = "train-images-idx3-ubyte"  # 23 kB of random pixels: big enough to cut a transfer in the middle
IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


def closed_port_url() -> str:
    """Return an http URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_fresh_download_from_mirror(data_root, tiny, mirror, make_config):
    records = ensure_fashion_mnist(make_config(mirrors=(mirror.url(),)))
    raw = raw_dir(data_root)
    assert sorted(records) == sorted(tiny.raw)
    for name, record in records.items():
        assert record.source == "mirror" and record.origin == f"{mirror.url()}{name}.gz"
        assert record.path == raw / name and record.path.read_bytes() == tiny.raw[name]
    assert sorted(p.name for p in raw.iterdir()) == sorted(tiny.raw)  # no .part, no .gz left behind
    assert sorted(path for path, _ in mirror.requests) == sorted(f"/good/{n}.gz" for n in tiny.raw)


def test_partial_file_from_a_broken_run_resumes_next_time(data_root, tiny, mirror, make_config):
    path = f"/good/{BIG}.gz"
    mirror.drop_after[path] = 9000
    with pytest.raises(FashionMNISTUnavailable, match="resumes next time"):
        ensure_file(BIG, make_config(mirrors=(mirror.url(),), retries=0))
    part = raw_dir(data_root) / f"{BIG}.gz.part"
    assert part.read_bytes() == tiny.gz[BIG][:9000]
    record = ensure_file(BIG, make_config(mirrors=(mirror.url(),)))
    assert record.path.read_bytes() == tiny.raw[BIG] and not part.exists()
    assert mirror.requests[-1] == (path, "bytes=9000-")


def test_a_mirror_that_stalls_before_answering_is_given_up_for_the_next(data_root, tiny, mirror, make_config):
    mirror.stall[f"/slow/{NAME}.gz"] = 1.5
    mirror.files[f"/slow/{NAME}.gz"] = tiny.gz[NAME]
    record = ensure_file(NAME, make_config(mirrors=(mirror.url("/slow/"), mirror.url()), read_timeout=0.3))
    assert record.path.read_bytes() == tiny.raw[NAME] and record.origin == f"{mirror.url()}{NAME}.gz"
    # without the read timeout, the first request would have waited and succeeded
    assert [p for p, _ in mirror.requests] == [f"/slow/{NAME}.gz", f"/good/{NAME}.gz"]


@pytest.mark.parametrize("damage", ["flipped byte", "truncated"])
def test_corrupt_cached_file_is_moved_aside_and_fetched_again(data_root, tiny, mirror, make_config, damage):
    config = make_config(mirrors=(mirror.url(),))
    target = ensure_file(NAME, config).path
    good = target.read_bytes()
    bad = good[:-1] + bytes([good[-1] ^ 0xFF]) if damage == "flipped byte" else good[:-5]
    target.write_bytes(bad)
    with pytest.warns(RuntimeWarning, match="failed verification"):
        record = ensure_file(NAME, config)
    assert record.source == "mirror" and target.read_bytes() == good
    assert target.with_name(f"{NAME}.corrupt").read_bytes() == bad  # kept, never deleted
    assert len(mirror.requests) == 2
    target.write_bytes(bad[::-1])  # damaged again: the newer damaged copy replaces the older one
    with pytest.warns(RuntimeWarning, match="failed verification"):
        ensure_file(NAME, config)
    assert sorted(p.name for p in target.parent.iterdir()) == [NAME, f"{NAME}.corrupt"]
    assert target.with_name(f"{NAME}.corrupt").read_bytes() == bad[::-1]


def test_404_on_first_mirror_then_the_next(data_root, tiny, mirror, make_config):
    records = ensure_fashion_mnist(make_config(mirrors=(mirror.url("/missing/"), mirror.url())))
    assert {r.origin for r in records.values()} == {f"{mirror.url()}{n}.gz" for n in tiny.raw}
    missing = [p for p, _ in mirror.requests if p.startswith("/missing/")]
    assert sorted(missing) == sorted(f"/missing/{n}.gz" for n in tiny.raw)  # one try each: a 404 is not retried


def test_every_source_failing_gives_a_clear_error_without_waiting(data_root, tmp_path, tiny, mirror, make_config,
                                                                   monkeypatch):
    empty_system = tmp_path / "system"
    empty_system.mkdir()
    refused = closed_port_url()
    config = make_config(system_dirs=(empty_system,), mirrors=(refused, mirror.url("/missing/")),
                         retries=3, backoff=1.0, connect_timeout=5.0)  # the real retry settings
    backoffs: list[float] = []
    monkeypatch.setattr(time, "sleep", backoffs.append)  # a refused connection or a 404 is final: no retry, no wait
    with pytest.raises(FashionMNISTUnavailable) as err:
        ensure_fashion_mnist(config)
    assert backoffs == []
    msg = str(err.value)
    assert "'train-images-idx3-ubyte' is not available" in msg
    assert f"data dir {raw_dir(data_root) / 'train-images-idx3-ubyte'}: not present" in msg
    assert f"system dir {empty_system}: no train-images-idx3-ubyte.gz there" in msg
    assert f"mirror {refused}train-images-idx3-ubyte.gz: cannot connect" in msg and "refused" in msg
    assert f"mirror {mirror.url('/missing/')}train-images-idx3-ubyte.gz: HTTP 404" in msg
    for remedy in ("sudo apt-get install dataset-fashion-mnist", "D2LNOTES_MIRROR", str(raw_dir(data_root)),
                   "python -m d2lnotes data download"):
        assert remedy in msg
    assert err.value.name == "train-images-idx3-ubyte" and len(err.value.tried) == 4
    assert str(pickle.loads(pickle.dumps(err.value))) == msg


def test_unwritable_data_dir_without_a_copy_says_how_to_change_it(tmp_path, monkeypatch, mirror, make_config):
    blocker = tmp_path / "a-file"
    blocker.write_text("a regular file where the data dir's parent should be")
    monkeypatch.setenv("D2LNOTES_DATA", str(blocker / "data"))
    with pytest.raises(FashionMNISTUnavailable) as err:
        ensure_file(NAME, make_config(mirrors=(mirror.url(),)))
    msg = str(err.value)
    assert f"The data directory {raw_dir(blocker / 'data')} cannot be written" in msg
    assert "export D2LNOTES_DATA=" in msg and "nowhere to save a download" in msg
    assert mirror.requests == []


def test_unwritable_data_dir_reads_the_system_copy_in_place(tmp_path, monkeypatch, tiny, make_config):
    system = tiny.write_gz(tmp_path / "system")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("D2LNOTES_DATA", str(blocker / "data"))
    config = make_config(system_dirs=(system,))
    record = ensure_file(NAME, config)
    assert (record.path, record.source) == (system / f"{NAME}.gz", "system")
    X, y = load_fashion_mnist_tensors(True, config=config)
    assert y.tolist() == tiny.arrays[NAME].tolist() and X.shape == (30, 1, 28, 28)
    with pytest.raises(FashionMNISTUnavailable, match="torchvision needs it in"):
        fashion_mnist_root(config)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod 0o500; the regular-file test covers this")
def test_read_only_data_dir(data_root, make_config):
    raw_dir(data_root).mkdir(parents=True)
    raw_dir(data_root).chmod(0o500)
    try:
        with pytest.raises(FashionMNISTUnavailable, match="cannot be written"):
            ensure_file(NAME, make_config())
    finally:
        raw_dir(data_root).chmod(0o700)


def test_system_copy_regzipped_is_verified_and_decompressed(data_root, tmp_path, tiny, mirror, make_config):
    system = tiny.write_gz(tmp_path / "system", level=9)
    assert (system / f"{NAME}.gz").read_bytes() != tiny.gz[NAME]  # not the mirror's .gz, same content
    records = ensure_fashion_mnist(make_config(system_dirs=(tmp_path / "nothing-here", system),
                                               mirrors=(mirror.url(),)))
    assert {r.source for r in records.values()} == {"system"} and mirror.requests == []
    assert all(r.path == raw_dir(data_root) / n and r.path.read_bytes() == tiny.raw[n] for n, r in records.items())


def test_corrupt_system_copy_falls_through_to_a_mirror(data_root, tmp_path, tiny, mirror, make_config):
    system = tmp_path / "system"
    system.mkdir()
    (system / f"{NAME}.gz").write_bytes(gzip.compress(tiny.raw[NAME][:-1]))
    record = ensure_file(NAME, make_config(system_dirs=(system,), mirrors=(mirror.url(),)))
    assert record.source == "mirror" and record.path.read_bytes() == tiny.raw[NAME]
    assert (system / f"{NAME}.gz").exists()  # a system file is never touched


def test_verified_file_in_data_dir_is_used_without_network(data_root, tiny, mirror, make_config):
    config = make_config(mirrors=(mirror.url(),))
    ensure_fashion_mnist(config)
    seen = len(mirror.requests)
    records = ensure_fashion_mnist(config)
    assert {r.source for r in records.values()} == {"data dir"} and len(mirror.requests) == seen


def test_gz_placed_by_hand_in_data_dir_is_used(data_root, tiny, make_config):
    tiny.write_gz(raw_dir(data_root))
    record = ensure_file(NAME, make_config())
    assert record.source == "data dir" and record.origin == str(raw_dir(data_root) / f"{NAME}.gz")
    assert record.path.read_bytes() == tiny.raw[NAME]


def test_env_overrides_data_dir_and_mirrors(tmp_path, monkeypatch, tiny, make_config):
    served = tiny.write_gz(tmp_path / "served")
    monkeypatch.setenv("D2LNOTES_DATA", str(tmp_path / "mine"))
    monkeypatch.setenv("D2LNOTES_MIRROR", f" {(tmp_path / 'absent').as_uri()}/ , {served.as_uri()}/")
    assert data_dir() == tmp_path / "mine"
    assert mirror_urls() == [f"{(tmp_path / 'absent').as_uri()}/", f"{served.as_uri()}/", *OFFICIAL_MIRRORS]
    record = ensure_file(NAME, make_config(mirrors=None))
    assert record.path == tmp_path / "mine" / "FashionMNIST" / "raw" / NAME
    assert record.origin == f"{served.as_uri()}/{NAME}.gz"
    assert record.path.read_bytes() == tiny.raw[NAME]


def test_fashion_mnist_root_serves_torchvision(data_root, tiny, make_config):
    from torchvision.datasets import FashionMNIST

    tiny.write_gz(data_root / "from")
    root = fashion_mnist_root(make_config(system_dirs=(data_root / "from",)))
    assert root == data_root
    dataset = FashionMNIST(str(root), train=False, download=False)
    assert len(dataset) == 10 and dataset.data.numpy().tolist() == tiny.arrays["t10k-images-idx3-ubyte"].tolist()


def test_inspect_data_dir_changes_nothing(data_root, tiny, make_config):
    raw = raw_dir(data_root)
    raw.mkdir(parents=True)
    (raw / NAME).write_bytes(tiny.raw[NAME])
    (raw / "train-images-idx3-ubyte").write_bytes(b"short")
    status = {s.name: s for s in inspect_data_dir(make_config())}
    assert status[NAME].verified and not status["t10k-images-idx3-ubyte"].present
    assert status["train-images-idx3-ubyte"].problem.startswith("size 5 bytes")
    assert sorted(p.name for p in raw.iterdir()) == sorted([NAME, "train-images-idx3-ubyte"])


def test_cli_download_then_info(data_root, tiny, mirror, make_config, capsys):
    config = make_config(mirrors=(mirror.url(),))
    assert info(config) == 1
    assert "status: not ready; run `python -m d2lnotes data download`" in capsys.readouterr().out
    assert download(config) == 0
    out = capsys.readouterr().out
    assert f"Fashion-MNIST is ready in {raw_dir(data_root)}" in out
    assert f"verified, from mirror: {mirror.url()}{NAME}.gz" in out
    assert info(config) == 0
    out = capsys.readouterr().out
    assert out.count("verified (size and md5 OK)") == 4 and "status: ready" in out


def test_cli_download_failure_exits_nonzero_with_the_message(data_root, make_config, capsys):
    assert download(make_config()) == 1
    assert "is not available" in capsys.readouterr().err


@pytest.mark.slow  # starts a Python process
def test_cli_info_subprocess_on_empty_data_dir(data_root):
    env = {**os.environ, "D2LNOTES_DATA": str(data_root)}
    proc = subprocess.run([sys.executable, "-m", "d2lnotes", "data", "info"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert proc.returncode == 1, proc.stderr
    assert f"data dir: {data_root}  ($D2LNOTES_DATA)" in proc.stdout
    assert proc.stdout.count("not present") == 4
    assert not data_root.exists()  # info writes nothing


@pytest.mark.slow  # starts a Python process
def test_ctrl_c_during_a_cli_download_keeps_the_partial_file_without_a_traceback(data_root, tiny, mirror):
    mirror.hostile[f"/good/{IMAGES}.gz"] = "trickle"  # one byte every 0.1 s: the download is still running
    env = {**os.environ, "D2LNOTES_DATA": str(data_root), "D2LNOTES_MIRROR": mirror.url(), "D2LNOTES_SYSTEM_DATA": "",
           "TQDM_DISABLE": "1", "PYTHONPATH": str(Path(__file__).parents[1])}
    # A terminal's Ctrl-C reaches a process whose SIGINT is at its default; a test run started in the background
    # of a script (`pytest &`) has it ignored, and its children inherit that: reset it for the child.
    proc = subprocess.Popen([sys.executable, "-m", "d2lnotes", "data", "download"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    part = raw_dir(data_root) / f"{IMAGES}.gz.part"
    while not part.is_file():  # created once the mirror has answered
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "interrupted. A partial download is kept and resumes next time." in err
    assert part.is_file() and sorted(p.name for p in (data_root / "FashionMNIST" / ".locks").iterdir()) \
        == [f"{IMAGES}.lock"]  # the partial file kept, the holder's record gone


# --- hostile conditions: concurrent runs, full disks, broken or malicious mirrors, symlinks -----------------------

HOSTILE = dict(read_timeout=0.5, min_rate=1000.0, rate_window=0.5, retries=1, backoff=0.01)  # seconds, bytes/s


def leftovers(raw: Path) -> list[str]:
    """Return the names in raw other than the four data files."""
    return sorted(p.name for p in raw.iterdir() if p.name not in {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                                  "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})


CONCURRENT_RUN = """
import json, sys
from d2lnotes.datafiles import Checksum
from d2lnotes.fashion_mnist import FetchConfig, ensure_fashion_mnist
sums = {n: Checksum(*c) for n, c in json.loads(sys.argv[1]).items()}
records = ensure_fashion_mnist(FetchConfig(checksums=sums, system_dirs=(), mirrors=(sys.argv[2],), progress=False))
print(sorted(r.source for r in records.values()))
"""


@pytest.mark.slow  # starts four Python processes
def test_four_processes_loading_into_one_empty_dir_all_succeed_with_one_download_per_file(data_root, tiny, mirror):
    mirror.stall[f"/good/{BIG}.gz"] = 1.0  # the first download is slow enough for the others to find it running
    sums = json.dumps({n: [c.md5, c.size] for n, c in tiny.checksums.items()})
    env = {**os.environ, "D2LNOTES_DATA": str(data_root), "TQDM_DISABLE": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_RUN, sums, mirror.url()], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert [rc for rc, _, _ in results] == [0] * 4, results
    raw = raw_dir(data_root)
    assert all((raw / n).read_bytes() == b for n, b in tiny.raw.items())
    assert leftovers(raw) == []
    assert sorted(p for p, _ in mirror.requests) == sorted(f"/good/{n}.gz" for n in tiny.raw)  # one GET per file
    assert any("holds its lock" in err for _, _, err in results)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Mount a 32 kB tmpfs (root only; skipped where mounting is not allowed) and yield its folder."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not allowed here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_full_disk_while_decompressing_a_good_placed_file_says_so_and_renames_nothing(small_disk, tiny, make_config,
                                                                                     monkeypatch):
    monkeypatch.setenv("D2LNOTES_DATA", str(small_disk))
    raw = raw_dir(small_disk)
    raw.mkdir(parents=True)
    placed = raw / f"{BIG}.gz"
    placed.write_bytes(gzip.compress(tiny.raw[BIG], compresslevel=0))  # 23.5 kB that cannot be decompressed in 8 kB
    with pytest.raises(DataDirWriteError) as err:
        ensure_file(BIG, make_config())
    assert placed.read_bytes() == gzip.compress(tiny.raw[BIG], compresslevel=0)  # the user's file, untouched
    assert sorted(p.name for p in raw.iterdir()) == [f"{BIG}.gz"]  # no partial, no .corrupt
    msg = str(err.value)
    assert f"Cannot write Fashion-MNIST file '{BIG}' into {raw}: [Errno 28]" in msg and "the disk is full" in msg
    assert "MB are free there" in msg and "export D2LNOTES_DATA=" in msg and "Nothing was marked corrupt" in msg


def test_full_disk_while_downloading_removes_the_partial_and_says_so(small_disk, tiny, mirror, make_config,
                                                                    monkeypatch):
    monkeypatch.setenv("D2LNOTES_DATA", str(small_disk))
    (small_disk / "filler").write_bytes(bytes(20_000))
    with pytest.raises(DataDirWriteError, match=r"\[Errno 28\]"):
        ensure_file(BIG, make_config(mirrors=(mirror.url(),)))
    assert sorted(p.name for p in raw_dir(small_disk).iterdir()) == []
    assert len(mirror.requests) == 1  # a full disk is not retried, nor another mirror tried


def test_full_disk_while_exporting_names_the_export_folder_not_the_data_dir(small_disk, tmp_path, tiny, make_config,
                                                                             capsys):
    config = make_config(root=tmp_path / "data", system_dirs=(tiny.write_gz(tmp_path / "system"),))
    (small_disk / "filler").write_bytes(bytes(20_000))
    assert export(small_disk / "export", config) == 1
    err = capsys.readouterr().err
    assert err.startswith("Cannot export Fashion-MNIST file 'train-images-idx3-ubyte' into "
                          f"{raw_dir(small_disk / 'export')}: [Errno 28] No space left on device (the disk is full).")
    assert "python -m d2lnotes data export FOLDER" in err and "D2LNOTES_DATA" not in err
    assert list(raw_dir(small_disk / "export").iterdir()) == []  # no partial file
    assert len(list(raw_dir(tmp_path / "data").iterdir())) == 4  # the data dir itself is complete


@pytest.mark.parametrize("mode", ["huge-length", "endless"])
def test_an_oversized_answer_is_refused_or_cut_and_the_next_mirror_used(data_root, tiny, mirror, make_config, mode):
    mirror.files[f"/bad/{BIG}.gz"] = tiny.gz[BIG]
    mirror.hostile[f"/bad/{BIG}.gz"] = mode
    record = ensure_file(BIG, make_config(mirrors=(mirror.url("/bad/"), mirror.url()), **HOSTILE))
    assert record.origin == f"{mirror.url()}{BIG}.gz" and record.path.read_bytes() == tiny.raw[BIG]
    assert leftovers(raw_dir(data_root)) == []  # nothing oversized kept, as .part or .corrupt


@pytest.mark.parametrize("mode", ["stall-after-headers", "trickle"])
def test_a_stalling_or_trickling_mirror_is_given_up_and_skipped_for_the_other_files(data_root, tiny, mirror,
                                                                                      make_config, mode):
    for name, body in tiny.gz.items():
        mirror.files[f"/slow/{name}.gz"] = body
        mirror.hostile[f"/slow/{name}.gz"] = mode
    records = ensure_fashion_mnist(make_config(mirrors=(mirror.url("/slow/"), mirror.url()), **HOSTILE))
    assert {r.origin for r in records.values()} == {f"{mirror.url()}{n}.gz" for n in tiny.raw}
    slow = [p for p, _ in mirror.requests if p.startswith("/slow/")]
    assert len(slow) == 1  # tried for the first file only, then skipped


def test_a_deflate_error_in_a_placed_gz_is_a_corrupt_file_and_the_mirror_is_tried(data_root, tiny, mirror, make_config):
    raw = raw_dir(data_root)
    raw.mkdir(parents=True)
    broken = bytearray(gzip.compress(tiny.raw[BIG], mtime=0))
    broken[20:40] = bytes(b ^ 0x5A for b in broken[20:40])  # early in the deflate stream
    (raw / f"{BIG}.gz").write_bytes(broken)
    problem = verify_file(raw / f"{BIG}.gz", tiny.checksums[BIG])
    assert problem.startswith("cannot be read or decompressed:")  # zlib.error or BadGzipFile, never raised
    assert inspect_data_dir(make_config())  # and the report does not crash either
    with pytest.warns(RuntimeWarning, match="failed verification"):
        record = ensure_file(BIG, make_config(mirrors=(mirror.url(),)))
    assert record.source == "mirror" and record.path.read_bytes() == tiny.raw[BIG]
    assert (raw / f"{BIG}.gz.corrupt").read_bytes() == bytes(broken)


def test_malformed_mirror_entries_are_named_and_skipped(data_root, tiny, mirror, make_config, monkeypatch):
    monkeypatch.setenv("D2LNOTES_MIRROR", f"not a url,http://[::1,{mirror.url()}")
    with pytest.warns(RuntimeWarning) as warned:
        urls = mirror_urls()
    assert urls[0] == mirror.url()
    assert sorted(str(w.message).split(":")[1].strip() for w in warned) == ["skipping 'http", "skipping 'not a url'"]
    with pytest.warns(RuntimeWarning, match="D2LNOTES_MIRROR: skipping"):
        record = ensure_file(NAME, make_config(mirrors=None))
    assert record.origin == f"{mirror.url()}{NAME}.gz"


def test_temporary_copies_left_by_a_killed_run_are_removed_next_time(data_root, tiny, mirror, make_config):
    raw = raw_dir(data_root)
    raw.mkdir(parents=True)
    for orphan in (f"{BIG}.k3j2h1g0.part", f"{BIG}.tmp-abcdefgh.part"):
        (raw / orphan).write_bytes(bytes(12_000))
    ensure_file(BIG, make_config(mirrors=(mirror.url(),)))
    assert leftovers(raw) == []


# --- the contents: IDX decoding -------------------------------------------------------------------------------------

def test_decode_idx_returns_the_array(tiny):
    X = decode_idx(tiny.raw[IMAGES])
    assert X.dtype == torch.uint8 and X.shape == (30, 28, 28)
    assert X.numpy().tolist() == tiny.arrays[IMAGES].tolist()


def test_decode_idx_big_endian_int32():
    buf = bytes([0, 0, 0x0C, 2]) + (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + \
        np.array([1, -2, 70000, 3], dtype=">i4").tobytes()
    assert decode_idx(buf).tolist() == [[1, -2], [70000, 3]]


def test_decode_idx_rejects_a_bad_header_and_a_short_payload(tiny):
    with pytest.raises(ValueError, match=r"x.bin is not an IDX file: it starts with b'PK\\x03\\x04'"):
        decode_idx(b"PK\x03\x04rest", "x.bin")
    with pytest.raises(ValueError, match=r"IDX dimensions \[30, 28, 28\] need 23,536 bytes, the file has 23,535"):
        decode_idx(tiny.raw[IMAGES][:-1])


def test_read_idx_reads_raw_and_gz_alike(tmp_path, tiny):
    (tmp_path / "a").write_bytes(tiny.raw[LABELS])
    (tmp_path / "b.gz").write_bytes(gzip.compress(tiny.raw[LABELS]))
    assert read_idx(tmp_path / "a").tolist() == read_idx(tmp_path / "b.gz").tolist() == tiny.arrays[LABELS].tolist()


# --- the tensors and class names, on the tiny files -----------------------------------------------------------------

def test_load_fashion_mnist_tensors_values(tiny, tiny_config):
    X, y = load_fashion_mnist_tensors(True, config=tiny_config)
    assert X.dtype == torch.float32 and X.shape == (30, 1, 28, 28) and y.dtype == torch.int64
    assert torch.equal(X[:, 0], torch.from_numpy(tiny.arrays[IMAGES]).float() / 255)
    assert y.tolist() == tiny.arrays[LABELS].tolist()
    Xt, yt = load_fashion_mnist_tensors(False, config=tiny_config)
    assert Xt.shape == (10, 1, 28, 28) and yt.tolist() == list(range(10))


@pytest.mark.parametrize("resize, shape", [(64, (64, 64)), ((32, 48), (32, 48))])
def test_resize_matches_torchvision_resize_on_pil_images(tiny_config, resize, shape):
    from PIL import Image
    from torchvision import transforms

    X, _ = load_fashion_mnist_tensors(False, resize=resize, config=tiny_config)
    assert X.shape == (10, 1, *shape) and X.dtype == torch.float32
    raw, _ = load_fashion_mnist_tensors(False, config=tiny_config)
    d2l_way = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
    expected = torch.stack([d2l_way(Image.fromarray((x[0] * 255).round().byte().numpy(), mode="L")) for x in raw])
    assert (X - expected).abs().max().item() <= 1 / 255 + 1e-6  # at most one grey level apart (rounding)


def test_get_fashion_mnist_labels():
    assert get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == ["t-shirt", "ankle boot", "sandal"]
    assert get_fashion_mnist_labels(range(10)) == list(TEXT_LABELS) == [
        't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']


# --- the real files (Debian's dataset-fashion-mnist) ----------------------------------------------------------------

@pytest.fixture(scope="session")
def real_train(real_config):
    return load_fashion_mnist_tensors(True, config=real_config)


def test_real_files_load_60000_and_10000_with_6000_per_class(real_config, real_train):
    X, y = real_train
    assert X.shape == (60_000, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.min().item() == 0 and X.max().item() == 1
    assert torch.bincount(y).tolist() == [6000] * 10
    Xt, yt = load_fashion_mnist_tensors(False, config=real_config)
    assert Xt.shape == (10_000, 1, 28, 28) and torch.bincount(yt).tolist() == [1000] * 10


def test_real_resize_64(real_config):
    X, _ = load_fashion_mnist_tensors(False, resize=64, config=real_config)
    assert X.shape == (10_000, 1, 64, 64) and 0 <= X.min() and X.max() <= 1


def test_real_torchvision_loads_from_the_prepared_root(real_config, real_train):
    from torchvision.datasets import FashionMNIST

    dataset = FashionMNIST(str(fashion_mnist_root(real_config)), train=True, download=False)
    assert len(dataset) == 60_000 and torch.equal(dataset.targets, real_train[1])
    assert torch.equal(dataset.data.float() / 255, real_train[0][:, 0])


@pytest.mark.slow  # starts a Python process
def test_real_cli_download_and_info_subprocess(tmp_path, real_config):
    """The real command line, from the system copy (the mirror is a closed local port: never the internet)."""
    env = {**os.environ, "D2LNOTES_DATA": str(tmp_path / "cli"), "D2LNOTES_MIRROR": "http://127.0.0.1:9/",
           "D2LNOTES_SYSTEM_DATA": str(REAL_DATA), "TQDM_DISABLE": "1"}
    run = [sys.executable, "-m", "d2lnotes", "data"]
    cwd = Path(__file__).parents[1]
    proc = subprocess.run([*run, "download"], env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(f"verified, from system: {REAL_DATA}/") == 4
    assert f"FashionMNIST(root={str(tmp_path / 'cli')!r}, download=False)" in proc.stdout
    proc = subprocess.run([*run, "info"], env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert proc.returncode == 0 and proc.stdout.count("verified (size and md5 OK)") == 4
    assert sorted(p.name for p in raw_dir(tmp_path / "cli").iterdir()) == sorted(real_config.checksums)
