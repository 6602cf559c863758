"""Chapters 09 and 10's exercises: an MLP's forward pass and parameter count, dead units, and gradient clipping."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from d2lnotes.exercises.checking import Case, Exercise, seeded_randn

__all__ = ["EXERCISES", "mlp_forward", "mlp_num_params", "dead_unit_fraction", "clip_gradients"]

# --- mlp_forward --------------------------------------------------------------------------------------------------


def mlp_forward(X: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """Return the logits of a one-hidden-layer MLP with ReLU, params = [W1, b1, W2, b2] (the reference)."""
    W1, b1, W2, b2 = params
    H = torch.relu(X.reshape(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2


def _mlp_params() -> list[torch.Tensor]:
    return [seeded_randn(11, 4, 3), seeded_randn(12, 3), seeded_randn(13, 3, 2), seeded_randn(14, 2)]


FORWARD_CASES = (
    Case("5 images of 1 x 2 x 2, W1 of shape (4, 3)", lambda: (seeded_randn(15, 5, 1, 2, 2), _mlp_params()),
         "flatten each image into a row, X.reshape(-1, W1.shape[0]); the hidden layer is H = relu(X @ W1 + b1), "
         "the output H @ W2 + b2, with no ReLU after the output layer (logits may be negative)."),
    Case("one image", lambda: (seeded_randn(16, 1, 1, 2, 2), _mlp_params()),
         "one image gives one row of logits, shape (1, 2): reshape with -1 for the batch, not with a fixed size."),
    Case("images already flat, shape (5, 4)", lambda: (seeded_randn(17, 5, 4), _mlp_params()),
         "flat images reshape to themselves: the same formula works."),
    Case("transposed images (not contiguous)", lambda: (seeded_randn(18, 5, 1, 2, 2).transpose(2, 3), _mlp_params()),
         "a transposed tensor is not contiguous: .view() fails on it, .reshape() copies when it must."),
)

FORWARD_SOLUTION = '''\
import torch


def mlp_forward(X, params):
    """Return the logits of a one-hidden-layer MLP with ReLU, params = [W1, b1, W2, b2]."""
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])      # one row per image
    H = torch.relu(X @ W1 + b1)         # the hidden layer
    return H @ W2 + b2                  # logits: no ReLU here
'''

# --- mlp_num_params -----------------------------------------------------------------------------------------------


def mlp_num_params(sizes: Sequence[int]) -> int:
    """Return the number of weights and biases of an MLP whose layer widths are ``sizes`` (the reference)."""
    return sum(n * m + m for n, m in zip(sizes[:-1], sizes[1:]))


COUNT_CASES = (
    Case("sizes (784, 256, 10), chapter 09's MLP", lambda: ((784, 256, 10),),
         "a layer from n inputs to m outputs holds n * m weights and m biases; add them up over consecutive pairs "
         "of sizes."),
    Case("sizes (784, 10), softmax regression", lambda: ((784, 10),),
         "one layer: 784 * 10 weights and 10 biases, the outputs' number."),
    Case("sizes (784, 256, 256, 10), two hidden layers", lambda: ((784, 256, 256, 10),),
         "every pair of consecutive sizes is one layer, the hidden-to-hidden one included."),
    Case("sizes (4, 3, 2)", lambda: ((4, 3, 2),),
         "4 * 3 + 3 and 3 * 2 + 2: each bias belongs to the layer's outputs, not its inputs."),
    Case("sizes (784,), no layer at all", lambda: ((784,),),
         "a single size is the input alone: no layer, no parameters."),
)

COUNT_SOLUTION = '''\
def mlp_num_params(sizes):
    """Return the number of weights and biases of an MLP whose layer widths are sizes (inputs first)."""
    total = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        total += n_in * n_out + n_out  # weights and biases of one layer
    return total
'''

# --- dead_unit_fraction -------------------------------------------------------------------------------------------


def dead_unit_fraction(H: torch.Tensor) -> float:
    """Return the fraction of hidden units (columns of H) that output 0 for every example (rows) (the reference)."""
    return (H == 0).all(dim=0).double().mean().item()


def _hidden(seed: int, n: int, units: int, dead: tuple[int, ...]) -> torch.Tensor:
    H = torch.relu(seeded_randn(seed, n, units))
    H[0] = H[0] + 1.0  # every unit active on the first example ...
    H[:, list(dead)] = 0.0  # ... except the dead ones
    return H


HIDDEN_CASES = (
    Case("4 examples, 5 units, units 1 and 3 dead", lambda: (_hidden(21, 4, 5, (1, 3)),),
         "a unit is dead when its column of H is 0 for every example: (H == 0).all(dim=0) marks the dead units, "
         "and .float().mean() gives their fraction of all units."),
    Case("zeros scattered, no unit dead", lambda: (torch.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 0.5], [1.0, 2.0, 0.0]]),),
         "zeros in some examples do not make a unit dead: it must be 0 for every example. The fraction of zero "
         "entries is another number."),
    Case("every unit dead", lambda: (torch.zeros(4, 3),),
         "a hidden layer that is 0 everywhere has all its units dead: 1.0."),
    Case("one example", lambda: (torch.tensor([[0.0, 1.0, 0.0, 2.0]]),),
         "with one example, a unit is dead if its single output is 0."),
)

DEAD_SOLUTION = '''\
def dead_unit_fraction(H):
    """Return the fraction of hidden units (columns of H) that output 0 for every example (rows of H)."""
    dead = (H == 0).all(dim=0)   # one True or False per unit
    return dead.float().mean().item()
'''

# --- clip_gradients -----------------------------------------------------------------------------------------------


def clip_gradients(params: Sequence[torch.Tensor], max_norm: float) -> None:
    """Scale all gradients together, in place, so that their joint norm is at most max_norm (the reference)."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)) if grads else torch.tensor(0.0)
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / norm.item())


