"""d2l's data hub: ``DATA_HUB``, ``DATA_URL``, ``download``, ``download_extract`` and ``extract``, both generations.

Book code that both d2l faces (``d2lnotes.d2l017``, ``d2lnotes.d2l1``) re-export; like a face, the core never
imports it.

d2l 0.17 registers files by name, ``DATA_HUB[name] = (url, sha1)``, and calls ``download(name, cache_dir)``;
d2l 1.0 calls ``download(url, folder, sha1_hash)``. The first argument says which: a name registered in
``DATA_HUB``, or a URL. Either way the transfer is the package's verified one
(``d2lnotes.downloads.fetch_url``: resumed, bounded in size and time, written atomically, one process at a time,
checked against the sha1 when one is given) and the file lands in the folder the caller names, by default the
data directory.
"""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

from d2lnotes.downloads import fetch_url
from d2lnotes.datafiles import data_dir

__all__ = ["DATA_HUB", "DATA_URL", "download", "download_extract", "extract"]

#: d2l's registry of downloadable files: {name: (url, sha1 hash)}; book code adds its own entries.
DATA_HUB: dict[str, tuple[str, str | None]] = {}
#: The base URL of d2l's data files.
DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"


def download(name_or_url: str, folder: str | os.PathLike | None = None, sha1_hash: str | None = None, *,
             cache_dir: str | os.PathLike | None = None) -> str:
    """Download a ``DATA_HUB`` name (d2l 0.17) or a URL (d2l 1.0) into folder; return the file's path.

    A file already there whose sha1 matches (or any file there, when no sha1 is known) is used as it is.
    Raises ``d2lnotes.downloads.DownloadFailed`` naming the URL and where to put the file by hand.
    """
    if name_or_url in DATA_HUB:
        url, sha1 = DATA_HUB[name_or_url]
        sha1 = sha1_hash or sha1
    elif "://" in name_or_url:
        url, sha1 = name_or_url, sha1_hash
    else:
        raise KeyError(f"{name_or_url!r} is neither a name in DATA_HUB ({', '.join(sorted(DATA_HUB)) or 'empty'}) "
                       "nor a URL: register it first, as the book does: DATA_HUB[name] = (url, sha1)")
    target = Path(cache_dir or folder or data_dir()).expanduser()
    return str(fetch_url(url, target, sha1=sha1))


def extract(filename: str | os.PathLike, folder: str | os.PathLike | None = None) -> str:
    """Extract a .zip, .tar or .tar.gz file next to itself (or into folder); return the folder extracted into."""
    path = Path(filename)
    base = Path(folder) if folder is not None else path.parent
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            archive.extractall(base)
    elif path.suffix in (".tar", ".gz", ".tgz"):
        with tarfile.open(path) as archive:
            archive.extractall(base, filter="data")  # no paths outside base, no links out of it
    else:
        raise ValueError(f"cannot extract {path.name}: only .zip, .tar, .tar.gz and .tgz files can be extracted")
    return str(base)


def download_extract(name: str, folder: str | None = None) -> str:
    """Download a ``DATA_HUB`` name, extract it next to the download; return the extracted folder (d2l 0.17)."""
    fname = Path(download(name))
    extract(fname)
    data = fname.with_name(fname.name.removesuffix(".gz").removesuffix(".tar").removesuffix(".zip")
                           .removesuffix(".tgz"))
    return str(fname.parent / folder) if folder else str(data)
