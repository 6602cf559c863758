"""Training, the core: the small helpers each book's training loop is written with.

The core knows no book and calls none of the faces. Each face writes its book's loop on these helpers, so a
learner who holds the book open next to it recognises it line by line: d2l 0.17's ``train_epoch_ch3`` and
``train_ch3`` (``d2lnotes.d2l017``), Dive-into-DL-PyTorch's ``train_ch3`` (``d2lnotes.d2lzh``) and d2l 1.0's
``Trainer.fit_epoch`` (``d2lnotes.d2l1.modules``). The helpers: ``Accumulator`` and ``Timer``, ``accuracy`` and
the ``evaluate_*`` functions, the per-epoch record (``EpochStats``) and ``History``, ``check_finite`` (the
divergence check, which carries the history so far), ``clip_gradients`` over given parameters, and the
from-scratch pieces every book shares (``sgd``, ``linreg``, ``squared_loss``).
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from d2lnotes.numerics import to_float

__all__ = [
    "Accumulator",
    "Timer",
    "TrainingDiverged",
    "EpochStats",
    "History",
    "accuracy",
    "evaluate_accuracy",
    "evaluate_loss",
    "check_finite",
    "clip_gradients",
    "graph_leaves",
    "learning_rate",
    "no_batch",
    "device_of",
    "sgd",
    "linreg",
    "squared_loss",
    "try_gpu",
    "try_all_gpus",
]

Net = Callable[[torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes nan or inf; says where and what to try.

    ``history`` holds the epochs completed before it.
    """

    def __init__(self, loss: float, epoch: int | None, batch: int | None, lr: float | None,
                 history: Sequence[Any] = ()) -> None:
        """Build the message from the bad loss, where it happened and the learning rate if known."""
        self.loss, self.epoch, self.batch, self.lr = loss, epoch, batch, lr
        self.history = history
        where = ", ".join(
            f"{name} {value}" for name, value in (("epoch", epoch), ("batch", batch)) if value is not None
        )
        smaller = f"lr={lr / 10:g} instead of lr={lr:g}" if lr else "a tenth of the current learning rate"
        super().__init__(
            f"training diverged: the loss became {loss} ({where or 'first step'}). The learning rate is "
            f"probably too large for this model and data. Re-create the model (the earlier steps have "
            f"already pushed its parameters far off) and train again with a smaller learning rate, e.g. {smaller}."
        )


class Accumulator:
    """Sum ``n`` running totals (d2l's metric accumulator)."""

    def __init__(self, n: int) -> None:
        """Start ``n`` totals at 0."""
        self.data = [0.0] * n

    def add(self, *args: float) -> None:
        """Add one value to each total (tensors are read without their gradient)."""
        self.data = [a + to_float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        """Set every total back to 0."""
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        """Return total ``idx``."""
        return self.data[idx]


class Timer:
    """Record several running times (d2l's Timer: start, stop, avg, sum, cumsum)."""

    def __init__(self) -> None:
        """Create the timer and start it."""
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        """Start (or restart) the clock."""
        self.tik = time.perf_counter()

    def stop(self) -> float:
        """Stop the clock, record the time since ``start()`` and return it (seconds)."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        """Return the average of the recorded times."""
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        """Return the sum of the recorded times."""
        return sum(self.times)

    def cumsum(self) -> list[float]:
        """Return the running totals of the recorded times."""
        return np.array(self.times).cumsum().tolist()


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Return the number of correct predictions (a float), from scores [B, classes] or labels [B]."""
    y_hat = y_hat.detach()
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    if y_hat.shape != y.shape and y_hat.numel() == y.numel():
        y_hat = y_hat.reshape(y.shape)  # labels [B, 1] against predictions [B] must not broadcast to [B, B]
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def device_of(net: Net, device: torch.device | str | None) -> torch.device | None:
    """Return ``device``, or for a module with parameters and no device given, where its parameters are."""
    if device is not None:
        return torch.device(device)
    if isinstance(net, nn.Module):
        param = next(iter(net.parameters()), None)
        return param.device if param is not None else None
    return None


def no_batch(what: str) -> ValueError:
    """Return the error for a data iterator that yielded no batch, saying what to check."""
    return ValueError(f"{what}: the data iterator yielded no batch; check the loader (an empty dataset, or an "
                      "iterator that was already used up: pass the loader itself, which starts afresh every epoch)")


def evaluate_accuracy(
    net: Net, data_iter: Iterable, device: torch.device | str | None = None
) -> float:
    """Return the accuracy of ``net`` on ``data_iter`` (a module is put in eval mode; no gradients)."""
    if isinstance(net, nn.Module):
        net.eval()
    device = device_of(net, device)
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            if device is not None:
                X, y = X.to(device), y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    if metric[1] == 0:
        raise no_batch("evaluate_accuracy")
    return metric[0] / metric[1]


def evaluate_loss(net: Net, data_iter: Iterable, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                  device: torch.device | str | None = None) -> float:
    """Return the mean loss per example of ``net`` on ``data_iter`` (d2l's ``evaluate_loss``; no gradients).

    Labels are reshaped like the output when they have as many elements (regression); a loss that returns a
    scalar counts as the batch's mean.
    """
    if isinstance(net, nn.Module):
        net.eval()
    device = device_of(net, device)
    metric = Accumulator(2)  # sum of losses, examples
    with torch.no_grad():
        for X, y in data_iter:
            if device is not None:
                X, y = X.to(device), y.to(device)
            out = net(X)
            if y.numel() == out.numel():
                y = y.reshape(out.shape)
            l = loss(out, y)
            if l.numel() > 1:
                metric.add(float(l.sum()), l.numel())
            else:
                metric.add(float(l) * len(X), len(X))
    if metric[1] == 0:
        raise no_batch("evaluate_loss")
    return metric[0] / metric[1]


def learning_rate(updater: Any) -> float | None:
    """Return the optimizer's (first) learning rate, or None when it cannot be read."""
    groups = getattr(updater, "param_groups", None)
    lr = groups[0].get("lr") if groups else getattr(updater, "lr", None)
    return float(lr) if isinstance(lr, (int, float)) else None


def check_finite(loss: Any, *, epoch: int | None = None, batch: int | None = None, lr: float | None = None,
                 history: Sequence[Any] = ()) -> None:
    """Raise ``TrainingDiverged`` (naming the epoch, the batch and a smaller ``lr``) if ``loss`` is nan or inf.

    ``loss`` is a number or a tensor of losses (read without its gradient); ``history`` is what the caller has
    recorded so far, kept on the exception.
    """
    value = to_float(loss.detach().mean()) if isinstance(loss, torch.Tensor) else float(loss)
    if not math.isfinite(value):
        raise TrainingDiverged(value, epoch, batch, lr, history)


def graph_leaves(t: torch.Tensor) -> list[torch.Tensor]:
    """Return the tensors ``t`` was computed from that ``t.backward()`` gives a gradient to (its parameters)."""
    leaves: list[torch.Tensor] = []
    seen: set[Any] = set()
    stack = [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):  # an AccumulateGrad node: .grad of this leaf is written
            leaves.append(node.variable)
        stack.extend(parent for parent, _ in node.next_functions)
    return leaves


def clip_gradients(params: Iterable[torch.Tensor], max_norm: float | None) -> None:
    """Rescale the gradients of ``params`` so that their joint norm is at most ``max_norm`` (None: leave them)."""
    if max_norm is not None:
        nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], max_norm)


