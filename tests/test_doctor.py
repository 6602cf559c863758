"""Tests of d2lnotes.doctor: each check from given facts, the data checks on temp dirs, and the command itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import matplotlib
import pytest
import torch

from d2lnotes import doctor
from d2lnotes.doctor import (Finding, check_data, check_device, check_plots, describe_data,
                             describe_device, describe_packages, describe_plots, exit_status, report,
                             version_floors)
from d2lnotes.__main__ import info
from d2lnotes.data import load_data_fashion_mnist
from d2lnotes.fashion_mnist import FileStatus, ensure_fashion_mnist, raw_dir
from d2lnotes.datafiles import data_dir_command

REPO = Path(__file__).resolve().parents[1]
DOWNLOAD = "python -m d2lnotes data download"
CHECKS = ["python", "torch", "torchvision", "matplotlib", "numpy", "d2lnotes", "d2l", "device", "plots", "data dir",
          "writable", "fashion-mnist", "source"]


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def write_raw(root: Path, tiny) -> Path:
    """Put the tiny decompressed files into root's FashionMNIST/raw and return that folder."""
    raw = raw_dir(root)
    raw.mkdir(parents=True)
    for name, data in tiny.raw.items():
        (raw / name).write_bytes(data)
    return raw


def flat(text: str) -> str:
    """Return text with every run of whitespace made one space (undoes the report's line wrapping)."""
    return re.sub(r"\s+", " ", text)


def listed_checks(out: str) -> list[str]:
    """Return the check names of a report, in order (continuation lines of wrapped text skipped)."""
    lines = out.splitlines()
    body = lines[2:lines.index("", 2)]
    return [re.split(r"\s{2,}", line.strip())[0] for line in body if re.match(r"  \S", line)]


def run_doctor(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "TQDM_DISABLE": "1", **env_overrides}
    return subprocess.run([sys.executable, "-m", "d2lnotes", "doctor"], env=env, capture_output=True, text=True,
                          timeout=300, cwd=REPO)


# ---- data ----

def test_empty_data_dir_is_a_problem_whose_fix_is_the_download_command(data_root, make_config):
    findings = by_check(check_data(make_config()))
    data = findings["fashion-mnist"]
    assert not data.ok and data.fix == DOWNLOAD
    assert data.found == f"not ready: 0 of 4 files verified (size and md5) in {raw_dir(data_root)}"
    assert data.problem == f"none of the 4 files is in {raw_dir(data_root)}"
    assert findings["data dir"].found == f"{data_root} (from $D2LNOTES_DATA)"
    assert findings["writable"] == Finding("writable", "yes")
    assert findings["source"].found.startswith("4 must be downloaded, from (in order): no mirror;")
    assert exit_status(list(findings.values())) == 1
    assert not data_root.exists()  # the doctor writes nothing


def test_verified_files_are_ready_and_nothing_is_a_problem(data_root, tiny, make_config):
    raw = write_raw(data_root, tiny)
    findings = check_data(make_config())
    assert exit_status(findings) == 0 and all(f.ok for f in findings)
    found = by_check(findings)
    assert found["fashion-mnist"].found == f"ready: 4 of 4 files verified (size and md5) in {raw}"
    assert found["source"].found == "the data dir: loading needs no network"


def test_corrupt_file_is_named_with_its_md5_and_left_in_place(data_root, tiny, make_config):
    raw = write_raw(data_root, tiny)
    name = "t10k-labels-idx1-ubyte"
    damaged = bytearray(tiny.raw[name])
    damaged[-1] ^= 0xFF
    (raw / name).write_bytes(damaged)
    data = by_check(check_data(make_config()))["fashion-mnist"]
    assert data.found.startswith("not ready: 3 of 4 files verified")
    assert re.fullmatch(rf"{name}: md5 [0-9a-f]{{32}}, expected {tiny.checksums[name].md5}", data.problem)
    assert data.fix == DOWNLOAD
    assert sorted(p.name for p in raw.iterdir()) == sorted(tiny.raw)  # nothing moved aside: that is download's job


