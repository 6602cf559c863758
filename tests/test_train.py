"""Tests for d2lnotes.train: d2l's chapter-3 loop with the same meaning, plus history, divergence and device."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import d2lnotes as d2l  # noqa: E402
from d2lnotes import train  # noqa: E402
from helpers import batches, blobs  # noqa: E402



# --- d2l's small helpers -------------------------------------------------------------------------------------


def test_accumulator_adds_resets_and_indexes():
    m = d2l.Accumulator(3)
    m.add(1, 2.5, torch.tensor(3))
    m.add(1, 0.5, 4)
    assert (m[0], m[1], m[2]) == (2.0, 3.0, 7.0)
    assert isinstance(m[2], float)
    m.reset()
    assert m.data == [0.0, 0.0, 0.0]


def test_timer_records_start_stop_avg_sum_cumsum(monkeypatch):
    clock = iter([10.0, 11.5, 20.0, 22.5])
    monkeypatch.setattr(train.time, "perf_counter", lambda: next(clock))
    t = d2l.Timer()  # starts at 10.0
    assert t.stop() == 1.5
    t.start()
    assert t.stop() == 2.5
    assert t.times == [1.5, 2.5]
    assert (t.avg(), t.sum(), t.cumsum()) == (2.0, 4.0, [1.5, 4.0])


def test_accuracy_counts_correct_predictions_as_a_float():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.9, 0.05, 0.05]], requires_grad=True)
    y = torch.tensor([0, 2, 0])
    acc = d2l.accuracy(y_hat, y)
    assert acc == 2.0 and isinstance(acc, float)
    assert d2l.accuracy(torch.tensor([1, 2, 0]), torch.tensor([1, 0, 0])) == 2.0  # labels, not scores


def test_sgd_steps_against_the_summed_gradient_and_zeros_it():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    (w * torch.tensor([3.0, 5.0])).sum().backward()  # grad = [3, 5]
    d2l.sgd([w], lr=0.5, batch_size=5)
    assert w.detach().tolist() == pytest.approx([1.0 - 0.5 * 3 / 5, -2.0 - 0.5 * 5 / 5])
    assert w.grad.tolist() == [0.0, 0.0]


def test_linreg_and_squared_loss():
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = torch.tensor([[2.0], [-1.0]])
    y_hat = d2l.linreg(X, w, 0.5)
    assert y_hat.tolist() == [[0.5], [2.5]]
    l = d2l.squared_loss(y_hat, torch.tensor([1.5, 2.5]))
    assert l.shape == (2, 1)  # unreduced, reshaped like y_hat
    assert l.flatten().tolist() == [0.5, 0.0]


def test_try_gpu_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert d2l.try_gpu() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert d2l.try_gpu(1) == torch.device("cuda:1")
    assert d2l.try_gpu(2) == torch.device("cpu")


# --- evaluate_accuracy ---------------------------------------------------------------------------------------


def test_evaluate_accuracy_with_a_plain_function():
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1, 1])
    assert d2l.evaluate_accuracy(lambda X: X, batches(X, y, 3)) == 0.75


class Recorder(nn.Module):
    """Identity model that records the training flag, grad mode and device it saw."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.seen: list[tuple[bool, bool, str]] = []

    def forward(self, X):
        self.seen.append((self.training, torch.is_grad_enabled(), X.device.type))
        return X * self.scale


def test_evaluate_accuracy_with_a_module_uses_eval_mode_and_no_grad():
    net = Recorder()
    X = torch.eye(2).repeat(3, 1)
    acc = d2l.evaluate_accuracy(net, batches(X, torch.tensor([0, 1, 0, 1, 1, 1]), 4))
    assert acc == pytest.approx(5 / 6)
    assert net.seen == [(False, False, "cpu")] * 2
    assert not net.training  # like d2l, the module is left in eval mode


# --- optimize_step and the conventions -------------------------------------------------------------------------


def _step_result(reduction: str, use_optimizer: bool) -> tuple[float, list[float]]:
    """One d2l-0.17 step of linear regression on fixed data; return (reported loss, parameters after)."""
    X = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 1.0]])
    y = torch.tensor([1.0, 0.0, 2.0, -1.0])
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.1, -0.2]]))
        net.bias.fill_(0.3)
    loss = nn.MSELoss(reduction=reduction)
    l = loss(net(X).reshape(-1), y)
    params = list(net.parameters())
    if use_optimizer:
        updater = torch.optim.SGD(params, lr=0.1)
    else:
        def updater(batch_size):
            d2l.sgd(params, 0.1, batch_size)
    update = d2l.d2l017.d2l_convention(updater)(l, len(X))
    mean = d2l.optimize_step(update.objective, update.step, mean_loss=update.mean_loss)
    return mean, [p for param in params for p in param.detach().flatten().tolist()]