class EpochStats(NamedTuple):
    """One epoch of ``train_ch3``: its number (from 1), train loss and accuracy, test accuracy, seconds."""

    epoch: int
    train_loss: float
    train_acc: float
    test_acc: float
    seconds: float

    def __str__(self) -> str:
        """Return the epoch as a log line: ``epoch 1, loss 0.7859, train acc 0.749, test acc 0.785``."""
        return (
            f"epoch {self.epoch}, loss {self.train_loss:.4f}, train acc {self.train_acc:.3f}, "
            f"test acc {self.test_acc:.3f}"
        )


def _as_dict(record: Any) -> dict[str, Any]:
    """Return a history record (an ``EpochStats`` or another named tuple, or a dict) as a dict."""
    return record._asdict() if hasattr(record, "_asdict") else dict(record)


def _cell(name: str, value: Any) -> str:
    """Format one table cell: losses to 4 decimals, other floats (accuracies) to 3, None as blank."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if "loss" in name else f"{value:.3f}"
    return str(value)


class History(list):
    """Per-epoch records: ``EpochStats`` from ``train_ch3``, dicts from d2l 1.0's ``Trainer.fit``.

    A column is an attribute (``history.test_acc``: that value for every epoch); the history prints as a table,
    one row per epoch, without the timings (they vary between runs).
    """

    def columns(self) -> list[str]:
        """Return the column names, in the order they first appeared."""
        return list(dict.fromkeys(k for record in self for k in _as_dict(record)))

    def __getattr__(self, name: str) -> list[Any]:
        """Return one column, e.g. ``history.train_loss``."""
        if not name.startswith("_") and name in self.columns():
            return [_as_dict(record).get(name) for record in self]
        raise AttributeError(f"no column {name!r} in this history; columns: {self.columns()}")

    def __repr__(self) -> str:
        """Return the history as a table, one row per epoch (timings left out)."""
        cols = [c for c in self.columns() if c != "seconds"]
        rows = [[_cell(c, _as_dict(record).get(c)) for c in cols] for record in self]
        heads = [c.replace("_", " ") for c in cols]
        widths = [max([len(h)] + [len(row[k]) for row in rows]) for k, h in enumerate(heads)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths))]
        lines += ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """Show the table in IPython and Jupyter."""
        p.text(repr(self))


def sgd(params: Iterable[torch.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch stochastic gradient descent: param -= lr * grad / batch_size, then zero the gradients."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return the linear regression model's output X @ w + b."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return the unreduced squared loss (y_hat - y)^2 / 2, one value per example."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def try_gpu(i: int = 0) -> torch.device:
    """Return GPU ``cuda:i`` if it exists, else the CPU."""
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def try_all_gpus() -> list[torch.device]:
    """Return every GPU, or ``[cpu]`` when there is none."""
    return [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())] or [torch.device("cpu")]
