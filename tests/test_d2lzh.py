"""Tests for d2lnotes.d2lzh: Dive-into-DL-PyTorch's chapter-3 helpers, with that book's signatures and updates."""

import inspect
import os
import re
from pathlib import Path

import matplotlib.pyplot
import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn import init

import d2lnotes
import d2lnotes.d2lzh as d2l
from d2lnotes.fashion_mnist import FetchConfig, raw_dir
from helpers import FILE_NAMES, REAL_DATA, blobs

LINE = re.compile(r"epoch (\d+), loss (\d+\.\d{4}), train acc (\d\.\d{3}), test acc (\d\.\d{3})")


def parse_log(text: str) -> list[tuple[int, float, float, float]]:
    """Return (epoch, loss, train acc, test acc) for every line of ``text``; fail on any other line."""
    rows = []
    for line in text.strip().splitlines():
        match = LINE.fullmatch(line)
        assert match, f"not a train_ch3 line: {line!r}"
        rows.append((int(match[1]), float(match[2]), float(match[3]), float(match[4])))
    return rows


# --- the names -----------------------------------------------------------------------------------------------


def test_star_import_gives_the_books_helpers_and_plt():
    namespace: dict = {}
    exec("from d2lnotes.d2lzh import *", namespace)
    for name in ("set_figsize", "use_svg_display", "data_iter", "linreg", "squared_loss", "sgd",
                 "get_fashion_mnist_labels", "show_fashion_mnist", "load_data_fashion_mnist", "evaluate_accuracy",
                 "train_ch3", "FlattenLayer", "semilogy"):
        assert callable(namespace[name]), name
    # the book's 3.2: set_figsize(), then plt.scatter on pyplot's current figure
    namespace["set_figsize"]((5, 2))
    namespace["plt"].scatter([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], 1)
    fig = matplotlib.pyplot.gcf()
    assert tuple(fig.get_size_inches()) == (5, 2)
    assert fig.axes[0].collections[0].get_offsets().tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]


def test_signatures_are_the_books():
    def params(f):
        return [(p.name, p.default) for p in inspect.signature(f).parameters.values()]

    empty = inspect.Parameter.empty
    assert params(d2l.train_ch3) == [("net", empty), ("train_iter", empty), ("test_iter", empty), ("loss", empty),
                                     ("num_epochs", empty), ("batch_size", empty), ("params", None), ("lr", None),
                                     ("optimizer", None)]
    assert params(d2l.evaluate_accuracy) == [("data_iter", empty), ("net", empty), ("device", None)]  # 5.5
    assert params(d2l.load_data_fashion_mnist) == [("batch_size", empty), ("resize", None),
                                                   ("root", "~/Datasets/FashionMNIST")]
    assert params(d2l.semilogy) == [("x_vals", empty), ("y_vals", empty), ("x_label", empty), ("y_label", empty),
                                    ("x2_vals", None), ("y2_vals", None), ("legend", None), ("figsize", (3.5, 2.5))]
    assert params(d2l.data_iter) == [("batch_size", empty), ("features", empty), ("labels", empty)]
    assert params(d2l.show_fashion_mnist) == [("images", empty), ("labels", empty)]


def test_main_namespace_keeps_d2ls_signatures():
    assert list(inspect.signature(d2lnotes.train_ch3).parameters)[:6] == [
        "net", "train_iter", "test_iter", "loss", "num_epochs", "updater"]
    assert list(inspect.signature(d2lnotes.evaluate_accuracy).parameters)[:2] == ["net", "data_iter"]


# --- 3.2: data_iter and linear regression from scratch ---------------------------------------------------------


def test_data_iter_yields_every_example_once_in_seeded_shuffled_batches():
    features = torch.arange(25.0).reshape(25, 1)
    labels = torch.arange(25)
    torch.manual_seed(3)
    batches = list(d2l.data_iter(10, features, labels))
    assert [len(y) for _, y in batches] == [10, 10, 5]
    seen = torch.cat([y for _, y in batches])
    assert sorted(seen.tolist()) == list(range(25)) and seen.tolist() != list(range(25))
    assert all(torch.equal(X[:, 0].long(), y) for X, y in batches)  # rows stay paired
    torch.manual_seed(3)
    assert torch.equal(torch.cat([y for _, y in d2l.data_iter(10, features, labels)]), seen)
    X, y = next(d2l.data_iter(4, features, labels))  # a generator, like the book's
    assert X.shape == (4, 1) and y.shape == (4,)


