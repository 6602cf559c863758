"""The package as a library: its layout (one core, faces beside it), a cheap import, a doctor that survives a broken
stack, and a wheel that installs and runs outside the repository."""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "d2lnotes"
#: The faces, each a complete namespace for its book, and d2l's data hub, which both d2l faces re-export: the
#: book-specific modules, which the core never imports nor calls.
FACES = ("d2lnotes.d2l017", "d2lnotes.d2l1", "d2lnotes.d2lzh", "d2lnotes.hub")
#: Each face and the section of reference/compatibility.md that lists its book's names.
BOOKS = {"d2lnotes.d2l017": "## d2l 0.17", "d2lnotes.d2l1": "## d2l 1.0", "d2lnotes.d2lzh": "## Dive-into-DL-PyTorch"}


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


def book_names(section: str) -> dict[str, str]:
    """Return {name: dotted path of its definition} for every name a section of the compatibility page links."""
    text = (ROOT / "reference" / "compatibility.md").read_text()
    body = text.split(section, 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"\{py:\w+\}`d2l\.(\w+) <([\w.]+)>`", body))


@pytest.mark.parametrize("face", list(BOOKS))
def test_each_face_is_the_complete_namespace_of_its_book(face: str) -> None:
    module = importlib.import_module(face)
    names = book_names(BOOKS[face])
    assert len(names) >= 13, names
    for name, target in names.items():
        where, _, attr = target.rpartition(".")
        assert getattr(module, name) is getattr(importlib.import_module(where), attr), (face, name, target)
        assert name in module.__all__, (face, name)


def test_the_d2l_namespace_is_both_d2l_faces() -> None:
    import d2lnotes
    import d2lnotes.d2l017
    import d2lnotes.d2l1

    for face in (d2lnotes.d2l017, d2lnotes.d2l1):
        for name in face.__all__:
            if hasattr(d2lnotes, name) or name in d2lnotes.__all__:
                assert getattr(d2lnotes, name) is getattr(face, name), (face.__name__, name)
    missing = [n for n in (*d2lnotes.d2l017.__all__, *d2lnotes.d2l1.__all__) if n not in d2lnotes.__all__
               and n not in ("Updater", "FitHistory", "plt")]
    assert not missing, missing


def face_calls_from_the_core(train) -> list[str]:
    """Run ``train()`` under a profiler; return every call a core module of d2lnotes makes into a face."""
    calls: list[str] = []

    def module_of(frame) -> str:
        return frame.f_globals.get("__name__", "")

    def profile(frame, event, arg) -> None:
        if event != "call" or not module_of(frame).startswith(FACES):
            return
        caller = frame.f_back  # through torch's own dispatch (Module.__call__, ...) to the code that called it
        while caller is not None and module_of(caller).startswith(("torch", "functools", "contextlib")):
            caller = caller.f_back
        name = module_of(caller) if caller is not None else ""
        if name.startswith("d2lnotes.") and not name.startswith(FACES):
            calls.append(f"{name} -> {module_of(frame)}.{frame.f_code.co_name}")

    sys.setprofile(profile)
    try:
        train()
    finally:
        sys.setprofile(None)
    return calls


def test_no_core_module_calls_a_face_during_an_epoch_of_any_books_loop(capsys) -> None:
    import torch
    from torch import nn

    import d2lnotes as d2l
    import d2lnotes.d2lzh as d2lzh

    X, y = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 3
    data = [(X[i:i + 8], y[i:i + 8]) for i in range(0, 64, 8)]  # 8 train and 8 test batches
    loss = nn.CrossEntropyLoss(reduction="none")
    net = nn.Sequential(nn.Linear(4, 3))
    W, b = torch.zeros(4, 3, requires_grad=True), torch.zeros(3, requires_grad=True)

    class Data(d2l.DataModule):
        def __init__(self):
            super().__init__()
            self.batch_size = 8

        def get_dataloader(self, train):
            return self.get_tensorloader((X, y), train)

    runs = {
        "train_ch3, torch optimizer": lambda: d2l.train_ch3(net, data, data, loss, 1,
                                                            torch.optim.SGD(net.parameters(), lr=0.1),
                                                            animate=False, grad_clip=1.0),
        "train_ch3, book updater": lambda: d2l.train_ch3(lambda X: X @ W + b, data, data, loss, 1,
                                                         lambda n: d2l.sgd([W, b], 0.1, n), animate=False),
        "d2lzh.train_ch3": lambda: d2lzh.train_ch3(net, data, data, loss, 1, 8, list(net.parameters()), 0.1),
        "Trainer.fit": lambda: d2l.Trainer(max_epochs=1, gradient_clip_val=1.0).fit(
            d2l.SoftmaxRegression(num_outputs=3, lr=0.1), Data()),
    }
    for name, run in runs.items():
        assert face_calls_from_the_core(run) == [], name


def test_the_profiler_sees_a_core_call_into_a_face() -> None:
    """The check above can fail: a core helper handed a face's function reports that call."""
    import d2lnotes.d2lzh as d2lzh

    calls = face_calls_from_the_core(lambda: d2lnotes_evaluate(d2lzh.FlattenLayer()))
    assert calls and all(c.startswith("d2lnotes.train -> d2lnotes.d2lzh") for c in calls), calls


def d2lnotes_evaluate(net) -> float:
    """Evaluate a face's module with the core's evaluate_accuracy: the core then calls into the face."""
    import torch

    from d2lnotes.train import evaluate_accuracy

    return evaluate_accuracy(net, [(torch.eye(3), torch.arange(3))])


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
