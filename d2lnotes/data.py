"""Fashion-MNIST as in-memory tensors, the loader that batches them, and synthetic regression data.

The IDX files are decoded once into tensors; a :class:`TensorLoader` then batches them by index slicing, with no
per-image Python work. Finding and verifying the files is :mod:`d2lnotes.fetch`'s job.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils import data

from d2lnotes.fetch import FetchConfig, ensure_fashion_mnist

TEXT_LABELS: tuple[str, ...] = ('t-shirt', 'trouser', 'pullover', 'dress', 'coat',
                                'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot')
# IDX type codes (third magic byte) and their big-endian numpy types.
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def decode_idx(buf: bytes | bytearray, source: str = "<bytes>") -> torch.Tensor:
    """Return the array stored in IDX bytes (magic, dimensions, big-endian payload) as a tensor."""
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0 or buf[2] not in _IDX_TYPES:
        raise ValueError(f"{source} is not an IDX file: it starts with {bytes(buf[:4])!r}, expected 00 00 "
                         "<type> <ndim>. Check it with `python -m d2lnotes data info`.")
    dtype, ndim = _IDX_TYPES[buf[2]], buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise ValueError(f"{source}: IDX header is cut short ({len(buf)} bytes, {ndim} dimensions declared)")
    dims = [int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + math.prod(dims) * dtype.itemsize
    if len(buf) != expected:
        raise ValueError(f"{source}: IDX dimensions {dims} need {expected:,} bytes, the file has {len(buf):,}")
    array = np.frombuffer(buf, dtype=dtype, offset=header).reshape(dims)
    return torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=not isinstance(buf, bytearray)))


def read_idx(path: Path | str) -> torch.Tensor:
    """Return the array in an IDX file, decompressed or .gz (detected by its first bytes)."""
    path = Path(path)
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b":
            f.seek(0)
            buf = bytearray(gzip.GzipFile(fileobj=f).read())
        else:
            f.seek(0)
            buf = bytearray(path.stat().st_size)
            f.readinto(buf)
    return decode_idx(buf, str(path))


def _resize_to_float(images: torch.Tensor, resize: int | Sequence[int]) -> torch.Tensor:
    """Return uint8 images [N, C, H, W] resized like transforms.Resize on PIL images, then scaled to [0, 1]."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize as tv_resize

    size = [resize] if isinstance(resize, int) else list(resize)
    first = tv_resize(images[:1], size, InterpolationMode.BILINEAR, antialias=True)
    out = torch.empty((len(images), *first.shape[1:]), dtype=torch.float32)
    for start in range(0, len(images), 10_000):  # resized in chunks, in uint8 as PIL does: bounded peak memory
        chunk = images[start:start + 10_000]
        out[start:start + len(chunk)] = tv_resize(chunk, size, InterpolationMode.BILINEAR, antialias=True)
    return out.div_(255)


def load_fashion_mnist_tensors(train: bool = True, resize: int | Sequence[int] | None = None, *,
                               config: FetchConfig | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (X float32 [N, 1, H, W] in [0, 1], y int64 [N]) for the training or the test set."""
    prefix = "train" if train else "t10k"
    names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
    records = ensure_fashion_mnist(config, names)
    images, labels = (read_idx(records[n].path) for n in names)
    if images.dim() != 3 or labels.dim() != 1 or len(images) != len(labels):
        raise ValueError(f"{names[0]} holds {list(images.shape)} and {names[1]} holds {list(labels.shape)}: "
                         "expected [N, H, W] images and N labels")
    images = images.unsqueeze(1)
    X = images.to(torch.float32).div_(255) if resize is None else _resize_to_float(images, resize)
    return X, labels.to(torch.int64)


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


def get_fashion_mnist_labels(labels) -> list[str]:  # noqa: ANN001 - any iterable of ints or a tensor
    """Return the text label ('t-shirt', 'trouser', ...) of each numeric label."""
    return [TEXT_LABELS[int(i)] for i in labels]


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
