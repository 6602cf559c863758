"""Chapters 05 to 07's exercises: mean images and batch counts, the loss by gather, accuracy per class, and the
initialisation of a linear layer. Small synthetic images stand in for Fashion-MNIST."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from d2lnotes.exercises.checking import Case, Exercise, Problem, seeded_randn
from d2lnotes.exercises.display import show_number

__all__ = ["EXERCISES", "class_means", "num_batches", "cross_entropy_gather", "per_class_accuracy", "init_linear"]

# --- class_means --------------------------------------------------------------------------------------------------


def class_means(X: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Return the mean image of each class, stacked: shape (num_classes, *X.shape[1:]) (the reference)."""
    dtype = X.dtype if X.is_floating_point() else torch.float32
    return torch.stack([X[y == c].double().mean(dim=0) for c in range(num_classes)]).to(dtype)


def _images(seed: int, n: int, *shape: int) -> torch.Tensor:
    return seeded_randn(seed, n, *shape).abs()


def _uint8_images() -> torch.Tensor:
    return (torch.arange(5 * 4) * 37 % 256).to(torch.uint8).reshape(5, 1, 2, 2)


MEANS_CASES = (
    Case("6 images of 1 x 2 x 2, labels [0, 0, 1, 1, 2, 2]",
         lambda: (_images(1, 6, 1, 2, 2), torch.tensor([0, 0, 1, 1, 2, 2]), 3),
         "the mean image of class c averages the images whose label is c, pixel by pixel: X[y == c].mean(dim=0), "
         "one image per class, stacked into shape (num_classes, 1, 2, 2)."),
    Case("shuffled labels, 1 to 3 images per class",
         lambda: (_images(2, 7, 1, 2, 2), torch.tensor([2, 0, 1, 2, 2, 0, 1]), 3),
         "the labels come in any order and the classes have different sizes: select each class's images with the "
         "mask y == c, rather than assuming blocks of equal size."),
    Case("uint8 pixels (0 to 255), as stored in the files",
         lambda: (_uint8_images(), torch.tensor([1, 0, 1, 0, 1]), 2),
         "raw pixels are uint8, and a mean of integers is not an integer: convert first, X.float(); the means "
         "are float32."),
    Case("one image per class", lambda: (_images(3, 3, 1, 2, 2), torch.tensor([2, 1, 0]), 3),
         "with one image per class the mean image of class c is that image itself."),
    Case("images of 3 x 3 without a channel dimension",
         lambda: (_images(4, 4, 3, 3), torch.tensor([0, 1, 1, 0]), 2),
         "keep each image's own shape: average over the first dimension (the images) only, so the result is "
         "(num_classes, *X.shape[1:])."),
)

MEANS_SOLUTION = '''\
import torch


def class_means(X, y, num_classes):
    """Return the mean image of each class, stacked: shape (num_classes, *X.shape[1:])."""
    X = X.float()  # uint8 pixels cannot be averaged
    return torch.stack([X[y == c].mean(dim=0) for c in range(num_classes)])
'''

# --- num_batches --------------------------------------------------------------------------------------------------


def num_batches(num_examples: int, batch_size: int) -> int:
    """Return how many minibatches an epoch of num_examples has, the last one possibly smaller (the reference)."""
    return len(range(0, num_examples, batch_size))


COUNT_CASES = (
    Case("1000 examples in batches of 64", lambda: (1000, 64),
         "the last, partial batch (40 examples here) counts too: the number is num_examples / batch_size rounded "
         "up, not down."),
    Case("60,000 examples in batches of 256", lambda: (60_000, 256),
         "Fashion-MNIST's training set in batches of 256: 234 full batches and one of 96."),
    Case("60,000 examples in batches of 250", lambda: (60_000, 250),
         "when batch_size divides num_examples there is no partial batch: num_examples // batch_size + 1 counts "
         "one batch too many. (num_examples + batch_size - 1) // batch_size or math.ceil(num_examples / "
         "batch_size) is right in both cases."),
    Case("10 examples in batches of 16", lambda: (10, 16),
         "a batch larger than the data: one batch holds all 10 examples."),
    Case("0 examples", lambda: (0, 8),
         "no examples, no batches."),
    Case("1 example in batches of 1", lambda: (1, 1),
         "one example, one batch."),
)