def _p(values: list[float], grad: list[float] | None) -> torch.Tensor:
    p = torch.tensor(values, requires_grad=True)
    if grad is not None:
        p.grad = torch.tensor(grad)
    return p


def _observe_clip(args: tuple[Any, ...], returned: Any) -> dict[str, Any]:
    params = args[0]
    parts: dict[str, Any] = {}
    for i, p in enumerate(params):
        parts[f"params[{i}].grad after clipping"] = None if p.grad is None else p.grad.detach().clone()
    for i, p in enumerate(params):
        parts[f"params[{i}] after clipping (the parameter itself)"] = p.detach().clone()
    return parts


CLIP_CASES = (
    Case("one gradient [3, 4] (norm 5), max_norm 1", lambda: ([_p([1.0, 1.0], [3.0, 4.0])], 1.0),
         "when the norm of the gradients exceeds max_norm, every gradient is scaled by max_norm / norm, so the "
         "direction stays and the length becomes max_norm: [3, 4] becomes [0.6, 0.8]. Clamping each entry changes "
         "the direction."),
    Case("two gradients of norms 3 and 4 (together 5), max_norm 4",
         lambda: ([_p([[0.0, 0.0], [0.0, 0.0]], [[3.0, 0.0], [0.0, 0.0]]), _p([0.0, 0.0], [0.0, 4.0])], 4.0),
         "the norm is taken over all gradients together: the square root of the sum of every squared entry of "
         "every gradient, not one norm per parameter. Here it is 5, so both gradients are scaled by 4 / 5."),
    Case("a gradient already short enough (norm 0.5), max_norm 1", lambda: ([_p([2.0, 2.0], [0.3, -0.4])], 1.0),
         "a gradient whose norm is at most max_norm stays as it is: scale by min(1, max_norm / norm)."),
    Case("a parameter without a gradient (.grad is None)",
         lambda: ([_p([1.0, 1.0], [6.0, 8.0]), _p([5.0], None)], 5.0),
         "a parameter that took no part in the loss has .grad None: skip it, and leave it None."),
    Case("all gradients zero", lambda: ([_p([1.0, -1.0], [0.0, 0.0])], 1.0),
         "a zero gradient has norm 0: max_norm / 0 is inf, and 0 * inf is nan. Scale only when the norm exceeds "
         "max_norm."),
)

CLIP_SOLUTION = '''\
import torch


def clip_gradients(params, max_norm):
    """Scale all gradients together, in place, so that their joint norm is at most max_norm."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
'''

EXERCISES = (
    Exercise(
        id="mlp_forward", chapter="09",
        title="Return the logits of a one-hidden-layer MLP with ReLU, params = [W1, b1, W2, b2].",
        params=("X", "params"),
        cases=FORWARD_CASES,
        reference=mlp_forward,
        hint_text=("The chapter's net with its parameters passed in: W1, b1, W2, b2 = params; flatten the images "
                   "with X.reshape(-1, W1.shape[0]); H = relu(X @ W1 + b1); return H @ W2 + b2."),
        solution_code=FORWARD_SOLUTION,
    ),
    Exercise(
        id="mlp_num_params", chapter="09",
        title="Return the number of weights and biases of an MLP whose layer widths are sizes (inputs first).",
        params=("sizes",),
        cases=COUNT_CASES,
        reference=mlp_num_params,
        hint_text=("Consecutive sizes n, m are one nn.Linear(n, m): n * m weights and m biases. zip(sizes[:-1], "
                   "sizes[1:]) walks over those pairs."),
        solution_code=COUNT_SOLUTION,
    ),
    Exercise(
        id="dead_unit_fraction", chapter="10",
        title="Return the fraction of hidden units (columns of H) that output 0 for every example (rows of H).",
        params=("H",),
        cases=HIDDEN_CASES,
        reference=dead_unit_fraction,
        hint_text=("(H == 0) marks the zero outputs; .all(dim=0) asks, per unit (column), whether every example "
                   "(row) gave 0. The mean of those as floats is the fraction."),
        solution_code=DEAD_SOLUTION,
    ),
    Exercise(
        id="clip_gradients", chapter="10",
        title="Scale all gradients together, in place, so that their joint norm is at most max_norm.",
        params=("params", "max_norm"),
        cases=CLIP_CASES,
        reference=clip_gradients,
        hint_text=("The joint norm is sqrt(sum over every gradient of (g ** 2).sum()); skip parameters whose .grad "
                   "is None. Only if it exceeds max_norm, multiply every gradient in place by max_norm / norm "
                   "(g *= ..., or g.mul_(...)). torch.nn.utils.clip_grad_norm_ does the same."),
        solution_code=CLIP_SOLUTION,
        may_change=("params",),
        returns_value=False,
        observe=_observe_clip,
    ),
)