def test_linear_regression_from_scratch_recovers_w_and_b():
    # The book's 3.2 program: 1000 examples, batches of 10, lr 0.03, 3 epochs, its own loop.
    torch.manual_seed(0)
    true_w, true_b = [2, -3.4], 4.2
    features = torch.randn(1000, 2)
    labels = true_w[0] * features[:, 0] + true_w[1] * features[:, 1] + true_b
    labels += torch.normal(0, 0.01, size=labels.size())
    w = torch.normal(0, 0.01, (2, 1)).requires_grad_()
    b = torch.zeros(1).requires_grad_()
    lr, num_epochs, batch_size = 0.03, 3, 10
    net, loss = d2l.linreg, d2l.squared_loss
    for epoch in range(num_epochs):  # noqa: B007 - the book's loop, as written
        for X, y in d2l.data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y).sum()
            l.backward()
            d2l.sgd([w, b], lr, batch_size)
            w.grad.data.zero_()  # the book zeroes by hand; sgd already did: harmless
            b.grad.data.zero_()
        train_l = loss(net(features, w, b), labels)
    assert train_l.mean().item() < 1e-4
    np.testing.assert_allclose(w.detach().flatten().numpy(), true_w, atol=0.01)
    assert abs(b.item() - true_b) < 0.01


# --- 3.6: train_ch3 updates exactly like the book --------------------------------------------------------------


