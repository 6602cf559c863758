"""Shared fixtures: one torch thread per test, the real Fashion-MNIST (or a skip), tiny generated IDX files,
a local HTTP mirror on 127.0.0.1, an isolated data dir, and a runner of notebook cells.

Markers (registered in pyproject.toml): ``needs_data`` is added to every test that uses a real-data fixture and
skips it when the Debian copy is absent (fails it in CI); ``slow`` marks what the quick tier leaves out.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from d2lnotes.data import load_data_fashion_mnist
from d2lnotes.datafiles import Checksum
from d2lnotes.fashion_mnist import FetchConfig, ensure_fashion_mnist
from d2lnotes.transfer import Limits
from helpers import REAL_DATA, in_ci, real_data_missing

REPO = Path(__file__).resolve().parents[1]
REAL_DATA_FIXTURES = {"real_config", "real_data_dir", "fashion_mnist_256"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use a real-data fixture ``needs_data``, and those that start a kernel ``slow``."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if REAL_DATA_FIXTURES & fixtures:
            item.add_marker(pytest.mark.needs_data)
        if "run_notebook" in fixtures:  # starts a Jupyter kernel
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The one rule for real data: without the Debian copy a ``needs_data`` test is skipped (in CI: failed)."""
    if item.get_closest_marker("needs_data") and (why := real_data_missing()):
        if in_ci():
            pytest.fail(f"CI needs the data: {why}", pytrace=False)
        pytest.skip(why)


@pytest.fixture(autouse=True)
def _one_torch_thread_and_no_leftover_figures():
    """Run torch on one thread (small matmuls; on a shared 2-core machine two threads are ~10x slower),
    and close every figure a test left open."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    plt.close("all")


def execute_cells(cells: list[str], folder: Path, **env: str) -> nbformat.NotebookNode:
    """Run code cells in a fresh Jupyter kernel (inline backend, like Jupyter and VS Code); return the notebook."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    kernel_env = {**os.environ, "PYTHONPATH": str(REPO), **env}  # os.environ: tools/kernel_env.py, via conftest.py
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=kernel_env)
    return nb


@pytest.fixture(scope="session")
def virtual_display() -> str:
    """Return an X display for a real window: the session's own, or a virtual one (Debian's xvfb) started here.

    Skipped where neither exists (failed in CI, whose set-up installs xvfb).
    """
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    if shutil.which("Xvfb") is None:
        why = "no display and no Xvfb (sudo apt-get install xvfb)"
        if in_ci():
            pytest.fail(f"CI needs a display: {why}", pytrace=False)
        pytest.skip(why)
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1024x768x24"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # Xvfb writes its display number once it accepts connections
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def run_notebook():
    """Return :func:`execute_cells`, for tests that check what a notebook shows."""
    return execute_cells


FILE_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array: np.ndarray) -> bytes:
    """Return array (uint8) encoded as an IDX file."""
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return bytes([0, 0, 0x08, array.ndim]) + dims + array.astype(np.uint8).tobytes()


