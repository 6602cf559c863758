"""One copy of Fashion-MNIST for a whole class: the modes of the files d2lnotes writes, a data dir prepared by one
account and read by another, a read-only data dir with hand-placed files, one verdict for every report, waiting for
another process's lock, and messages that fit the situation (unwritable home, a proxy).

Every server is on 127.0.0.1; a second account is simulated with ``setpriv`` (root only, skipped elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from d2lnotes.__main__ import download, export, info
from d2lnotes.datafiles import data_dir_command, install_verified, writable_problem
from d2lnotes.doctor import check_data, exit_status
from d2lnotes.fashion_mnist import (DataDirBusy, FashionMNISTUnavailable, ensure_fashion_mnist, ensure_file,
                                    load_fashion_mnist_tensors, raw_dir, readiness)
from helpers import REAL_DATA

pytestmark = [pytest.mark.usefixtures("data_root"),
              pytest.mark.skipif(os.name == "nt", reason="file modes and signals as on Linux and macOS")]
REPO = Path(__file__).resolve().parents[1]
IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block with this process's umask set to ``mask``."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    """Return the permission bits of path."""
    return stat.S_IMODE(path.stat().st_mode)


def tree_modes(root: Path) -> dict[str, int]:
    """Return {path relative to root: permission bits} for root and everything below it."""
    return {str(p.relative_to(root)): mode(p) for p in [root, *root.rglob("*")]}


# ---- the modes of what d2lnotes writes ----------------------------------------------------------------------------

@pytest.mark.parametrize("mask, folder, expected", [
    (0o022, 0o755, 0o644),  # the usual umask: readable by all, as any file the user writes
    (0o002, 0o775, 0o664),  # a group-writable set-up keeps its group bit
    (0o027, 0o750, 0o640),  # the umask decides: the group reads, others do not
    (0o077, 0o700, 0o600),  # a private umask in a private folder stays private
    (0o077, 0o755, 0o644),  # a private umask in a folder others may read: never narrower than the folder
], ids=lambda v: f"{v:03o}")
def test_an_installed_file_gets_the_mode_the_umask_gives_never_narrower_than_its_folder(tmp_path, tiny, mask, folder,
                                                                                        expected):
    src = tiny.write_gz(tmp_path / "src") / f"{LABELS}.gz"
    dest = tmp_path / "dest"
    dest.mkdir()
    dest.chmod(folder)
    with umask(mask):
        assert install_verified(src, dest / LABELS, tiny.checksums[LABELS]) is None
    assert oct(mode(dest / LABELS)) == oct(expected)
    assert sorted(p.name for p in dest.iterdir()) == [LABELS]


def test_folders_and_files_made_for_the_data_are_readable_where_the_folder_above_is(tmp_path, tiny, make_config):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    config = make_config(root=shared / "data", system_dirs=(tiny.write_gz(tmp_path / "system"),))
    with umask(0o077):
        ensure_fashion_mnist(config)
        assert export(shared / "export", config) == 0
    made = [p for p in shared.rglob("*")]
    assert shared / "data" / "FashionMNIST" / "raw" / LABELS in made and shared / "export" / "FashionMNIST" in made
    assert {oct(mode(p)) for p in made if p.is_file()} == {oct(0o644)}, tree_modes(shared)
    assert {oct(mode(p)) for p in made if p.is_dir()} == {oct(0o755)}, tree_modes(shared)


# ---- a data dir prepared by one account, read by another ---------------------------------------------------------

TEACHER, STUDENT = 4242, 4243  # ids of no account: setpriv runs a process as them all the same


BOOT = """
import os, runpy, sys
os.umask(int(sys.argv[1], 8))
how, what, *rest = sys.argv[2:]
if how == "-m":
    sys.argv = [what, *rest]
    runpy.run_module(what, run_name="__main__", alter_sys=True)
else:
    sys.argv = ["-c", *rest]
    exec(compile(what, "<string>", "exec"), {"__name__": "__main__"})
