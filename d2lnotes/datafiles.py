"""Files on disk, verified: the data directory, checksums, atomic installs, corrupt copies moved aside, locks.

Knows nothing of where a file comes from (``d2lnotes.fashion_mnist`` decides that for Fashion-MNIST,
``d2lnotes.downloads`` for any URL) or of the network (``d2lnotes.transfer``). A failure to *read* a file is a
problem with that file (a string saying what is wrong); a failure to *write* raises ``transfer.WriteFailed``, so
that a full disk is never mistaken for a corrupt file.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import sys
import tempfile
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import platformdirs
from filelock import FileLock, Timeout

from d2lnotes import transfer

__all__ = ["Checksum", "data_dir", "max_download_bytes", "system_copy_paths", "digest_problem", "verify_file",
           "install_verified", "move_aside", "writable_problem", "file_lock", "remove_leftovers"]

_CHUNK = 1 << 20  # bytes read at a time when a file is hashed or copied


@dataclass(frozen=True)
class Checksum:
    """Size in bytes and md5 of a file's decompressed content."""

    md5: str
    size: int


def data_dir() -> Path:
    """Return the data directory: $D2LNOTES_DATA if set, else the per-user cache directory (never the CWD)."""
    env = os.environ.get("D2LNOTES_DATA", "").strip()
    if env:
        return Path(env).expanduser().absolute()
    return Path(platformdirs.user_cache_dir("d2lnotes", appauthor=False))


def max_download_bytes(checksum: Checksum) -> int:
    """Return the most bytes a .gz of a file with this checksum can take (gzip adds at most a little to raw data)."""
    return checksum.size + checksum.size // 100 + 4096


def system_copy_paths(folder: Path | str, name: str) -> list[Path]:
    """Return the copies of file ``name`` that a system dataset folder holds: ``name.gz``, then ``name``."""
    return [p for p in (Path(folder) / f"{name}.gz", Path(folder) / name) if p.is_file()]


def _is_gzip(path: Path) -> bool:
    """Return True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _open_maybe_gzip(path: Path) -> BinaryIO:
    """Open a file for reading, decompressing it when it is gzip-compressed."""
    return gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb")  # type: ignore[return-value]


def digest_problem(src: BinaryIO, algorithm: str, expected: str, size: int | None = None,
                   out: BinaryIO | None = None) -> str | None:
    """Return why the bytes read from src do not have the expected size and digest, or None when they match.

    The one place files are hashed: ``algorithm`` is a ``hashlib`` name (``"md5"``, ``"sha1"``, ...). The bytes
    are read in chunks and copied into ``out`` when one is given; reading stops as soon as there are more than
    ``size`` (None: any size). Read errors propagate; a failure to write into ``out`` raises
    ``transfer.WriteFailed``.
    """
    digest, got = hashlib.new(algorithm, usedforsecurity=False), 0
    while chunk := src.read(_CHUNK):
        digest.update(chunk)
        got += len(chunk)
        if size is not None and got > size:
            return f"too long: more than the expected {size:,} bytes"
        if out is not None:
            try:
                out.write(chunk)
            except OSError as e:
                raise transfer.WriteFailed(e.errno, e.strerror, getattr(out, "name", "")) from e
    if size is not None and got != size:
        return f"size {got:,} bytes, expected {size:,}"
    if digest.hexdigest() != expected.lower():
        return f"{algorithm} {digest.hexdigest()}, expected {expected}"
    return None


def _copy_checked(src: Path, checksum: Checksum, out: BinaryIO | None = None) -> str | None:
    """Stream src's decompressed bytes (into out, if given) and return why they do not match, or None.

    Any failure to *read* or decompress src is a problem with src; a failure to write into out raises
    ``transfer.WriteFailed``.
    """
    try:
        with _open_maybe_gzip(src) as f:
            return digest_problem(f, "md5", checksum.md5, checksum.size, out)
    except transfer.WriteFailed:
        raise
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError; zlib.error is not
        return f"cannot be read or decompressed: {type(e).__name__}: {e}"


def verify_file(path: Path, checksum: Checksum) -> str | None:
    """Return None when path (raw or .gz) decompresses to the expected bytes, else what is wrong."""
    path = Path(path)
    if not path.is_file():
        return "not present"
    try:
        if not _is_gzip(path) and path.stat().st_size != checksum.size:  # cheap check first
            return f"size {path.stat().st_size:,} bytes, expected {checksum.size:,}"
    except OSError as e:
        return f"cannot be read: {type(e).__name__}: {e}"
    return _copy_checked(path, checksum)


def install_verified(src: Path, dest: Path, checksum: Checksum) -> str | None:
    """Decompress src into dest atomically if its content verifies; return the problem otherwise.

    Raises ``transfer.WriteFailed`` when the copy cannot be written; the temporary copy is removed either way.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".tmp-", suffix=".part")
    except OSError as e:
        raise transfer.WriteFailed(e.errno, e.strerror, str(dest.parent)) from e
    try:
        with os.fdopen(fd, "wb") as out:
            problem = _copy_checked(src, checksum, out)
            if problem is None:
                try:
                    out.flush()
                    os.fsync(out.fileno())
                except OSError as e:
                    raise transfer.WriteFailed(e.errno, e.strerror, tmp) from e
        if problem is None:
            os.replace(tmp, dest)
        return problem
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # our own temporary copy, never the source


def move_aside(path: Path, problem: str) -> str:
    """Rename a file that failed verification to <name>.corrupt (replacing an older one), warn, return a note."""
    dest = path.with_name(path.name + ".corrupt")
    try:
        os.replace(path, dest)
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


@contextlib.contextmanager
def file_lock(locks: Path, name: str, where: Path) -> Iterator[None]:
    """Hold the lock (in folder ``locks``) that lets one process at a time fetch ``name`` into ``where``.

    A process that has to wait says so on stderr, then goes on once the other has finished.
    """
    if locks.is_symlink():
        os.replace(locks, locks.with_name(".locks.moved-aside"))
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / f"{name}.lock"
    if path.is_symlink():
        os.replace(path, path.with_name(path.name + ".moved-aside"))
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"d2lnotes: another process is fetching {name} into {where}; waiting for it to finish",
              file=sys.stderr, flush=True)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def remove_leftovers(raw: Path, name: str) -> None:
    """Delete temporary copies of ``name`` that an interrupted run left (the resumable ``.gz.part`` stays)."""
    for path in raw.glob(f"{name}.*.part"):
        if path.name != f"{name}.gz.part" and not path.is_symlink() and path.is_file():
            path.unlink(missing_ok=True)
