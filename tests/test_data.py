"""Tests of d2lnotes.data: IDX decoding, TensorLoader, the Fashion-MNIST loaders, synthetic data, load_array."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils import data

from d2lnotes.data import (TEXT_LABELS, TensorLoader, decode_idx, get_fashion_mnist_labels, load_array,
                           load_data_fashion_mnist, load_fashion_mnist_tensors, read_idx, synthetic_data)
from d2lnotes.fetch import fashion_mnist_root, raw_dir
from helpers import REAL_DATA

pytestmark = pytest.mark.usefixtures("data_root")
IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


@pytest.fixture
def tiny_config(tmp_path, tiny, make_config):
    """Return a FetchConfig that finds the tiny files in a temp 'system' dir."""
    return make_config(system_dirs=(tiny.write_gz(tmp_path / "system"),))


# --- IDX decoding -------------------------------------------------------------------------------------------------

def test_decode_idx_returns_the_array(tiny):
    X = decode_idx(tiny.raw[IMAGES])
    assert X.dtype == torch.uint8 and X.shape == (30, 28, 28)
    assert X.numpy().tolist() == tiny.arrays[IMAGES].tolist()


def test_decode_idx_big_endian_int32():
    buf = bytes([0, 0, 0x0C, 2]) + (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + \
        np.array([1, -2, 70000, 3], dtype=">i4").tobytes()
    assert decode_idx(buf).tolist() == [[1, -2], [70000, 3]]


def test_decode_idx_rejects_a_bad_header_and_a_short_payload(tiny):
    with pytest.raises(ValueError, match=r"x.bin is not an IDX file: it starts with b'PK\\x03\\x04'"):
        decode_idx(b"PK\x03\x04rest", "x.bin")
    with pytest.raises(ValueError, match=r"IDX dimensions \[30, 28, 28\] need 23,536 bytes, the file has 23,535"):
        decode_idx(tiny.raw[IMAGES][:-1])


def test_read_idx_reads_raw_and_gz_alike(tmp_path, tiny):
    (tmp_path / "a").write_bytes(tiny.raw[LABELS])
    (tmp_path / "b.gz").write_bytes(gzip.compress(tiny.raw[LABELS]))
    assert read_idx(tmp_path / "a").tolist() == read_idx(tmp_path / "b.gz").tolist() == tiny.arrays[LABELS].tolist()


# --- TensorLoader ---------------------------------------------------------------------------------------------------

def test_tensor_loader_len_and_last_batch():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    assert len(TensorLoader((X, y), 4)) == 3 and len(TensorLoader((X, y), 4, drop_last=True)) == 2
    assert [len(b) for b, _ in TensorLoader((X, y), 4)] == [4, 4, 2]
    assert [len(b) for b, _ in TensorLoader((X, y), 4, drop_last=True)] == [4, 4]


def test_tensor_loader_in_order_without_shuffle():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    batches = list(TensorLoader([X, y], 3))
    assert torch.cat([b[1] for b in batches]).tolist() == list(range(10))
    assert all(torch.equal(bx[:, 0].long(), by) for bx, by in batches)


def test_tensor_loader_reshuffles_every_epoch_and_keeps_pairs():
    X, y = torch.arange(100.0).reshape(100, 1), torch.arange(100)
    loader = TensorLoader((X, y), 16, shuffle=True)
    epochs = [[(bx, by) for bx, by in loader] for _ in range(2)]
    orders = [torch.cat([by for _, by in e]) for e in epochs]
    assert sorted(orders[0].tolist()) == list(range(100))  # every example exactly once
    assert orders[0].tolist() != orders[1].tolist() != list(range(100))
    assert all(torch.equal(bx[:, 0].long(), by) for e in epochs for bx, by in e)


def test_tensor_loader_seeded_runs_repeat():
    y = torch.arange(50)
    torch.manual_seed(1)
    first = torch.cat([b for (b,) in TensorLoader((y,), 8, shuffle=True)])
    torch.manual_seed(1)
    assert torch.cat([b for (b,) in TensorLoader((y,), 8, shuffle=True)]).tolist() == first.tolist()


def test_tensor_loader_batches_are_copies():
    X = torch.zeros(6, 2)
    for loader in (TensorLoader((X,), 3), TensorLoader((X,), 3, shuffle=True)):
        for (b,) in loader:
            b += 1
    assert X.sum().item() == 0


def test_tensor_loader_gathers_tensors_numpy_cannot_hold():
    X = torch.arange(10.0).to(torch.bfloat16).reshape(10, 1)
    w = torch.arange(10.0, requires_grad=True)
    for shuffle in (False, True):
        batches = list(TensorLoader((X, w), 4, shuffle=shuffle))
        assert batches[0][0].dtype == torch.bfloat16 and batches[0][1].requires_grad
        assert all(torch.equal(bx[:, 0].float(), bw.detach()) for bx, bw in batches)
        assert sorted(torch.cat([bw for _, bw in batches]).tolist()) == list(range(10))


def test_tensor_loader_rejects_bad_input():
    with pytest.raises(ValueError, match=r"tensors differ in length: \[3, 4\]"):
        TensorLoader((torch.zeros(3), torch.zeros(4)), 2)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        TensorLoader((torch.zeros(3),), 0)
    with pytest.raises(TypeError, match="needs a sequence of tensors"):
        TensorLoader(([1, 2, 3],), 2)


# --- Fashion-MNIST loaders on the tiny files -------------------------------------------------------------------------

def test_load_fashion_mnist_tensors_values(tiny, tiny_config):
    X, y = load_fashion_mnist_tensors(True, config=tiny_config)
    assert X.dtype == torch.float32 and X.shape == (30, 1, 28, 28) and y.dtype == torch.int64
    assert torch.equal(X[:, 0], torch.from_numpy(tiny.arrays[IMAGES]).float() / 255)
    assert y.tolist() == tiny.arrays[LABELS].tolist()
    Xt, yt = load_fashion_mnist_tensors(False, config=tiny_config)
    assert Xt.shape == (10, 1, 28, 28) and yt.tolist() == list(range(10))


def test_load_data_fashion_mnist_batches(tiny_config):
    train_iter, test_iter = load_data_fashion_mnist(8, config=tiny_config)
    assert (len(train_iter), len(test_iter)) == (4, 2)
    X, y = next(iter(train_iter))
    assert X.shape == (8, 1, 28, 28) and X.dtype == torch.float32 and y.shape == (8,) and y.dtype == torch.int64
    assert 0 <= X.min() and X.max() <= 1
    assert torch.cat([y for _, y in test_iter]).tolist() == list(range(10))  # test set in order


@pytest.mark.parametrize("resize, shape", [(64, (64, 64)), ((32, 48), (32, 48))])
def test_resize_matches_torchvision_resize_on_pil_images(tiny_config, resize, shape):
    from PIL import Image
    from torchvision import transforms

    X, _ = load_fashion_mnist_tensors(False, resize=resize, config=tiny_config)
    assert X.shape == (10, 1, *shape) and X.dtype == torch.float32
    raw, _ = load_fashion_mnist_tensors(False, config=tiny_config)
    d2l_way = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
    expected = torch.stack([d2l_way(Image.fromarray((x[0] * 255).round().byte().numpy(), mode="L")) for x in raw])
    assert (X - expected).abs().max().item() <= 1 / 255 + 1e-6  # at most one grey level apart (rounding)


def test_load_data_fashion_mnist_resize_64(tiny_config):
    train_iter, _ = load_data_fashion_mnist(4, resize=64, config=tiny_config)
    assert next(iter(train_iter))[0].shape == (4, 1, 64, 64)


# --- labels, synthetic data, load_array ------------------------------------------------------------------------------

def test_get_fashion_mnist_labels():
    assert get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == ["t-shirt", "ankle boot", "sandal"]
    assert get_fashion_mnist_labels(range(10)) == list(TEXT_LABELS) == [
        't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']


def test_synthetic_data_follows_the_linear_model():
    torch.manual_seed(0)
    w, b = torch.tensor([2, -3.4]), 4.2
    X, y = synthetic_data(w, b, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    residual = y[:, 0] - (X @ w + b)
    assert abs(residual.std().item() - 0.01) < 0.001 and abs(residual.mean().item()) < 0.002
    torch.manual_seed(0)
    assert torch.equal(synthetic_data(w, b, 1000)[1], y)


def test_load_array_is_a_dataloader_over_tensordataset():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    loader = load_array((X, y), 4, is_train=False)
    assert isinstance(loader, data.DataLoader) and isinstance(loader.dataset, data.TensorDataset)
    assert len(loader) == 3 and torch.cat([b for _, b in loader]).tolist() == list(range(10))
    torch.manual_seed(0)
    assert torch.cat([b for _, b in load_array((X, y), 4)]).tolist() != list(range(10))


# --- the real files (Debian's dataset-fashion-mnist) -----------------------------------------------------------------

@pytest.fixture(scope="session")
def real_train(real_config):
    return load_fashion_mnist_tensors(True, config=real_config)


def test_real_files_load_60000_and_10000_with_6000_per_class(real_config, real_train):
    X, y = real_train
    assert X.shape == (60_000, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.min().item() == 0 and X.max().item() == 1
    assert torch.bincount(y).tolist() == [6000] * 10
    Xt, yt = load_fashion_mnist_tensors(False, config=real_config)
    assert Xt.shape == (10_000, 1, 28, 28) and torch.bincount(yt).tolist() == [1000] * 10


def test_real_load_data_fashion_mnist_256(real_config):
    train_iter, test_iter = load_data_fashion_mnist(256, config=real_config)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and y.shape == (256,)
    firsts = [next(iter(train_iter))[1] for _ in range(2)]
    assert not torch.equal(*firsts)  # reshuffled every epoch
    last = list(test_iter)[-1]
    assert last[0].shape == (16, 1, 28, 28)  # 10,000 = 39 * 256 + 16
    assert torch.equal(next(iter(test_iter))[1], test_iter.tensors[1][:256])


def test_real_resize_64(real_config):
    X, _ = load_fashion_mnist_tensors(False, resize=64, config=real_config)
    assert X.shape == (10_000, 1, 64, 64) and 0 <= X.min() and X.max() <= 1


def test_real_torchvision_loads_from_the_prepared_root(real_config, real_train):
    from torchvision.datasets import FashionMNIST

    dataset = FashionMNIST(str(fashion_mnist_root(real_config)), train=True, download=False)
    assert len(dataset) == 60_000 and torch.equal(dataset.targets, real_train[1])
    assert torch.equal(dataset.data.float() / 255, real_train[0][:, 0])


@pytest.mark.slow  # starts a Python process
def test_real_cli_download_and_info_subprocess(tmp_path, real_config):
    """The real command line, from the system copy (the mirror is a closed local port: never the internet)."""
    env = {**os.environ, "D2LNOTES_DATA": str(tmp_path / "cli"), "D2LNOTES_MIRROR": "http://127.0.0.1:9/",
           "D2LNOTES_SYSTEM_DATA": str(REAL_DATA), "TQDM_DISABLE": "1"}
    run = [sys.executable, "-m", "d2lnotes", "data"]
    cwd = Path(__file__).parents[1]
    proc = subprocess.run([*run, "download"], env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(f"verified, from system: {REAL_DATA}/") == 4
    assert f"FashionMNIST(root={str(tmp_path / 'cli')!r}, download=False)" in proc.stdout
    proc = subprocess.run([*run, "info"], env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert proc.returncode == 0 and proc.stdout.count("verified (size and md5 OK)") == 4
    assert sorted(p.name for p in raw_dir(tmp_path / "cli").iterdir()) == sorted(real_config.checksums)