COUNT_SOLUTION = '''\
def num_batches(num_examples, batch_size):
    """Return how many minibatches an epoch of num_examples has, the last one possibly smaller."""
    return (num_examples + batch_size - 1) // batch_size  # num_examples / batch_size, rounded up
'''

# --- cross_entropy_gather -----------------------------------------------------------------------------------------


def cross_entropy_gather(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return -log(y_hat[i, y[i]]) for each example i (the reference: in float64, in y_hat's dtype)."""
    return -torch.log(y_hat.double()[torch.arange(len(y)), y]).to(y_hat.dtype)


def _probabilities(seed: int, n: int, k: int) -> torch.Tensor:
    return torch.softmax(seeded_randn(seed, n, k, scale=2.0), dim=1)


GATHER_CASES = (
    Case("the chapter's toy: y_hat [[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]], y [0, 2]",
         lambda: (torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]), torch.tensor([0, 2])),
         "the loss of example i is -log(y_hat[i, y[i]]): torch.gather(y_hat, 1, y.unsqueeze(1)) picks, in row i, "
         "the column y[i], and returns a column of shape (n, 1): flatten it, and take -log."),
    Case("a one-row batch", lambda: (torch.tensor([[0.25, 0.75]]), torch.tensor([1])),
         "one example still gives a loss of shape (1,): flatten() or squeeze(1), not squeeze(), which drops the "
         "batch dimension too."),
    Case("a true class of probability exactly 0", lambda: (torch.tensor([[0.0, 1.0], [0.5, 0.5]]),
                                                            torch.tensor([0, 1])),
         "-log(0) is inf, and that is the right answer of this formula (chapter 08 avoids it by never computing "
         "the probability); don't clamp the probabilities or add a small number to them."),
    Case("a transposed (non-contiguous) y_hat", lambda: (_probabilities(5, 3, 4).T.contiguous().T,
                                                         torch.tensor([2, 0, 1])),
         "gather and indexing work on any layout; .view() does not."),
    Case("8 examples of 10 classes", lambda: (_probabilities(6, 8, 10), torch.tensor([3, 9, 0, 5, 5, 1, 7, 2])),
         "the answer is wrong on an ordinary batch: compare with -torch.log(y_hat[range(len(y)), y])."),
)

GATHER_SOLUTION = '''\
import torch


def cross_entropy_gather(y_hat, y):
    """Return -log of the probability y_hat gives to the true class, one value per example, using gather."""
    return -torch.log(torch.gather(y_hat, 1, y.unsqueeze(1))).flatten()
'''

# --- per_class_accuracy -------------------------------------------------------------------------------------------


def per_class_accuracy(y_hat: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Return, for each class, the fraction of its examples predicted right (the reference)."""
    pred = y_hat.argmax(dim=1)
    return torch.stack([(pred[y == c] == c).double().mean() for c in range(num_classes)]).float()


def _scores(predictions: list[int], num_classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Return scores whose argmax per row is ``predictions`` (noise on top of a margin of 3)."""
    noise = seeded_randn(len(predictions), len(predictions), num_classes, scale=0.5)
    return (3 * F.one_hot(torch.tensor(predictions), num_classes) + noise).to(dtype)


ACCURACY_CASES = (
    Case("3 classes, 2 examples each", lambda: (_scores([0, 1, 1, 1, 2, 0], 3), torch.tensor([0, 0, 1, 1, 2, 2]), 3),
         "the accuracy of class c is, among the examples whose label is c, the fraction predicted as c: correct[c] "
         "/ total[c], class by class, not over the whole batch. The predictions are y_hat.argmax(dim=1)."),
    Case("the last class never predicted right", lambda: (_scores([0, 1, 0, 1], 3), torch.tensor([0, 1, 2, 2]), 3),
         "torch.bincount returns as many counts as the largest value + 1: when the last class has no correct "
         "prediction, bincount(y[hit]) comes out one short. Pass minlength=num_classes."),
    Case("classes of different sizes", lambda: (_scores([0, 0, 1, 1, 1], 3), torch.tensor([0, 0, 0, 1, 2]), 3),
         "divide each class's correct predictions by the number of examples of that class."),
    Case("float64 scores", lambda: (_scores([1, 1, 0], 2, torch.float64), torch.tensor([1, 0, 0]), 2),
         "the fractions are floats, one per class."),
)

ACCURACY_SOLUTION = '''\
import torch


def per_class_accuracy(y_hat, y, num_classes):
    """Return, for each class, the fraction of its examples that y_hat predicts right."""
    hit = y_hat.argmax(dim=1) == y
    correct = torch.bincount(y[hit], minlength=num_classes)
    total = torch.bincount(y, minlength=num_classes)
    return correct.float() / total.float()
'''

# --- init_linear --------------------------------------------------------------------------------------------------


def init_linear(m: nn.Module) -> None:
    """Draw a Linear layer's weights from N(0, 0.01^2) and zero its biases; leave other modules alone."""
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(m.bias)


def _linear(n_in: int, n_out: int, seed: int) -> nn.Linear:
    """Return an nn.Linear with PyTorch's default kind of values, drawn from a generator of its own."""
    layer = nn.Linear(n_in, n_out)
    bound = 1 / math.sqrt(n_in)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=g)
        layer.bias.uniform_(-bound, bound, generator=g)
    return layer


