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

# training, plotting, numerics: d2lnotes/train.py, d2lnotes/plot.py, d2lnotes/numerics.py
