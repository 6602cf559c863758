"""Chapters 02 and 03's exercises: the minibatches of an epoch, a loss per example, an SGD step, smooth L1."""

from __future__ import annotations

import itertools
from typing import Any, Iterable

import torch
import torch.nn.functional as F

from d2lnotes.exercises.checking import Case, Exercise, Problem
from d2lnotes.exercises.display import show

__all__ = ["EXERCISES", "minibatch_indices", "absolute_loss", "sgd_by_length", "smooth_l1_loss"]

# --- minibatch_indices --------------------------------------------------------------------------------------------


def minibatch_indices(num_examples: int, batch_size: int) -> list[torch.Tensor]:
    """Return the index batches of one epoch: a random permutation of range(num_examples), cut into batches."""
    return list(torch.randperm(num_examples).split(batch_size))


def _batches(returned: Any) -> list[Any]:
    """Return the first 1000 items the learner's function gave (a generator's batches, or a list's items)."""
    return list(itertools.islice(iter(returned), 1000))


def _judge_batches(before: tuple[Any, ...], after: tuple[Any, ...], batches: list[Any]) -> Problem | None:
    """Check sizes, that every example comes once, and (for 9 examples or more) that the order is shuffled."""
    num_examples, batch_size = before
    indices = []
    for i, batch in enumerate(batches):
        try:
            as_tensor = torch.as_tensor(batch)
        except (TypeError, ValueError, RuntimeError):
            as_tensor = None
        if as_tensor is None or as_tensor.ndim != 1 or as_tensor.is_floating_point() or as_tensor.dtype == torch.bool:
            return Problem(f"batch {i} is {show(batch)}, not a 1-D tensor (or list) of integer indices.",
                           why="each batch is the indices of its examples, such as indices[i: i + batch_size] "
                               "for indices = torch.randperm(num_examples).")
        indices.append(as_tensor.long())
    sizes = [len(t) for t in indices]
    full, rest = divmod(num_examples, batch_size)
    expected = [batch_size] * full + ([rest] if rest else [])
    if sizes != expected:
        text = f"batch sizes: expected {expected}\n             got {sizes}"
        if sizes and sizes[-1] == 0:
            why = ("the last batch is empty: a loop over num_examples // batch_size + 1 batches runs once too often "
                   "when batch_size divides num_examples. range(0, num_examples, batch_size) gives the right starts.")
        elif sum(sizes) < num_examples and sizes == expected[:len(sizes)]:
            why = (f"the last {num_examples - sum(sizes)} examples never came: range(0, num_examples, batch_size) "
                   f"reaches the last, partial batch, and slicing past the end of a tensor is fine.")
        else:
            why = "every batch holds batch_size examples, except the last, which holds the rest."
        return Problem(text, why=why)
    seen = torch.cat(indices) if indices else torch.zeros(0, dtype=torch.long)
    counts = torch.bincount(seen.clamp(min=0), minlength=num_examples) if len(seen) else torch.zeros(0)
    if len(seen) and (seen.min() < 0 or seen.max() >= num_examples or bool((counts != 1).any())):
        twice = [i for i, c in enumerate(counts.tolist()) if c > 1][:8]
        never = [i for i, c in enumerate(counts.tolist()) if c == 0][:8]
        return Problem(f"indices given: {seen.tolist()}\ncame more than once: {twice}; never came: {never}",
                       why="draw one random permutation per epoch, torch.randperm(num_examples), and cut it into "
                           "batches; random indices drawn for each batch (torch.randint) repeat some examples and "
                           "skip others.")
    if num_examples >= 9 and torch.equal(seen, torch.arange(num_examples)):
        return Problem(f"the indices came in their stored order: {seen.tolist()}",
                       why="shuffle: cut indices = torch.randperm(num_examples) into batches. In stored order every "
                           "batch holds neighbouring examples, and SGD sees the same sequence in every epoch.")
    return None


INDEX_CASES = (
    Case("10 examples in batches of 4", lambda: (10, 4),
         "the batches of 10 examples by 4 are 4, 4 and 2 examples, every example once, in a random order."),
    Case("9 examples in batches of 3", lambda: (9, 3),
         "when batch_size divides num_examples, all batches are full: 3, 3, 3."),
    Case("5 examples in batches of 8 (one batch holds all)", lambda: (5, 8),
         "a batch size larger than the data gives one batch of all 5 examples."),
    Case("6 examples in batches of 1", lambda: (6, 1),
         "batches of one example each: 6 batches."),
)

INDEX_SOLUTION = '''\
import torch


def minibatch_indices(num_examples, batch_size):
    """Return or yield the index batches of one epoch: every example once, in a random order."""
    indices = torch.randperm(num_examples)
    for i in range(0, num_examples, batch_size):
        yield indices[i: i + batch_size]
'''

# --- absolute_loss ------------------------------------------------------------------------------------------------


def absolute_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return |y_hat - y| for each example, in y_hat's shape (the reference)."""
    return (y_hat - y.reshape(y_hat.shape)).abs()


def _col(*values: float) -> torch.Tensor:
    return torch.tensor(values).reshape(-1, 1)


