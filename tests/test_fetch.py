"""Tests of d2lnotes.fetch and the `data` command line: every source served on 127.0.0.1 or from temp dirs."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import platformdirs
import pytest

from d2lnotes.__main__ import download, info
from d2lnotes.fetch import (OFFICIAL_MIRRORS, FashionMNISTUnavailable, data_dir, ensure_fashion_mnist, ensure_file,
                            fashion_mnist_root, inspect_data_dir, mirror_urls, raw_dir, verify_file)

pytestmark = pytest.mark.usefixtures("data_root")
NAME = "train-labels-idx1-ubyte"
BIG = "train-images-idx3-ubyte"  # 23 kB of random pixels: big enough to cut a transfer in the middle


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


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


def test_resume_after_dropped_connection(data_root, tiny, mirror, make_config):
    path = f"/good/{BIG}.gz"
    mirror.drop_after[path] = 5000
    record = ensure_file(BIG, make_config(mirrors=(mirror.url(),)))
    assert record.path.read_bytes() == tiny.raw[BIG]
    assert mirror.requests == [(path, None), (path, "bytes=5000-")]


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


def test_stalled_server_times_out_and_is_retried(data_root, tiny, mirror, make_config):
    mirror.stall[f"/good/{NAME}.gz"] = 1.5
    record = ensure_file(NAME, make_config(mirrors=(mirror.url(),), read_timeout=0.3))
    assert record.path.read_bytes() == tiny.raw[NAME]
    assert len(mirror.requests) == 2  # without the read timeout, the first request would have waited and succeeded


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
    from d2lnotes.data import load_fashion_mnist_tensors

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


def test_default_data_dir_is_the_user_cache_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("D2LNOTES_DATA")
    monkeypatch.chdir(tmp_path)
    assert data_dir() == Path(platformdirs.user_cache_dir("d2lnotes", appauthor=False))
    assert data_dir().is_absolute() and tmp_path not in data_dir().parents


def test_fashion_mnist_root_serves_torchvision(data_root, tiny, make_config):
    from torchvision.datasets import FashionMNIST

    tiny.write_gz(data_root / "from")
    root = fashion_mnist_root(make_config(system_dirs=(data_root / "from",)))
    assert root == data_root
    dataset = FashionMNIST(str(root), train=False, download=False)
    assert len(dataset) == 10 and dataset.data.numpy().tolist() == tiny.arrays["t10k-images-idx3-ubyte"].tolist()


def test_verify_file_names_the_problem(tmp_path, tiny):
    path = tmp_path / NAME
    checksum = tiny.checksums[NAME]
    assert verify_file(path, checksum) == "not present"
    path.write_bytes(tiny.raw[NAME])
    assert verify_file(path, checksum) is None
    path.write_bytes(tiny.raw[NAME][:-2] + b"xx")
    assert verify_file(path, checksum) == f"md5 {md5(path)}, expected {checksum.md5}"
    path.write_bytes(b"\x1f\x8b not gzip at all")
    assert verify_file(path, checksum).startswith("BadGzipFile: ")


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
