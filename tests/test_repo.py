"""The repository's promises: the README's two commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    """Return the shell commands of the README's quick-start block, in order."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- quick-start -->\s*```(?:bash|sh)\n(.*?)```", text, re.S)
    assert block, "README.md lacks the quick-start block"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def test_readme_has_exactly_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert "jupyter-book build" in commands[0] and "-W" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci
    for command in readme_commands():
        # CI may add -q to pip; everything else is the same text.
        assert command in ci.replace("pip install -q ", "pip install "), f"CI does not run: {command}"


def test_requirements_use_floors_not_pins() -> None:
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    pinned = [ln for ln in lines if "==" in ln]
    assert not pinned, f"pinned requirements: {pinned}"
    assert any(ln.startswith("jupyter-book") and "<2" in ln for ln in lines)


def test_nbval_runs_strict() -> None:
    config = (ROOT / "pyproject.toml").read_text()
    assert "--nbval " in config and "--nbval-lax" not in config
    assert '"chapters"' in config
