"""d2lnotes: the helpers the course's chapters import, under d2l's names.

``import d2lnotes as d2l`` is the ``d2l`` package: d2l 0.17's chapter 2-4 functions (the face
``d2lnotes.d2l017``) and the d2l 1.0 objects (the face ``d2lnotes.d2l1``) in one namespace;
``import d2lnotes.d2lzh as d2l`` is Dive-into-DL-PyTorch's. Each face is its book's complete namespace, and each
name is defined once, in a module named for its concern (the core knows no book), and imported only when first
used (PEP 562), so ``import d2lnotes`` is cheap and works, like ``python -m d2lnotes doctor``, even when torch or
matplotlib is broken.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

try:
    __version__: str = importlib.metadata.version("d2lnotes")
except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

#: Where each public name is defined: {module: names}.
_SOURCES: dict[str, tuple[str, ...]] = {
    "d2lnotes.data": (
        "TensorLoader", "load_array", "load_data_fashion_mnist", "synthetic_data",
    ),
    "d2lnotes.datafiles": (
        "data_dir",
    ),
    "d2lnotes.fashion_mnist": (
        "FashionMNISTUnavailable", "ensure_fashion_mnist", "fashion_mnist_root", "get_fashion_mnist_labels",
        "load_fashion_mnist_tensors",
    ),
    "d2lnotes.hub": (
        "DATA_HUB", "DATA_URL", "download", "download_extract", "extract",
    ),
    "d2lnotes.numerics": (
        "cross_entropy_from_logits", "cross_entropy_from_probs", "log_softmax", "logsumexp", "softmax_naive",
        "softmax_stable",
    ),
    "d2lnotes.plotting": (
        "Animator", "plot", "plt", "set_axes", "set_figsize", "show_images", "use_svg_display",
    ),
    "d2lnotes.train": (
        "Accumulator", "EpochStats", "History", "Timer", "TrainingDiverged", "accuracy", "evaluate_accuracy",
        "evaluate_loss", "linreg", "sgd", "squared_loss", "try_all_gpus", "try_gpu",
    ),
    "d2lnotes.d2l017": (
        "predict_ch3", "train_ch3", "train_epoch_ch3",
    ),
    "d2lnotes.d2l1.aliases": (
        "abs", "arange", "argmax", "astype", "batch_matmul", "concat", "cos", "cosh", "cpu", "exp", "expand_dims",
        "eye", "float32", "gpu", "int32", "int64", "linspace", "log", "matmul", "meshgrid", "nn_Module", "normal",
        "num_gpus", "numpy", "ones", "ones_like", "rand", "randn", "reduce_mean", "reduce_sum", "repeat",
        "reshape", "sigmoid", "sin", "sinh", "size", "stack", "swapaxes", "tanh", "tensor", "to", "transpose",
        "zeros", "zeros_like",
    ),
    "d2lnotes.d2l1.hyper": (
        "HyperParameters", "ProgressBoard", "add_to_class",
    ),
    "d2lnotes.d2l1.models": (
        "SGD", "FashionMNIST", "LinearRegression", "LinearRegressionScratch", "SoftmaxRegression",
        "SyntheticRegressionData",
    ),
    "d2lnotes.d2l1.modules": (
        "Classifier", "DataModule", "FitHistory", "Module", "Trainer",
    ),

}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}
#: The submodules, reachable as attributes too (``d2l.fashion_mnist.inspect_data_dir()``).
_SUBMODULES = ("d2l017", "d2l1", "d2lzh", "data", "datafiles", "doctor", "downloads", "exercises", "fashion_mnist",
               "hub", "numerics", "plotting", "train", "transfer")
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` (or the submodule ``name``) on first use and return it (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"d2lnotes.{name}")
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'd2lnotes' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """List the public names with the module's own attributes."""
    return sorted(set(globals()) | set(__all__))
