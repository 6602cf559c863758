"""Tests for d2lnotes.train, the core helpers the books' loops are written with."""

import math

import pytest
import torch
from torch import nn

import d2lnotes as d2l
from d2lnotes import train
from helpers import Recorder, batches


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

def test_evaluate_accuracy_with_a_module_uses_eval_mode_and_no_grad():
    net = Recorder()
    X = torch.eye(2).repeat(3, 1)
    acc = d2l.evaluate_accuracy(net, batches(X, torch.tensor([0, 1, 0, 1, 1, 1]), 4))
    assert acc == pytest.approx(5 / 6)
    assert net.seen == [(False, False, "cpu")] * 2
    assert not net.training  # like d2l, the module is left in eval mode



def test_accuracy_counts_column_labels_without_broadcasting() -> None:
    y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    y = torch.tensor([1, 0, 1, 1])
    assert d2l.accuracy(y_hat, y) == 3.0
    assert d2l.accuracy(y_hat, y.reshape(-1, 1)) == 3.0  # plain == would broadcast to 4x4 and count 8



def test_evaluate_accuracy_and_loss_say_an_empty_loader_yielded_no_batch():
    net = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="evaluate_accuracy: the data iterator yielded no batch"):
        d2l.evaluate_accuracy(net, [])
    with pytest.raises(ValueError, match="evaluate_loss: the data iterator yielded no batch"):
        d2l.evaluate_loss(net, [], nn.CrossEntropyLoss())


# --- the epoch record and the history ------------------------------------------------------------------------


def test_history_prints_as_a_table_and_epochs_as_log_lines():
    h = d2l.History([d2l.EpochStats(1, 0.78591, 0.7491, 0.7852, 2.04),
                     d2l.EpochStats(2, 0.5702, 0.8134, 0.8011, 1.96)])
    assert str(h[0]) == "epoch 1, loss 0.7859, train acc 0.749, test acc 0.785"
    assert repr(h).splitlines() == [
        "epoch  train loss  train acc  test acc",
        "    1      0.7859      0.749     0.785",
        "    2      0.5702      0.813     0.801",
    ]
    assert h.train_acc == [0.7491, 0.8134]
    assert h[1]._asdict()["test_acc"] == 0.8011



def test_history_table_rounds_losses_to_four_and_accuracies_to_three_places():
    h = d2l.History([d2l.EpochStats(1, 0.78594, 0.74916, 0.78549, 1.0)])
    assert h.columns() == ["epoch", "train_loss", "train_acc", "test_acc", "seconds"]
    assert str(h).splitlines()[1].split() == ["1", "0.7859", "0.749", "0.785"]
    assert str(h[0]) == "epoch 1, loss 0.7859, train acc 0.749, test acc 0.785"
    with pytest.raises(AttributeError, match="no column 'val_acc'"):
        _ = h.val_acc


# --- the divergence check and gradient clipping --------------------------------------------------------------


def test_check_finite_raises_training_diverged_naming_where_and_a_smaller_lr():
    d2l.train.check_finite(torch.tensor([1.0, 2.0]), epoch=1, batch=1)  # finite: nothing happens
    done = d2l.History([d2l.EpochStats(1, 0.5, 0.8, 0.8, 1.0)])
    with pytest.raises(d2l.TrainingDiverged) as info:
        d2l.train.check_finite(torch.tensor([1.0, float("nan")], requires_grad=True), epoch=2, batch=17, lr=3.0,
                               history=done)
    message = str(info.value)
    assert "epoch 2, batch 17" in message and "nan" in message and "lr=0.3 instead of lr=3" in message
    assert info.value.epoch == 2 and info.value.batch == 17 and math.isnan(info.value.loss)
    assert info.value.history is done and isinstance(info.value, RuntimeError)
    with pytest.raises(d2l.TrainingDiverged, match=r"became inf \(first step\).*a tenth of the current"):
        d2l.train.check_finite(float("inf"))


def test_graph_leaves_are_the_tensors_backward_gives_a_gradient():
    W = torch.ones(2, 3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    frozen = torch.ones(3)  # no gradient: not a leaf of the graph
    l = ((torch.ones(4, 2) @ W + b) * frozen).sum()
    leaves = train.graph_leaves(l)
    assert len(leaves) == 2 and {id(t) for t in leaves} == {id(W), id(b)}
    assert train.graph_leaves(torch.ones(3).sum()) == []


def test_clip_gradients_rescales_the_joint_norm_of_the_given_parameters_only():
    w, v = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    w.grad, v.grad = torch.tensor([30.0, 40.0]), torch.tensor([5.0])
    train.clip_gradients([w], 1.0)  # norm 50 -> 1
    assert w.grad.tolist() == pytest.approx([0.6, 0.8]) and v.grad.tolist() == [5.0]
    train.clip_gradients([w, v], None)  # None: leave them
    assert w.grad.tolist() == pytest.approx([0.6, 0.8])
