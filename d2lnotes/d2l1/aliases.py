"""The shorthands d2l 1.0's code calls instead of torch: ``d2l.reshape``, ``d2l.reduce_mean``, ``d2l.cpu()``, ...

The book writes code shared by four frameworks with these names (``Classifier.accuracy`` reads
``d2l.astype(d2l.argmax(Y_hat, axis=1), Y.dtype)``), so code copied from it calls them. Each is the torch function
or method of the same meaning, as in d2l 1.0.3's ``torch.py``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = [
    "nn_Module", "ones_like", "ones", "zeros_like", "zeros", "tensor", "arange", "meshgrid", "sin", "sinh", "cos",
    "cosh", "tanh", "linspace", "exp", "log", "normal", "rand", "randn", "matmul", "int32", "int64", "float32",
    "concat", "stack", "abs", "eye", "sigmoid", "batch_matmul", "numpy", "size", "reshape", "to", "reduce_sum",
    "argmax", "astype", "transpose", "reduce_mean", "expand_dims", "swapaxes", "repeat", "cpu", "gpu", "num_gpus",
]

# Names bound to torch itself (their docstrings are torch's).
nn_Module = nn.Module
ones_like, ones, zeros_like, zeros = torch.ones_like, torch.ones, torch.zeros_like, torch.zeros
tensor, arange, meshgrid, linspace, eye = torch.tensor, torch.arange, torch.meshgrid, torch.linspace, torch.eye
sin, sinh, cos, cosh, tanh, sigmoid = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh, torch.sigmoid
exp, log, abs = torch.exp, torch.log, torch.abs  # noqa: A001 - d2l's name
normal, rand, randn = torch.normal, torch.rand, torch.randn
matmul, batch_matmul, concat, stack = torch.matmul, torch.bmm, torch.cat, torch.stack
int32, int64, float32 = torch.int32, torch.int64, torch.float32


def numpy(x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
    """Return the tensor's values as a numpy array (detached, copied to the CPU if needed)."""
    return x.detach().cpu().numpy(*args, **kwargs)


def size(x: torch.Tensor, *args: Any, **kwargs: Any) -> int:
    """Return the number of elements of ``x``."""
    return x.numel(*args, **kwargs)


def reshape(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.reshape(...)``."""
    return x.reshape(*args, **kwargs)


def to(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.to(...)`` (a device or a dtype)."""
    return x.to(*args, **kwargs)


def reduce_sum(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.sum(...)``."""
    return x.sum(*args, **kwargs)


def reduce_mean(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.mean(...)``."""
    return x.mean(*args, **kwargs)


def argmax(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.argmax(...)`` (``axis=`` works as ``dim=``)."""
    return x.argmax(*args, **kwargs)


def astype(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x`` converted to another dtype (``x.type(dtype)``)."""
    return x.type(*args, **kwargs)


def transpose(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return the transpose of a matrix (``x.t()``)."""
    return x.t(*args, **kwargs)


def expand_dims(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.unsqueeze(...)``."""
    return x.unsqueeze(*args, **kwargs)


def swapaxes(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.swapaxes(...)``."""
    return x.swapaxes(*args, **kwargs)


def repeat(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Return ``x.repeat(...)``."""
    return x.repeat(*args, **kwargs)


def cpu() -> torch.device:
    """Return the CPU device."""
    return torch.device("cpu")


def gpu(i: int = 0) -> torch.device:
    """Return GPU device ``cuda:i`` (whether or not it exists)."""
    return torch.device(f"cuda:{i}")


def num_gpus() -> int:
    """Return the number of GPUs PyTorch can use."""
    return torch.cuda.device_count()


