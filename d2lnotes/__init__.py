"""d2lnotes: the helpers the course's chapters import, under d2l's names.

``import d2lnotes as d2l`` gives the functions of the d2l book's chapters 2-4
(data loading, training, plotting), each defined once in a module named for
its concern.
"""

__version__ = "0.1.0"

# data: d2lnotes/data.py and d2lnotes/fetch.py
from d2lnotes.data import (TensorLoader, get_fashion_mnist_labels, load_array, load_data_fashion_mnist,
                           load_fashion_mnist_tensors, synthetic_data)
from d2lnotes.fetch import FashionMNISTUnavailable, data_dir, ensure_fashion_mnist, fashion_mnist_root

# training, plotting, numerics: d2lnotes/train.py, d2lnotes/plotting.py, d2lnotes/numerics.py
from d2lnotes.numerics import (cross_entropy_from_logits, cross_entropy_from_probs, log_softmax, logsumexp,
                               softmax_naive, softmax_stable)
from d2lnotes.plotting import Animator, plot, plt, set_axes, set_figsize, show_images, use_svg_display
from d2lnotes.train import (Accumulator, EpochStats, History, Timer, TrainingDiverged, accuracy, evaluate_accuracy,
                            linreg, optimize_step, predict_ch3, sgd, squared_loss, train_ch3, train_epoch_ch3,
                            try_gpu)

# d2l 1.0 objects: d2lnotes/hyper.py, d2lnotes/modules.py, d2lnotes/models.py, d2lnotes/aliases.py
from d2lnotes.aliases import (abs, arange, argmax, astype, batch_matmul, concat, cos, cosh, cpu, exp, expand_dims,
                              eye, float32, gpu, int32, int64, linspace, log, matmul, meshgrid, nn_Module, normal,
                              num_gpus, numpy, ones, ones_like, rand, randn, reduce_mean, reduce_sum, repeat, reshape,
                              sigmoid, sin, sinh, size, stack, swapaxes, tanh, tensor, to, transpose, try_all_gpus,
                              zeros, zeros_like)
from d2lnotes.hyper import HyperParameters, ProgressBoard, add_to_class
from d2lnotes.models import (SGD, FashionMNIST, LinearRegression, LinearRegressionScratch, SoftmaxRegression,
                             SyntheticRegressionData)
from d2lnotes.modules import Classifier, DataModule, FitHistory, Module, Trainer
