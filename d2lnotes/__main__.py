"""Command line: ``python -m d2lnotes data download|info|export ROOT`` and ``python -m d2lnotes doctor``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from d2lnotes.datafiles import system_copy_paths, writable_problem
from d2lnotes.fashion_mnist import (DataDirWriteError, FashionMNISTUnavailable, FetchConfig, ensure_fashion_mnist,
                                    inspect_data_dir, judge)


def download(config: FetchConfig | None = None) -> int:
    """Ensure the four Fashion-MNIST files, print where each is and which source served it; return the exit code."""
    cfg = config or FetchConfig()
    try:
        records = ensure_fashion_mnist(cfg)
    except FashionMNISTUnavailable as e:
        print(e, file=sys.stderr)
        return 1
    root, raw = cfg.data_root(), cfg.raw()
    print(f"Fashion-MNIST is ready in {raw}")
    for r in records.values():
        where = "" if r.path == raw / r.name else f" (read in place: {r.path})"
        print(f"  {r.name:<25} verified, from {r.source}: {r.origin}{where}")
    if all(r.path == raw / r.name for r in records.values()):
        print(f"torchvision: torchvision.datasets.FashionMNIST(root={str(root)!r}, download=False)")
    return 0


def info(config: FetchConfig | None = None) -> int:
    """Print the data dir, each file's state, system copies and mirrors; return 0 when loading needs no network."""
    cfg = config or FetchConfig()
    root = cfg.data_root()
    why = "$D2LNOTES_DATA" if os.environ.get("D2LNOTES_DATA", "").strip() else \
        "per-user cache; set D2LNOTES_DATA to change"
    print(f"data dir: {root}  ({why})" if cfg.root is None else f"data dir: {root}")
    print(f"files in {cfg.raw()}:")
    statuses = inspect_data_dir(cfg)
    for s in statuses:
        state = s.problem + (f"; verified system copy: {s.path}" if s.source == "system" else "")
        if s.verified:
            state = "verified (size and md5 OK)" + (f", as {s.path.name} placed by hand" if s.placed else "")
        print(f"  {s.name:<25} {state}")
    for folder in cfg.system_dir_list():
        found = [n for n in cfg.checksums if system_copy_paths(folder, n)]
        print(f"system dir {folder}: {len(found)} of {len(cfg.checksums)} files")
    print("mirrors, in order: " + ", ".join(cfg.mirror_list()))
    ready, status = judge(statuses, writable_problem(cfg.raw()))
    print(f"status: {status}")
    return 0 if ready else 1


def export(root: str | os.PathLike, config: FetchConfig | None = None) -> int:
    """Put verified, decompressed copies of the four files in ``root/FashionMNIST/raw``, where torchvision looks.

    Afterwards ``torchvision.datasets.FashionMNIST(root, download=True)`` finds them and downloads nothing.
    The files come from the data dir (fetched there first if needed). Returns the exit code.
    """
    cfg = config or FetchConfig()
    target = Path(root).expanduser().absolute()
    exported = FetchConfig(root=target, system_dirs=(cfg.raw(), *cfg.system_dir_list()), mirrors=(),
                           checksums=cfg.checksums, progress=cfg.progress)
    try:
        ensure_fashion_mnist(cfg)  # the data dir first: the one place downloads go
        records = ensure_fashion_mnist(exported)
    except DataDirWriteError as e:
        if e.folder != exported.raw():
            print(e, file=sys.stderr)
            return 1
        needed = sum(c.size for c in cfg.checksums.values())
        free = "" if e.free is None else f"; {e.free / 1e6:,.1f} MB are free there"
        print(f"Cannot export Fashion-MNIST file '{e.name}' into {e.folder}: {e.error}.\n"
              f"The four files need about {needed / 1e6:,.0f} MB there{free}. No partial file was kept.\n"
              "Fix: free some space there, or export into another folder: python -m d2lnotes data export FOLDER",
              file=sys.stderr)
        return 1
    except FashionMNISTUnavailable as e:
        print(e, file=sys.stderr)
        return 1
    if any(r.path.parent != exported.raw() for r in records.values()):
        print(f"cannot write into {exported.raw()}: choose a folder you can write", file=sys.stderr)
        return 1
    print(f"Fashion-MNIST is ready for torchvision in {exported.raw()}")
    print(f"torchvision: torchvision.datasets.FashionMNIST(root={str(target)!r}, download=True) downloads nothing")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with argv (default: sys.argv[1:]) and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)

    # ---- doctor: implemented in d2lnotes/doctor.py (another module's owner); imported only when asked for ----
    if argv[:1] == ["doctor"]:
        from d2lnotes.doctor import main as doctor_main
        return doctor_main(argv[1:])
    # ---- end doctor ----

    parser = argparse.ArgumentParser(prog="python -m d2lnotes", description="d2lnotes helpers")
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="Fashion-MNIST files: fetch them, or show where they are")
    actions = data.add_subparsers(dest="action", required=True)
    actions.add_parser("download", help="find or download the four files and verify them (run before going offline)")
    actions.add_parser("info", help="show the data dir, each file's state, and the sources (changes nothing)")
    to = actions.add_parser("export", help="copy the verified files to ROOT/FashionMNIST/raw for torchvision's "
                                           "FashionMNIST(root=ROOT), e.g. ../data or ~/Datasets/FashionMNIST")
    to.add_argument("root", help="the root= that the book's code passes to torchvision.datasets.FashionMNIST")
    commands.add_parser("doctor", help="diagnose the environment")
    args = parser.parse_args(argv)
    try:
        if args.action == "export":
            return export(args.root)
        return download() if args.action == "download" else info()
    except KeyboardInterrupt:  # Ctrl-C: what was fetched stays, nothing is half-written
        print("\nd2lnotes: interrupted. A partial download is kept and resumes next time.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
