"""tools/kernel_env.py: outputs are stored natively and checked under the baseline instruction set, with the same
backend, threads and seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.kernel_env import CHECK_ISA, KERNEL_ENV, check_isa, kernel_environ

ROOT = Path(__file__).resolve().parent.parent
SHELL = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "8", "ATEN_CPU_CAPABILITY": "avx512",
         "MKL_ENABLE_INSTRUCTIONS": "AVX512", "HOME": "/root"}


def test_storing_and_checking_agree_on_everything_but_the_instruction_set() -> None:
    stored, checked = kernel_environ(SHELL, check=False), kernel_environ(SHELL, check=True)
    assert {k: v for k, v in checked.items() if k not in CHECK_ISA} == stored
    assert "MPLBACKEND" not in stored and stored["OMP_NUM_THREADS"] == "1" and stored["PYTHONHASHSEED"] == "0"
    assert stored["PATH"] == SHELL["PATH"] and stored["HOME"] == SHELL["HOME"]


def test_storing_drops_an_instruction_set_the_shell_exported() -> None:
    stored = kernel_environ(SHELL, check=False)
    assert not set(CHECK_ISA) & set(stored), stored


def test_checking_holds_torch_to_its_portable_kernels() -> None:
    checked = kernel_environ(SHELL, check=True)
    assert checked["ATEN_CPU_CAPABILITY"] == "default"
    assert {k: checked[k] for k in check_isa()} == check_isa()


def test_this_test_run_has_the_checking_environment() -> None:
    for name, value in KERNEL_ENV.items():
        assert os.environ.get(name) == value, name
    for name, value in check_isa().items():
        assert os.environ[name] == value, name


@pytest.mark.slow  # starts a Python process
def test_the_script_runs_a_command_with_the_native_profile() -> None:
    show = "import json, os; print(json.dumps({k: os.environ.get(k) for k in os.environ}))"
    proc = subprocess.run([sys.executable, "tools/kernel_env.py", sys.executable, "-c", show], cwd=ROOT,
                          env={**os.environ, **SHELL}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert "ATEN_CPU_CAPABILITY" not in seen and "MPLBACKEND" not in seen and seen["OMP_NUM_THREADS"] == "1"


@pytest.mark.slow  # starts a Jupyter kernel
def test_chapter_kernels_run_on_the_baseline_instruction_set(run_notebook, tmp_path) -> None:
    nb = run_notebook(["import torch; print(torch.backends.cpu.get_cpu_capability())"], tmp_path)
    assert nb.cells[0].outputs[0]["text"].strip() == "DEFAULT"


def test_execute_chapter_stores_through_kernel_env() -> None:
    script = (ROOT / "tools" / "execute-chapter").read_text()
    assert 'tools/kernel_env.py "$BIN/jupyter" nbconvert' in script
    assert "OMP_NUM_THREADS" not in script and "MPLBACKEND" not in script  # written in one place only
