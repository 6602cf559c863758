"""Dive-into-DL-PyTorch's chapter-3 helpers (its ``d2lzh_pytorch/utils.py``) with that book's signatures.

Code written for that book runs after a one-line change::

    import d2lnotes.d2lzh as d2l        # was: sys.path.append(".."); import d2lzh_pytorch as d2l
    from d2lnotes.d2lzh import *        # was: from d2lzh_pytorch import *

Every function here is a thin adapter over the d2lnotes core: the data come from the verified in-memory loader
(:mod:`d2lnotes.data`), figures are drawn by :mod:`d2lnotes.plotting`, and ``train_ch3`` is the book's own loop
on the core's helpers (accuracy, the divergence check, the history). What differs from the book, on purpose:

* ``train_ch3`` prints the true mean loss per example (the book divides a sum of batch *means* by the number of
  examples, so with ``nn.CrossEntropyLoss()`` it prints ``loss 0.0031`` for a mean of about 0.79), and returns
  the per-epoch ``History``;
* ``set_figsize``, ``show_fashion_mnist`` and ``semilogy`` leave the figure format alone; ``use_svg_display()``
  switches to SVG (deterministic) and works with IPython 9;
* ``load_data_fashion_mnist`` starts no worker processes and reads ``root`` first, without writing there;
* ``sgd`` also zeroes the gradients (the book's loops zero them again, which is harmless).

The main namespace (``import d2lnotes as d2l``) keeps d2l's own signatures; nothing is guessed from argument types.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch
from torch import nn

from d2lnotes.data import TensorLoader
from d2lnotes.data import load_data_fashion_mnist as _load_data_fashion_mnist
from d2lnotes.fashion_mnist import FetchConfig, get_fashion_mnist_labels, inspect_data_dir, raw_dir
from d2lnotes.plotting import plot as _plot
from d2lnotes.plotting import plt, show_images, use_svg_display
from d2lnotes.plotting import set_figsize as _set_figsize
from d2lnotes.numerics import to_float
from d2lnotes.train import (EpochStats, History, Timer, accuracy, check_finite, learning_rate, linreg, no_batch, sgd,
                            squared_loss)
from d2lnotes.train import evaluate_accuracy as _evaluate_accuracy

__all__ = [
    "plt",
    "use_svg_display",
    "set_figsize",
    "data_iter",
    "linreg",
    "squared_loss",
    "sgd",
    "get_fashion_mnist_labels",
    "show_fashion_mnist",
    "load_data_fashion_mnist",
    "evaluate_accuracy",
    "train_ch3",
    "FlattenLayer",
    "semilogy",
]

#: The book's default ``root``: torchvision's FashionMNIST(root) keeps the files in ``root/FashionMNIST/raw``.
BOOK_ROOT = "~/Datasets/FashionMNIST"

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# --- 3.2 linear regression ---------------------------------------------------------------------------------------


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """Set the default figure size (inches); unlike the book it does not switch the output to SVG."""
    _set_figsize(figsize)


def data_iter(batch_size: int, features: torch.Tensor, labels: torch.Tensor) -> Iterator[tuple[torch.Tensor, ...]]:
    """Return one epoch of shuffled (features, labels) minibatches, the last one possibly smaller.

    Shuffled with ``torch.randperm``, so ``torch.manual_seed`` makes it repeatable (the book uses ``random``).
    """
    return iter(TensorLoader((features, labels), batch_size, shuffle=True))


# --- 3.5 Fashion-MNIST -------------------------------------------------------------------------------------------


def show_fashion_mnist(images: Sequence[Any], labels: Sequence[str]) -> None:
    """Show the images in one row, 12 inches wide, each titled with its label."""
    n = len(images)
    show_images(images, 1, n, titles=list(labels), scale=12 / max(n, 1))


def _fetch_config(root: str | Path) -> FetchConfig:
    """Return the fetch configuration that reads ``root`` first and writes nothing there.

    When ``root/FashionMNIST/raw`` (where the book's torchvision download put them) holds four verified files,
    they are read in place. Otherwise the usual chain runs (the d2lnotes data dir, then ``root``'s
    ``FashionMNIST/raw`` and ``root`` itself, then the system copy, then the mirrors), storing into the data dir.
    """
    root = Path(root).expanduser()
    if all(status.verified for status in inspect_data_dir(FetchConfig(root=root))):
        return FetchConfig(root=root)
    defaults = FetchConfig()
    return dataclasses.replace(defaults, system_dirs=(raw_dir(root), root, *defaults.system_dir_list()))


def load_data_fashion_mnist(
    batch_size: int, resize: int | Sequence[int] | None = None, root: str | Path = BOOK_ROOT
) -> tuple[TensorLoader, TensorLoader]:
    """Return (train_iter, test_iter) over Fashion-MNIST, X [B, 1, H, W] in [0, 1]; ``root`` is read first."""
    return _load_data_fashion_mnist(batch_size, resize or None, config=_fetch_config(root))


# --- 3.6 softmax regression: accuracy and the training loop --------------------------------------------------


def _wants_is_training(net: Any) -> bool:
    """Return True for a plain function with an ``is_training`` parameter (the book's dropout models)."""
    code = getattr(net, "__code__", None)
    return not isinstance(net, nn.Module) and code is not None and "is_training" in code.co_varnames


def evaluate_accuracy(data_iter: Iterable, net: Callable[..., torch.Tensor],
                      device: torch.device | str | None = None) -> float:
    """Return the accuracy of ``net`` on ``data_iter`` (data first); a module is left in train mode, as in the book.

    ``device`` (the book's section 5.5 adds it) is where each batch goes, by default a module's own device. A
    function with an ``is_training`` parameter is called with ``is_training=False``.
    """
    if isinstance(data_iter, nn.Module) or not callable(net):
        raise TypeError(
            "evaluate_accuracy(data_iter, net) takes the data first in Dive-into-DL-PyTorch (got "
            f"{type(data_iter).__name__}, {type(net).__name__}). Write evaluate_accuracy(test_iter, net) here, "
            "or use d2l's order with d2lnotes.evaluate_accuracy(net, test_iter)."
        )
    model = functools.partial(net, is_training=False) if _wants_is_training(net) else net
    acc = _evaluate_accuracy(model, data_iter, device)
    if isinstance(net, nn.Module):
        net.train()
    return acc


def _mean_loss(l: torch.Tensor, loss: Loss, n: int) -> float:
    """Return the batch's mean loss per example, whatever the loss's reduction (none, mean or sum)."""
    if getattr(loss, "reduction", None) == "sum":
        return to_float(l) / n
    return to_float(l.detach().mean())


def train_ch3(
    net: Callable[[torch.Tensor], torch.Tensor],
    train_iter: Iterable,
    test_iter: Iterable,
    loss: Loss,
    num_epochs: int,
    batch_size: int,
    params: Sequence[torch.Tensor] | None = None,
    lr: float | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> History:
    """Train like the book, print ``epoch 1, loss 0.7859, train acc 0.749, test acc 0.785`` per epoch, return History.

    With ``params`` and ``lr`` each batch steps ``sgd(params, lr, batch_size)`` on the gradient of
    ``loss(y_hat, y).sum()``; with ``optimizer`` it calls ``optimizer.step()`` on that gradient. The printed loss
    is the mean per example. Raises ``TrainingDiverged``, holding the epochs done, when the loss becomes nan or inf.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool):
        raise TypeError(
            f"train_ch3's sixth argument is batch_size, an int; got {type(batch_size).__name__}. That is d2l's call "
            "train_ch3(net, train_iter, test_iter, loss, num_epochs, updater), which is d2lnotes.train_ch3 "
            "(import d2lnotes as d2l). Dive-into-DL-PyTorch's reads: train_ch3(net, train_iter, test_iter, loss, "
            "num_epochs, batch_size, [W, b], lr) or train_ch3(..., num_epochs, batch_size, None, None, optimizer)."
        )
    if optimizer is None and (params is None or lr is None):
        raise ValueError(
            "train_ch3 needs params and lr (the book's sgd) or an optimizer: "
            "train_ch3(net, train_iter, test_iter, loss, num_epochs, batch_size, [W, b], lr) or "
            "train_ch3(net, train_iter, test_iter, loss, num_epochs, batch_size, None, None, optimizer)"
        )
    history, timer = History(), Timer()
    for epoch in range(num_epochs):
        train_l_sum, train_acc_sum, n = 0.0, 0.0, 0
        timer.start()
        for batch, (X, y) in enumerate(train_iter, 1):
            y_hat = net(X)
            l = loss(y_hat, y)
            mean = _mean_loss(l, loss, len(y))
            check_finite(mean, epoch=epoch + 1, batch=batch, lr=lr or learning_rate(optimizer), history=history)
            l = l.sum()

            # zero the gradients
            if optimizer is not None:
                optimizer.zero_grad()
            elif params is not None and params[0].grad is not None:
                for param in params:
                    param.grad.data.zero_()

            l.backward()
            if optimizer is None:
                sgd(params, lr, batch_size)
            else:
                optimizer.step()

            train_l_sum += mean * y.shape[0]
            train_acc_sum += accuracy(y_hat, y)
            n += y.shape[0]
        if n == 0:
            raise no_batch("train_ch3")
        test_acc = evaluate_accuracy(test_iter, net)
        history.append(EpochStats(epoch + 1, train_l_sum / n, train_acc_sum / n, test_acc, timer.stop()))
        print(history[-1], flush=True)
    return history


# --- 3.7 concise softmax regression, 3.11 curves -----------------------------------------------------------------


class FlattenLayer(nn.Module):
    """Flatten each example: ``(batch, *) -> (batch, product of the rest)``, like ``nn.Flatten()``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` reshaped to (batch, -1)."""
        return x.reshape(x.shape[0], -1)


def semilogy(
    x_vals: Any,
    y_vals: Any,
    x_label: str,
    y_label: str,
    x2_vals: Any = None,
    y2_vals: Any = None,
    legend: Sequence[str] | None = None,
    figsize: tuple[float, float] = (3.5, 2.5),
) -> None:
    """Plot y against x with a log y axis, and a second dotted curve with a legend if x2/y2 are given."""
    X, Y, fmts = [list(x_vals)], [y_vals], ["-"]
    two = x2_vals is not None and y2_vals is not None
    if two:
        X, Y, fmts = X + [list(x2_vals)], Y + [y2_vals], fmts + [":"]
    _plot(X, Y, x_label, y_label, legend=legend if two else None, yscale="log", fmts=fmts, figsize=figsize)
