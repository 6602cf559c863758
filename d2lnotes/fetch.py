"""Find, verify and download the four Fashion-MNIST files: the only module that touches the network.

Sources, each used only when the one before has no valid copy:

1. the data directory ``data_dir()/FashionMNIST/raw/`` (torchvision's layout: decompressed files, or ``.gz``
   files placed there by hand);
2. system dataset directories (Debian/Ubuntu's ``dataset-fashion-mnist`` puts the ``.gz`` files in
   ``/usr/share/datasets/fashion-mnist/``): decompressed into the data directory, or read in place when the data
   directory cannot be written;
3. download mirrors: ``$D2LNOTES_MIRROR`` (comma-separated base URLs, ``http(s)://`` or ``file://``), then the
   official one. A broken transfer is resumed with an HTTP Range request.

Every file is checked by size and md5 of its *decompressed* bytes (re-gzipped copies verify too), each time it is
ensured (about 0.1 s for all four files). A file that fails is renamed ``<name>.corrupt`` (never deleted), a
warning says so, and the next source is tried. Everything is written to a temporary name, then renamed.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

import platformdirs
from tqdm import tqdm


@dataclass(frozen=True)
class Checksum:
    """Size in bytes and md5 of a file's decompressed content."""

    md5: str
    size: int


CHECKSUMS: Mapping[str, Checksum] = MappingProxyType({
    "train-images-idx3-ubyte": Checksum("f4a8712d7a061bf5bd6d2ca38dc4d50a", 47_040_016),
    "train-labels-idx1-ubyte": Checksum("9018921c3c673c538a1fc5bad174d6f9", 60_008),
    "t10k-images-idx3-ubyte": Checksum("8181f5470baa50b63fa0f6fddb340f0a", 7_840_016),
    "t10k-labels-idx1-ubyte": Checksum("15d484375f8d13e6eb1aabb0c3f46965", 10_008),
})
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)
OFFICIAL_MIRRORS: tuple[str, ...] = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
_CHUNK = 1 << 20


class FashionMNISTUnavailable(RuntimeError):
    """No source could provide a verified copy of a Fashion-MNIST file; the message lists each source and why."""

    def __init__(self, name: str, tried: Sequence[str], raw: Path, unwritable: str | None = None):
        self.name, self.tried, self.raw, self.unwritable = name, list(tried), raw, unwritable
        lines = [f"Fashion-MNIST file '{name}' is not available."]
        if unwritable:
            lines += [f"The data directory {raw} cannot be written ({unwritable}), so the file cannot be stored "
                      "there. Point D2LNOTES_DATA at a writable directory, e.g.",
                      "    export D2LNOTES_DATA=$HOME/d2lnotes-data"]
        lines.append("Sources tried, in order:")
        lines += [f"  {i}. {t}" for i, t in enumerate(tried, 1)]
        lines += ["Remedies (any one), then run `python -m d2lnotes data download`:",
                  "  - install the system copy:  sudo apt-get install dataset-fashion-mnist",
                  "  - use a reachable mirror:  export D2LNOTES_MIRROR=https://HOST/PATH/  "
                  "(comma-separated; file:///DIR/ works too)",
                  f"  - copy the four files (.gz or decompressed) into {raw}/"]
        super().__init__("\n".join(lines))

    def __reduce__(self):  # noqa: ANN204 - lets the error cross process boundaries (pickle)
        return type(self), (self.name, self.tried, self.raw, self.unwritable)


@dataclass(frozen=True)
class FetchConfig:
    """Where to look for the files and how to download them; the defaults are the real ones."""

    root: Path | str | None = None          # data directory; None: data_dir() at call time
    system_dirs: tuple[Path, ...] = SYSTEM_DIRS
    mirrors: tuple[str, ...] | None = None  # None: mirror_urls() at call time
    checksums: Mapping[str, Checksum] = field(default_factory=lambda: CHECKSUMS)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 3                        # extra attempts after a transfer breaks off
    backoff: float = 1.0                    # seconds before the first retry, doubled each time
    progress: bool = True                   # tqdm bar on stderr (off as well when TQDM_DISABLE is set)


@dataclass(frozen=True)
class FileRecord:
    """Where one verified file is read from and which source served it this time."""

    name: str
    path: Path    # decompressed file in the data dir, or a system .gz read in place
    source: str   # "data dir", "system" or "mirror"
    origin: str   # the path or URL the bytes came from


@dataclass(frozen=True)
class FileStatus:
    """What the data directory holds for one file, found without changing anything."""

    name: str
    path: Path
    present: bool
    problem: str  # "" when present and verified

    @property
    def verified(self) -> bool:
        """True when the file is present and its size and md5 match."""
        return self.present and not self.problem


def data_dir() -> Path:
    """Return the data directory: $D2LNOTES_DATA if set, else the per-user cache directory (never the CWD)."""
    env = os.environ.get("D2LNOTES_DATA", "").strip()
    if env:
        return Path(env).expanduser().absolute()
    return Path(platformdirs.user_cache_dir("d2lnotes", appauthor=False))


