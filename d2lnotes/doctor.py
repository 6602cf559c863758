"""Environment diagnosis for ``python -m d2lnotes doctor``: versions, device, plots, data.

Each check returns :class:`~d2lnotes.doctor.Finding` objects and prints nothing; the ``describe_*`` functions turn
facts passed in into findings (pure, testable without a GPU or a display), the ``check_*`` functions gather the
facts of this machine first. :func:`~d2lnotes.doctor.report` renders findings as text and
:func:`~d2lnotes.doctor.main`, the only function that prints, returns the exit status: 0 when nothing is broken, 1
when a finding has a problem (each one comes with its fix, the command to type). The doctor writes nothing: the data
directory is inspected read-only.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from d2lnotes.datafiles import data_dir_command, writable_problem
from d2lnotes.fashion_mnist import FetchConfig, FileStatus, inspect_data_dir, judge, raw_dir

__all__ = [
    "Finding",
    "PACKAGES",
    "version_floors",
    "installed_versions",
    "import_errors",
    "describe_packages",
    "check_packages",
    "describe_device",
    "check_device",
    "describe_plots",
    "check_plots",
    "describe_data",
    "check_data",
    "diagnose",
    "exit_status",
    "report",
    "main",
]

#: The packages the course needs, by distribution name (the import name is the same).
PACKAGES: tuple[str, ...] = ("torch", "torchvision", "matplotlib", "numpy")
_DOWNLOAD = "python -m d2lnotes data download"


@dataclass(frozen=True)
class Finding:
    """One checked item: what was found and, when something is broken, the problem and the command that fixes it."""

    check: str        # what was checked: "torch", "device", "plots", "data dir", ...
    found: str        # what is there, in words
    problem: str = ""  # what is broken; "" when nothing is
    fix: str = ""      # the command(s) to type to fix it

    @property
    def ok(self) -> bool:
        """True when nothing is broken."""
        return not self.problem


def _command(*args: str) -> str:
    """Return args as one command line for this system's shell."""
    return subprocess.list2cmdline(args) if os.name == "nt" else shlex.join(args)


def _pip_install(*requirements: str) -> str:
    """Return the pip command that installs requirements into the Python running this code."""
    return _command(sys.executable or "python", "-m", "pip", "install", "-U", *requirements)


def _older(version: str, floor: str) -> bool:
    """Return True when version's release is below floor's ("2.14.1+cu130" is not below "2.1")."""
    try:
        return Version(Version(version).base_version) < Version(floor)
    except InvalidVersion:
        return False  # a version nobody can read is not reported as too old


def version_floors() -> dict[str, str]:
    """Return {"python" or distribution: minimum version}, read from d2lnotes' installed metadata (empty if none)."""
    try:
        requires = importlib.metadata.requires("d2lnotes") or []
        python = importlib.metadata.metadata("d2lnotes").get("Requires-Python") or ""
    except importlib.metadata.PackageNotFoundError:
        return {}
    floors = {}
    for name, spec in [("python", SpecifierSet(python)),
                       *((r.name.lower(), r.specifier) for r in map(Requirement, requires) if not r.marker)]:
        lows = [s.version for s in spec if s.operator == ">="]
        if lows:
            floors[name] = max(lows, key=Version)
    return floors


def installed_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Return {distribution: installed version, or None when it is not installed}."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def import_errors(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Import each module and return {name: "ErrorType: message"} for those that fail (e.g. mismatched builds)."""
    errors = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - any failure to import is what we report
            errors[name] = f"{type(e).__name__}: {e}"
    return errors


