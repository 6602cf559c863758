"""Any file by URL, verified by its sha1 when one is known: the transfer behind d2l's data hub (``d2lnotes.hub``).

Like the Fashion-MNIST files, a download is resumed, bounded in size and time, written under a temporary name and
renamed when complete, one process at a time; a copy already in place is used when it verifies.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from d2lnotes import transfer
from d2lnotes.datafiles import (LockHolderStalled, digest_problem, file_lock, make_folder, move_aside,
                                share_like_folder, writable_problem)

__all__ = ["DownloadFailed", "fetch_url"]


class DownloadFailed(RuntimeError):
    """A file could not be downloaded; the message names the URL, why, and where to put the file by hand."""

    def __init__(self, url: str, target: Path, reason: str) -> None:
        """Build the message from the URL, the path the file should have, and why it failed."""
        self.url, self.target, self.reason = url, Path(target), reason
        super().__init__(
            f"Cannot download {url}: {reason}.\n"
            f"Without network, get the file from any copy and put it here, then run the code again:\n"
            f"    {target}")

    def __reduce__(self):  # noqa: ANN204 - lets the error cross process boundaries (pickle)
        return type(self), (self.url, self.target, self.reason)


def fetch_url(url: str, folder: Path, *, sha1: str | None = None, max_bytes: int = 4 * 10**9,
              limits: transfer.Limits | None = None, progress: bool = True) -> Path:
    """Return the path of ``url``'s file in ``folder``, downloading it unless a copy there verifies.

    A copy verifies when its sha1 matches ``sha1`` (any copy, when no sha1 is given). A copy that does not is
    renamed ``.corrupt``. Raises ``DownloadFailed`` when the file cannot be had.
    """
    folder = Path(folder)
    name = urllib.parse.urlsplit(url).path.rstrip("/").split("/")[-1] if not transfer.url_problem(url) else ""
    target = folder / (name or "download")
    if not name:
        raise DownloadFailed(url, target, f"not a usable URL ({transfer.url_problem(url) or 'no file name'})")

    def sha1_problem(path: Path) -> str | None:
        """Return None when the file at path is the one wanted, else its sha1 against the expected one."""
        if sha1 is None:
            return None
        with open(path, "rb") as f:
            return digest_problem(f, "sha1", sha1)

    if target.is_file() and sha1_problem(target) is None:
        return target
    if unwritable := writable_problem(folder):
        raise DownloadFailed(url, target, f"the folder cannot be written ({unwritable})")
    limits = limits or transfer.Limits()
    make_folder(folder)
    try:
        with file_lock(folder / ".locks", name, folder, limits.longest_silence()) as say:
            if target.is_file() and (problem := sha1_problem(target)) is None:
                return target  # another process fetched it while we waited
            if target.is_file():
                move_aside(target, problem)
            part = folder / f"{name}.part"
            say(f"downloading {url}")
            try:
                transfer.download(url, part, max_bytes, limits, progress=progress, accept=sha1_problem)
            except transfer.WriteFailed as e:
                part.unlink(missing_ok=True)
                raise DownloadFailed(url, target, f"cannot write into {folder}: [Errno {e.errno}] {e.strerror}") \
                    from None
            except transfer.TransferFailed as e:
                raise DownloadFailed(url, target, e.reason) from None
            share_like_folder(part)
            os.replace(part, target)
    except LockHolderStalled as e:
        raise DownloadFailed(url, target, str(e).rstrip(".")) from None
    return target
