"""Fashion-MNIST, the one module that knows this dataset: its four files (where to find them, their checksums,
whether they are ready) and their contents (IDX decoding, the images and labels as tensors, the class names).

Sources, each used only when the one before has no valid copy:

1. the data directory ``data_dir()/FashionMNIST/raw/`` (torchvision's layout: decompressed files, or ``.gz``
   files placed there by hand);
2. system dataset directories (Debian/Ubuntu's ``dataset-fashion-mnist`` puts the ``.gz`` files in
   ``/usr/share/datasets/fashion-mnist/``; ``$D2LNOTES_SYSTEM_DATA`` names others, separated by ``os.pathsep``, or
   none when empty): decompressed into the data directory, or read in place when the data directory cannot be
   written;
3. download mirrors: ``$D2LNOTES_MIRROR`` (comma-separated base URLs, ``http(s)://`` or ``file://``), then the
   official one. A broken transfer is resumed with an HTTP Range request.

Every file is checked by size and md5 of its *decompressed* bytes (re-gzipped copies verify too), each time it is
ensured (about 0.1 s for all four files). A file that fails is renamed ``<name>.corrupt`` (one per file, never
deleted), a warning says so, and the next source is tried. Everything is written to a temporary name, then renamed;
one process at a time fetches a file (a lock in ``FashionMNIST/.locks/``), the others wait and use its result. A
failure to *write* (full disk, quota, read-only file system) stops with an error that says so: it never marks a
file as corrupt. The generic layers below: the HTTP transfer itself (resume, size cap, stall and trickle limits) is
``d2lnotes.transfer``; the data directory, and checking, installing, locking and moving aside one file, are
``d2lnotes.datafiles``. Cutting the tensors into batches is ``d2lnotes.data``.

The functions that decode the files import numpy and torch when they are called, not with this module: the doctor
and the command line import it, and they work when torch is missing or broken.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import math
import os
import shutil
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from d2lnotes import transfer
from d2lnotes.datafiles import (Checksum, LockHolderStalled, data_dir, data_dir_command, file_lock, install_verified,
                                make_folder, max_download_bytes, move_aside, remove_leftovers, system_copy_paths,
                                verify_file, writable_problem)

if TYPE_CHECKING:
    import torch

CHECKSUMS: Mapping[str, Checksum] = MappingProxyType({
    "train-images-idx3-ubyte": Checksum("f4a8712d7a061bf5bd6d2ca38dc4d50a", 47_040_016),
    "train-labels-idx1-ubyte": Checksum("9018921c3c673c538a1fc5bad174d6f9", 60_008),
    "t10k-images-idx3-ubyte": Checksum("8181f5470baa50b63fa0f6fddb340f0a", 7_840_016),
    "t10k-labels-idx1-ubyte": Checksum("15d484375f8d13e6eb1aabb0c3f46965", 10_008),
})
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)
OFFICIAL_MIRRORS: tuple[str, ...] = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
TEXT_LABELS: tuple[str, ...] = ('t-shirt', 'trouser', 'pullover', 'dress', 'coat',
                                'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot')
# IDX type codes (third magic byte) and the big-endian numpy types they stand for.
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MB = 1e6


class FashionMNISTUnavailable(RuntimeError):
    """No source could provide a verified copy of a Fashion-MNIST file; the message lists each source and why."""

    def __init__(self, name: str, tried: Sequence[str], raw: Path, unwritable: str | None = None) -> None:
        self.name, self.tried, self.raw, self.unwritable = name, list(tried), raw, unwritable
        lines = [f"Fashion-MNIST file '{name}' is not available."]
        if unwritable:
            lines += [f"The data directory {raw} cannot be written ({unwritable}), so the file cannot be stored "
                      "there. Point D2LNOTES_DATA at a folder you can write, e.g.",
                      f"    {data_dir_command(raw.parent.parent)}"]
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


class DataDirWriteError(FashionMNISTUnavailable):
    """A Fashion-MNIST file could not be written into the data dir (full disk, quota, read-only, I/O error)."""

    def __init__(self, name: str, folder: Path, error: str, needed: int, free: int | None) -> None:
        """Build the message from the file, the folder, the OS error, the bytes the data needs and the bytes free."""
        self.name, self.folder, self.error, self.needed, self.free = name, Path(folder), error, needed, free
        self.tried, self.raw, self.unwritable = [], Path(folder), error
        space = "" if free is None else f"; {free / _MB:,.1f} MB are free there"
        RuntimeError.__init__(self, "\n".join([
            f"Cannot write Fashion-MNIST file '{name}' into {folder}: {error}.",
            f"The data needs about {needed / _MB:,.0f} MB in that folder (the decompressed files, plus room for one "
            f"compressed download while it is fetched){space}. Nothing was marked corrupt and no partial file "
            "was kept.",
            "Fix: free some space there, or point D2LNOTES_DATA at a writable folder with room, e.g.",
            f"    {data_dir_command(self.folder.parent.parent)}",
            "then run `python -m d2lnotes data download`."]))

    def __reduce__(self):  # noqa: ANN204 - lets the error cross process boundaries (pickle)
        return type(self), (self.name, self.folder, self.error, self.needed, self.free)


class DataDirBusy(FashionMNISTUnavailable):
    """Another process holds the lock on a Fashion-MNIST file and has made no progress for too long."""

    def __init__(self, name: str, raw: Path, reason: str) -> None:
        """Keep the file, the folder and the reason (``LockHolderStalled``'s message, naming the holder)."""
        self.name, self.raw, self.reason, self.tried, self.unwritable = name, Path(raw), reason, [], None
        RuntimeError.__init__(self, reason)

    def __reduce__(self):  # noqa: ANN204 - lets the error cross process boundaries (pickle)
        return type(self), (self.name, self.raw, self.reason)


@dataclass(frozen=True)
class FetchConfig:
    """Where to look for the files and how to download them; the defaults are the real ones."""

    root: Path | str | None = None          # data directory; None: data_dir() at call time
    system_dirs: tuple[Path, ...] | None = None  # None: system_dirs() at call time
    mirrors: tuple[str, ...] | None = None  # None: mirror_urls() at call time
    checksums: Mapping[str, Checksum] = field(default_factory=lambda: CHECKSUMS)
    limits: transfer.Limits = transfer.Limits()  # timeouts, retries, rate and time limits of each download
    progress: bool = True                   # tqdm bar on stderr (off as well when TQDM_DISABLE is set)

    def data_root(self) -> Path:
        """Return the data directory: ``root`` if given, else ``data_dir()``."""
        return Path(self.root) if self.root is not None else data_dir()

    def raw(self) -> Path:
        """Return the folder the files live in: ``data_root()/FashionMNIST/raw``."""
        return raw_dir(self.data_root())

    def system_dir_list(self) -> list[Path]:
        """Return the system dataset folders to look in: ``system_dirs`` if given, else ``system_dirs()``."""
        return list(self.system_dirs) if self.system_dirs is not None else system_dirs()

    def mirror_list(self) -> list[str]:
        """Return the base URLs to download from: ``mirrors`` if given, else ``mirror_urls()``."""
        return list(self.mirrors) if self.mirrors is not None else mirror_urls()

    def needed_bytes(self) -> int:
        """Return the room the files need in the data dir: all of them decompressed plus the largest download."""
        sizes = self.checksums.values()
        return sum(c.size for c in sizes) + max(max_download_bytes(c) for c in sizes)


@dataclass(frozen=True)
class FileRecord:
    """Where one verified file is read from and which source served it this time."""

    name: str
    path: Path    # decompressed file in the data dir, or a system .gz read in place
    source: str   # "data dir", "system" or "mirror"
    origin: str   # the path or URL the bytes came from


@dataclass(frozen=True)
class FileStatus:
    """Where a load finds one file without a network, judged without writing anything.

    The one verdict: ``data info`` and the doctor take it from :func:`file_status`, and the loader (so ``data
    download`` too) looks in the same places, in the same order, with the same checks.
    """

    name: str
    path: Path    # the verified copy a load reads: raw/name, raw/name.gz or a system copy; else raw/name
    source: str   # "data dir", "system", or "" when there is no verified copy
    present: bool  # the data dir holds raw/name or raw/name.gz, verified or not
    problem: str  # why the data dir holds no verified copy; "" when it does

    @property
    def verified(self) -> bool:
        """True when the data dir holds a verified copy, decompressed or a .gz placed there by hand."""
        return self.source == "data dir"

    @property
    def available(self) -> bool:
        """True when a load needs no network: a verified copy is in the data dir or a system folder."""
        return bool(self.source)

    @property
    def placed(self) -> bool:
        """True when the verified copy is a .gz placed in the data dir (not yet decompressed)."""
        return self.verified and self.path.name.endswith(".gz")


def raw_dir(root: Path) -> Path:
    """Return the folder torchvision's FashionMNIST(root) reads: ``root/FashionMNIST/raw``."""
    return Path(root) / "FashionMNIST" / "raw"


def system_dirs() -> list[Path]:
    """Return the system dataset folders: those in $D2LNOTES_SYSTEM_DATA if it is set (empty: none), else Debian's."""
    if "D2LNOTES_SYSTEM_DATA" in os.environ:
        return [Path(p).expanduser() for p in os.environ["D2LNOTES_SYSTEM_DATA"].split(os.pathsep) if p.strip()]
    return list(SYSTEM_DIRS)


def mirror_urls() -> list[str]:
    """Return the base URLs to download from: the valid ones in $D2LNOTES_MIRROR first, then the official ones.

    Each entry that is not a usable URL is named in a warning and skipped.
    """
    env = []
    for url in (u.strip() for u in os.environ.get("D2LNOTES_MIRROR", "").split(",")):
        if url and (problem := transfer.url_problem(url)):
            warnings.warn(f"D2LNOTES_MIRROR: skipping {url!r}: {problem}", RuntimeWarning, stacklevel=2)
        elif url:
            env.append(url)
    return env + [u for u in OFFICIAL_MIRRORS if u not in env]


def verified_system_copy(config: FetchConfig, name: str) -> Path | None:
    """Return the first system copy of file ``name`` that verifies, or None."""
    for folder in config.system_dir_list():
        for path in system_copy_paths(folder, name):
            if verify_file(path, config.checksums[name]) is None:
                return path
    return None


def _write_error(name: str, cfg: FetchConfig, err: OSError) -> DataDirWriteError:
    """Return the error that explains a failed write of ``name`` into the data dir."""
    raw = cfg.raw()
    try:
        free: int | None = shutil.disk_usage(raw).free
    except OSError:
        free = None
    what = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
            errno.EIO: "an input/output error (is the disk failing?)", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied"}.get(err.errno or 0)
    if err.errno == getattr(errno, "EDQUOT", None):
        what = "your disk quota is used up"
    text = f"[Errno {err.errno}] {err.strerror}" + (f" ({what})" if what else "")
    return DataDirWriteError(name, raw, text, cfg.needed_bytes(), free)


def _from_system_copies(name: str, cfg: FetchConfig, tried: list[str],
                        take: Callable[[Path], tuple[str | None, Path]]) -> FileRecord | None:
    """Return the record of the first system copy that ``take(path)`` accepts, noting every other one in ``tried``.

    ``take`` returns (the problem, or None, and the path the file is then read from).
    """
    for folder in cfg.system_dir_list():
        candidates = system_copy_paths(folder, name)
        if not candidates:
            tried.append(f"system dir {folder}: no {name}.gz there")
        for path in candidates:
            problem, readable = take(path)
            if problem is None:
                return FileRecord(name, readable, "system", str(path))
            tried.append(f"system copy {path}: {problem}")
    return None


def _data_dir_copy(name: str, cfg: FetchConfig) -> tuple[Path | None, str, bool]:
    """Return (the verified copy in the data dir or None, why there is none, whether anything is there).

    The decompressed file ``raw/name`` first, then a ``raw/name.gz`` placed there by hand.
    """
    checksum, raw = cfg.checksums[name], cfg.raw()
    problems, present = [], False
    for path in (raw / name, raw / f"{name}.gz"):
        if (problem := verify_file(path, checksum)) is None:
            return path, "", True
        if path.exists() or path.is_symlink():
            present = True
            problems.append(problem if path.name == name else f"{path.name}: {problem}")
    return None, "; ".join(problems) or "not present", present


def file_status(name: str, config: FetchConfig | None = None) -> FileStatus:
    """Return where a load finds file ``name`` without a network (see ``FileStatus``); writes nothing."""
    cfg = config or FetchConfig()
    path, problem, present = _data_dir_copy(name, cfg)
    if path is not None:
        return FileStatus(name, path, "data dir", True, "")
    system = verified_system_copy(cfg, name)
    return FileStatus(name, system or cfg.raw() / name, "system" if system else "", present, problem)


def _read_in_place(name: str, cfg: FetchConfig, unwritable: str) -> FileRecord:
    """Return a verified copy of ``name`` that can be read where it is, for a data dir that cannot be written.

    It looks where ``file_status`` looks, in the same order: the data dir (the file, a placed .gz), system copies.
    """
    path, problem, _ = _data_dir_copy(name, cfg)
    if path is not None:
        return FileRecord(name, path, "data dir", str(path))
    tried = [f"data dir {cfg.raw()}: {problem}"]
    checksum = cfg.checksums[name]
    if (record := _from_system_copies(name, cfg, tried, lambda path: (verify_file(path, checksum), path))):
        return record
    tried.append("mirrors: not tried, there is nowhere to save a download")
    raise FashionMNISTUnavailable(name, tried, cfg.raw(), unwritable)


def ensure_file(name: str, config: FetchConfig | None = None, *,
                skip_mirrors: set[str] | None = None) -> FileRecord:
    """Return where a verified copy of one file can be read, fetching it from the first source that has one.

    A verified decompressed copy in the data dir is read as it is: no lock, no temporary file, so a read-only data
    dir shared by a class works. ``skip_mirrors`` collects the mirrors that stalled or trickled, so that later
    files of the same run skip them. Raises ``FashionMNISTUnavailable`` (``DataDirWriteError`` when the data dir
    cannot take the file, ``DataDirBusy`` when another process holds the file's lock and makes no progress).
    """
    cfg = config or FetchConfig()
    raw = cfg.raw()
    if verify_file(raw / name, cfg.checksums[name]) is None:  # every load after the first: read as it is
        return FileRecord(name, raw / name, "data dir", str(raw / name))
    if unwritable := writable_problem(raw):
        return _read_in_place(name, cfg, unwritable)
    try:
        make_folder(raw)
        with file_lock(raw.parent / ".locks", name, raw, cfg.limits.longest_silence()) as say:
            remove_leftovers(raw, name)
            return _fetch_into_data_dir(name, cfg, set() if skip_mirrors is None else skip_mirrors, say)
    except LockHolderStalled as e:
        raise DataDirBusy(name, raw, str(e)) from None
    except OSError as e:  # transfer.WriteFailed, or a folder or lock file that cannot be made (full, not ours)
        with contextlib.suppress(OSError):
            (raw / f"{name}.gz.part").unlink(missing_ok=True)  # it cannot be finished here
        raise _write_error(name, cfg, e) from None


def _fetch_into_data_dir(name: str, cfg: FetchConfig, skip_mirrors: set[str],
                         say: Callable[[str], None]) -> FileRecord:
    """The sources in order, with the lock held: the data dir, a placed .gz, system copies, mirrors.

    ``say(doing)`` tells the processes that wait for the lock what this one is doing.
    """
    checksum, raw = cfg.checksums[name], cfg.raw()
    target = raw / name
    tried: list[str] = []

    # 1. the data directory: the decompressed file, else a .gz placed there by hand
    say(f"checking {target}")
    problem = verify_file(target, checksum)
    if problem is None:
        return FileRecord(name, target, "data dir", str(target))
    if target.exists() or target.is_symlink():
        problem = move_aside(target, problem)
    tried.append(f"data dir {target}: {problem}")
    placed = raw / f"{name}.gz"
    if placed.is_file():
        say(f"decompressing {placed}")
        if (problem := install_verified(placed, target, checksum)) is None:
            return FileRecord(name, target, "data dir", str(placed))
        tried.append(f"data dir {placed}: {move_aside(placed, problem)}")
    # 2. system dataset directories
    def install(path: Path) -> tuple[str | None, Path]:
        say(f"copying {path}")
        return install_verified(path, target, checksum), target
    if (record := _from_system_copies(name, cfg, tried, install)):
        return record
    # 3. mirrors
    mirrors = cfg.mirror_list()
    for base in mirrors:
        url = base.rstrip("/") + f"/{name}.gz"
        if base in skip_mirrors:
            tried.append(f"mirror {url}: skipped, it stalled or was too slow earlier in this run")
            continue
        say(f"downloading {url}")
        problem, slow = _download_and_install(url, raw / f"{name}.gz.part", target, cfg)
        if problem is None:
            return FileRecord(name, target, "mirror", url)
        if slow:
            skip_mirrors.add(base)
        tried.append(f"mirror {url}: {problem}")
    if not mirrors:
        tried.append("mirrors: none configured")
    raise FashionMNISTUnavailable(name, tried, raw)


def _download_and_install(url: str, part: Path, target: Path, cfg: FetchConfig) -> tuple[str | None, bool]:
    """Download url into part and install it as target if it verifies; return (the problem or None, slow mirror?)."""
    checksum = cfg.checksums[target.name]
    try:
        transfer.download(url, part, max_download_bytes(checksum), cfg.limits, progress=cfg.progress,
                          accept=lambda p: install_verified(p, target, checksum))
    except transfer.TransferFailed as e:
        return e.reason, e.slow
    part.unlink(missing_ok=True)
    return None, False


def ensure_fashion_mnist(config: FetchConfig | None = None,
                         names: Sequence[str] | None = None) -> dict[str, FileRecord]:
    """Return {file name: FileRecord} for the files (default: all four), fetching any that are missing."""
    cfg = config or FetchConfig()
    slow: set[str] = set()  # mirrors that stalled for one file are skipped for the others
    return {name: ensure_file(name, cfg, skip_mirrors=slow) for name in (names or list(cfg.checksums))}


def fashion_mnist_root(config: FetchConfig | None = None) -> Path:
    """Ensure the files are in the data dir and return the root for torchvision.datasets.FashionMNIST(root)."""
    cfg = config or FetchConfig()
    raw = cfg.raw()
    for record in ensure_fashion_mnist(cfg).values():
        if record.path != raw / record.name:
            raise FashionMNISTUnavailable(
                record.name, [f"{record.source} copy {record.path}: readable, but torchvision needs it in {raw}"],
                raw, writable_problem(raw) or "not writable")
    return cfg.data_root()


def inspect_data_dir(config: FetchConfig | None = None) -> list[FileStatus]:
    """Return the ``file_status`` of each of the four files, without writing anything."""
    cfg = config or FetchConfig()
    return [file_status(name, cfg) for name in cfg.checksums]


def judge(statuses: Sequence[FileStatus], unwritable: str | None) -> tuple[bool, str]:
    """Return (can load without a network, what to tell the user) for the files' statuses.

    ``unwritable`` is ``writable_problem``'s answer for the data dir: it decides whether the first load copies a
    file in or reads it where it is.
    """
    if not all(s.available for s in statuses):
        return False, "not ready; run `python -m d2lnotes data download`"
    kinds = [kind for kind, todo in ((".gz placed by hand", [s for s in statuses if s.placed]),
                                     ("system copy", [s for s in statuses if s.source == "system"])) if todo]
    if not kinds:
        return True, "ready"
    how = "reads it in place" if unwritable else \
        "copies it into the data dir" if kinds == ["system copy"] else "decompresses it into the data dir"
    return True, f"ready ({' and '.join(kinds)}; the first load {how})"


def readiness(config: FetchConfig | None = None) -> tuple[bool, str]:
    """Return (can load without a network, what to tell the user), judged without writing anything.

    Ready when every file has a verified copy in the data dir (decompressed, or a .gz placed there by hand) or in a
    system folder: the first load decompresses or copies it in, or reads it in place when the data dir cannot be
    written.
    """
    cfg = config or FetchConfig()
    return judge(inspect_data_dir(cfg), writable_problem(cfg.raw()))


# --- the contents: IDX decoding, tensors, class names ------------------------------------------------------------

def decode_idx(buf: bytes | bytearray, source: str = "<bytes>") -> torch.Tensor:
    """Return the array stored in IDX bytes (magic, dimensions, big-endian payload) as a tensor."""
    import numpy as np
    import torch

    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0 or buf[2] not in _IDX_TYPES:
        raise ValueError(f"{source} is not an IDX file: it starts with {bytes(buf[:4])!r}, expected 00 00 "
                         "<type> <ndim>. Check it with `python -m d2lnotes data info`.")
    dtype, ndim = np.dtype(_IDX_TYPES[buf[2]]), buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise ValueError(f"{source}: IDX header is cut short ({len(buf)} bytes, {ndim} dimensions declared)")
    dims = [int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + math.prod(dims) * dtype.itemsize
    if len(buf) != expected:
        raise ValueError(f"{source}: IDX dimensions {dims} need {expected:,} bytes, the file has {len(buf):,}")
    array = np.frombuffer(buf, dtype=dtype, offset=header).reshape(dims)
    return torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=not isinstance(buf, bytearray)))