def _judge_init(before: tuple[Any, ...], after: tuple[Any, ...], returned: Any) -> Problem | None:
    """Check a Linear layer's weights (mean 0, standard deviation 0.01) and biases (0); other modules unchanged."""
    m = after[0]
    if not isinstance(m, nn.Linear):
        return None
    if not isinstance(m.weight, nn.Parameter) or not m.weight.requires_grad:
        return Problem("m.weight is no longer a parameter that requires grad.",
                       why="change the parameter's values in place, nn.init.normal_(m.weight, std=0.01); a new "
                           "tensor in its place is not trained.")
    w = m.weight.detach()
    if tuple(w.shape) != (m.out_features, m.in_features):
        return Problem(f"m.weight has shape {tuple(w.shape)} instead of {(m.out_features, m.in_features)}.",
                       why="keep the layer's shapes: fill the existing weight in place.")
    if torch.equal(w, before[0].weight.detach()):
        return Problem("m.weight did not change: it still holds PyTorch's default uniform values.",
                       why="nn.init.normal_(m.weight, std=0.01) fills the weight in place.")
    mean, std = w.mean().item(), w.std().item()
    stats = f"the weights have mean {show_number(mean)} and standard deviation {show_number(std)}"
    if abs(mean) > 5 * 0.01 / math.sqrt(w.numel()) or abs(std - 0.01) > 0.001:
        why = ("draw from N(0, 0.01^2): mean 0, standard deviation 0.01, nn.init.normal_(m.weight, std=0.01).")
        if abs(mean - 0.01) < 0.05 and abs(std - 1) < 0.1:
            why = ("nn.init.normal_(w, 0.01) sets the mean to 0.01 (the second parameter is mean, the third std): "
                   "write std=0.01 by name.")
        elif abs(std - 1e-4) < 1e-5:
            why = "N(0, 0.01^2) has variance 0.01^2 and standard deviation 0.01: pass std=0.01, not 0.01 ** 2."
        return Problem(f"{stats}; expected mean 0 and standard deviation 0.01.", why=why)
    if m.bias is not None and bool((m.bias.detach() != 0).any()):
        return Problem(f"the weights are right ({stats}), but the biases are not zero: "
                       f"{show_number(m.bias.detach().abs().max().item())} at most in absolute value.",
                       why="zero the biases too: nn.init.zeros_(m.bias).")
    return None


INIT_CASES = (
    Case("nn.Linear(784, 10)", lambda: (_linear(784, 10, 1),),
         "weights from N(0, 0.01^2), nn.init.normal_(m.weight, std=0.01), and zero biases, nn.init.zeros_(m.bias)."),
    Case("nn.Flatten()", lambda: (nn.Flatten(),),
         "net.apply(init_linear) calls the function on every module, nn.Flatten and nn.ReLU too: act only when "
         "isinstance(m, nn.Linear), and leave the others alone."),
    Case("nn.Linear(256, 10)", lambda: (_linear(256, 10, 2),),
         "every nn.Linear gets the same treatment, whatever its size."),
    Case("nn.ReLU()", lambda: (nn.ReLU(),),
         "modules without parameters are left alone."),
)