def test_d2l_convention_same_update_and_loss_for_optimizer_or_custom_updater_and_any_reduction():
    results = [_step_result(r, opt) for r in ("none", "mean") for opt in (True, False)]
    expected_loss = ((0.1 - 0.4 + 0.3 - 1) ** 2 + (0.3 + 0.2 + 0.3) ** 2 + (0.05 - 0.1 + 0.3 - 2) ** 2
                     + (-0.2 - 0.2 + 0.3 + 1) ** 2) / 4
    for mean, params in results:
        assert mean == pytest.approx(expected_loss, rel=1e-6)
        np.testing.assert_allclose(params, results[0][1], rtol=1e-6)
    assert results[0][1] != [0.1, -0.2, 0.3]


def test_d2l_convention_back_propagates_the_mean_for_an_optimizer_and_the_sum_for_an_updater():
    l = torch.tensor([1.0, 2.0, 6.0])
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    by_optimizer = d2l.d2l017.d2l_convention(opt)(l, 3)
    assert float(by_optimizer.objective) == 3.0 and by_optimizer.mean_loss == 3.0 and by_optimizer.step is opt
    sizes = []
    by_updater = d2l.d2l017.d2l_convention(sizes.append)(l, 3)
    assert float(by_updater.objective) == 9.0 and by_updater.mean_loss == 3.0
    by_updater.step.step()
    assert sizes == [3]  # updater(batch_size)
    scalar = d2l.d2l017.d2l_convention(sizes.append)(torch.tensor(3.0), 3)  # a scalar loss counts as the mean
    assert float(scalar.objective) == 9.0 and scalar.mean_loss == 3.0


def test_optimize_step_raises_training_diverged_before_updating():
    w = torch.ones(2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=3.0)
    l = (w * torch.tensor([float("nan"), 1.0])).sum()
    with pytest.raises(d2l.TrainingDiverged) as info:
        d2l.optimize_step(l, opt, epoch=2, batch=17)
    message = str(info.value)
    assert "epoch 2, batch 17" in message and "nan" in message
    assert "lr=0.3 instead of lr=3" in message
    assert info.value.epoch == 2 and info.value.batch == 17 and math.isnan(info.value.loss)
    assert isinstance(info.value, RuntimeError)
    assert w.tolist() == [1.0, 1.0] and w.grad is None


def test_optimize_step_checks_the_reported_mean_not_only_the_objective():
    w = torch.ones(1, requires_grad=True)
    with pytest.raises(d2l.TrainingDiverged):
        d2l.optimize_step((w * 2).sum(), torch.optim.SGD([w], lr=0.1), mean_loss=float("inf"))
    assert w.grad is None


def test_optimize_step_refuses_an_unreduced_loss_with_what_to_do():
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(3,\).*l.mean\(\) or l.sum\(\)"):
        d2l.optimize_step(w * 2, torch.optim.SGD([w], lr=0.1))


def test_optimize_step_clips_the_gradient_norm():
    w = torch.zeros(2, requires_grad=True)
    target = torch.tensor([30.0, 40.0])
    opt = torch.optim.SGD([w], lr=1.0)
    d2l.optimize_step(((w - target) ** 2).sum() / 2, opt, grad_clip=1.0)  # gradient norm 50 -> 1
    np.testing.assert_allclose(w.detach().numpy(), [0.6, 0.8], rtol=1e-4)
    v = torch.zeros(2, requires_grad=True)
    step = d2l.d2l017.UpdaterStep(lambda n: d2l.sgd([v], 1.0, n), 1)
    with pytest.raises(ValueError, match="params="):
        d2l.optimize_step(((v - target) ** 2).sum(), step, grad_clip=1.0)
    d2l.optimize_step(((v - target) ** 2).sum() / 2, step, grad_clip=1.0, params=[v])
    np.testing.assert_allclose(v.detach().numpy(), [0.6, 0.8], rtol=1e-4)


def test_optimize_step_takes_any_step_and_runs_it_without_autograd():
    class PlainSGD:  # d2l 1.0's from-scratch SGD: zero_grad() and step(), updating leaves in place
        def __init__(self, params, lr):
            self.params, self.lr = params, lr

        def zero_grad(self):
            for p in self.params:
                if p.grad is not None:
                    p.grad.zero_()

        def step(self):
            for p in self.params:
                p -= self.lr * p.grad  # an in-place update of a leaf: allowed only without autograd

    w = torch.tensor([1.0], requires_grad=True)
    opt = PlainSGD([w], 0.5)
    assert d2l.optimize_step((w * torch.tensor([2.0, 4.0])).mean(), opt) == pytest.approx(3.0)
    assert w.item() == pytest.approx(1.0 - 0.5 * 3.0)  # mean gradient
    with pytest.raises(d2l.TrainingDiverged, match="lr=0.05 instead of lr=0.5"):
        d2l.optimize_step((w * float("inf")).mean(), opt)


