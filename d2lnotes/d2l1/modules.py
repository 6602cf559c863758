"""d2l 1.0's object API: the base classes ``Module``, ``Classifier``, ``DataModule`` and the ``Trainer``.

Same names, call shapes and meaning as the book's package (d2l 1.0.3), on the course's own parts:

* ``Trainer.fit_epoch`` is the book's loop (``training_step``, ``zero_grad``, ``backward``, the book's
  ``clip_gradients`` when ``gradient_clip_val > 0``, ``step``), with the core's divergence check before each update;
* ``DataModule.get_tensorloader`` batches with :class:`d2lnotes.data.TensorLoader`, the loader of
  ``load_data_fashion_mnist`` (in memory: a ``num_workers`` setting is kept but has nothing to do);
* ``Module.plot`` draws on a :class:`d2lnotes.d2l1.hyper.ProgressBoard`, which plots through ``Animator``.

What the book's ``Trainer`` lacks: ``fit`` returns the per-epoch history (also kept as ``trainer.history``), stops
with ``TrainingDiverged`` when the loss becomes nan or inf, and says so when ``num_gpus`` asks for a missing GPU.
The book's concrete models and data (``LinearRegression``, ``FashionMNIST``, ...) are in :mod:`d2lnotes.d2l1.models`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from d2lnotes.d2l1.aliases import gpu
from d2lnotes.d2l1.aliases import num_gpus as count_gpus
from d2lnotes.data import TensorLoader
from d2lnotes.datafiles import data_dir
from d2lnotes.d2l1.hyper import HyperParameters, ProgressBoard
from d2lnotes.numerics import to_float
from d2lnotes.train import History, Timer, check_finite, clip_gradients, learning_rate

__all__ = ["Module", "Classifier", "DataModule", "Trainer", "FitHistory"]


class Module(nn.Module, HyperParameters):
    """Base class of models: an ``nn.Module`` with hyperparameters, a loss, an optimizer and a progress board."""

    def __init__(self, plot_train_per_epoch: int = 2, plot_valid_per_epoch: int = 1) -> None:
        """Save how many points per epoch to plot for training and validation, and make the board."""
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the loss of predictions ``y_hat`` against ``y`` (subclasses define it)."""
        raise NotImplementedError(f"{type(self).__name__} has no loss: define loss(self, y_hat, y)")

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return ``self.net(X)``."""
        if not hasattr(self, "net"):
            raise NotImplementedError(f"{type(self).__name__} has no self.net: set it in __init__ or define forward")
        return self.net(X)

    def plot(self, key: str, value: Any, train: bool) -> None:
        """Plot ``value`` as "train_key" or "val_key" against epochs, and report it to the trainer's history."""
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            raise RuntimeError("plot() needs the trainer: call it during d2l.Trainer(...).fit(model, data)")
        self.board.xlabel = "epoch"
        if train:
            x = trainer.train_batch_idx / trainer.num_train_batches
            n = trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = trainer.epoch + 1
            n = trainer.num_val_batches / self.plot_valid_per_epoch
        value = to_float(value)
        name = ("train_" if train else "val_") + key
        self.board.draw(x, value, name, every_n=int(n))
        if hasattr(trainer, "record"):
            trainer.record(name, value)

    def training_step(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        """Return the loss on a training batch (inputs..., labels), plotting it."""
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch: Sequence[torch.Tensor]) -> None:
        """Plot the loss on a validation batch."""
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=False)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return minibatch SGD over the model's parameters with learning rate ``self.lr``."""
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs: Sequence[torch.Tensor], init: Any = None) -> None:
        """Run one forward pass on ``inputs`` (creating lazy parameters), then apply ``init`` to ``self.net``."""
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class DataModule(HyperParameters):
    """Base class of data: train and validation loaders; ``root`` defaults to the d2lnotes data directory."""

    def __init__(self, root: str | Path | None = None, num_workers: int = 4) -> None:
        """Save ``root`` (None: ``d2lnotes.data_dir()``) and ``num_workers`` (in-memory loaders need none)."""
        root = data_dir() if root is None else root
        self.save_hyperparameters()

    def get_dataloader(self, train: bool) -> Any:
        """Return the training (``train=True``) or validation loader (subclasses define it)."""
        raise NotImplementedError(f"{type(self).__name__} has no get_dataloader(self, train)")

    def train_dataloader(self) -> Any:
        """Return the training loader."""
        return self.get_dataloader(train=True)

    def val_dataloader(self) -> Any:
        """Return the validation loader."""
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors: Sequence[torch.Tensor], train: bool,
                         indices: slice | Sequence[int] = slice(0, None)) -> TensorLoader:
        """Return a loader over rows ``indices`` of ``tensors`` in batches of ``self.batch_size``, shuffled if train."""
        tensors = tuple(a[indices] for a in tensors)
        return TensorLoader(tensors, self.batch_size, shuffle=train, num_workers=getattr(self, "num_workers", 0))


