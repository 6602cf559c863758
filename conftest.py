"""The environment of every test run, notebook kernels included (nbval's kernels inherit this process's environment).

The suite must pass whatever the shell exported, so the few variables that change what a kernel prints are set
here, the same way ``tools/execute-chapter`` sets them when it stores the outputs:

- ``MPLBACKEND`` is removed: with it set (``Agg`` is common on servers and in Docker images) ipykernel keeps that
  backend instead of the inline one, and the chapters' figures are never shown.
- ``TQDM_DISABLE=1``: progress bars write rates to stderr, which strict nbval would compare.
- ``OMP_NUM_THREADS=1``: the suite runs several kernels at once (pytest-xdist); more threads than cores make small
  matrix products many times slower, and no chapter needs more than one.
"""

import os

import pytest

os.environ.pop("MPLBACKEND", None)
os.environ["TQDM_DISABLE"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"


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