# --- train_epoch_ch3 / train_ch3 -----------------------------------------------------------------------------


def test_train_epoch_reports_mean_loss_per_example_for_any_reduction_and_updater():
    X, y = blobs(100)
    data = batches(X, y, 32)  # last batch smaller: the mean must be weighted by examples
    reports = []
    for reduction in ("none", "mean"):
        for use_opt in (True, False):
            torch.manual_seed(0)
            net = nn.Linear(2, 3)
            params = list(net.parameters())
            updater = torch.optim.SGD(params, lr=0.1) if use_opt else (lambda n, p=params: d2l.sgd(p, 0.1, n))
            reports.append(d2l.train_epoch_ch3(net, data, nn.CrossEntropyLoss(reduction=reduction), updater))
    for loss, acc in reports:
        assert loss == pytest.approx(reports[0][0], rel=1e-5)
        assert acc == reports[0][1]
    # Recompute the first epoch by hand: mean over examples of the loss before each batch's step.
    torch.manual_seed(0)
    net = nn.Linear(2, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    total, correct = 0.0, 0
    for Xb, yb in data:
        l = nn.functional.cross_entropy(net(Xb), yb, reduction="none")
        total += l.sum().item()
        correct += (net(Xb).argmax(1) == yb).sum().item()
        opt.zero_grad()
        l.mean().backward()
        opt.step()
    assert reports[0][0] == pytest.approx(total / 100, rel=1e-5)
    assert reports[0][1] == correct / 100


def test_train_epoch_puts_a_module_in_training_mode_with_gradients():
    net = Recorder()
    X, y = torch.eye(2).repeat(2, 1), torch.tensor([0, 1, 0, 1])
    net.eval()
    d2l.train_epoch_ch3(net, batches(X, y, 2), nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), 0.1))
    assert net.seen == [(True, True, "cpu")] * 2


def test_train_ch3_returns_the_per_epoch_history_and_learns():
    X, y = blobs(300)
    train_iter, test_iter = batches(X[:240], y[:240], 32), batches(X[240:], y[240:], 32)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3))
    history = d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 4,
                            torch.optim.SGD(net.parameters(), lr=0.1), animate=False)
    assert isinstance(history, d2l.History) and len(history) == 4
    assert [s.epoch for s in history] == [1, 2, 3, 4]
    assert all(isinstance(s, d2l.EpochStats) and isinstance(s.seconds, float) for s in history)
    assert history.train_loss[-1] < history.train_loss[0]
    assert history[-1].test_acc >= 0.95 and history.test_acc == [s.test_acc for s in history]
    assert history[-1].test_acc == d2l.evaluate_accuracy(net, test_iter)


def test_history_prints_as_a_table_and_epochs_as_log_lines():
    h = d2l.History([d2l.EpochStats(1, 0.78591, 0.7491, 0.7852, 2.04),
                     d2l.EpochStats(2, 0.5702, 0.8134, 0.8011, 1.96)])
    assert str(h[0]) == "epoch 1, loss 0.7859, train acc 0.749, test acc 0.785"
    assert repr(h).splitlines() == [
        "epoch  train loss  train acc  test acc",
        "    1      0.7859      0.749     0.785",
        "    2      0.5702      0.813     0.801",
    ]
    assert str(h) == repr(h)
    assert h.train_acc == [0.7491, 0.8134]
    assert h[1]._asdict()["test_acc"] == 0.8011


def test_train_ch3_prints_nothing_when_the_plot_is_off(capsys):
    X, y = blobs(30)
    net = nn.Linear(2, 3)
    d2l.train_ch3(net, batches(X, y, 10), batches(X, y, 10), nn.CrossEntropyLoss(), 2,
                  torch.optim.SGD(net.parameters(), lr=0.1), animate=False)
    assert capsys.readouterr().out == ""
    d2l.train_ch3(net, batches(X, y, 10), batches(X, y, 10), nn.CrossEntropyLoss(), 1,
                  torch.optim.SGD(net.parameters(), lr=0.1), animate=False, verbose=True)
    assert capsys.readouterr().out.startswith("epoch 1, loss ")