ABSOLUTE_CASES = (
    Case("y_hat and y of shape (3, 1)", lambda: (_col(1.0, 2.0, 4.0), _col(1.5, 2.0, 1.0)),
         "the absolute loss of each example is |y_hat - y|: one value per example, in y_hat's shape, neither "
         "squared, summed nor averaged."),
    Case("y_hat of shape (3, 1), y of shape (3,)", lambda: (_col(1.0, 2.0, 4.0), torch.tensor([1.5, 2.0, 1.0])),
         "y_hat has shape (3, 1) and y shape (3,): y_hat - y broadcasts them to a (3, 3) table of every pair. "
         "Reshape y to y_hat's shape first: y.reshape(y_hat.shape)."),
    Case("a one-example batch, y of shape (1,)", lambda: (_col(2.0), torch.tensor([-1.0])),
         "one example is still a batch: the result keeps y_hat's shape (1, 1); don't squeeze()."),
    Case("y_hat of shape (4,), y of shape (4, 1)", lambda: (torch.tensor([0.0, 1.0, -2.0, 3.0]), _col(1, 1, 1, 1)),
         "the result has y_hat's shape whatever y's shape is: reshape y, not y_hat."),
    Case("float64 predictions", lambda: (_col(0.1, -0.2).double(), torch.tensor([0.3, 0.3], dtype=torch.float64)),
         "the loss keeps the predictions' dtype (float64 here)."),
)

ABSOLUTE_SOLUTION = '''\
def absolute_loss(y_hat, y):
    """Return the absolute loss |y_hat - y| of each example, in y_hat's shape."""
    return (y_hat - y.reshape(y_hat.shape)).abs()
'''

# --- sgd_by_length ------------------------------------------------------------------------------------------------


