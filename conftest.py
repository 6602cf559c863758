"""The environment of every test run, notebook kernels included (nbval's kernels inherit this process's environment).

The suite must pass whatever the shell exported and whatever the processor, so the variables that change what a
kernel prints are set here, from ``tools/kernel_env.py``, the one place that also tells ``tools/execute-chapter``
how to store the outputs: the same backend, progress bars, threads and hash seed, and on top of that torch, MKL and
oneDNN held to the baseline instruction set. The stored outputs come from the native one, so every cell compared
exactly is checked under a second instruction set on every run (README, "What the tests guarantee").
"""

import os

import matplotlib
import pytest

from tools.kernel_env import kernel_environ

_env = kernel_environ(os.environ, check=True)
os.environ.clear()
os.environ.update(_env)
matplotlib.use("Agg")  # the tests' own figures (not the kernels'): no window, as on a server; set here only


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark chapter cells ``notebook`` and ``slow``, and hand out the notebooks first, the last chapter first.

    The notebooks are the longest part of the suite and the later chapters train the most; handed out first, they
    spread over the workers and the unit tests fill the gaps, instead of one long chapter starting last and
    running alone. Both sorts are stable, so each notebook's cells stay in order.
    """
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: str(item.path), reverse=True)
    items.sort(key=lambda item: item.path.suffix != ".ipynb")
