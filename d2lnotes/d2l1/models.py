"""The models and data of d2l 1.0's chapters 3-4, built on :mod:`d2lnotes.d2l1.modules` (same names and meaning).

``SyntheticRegressionData``, ``LinearRegressionScratch`` with its ``SGD``, ``LinearRegression``,
``SoftmaxRegression`` and ``FashionMNIST``, which serves the verified, offline, in-memory tensors of
:func:`d2lnotes.fashion_mnist.load_fashion_mnist_tensors` instead of downloading to ``../data``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn
from torch.utils.data import TensorDataset

from d2lnotes.data import TensorLoader
from d2lnotes.fashion_mnist import FetchConfig, get_fashion_mnist_labels, load_fashion_mnist_tensors
from d2lnotes.d2l1.hyper import HyperParameters
from d2lnotes.d2l1.modules import Classifier, DataModule, Module
from d2lnotes.plotting import show_images

__all__ = ["SyntheticRegressionData", "LinearRegressionScratch", "SGD", "LinearRegression", "SoftmaxRegression",
           "FashionMNIST"]


class SyntheticRegressionData(DataModule):
    """Synthetic linear-regression data y = Xw + b + noise, split into training and validation rows."""

    def __init__(self, w: torch.Tensor, b: float, noise: float = 0.01, num_train: int = 1000,
                 num_val: int = 1000, batch_size: int = 32) -> None:
        """Draw ``num_train + num_val`` examples with standard normal features and Gaussian noise."""
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, len(w))
        noise = torch.randn(n, 1) * noise
        self.y = torch.matmul(self.X, w.reshape((-1, 1))) + b + noise

    def get_dataloader(self, train: bool) -> TensorLoader:
        """Return a loader over the first ``num_train`` rows (train) or the rest."""
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class LinearRegressionScratch(Module):
    """Linear regression from scratch: weights ``w`` ~ N(0, sigma^2), bias ``b`` = 0, squared loss, own SGD."""

    def __init__(self, num_inputs: int, lr: float, sigma: float = 0.01) -> None:
        """Create ``w`` [num_inputs, 1] and ``b`` [1], both tracked by autograd."""
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.normal(0, sigma, (num_inputs, 1), requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return X w + b."""
        return torch.matmul(X, self.w) + self.b

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the mean of (y_hat - y)^2 / 2."""
        return ((y_hat - y) ** 2 / 2).mean()

    def configure_optimizers(self) -> SGD:
        """Return the from-scratch SGD over [w, b]."""
        return SGD([self.w, self.b], self.lr)


class SGD(HyperParameters):
    """Minibatch stochastic gradient descent from scratch: param -= lr * param.grad."""

    def __init__(self, params: Sequence[torch.Tensor], lr: float) -> None:
        """Keep the parameters and the learning rate."""
        self.save_hyperparameters()

    def step(self) -> None:
        """Move each parameter against its gradient."""
        with torch.no_grad():
            for param in self.params:
                param -= self.lr * param.grad

    def zero_grad(self) -> None:
        """Set the gradients to zero."""
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


def _init_normal_when_built(layer: nn.Module) -> None:
    """Draw ``layer``'s weights from N(0, 0.01^2) and zero its bias right after a lazy layer learns its shape."""

    def hook(module: nn.Module, args: Any) -> None:  # runs after the lazy layer's own pre-hook built the weights
        module.weight.data.normal_(0, 0.01)
        module.bias.data.fill_(0)
        handle.remove()

    handle = layer.register_forward_pre_hook(hook)


class LinearRegression(Module):
    """Linear regression with ``nn.LazyLinear(1)`` and ``nn.MSELoss``, trained by ``torch.optim.SGD``."""

    def __init__(self, lr: float) -> None:
        """Create the lazy linear layer; its weights are drawn from N(0, 0.01^2) and its bias zeroed."""
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.LazyLinear(1)
        # The book writes self.net.weight.data.normal_(0, 0.01) here, which the lazy layer silently replaces when
        # it learns its input size (its own default initialisation); done right after that, the book's one holds.
        _init_normal_when_built(self.net)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the layer's output."""
        return self.net(X)

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the mean squared error (no 1/2)."""
        return nn.MSELoss()(y_hat, y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return torch's SGD over the parameters."""
        return torch.optim.SGD(self.parameters(), self.lr)

    def get_w_b(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (weight, bias) of the layer."""
        return self.net.weight.data, self.net.bias.data


class SoftmaxRegression(Classifier):
    """Softmax regression: ``nn.Flatten()`` then ``nn.LazyLinear(num_outputs)``, trained by SGD with ``lr``."""

    def __init__(self, num_outputs: int, lr: float) -> None:
        """Create the network."""
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_outputs))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the logits."""
        return self.net(X)


class FashionMNIST(DataModule):
    """Fashion-MNIST from the verified in-memory tensors: ``train`` (60,000) and ``val`` (10,000) datasets."""

    def __init__(self, batch_size: int = 64, resize: int | Sequence[int] = (28, 28)) -> None:
        """Load both sets (from ``self.root``, fetched if missing), resized to ``resize`` and scaled to [0, 1]."""
        super().__init__()
        self.save_hyperparameters()
        size = None if resize in (28, (28, 28), [28, 28]) else resize
        config = FetchConfig(root=Path(self.root))
        self.train = TensorDataset(*load_fashion_mnist_tensors(True, size, config=config))
        self.val = TensorDataset(*load_fashion_mnist_tensors(False, size, config=config))

    def text_labels(self, indices: Any) -> list[str]:
        """Return the text label of each numeric label."""
        return get_fashion_mnist_labels(indices)

    def get_dataloader(self, train: bool) -> TensorLoader:
        """Return a loader over ``train`` (shuffled every epoch) or ``val`` (in order)."""
        data = self.train if train else self.val
        return self.get_tensorloader(data.tensors, train)

    def visualize(self, batch: Sequence[torch.Tensor], nrows: int = 1, ncols: int = 8,
                  labels: Sequence[str] = ()) -> None:
        """Show a batch's images in a grid, titled with ``labels`` or the batch's text labels."""
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        show_images(X.squeeze(1), nrows, ncols, titles=labels)