def small_blobs(n: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """Return 50 points of three overlapping blobs: the loss keeps falling for several epochs."""
    return blobs(n, distance=2.0)


def book_train(net, batches, loss, num_epochs, batch_size, params=None, lr=None, optimizer=None):
    """The book's train_ch3 loop; return (what it prints as loss per epoch, true mean loss per epoch)."""
    printed, true = [], []
    for _ in range(num_epochs):
        l_sum, true_sum, n = 0.0, 0.0, 0
        for X, y in batches:
            y_hat = net(X)
            l = loss(y_hat, y).sum()
            if optimizer is not None:
                optimizer.zero_grad()
            else:
                for p in params:
                    p.grad = None
            l.backward()
            if optimizer is None:
                with torch.no_grad():
                    for p in params:
                        p -= lr * p.grad / batch_size
            else:
                optimizer.step()
            l_sum += l.item()
            true_sum += F.cross_entropy(y_hat.detach(), y, reduction="sum").item()
            n += y.shape[0]
        printed.append(l_sum / n)
        true.append(true_sum / n)
    return printed, true


def scratch_cross_entropy(y_hat, y):
    """The book's cross-entropy on logits, unreduced, shape [n, 1]."""
    return -torch.log(torch.softmax(y_hat, dim=1).gather(1, y.view(-1, 1)))


CASES = {  # name: (loss, uses the optimizer, learning rate)
    "scratch loss, [W, b], lr": (scratch_cross_entropy, False, 0.5),
    "mean loss, params, lr (3.9's lr=100)": (nn.CrossEntropyLoss(), False, 8.0),
    "sum loss, params, lr": (nn.CrossEntropyLoss(reduction="sum"), False, 0.5),
    "mean loss, optimizer (3.7, 3.10)": (nn.CrossEntropyLoss(), True, 0.5),
    "unreduced loss, optimizer": (nn.CrossEntropyLoss(reduction="none"), True, 0.05),
}


@pytest.mark.parametrize("case", list(CASES))
def test_train_ch3_updates_like_the_book_and_prints_the_true_mean_loss(case, capsys):
    loss, use_optimizer, lr = CASES[case]
    X, y = small_blobs(50)
    batches = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 50, 16)]  # 16, 16, 16 and a last batch of 2
    runs = []
    for _ in range(2):  # ours, then the book's loop, from the same start
        torch.manual_seed(0)
        W = torch.normal(0, 0.5, (2, 3)).requires_grad_()
        b = torch.zeros(3, requires_grad=True)

        def net(X, W=W, b=b):
            return X @ W + b

        opt = torch.optim.SGD([W, b], lr=lr) if use_optimizer else None
        kwargs = dict(optimizer=opt) if use_optimizer else dict(params=[W, b], lr=lr)
        runs.append((W, b, net, kwargs))
    (W, b, net, kwargs), (W_ref, b_ref, net_ref, kwargs_ref) = runs
    W_start = W.detach().clone()
    history = d2l.train_ch3(net, batches, batches[:1], loss, 2, 16, **kwargs)
    printed, true = book_train(net_ref, batches, loss, 2, 16, **kwargs_ref)

    torch.testing.assert_close(W, W_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(b, b_ref, rtol=1e-5, atol=1e-6)
    assert (W.detach() - W_start).abs().max() > 0.01
    assert history.train_loss == pytest.approx(true, rel=1e-5)
    rows = parse_log(capsys.readouterr().out)
    assert [r[0] for r in rows] == [1, 2]
    assert [r[1] for r in rows] == pytest.approx(true, abs=5e-5)
    if case.startswith("mean"):  # the book prints the sum of batch means over n: smaller by about the batch size
        assert printed[0] == pytest.approx(true[0] * len(batches) / 50, rel=0.5)
        assert printed[0] < true[0] / 5
    else:
        assert printed == pytest.approx(true, rel=1e-5)
    if not use_optimizer:  # the book's sgd zeroes the gradients after each update
        assert W.grad is None or not W.grad.any()


def test_train_ch3_lines_match_the_returned_history_and_module_ends_in_train_mode(capsys):
    X, y = small_blobs(60)
    batches = [(X[i:i + 20], y[i:i + 20]) for i in range(0, 60, 20)]
    torch.manual_seed(0)
    net = nn.Sequential(d2l.FlattenLayer(), nn.Linear(2, 3))
    reference = nn.Sequential(d2l.FlattenLayer(), nn.Linear(2, 3))
    reference.load_state_dict(net.state_dict())
    history = d2l.train_ch3(net, batches, batches, nn.CrossEntropyLoss(), 3, 20, None, None,
                            torch.optim.SGD(net.parameters(), lr=0.5))
    rows = parse_log(capsys.readouterr().out)
    _, true = book_train(reference, batches, nn.CrossEntropyLoss(), 3, 20,  # the printed losses, by hand
                         optimizer=torch.optim.SGD(reference.parameters(), lr=0.5))
    assert [r[1] for r in rows] == pytest.approx(true, abs=5e-5)
    with torch.no_grad():  # the last line's test accuracy, recomputed from the trained net
        correct = sum(int((net(Xb).argmax(1) == yb).sum()) for Xb, yb in batches)
    assert rows[-1][3] == round(correct / 60, 3) == round(history[-1].test_acc, 3)
    assert [r[1] for r in rows] == pytest.approx(history.train_loss, abs=5e-5)
    assert rows[-1][2] > 0.8 and rows[0][1] > rows[-1][1]
    assert net.training


def test_train_ch3_divergence_keeps_the_epochs_done():
    X, y = small_blobs(60)
    batches = [(X[i:i + 20], y[i:i + 20]) for i in range(0, 60, 20)]
    calls = {"n": 0}

    def loss(y_hat, y):  # finite for the 3 batches of epoch 1, then nan
        calls["n"] += 1
        l = F.cross_entropy(y_hat, y, reduction="none")
        return l if calls["n"] <= 3 else l * float("nan")

    net = nn.Linear(2, 3)
    with pytest.raises(d2lnotes.TrainingDiverged, match="epoch 2, batch 1") as err:
        d2l.train_ch3(net, batches, batches, loss, 5, 20, list(net.parameters()), 0.1)
    assert [s.epoch for s in err.value.history] == [1] and isinstance(err.value.history, d2lnotes.History)


def test_train_ch3_explains_a_d2l_call_and_missing_lr():
    X, y = small_blobs(10)
    net = nn.Linear(2, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"sixth argument is batch_size.*d2lnotes.train_ch3"):
        d2l.train_ch3(net, [(X, y)], [(X, y)], nn.CrossEntropyLoss(), 1, opt)
    with pytest.raises(ValueError, match=r"params and lr .* or an optimizer"):
        d2l.train_ch3(net, [(X, y)], [(X, y)], nn.CrossEntropyLoss(), 1, 10, list(net.parameters()))


def test_train_ch3_stops_on_divergence_naming_the_learning_rate():
    X = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    y = X @ torch.tensor([2.0, -3.4]) + 4.2
    w, b = torch.zeros(2, 1, requires_grad=True), torch.zeros(1, requires_grad=True)
    with pytest.raises(d2lnotes.TrainingDiverged, match=r"lr=100 instead of lr=1000"):
        d2l.train_ch3(lambda X: d2l.linreg(X, w, b), [(X, y)] * 50, [(X, y)], d2l.squared_loss, 1, 32, [w, b],
                      1000.0)


# --- evaluate_accuracy -----------------------------------------------------------------------------------------


def test_evaluate_accuracy_takes_data_first_and_returns_a_module_to_train_mode():
    X = torch.eye(2).repeat(3, 1)
    data = [(X[:4], torch.tensor([0, 1, 0, 1])), (X[4:], torch.tensor([1, 1]))]
    net = nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))
        net.bias.zero_()
    modes = []
    net.register_forward_hook(lambda m, i, o: modes.append(m.training))
    assert d2l.evaluate_accuracy(data, net) == pytest.approx(5 / 6)
    assert modes == [False, False] and net.training
    with pytest.raises(TypeError, match=r"data first.*evaluate_accuracy\(test_iter, net\)"):
        d2l.evaluate_accuracy(net, data)


