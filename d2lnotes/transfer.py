"""One download: a URL into a partial file, resumed, bounded in size and time, never through a symlink.

This module knows HTTP(S) and ``file://`` URLs and nothing about Fashion-MNIST: which file to fetch from where,
and what to do with it afterwards, is the business of the modules above it (``d2lnotes.fashion_mnist``,
``d2lnotes.downloads``).
"""

from __future__ import annotations

import errno
import http.client
import os
import stat
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

_BLOCK = 1 << 16
_RESUMES = "; the partial file resumes next time"


@dataclass(frozen=True)
class Limits:
    """How long and how much one download may take; the defaults suit a 30 MB file on a slow connection."""

    connect_timeout: float = 5.0    # seconds to connect
    read_timeout: float = 10.0      # seconds without a byte before the server counts as stalled
    min_rate: float = 2048.0        # bytes per second, averaged over each rate_window, below which it is a trickle
    rate_window: float = 15.0       # seconds
    deadline: float = 900.0         # seconds for the whole file, resumes included
    retries: int = 3                # extra attempts after a connection breaks off mid-file
    backoff: float = 1.0            # seconds before the first retry, doubled each time

    def longest_silence(self) -> float:
        """Return the longest a live download goes without a byte: the last retry's pause, a connect, a stall.

        A process that waits for another one's download gives up once that one has been silent for longer.
        """
        return self.backoff * 2 ** max(self.retries - 1, 0) + self.connect_timeout + self.read_timeout


class TransferFailed(Exception):
    """A download gave up; ``reason`` says why. ``slow`` marks a stalled or trickling source (skip it from now on)."""

    def __init__(self, reason: str, *, slow: bool = False) -> None:
        """Keep the reason and whether the source was too slow to use."""
        super().__init__(reason)
        self.reason, self.slow = reason, slow


class WriteFailed(OSError):
    """Writing the partial file failed (full disk, quota, read-only or broken file system, permission)."""


class _ResumeRefused(TransferFailed):
    """The server would not continue the partial file (HTTP 416): start again from byte 0."""


def url_problem(url: str) -> str | None:
    """Return why ``url`` cannot be downloaded from, or None when it is an http(s):// URL with a host or file://."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        return str(e)
    if parts.scheme not in ("http", "https", "file"):
        return "not an http://, https:// or file:// URL"
    if parts.scheme != "file" and not parts.hostname:
        return "no host name"
    return None


@dataclass(frozen=True)
class Proxy:
    """The proxy a download goes through: its URL (without credentials) and what set it."""

    url: str      # http://proxy.example:3128, never with a user:password@
    source: str   # "$http_proxy", "$HTTP_PROXY", ... or "the system's proxy settings"


def proxy_for(url: str) -> Proxy | None:
    """Return the proxy urllib will use for ``url`` (its ``*_proxy`` variables, minus ``no_proxy``), or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return None
    proxy = urllib.request.getproxies().get(parts.scheme) if parts.scheme in ("http", "https") else None
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    name = f"{parts.scheme}_proxy"
    names = sorted((n for n in os.environ if n.lower() == name), key=lambda n: n != name)  # lower case first
    source = next((f"${n}" for n in names if os.environ[n] == proxy), "the system's proxy settings")
    scheme, sep, rest = proxy.partition("://")
    shown = f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else proxy.rpartition("@")[2]
    return Proxy(shown, source)


def _through(reason: str, proxy: Proxy | None) -> str:
    """Return ``reason``, naming ``proxy`` and what to do about it when the download went through one."""
    if proxy is None:
        return reason
    return f"{reason} through the proxy {proxy.url} (set by {proxy.source}; check it, or unset it to connect directly)"


def _opener(read_timeout: float) -> urllib.request.OpenerDirector:
    """Return a urllib opener whose HTTP(S) sockets time out after ``read_timeout`` s without data."""

    def timed(base: type) -> type:
        class Timed(base):  # type: ignore[misc, valid-type]
            def connect(self) -> None:
                super().connect()
                self.sock.settimeout(read_timeout)
        return Timed

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req):  # noqa: ANN001, ANN202 - urllib hook
            return self.do_open(timed(http.client.HTTPConnection), req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req):  # noqa: ANN001, ANN202 - urllib hook
            return self.do_open(timed(http.client.HTTPSConnection), req, context=self._context)

    return urllib.request.build_opener(HTTP(), HTTPS())


def open_part(part: Path, append: bool) -> int:
    """Open ``part`` for writing without following a symlink, and refuse anything but a regular file; return the fd.

    A symlink, folder or device found at ``part`` is renamed ``<name>.moved-aside`` (the link itself, never its
    target) so that nothing outside the folder can be written through it.
    """
    if part.is_symlink() or (part.exists() and not part.is_file()):
        aside = part.with_name(part.name + ".moved-aside")
        os.replace(part, aside)
        print(f"d2lnotes: {part} was not a regular file (a symlink or folder); moved it aside to {aside.name}",
              file=sys.stderr)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    flags |= os.O_APPEND if append else os.O_TRUNC
    try:
        fd = os.open(part, flags, 0o644)
    except OSError as e:  # also ELOOP: a symlink put there after the check above
        raise WriteFailed(e.errno, e.strerror, str(part)) from e
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise WriteFailed(errno.EINVAL, "not a regular file", str(part))
    return fd


