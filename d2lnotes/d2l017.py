"""d2l 0.17's chapter-3 training functions (``train_epoch_ch3``, ``train_ch3``, ``predict_ch3``) on the core.

These are the names ``import d2lnotes as d2l`` gives code written for d2l 0.17 (``from d2l import torch as d2l``)
and d2l-zh (``d2l.train_ch3``), with the book's call shapes. The book's convention, stated on the core's step
contract (:func:`d2lnotes.train.optimize_step`) by ``d2l_convention``: with a torch optimizer each batch
back-propagates its *mean* loss; with a custom ``updater(batch_size)`` (like ``lambda n: sgd(params, lr, n)``) it
back-propagates the *sum* and the updater divides by the batch size (``UpdaterStep``), so that the book's
learning rates mean the same. A scalar loss is taken to be the batch mean. What the book lacks: ``train_ch3``
returns the per-epoch ``History``, stops with ``TrainingDiverged`` on a nan or inf loss, takes a ``device``, and
plots live wherever a figure can be shown (``d2lnotes.plotting.Animator``).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence, Union

import torch
from torch import nn

from d2lnotes.fashion_mnist import get_fashion_mnist_labels
from d2lnotes.plotting import Animator, show_images
from d2lnotes.train import (BatchUpdate, Convention, EpochStats, History, Loss, Net, Step, Timer, TrainingDiverged,
                            device_of, evaluate_accuracy, learning_rate, mean_per_example, train_epoch)

__all__ = ["Updater", "UpdaterStep", "d2l_convention", "train_epoch_ch3", "train_ch3", "predict_ch3"]

#: d2l 0.17's updater: a torch optimizer (anything with ``zero_grad()`` and ``step()``) or ``updater(batch_size)``.
Updater = Union[Step, Callable[[int], Any]]


def _is_optimizer(updater: Updater) -> bool:
    """Return True for torch optimizers and look-alikes (with ``zero_grad`` and ``step``)."""
    return hasattr(updater, "zero_grad") and hasattr(updater, "step")


class UpdaterStep:
    """d2l 0.17's ``updater(batch_size)`` as a ``Step``: ``step()`` calls it with the batch size of the batch."""

    def __init__(self, updater: Callable[[int], Any], batch_size: int) -> None:
        """Keep the updater and the size of the batch it updates for."""
        self.updater, self.batch_size = updater, batch_size

    @property
    def lr(self) -> float | None:
        """Return the updater's ``lr`` attribute if it has one (read by the divergence message)."""
        return learning_rate(self.updater)

    def zero_grad(self) -> None:
        """Do nothing: d2l's updaters (``sgd``) zero the gradients after each update."""

    def step(self) -> None:
        """Call ``updater(batch_size)``."""
        self.updater(self.batch_size)


def d2l_convention(updater: Updater) -> Convention:
    """Return d2l 0.17's convention for ``updater``: a torch optimizer steps on the batch's mean loss;
    ``updater(batch_size)`` on the sum (a scalar loss counts as the mean: times the batch size), dividing itself."""
    if _is_optimizer(updater):
        return lambda l, n: BatchUpdate(l.mean(), mean_per_example(l), updater)

    def convention(l: torch.Tensor, n: int) -> BatchUpdate:
        total = l.sum() if l.numel() > 1 else l.reshape(()) * n
        return BatchUpdate(total, mean_per_example(l), UpdaterStep(updater, n))

    return convention


def train_epoch_ch3(
    net: Net,
    train_iter: Iterable,
    loss: Loss,
    updater: Updater,
    *,
    device: torch.device | str | None = None,
    grad_clip: float | None = None,
    params: Iterable[torch.Tensor] | None = None,
    epoch: int | None = None,
) -> tuple[float, float]:
    """Train ``net`` for one epoch with d2l's ``updater`` and return (mean training loss, training accuracy)."""
    return train_epoch(net, train_iter, loss, d2l_convention(updater), device=device, grad_clip=grad_clip,
                       params=params, epoch=epoch)


def train_ch3(
    net: Net,
    train_iter: Iterable,
    test_iter: Iterable,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    num_epochs: int,
    updater: Updater,
    *,
    device: torch.device | str | None = None,
    animate: bool = True,
    plot_path: str | os.PathLike | None = None,
    grad_clip: float | None = None,
    verbose: bool | None = None,
    ylim: Sequence[float] | None = (0.3, 0.9),
) -> History:
    """Train ``net`` for ``num_epochs``, plotting loss and accuracies, and return the per-epoch History.

    ``device`` moves each batch (and a module ``net``) there; ``animate=False``
    turns the plot off; ``plot_path`` saves the final figure there; ``ylim`` is
    the plot's y range (d2l's 0.3 to 0.9; None fits the curves). ``verbose``
    prints one line per epoch; by default only when the plot cannot be seen live
    (a non-interactive backend such as Agg). Raises ``TrainingDiverged`` when the
    loss becomes nan or inf.
    """
    if device is not None and isinstance(net, nn.Module):
        net.to(device)
    animator = None
    if animate or plot_path is not None:
        animator = Animator(
            xlabel="epoch",
            xlim=[1, num_epochs],
            ylim=ylim,
            legend=["train loss", "train acc", "test acc"],
            save_path=plot_path,
            live=animate,
        )
    if verbose is None:
        verbose = animator is not None and animator.mode == "static"
    history = History()
    timer = Timer()
    for epoch in range(1, num_epochs + 1):
        timer.start()
        try:
            train_loss, train_acc = train_epoch_ch3(
                net, train_iter, loss, updater, device=device, grad_clip=grad_clip, epoch=epoch
            )
        except TrainingDiverged as err:
            err.history = history  # the epochs before it stay reachable
            if animator is not None:
                animator.finish()
            raise
        test_acc = evaluate_accuracy(net, test_iter, device)
        stats = EpochStats(epoch, train_loss, train_acc, test_acc, timer.stop())
        history.append(stats)
        if animator is not None:
            animator.add(epoch, (train_loss, train_acc, test_acc))
        if verbose:
            print(stats, flush=True)
    if animator is not None:
        animator.finish()
    return history


def predict_ch3(
    net: Net, test_iter: Iterable, n: int = 6, *, device: torch.device | str | None = None
) -> None:
    """Show the first ``n`` test images of ``test_iter`` titled with the true and the predicted label.

    Returns None like d2l, so that a notebook cell ending with it shows only the figure.
    """
    X, y = next(iter(test_iter))
    n = min(n, len(y))
    if isinstance(net, nn.Module):
        net.eval()
    device = device_of(net, device)
    with torch.no_grad():
        y_hat = net(X.to(device) if device is not None else X)
    trues = get_fashion_mnist_labels(y)
    preds = get_fashion_mnist_labels(y_hat.argmax(dim=1).cpu())
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(X[0:n].reshape((n, *X.shape[-2:])), 1, n, titles=titles[0:n])