#: The history ``Trainer.fit`` returns: the core's ``History``, with one dict per epoch.
FitHistory = History


class Trainer(HyperParameters):
    """Train a ``Module`` on a ``DataModule`` for ``max_epochs``; ``fit`` returns the per-epoch history."""

    def __init__(self, max_epochs: int, num_gpus: int = 0, gradient_clip_val: float = 0) -> None:
        """Save the settings; use the first of ``num_gpus`` GPUs if there is one, warning when fewer exist."""
        self.save_hyperparameters()
        available = count_gpus()
        if num_gpus > available:
            found = "sees no GPU, so training runs on the CPU" if available == 0 else (
                f"sees only {available} GPU(s), so it uses those")
            warnings.warn(f"Trainer(num_gpus={num_gpus}): PyTorch {found}. To train on a GPU, install a CUDA build "
                          "of PyTorch on a machine with an NVIDIA GPU (check with nvidia-smi); to silence this, "
                          f"pass num_gpus={available}.", stacklevel=2)
        self.gpus = [gpu(i) for i in range(min(num_gpus, available))]
        self.history = History()

    def prepare_data(self, data: DataModule) -> None:
        """Take the data's loaders and count their batches."""
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model: Module) -> None:
        """Link the model to this trainer, set its board's epoch range and move it to the GPU if one is used."""
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def fit(self, model: Module, data: DataModule) -> History:
        """Train ``model`` on ``data`` for ``max_epochs`` and return the history (also ``self.history``).

        Each epoch's record holds the mean of every value the model plotted during it (``train_loss``, and for a
        ``Classifier`` ``val_loss`` and ``val_acc``) and its seconds. Raises ``TrainingDiverged`` on a nan or inf loss.
        """
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        self.history = History()
        timer = Timer()
        try:
            for self.epoch in range(self.max_epochs):  # noqa: B020 - the book's own loop
                self._sums: dict[str, list[float]] = {}
                timer.start()
                batches_before = self.train_batch_idx
                self.fit_epoch()
                if self.train_batch_idx == batches_before:
                    raise ValueError(f"Trainer.fit: the training loader yielded no batch in epoch {self.epoch + 1}; "
                                     "check the DataModule (an empty dataset, or a loader that cannot start afresh)")
                seconds = timer.stop()
                means = {name: total / count for name, (total, count) in self._sums.items()}
                self.history.append({"epoch": self.epoch + 1, **means, "seconds": seconds})
                # a fit_epoch of the learner's own (the book's, without the check) stops here at the latest
                check_finite(means.get("train_loss", 0.0), epoch=self.epoch + 1, lr=learning_rate(self.optim),
                             history=self.history)
        finally:
            self._sums = None
            board = getattr(model, "board", None)
            if hasattr(board, "finish"):
                board.finish()
        return self.history

    def record(self, name: str, value: float) -> None:
        """Add a value the model reported (through ``Module.plot``) to the current epoch's history."""
        sums = getattr(self, "_sums", None)
        if sums is not None:
            total = sums.setdefault(name, [0.0, 0])
            total[0] += value
            total[1] += 1

    def fit_epoch(self) -> None:
        """Train one epoch, then run the validation steps without gradients (the book's ``fit_epoch``).

        Added to the book's loop: a nan or inf loss raises ``TrainingDiverged`` before its update.
        """
        self.model.train()
        for i, batch in enumerate(self.train_dataloader, 1):
            loss = self.model.training_step(self.prepare_batch(batch))
            check_finite(loss, epoch=self.epoch + 1, batch=i, lr=learning_rate(self.optim), history=self.history)
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    def prepare_batch(self, batch: Sequence[torch.Tensor]) -> Sequence[torch.Tensor]:
        """Return the batch, moved to the GPU if one is used."""
        if self.gpus:
            batch = [a.to(self.gpus[0]) for a in batch]
        return batch

    def clip_gradients(self, grad_clip_val: float, model: nn.Module) -> None:
        """Rescale the gradients of ``model``'s parameters so that their joint norm is at most ``grad_clip_val``."""
        clip_gradients(model.parameters(), grad_clip_val)


class Classifier(Module):
    """Base class of classification models: cross-entropy loss; validation plots loss and accuracy."""

    def validation_step(self, batch: Sequence[torch.Tensor]) -> None:
        """Plot the loss and the accuracy on a validation batch."""
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat: torch.Tensor, Y: torch.Tensor, averaged: bool = True) -> torch.Tensor:
        """Return the fraction of correct predictions (or, ``averaged=False``, 1.0/0.0 per example)."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(dim=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat: torch.Tensor, Y: torch.Tensor, averaged: bool = True) -> torch.Tensor:
        """Return the cross-entropy of logits ``Y_hat`` against labels ``Y``, averaged or per example."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        Y = Y.reshape((-1,))
        return F.cross_entropy(Y_hat, Y, reduction="mean" if averaged else "none")