def test_verified_system_copy_with_an_empty_data_dir_is_ready_as_the_loader_and_data_info_say(
        data_root, tmp_path, tiny, make_config, capsys):
    system = tiny.write_gz(tmp_path / "system")
    config = make_config(system_dirs=(system,))
    findings = check_data(config)
    assert exit_status(findings) == 0
    found = by_check(findings)
    assert found["fashion-mnist"].found == ("ready (system copy; the first load copies it into the data dir): "
                                            f"0 of 4 files verified (size and md5) in {raw_dir(data_root)}")
    assert found["source"].found == f"verified system copy in {system}: loading needs no network"
    assert info(config) == 0 and "status: ready (system copy; the first load copies it into the data dir)" in \
        capsys.readouterr().out
    assert not data_root.exists()  # the doctor and data info write nothing
    assert len(load_data_fashion_mnist(10, config=config)[0]) == 3  # and the loader indeed works offline


def test_corrupt_system_copy_is_not_offered(data_root, tmp_path, tiny, make_config):
    system = tiny.write_gz(tmp_path / "system")
    (system / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    source = by_check(check_data(make_config(system_dirs=(system,), mirrors=("http://127.0.0.1:9/",))))["source"]
    assert source.found.startswith(f"3 of 4 missing files have a verified system copy in {system}")
    assert "1 must be downloaded, from (in order): http://127.0.0.1:9/;" in source.found


def test_unwritable_data_dir_fix_points_the_data_dir_elsewhere(tmp_path, monkeypatch, make_config):
    blocker = tmp_path / "a-file"
    blocker.write_text("a regular file where the data dir's parent should be")
    monkeypatch.setenv("D2LNOTES_DATA", str(blocker / "data"))
    findings = by_check(check_data(make_config()))
    writable = findings["writable"]
    assert not writable.ok and f"{blocker} is a file, not a folder" in writable.problem
    assert writable.fix.startswith(data_dir_command())
    assert findings["fashion-mnist"].fix == f"{data_dir_command()}; {DOWNLOAD}"


def test_partly_system_copied_data_is_not_ready(data_root, tmp_path, tiny, make_config):
    system = tiny.write_gz(tmp_path / "system")
    (system / "train-images-idx3-ubyte.gz").unlink()
    data = by_check(check_data(make_config(system_dirs=(system,))))["fashion-mnist"]
    assert not data.ok and data.fix == DOWNLOAD


def test_unwritable_data_dir_holding_verified_files_is_fine(tmp_path):
    statuses = [FileStatus(n, tmp_path / n, "data dir", True, "") for n in ("a", "b")]
    findings = describe_data(tmp_path, "given", statuses, "PermissionError: Permission denied", [])
    assert exit_status(findings) == 0
    assert by_check(findings)["writable"].found == ("no (PermissionError: Permission denied); fine while the files "
                                                    "it reads stay verified")


def test_relative_data_dir_is_flagged(tmp_path, monkeypatch, make_config):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("D2LNOTES_DATA", "../data")
    found = by_check(check_data(make_config()))["data dir"].found
    assert found == (f"{(tmp_path / '../data').absolute()} (from $D2LNOTES_DATA, a relative path: it changes with "
                     "the current directory)")


# ---- packages, device, plots ----

def test_missing_old_and_broken_packages_each_get_a_pip_command():
    versions = {"torch": "2.0.1", "torchvision": "0.29.1+cu130", "matplotlib": "3.11.2", "numpy": None}
    errors = {"torchvision": "RuntimeError: operator torchvision::nms does not exist"}
    floors = {"python": "3.10", "torch": "2.1", "numpy": "1.26", "matplotlib": "3.8"}
    found = by_check(describe_packages("3.11.7", versions, floors, errors))
    pip = f"{sys.executable} -m pip install -U"
    assert found["python"].ok and found["matplotlib"] == Finding("matplotlib", "3.11.2")
    assert found["torch"].problem == "torch 2.0.1 is older than 2.1" and found["torch"].fix == f"{pip} 'torch>=2.1'"
    assert found["numpy"].found == "not installed" and found["numpy"].fix == f"{pip} 'numpy>=1.26'"
    assert found["torchvision"].problem == f"import torchvision fails: {errors['torchvision']}"
    assert found["torchvision"].fix == f"{pip} torch torchvision"


def test_old_python_is_a_problem():
    python = describe_packages("3.9.18", {}, {"python": "3.10"})[0]
    assert python.problem == "Python 3.9.18 is older than 3.10, the oldest the course supports"


@pytest.mark.parametrize("version, floor, older", [("2.14.1+cu130", "2.1", False), ("2.0.9", "2.1", True),
                                                   ("0.29.1", "0.16", False), ("1.26", "1.26.0", False),
                                                   ("3.10.0rc1", "3.10", False), ("3.9", "3.10", True)])
def test_versions_compare_by_release_numbers(version, floor, older):
    assert doctor._older(version, floor) is older


def test_floors_are_read_from_the_installed_metadata_as_pyproject_states_them():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    expected = {"python": project["requires-python"].removeprefix(">=")}
    expected |= dict(d.split(">=") for d in project["dependencies"])
    assert version_floors() == expected


def test_installed_packages_have_no_problem():
    found = by_check(doctor.check_packages())
    assert [f.check for f in found.values()] == CHECKS[:7]
    assert all(f.ok for f in found.values())
    assert found["torch"].found == torch.__version__


def test_device_descriptions():
    gpu = describe_device(["NVIDIA H100 80GB HBM3"], "13.0", False, 16)
    assert gpu.ok and gpu.found == "GPU: cuda:0 NVIDIA H100 80GB HBM3; d2l.try_gpu() returns cuda:0"
    cpu = describe_device([], "13.0", False, 2)
    assert cpu.ok and cpu.found.startswith("CPU only, 2 threads (torch is built for CUDA 13.0, but no CUDA GPU")
    assert "CPU-only build" in describe_device([], None, False, 4).found
    assert describe_device([], None, False, 1).found.startswith("CPU only, 1 thread (")
    assert "device='mps'" in describe_device([], None, True, 8).found


def test_device_check_matches_torch():
    found = check_device()
    assert found.ok and found.found.startswith("GPU: cuda:0" if torch.cuda.is_available() else "CPU only")


def test_plots_under_agg_are_static_and_not_a_problem():
    found = check_plots()
    assert found.ok and found.found.startswith("backend agg: no live plots in scripts")
    assert "train_ch3 prints one line per epoch" in found.found
    assert matplotlib.pyplot.get_fignums() == []  # the probe figure is closed


def test_plot_descriptions_per_mode():
    assert "open in a window that train_ch3 redraws without blocking" in describe_plots("TkAgg", "gui", True).found
    assert describe_plots("inline", "notebook", False).found == ("backend inline: live plots show in this notebook "
                                                                 "(updated in place)")
    headless = describe_plots("agg", "static", False).found
    assert "no display (DISPLAY is not set)" in headless and "python3-tk" not in headless
    chosen = describe_plots("Agg", "static", True, requested="Agg").found
    assert chosen.startswith("backend agg (from $MPLBACKEND=Agg): no live plots") and "python3-tk" not in chosen
    if sys.platform.startswith("linux"):  # a display but no toolkit: matplotlib fell back to agg
        assert "sudo apt-get install python3-tk" in describe_plots("agg", "static", True).found


# ---- report and command ----

def test_report_lists_each_problem_with_its_fix():
    text = report([Finding("torch", "2.14.1"), Finding("numpy", "not installed", "numpy is not installed",
                                                        "python -m pip install -U numpy")])
    lines = text.splitlines()
    assert "  numpy  not installed   <- problem" in lines
    assert lines[-3:] == ["1 problem found:", "  1. numpy: numpy is not installed",
                          "     fix: python -m pip install -U numpy"]
    assert report([Finding("torch", "2.14.1")]).endswith("\nNo problems found.")


def test_main_on_empty_data_dir_prints_the_problem_and_returns_1(data_root, capsys):
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    assert listed_checks(out) == CHECKS
    assert flat(out).endswith(f" 1 problem found: 1. fashion-mnist: none of the 4 files is in {raw_dir(data_root)} "
                              f"fix: {DOWNLOAD} ")


@pytest.mark.slow  # starts a Python process
def test_command_with_the_real_files_finds_nothing_wrong(real_config):
    ensure_fashion_mnist(real_config)
    proc = run_doctor({"D2LNOTES_DATA": str(real_config.root), "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ready: 4 of 4 files verified (size and md5) in {raw_dir(real_config.root)}" in flat(proc.stdout)
    assert proc.stdout.rstrip().endswith("No problems found.")
