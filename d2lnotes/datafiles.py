"""Files on disk, verified: the data directory, checksums, atomic installs, corrupt copies moved aside, locks.

Knows nothing of where a file comes from (``d2lnotes.fashion_mnist`` decides that for Fashion-MNIST,
``d2lnotes.downloads`` for any URL) or of the network (``d2lnotes.transfer``). A failure to *read* a file is a
problem with that file (a string saying what is wrong); a failure to *write* raises ``transfer.WriteFailed``, so
that a full disk is never mistaken for a corrupt file.
"""

from __future__ import annotations

import contextlib
import getpass
import gzip
import hashlib
import json
import os
import secrets
import socket
import stat
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from shlex import quote as shlex_quote
from typing import BinaryIO

import platformdirs
from filelock import FileLock, Timeout

from d2lnotes import transfer

__all__ = ["Checksum", "data_dir", "data_dir_command", "max_download_bytes", "system_copy_paths", "digest_problem",
           "verify_file", "make_folder", "share_like_folder", "install_verified", "move_aside", "writable_problem",
           "LockHolderStalled", "file_lock", "remove_leftovers"]

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


def data_dir_command(instead_of: Path | None = None) -> str:
    """Return the shell command that points D2LNOTES_DATA at a folder this user can write (home first, else temp).

    The folder is named literally, so the command can be pasted as is: ``$HOME`` would not help when home is the
    folder that cannot be written. ``instead_of`` (the data dir that failed) is never the one suggested.
    """
    home, temp = Path.home() / "d2lnotes-data", Path(tempfile.gettempdir()) / f"d2lnotes-data-{_user()}"
    folder = home if writable_problem(home) is None and home != instead_of else temp
    if os.name == "nt":
        return f"set D2LNOTES_DATA={folder}"
    return f"export D2LNOTES_DATA={shlex_quote(str(folder))}"


def _user() -> str:
    """Return this account's name, or its numeric id where there is no name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # an id with no entry in the password database (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


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


def _others_may_read(folder: Path) -> int:
    """Return the group/other read bits of the classes that may list and enter ``folder`` (0 where unknown)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return 0
    group = stat.S_IRGRP if mode & stat.S_IRGRP and mode & stat.S_IXGRP else 0
    other = stat.S_IROTH if mode & stat.S_IROTH and mode & stat.S_IXOTH else 0
    return group | other


def share_like_folder(path: Path) -> None:
    """Let the group and others read ``path`` when they may read its folder: never narrower than the folder.

    The umask already decided the mode when the file or folder was created, as for any file this user writes;
    this only adds read (and, for a folder, enter) permission. Does nothing on Windows.
    """
    if os.name == "nt":
        return
    mode = path.lstat().st_mode
    bits = _others_may_read(path.parent)
    if stat.S_ISDIR(mode):
        bits |= bits >> 2  # r-- -> r-x
    if not stat.S_ISLNK(mode) and mode & bits != bits:
        with contextlib.suppress(OSError):  # a file system without modes (FAT): nothing to widen
            os.chmod(path, stat.S_IMODE(mode) | bits)


def make_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each readable by whoever may read the folder above it."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # another process made it meanwhile: its mode is that process's business
            continue
        share_like_folder(path)