"""


def as_user(uid: int, args: list[str], env: dict[str, str], mask: int = 0o022) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` (``-m module ...`` or ``-c code ...``) as account ``uid`` (no groups, no capabilities)
    with umask ``mask``; return the finished process."""
    command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
               sys.executable, "-c", BOOT, f"{mask:03o}", *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("D2LNOTES_", "MPLCONFIGDIR"))}
    return subprocess.run(command, env={**clean, "PYTHONPATH": str(REPO), "HOME": "/nonexistent",
                                        "TQDM_DISABLE": "1", **env},
                          capture_output=True, text=True, timeout=600, cwd="/")


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """Yield an empty folder owned by the TEACHER account, readable by all (skipped where setpriv cannot run)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("simulating two accounts needs root and setpriv")
    folder = Path(tempfile.mkdtemp(prefix="d2lnotes-class-"))  # not under pytest's tmp_path: that one is private
    try:
        folder.chmod(0o755)
        os.chown(folder, TEACHER, TEACHER)
        probe = as_user(STUDENT, ["-c", "import d2lnotes"], {})
        if probe.returncode:
            pytest.skip(f"another account cannot run this Python here: {probe.stderr.strip()[-200:]}")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


LOAD = """
import torchvision
from d2lnotes.data import load_data_fashion_mnist
train, test = load_data_fashion_mnist(256)
print("loaded", train.num_examples, test.num_examples)
print("torchvision", len(torchvision.datasets.FashionMNIST(root=__import__("sys").argv[1], train=False)))
"""


@pytest.mark.needs_data
@pytest.mark.slow  # runs six Python processes as two other accounts
@pytest.mark.parametrize("mask", [0o022, 0o077], ids=["umask022", "umask077"])
def test_a_data_dir_prepared_by_one_account_is_read_by_another(shared_folder, mask):
    data, exported = shared_folder / "data", shared_folder / "export"
    teacher = {"D2LNOTES_DATA": str(data), "D2LNOTES_SYSTEM_DATA": str(REAL_DATA)}
    for step in (["data", "download"], ["data", "export", str(exported)]):
        prepared = as_user(TEACHER, ["-m", "d2lnotes", *step], teacher, mask)
        assert prepared.returncode == 0, prepared.stderr
    before = tree_modes(shared_folder)

    student = {"D2LNOTES_DATA": str(data), "D2LNOTES_SYSTEM_DATA": ""}  # no system copy: the class's copy or nothing
    loaded = as_user(STUDENT, ["-c", LOAD, str(exported)], student)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines() == ["loaded 60000 10000", "torchvision 10000"]
    described = as_user(STUDENT, ["-m", "d2lnotes", "data", "info"], student)
    assert described.returncode == 0 and "status: ready\n" in described.stdout, described.stdout
    assert "writable: no" not in described.stdout and described.stdout.count("verified (size and md5 OK)") == 4
    doctor = as_user(STUDENT, ["-m", "d2lnotes", "doctor"], student)
    said = " ".join(doctor.stdout.split())  # the report wraps long lines
    assert "fashion-mnist ready: 4 of 4 files verified" in said and "fine while the files it reads stay verified" \
        in said, doctor.stdout
    assert tree_modes(shared_folder) == before  # the student wrote nothing


# ---- one verdict: a read-only data dir with hand-placed .gz files, and every other situation ---------------------

@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make folder and everything in it read-only for this process: a read-only bind mount as root (chmod stops no
    root), else chmod 555 on each folder. Skipped where neither makes it so."""
    if os.geteuid() != 0:
        folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
        for f in folders:
            f.chmod(0o555)
        try:
            yield
        finally:
            for f in folders:
                f.chmod(0o755)
        return
    if subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True).returncode:
        pytest.skip("a read-only bind mount is not allowed here")
    try:
        if writable_problem(folder / "probe") is None:
            pytest.skip("the bind mount is not read-only here (an old kernel)")
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def verdicts(config, capsys) -> dict[str, bool]:
    """Return whether each report says the data loads without a network, and whether the loader indeed does."""
    capsys.readouterr()
    reports = {"readiness": readiness(config)[0], "data info": info(config) == 0,
               "doctor": exit_status(check_data(config)) == 0,
               "data download": download(config) == 0}  # no mirrors: only what is on disk
    try:
        load_fashion_mnist_tensors(True, config=config)
        load_fashion_mnist_tensors(False, config=config)
        reports["loader"] = True
    except FashionMNISTUnavailable:
        reports["loader"] = False
    capsys.readouterr()
    return reports