def raw_dir(root: Path) -> Path:
    """Return the folder torchvision's FashionMNIST(root) reads: ``root/FashionMNIST/raw``."""
    return Path(root) / "FashionMNIST" / "raw"


def mirror_urls() -> list[str]:
    """Return the base URLs to download from: those in $D2LNOTES_MIRROR first, then the official ones."""
    env = [u.strip() for u in os.environ.get("D2LNOTES_MIRROR", "").split(",") if u.strip()]
    return env + [u for u in OFFICIAL_MIRRORS if u not in env]


def _open_maybe_gzip(path: Path) -> BinaryIO:
    """Open a file for reading, decompressing it when it starts with the gzip magic bytes."""
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    f.seek(0)
    return f


def _copy_checked(src: Path, checksum: Checksum, out: BinaryIO | None = None) -> str | None:
    """Stream src's decompressed bytes (into out, if given) and return why they do not match, or None."""
    md5, size = hashlib.md5(usedforsecurity=False), 0
    try:
        with _open_maybe_gzip(src) as f:
            while chunk := f.read(_CHUNK):
                md5.update(chunk)
                size += len(chunk)
                if out is not None:
                    out.write(chunk)
                if size > checksum.size:
                    return f"too long: more than the expected {checksum.size:,} bytes"
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError; so is a full disk
        return f"{type(e).__name__}: {e}"
    if size != checksum.size:
        return f"size {size:,} bytes, expected {checksum.size:,}"
    if md5.hexdigest() != checksum.md5:
        return f"md5 {md5.hexdigest()}, expected {checksum.md5}"
    return None


def verify_file(path: Path, checksum: Checksum) -> str | None:
    """Return None when path (raw or .gz) decompresses to the expected bytes, else what is wrong."""
    path = Path(path)
    if not path.is_file():
        return "not present"
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    if not compressed and path.stat().st_size != checksum.size:  # cheap check first
        return f"size {path.stat().st_size:,} bytes, expected {checksum.size:,}"
    return _copy_checked(path, checksum)


def _install(src: Path, dest: Path, checksum: Checksum) -> str | None:
    """Decompress src into dest atomically if its content verifies; return the problem otherwise."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            problem = _copy_checked(src, checksum, out)
        if problem is None:
            os.replace(tmp, dest)
        return problem
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)  # our own temporary copy, never the source


def _move_aside(path: Path, problem: str) -> str:
    """Rename a file that failed verification to <name>.corrupt[.N], warn, and return a note for the error."""
    for i in range(1000):
        dest = path.with_name(path.name + (".corrupt" if i == 0 else f".corrupt.{i}"))
        if not dest.exists():
            break
    try:
        path.rename(dest)
    except OSError as e:
        note = f"{problem}; could not move it aside ({e})"
    else:
        note = f"{problem}; moved aside to {dest.name}"
    warnings.warn(f"{path} failed verification: {note}. Fetching it again.", RuntimeWarning, stacklevel=3)
    return note


def writable_problem(folder: Path) -> str | None:
    """Return None if files can be created in folder (or where it would be created), else why not; leaves no trace."""
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        return f"{type(e).__name__}: {e.strerror or e} ({existing})"
    return None


def system_copy_paths(folder: Path | str, name: str) -> list[Path]:
    """Return the copies of file ``name`` that a system dataset folder holds: ``name.gz``, then ``name``."""
    return [p for p in (Path(folder) / f"{name}.gz", Path(folder) / name) if p.is_file()]


class _ReadTimeout:
    """Handler mixin: connect with the request's timeout, then read with read_timeout."""

    read_timeout: float = 30.0

    def do_open(self, http_class, req, **kwargs):  # noqa: D102 - urllib hook
        read_timeout = self.read_timeout

        class Connection(http_class):  # type: ignore[misc, valid-type]
            def connect(self) -> None:
                super().connect()
                self.sock.settimeout(read_timeout)

        return super().do_open(Connection, req, **kwargs)  # type: ignore[misc]


class _HTTPHandler(_ReadTimeout, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_ReadTimeout, urllib.request.HTTPSHandler):
    pass


class _Dropped(Exception):
    """The server closed the connection before sending the whole file."""


