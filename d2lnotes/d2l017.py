"""d2l 0.17's chapter-3 training functions (``train_epoch_ch3``, ``train_ch3``, ``predict_ch3``), the book's loops.

These are the names ``import d2lnotes as d2l`` gives code written for d2l 0.17 (``from d2l import torch as d2l``)
and d2l-zh (``d2l.train_ch3``), with the book's call shapes and the book's loop: a torch optimizer steps on the
batch's *mean* loss; a custom ``updater(batch_size)`` (like ``lambda n: sgd(params, lr, n)``) gets the gradient of
the *sum* and divides by the batch size itself, so that the book's learning rates mean the same. What the book
lacks, each one line on a core helper: a nan or inf loss raises ``TrainingDiverged`` before its update,
``grad_clip`` clips the gradient, ``device`` moves the batches, and ``train_ch3`` returns the per-epoch
``History`` and plots live wherever a figure can be shown (``d2lnotes.plotting.Animator``).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence, Union

import torch
from torch import nn

from d2lnotes.data import load_array, load_data_fashion_mnist, synthetic_data
from d2lnotes.fashion_mnist import get_fashion_mnist_labels
from d2lnotes.hub import DATA_HUB, DATA_URL, download, download_extract
from d2lnotes.plotting import Animator, plot, plt, set_axes, set_figsize, show_images, use_svg_display
from d2lnotes.train import (Accumulator, EpochStats, History, Loss, Net, Timer, TrainingDiverged, accuracy,
                            check_finite, clip_gradients, device_of, evaluate_accuracy, evaluate_loss, graph_leaves,
                            learning_rate, linreg, no_batch, sgd, squared_loss, try_all_gpus, try_gpu)

#: The book's chapter 2-4 names: ``import d2lnotes.d2l017 as d2l`` gives all of them (those defined in the core are
#: the core's own objects); ``import d2lnotes as d2l`` gives them too, with d2l 1.0's.
__all__ = [
    "use_svg_display", "set_figsize", "set_axes", "plot", "plt", "Timer", "synthetic_data", "linreg",
    "squared_loss", "sgd", "load_array", "get_fashion_mnist_labels", "show_images", "load_data_fashion_mnist",
    "accuracy", "evaluate_accuracy", "Accumulator", "train_epoch_ch3", "Animator", "train_ch3", "predict_ch3",
    "evaluate_loss", "DATA_HUB", "DATA_URL", "download", "download_extract", "try_gpu", "try_all_gpus",
    "Updater", "History", "EpochStats", "TrainingDiverged",
]

#: d2l 0.17's updater: a torch optimizer, or ``updater(batch_size)``.
Updater = Union[torch.optim.Optimizer, Callable[[int], Any]]


def train_epoch_ch3(
    net: Net,
    train_iter: Iterable,
    loss: Loss,
    updater: Updater,
    *,
    device: torch.device | str | None = None,
    grad_clip: float | None = None,
    epoch: int | None = None,
) -> tuple[float, float]:
    """Train ``net`` for one epoch with d2l's ``updater`` and return (mean training loss, training accuracy).

    A loss that averaged the batch itself (``reduction='mean'``) counts as that mean for every example.
    ``grad_clip`` rescales the gradient to that norm at most; ``epoch`` is named if the loss diverges.
    """
    if isinstance(net, nn.Module):
        net.train()
    metric = Accumulator(3)  # sum of losses, correct predictions, examples
    for batch, (X, y) in enumerate(train_iter, 1):
        if device is not None:  # not in the book (its chapter 6 adds it)
            X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        if l.ndim == 0:  # not in the book: a loss with reduction='mean' already averaged the batch
            l = l.expand(len(y))
        check_finite(l, epoch=epoch, batch=batch, lr=learning_rate(updater))  # not in the book: stop on nan/inf
        params = graph_leaves(l) if grad_clip is not None else []  # not in the book: what grad_clip clips
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            clip_gradients(params, grad_clip)
            updater.step()
        else:
            l.sum().backward()
            clip_gradients(params, grad_clip)
            updater(X.shape[0])
        metric.add(l.sum(), accuracy(y_hat, y), y.numel())
    if metric[2] == 0:
        raise no_batch("train_epoch_ch3")
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(
    net: Net,
    train_iter: Iterable,
    test_iter: Iterable,
    loss: Loss,
    num_epochs: int,
    updater: Updater,
    *,
    animate: bool = True,
    plot_path: str | os.PathLike | None = None,
    ylim: Sequence[float] | None = (0.3, 0.9),
    grad_clip: float | None = None,
    device: torch.device | str | None = None,
) -> History:
    """Train ``net`` for ``num_epochs``, plotting loss and accuracies, and return the per-epoch History.

    ``animate=False`` turns the plot off; ``plot_path`` saves the final figure there; ``ylim`` is the plot's y
    range (d2l's 0.3 to 0.9; None fits the curves). Where the plot cannot be shown live (a script without a
    screen) each epoch is printed as a line instead. ``grad_clip`` clips the gradient norm; ``device`` moves the
    net and each batch there. Raises ``TrainingDiverged``, holding the epochs done, when the loss becomes nan or inf.
    """
    if device is not None and isinstance(net, nn.Module):
        net.to(device)
    animator = None
    if animate or plot_path is not None:
        animator = Animator(xlabel="epoch", xlim=[1, num_epochs] if num_epochs > 1 else None, ylim=ylim,
                            legend=["train loss", "train acc", "test acc"], save_path=plot_path, live=animate)
    history, timer = History(), Timer()
    try:
        for epoch in range(1, num_epochs + 1):
            timer.start()
            train_metrics = train_epoch_ch3(net, train_iter, loss, updater, device=device, grad_clip=grad_clip,
                                            epoch=epoch)
            test_acc = evaluate_accuracy(net, test_iter, device)
            history.append(EpochStats(epoch, *train_metrics, test_acc, timer.stop()))
            if animator is not None:
                animator.add(epoch, train_metrics + (test_acc,))
                if animator.mode == "static":  # nothing is seen until the end: say how it goes
                    print(history[-1], flush=True)
    except TrainingDiverged as err:
        err.history = history  # the epochs done stay reachable
        raise
    finally:
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