def test_evaluate_accuracy_takes_the_device_of_the_books_section_5_5(monkeypatch):
    data = [(torch.eye(2), torch.tensor([0, 1]))]
    assert d2l.evaluate_accuracy(data, lambda X: X, torch.device("cpu")) == 1.0  # positional, as the book calls it
    asked = []
    monkeypatch.setattr(d2l, "_evaluate_accuracy", lambda net, it, device=None: asked.append(device) or 0.5)
    d2l.evaluate_accuracy(data, lambda X: X, "cuda:1")
    d2l.evaluate_accuracy(data, lambda X: X)
    assert asked == ["cuda:1", None]  # the batches go where the book's caller says, else to the module's device


def test_evaluate_accuracy_calls_an_is_training_function_with_false():
    calls = []

    def net(X, is_training=True):  # the book's dropout-from-scratch model shape
        calls.append(is_training)
        return X

    data = [(torch.eye(2), torch.tensor([0, 0]))]
    assert d2l.evaluate_accuracy(data, net) == 0.5
    assert calls == [False]


# --- 3.5, 3.7, 3.11: layers and figures ------------------------------------------------------------------------


def test_flatten_layer_flattens_each_example():
    x = torch.arange(24.0).reshape(2, 1, 3, 4)
    out = d2l.FlattenLayer()(x)
    assert out.shape == (2, 12) and torch.equal(out, nn.Flatten()(x))
    assert torch.equal(d2l.FlattenLayer()(x.transpose(2, 3)), x.transpose(2, 3).reshape(2, 12))  # non-contiguous
    assert repr(d2l.FlattenLayer()) == "FlattenLayer()"


def test_show_fashion_mnist_one_row_titled_twelve_inches_wide():
    images = torch.rand(4, 1, 28, 28)
    labels = d2l.get_fashion_mnist_labels([0, 9, 3, 5])
    assert d2l.show_fashion_mnist(images, labels) is None
    fig = d2l.plt.gcf()
    assert [ax.get_title() for ax in fig.axes] == ["t-shirt", "ankle boot", "dress", "sandal"]
    assert fig.get_size_inches()[0] == pytest.approx(12)
    np.testing.assert_allclose(fig.axes[1].get_images()[0].get_array(), images[1, 0].numpy())