def describe_packages(python: str, versions: Mapping[str, str | None], floors: Mapping[str, str],
                      errors: Mapping[str, str] | None = None) -> list[Finding]:
    """Return one finding for Python and one per package: version, and a problem if missing, too old or broken."""
    errors = errors or {}
    findings = [Finding("python", f"{python} ({sys.executable})")]
    if "python" in floors and _older(python, floors["python"]):
        findings[0] = Finding("python", findings[0].found, f"Python {python} is older than {floors['python']}, "
                              "the oldest the course supports",
                              f"install Python {floors['python']} or newer, create a new venv with it, then "
                              + _command("python", "-m", "pip", "install", "-r", "requirements.txt"))
    for name, version in versions.items():
        floor = floors.get(name)
        wanted = f"{name}>={floor}" if floor else name
        if version is None:
            findings.append(Finding(name, "not installed", f"{name} is not installed in this Python",
                                    _pip_install(wanted)))
        elif floor and _older(version, floor):
            findings.append(Finding(name, version, f"{name} {version} is older than {floor}", _pip_install(wanted)))
        elif name in errors:
            pair = ["torch", "torchvision"]  # built for each other: reinstall both together
            findings.append(Finding(name, f"{version}, but it fails to import",
                                    f"import {name} fails: {errors[name]}",
                                    _pip_install(*(pair if name in pair else [name]))))
        else:
            findings.append(Finding(name, version))
    return findings


def check_packages() -> list[Finding]:
    """Return the findings for Python, the course's packages, d2lnotes itself and the old d2l package."""
    errors = import_errors()
    if "backend" in errors.get("matplotlib", "") and os.environ.get("MPLBACKEND", "").strip():
        del errors["matplotlib"]  # matplotlib is fine; $MPLBACKEND is not, and the plots finding says so
    versions = installed_versions()
    for name, version in versions.items():  # the module's own version carries the build: 2.14.1+cu130
        module = sys.modules.get(name)
        own = getattr(module, "__version__", None) if name not in errors else None
        if version and isinstance(own, str) and not _older(own, version) and not _older(version, own.split("+")[0]):
            versions[name] = own
    floors = version_floors()
    findings = describe_packages(platform.python_version(), versions, floors, errors)
    import d2lnotes

    how = f"from {Path(d2lnotes.__file__).parent}"
    if not floors:
        how += " (source tree, not installed with pip: the version floors were not checked)"
    findings.append(Finding("d2lnotes", f"{d2lnotes.__version__} {how}"))
    old = installed_versions(("d2l",))["d2l"]
    findings.append(Finding("d2l", "not installed (not needed: the chapters use `import d2lnotes as d2l`)"
                            if old is None else
                            f"{old} installed; the chapters do not use it (`import d2lnotes as d2l`), and its "
                            "`d2l.torch` may lack names they call"))
    return findings


def _threads(n: int) -> str:
    """Return "1 thread" or "N threads"."""
    return f"{n} thread{'' if n == 1 else 's'}"


def describe_device(gpu_names: Sequence[str], cuda_build: str | None, mps: bool, threads: int) -> Finding:
    """Return the device finding from what torch sees: CUDA GPU names, its CUDA build, Apple's MPS, CPU threads."""
    if gpu_names:
        listed = ", ".join(f"cuda:{i} {name}" for i, name in enumerate(gpu_names))
        return Finding("device", f"GPU: {listed}; d2l.try_gpu() returns cuda:0")
    if mps:
        return Finding("device", f"Apple GPU (mps) and CPU ({_threads(threads)}); d2l.try_gpu() returns the CPU, "
                       "pass device='mps' to train on the GPU")
    build = (f"torch is built for CUDA {cuda_build}, but no CUDA GPU is visible" if cuda_build
             else "this torch is a CPU-only build")
    return Finding("device", f"CPU only, {_threads(threads)} ({build}); every chapter runs on the CPU")


def check_device() -> Finding:
    """Return the device finding for this machine (never a problem: the course runs on a CPU)."""
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - the torch finding says what to do
        return Finding("device", f"unknown: torch does not import ({type(e).__name__}); see the torch line")

    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] \
        if torch.cuda.is_available() else []
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return describe_device(gpus, torch.version.cuda, mps, torch.get_num_threads())


