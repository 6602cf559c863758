"""The environment of every chapter kernel, in one place.

``tools/execute-chapter`` stores a chapter's outputs with ``kernel_environ(os.environ, check=False)``; the test
suite (``conftest.py``) re-executes the chapters and compares with ``kernel_environ(os.environ, check=True)``.
Both set what changes a chapter's outputs (the plotting backend, progress bars, threads, the hash seed) the same
way. They differ on purpose in one thing: outputs are stored with the processor's native instruction set, and the
tests hold torch (ATen), MKL and oneDNN to the baseline x86-64 set (SSE4.2), which no maintainer's native run
uses. Floating-point sums come out in a different order there, so a cell whose output depends on the processor
(a training result, a large reduction) fails on its author's own machine, before it lands, instead of on the next
person's. Such a cell is tagged ``nbval-ignore-output`` and followed by a band assertion (README, "What the tests
guarantee").

As a script it runs a command in the storing environment: ``python tools/kernel_env.py CMD [ARGS...]``.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping

#: Variables every chapter kernel gets; ``None`` removes one.
#: - MPLBACKEND removed: with it set (``Agg`` is common on servers) ipykernel keeps that backend instead of the
#:   inline one, and the chapters' figures are never shown.
#: - TQDM_DISABLE: progress bars write rates to stderr, which strict nbval would compare.
#: - OMP_NUM_THREADS: one thread; several kernels run at once, and more threads than cores make small matrix
#:   products many times slower. One thread also fixes how torch splits a reduction between threads.
#: - PYTHONHASHSEED: the same iteration order of sets of strings on every run.
KERNEL_ENV: dict[str, str | None] = {
    "MPLBACKEND": None,
    "TQDM_DISABLE": "1",
    "OMP_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}

#: The instruction-set profile of the tests: torch's portable kernels, MKL and oneDNN without AVX.
#: On other processors (ARM) only torch's setting applies.
CHECK_ISA: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
}
_X86 = {"x86_64", "amd64", "i386", "i686", "x86"}


def check_isa() -> dict[str, str]:
    """Return the instruction-set variables the tests set on this machine (all three on x86, torch's elsewhere)."""
    if platform.machine().lower() in _X86:
        return dict(CHECK_ISA)
    return {"ATEN_CPU_CAPABILITY": CHECK_ISA["ATEN_CPU_CAPABILITY"]}


def kernel_environ(base: Mapping[str, str], *, check: bool) -> dict[str, str]:
    """Return ``base`` with the kernel variables applied: the tests' profile if ``check``, else the native one."""
    env = {k: v for k, v in base.items() if k not in CHECK_ISA}
    for name, value in KERNEL_ENV.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    if check:
        env.update(check_isa())
    return env


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python tools/kernel_env.py CMD [ARGS...]  (runs CMD in the environment that stores outputs)")
    os.execvpe(sys.argv[1], sys.argv[1:], kernel_environ(os.environ, check=False))