def _download(url: str, part: Path, cfg: FetchConfig) -> str | None:
    """Download url into part, resuming what part already holds; return None on success, else why it failed."""
    handlers = [_HTTPHandler(), _HTTPSHandler()]
    for h in handlers:
        h.read_timeout = cfg.read_timeout
    opener = urllib.request.build_opener(*handlers)
    quiet = not cfg.progress or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes")
    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"User-Agent": "d2lnotes"})
        if have:
            req.add_header("Range", f"bytes={have}-")
        try:
            with opener.open(req, timeout=cfg.connect_timeout) as resp:
                resumed = have and getattr(resp, "status", None) == 206 \
                    and resp.headers.get("Content-Range", "").startswith(f"bytes {have}-")
                start = have if resumed else 0
                length = resp.headers.get("Content-Length")
                total = start + int(length) if length else None
                with open(part, "ab" if resumed else "wb") as f, tqdm(
                        total=total, initial=start, unit="B", unit_scale=True, file=sys.stderr,
                        desc=part.name.removesuffix(".gz.part"), **({"disable": True} if quiet else {})) as bar:
                    while chunk := resp.read(1 << 16):
                        f.write(chunk)
                        bar.update(len(chunk))
                got = part.stat().st_size
                if total is not None and got < total:
                    raise _Dropped(f"connection closed after {got:,} of {total:,} bytes")
            return None
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # nothing past what part holds: it may be whole, verification decides
                return None
            if e.code < 500 and e.code not in (408, 429):  # 404 and the like do not heal: no retry
                return f"HTTP {e.code} {e.reason}"
            error: Exception = e
        except urllib.error.URLError as e:  # before any byte: DNS, refused, unreachable, connect timeout
            return f"cannot {'open' if url.startswith('file:') else 'connect'} ({e.reason})"
        except (http.client.HTTPException, ConnectionError, TimeoutError, _Dropped) as e:
            error = e
        attempt += 1
        if attempt > cfg.retries:
            kept = f"; the partial file {part} is kept and resumes next time" if part.exists() else ""
            return f"failed {attempt} times, last: {type(error).__name__}: {error}{kept}"
        time.sleep(cfg.backoff * 2 ** (attempt - 1))


def ensure_file(name: str, config: FetchConfig | None = None) -> FileRecord:
    """Return where a verified copy of one file can be read, fetching it from the first source that has one."""
    cfg = config or FetchConfig()
    checksum = cfg.checksums[name]
    raw = raw_dir(cfg.root or data_dir())
    target = raw / name
    unwritable = writable_problem(raw)
    if not unwritable:
        raw.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []

    # 1. the data directory: the decompressed file, else a .gz placed there by hand
    problem = verify_file(target, checksum)
    if problem is None:
        return FileRecord(name, target, "data dir", str(target))
    if target.exists() and not unwritable:
        problem = _move_aside(target, problem)
    tried.append(f"data dir {target}: {problem}")
    placed = raw / f"{name}.gz"
    if placed.is_file():
        if unwritable:
            if (problem := verify_file(placed, checksum)) is None:
                return FileRecord(name, placed, "data dir", str(placed))
        elif (problem := _install(placed, target, checksum)) is None:
            return FileRecord(name, target, "data dir", str(placed))
        else:
            problem = _move_aside(placed, problem)
        tried.append(f"data dir {placed}: {problem}")
    # 2. system dataset directories
    for folder in cfg.system_dirs:
        candidates = system_copy_paths(folder, name)
        if not candidates:
            tried.append(f"system dir {folder}: no {name}.gz there")
        for path in candidates:
            if unwritable:
                problem = verify_file(path, checksum)
                if problem is None:
                    return FileRecord(name, path, "system", str(path))
            elif (problem := _install(path, target, checksum)) is None:
                return FileRecord(name, target, "system", str(path))
            tried.append(f"system copy {path}: {problem}")
    # 3. mirrors
    if unwritable:
        tried.append("mirrors: not tried, there is nowhere to save a download")
        raise FashionMNISTUnavailable(name, tried, raw, unwritable)
    part = raw / f"{name}.gz.part"
    for base in (cfg.mirrors if cfg.mirrors is not None else mirror_urls()):
        url = base.rstrip("/") + f"/{name}.gz"
        problem = _download(url, part, cfg)
        if problem is None:
            if (problem := _install(part, target, checksum)) is None:
                part.unlink()
                return FileRecord(name, target, "mirror", url)
            problem = _move_aside(part, f"downloaded file {problem}")
        tried.append(f"mirror {url}: {problem}")
    if not tried[-1].startswith("mirror"):
        tried.append("mirrors: none configured")
    raise FashionMNISTUnavailable(name, tried, raw)


def ensure_fashion_mnist(config: FetchConfig | None = None,
                         names: Sequence[str] | None = None) -> dict[str, FileRecord]:
    """Return {file name: FileRecord} for the files (default: all four), fetching any that are missing."""
    cfg = config or FetchConfig()
    return {name: ensure_file(name, cfg) for name in (names or list(cfg.checksums))}


def fashion_mnist_root(config: FetchConfig | None = None) -> Path:
    """Ensure the files are in the data dir and return the root for torchvision.datasets.FashionMNIST(root)."""
    cfg = config or FetchConfig()
    root = cfg.root or data_dir()
    for record in ensure_fashion_mnist(cfg).values():
        if record.path != raw_dir(root) / record.name:
            raise FashionMNISTUnavailable(
                record.name, [f"{record.source} copy {record.path}: readable, but torchvision needs it in "
                              f"{raw_dir(root)}"], raw_dir(root), writable_problem(raw_dir(root)) or "not writable")
    return root


def inspect_data_dir(config: FetchConfig | None = None) -> list[FileStatus]:
    """Return the state of each file in the data dir (present? verified?) without writing anything."""
    cfg = config or FetchConfig()
    raw = raw_dir(cfg.root or data_dir())
    statuses = []
    for name, checksum in cfg.checksums.items():
        path = raw / name
        problem = verify_file(path, checksum)
        statuses.append(FileStatus(name, path, path.is_file(), "" if problem is None else problem))
    return statuses
