"""The face that imitates d2l 1.0 (``from d2l import torch as d2l``, 1.0.3): its chapter 2-4 names, complete.

``import d2lnotes.d2l1 as d2l`` gives every name of the book's chapters 2-4: the object API defined here
(``Module``, ``Trainer``, ``DataModule``, ``add_to_class``, ...), the tensor aliases, and the figure, data hub and
device helpers the book shares with d2l 0.17, which are the core's own objects. ``import d2lnotes as d2l`` gives
them too, with d2l 0.17's functions. Each name keeps the book's call shape and meaning: ``Trainer.fit_epoch`` is
the book's loop on the core's helpers, ``ProgressBoard`` draws through ``d2lnotes.plotting.Animator``, and
``FashionMNIST`` reads the verified in-memory tensors of ``d2lnotes.fashion_mnist``. The core never imports this
package.

- ``hyper``: ``HyperParameters``, ``add_to_class`` and ``ProgressBoard``;
- ``modules``: ``Module``, ``DataModule``, ``Trainer``, ``Classifier`` and the fit history;
- ``models``: the book's models and data of chapters 3-4 (``LinearRegression``, ``SoftmaxRegression``, ...);
- ``aliases``: the book's tensor aliases (``d2l.reshape``, ``d2l.astype``, ...).
"""

from d2lnotes.d2l1.aliases import *  # noqa: F403 - the book's tensor aliases, listed in aliases.__all__
from d2lnotes.d2l1.aliases import __all__ as _aliases
from d2lnotes.d2l1.hyper import HyperParameters, ProgressBoard, add_to_class
from d2lnotes.d2l1.models import (SGD, FashionMNIST, LinearRegression, LinearRegressionScratch, SoftmaxRegression,
                                  SyntheticRegressionData)
from d2lnotes.d2l1.modules import Classifier, DataModule, FitHistory, Module, Trainer
from d2lnotes.hub import DATA_HUB, DATA_URL, download, download_extract, extract
from d2lnotes.plotting import plot, plt, set_axes, set_figsize, show_images, use_svg_display
from d2lnotes.train import try_all_gpus, try_gpu

__all__ = [
    "add_to_class", "HyperParameters", "ProgressBoard", "Module", "DataModule", "Trainer", "Classifier",
    "FitHistory", "SyntheticRegressionData", "LinearRegressionScratch", "SGD", "LinearRegression", "FashionMNIST",
    "SoftmaxRegression", "DATA_HUB", "DATA_URL", "download", "download_extract", "extract", "use_svg_display",
    "set_figsize", "set_axes", "plot", "plt", "show_images", "try_gpu", "try_all_gpus", *_aliases,
]