def download(url: str, part: Path, max_bytes: int, limits: Limits = Limits(), *, progress: bool = True,
             accept: Callable[[Path], str | None] | None = None) -> None:
    """Download ``url`` into ``part``, continuing what ``part`` already holds; return once ``accept`` takes it.

    ``accept(part)`` is called with the finished file and returns None when it takes it, else why not. When a
    resume is refused (HTTP 416), or a resumed file is not accepted (its old bytes did not belong to this one), the
    file is fetched once more from byte 0; a fresh file that is not accepted is removed. Raises ``TransferFailed``
    (``slow=True`` for a stall or trickle) and ``WriteFailed`` when ``part`` cannot be written. A body longer than
    ``max_bytes`` (announced or sent) is refused and ``part`` removed.
    """
    for fresh in (False, True):
        if fresh:
            part.unlink(missing_ok=True)
        resumed = part.is_file() and not part.is_symlink() and part.stat().st_size > 0
        try:
            _download(url, part, max_bytes, limits, progress)
        except _ResumeRefused:
            continue
        problem = accept(part) if accept is not None else None
        if problem is None:
            return
        if not resumed:
            part.unlink(missing_ok=True)
            raise TransferFailed(f"downloaded file {problem}; discarded")
    raise TransferFailed("the server refused to send the file from its start")


def _download(url: str, part: Path, max_bytes: int, limits: Limits, progress: bool) -> None:
    """Download ``url`` into ``part`` (resuming, retrying broken connections); raise ``_ResumeRefused`` on a 416."""
    opener, proxy = _opener(limits.read_timeout), proxy_for(url)
    started, attempt = time.monotonic(), 0
    while True:
        have = part.stat().st_size if part.is_file() and not part.is_symlink() else 0
        try:
            _fetch_once(opener, url, part, have, max_bytes, limits, started, progress)
            return
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:
                raise _ResumeRefused(f"HTTP 416: the server refused to resume at byte {have:,}") from e
            if e.code < 500 and e.code not in (408, 429):  # 404 and the like do not heal: no retry
                reason = f"HTTP {e.code} {e.reason}"  # 407 comes from the proxy; a 404 and the like from the server
                raise TransferFailed(_through(reason, proxy) if e.code == 407 else reason) from e
            error: Exception = e
        except urllib.error.URLError as e:  # before any byte: DNS, refused, unreachable, connect timeout
            if isinstance(e.reason, TimeoutError):
                raise TransferFailed(_through(f"cannot connect (timed out after {limits.connect_timeout:g} s)", proxy),
                                     slow=True) from e
            verb = "open" if url.startswith("file:") else "connect"
            raise TransferFailed(_through(f"cannot {verb} ({e.reason})", proxy)) from e
        except TimeoutError as e:
            raise TransferFailed(_through(f"stalled: nothing received for {limits.read_timeout:g} s", proxy)
                                 + _RESUMES, slow=True) from e
        except _Trickle as e:
            raise TransferFailed(_through(str(e), proxy) + _RESUMES, slow=True) from e
        except (http.client.HTTPException, ConnectionError, _Dropped) as e:
            error = e
        except ValueError as e:  # a URL that urllib cannot parse
            raise TransferFailed(f"not a usable URL ({e})") from e
        attempt += 1
        if attempt > limits.retries:
            raise TransferFailed(_through(f"failed {attempt} times, last: {type(error).__name__}: {error}", proxy)
                                 + _RESUMES)
        time.sleep(limits.backoff * 2 ** (attempt - 1))


class _Dropped(Exception):
    """The server closed the connection before sending the whole file."""


class _Trickle(Exception):
    """The server sends, but too slowly to finish (or the file's deadline has passed)."""


def _fetch_once(opener: urllib.request.OpenerDirector, url: str, part: Path, have: int, max_bytes: int,
                limits: Limits, started: float, progress: bool) -> None:
    """One request: append to (or restart) ``part``; raise on any shortfall."""
    req = urllib.request.Request(url, headers={"User-Agent": "d2lnotes"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    with opener.open(req, timeout=limits.connect_timeout) as resp:
        resumed = bool(have) and getattr(resp, "status", None) == 206 \
            and resp.headers.get("Content-Range", "").startswith(f"bytes {have}-")
        start = have if resumed else 0
        length = resp.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            part.unlink(missing_ok=True)
            raise TransferFailed(f"the server announces {total:,} bytes, more than the {max_bytes:,} this file can be")
        quiet = not progress or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes")
        fd = open_part(part, append=resumed)
        got, window_start, window_bytes = start, time.monotonic(), 0
        with os.fdopen(fd, "wb") as f, tqdm(total=total, initial=start, unit="B", unit_scale=True, file=sys.stderr,
                                            desc=part.name.split(".")[0], disable=quiet) as bar:
            read = getattr(resp, "read1", resp.read)  # read1: what has arrived, so a trickle is noticed in time
            while chunk := read(_BLOCK):
                got += len(chunk)
                if got > max_bytes:
                    f.close()
                    part.unlink(missing_ok=True)
                    raise TransferFailed(f"the server sent more than the {max_bytes:,} bytes this file can be; "
                                         "discarded")
                try:
                    f.write(chunk)
                except OSError as e:
                    raise WriteFailed(e.errno, e.strerror, str(part)) from e
                bar.update(len(chunk))
                now, window_bytes = time.monotonic(), window_bytes + len(chunk)
                if now - started > limits.deadline:
                    raise _Trickle(f"not finished within {limits.deadline:g} s ({got:,} bytes so far)")
                if now - window_start >= limits.rate_window:
                    rate = window_bytes / (now - window_start)
                    if rate < limits.min_rate:
                        raise _Trickle(f"too slow: {rate:,.0f} bytes/s, below {limits.min_rate:,.0f}")
                    window_start, window_bytes = now, 0
            try:
                f.flush()
                os.fsync(f.fileno())
            except OSError as e:
                raise WriteFailed(e.errno, e.strerror, str(part)) from e
        if total is not None and got < total:
            raise _Dropped(f"connection closed after {got:,} of {total:,} bytes")
