"""Settings for every test run, notebooks included (the nbval kernels inherit this environment)."""

import os

# Progress bars write rates to stderr, which strict nbval would compare.
os.environ.setdefault("TQDM_DISABLE", "1")