def test_a_read_only_data_dir_with_hand_placed_gz_files_loads_and_every_report_says_so(data_root, tiny, make_config,
                                                                                      capsys):
    raw = tiny.write_gz(raw_dir(data_root))
    config = make_config()
    before = sorted(p.name for p in data_root.rglob("*"))
    with read_only(data_root):
        assert writable_problem(raw) is not None
        assert readiness(config) == (True, "ready (.gz placed by hand; the first load reads it in place)")
        assert info(config) == 0
        out = capsys.readouterr().out
        assert out.count("verified (size and md5 OK), as ") == 4 and "status: ready (.gz placed by hand" in out
        findings = check_data(config)
        assert exit_status(findings) == 0, findings
        assert any(f.found.startswith("ready (.gz placed by hand; the first load reads it in place): 4 of 4 files "
                                      "verified") for f in findings)
        X, y = load_fashion_mnist_tensors(True, config=config)
        assert y.tolist() == tiny.arrays[LABELS].tolist() and X.shape == (30, 1, 28, 28)
        assert download(config) == 0 and capsys.readouterr().out.count("read in place") == 4
    assert sorted(p.name for p in data_root.rglob("*")) == before  # no lock, no temporary file, nothing


def corrupt(path: Path) -> None:
    """Flip one byte in the middle of the file."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# What is in the data dir, whether a system copy has the files, whether the data dir is read-only; ready or not.
SITUATIONS = {
    "empty": ("", False, False, False),
    "decompressed": ("decompressed", False, False, True),
    "placed gz": ("gz", False, False, True),
    "placed gz, one corrupt": ("gz, corrupt gz", False, False, False),
    "three of four placed": ("gz, one gz missing", False, False, False),
    "system copy": ("", True, False, True),
    "corrupt file, good placed gz": ("decompressed, gz, corrupt file", False, False, True),
    "corrupt file, system copy": ("decompressed, corrupt file", True, False, True),
    "read-only, placed gz": ("gz", False, True, True),
    "read-only, decompressed": ("decompressed", False, True, True),
    "read-only, system copy": ("", True, True, True),
    "read-only, one corrupt file": ("decompressed, corrupt file", False, True, False),
}


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_loader_and_every_report_agree(data_root, tmp_path, tiny, make_config, capsys, situation):
    files, system, locked, ready = SITUATIONS[situation]
    raw = raw_dir(data_root)
    raw.mkdir(parents=True)
    if "decompressed" in files:
        for name, body in tiny.raw.items():
            (raw / name).write_bytes(body)
    if "gz" in files:
        tiny.write_gz(raw)
    if "one gz missing" in files:
        (raw / f"{IMAGES}.gz").unlink()
    if "corrupt gz" in files:
        corrupt(raw / f"{IMAGES}.gz")
    if "corrupt file" in files:
        corrupt(raw / IMAGES)
    config = make_config(system_dirs=(tiny.write_gz(tmp_path / "system"),) if system else ())
    with read_only(data_root) if locked else contextlib.nullcontext():
        found = verdicts(config, capsys)
    assert found == dict.fromkeys(found, ready)


def test_verified_data_is_read_without_a_lock(data_root, tiny, make_config):
    raw = raw_dir(data_root)
    raw.mkdir(parents=True)
    for name, body in tiny.raw.items():
        (raw / name).write_bytes(body)
    records = ensure_fashion_mnist(make_config())
    assert {r.source for r in records.values()} == {"data dir"}
    assert sorted(p.name for p in data_root.rglob("*")) == sorted(["FashionMNIST", "raw", *tiny.raw])


# ---- waiting for another process's lock ---------------------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from d2lnotes.datafiles import file_lock
raw, name, body = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]).read_bytes()
with file_lock(raw.parent / ".locks", name, raw, 60) as say:
    say("downloading from a slow mirror")
    print("locked", flush=True)
    with open(raw / f"{name}.gz.part", "wb") as part:
        for _ in range(int(sys.argv[4])):  # progress: one byte every 0.1 s, far longer than the waiter's patience
            part.write(b"x")
            part.flush()
            time.sleep(0.1)
    (raw / name).write_bytes(body)
    (raw / f"{name}.gz.part").unlink()
"""


@pytest.mark.slow  # starts a Python process
def test_a_waiting_load_keeps_waiting_while_the_holder_makes_progress(data_root, tmp_path, tiny, make_config,
                                                                      capsys):
    raw = raw_dir(data_root)
    raw.mkdir(parents=True)
    (tmp_path / "body").write_bytes(tiny.raw[LABELS])
    config = make_config(connect_timeout=0.3, read_timeout=0.3, retries=0)  # the waiter's patience: 0.6 s
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(raw), LABELS, str(tmp_path / "body"), "40"],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline() == "locked\n"
        record = ensure_file(LABELS, config)  # no source of its own: it can only succeed through the holder
        assert holder.wait(timeout=60) == 0
    finally:
        holder.kill()
    assert (record.path, record.source) == (raw / LABELS, "data dir")
    err = capsys.readouterr().err
    assert f"waiting for {LABELS} in {raw}: process {holder.pid} (" in err
    assert "holds its lock, downloading from a slow mirror" in err


