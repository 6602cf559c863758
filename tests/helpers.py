"""Plain helpers shared by the test modules: small synthetic data and where the real Fashion-MNIST lives."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from d2lnotes.fashion_mnist import CHECKSUMS, SYSTEM_DIRS

#: The four Fashion-MNIST file names, in the package's order.
FILE_NAMES: tuple[str, ...] = tuple(CHECKSUMS)
#: Where Debian's dataset-fashion-mnist puts the real files (.gz).
REAL_DATA: Path = SYSTEM_DIRS[0]


def real_data_missing() -> str | None:
    """Return why the real Fashion-MNIST cannot be used here, or None when all four files are installed."""
    absent = [n for n in FILE_NAMES if not (REAL_DATA / f"{n}.gz").is_file()]
    if not absent:
        return None
    return f"real Fashion-MNIST not installed in {REAL_DATA} (sudo apt-get install dataset-fashion-mnist)"


def blobs(n: int = 300, distance: float = 4.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return n points of three Gaussian blobs in 2-D (centres ``distance`` from the origin) and labels 0, 1, 2."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centers = torch.tensor([[distance, 0.0], [-distance, 0.0], [0.0, distance]])
    return centers[y] + torch.randn(n, 2, generator=g), y


def batches(X: torch.Tensor, y: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Return (X, y) cut into consecutive batches of ``size``."""
    return [(X[i:i + size], y[i:i + size]) for i in range(0, len(X), size)]


def in_ci() -> bool:
    """Return True when running under CI (``CI`` set), where a missing prerequisite is a failure, not a skip."""
    return bool(os.environ.get("CI"))


class Recorder(torch.nn.Module):
    """Identity model that records the training flag, grad mode and device it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.seen: list[tuple[bool, bool, str]] = []

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return X times the one parameter, recording (training, grad enabled, device)."""
        self.seen.append((self.training, torch.is_grad_enabled(), X.device.type))
        return X * self.scale