def sgd_by_length(params: Iterable[torch.Tensor], lr: float, n: int) -> None:
    """Step each parameter by -lr * grad / n in place and zero its gradient (the reference)."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / n
            param.grad.zero_()


def _param(values: list[float], grad: list[float]) -> torch.Tensor:
    p = torch.tensor(values).reshape(-1, 1) if len(values) > 1 else torch.tensor(values)
    p.requires_grad_(True)
    p.grad = torch.tensor(grad).reshape(p.shape)
    return p


def _observe_step(args: tuple[Any, ...], returned: Any) -> dict[str, Any]:
    params = args[0]
    parts = {f"params[{i}] after the step": p.detach().clone() for i, p in enumerate(params)}
    for i, p in enumerate(params):  # a gradient set to None is as good as zeroed
        parts[f"params[{i}].grad after the step"] = torch.zeros_like(p) if p.grad is None else p.grad.detach().clone()
    return parts


def _judge_step(before: tuple[Any, ...], after: tuple[Any, ...], returned: Any) -> Problem | None:
    """Name the two classic mistakes: parameters that did not move, gradients left as they were."""
    for i, (b, a) in enumerate(zip(before[0], after[0])):
        if torch.equal(a.detach(), b.detach()):
            return Problem(f"params[{i}] did not change: it is still {a.detach().flatten().tolist()}.",
                           why="`param = param - ...` makes a new tensor and binds the loop's name to it; the "
                               "caller's parameter stays as it was. Change the tensor itself: param -= ... (inside "
                               "torch.no_grad()).")
    for i, (b, a) in enumerate(zip(before[0], after[0])):
        if a.grad is not None and b.grad.abs().sum() > 0 and torch.equal(a.grad, b.grad):
            return Problem(f"params[{i}].grad still holds the gradient {a.grad.flatten().tolist()} after the step.",
                           why="zero each gradient after the step, param.grad.zero_(): backward() adds to .grad, so "
                               "the next step would use the sum of this gradient and the next.")
    return None


SGD_CASES = (
    Case("params [w, b], lr 0.1, n = 40", lambda: ([_param([1.0, 2.0], [4.0, 8.0]), _param([0.5], [2.0])], 0.1, 40),
         "each parameter moves by -lr * grad / n: the gradient of a summed loss, divided by the number of examples "
         "in this batch, is the mean gradient."),
    Case("params [w, b], lr 1, n = 1", lambda: ([_param([1.0, 2.0], [4.0, 8.0]), _param([0.5], [2.0])], 1.0, 1),
         "with n = 1 the step is lr * grad."),
    Case("a single parameter, lr 0.03, n = 64", lambda: ([_param([3.0, -1.0, 0.25], [64.0, -6.4, 0.0])], 0.03, 64),
         "each entry moves by -lr * grad / n; an entry whose gradient is 0 stays."),
)

SGD_SOLUTION = '''\
import torch


def sgd_by_length(params, lr, n):
    """Step each parameter by -lr * grad / n in place (n: the batch's actual length), then zero its gradient."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / n
            param.grad.zero_()
'''

# --- smooth_l1_loss -----------------------------------------------------------------------------------------------


def smooth_l1_loss(e: torch.Tensor, beta: float) -> torch.Tensor:
    """Return the smooth L1 loss of each error (the reference: torch's, in float64)."""
    return F.smooth_l1_loss(e.double(), torch.zeros_like(e, dtype=torch.float64), reduction="none",
                            beta=beta).to(e.dtype)


SMOOTH_CASES = (
    Case("beta = 1, errors on both sides", lambda: (torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]), 1.0),
         "inside |e| < beta the loss is e**2 / (2 * beta), outside |e| - beta / 2: the Huber loss divided by beta. "
         "Both pieces use |e|, so negative errors cost as much as positive ones."),
    Case("beta = 2", lambda: (torch.tensor([-4.0, -2.0, -1.0, 0.0, 1.0, 3.0, 5.0]), 2.0),
         "with beta other than 1 both pieces change: e**2 / (2 * beta) inside, |e| - beta / 2 outside (the Huber "
         "loss delta * (|e| - delta / 2) divided by delta)."),
    Case("beta = 0.5", lambda: (torch.tensor([-2.0, -0.5, 0.25, 1.0]), 0.5),
         "a small beta shrinks the quadratic piece: e**2 / (2 * beta) for |e| < beta, |e| - beta / 2 beyond."),
    Case("beta = 0, the L1 loss", lambda: (torch.tensor([-2.0, -0.5, 0.0, 0.25, 1.0]), 0.0),
         "with beta = 0 the smooth L1 loss is the L1 loss |e|.",
         "with beta = 0 a division by beta gives nan (0 / 0) or inf. Divide only in the quadratic piece, "
         "e**2 / (2 * beta), and choose it with torch.where(e.abs() < beta, ...), which never picks it when "
         "beta = 0."),
    Case("errors of 1e20 (e**2 overflows float32)", lambda: (torch.tensor([1e20, -1e20, 0.5]), 1.0),
         "for |e| >= beta the loss is |e| - beta / 2, finite even where e**2 is inf."),
)

SMOOTH_SOLUTION = '''\
import torch


def smooth_l1_loss(e, beta):
    """Return the smooth L1 loss of each error e: e**2 / (2 beta) for |e| < beta, |e| - beta / 2 beyond."""
    return torch.where(e.abs() < beta, e**2 / (2 * beta), e.abs() - beta / 2)
'''

EXERCISES = (
    Exercise(
        id="minibatch_indices", chapter="02",
        title="Return or yield the index batches of one epoch: every example once, in a random order.",
        params=("num_examples", "batch_size"),
        cases=INDEX_CASES,
        reference=minibatch_indices,
        hint_text=("data_iter's first half: draw a random order of all examples, indices = "
                   "torch.randperm(num_examples), and cut it into slices indices[i: i + batch_size] for i in "
                   "range(0, num_examples, batch_size). The last slice is simply shorter."),
        solution_code=INDEX_SOLUTION,
        consume=_batches,
        judge=_judge_batches,
        compare_to_reference=False,
        error_meanings=(("is not iterable", "the function must yield the batches (a generator, with yield) or "
                                            "return a list of them."),),
    ),
    Exercise(
        id="absolute_loss", chapter="02",
        title="Return the absolute loss |y_hat - y| of each example, in y_hat's shape.",
        params=("y_hat", "y"),
        cases=ABSOLUTE_CASES,
        reference=absolute_loss,
        hint_text=("Like squared_loss: reshape y to y_hat's shape before subtracting, y.reshape(y_hat.shape), so "
                   "that (n, 1) meets (n, 1) instead of broadcasting against (n,); then take .abs()."),
        solution_code=ABSOLUTE_SOLUTION,
    ),
    Exercise(
        id="sgd_by_length", chapter="02",
        title="Step each parameter by -lr * grad / n in place (n: the batch's actual length), then zero its gradient.",
        params=("params", "lr", "n"),
        cases=SGD_CASES,
        reference=sgd_by_length,
        hint_text=("Start from the chapter's sgd and divide by n instead of batch_size. The update must change each "
                   "parameter tensor itself (param -= ...), inside torch.no_grad() so that autograd does not "
                   "record it; then param.grad.zero_()."),
        solution_code=SGD_SOLUTION,
        may_change=("params",),
        returns_value=False,
        observe=_observe_step,
        judge=_judge_step,
        error_meanings=(("'NoneType' object has no attribute",
                         "param.grad is None here: after `param = param - ...` the name param holds a new tensor, "
                         "without a gradient, and the caller's parameter did not change. Change the tensor itself: "
                         "param -= ... (inside torch.no_grad())."),),
    ),
    Exercise(
        id="smooth_l1_loss", chapter="03",
        title="Return the smooth L1 loss of each error e: e**2 / (2 beta) for |e| < beta, |e| - beta / 2 beyond.",
        params=("e", "beta"),
        cases=SMOOTH_CASES,
        reference=smooth_l1_loss,
        hint_text=("It is huber_loss(e, beta) / beta, written so that beta = 0 works: torch.where(e.abs() < beta, "
                   "e**2 / (2 * beta), e.abs() - beta / 2). torch.where picks entry by entry; a Python `if` on a "
                   "tensor cannot."),
        solution_code=SMOOTH_SOLUTION,
    ),
)