def describe_plots(backend: str, mode: str, has_display: bool, requested: str = "") -> Finding:
    """Return the plots finding from the backend's name, ``plotting.display_mode`` of a figure, and $MPLBACKEND."""
    if mode == "notebook":
        found = "live plots show in this notebook (updated in place)"
    elif mode == "gui":
        found = ("live plots open in a window that train_ch3 redraws without blocking; end a script with "
                 "d2l.plt.show() to keep the last figure on screen")
    elif mode == "widget":
        found = "live plots show in an interactive widget"
    else:
        why = "no display (DISPLAY is not set)" if not has_display else "a non-interactive backend"
        found = (f"no live plots in scripts: {why}. Scripts finish: train_ch3 prints one line per epoch, "
                 "plot_path= saves the figure; Jupyter still shows figures inline")
        if has_display and backend.lower() == "agg" and not requested:  # auto-selected: no GUI toolkit found
            found += (". For windows, install a GUI toolkit: "
                      + ("sudo apt-get install python3-tk" if sys.platform.startswith("linux")
                         else _pip_install("PyQt6")))
    chosen = f" (from $MPLBACKEND={requested})" if requested else ""
    return Finding("plots", f"backend {backend.lower()}{chosen}: {found}")


def _has_display() -> bool:
    """Return False on Linux/BSD without an X or Wayland display; True elsewhere."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def check_plots() -> Finding:
    """Create (and close) one figure the way the first plot of a script would, and describe how it can be shown."""
    requested = os.environ.get("MPLBACKEND", "").strip()
    try:
        import matplotlib
    except ImportError as e:  # not installed or broken: the matplotlib finding says what to do
        return Finding("plots", f"unknown: matplotlib does not import ({type(e).__name__}); see the matplotlib line")
    except Exception:  # noqa: BLE001, S110 - e.g. an invalid $MPLBACKEND: reported below, where a figure is made
        pass
    try:
        import matplotlib
        import matplotlib.pyplot as plt

        from d2lnotes.plotting import display_mode

        fig = plt.figure()  # loads the backend as a script's first figure does; nothing is shown
        try:
            mode = display_mode(fig)
        finally:
            plt.close(fig)
    except Exception as e:  # noqa: BLE001 - whatever the backend raises is the problem to report
        if requested:
            fix = "set MPLBACKEND=" if os.name == "nt" else "unset MPLBACKEND"
            where = f"$MPLBACKEND={requested}"
        else:
            fix = (_command("python", "-c", "import matplotlib; print(matplotlib.matplotlib_fname())")
                   + "  (then fix or delete the `backend:` line in that file)")
            where = "the backend named in matplotlibrc"
        return Finding("plots", f"{where}: no figure can be created",
                       f"matplotlib cannot create a figure: {type(e).__name__}: {e}", fix)
    return describe_plots(matplotlib.get_backend(), mode, _has_display(), requested)


def describe_data(root: Path, origin: str, statuses: Sequence[FileStatus], unwritable: str | None,
                  mirrors: Sequence[str]) -> list[Finding]:
    """Return the findings for the data dir, whether it can be written, the four files and where they come from.

    ``origin`` says why ``root`` is the data dir; ``statuses`` come from ``inspect_data_dir`` and ``unwritable``
    is ``writable_problem``'s answer: together they give the verdict the loader and ``data info`` give
    (``fashion_mnist.judge``).
    """
    raw = raw_dir(root)
    ready, verdict = judge(statuses, unwritable)
    missing = [s for s in statuses if not s.verified]
    system = {s.name: s.path for s in missing if s.source == "system"}
    findings = [Finding("data dir", f"{root} ({origin})")]

    if unwritable is None:
        findings.append(Finding("writable", "yes"))
    elif ready:
        findings.append(Finding("writable", f"no ({unwritable}); fine while the files it reads stay verified"))
    else:
        findings.append(Finding("writable", f"no ({unwritable})",
                                f"cannot store Fashion-MNIST in {raw}: {unwritable}",
                                f"{data_dir_command(root)}  (any folder you can write; set it for every "
                                "session, e.g. in your shell profile)"))

    count = f"{len(statuses) - len(missing)} of {len(statuses)} files verified (size and md5)"
    if ready:
        findings.append(Finding("fashion-mnist", f"{verdict}: {count} in {raw}"))
        folders = ", ".join(sorted({str(p.parent) for p in system.values()}))
        findings.append(Finding("source", f"verified system copy in {folders}: loading needs no network" if system
                                else "the data dir: loading needs no network"))
        return findings
    fix = _DOWNLOAD if unwritable is None else f"{data_dir_command(root)}; {_DOWNLOAD}"
    if all(not s.present for s in statuses):
        problem = f"none of the {len(statuses)} files is in {raw}"
    else:
        problem = "; ".join(f"{s.name}: {s.problem}" for s in missing)
    findings.append(Finding("fashion-mnist", f"not ready: {count} in {raw}", problem, fix))

    from_mirror = [s.name for s in missing if s.name not in system]
    parts = []
    if system:
        folders = sorted({str(p.parent) for p in system.values()})
        how = "the download command copies it into the data dir" if unwritable is None else \
            "loading reads it in place (torchvision's FashionMNIST(root) cannot)"
        parts.append(f"{len(system)} of {len(missing)} missing files have a verified system copy in "
                     f"{', '.join(folders)}: {how}, no network needed")
    if from_mirror:
        parts.append(f"{len(from_mirror)} must be downloaded, from (in order): {', '.join(mirrors) or 'no mirror'}"
                     "; add a mirror with D2LNOTES_MIRROR=URL, or install the offline copy: "
                     "sudo apt-get install dataset-fashion-mnist")
    findings.append(Finding("source", "; ".join(parts)))
    return findings


def check_data(config: FetchConfig | None = None) -> list[Finding]:
    """Return the data findings for config's data dir (default: the real one), without writing anything."""
    cfg = config or FetchConfig()
    root = cfg.data_root()
    if cfg.root is not None:
        origin = "given"
    elif os.environ.get("D2LNOTES_DATA", "").strip():
        origin = "from $D2LNOTES_DATA"
        if not Path(os.environ["D2LNOTES_DATA"].strip()).expanduser().is_absolute():
            origin += ", a relative path: it changes with the current directory"
    else:
        origin = "per-user cache; set D2LNOTES_DATA to change it"
    return describe_data(root, origin, inspect_data_dir(cfg), writable_problem(raw_dir(root)), cfg.mirror_list())