@pytest.mark.slow  # starts two Python processes; the waiter gives up after the default 19 s of silence
def test_a_load_waiting_on_a_stopped_download_ends_with_an_error_that_names_it(data_root, tiny, mirror):
    mirror.stall[f"/good/{IMAGES}.gz"] = 60.0  # the download has begun and gets nothing: then Ctrl-Z
    env = {**os.environ, "PYTHONPATH": str(REPO), "D2LNOTES_DATA": str(data_root), "D2LNOTES_MIRROR": mirror.url(),
           "D2LNOTES_SYSTEM_DATA": "", "TQDM_DISABLE": "1"}
    holder = subprocess.Popen([sys.executable, "-m", "d2lnotes", "data", "download"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = data_root / "FashionMNIST" / ".locks" / f"{IMAGES}.holder"
    try:
        while "downloading" not in (record.read_text() if record.is_file() else ""):
            assert holder.poll() is None, "the download ended before it could be stopped"
            time.sleep(0.05)
        # Ctrl-Z sends SIGTSTP, which the kernel drops for a process of an orphaned process group (a test run
        # started in the background): SIGSTOP stops the process the same way, always.
        os.kill(holder.pid, signal.SIGSTOP)
        waiter = subprocess.run(
            [sys.executable, "-c", "from d2lnotes.data import load_data_fashion_mnist\n"
             "try:\n    load_data_fashion_mnist(256)\nexcept Exception as e:\n    print(type(e).__name__, e)"],
            env=env, capture_output=True, text=True, timeout=300)  # a guard against hanging, not a speed limit
    finally:
        holder.kill()  # SIGKILL ends a stopped process too
        holder.wait(timeout=60)
    assert f"waiting for {IMAGES} in {raw_dir(data_root)}: process {holder.pid} (" in waiter.stderr
    message = " ".join(waiter.stdout.split())
    assert message.startswith(f"DataDirBusy Gave up waiting for {IMAGES} in {raw_dir(data_root)}: process "
                              f"{holder.pid} ("), message
    assert f"downloading {mirror.url()}{IMAGES}.gz (the process is stopped: suspended, e.g. by Ctrl-Z)" in message
    assert f"kill {holder.pid}" in message and "`fg` in its terminal" in message


def test_a_stalled_holder_error_crosses_process_boundaries():
    error = DataDirBusy(IMAGES, Path("/data/FashionMNIST/raw"), "Gave up waiting: process 7 holds its lock")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


# ---- messages that fit the situation -----------------------------------------------------------------------------

def test_the_fix_for_an_unwritable_home_points_somewhere_writable(tmp_path, monkeypatch, make_config):
    home = tmp_path / "home"
    home.write_text("a file where the home folder should be: nothing can be created under it")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("D2LNOTES_DATA", str(home / "data"))
    command = data_dir_command()
    folder = Path(command.removeprefix("export D2LNOTES_DATA="))
    assert folder.is_absolute() and not folder.is_relative_to(home) and writable_problem(folder) is None
    with pytest.raises(FashionMNISTUnavailable) as err:
        ensure_file(LABELS, make_config())
    assert command in str(err.value) and "$HOME" not in str(err.value)
    fixes = [f.fix for f in check_data(make_config()) if f.fix]
    assert fixes and all(fix.startswith(command) for fix in fixes)


def test_the_fix_points_at_home_when_home_is_writable_and_never_at_the_folder_that_failed(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir_command() == f"export D2LNOTES_DATA={tmp_path / 'd2lnotes-data'}"
    assert not (tmp_path / "d2lnotes-data").exists()  # suggesting a folder creates nothing
    elsewhere = data_dir_command(instead_of=tmp_path / "d2lnotes-data")
    assert elsewhere.startswith("export D2LNOTES_DATA=") and str(tmp_path) not in elsewhere


def test_a_download_through_a_dead_proxy_names_the_proxy(tiny, mirror, make_config, monkeypatch):
    for var in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("http_proxy", dead)
    with pytest.raises(FashionMNISTUnavailable) as err:
        ensure_file(LABELS, make_config(mirrors=(mirror.url(),)))
    assert f"through the proxy {dead} (set by $http_proxy" in str(err.value)
    assert mirror.requests == []
