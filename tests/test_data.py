"""Tests of d2lnotes.data: TensorLoader, load_data_fashion_mnist, synthetic data, load_array."""

from __future__ import annotations

import pytest
import torch
from torch.utils import data

from d2lnotes.data import TensorLoader, load_array, load_data_fashion_mnist, synthetic_data

pytestmark = pytest.mark.usefixtures("data_root")

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


# --- load_data_fashion_mnist on the tiny files ----------------------------------------------------------------------

def test_load_data_fashion_mnist_batches(tiny_config):
    train_iter, test_iter = load_data_fashion_mnist(8, config=tiny_config)
    assert (len(train_iter), len(test_iter)) == (4, 2)
    X, y = next(iter(train_iter))
    assert X.shape == (8, 1, 28, 28) and X.dtype == torch.float32 and y.shape == (8,) and y.dtype == torch.int64
    assert 0 <= X.min() and X.max() <= 1
    assert torch.cat([y for _, y in test_iter]).tolist() == list(range(10))  # test set in order


def test_load_data_fashion_mnist_resize_64(tiny_config):
    train_iter, _ = load_data_fashion_mnist(4, resize=64, config=tiny_config)
    assert next(iter(train_iter))[0].shape == (4, 1, 64, 64)


# --- synthetic data, load_array -------------------------------------------------------------------------------------

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


# --- the real files (Debian's dataset-fashion-mnist) ----------------------------------------------------------------

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