def diagnose(config: FetchConfig | None = None) -> list[Finding]:
    """Return every finding: packages, device, plots, data (config: where the data is; default the real place).

    A check that fails in a way nobody foresaw becomes a finding too: the doctor never ends in a traceback.
    """
    checks = [("packages", check_packages), ("device", check_device), ("plots", check_plots),
              ("data", lambda: check_data(config))]
    findings: list[Finding] = []
    for name, check in checks:
        try:
            found = check()
        except Exception as e:  # noqa: BLE001 - reported, with the way to get help
            found = Finding(name, "the check itself failed", f"{type(e).__name__}: {e}",
                            f"{_pip_install('-r', 'requirements.txt')}  (reinstall the course's packages)")
        findings += found if isinstance(found, list) else [found]
    return findings


def exit_status(findings: Sequence[Finding]) -> int:
    """Return 1 when any finding has a problem, else 0."""
    return 1 if any(not f.ok for f in findings) else 0


def report(findings: Sequence[Finding]) -> str:
    """Return the findings as text: one line each, then the problems with their fixes (or that none was found)."""
    width = max(len(f.check) for f in findings) + 2
    lines = ["d2lnotes doctor", ""]
    for f in findings:
        text = f.found + ("" if f.ok else "   <- problem")
        lines += textwrap.wrap(text, 118, initial_indent=f"  {f.check:<{width}}", subsequent_indent=" " * (width + 4),
                               break_on_hyphens=False, break_long_words=False)
    problems = [f for f in findings if not f.ok]
    lines.append("")
    if not problems:
        lines.append("No problems found.")
        return "\n".join(lines)
    lines.append(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found:")
    for i, f in enumerate(problems, 1):
        lines += textwrap.wrap(f"{f.check}: {f.problem}", 118, initial_indent=f"  {i}. ",
                               subsequent_indent="     ", break_on_hyphens=False, break_long_words=False)
        lines.append(f"     fix: {f.fix}")  # never wrapped: it is copied and pasted
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m d2lnotes doctor``: print the diagnosis and return the exit status (1: something broken)."""
    parser = argparse.ArgumentParser(
        prog="python -m d2lnotes doctor",
        description="Check Python, the course's packages, the device, the plotting backend and Fashion-MNIST; "
                    "print each problem with the command that fixes it. Changes nothing. "
                    "Exit status 1 when something is broken.")
    parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    findings = diagnose()
    print(report(findings), flush=True)
    return exit_status(findings)


if __name__ == "__main__":
    sys.exit(main())
