"""Time one Fashion-MNIST training epoch (batch 256) read two ways in one run, and print the ratio.

    python benchmarks/bench_fashion_mnist_epoch.py [--batch-size 256] [--repeats 3]

1. the usual way: torchvision.datasets.FashionMNIST(root, transform=ToTensor()) + DataLoader(num_workers=0);
2. d2lnotes: load_data_fashion_mnist, in-memory tensors batched by index slicing.

Each epoch only reads the batches (no model). The best of --repeats epochs is reported for each; the one-time
setup (decoding the files) is printed separately.
"""

from __future__ import annotations

import argparse
import time

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

from d2lnotes.data import load_data_fashion_mnist
from d2lnotes.fashion_mnist import fashion_mnist_root


def read_epoch(loader) -> tuple[float, int]:
    """Return (seconds, examples) for reading one epoch of (X, y) batches."""
    start, n = time.perf_counter(), 0
    for _X, y in loader:
        n += len(y)
    return time.perf_counter() - start, n


def main() -> None:
    """Run both readers and print their times and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = fashion_mnist_root()
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {torch.get_num_threads()} threads, "
          f"batch {args.batch_size}, best of {args.repeats} epochs")

    start = time.perf_counter()
    dataset = torchvision.datasets.FashionMNIST(str(root), train=True, transform=transforms.ToTensor(),
                                                download=False)
    loader = DataLoader(dataset, args.batch_size, shuffle=True, num_workers=0)
    setup_tv = time.perf_counter() - start
    runs = [read_epoch(loader) for _ in range(args.repeats)]
    epoch_tv, n_tv = min(runs)

    start = time.perf_counter()
    train_iter, _ = load_data_fashion_mnist(args.batch_size)
    setup_ours = time.perf_counter() - start
    runs = [read_epoch(train_iter) for _ in range(args.repeats)]
    epoch_ours, n_ours = min(runs)

    assert n_tv == n_ours == 60_000, (n_tv, n_ours)
    print(f"torchvision FashionMNIST + ToTensor + DataLoader: epoch {epoch_tv:.3f} s  (setup {setup_tv:.3f} s)")
    print(f"d2lnotes in-memory TensorLoader:                  epoch {epoch_ours:.3f} s  "
          f"(setup, incl. verify + decode of train and test {setup_ours:.3f} s)")
    print(f"ratio (epoch): {epoch_tv / epoch_ours:.0f}x  (target >= 50x)")


if __name__ == "__main__":
    main()
