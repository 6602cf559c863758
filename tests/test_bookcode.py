"""The books' own chapter 2-4 code, written the way those books write it, with only the import line changed.

Each test is a small program in the style of one book (d2l-zh / d2l 0.17, d2l-en / d2l 1.0, Dive-into-DL-PyTorch)
for one of the calls that used to stop such code; files are served on 127.0.0.1, never fetched from the internet.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import d2lnotes as d2l
from d2lnotes.__main__ import export


def test_d2l_0_17_evaluate_loss_of_a_regression_like_the_weight_decay_section():
    torch.manual_seed(0)
    true_w, true_b = torch.ones((20, 1)) * 0.01, 0.05
    test_data = d2l.synthetic_data(true_w, true_b, 100)
    test_iter = d2l.load_array(test_data, 5, is_train=False)
    net = nn.Sequential(nn.Linear(20, 1))
    loss = nn.MSELoss(reduction="none")
    X, y = test_data
    with torch.no_grad():
        expected = float(((net(X) - y) ** 2).mean())
    assert d2l.evaluate_loss(net, test_iter, loss) == pytest.approx(expected, rel=1e-5)
    assert d2l.evaluate_loss(net, test_iter, nn.MSELoss()) == pytest.approx(expected, rel=1e-5)  # a mean-reduced loss
    with pytest.raises(ValueError, match="yielded no batch"):
        d2l.evaluate_loss(net, [], loss)


def test_dive_into_dl_iter_next_and_dataloader_attributes_of_the_fast_loader():
    import d2lnotes.d2lzh as d2lzh

    features, labels = torch.randn(10, 3), torch.arange(10)
    train_iter = d2l.TensorLoader((features, labels), 4, shuffle=True)
    X, y = iter(train_iter).next()  # Dive-into-DL-PyTorch 3.6
    assert X.shape == (4, 3)
    assert len(train_iter.dataset) == 10 and train_iter.batch_size == 4 and train_iter.num_workers == 0
    assert not train_iter.drop_last
    feature, label = train_iter.dataset[3]
    assert torch.equal(feature, features[3]) and int(label) == 3
    assert d2lzh.evaluate_accuracy(train_iter, lambda X: torch.zeros(len(X), 10)) == pytest.approx(0.1)


@pytest.mark.needs_data
def test_d2l_1_0_set_num_workers_shows_on_the_dataloader(fashion_mnist_256, real_data_dir, monkeypatch):
    monkeypatch.setenv("D2LNOTES_DATA", str(real_data_dir))

    class FashionMNIST(d2l.FashionMNIST):
        pass

    @d2l.add_to_class(FashionMNIST)
    def set_num_workers(self, num):
        self.num_workers = num

    data = FashionMNIST(batch_size=256)
    data.set_num_workers(2)
    loader = data.train_dataloader()
    assert loader.num_workers == 2 and loader.batch_size == 256 and len(loader.dataset) == 60000


@pytest.mark.needs_data
def test_torchvision_download_true_succeeds_offline_after_export(real_config, tmp_path, capsys):
    import torchvision
    from torchvision import transforms

    root = tmp_path / "Datasets" / "FashionMNIST"  # Dive-into-DL-PyTorch's root; d2l-zh uses "../data"
    assert export(root, real_config) == 0
    assert "downloads nothing" in capsys.readouterr().out
    mnist_train = torchvision.datasets.FashionMNIST(root=str(root), train=True, download=True,
                                                    transform=transforms.ToTensor())
    mnist_test = torchvision.datasets.FashionMNIST(root=str(root), train=False, download=True,
                                                   transform=transforms.ToTensor())
    assert (len(mnist_train), len(mnist_test)) == (60000, 10000) and mnist_train[0][0].shape == (1, 28, 28)
