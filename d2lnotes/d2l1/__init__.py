"""The face that imitates d2l 1.0's object API: ``Module``, ``Trainer``, ``DataModule``, ``add_to_class``, ...

Each name keeps the book's call shape and meaning, built on the core: ``Trainer.fit_epoch`` takes every step
through ``d2lnotes.train.optimize_step``, ``ProgressBoard`` draws through ``d2lnotes.plotting.Animator``, and
``FashionMNIST`` reads the verified in-memory tensors of ``d2lnotes.fashion_mnist``. The core never imports this
package; ``import d2lnotes as d2l`` re-exports its names.

- ``hyper``: ``HyperParameters``, ``add_to_class`` and ``ProgressBoard``;
- ``modules``: ``Module``, ``DataModule``, ``Trainer``, ``Classifier`` and the fit history;
- ``models``: the book's models and data of chapters 3-4 (``LinearRegression``, ``SoftmaxRegression``, ...);
- ``aliases``: the book's tensor aliases (``d2l.reshape``, ``d2l.astype``, ...).
"""