@dataclass
class TinyFashionMNIST:
    """Small stand-ins for the four files: 30 train and 10 test images of 28x28, labels cycling 0..9."""

    arrays: dict[str, np.ndarray]
    raw: dict[str, bytes]
    gz: dict[str, bytes]
    checksums: dict[str, Checksum]

    def write_gz(self, folder: Path, level: int = 9) -> Path:
        """Write the four .gz files into folder and return it."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, raw in self.raw.items():
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw, compresslevel=level, mtime=0))
        return folder


@pytest.fixture(scope="session")
def tiny() -> TinyFashionMNIST:
    """Return generated Fashion-MNIST-shaped files with their own checksum table."""
    import hashlib

    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": (np.arange(30) % 10).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": (np.arange(10) % 10).astype(np.uint8)}
    raw = {n: idx_bytes(a) for n, a in arrays.items()}
    gz = {n: gzip.compress(b, compresslevel=1, mtime=0) for n, b in raw.items()}
    checksums = {n: Checksum(hashlib.md5(b).hexdigest(), len(b)) for n, b in raw.items()}
    return TinyFashionMNIST(arrays, raw, gz, checksums)


@dataclass
class MirrorState:
    """What the local mirror serves and what it saw; drop_after/stall act once on the next request for a path."""

    port: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    drop_after: dict[str, int] = field(default_factory=dict)
    stall: dict[str, float] = field(default_factory=dict)
    hostile: dict[str, str] = field(default_factory=dict)  # path -> mode, on every request; see _Handler.hostile

    def url(self, prefix: str = "/good/") -> str:
        """Return the base URL for a folder on this server."""
        return f"http://127.0.0.1:{self.port}{prefix}"


class _Handler(http.server.BaseHTTPRequestHandler):
    HOSTILE_SECONDS = 20.0  # every hostile answer ends by itself after this long

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        state: MirrorState = self.server.state  # type: ignore[attr-defined]
        rng = self.headers.get("Range")
        state.requests.append((self.path, rng))
        body = state.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        if self.path in state.hostile:
            with contextlib.suppress(OSError):
                self.hostile(state.hostile[self.path], body, rng)
            self.close_connection = True
            return
        time.sleep(state.stall.pop(self.path, 0))
        start = int(re.fullmatch(r"bytes=(\d+)-", rng)[1]) if rng else 0
        if start >= len(body) and rng:
            self.send_error(416)
            return
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut = state.drop_after.pop(self.path, None)
        self.wfile.write(body[start:] if cut is None else body[start:start + cut])
        self.close_connection = True

    def hostile(self, mode: str, body: bytes, rng: str | None) -> None:
        """Answer like a broken or malicious mirror; every mode stops within HOSTILE_SECONDS."""
        end = time.monotonic() + self.HOSTILE_SECONDS
        if mode == "refuse-range" and rng:
            self.send_error(416)
            return
        if mode == "refuse-range":  # a plain GET gets the file
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        if mode == "huge-length":
            self.send_header("Content-Length", str(10 * 10**9))
        elif mode in ("stall-after-headers", "trickle"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "endless":  # no Content-Length, bytes without end
            block = bytes(1 << 16)
            while time.monotonic() < end:
                self.wfile.write(block)
        elif mode == "huge-length":
            self.wfile.write(body)
        elif mode == "stall-after-headers":
            self.wfile.flush()
            time.sleep(min(3.0, self.HOSTILE_SECONDS))
        elif mode == "trickle":  # one byte every 0.1 s
            for byte in body:
                if time.monotonic() > end:
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)

    def log_message(self, *args) -> None:  # quiet
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and hung up (the tests do that on purpose) is not an error of the test


@pytest.fixture
def mirror(tiny: TinyFashionMNIST):
    """Serve the tiny .gz files under /good/ on 127.0.0.1 (a fresh port per test); yield its MirrorState."""
    state = MirrorState(files={f"/good/{n}.gz": b for n, b in tiny.gz.items()})
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.state = state  # type: ignore[attr-defined]
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point D2LNOTES_DATA at a fresh temp dir, with no mirror and no system copy, tqdm silent; return the data dir."""
    root = tmp_path / "data"
    monkeypatch.setenv("D2LNOTES_DATA", str(root))
    monkeypatch.delenv("D2LNOTES_MIRROR", raising=False)
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")  # no system copy: the tests never depend on the Debian package
    monkeypatch.setenv("TQDM_DISABLE", "1")
    return root


@pytest.fixture
def make_config(tiny: TinyFashionMNIST):
    """Return a factory of FetchConfig for the tiny files: no system dirs, no mirrors, fast retries.

    Its keyword arguments are FetchConfig's fields or those of its ``limits`` (``retries=0``, ``read_timeout=0.3``).
    """
    limit_names = {f.name for f in fields(Limits)}

    def make(**overrides) -> FetchConfig:
        limits = {"retries": 2, "backoff": 0.01, "connect_timeout": 2.0, "read_timeout": 2.0}
        limits.update({k: overrides.pop(k) for k in list(overrides) if k in limit_names})
        base = dict(system_dirs=(), mirrors=(), checksums=tiny.checksums, limits=Limits(**limits), progress=False)
        return FetchConfig(**{**base, **overrides})
    return make


@pytest.fixture
def tiny_config(tmp_path, tiny, make_config):
    """Return a FetchConfig that finds the tiny files in a temp 'system' dir."""
    return make_config(system_dirs=(tiny.write_gz(tmp_path / "system"),))


@pytest.fixture(scope="session")
def real_config(tmp_path_factory: pytest.TempPathFactory) -> FetchConfig:
    """Return a FetchConfig whose data dir (a session temp dir) holds the real files, verified, from the Debian copy."""
    config = FetchConfig(root=tmp_path_factory.mktemp("real-data"), system_dirs=(REAL_DATA,), mirrors=(),
                         progress=False)
    ensure_fashion_mnist(config)
    return config


@pytest.fixture(scope="session")
def real_data_dir(real_config: FetchConfig) -> Path:
    """Return the session's data dir holding the real files (for tests that set D2LNOTES_DATA to it)."""
    return Path(real_config.root)


@pytest.fixture(scope="session")
def fashion_mnist_256(real_config: FetchConfig):
    """Return (train_iter, test_iter) over the real Fashion-MNIST in batches of 256, read once per session."""
    return load_data_fashion_mnist(256, config=real_config)