def test_train_ch3_draws_the_three_d2l_curves_and_saves_them(tmp_path):
    X, y = blobs(60)
    net = nn.Linear(2, 3)
    path = tmp_path / "curves.png"
    history = d2l.train_ch3(net, batches(X, y, 20), batches(X, y, 20), nn.CrossEntropyLoss(), 3,
                            torch.optim.SGD(net.parameters(), lr=0.1), plot_path=path)
    assert path.read_bytes().startswith(b"\x89PNG")
    ax = d2l.plt.gcf().axes[0]  # under Agg the figure stays in pyplot for a final plt.show()/savefig
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "train acc", "test acc"]
    assert ax.get_xlabel() == "epoch" and ax.get_ylim() == (0.3, 0.9) and ax.get_xlim() == (1, 3)
    lines = ax.get_lines()
    assert lines[0].get_ydata().tolist() == history.train_loss
    assert lines[2].get_ydata().tolist() == history.test_acc


def test_train_ch3_ylim_none_fits_the_plot_to_the_curves():
    X, y = blobs(60)
    net = nn.Linear(2, 3)
    with torch.no_grad():
        net.weight.mul_(20)  # a first-epoch loss far above d2l's fixed 0.9
    history = d2l.train_ch3(net, batches(X, y, 20), batches(X, y, 20), nn.CrossEntropyLoss(), 2,
                            torch.optim.SGD(net.parameters(), lr=0.01), ylim=None)
    low, high = d2l.plt.gcf().axes[0].get_ylim()
    assert history[0].train_loss > 0.9 and low <= min(history.train_acc) and high >= history[0].train_loss


def test_train_ch3_stops_with_a_clear_message_when_the_loss_diverges():
    torch.manual_seed(0)
    X = torch.randn(300, 2)
    y = X @ torch.tensor([2.0, -3.0]) + 1.0
    net = nn.Linear(2, 1)
    with pytest.raises(d2l.TrainingDiverged, match=r"epoch \d+, batch \d+.*smaller learning rate.*lr=100 inst"):
        d2l.train_ch3(net, batches(X, y, 30), batches(X, y, 30), d2l.squared_loss, 20,
                      torch.optim.SGD(net.parameters(), lr=1000.0), animate=False)


def test_train_ch3_from_scratch_with_custom_updater_diverges_clearly():
    X, y = blobs(90)
    W = torch.normal(0, 0.01, size=(2, 3), requires_grad=True)
    b = torch.zeros(3, requires_grad=True)

    def net(X):
        return torch.softmax(X @ W + b, dim=1)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat[range(len(y_hat)), y])

    with pytest.raises(d2l.TrainingDiverged, match="a tenth of the current learning rate"):
        d2l.train_ch3(net, batches(X * 1e4, y, 30), batches(X, y, 30), cross_entropy, 3,
                      lambda n: d2l.sgd([W, b], 1e4, n), animate=False)


def test_train_ch3_moves_batches_to_the_given_device():
    net = Recorder()
    X, y = torch.eye(2).repeat(2, 1), torch.tensor([0, 1, 0, 1])
    d2l.train_ch3(net, batches(X, y, 2), batches(X, y, 4), nn.CrossEntropyLoss(), 1,
                  torch.optim.SGD(net.parameters(), 0.1), device="cpu", animate=False)
    assert net.seen == [(True, True, "cpu")] * 2 + [(False, False, "cpu")]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_train_ch3_on_gpu_moves_module_and_batches():
    net = Recorder()
    X, y = torch.eye(2).repeat(2, 1), torch.tensor([0, 1, 0, 1])
    history = d2l.train_ch3(net, batches(X, y, 2), batches(X, y, 4), nn.CrossEntropyLoss(), 1,
                            torch.optim.SGD(net.parameters(), 0.1), device=d2l.try_gpu(), animate=False)
    assert net.scale.device.type == "cuda"
    assert {seen[2] for seen in net.seen} == {"cuda"}
    assert 0.0 <= history[0].test_acc <= 1.0
    assert d2l.evaluate_accuracy(net, batches(X, y, 4)) == history[0].test_acc  # device inferred


# --- predict_ch3 ---------------------------------------------------------------------------------------------