def test_semilogy_one_and_two_curves():
    d2l.semilogy(range(1, 4), [1.0, 0.1, 0.01], "epochs", "loss", legend=["ignored without a second curve"])
    ax = d2l.plt.gca()
    assert (ax.get_yscale(), ax.get_xlabel(), ax.get_ylabel()) == ("log", "epochs", "loss")
    assert len(ax.lines) == 1 and ax.get_legend() is None
    d2l.plt.figure()
    d2l.semilogy(range(1, 4), [1.0, 0.1, 0.01], "epochs", "loss", range(1, 4), np.array([2.0, 0.5, 0.3]),
                 ["train", "test"], figsize=(5, 3))
    ax = d2l.plt.gca()
    assert len(ax.lines) == 2 and ax.lines[1].get_linestyle() == ":"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert list(ax.lines[1].get_ydata()) == [2.0, 0.5, 0.3]
    assert tuple(d2l.plt.rcParams["figure.figsize"]) == (5, 3)


def test_set_figsize_and_use_svg_display_work_outside_ipython():
    d2l.set_figsize((4, 3))
    assert tuple(d2l.plt.rcParams["figure.figsize"]) == (4, 3)
    d2l.use_svg_display()  # the book's version raises AttributeError on IPython 9
    assert d2l.plt.rcParams["svg.hashsalt"]


# --- load_data_fashion_mnist: root first, never written --------------------------------------------------------

