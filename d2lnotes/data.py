"""Batches of tensors in memory: the loader that cuts them, d2l's loaders built on it, and synthetic data.

A :class:`~d2lnotes.data.TensorLoader` batches tensors that are already in memory by index slicing, with no
per-image Python work; ``load_data_fashion_mnist`` puts it over the Fashion-MNIST tensors, which
:mod:`d2lnotes.fashion_mnist` finds, verifies and decodes once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils import data

from d2lnotes.fashion_mnist import FetchConfig, load_fashion_mnist_tensors


class TensorLoader:
    """Iterate over same-length tensors in batches by index slicing; reshuffled every epoch if shuffle=True.

    To code that inspects a ``DataLoader`` it looks like one: ``dataset`` (a ``TensorDataset`` on the same tensors),
    ``batch_size``, ``shuffle``, ``drop_last`` and ``num_workers``. ``num_workers`` is kept as given and does
    nothing: batches are cut in the main process, which for tensors in memory is the fastest way. Its iterators
    also have the old ``.next()``.

    Shuffling draws ``torch.randperm`` from torch's global generator, so ``torch.manual_seed`` makes runs
    repeatable. Each batch is a new tensor: changing it in place leaves the data intact. Rows of CPU tensors are
    gathered with numpy's single-threaded ``take``: torch's multi-threaded gather of such small batches slows down
    badly when the cores are busy (0.1 s against 0.3-5 s per Fashion-MNIST epoch on two shared cores).
    """

    def __init__(self, tensors: Sequence[torch.Tensor], batch_size: int, shuffle: bool = False,
                 drop_last: bool = False, num_workers: int = 0) -> None:
        tensors = tuple(tensors)
        if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
            raise TypeError(f"TensorLoader needs a sequence of tensors, got {tensors!r:.80}")
        if len({len(t) for t in tensors}) != 1:
            raise ValueError(f"TensorLoader: tensors differ in length: {[len(t) for t in tensors]}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.tensors, self.batch_size, self.shuffle, self.drop_last = tensors, batch_size, shuffle, drop_last
        self.num_workers = num_workers

    @property
    def dataset(self) -> data.TensorDataset:
        """Return the examples as a ``TensorDataset`` over the same tensors: ``len`` and ``[i] -> (image, label)``."""
        return data.TensorDataset(*self.tensors)

    @property
    def num_examples(self) -> int:
        """Return the number of examples (rows) in the tensors."""
        return len(self.tensors[0])

    def __len__(self) -> int:
        """Return the number of batches in one epoch."""
        n, b = self.num_examples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        """Return an iterator over one epoch of batches, each a tuple with one slice per tensor."""
        return _Batches(self._batches())

    def _batches(self) -> Iterator[tuple[torch.Tensor, ...]]:
        """Yield one epoch of batches."""
        b = self.batch_size
        order = torch.randperm(self.num_examples).numpy() if self.shuffle else None
        arrays = [_numpy_view(t) for t in self.tensors]
        for start in range(0, len(self) * b, b):
            rows = slice(start, start + b) if order is None else order[start:start + b]
            yield tuple(_take(t, a, rows) for t, a in zip(self.tensors, arrays))


class _Batches:
    """An epoch's iterator that also answers the pre-1.0 ``.next()`` (Dive-into-DL-PyTorch's ``iter(it).next()``)."""

    def __init__(self, batches: Iterator[tuple[torch.Tensor, ...]]) -> None:
        """Wrap the generator of one epoch's batches."""
        self._batches = batches

    def __iter__(self) -> _Batches:
        """Return itself, like any iterator."""
        return self

    def __next__(self) -> tuple[torch.Tensor, ...]:
        """Return the next batch."""
        return next(self._batches)

    next = __next__


def _numpy_view(t: torch.Tensor) -> np.ndarray | None:
    """Return t's memory as a numpy array when t is a plain CPU tensor, else None."""
    if t.device.type != "cpu" or t.requires_grad:
        return None
    try:
        return t.numpy()
    except (TypeError, RuntimeError):  # dtypes numpy lacks (bfloat16, ...)
        return None


def _take(t: torch.Tensor, array: np.ndarray | None, rows: slice | np.ndarray) -> torch.Tensor:
    """Return a new tensor holding the given rows of t (array: t's numpy view, if it has one)."""
    if array is not None:
        return torch.from_numpy(array[rows].copy() if isinstance(rows, slice) else array.take(rows, axis=0))
    if isinstance(rows, slice):
        return t[rows].clone()
    return t.index_select(0, torch.from_numpy(rows).to(t.device))


def load_data_fashion_mnist(batch_size: int, resize: int | Sequence[int] | None = None, *,
                            config: FetchConfig | None = None) -> tuple[TensorLoader, TensorLoader]:
    """Return (train_iter, test_iter) over Fashion-MNIST: train reshuffled every epoch, test in order.

    The images are held in memory as float32: 188 MB for the training set at 28x28, about 1 GB at resize=64.
    """
    train = TensorLoader(load_fashion_mnist_tensors(True, resize, config=config), batch_size, shuffle=True)
    test = TensorLoader(load_fashion_mnist_tensors(False, resize, config=config), batch_size, shuffle=False)
    return train, test


def synthetic_data(w: torch.Tensor, b: float, num_examples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (X [n, len(w)], y [n, 1]) with y = Xw + b + Gaussian noise of standard deviation 0.01."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def load_array(data_arrays: Sequence[torch.Tensor], batch_size: int, is_train: bool = True) -> data.DataLoader:
    """Return a DataLoader over ``TensorDataset(*data_arrays)``, shuffled when ``is_train``."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)