def test_predict_ch3_titles_true_and_predicted_labels():
    X = torch.rand(8, 1, 28, 28)
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    wrong_on_odd = torch.tensor([0, 0, 2, 2, 4, 4, 6, 6])

    def net(X):  # predicts from the batch position, with gradients on like a from-scratch model
        return torch.nn.functional.one_hot(wrong_on_odd[: len(X)], 10).float().requires_grad_()

    assert d2l.predict_ch3(net, [(X, y)], n=4) is None  # like d2l: a notebook shows just the figure
    axes = d2l.plt.gcf().axes
    assert [ax.get_title() for ax in axes] == [
        "t-shirt\nt-shirt", "trouser\nt-shirt", "pullover\npullover", "dress\npullover"]
    np.testing.assert_allclose(axes[1].get_images()[0].get_array(), X[1, 0].numpy())
    d2l.predict_ch3(net, [(X, y)])
    assert len(d2l.plt.gcf().axes) == 6


# --- real Fashion-MNIST --------------------------------------------------------------------------------------

def test_softmax_regression_from_scratch_on_fashion_mnist_matches_d2l(fashion_mnist_256):
    train_iter, test_iter = fashion_mnist_256
    torch.manual_seed(0)
    W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)
    b = torch.zeros(10, requires_grad=True)

    def softmax(X):
        X_exp = torch.exp(X)
        return X_exp / X_exp.sum(1, keepdim=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat[range(len(y_hat)), y])

    def updater(batch_size):
        return d2l.sgd([W, b], 0.1, batch_size)

    # Two epochs; chapter 06 trains the ten of d2l's log and checks the end of it.
    history = d2l.train_ch3(net, train_iter, test_iter, cross_entropy, 2, updater, animate=False)
    assert len(history) == 2
    assert 0.74 <= history[0].train_loss <= 0.84  # d2l's log: 0.786
    assert 0.55 <= history[1].train_loss <= 0.62  # 0.570
    assert history[-1].test_acc >= 0.76
    d2l.predict_ch3(net, test_iter)
    titles = [ax.get_title().split("\n") for ax in d2l.plt.gcf().axes]
    assert len(titles) == 6 and sum(true == pred for true, pred in titles) >= 3


def test_concise_softmax_regression_on_fashion_mnist(fashion_mnist_256):
    train_iter, test_iter = fashion_mnist_256
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.normal_(net[1].weight, std=0.01)
    history = d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 3,
                            torch.optim.SGD(net.parameters(), lr=0.1), animate=False)
    assert 0.74 <= history[0].train_loss <= 0.84  # the same first epoch as from scratch
    assert history.train_loss == sorted(history.train_loss, reverse=True)
    assert history[-1].test_acc >= 0.78


def test_accuracy_counts_column_labels_without_broadcasting() -> None:
    y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    y = torch.tensor([1, 0, 1, 1])
    assert d2l.accuracy(y_hat, y) == 3.0
    assert d2l.accuracy(y_hat, y.reshape(-1, 1)) == 3.0  # plain == would broadcast to 4x4 and count 8


def test_divergence_keeps_the_history_of_the_epochs_before_it():
    X, y = blobs(96)
    calls = {"n": 0}

    def loss(y_hat, y):  # finite for two epochs of 3 batches, then nan
        calls["n"] += 1
        l = nn.functional.cross_entropy(y_hat, y, reduction="none")
        return l if calls["n"] <= 6 else l * float("nan")

    net = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(d2l.TrainingDiverged) as err:
        d2l.train_ch3(net, batches(X, y, 32), batches(X, y, 32), loss, 5, torch.optim.SGD(net.parameters(), lr=0.1),
                      animate=False)
    assert err.value.epoch == 3 and [s.epoch for s in err.value.history] == [1, 2]
    assert isinstance(err.value.history, d2l.History)


@pytest.mark.parametrize("call", ["evaluate_accuracy", "train_epoch_ch3", "train_ch3"])
def test_an_empty_loader_says_it_yielded_no_batch(call):
    net = nn.Sequential(nn.Linear(2, 3))
    sgd = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss(reduction="none")
    run = {"evaluate_accuracy": lambda: d2l.evaluate_accuracy(net, []),
           "train_epoch_ch3": lambda: d2l.train_epoch_ch3(net, [], loss, sgd),
           "train_ch3": lambda: d2l.train_ch3(net, [], [], loss, 1, sgd, animate=False)}[call]
    with pytest.raises(ValueError, match="yielded no batch"):
        run()


def test_a_loss_that_requires_grad_leaves_no_torch_warning(recwarn):
    X, y = blobs(64)
    net = nn.Sequential(nn.Linear(2, 3))
    metric = d2l.Accumulator(1)
    metric.add(nn.functional.cross_entropy(net(X), y))  # a learner's loss tensor, still attached to the graph
    d2l.train_ch3(net, batches(X, y, 32), batches(X, y, 32), nn.CrossEntropyLoss(), 1,
                  torch.optim.SGD(net.parameters(), lr=0.1), animate=False)
    assert [str(w.message) for w in recwarn] == []
