"""Training, the core: one optimisation step, one epoch loop, the history, and the metrics they report.

The core knows no book. ``optimize_step(objective, step)`` checks the reported
loss for nan/inf, zeroes the gradients, back-propagates ``objective`` (a scalar
the caller chose), optionally clips, and calls ``step.step()`` without autograd;
``step`` is a torch optimizer or anything with ``zero_grad()`` and ``step()``
(the ``Step`` protocol). ``train_epoch`` loops that step over a data iterator,
asking a *convention* what each batch back-propagates, reports and steps with.

Each book states its convention on that contract, in its own face:

* d2l 0.17 (``d2lnotes.d2l017``: ``train_epoch_ch3``, ``train_ch3``): a torch
  optimizer steps on the *mean* loss of the batch; a custom
  ``updater(batch_size)`` (like ``lambda n: sgd(params, lr, n)``) gets the *sum*
  and divides by the batch size itself;
* d2l 1.0 (``d2lnotes.d2l1.modules.Trainer``): the loss ``training_step``
  returns, and the optimizer of ``configure_optimizers``;
* Dive-into-DL-PyTorch (``d2lnotes.d2lzh.train_ch3``): ``loss(y_hat, y).sum()``
  and the book's ``sgd(params, lr, batch_size)`` or optimizer.

The reported loss is always the mean per example. The from-scratch pieces every
book shares (``sgd``, ``linreg``, ``squared_loss``) are here too.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, NamedTuple, Protocol

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
    "Step",
    "BatchUpdate",
    "Convention",
    "train_epoch",
    "accuracy",
    "evaluate_accuracy",
    "evaluate_loss",
    "optimize_step",
    "learning_rate",
    "mean_per_example",
    "device_of",
    "sgd",
    "linreg",
    "squared_loss",
    "try_gpu",
]

Net = Callable[[torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Step(Protocol):
    """How the parameters are updated after a backward pass: a torch optimizer, or any object with these two."""

    def zero_grad(self) -> None:
        """Clear the gradients before the next backward pass."""

    def step(self) -> None:
        """Update the parameters from their gradients (``optimize_step`` calls it without autograd)."""


class BatchUpdate(NamedTuple):
    """What one batch does, in some book's convention: back-propagate ``objective``, report ``mean_loss``, ``step``."""

    objective: torch.Tensor
    mean_loss: float
    step: Step


#: A book's convention: (the batch's loss as the loss function returned it, batch size) -> BatchUpdate.
Convention = Callable[[torch.Tensor, int], BatchUpdate]

class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes nan or inf; says where and what to try.

    ``history`` holds the epochs completed before it (``train_ch3`` and ``Trainer.fit`` fill it in).
    """

    def __init__(self, loss: float, epoch: int | None, batch: int | None, lr: float | None) -> None:
        """Build the message from the bad loss, where it happened and the learning rate if known."""
        self.loss, self.epoch, self.batch, self.lr = loss, epoch, batch, lr
        self.history: list = []
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


_NO_BATCH = ("{what}: the data iterator yielded no batch; check the loader (an empty dataset, or an iterator that "
             "was already used up: pass the loader itself, which starts afresh every epoch)")


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
        raise ValueError(_NO_BATCH.format(what="evaluate_accuracy"))
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
        raise ValueError(_NO_BATCH.format(what="evaluate_loss"))
    return metric[0] / metric[1]


def learning_rate(updater: Any) -> float | None:
    """Return the optimizer's (first) learning rate, or None when it cannot be read."""
    groups = getattr(updater, "param_groups", None)
    lr = groups[0].get("lr") if groups else getattr(updater, "lr", None)
    return float(lr) if isinstance(lr, (int, float)) else None


def mean_per_example(l: torch.Tensor) -> float:
    """Return the mean of an unreduced loss (one value per example), or the value of a scalar loss."""
    return float(l.detach().mean())


def optimize_step(
    objective: torch.Tensor,
    step: Step,
    *,
    mean_loss: float | None = None,
    params: Iterable[torch.Tensor] | None = None,
    grad_clip: float | None = None,
    epoch: int | None = None,
    batch: int | None = None,
) -> float:
    """Take one optimisation step on ``objective`` (a scalar) and return the batch's mean loss per example.

    In order: raise ``TrainingDiverged`` (naming ``epoch``/``batch``) if ``mean_loss`` (default: the value of
    ``objective``) is nan or inf, before any update; ``step.zero_grad()``; ``objective.backward()``; rescale the
    gradient to norm ``grad_clip`` at most (the parameters are ``params``, or a torch optimizer's own); then
    ``step.step()`` without autograd.
    """
    if objective.ndim != 0:
        raise ValueError(
            f"optimize_step back-propagates one number, got a loss of shape {tuple(objective.shape)}: "
            "reduce it first, e.g. l.mean() or l.sum()"
        )
    mean = float(objective.detach()) if mean_loss is None else mean_loss
    if not math.isfinite(mean):
        raise TrainingDiverged(mean, epoch, batch, learning_rate(step))
    if grad_clip is not None:
        if params is None and hasattr(step, "param_groups"):
            params = [p for group in step.param_groups for p in group["params"]]
        if params is None:
            raise ValueError(
                "grad_clip needs the parameters to clip: pass params=[W, b] (or net.parameters())"
            )
    step.zero_grad()
    objective.backward()
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(list(params), grad_clip)
    with torch.no_grad():
        step.step()
    return mean


def train_epoch(
    net: Net,
    train_iter: Iterable,
    loss: Loss,
    convention: Convention,
    *,
    device: torch.device | str | None = None,
    grad_clip: float | None = None,
    params: Iterable[torch.Tensor] | None = None,
    epoch: int | None = None,
) -> tuple[float, float]:
    """Train ``net`` for one epoch, one ``optimize_step`` per batch as ``convention`` says.

    Returns (mean training loss per example, training accuracy).
    """
    if isinstance(net, nn.Module):
        net.train()
    device = device_of(net, device)
    params = list(params) if params is not None else None
    metric = Accumulator(3)  # sum of losses, correct predictions, examples
    for i, (X, y) in enumerate(train_iter):
        if device is not None:
            X, y = X.to(device), y.to(device)
        y_hat = net(X)
        update = convention(loss(y_hat, y), X.shape[0])
        mean = optimize_step(update.objective, update.step, mean_loss=update.mean_loss, params=params,
                             grad_clip=grad_clip, epoch=epoch, batch=i + 1)
        n = y.numel()
        metric.add(mean * n, accuracy(y_hat, y), n)
    if metric[2] == 0:
        raise ValueError(_NO_BATCH.format(what="train_epoch"))
    return metric[0] / metric[2], metric[1] / metric[2]


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