INIT_SOLUTION = '''\
from torch import nn


def init_linear(m):
    """Draw a Linear layer's weights from N(0, 0.01^2) and zero its biases; leave other modules alone."""
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(m.bias)
'''

EXERCISES = (
    Exercise(
        id="class_means", chapter="05",
        title="Return the mean image of each class, stacked: shape (num_classes, *X.shape[1:]).",
        params=("X", "y", "num_classes"),
        cases=MEANS_CASES,
        reference=class_means,
        hint_text=("For each class c, X[y == c] holds the images of that class; .mean(dim=0) averages them pixel by "
                   "pixel. torch.stack the num_classes means. Convert uint8 pixels with X.float() first."),
        solution_code=MEANS_SOLUTION,
        error_meanings=(("is invalid for input of size",
                         "the classes do not come in blocks of equal size: select each class's images with the mask "
                         "y == c."),),
    ),
    Exercise(
        id="num_batches", chapter="05",
        title="Return how many minibatches an epoch of num_examples has, the last one possibly smaller.",
        params=("num_examples", "batch_size"),
        cases=COUNT_CASES,
        reference=num_batches,
        hint_text=("It is num_examples / batch_size rounded up. In integers: (num_examples + batch_size - 1) // "
                   "batch_size, or math.ceil(num_examples / batch_size), which returns an int."),
        solution_code=COUNT_SOLUTION,
    ),
    Exercise(
        id="cross_entropy_gather", chapter="06",
        title="Return -log of the probability y_hat gives to the true class, one value per example, using gather.",
        params=("y_hat", "y"),
        cases=GATHER_CASES,
        reference=cross_entropy_gather,
        hint_text=("torch.gather(y_hat, 1, index) takes, in row i, the column index[i, 0]; the index needs y_hat's "
                   "number of dimensions, so pass y.unsqueeze(1). The result is a column: flatten() it, then "
                   "-torch.log(...)."),
        solution_code=GATHER_SOLUTION,
    ),
    Exercise(
        id="per_class_accuracy", chapter="06",
        title="Return, for each class, the fraction of its examples that y_hat predicts right.",
        params=("y_hat", "y", "num_classes"),
        cases=ACCURACY_CASES,
        reference=per_class_accuracy,
        hint_text=("hit = y_hat.argmax(dim=1) == y marks the right predictions. torch.bincount(y[hit], minlength="
                   "num_classes) counts them per class and torch.bincount(y, minlength=num_classes) the examples; "
                   "divide the two as floats."),
        solution_code=ACCURACY_SOLUTION,
        exact_dtype=False,
        error_meanings=(("must match the size of tensor",
                         "torch.bincount returns as many counts as the largest value + 1, so two counts can differ "
                         "in length: pass minlength=num_classes to both."),),
    ),
    Exercise(
        id="init_linear", chapter="07",
        title="Draw a Linear layer's weights from N(0, 0.01^2) and zero its biases; leave other modules alone.",
        params=("m",),
        cases=INIT_CASES,
        reference=init_linear,
        hint_text=("Test the module's type first, isinstance(m, nn.Linear). Then nn.init.normal_(m.weight, std=0.01) "
                   "(by name: the second positional parameter is the mean) and nn.init.zeros_(m.bias) fill the "
                   "parameters in place."),
        solution_code=INIT_SOLUTION,
        may_change=("m",),
        returns_value=False,
        judge=_judge_init,
        compare_to_reference=False,
        error_meanings=(("has no attribute 'weight'",
                         "net.apply calls the function on every module, nn.Flatten and nn.ReLU too, and those have "
                         "no weight: act only when isinstance(m, nn.Linear)."),
                        ("cannot assign",
                         "a module's weight must stay an nn.Parameter: fill it in place with "
                         "nn.init.normal_(m.weight, std=0.01) instead of assigning a new tensor.")),
    ),
)