def read_idx(path: Path | str) -> torch.Tensor:
    """Return the array in an IDX file, decompressed or .gz (detected by its first bytes)."""
    path = Path(path)
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b":
            f.seek(0)
            buf = bytearray(gzip.GzipFile(fileobj=f).read())
        else:
            f.seek(0)
            buf = bytearray(path.stat().st_size)
            f.readinto(buf)
    return decode_idx(buf, str(path))


def _resize_to_float(images: torch.Tensor, resize: int | Sequence[int]) -> torch.Tensor:
    """Return uint8 images [N, C, H, W] resized like transforms.Resize on PIL images, then scaled to [0, 1]."""
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize as tv_resize

    size = [resize] if isinstance(resize, int) else list(resize)
    first = tv_resize(images[:1], size, InterpolationMode.BILINEAR, antialias=True)
    out = torch.empty((len(images), *first.shape[1:]), dtype=torch.float32)
    for start in range(0, len(images), 10_000):  # resized in chunks, in uint8 as PIL does: bounded peak memory
        chunk = images[start:start + 10_000]
        out[start:start + len(chunk)] = tv_resize(chunk, size, InterpolationMode.BILINEAR, antialias=True)
    return out.div_(255)


def load_fashion_mnist_tensors(train: bool = True, resize: int | Sequence[int] | None = None, *,
                               config: FetchConfig | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (X float32 [N, 1, H, W] in [0, 1], y int64 [N]) for the training or the test set."""
    import torch

    prefix = "train" if train else "t10k"
    names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
    records = ensure_fashion_mnist(config, names)
    images, labels = (read_idx(records[n].path) for n in names)
    if images.dim() != 3 or labels.dim() != 1 or len(images) != len(labels):
        raise ValueError(f"{names[0]} holds {list(images.shape)} and {names[1]} holds {list(labels.shape)}: "
                         "expected [N, H, W] images and N labels")
    images = images.unsqueeze(1)
    X = images.to(torch.float32).div_(255) if resize is None else _resize_to_float(images, resize)
    return X, labels.to(torch.int64)


def get_fashion_mnist_labels(labels) -> list[str]:  # noqa: ANN001 - any iterable of ints or a tensor
    """Return the text label ('t-shirt', 'trouser', ...) of each numeric label."""
    return [TEXT_LABELS[int(i)] for i in labels]
