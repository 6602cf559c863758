"""The package as a library: its layout (one core, faces beside it), a cheap import, a doctor that survives a broken
stack, and a wheel that installs and runs outside the repository."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "d2lnotes"
FACES = ("d2lnotes.d2l017", "d2lnotes.d2l1", "d2lnotes.d2lzh", "d2lnotes.hub")  # the look-alikes of the books' APIs


def imported_modules(path: Path) -> set[str]:
    """Return every module an ``import`` statement in the file names, at any depth (inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def module_name(path: Path) -> str:
    """Return the dotted name of a file of the package."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_the_core_never_imports_a_face() -> None:
    core = [p for p in PACKAGE.rglob("*.py") if not module_name(p).startswith(FACES) and p.name != "__init__.py"]
    assert len(core) >= 8, core
    leaks = {module_name(p): sorted(m for m in imported_modules(p) if m.startswith(FACES)) for p in core}
    assert not {k: v for k, v in leaks.items() if v}, leaks


def test_the_faces_build_on_the_core() -> None:
    for face in FACES:
        files = list((PACKAGE / face.split(".")[1]).rglob("*.py")) or [PACKAGE / f"{face.split('.')[1]}.py"]
        used = set().union(*(imported_modules(p) for p in files))
        core = {m for m in used if m.startswith("d2lnotes.") and not m.startswith(FACES)}
        assert core & {"d2lnotes.train", "d2lnotes.data", "d2lnotes.downloads"}, (face, sorted(used))


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in a fresh process from outside the repository, with ``env`` added."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=ROOT.parent, env={**os.environ, "PYTHONPATH": str(ROOT), **env})


@pytest.mark.slow  # starts a Python process
def test_import_d2lnotes_loads_neither_torch_nor_matplotlib() -> None:
    proc = run_python("import sys, d2lnotes as d2l\n"
                      "d2l.data_dir(), d2l.fashion_mnist.inspect_data_dir\n"  # names of light modules load alone
                      "print('torch' in sys.modules, 'matplotlib' in sys.modules, d2l.__version__)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("False False 0."), proc.stdout


BROKEN_TORCH = "raise ImportError('this torch build is broken (a test stand-in)')\n"


@pytest.mark.slow  # starts a Python process
def test_doctor_reports_a_broken_torch_as_a_finding_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(BROKEN_TORCH)
    proc = subprocess.run([sys.executable, "-m", "d2lnotes", "doctor"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
                                             "D2LNOTES_DATA": str(tmp_path / "data"), "D2LNOTES_SYSTEM_DATA": ""})
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert "import torch fails: ImportError: this torch build is broken (a test stand-in)" in out
    assert "-m pip install -U torch torchvision" in proc.stdout
    assert "device         unknown: torch does not import" in proc.stdout


@pytest.mark.slow  # starts a Python process
def test_doctor_reports_an_invalid_mplbackend_with_its_fix(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "d2lnotes", "doctor"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "nonexistent_backend",
                                             "D2LNOTES_DATA": str(tmp_path / "data"), "D2LNOTES_SYSTEM_DATA": ""})
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "plots: matplotlib cannot create a figure:" in out and "fix: unset MPLBACKEND" in out
    assert "matplotlib: import matplotlib fails" not in out  # the package is fine; the setting is not
    assert " 2 problems found: 1. plots: matplotlib cannot create a figure: ValueError:" in out
    assert "'nonexistent_backend' is not a valid value for backend" in out
    assert f"2. fashion-mnist: none of the 4 files is in {tmp_path / 'data' / 'FashionMNIST' / 'raw'}" in out
    assert not (tmp_path / "data").exists()  # the doctor writes nothing


@pytest.mark.slow  # builds a wheel and a venv
def test_the_wheel_installs_in_a_clean_venv_and_its_doctor_reports_the_missing_stack(tmp_path: Path) -> None:
    source, wheels = tmp_path / "source", tmp_path / "wheels"  # built from a copy: the checkout stays clean
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "d2lnotes", ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(wheels), str(source)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = wheels.glob("d2lnotes-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)  # no torch, no matplotlib: the stack the doctor exists to diagnose
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    light = ["platformdirs", "filelock", "tqdm", "packaging"]  # d2lnotes' own light dependencies, from the index
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel), *light],
                             capture_output=True, text=True, timeout=600, cwd=tmp_path)
    if install.returncode and "No matching distribution" in install.stderr + install.stdout:
        pytest.skip("the package index cannot be reached from here")
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(D2LNOTES_DATA=str(tmp_path / "data"), D2LNOTES_SYSTEM_DATA="")
    where = subprocess.run([str(python), "-c", "import d2lnotes, pathlib; print(pathlib.Path(d2lnotes.__file__))"],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert where.returncode == 0 and Path(where.stdout.strip()).is_relative_to(env_dir), where.stdout + where.stderr
    installed = Path(where.stdout.strip()).parent
    assert (installed / "py.typed").is_file() and (installed / "d2l1" / "modules.py").is_file()
    doctor = subprocess.run([str(python), "-m", "d2lnotes", "doctor"], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env=env)
    out = " ".join(doctor.stdout.split())
    assert doctor.returncode == 1 and "Traceback" not in doctor.stdout + doctor.stderr, doctor.stdout + doctor.stderr
    for name in ("torch", "torchvision", "matplotlib", "numpy"):
        assert f"{name}: {name} is not installed in this Python fix: {python} -m pip install -U '{name}>=" in out, out
    assert "device unknown: torch does not import" in out and "plots unknown: matplotlib does not import" in out
    assert "fashion-mnist: none of the 4 files" in out and " 5 problems found" in out
