"""The repository's promises: the README's two commands are the ones CI runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands(block_name: str = "quick-start") -> list[str]:
    """Return the shell commands of the README's code block marked ``<!-- block_name -->``, in order."""
    text = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- {block_name} -->\s*```(?:bash|sh)\n(.*?)```", text, re.S)
    assert block, f"README.md lacks the {block_name} block"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def pytest_in_this_venv(command: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a README pytest command (``.venv/bin/python -m pytest ...``) with this interpreter, plus ``extra``."""
    args = shlex.split(command)
    assert args[:3] == [".venv/bin/python", "-m", "pytest"], command
    return subprocess.run([sys.executable, *args[1:], *extra], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=1800)


def collected(command: str, *extra: str) -> list[str]:
    """Return the test ids that a README pytest command collects."""
    proc = pytest_in_this_venv(command, "--collect-only", "-q", "-n", "0", *extra)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_readme_has_exactly_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert commands[0].endswith("tools/build-book")  # both editions, warnings as errors:
    script = (ROOT / "tools" / "build-book").read_text()
    assert "jupyter-book\" build . -W -n --keep-going" in script
    assert "sphinx-build\" -q -b html -W -n --keep-going -D language=zh_CN" in script
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci
    for command in readme_commands():
        # CI may add -q to pip; everything else is the same text.
        assert command in ci.replace("pip install -q ", "pip install "), f"CI does not run: {command}"


def test_dependencies_use_floors_not_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = [*project["dependencies"], *(r for extra in extras.values() for r in extra)]
    pinned = [r for r in requirements if "==" in r or "<" in r and not r.startswith("jupyter-book")]
    assert not pinned, f"pinned requirements: {pinned}"
    assert "jupyter-book>=1,<2" in extras["book"]  # the one cap: the book is Jupyter Book 1
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    assert [ln for ln in lines if ln] == ["-e .[book,bookcode,test]"]


def test_the_code_passes_the_linter() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run([str(ruff), "check", "--no-cache", str(ROOT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_nbval_runs_strict() -> None:
    config = (ROOT / "pyproject.toml").read_text()
    assert "--nbval " in config and "--nbval-lax" not in config
    assert '"chapters"' in config


@pytest.mark.slow  # a collection in a fresh process
def test_quick_tier_collects_unit_tests_and_nothing_slow(request: pytest.FixtureRequest) -> None:
    (quick,) = readme_commands("quick-tests")
    quick_ids = collected(quick)
    # this run's own collection (every xdist worker collects the whole suite) says which tests are slow
    slow_ids = {item.nodeid for item in request.session.items if item.get_closest_marker("slow")}
    assert request.node.nodeid in slow_ids and len(quick_ids) > 100, quick_ids
    assert not slow_ids & set(quick_ids), sorted(slow_ids & set(quick_ids))[:10]
    assert not [i for i in quick_ids if i.startswith("chapters/") or "test_browser" in i]


@pytest.mark.slow  # re-executes a chapter in a fresh kernel
def test_a_plotting_chapter_passes_strict_nbval_with_mplbackend_agg_exported() -> None:
    chapter = "chapters/04-activation-functions.ipynb"
    (full,) = [c for c in readme_commands() if "pytest" in c]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    proc = pytest_in_this_venv(full, chapter, "-n", "0", "-q", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(r"\b\d+ passed", proc.stdout) and "failed" not in proc.stdout