def install_verified(src: Path, dest: Path, checksum: Checksum) -> str | None:
    """Decompress src into dest atomically if its content verifies; return the problem otherwise.

    dest gets the mode of a plain file this user writes there (the umask decides; see ``share_like_folder``).
    Raises ``transfer.WriteFailed`` when the copy cannot be written; the temporary copy is removed either way.
    """
    tmp = dest.with_name(f"{dest.name}.tmp-{secrets.token_hex(6)}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)  # the mode every program's new files get: 0o666 less the umask
    except OSError as e:
        raise transfer.WriteFailed(e.errno, e.strerror, str(dest.parent)) from e
    try:
        with os.fdopen(fd, "wb") as out:
            problem = _copy_checked(src, checksum, out)
            if problem is None:
                try:
                    out.flush()
                    os.fsync(fd)
                except OSError as e:
                    raise transfer.WriteFailed(e.errno, e.strerror, str(tmp)) from e
        if problem is None:
            share_like_folder(tmp)
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


class LockHolderStalled(RuntimeError):
    """The process that holds a file's lock has made no progress for too long; the message names it."""

    def __init__(self, name: str, where: Path, holder: str, pid: int | None, silence: float) -> None:
        """Build the message from the file, its folder, the holder in words, its PID and the seconds waited."""
        self.name, self.where, self.holder, self.pid, self.silence = name, Path(where), holder, pid, silence
        end = "end it" if pid is None else f"end it: `{'taskkill /PID' if os.name == 'nt' else 'kill'} {pid}`"
        super().__init__(
            f"Gave up waiting for {name} in {where}: {holder}; it has made no progress for {silence:g} s, longer "
            f"than a live download stays silent. Resume it if it is stopped (`fg` in its terminal), or {end}. "
            "Then run this again.")

    def __reduce__(self):  # noqa: ANN204 - lets the error cross process boundaries (pickle)
        return type(self), (self.name, self.where, self.holder, self.pid, self.silence)


def _holder_path(locks: Path, name: str) -> Path:
    """Return the file in which the holder of ``name``'s lock says who it is and what it is doing."""
    return locks / f"{name}.holder"


def _write_holder(locks: Path, name: str, doing: str) -> None:
    """Record this process as the holder of ``name``'s lock and what it is doing (best effort: it only informs)."""
    argv = getattr(sys, "orig_argv", sys.argv)  # as typed: python -m d2lnotes data download
    command = " ".join([Path(argv[0]).name, *argv[1:]]) if argv else "python"
    record = {"pid": os.getpid(), "host": socket.gethostname(), "user": _user(),
              "command": " ".join(command.split())[:120], "doing": doing}
    tmp = locks / f"{name}.holder.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(record), encoding="utf-8")
        share_like_folder(tmp)
        os.replace(tmp, _holder_path(locks, name))
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def _describe_holder(locks: Path, name: str) -> tuple[str, int | None]:
    """Return the lock holder in words (PID, command, what it is doing, whether it is stopped) and its PID."""
    try:
        record = json.loads(_holder_path(locks, name).read_text(encoding="utf-8"))
        pid, host = int(record["pid"]), str(record["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return "another process holds its lock (it left no record of itself)", None
    here = host == socket.gethostname()
    words = (f"process {pid} ({record.get('command') or 'python'}, user {record.get('user', '?')}"
             f"{'' if here else f', on host {host}'}) holds its lock, {record.get('doing') or 'fetching it'}")
    if here:
        try:
            import psutil

            state = psutil.Process(pid).status()
        except Exception:  # noqa: BLE001 - gone, or not ours to see: the record says enough
            state = ""
        words += {"stopped": " (the process is stopped: suspended, e.g. by Ctrl-Z)",
                  "zombie": " (the process has ended)"}.get(state, "")
    return words, (pid if here else None)


def _activity(locks: Path, name: str, where: Path) -> tuple:
    """Return what changes while a holder works: its record and the size of every file of ``name`` in ``where``."""
    try:
        record = _holder_path(locks, name).read_bytes()
    except OSError:
        record = b""
    files = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(where):
            if entry.name.startswith(f"{name}.") or entry.name == name:
                with contextlib.suppress(OSError):
                    files.append((entry.name, entry.stat(follow_symlinks=False).st_size))
    return record, tuple(sorted(files))


@contextlib.contextmanager
def file_lock(locks: Path, name: str, where: Path, patience: float) -> Iterator[Callable[[str], None]]:
    """Hold the lock (in folder ``locks``) that lets one process at a time fetch ``name`` into ``where``.

    Yields ``say(doing)``, with which the holder records what it is doing for those who wait. A process that has
    to wait says on stderr which process holds the lock and what it is doing, and waits as long as that process
    makes progress (its record or its files in ``where`` change). Raises ``LockHolderStalled`` once the holder has
    made none for ``patience`` seconds (a stopped or hung process).
    """
    if locks.is_symlink():
        os.replace(locks, locks.with_name(".locks.moved-aside"))
    make_folder(locks)
    path = locks / f"{name}.lock"
    if path.is_symlink():
        os.replace(path, path.with_name(path.name + ".moved-aside"))
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _wait(lock, locks, name, where, patience)
    share_like_folder(path)
    try:
        _write_holder(locks, name, "starting")
        yield lambda doing: _write_holder(locks, name, doing)
    finally:
        with contextlib.suppress(OSError):
            _holder_path(locks, name).unlink()
        lock.release()


def _wait(lock: FileLock, locks: Path, name: str, where: Path, patience: float) -> None:
    """Acquire ``lock`` held by another process, while it makes progress; see ``file_lock``."""
    print(f"d2lnotes: waiting for {name} in {where}: {_describe_holder(locks, name)[0]}",
          file=sys.stderr, flush=True)
    last, since = _activity(locks, name, where), time.monotonic()
    while True:
        try:
            lock.acquire(timeout=min(0.5, patience / 4))
            return
        except Timeout:
            pass
        now, seen = time.monotonic(), _activity(locks, name, where)
        if seen != last:
            last, since = seen, now
        elif now - since > patience:
            raise LockHolderStalled(name, where, *_describe_holder(locks, name), round(now - since, 1))


def remove_leftovers(raw: Path, name: str) -> None:
    """Delete temporary copies of ``name`` that an interrupted run left (the resumable ``.gz.part`` stays)."""
    for path in raw.glob(f"{name}.*.part"):
        if path.name != f"{name}.gz.part" and not path.is_symlink() and path.is_file():
            path.unlink(missing_ok=True)