def files_in(folder: Path) -> list[str]:
    """Return the names of the files under folder (none if it does not exist), the fetch locks left out."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.parent.name != ".locks")


@pytest.mark.needs_data
def test_load_data_reads_a_verified_root_in_place_and_writes_nothing(tmp_path, data_root):
    root = tmp_path / "Datasets" / "FashionMNIST"
    raw = raw_dir(root)  # where the book's torchvision download put the files
    raw.mkdir(parents=True)
    for name in FILE_NAMES:  # .gz content under the decompressed names: verified and read as is
        os.symlink(REAL_DATA / f"{name}.gz", raw / name)
    train_iter, test_iter = d2l.load_data_fashion_mnist(256, root=str(root))
    assert files_in(data_root) == []
    assert sorted(p.name for p in raw.iterdir()) == sorted(FILE_NAMES)
    assert (train_iter.num_examples, test_iter.num_examples, len(train_iter)) == (60000, 10000, 235)
    X, y = next(iter(test_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert 0 <= X.min() and X.max() <= 1
    assert d2l.get_fashion_mnist_labels(y[:3]) == ["ankle boot", "pullover", "trouser"]


@pytest.mark.needs_data
def test_load_data_without_files_in_root_uses_the_data_dir_and_leaves_root_alone(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", str(REAL_DATA))
    root = tmp_path / "nothing-here"
    train_iter, test_iter = d2l.load_data_fashion_mnist(1000, resize=14, root=root)
    assert not root.exists()
    assert files_in(data_root) == sorted(FILE_NAMES)
    X, _ = next(iter(train_iter))
    assert X.shape == (1000, 1, 14, 14)
    assert d2l._fetch_config(root) == FetchConfig(system_dirs=(raw_dir(root), root, REAL_DATA))


# --- the book's chapter-3 programs on the real Fashion-MNIST ---------------------------------------------------


def train_and_parse(capsys, *args, **kwargs):
    """Run d2l.train_ch3 and return (printed rows, returned history)."""
    history = d2l.train_ch3(*args, **kwargs)
    rows = parse_log(capsys.readouterr().out)
    assert [r[0] for r in rows] == list(range(1, len(history) + 1))
    return rows, history


def test_softmax_regression_from_scratch_as_the_book_writes_it(fashion_mnist_256, capsys):
    train_iter, test_iter = fashion_mnist_256
    torch.manual_seed(0)
    np.random.seed(0)
    num_inputs, num_outputs = 784, 10
    W = torch.tensor(np.random.normal(0, 0.01, (num_inputs, num_outputs)), dtype=torch.float)
    b = torch.zeros(num_outputs, dtype=torch.float)
    W.requires_grad_(requires_grad=True)
    b.requires_grad_(requires_grad=True)

    def softmax(X):
        X_exp = X.exp()
        return X_exp / X_exp.sum(dim=1, keepdim=True)

    def net(X):
        return softmax(torch.mm(X.view((-1, num_inputs)), W) + b)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat.gather(1, y.view(-1, 1)))

    assert 0.03 <= d2l.evaluate_accuracy(test_iter, net) <= 0.2  # untrained: about one in ten
    # One epoch; chapter 12 runs the book's five and compares them with its log.
    rows, history = train_and_parse(capsys, net, train_iter, test_iter, cross_entropy, 1, 256, [W, b], 0.1)
    assert len(rows) == 1
    assert 0.74 <= rows[0][1] <= 0.84  # the book: 0.7878
    assert 0.70 <= rows[0][3] <= 0.83  # the book: test acc 0.794 after epoch 1
    assert d2l.evaluate_accuracy(test_iter, net) == history[-1].test_acc


def test_concise_softmax_regression_prints_the_true_loss_not_0_0031(fashion_mnist_256, capsys):
    train_iter, test_iter = fashion_mnist_256
    torch.manual_seed(0)
    net = nn.Sequential(d2l.FlattenLayer(), nn.Linear(784, 10))
    init.normal_(net[1].weight, mean=0, std=0.01)
    init.constant_(net[1].bias, val=0)
    batch_means, sizes = [], []
    cross_entropy = nn.CrossEntropyLoss()

    def loss(y_hat, y):  # nn.CrossEntropyLoss(), recording what the book's arithmetic would add up
        l = cross_entropy(y_hat, y)
        batch_means.append(l.detach().item())
        sizes.append(len(y))
        return l

    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    rows, history = train_and_parse(capsys, net, train_iter, test_iter, loss, 1, 256, None, None, optimizer)
    first = slice(0, len(train_iter))
    book_loss = sum(batch_means[first]) / sum(sizes[first])  # train_l_sum / n with mean-reduced batches
    true_loss = sum(m * n for m, n in zip(batch_means[first], sizes[first])) / sum(sizes[first])
    assert round(book_loss, 4) == 0.0031  # the book's printed epoch-1 loss
    assert rows[0][1] == round(true_loss, 4) and 0.74 <= true_loss <= 0.84
    assert net.training


def test_mlp_from_scratch_with_the_books_lr_100(fashion_mnist_256, capsys):
    train_iter, test_iter = fashion_mnist_256
    torch.manual_seed(0)
    np.random.seed(0)
    num_inputs, num_outputs, num_hiddens = 784, 10, 256
    W1 = torch.tensor(np.random.normal(0, 0.01, (num_inputs, num_hiddens)), dtype=torch.float)
    b1 = torch.zeros(num_hiddens, dtype=torch.float)
    W2 = torch.tensor(np.random.normal(0, 0.01, (num_hiddens, num_outputs)), dtype=torch.float)
    b2 = torch.zeros(num_outputs, dtype=torch.float)
    params = [W1, b1, W2, b2]
    for param in params:
        param.requires_grad_(requires_grad=True)

    def relu(X):
        return torch.max(input=X, other=torch.tensor(0.0))

    def net(X):
        X = X.view((-1, num_inputs))
        H = relu(torch.matmul(X, W1) + b1)
        return torch.matmul(H, W2) + b2

    # mean-reduced loss, and the book's sgd divides by batch_size again: lr 100 is 0.39 on the mean gradient
    rows, _ = train_and_parse(capsys, net, train_iter, test_iter, torch.nn.CrossEntropyLoss(), 1, 256, params,
                              100.0)
    assert 0.70 <= rows[0][1] <= 0.90  # the book: 0.8274 (its five epochs run in chapter 12)
    assert 0.65 <= rows[0][3] <= 0.85


def test_concise_mlp(fashion_mnist_256, capsys):
    train_iter, test_iter = fashion_mnist_256
    torch.manual_seed(0)
    net = nn.Sequential(d2l.FlattenLayer(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    for params in net.parameters():
        init.normal_(params, mean=0, std=0.01)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    rows, _ = train_and_parse(capsys, net, train_iter, test_iter, torch.nn.CrossEntropyLoss(), 1, 256, None, None,
                              optimizer)
    assert 0.70 <= rows[0][1] <= 0.90  # the book: 0.0031 printed, 0.79 per example
    assert 0.65 <= rows[0][3] <= 0.85
