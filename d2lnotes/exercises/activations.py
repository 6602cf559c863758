"""Chapter 04's exercises: the leaky ReLU and its derivative, PyTorch's value at 0 included."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from d2lnotes.exercises.checking import Case, Exercise, seeded_randn

__all__ = ["EXERCISES", "leaky_relu", "leaky_relu_grad"]


def leaky_relu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Return x where x > 0 and alpha * x elsewhere (the reference: torch's)."""
    return F.leaky_relu(x, negative_slope=alpha)


def leaky_relu_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Return the leaky ReLU's derivative at every entry of x: 1 where x > 0, alpha elsewhere (0 included)."""
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, alpha))


def _transposed() -> torch.Tensor:
    return seeded_randn(4, 3, 4).T


LEAKY_CASES = (
    Case("alpha = 0.1, x from -2 to 2", lambda: (torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0]), 0.1),
         "the leaky ReLU is x for x > 0 and alpha * x otherwise: negative inputs are scaled by alpha, not replaced "
         "by alpha, and positive ones pass unchanged."),
    Case("alpha = 0.2", lambda: (torch.tensor([-3.0, -1.0, 1.0, 3.0]), 0.2),
         "alpha is a parameter: use the one passed in."),
    Case("only negative inputs, alpha = 0.01", lambda: (torch.tensor([-100.0, -1.0, -0.01]), 0.01),
         "every negative input x gives alpha * x."),
    Case("a transposed (non-contiguous) 2-D batch", lambda: (_transposed(), 0.1),
         "the function works entry by entry, on a tensor of any shape and layout: no .view()."),
    Case("float16 inputs", lambda: (torch.tensor([-4.0, 4.0], dtype=torch.float16), 0.25),
         "the result keeps the input's dtype (float16 here)."),
)

LEAKY_SOLUTION = '''\
import torch


def leaky_relu(x, alpha):
    """Return x where x > 0 and alpha * x elsewhere."""
    return torch.where(x > 0, x, alpha * x)
'''

GRAD_CASES = (
    Case("alpha = 0.1, x away from 0", lambda: (torch.tensor([-2.0, -0.5, 0.5, 2.0]), 0.1),
         "the slope is 1 where x > 0 and alpha where x < 0, entry by entry: a tensor of x's shape and dtype."),
    Case("x = 0 exactly", lambda: (torch.tensor([-1.0, 0.0, 1.0]), 0.1),
         "at x = 0 PyTorch's leaky_relu uses the left slope, alpha: test x > 0 (False at 0), not x >= 0. Check it "
         "with autograd: F.leaky_relu(x, 0.1).backward(...) gives 0.1 at 0."),
    Case("alpha = 0.3, a 2-D batch", lambda: (torch.tensor([[-1.0, 2.0], [3.0, -4.0]]), 0.3),
         "alpha is a parameter: use the one passed in."),
    Case("a transposed (non-contiguous) 2-D batch", lambda: (_transposed(), 0.05),
         "the derivative has x's shape, entry by entry."),
)

GRAD_SOLUTION = '''\
import torch


def leaky_relu_grad(x, alpha):
    """Return the leaky ReLU's derivative at every entry of x: 1 where x > 0, alpha elsewhere (0 included)."""
    return torch.where(x > 0, 1.0, alpha).to(x.dtype)
'''

EXERCISES = (
    Exercise(
        id="leaky_relu", chapter="04",
        title="Return x where x > 0 and alpha * x elsewhere.",
        params=("x", "alpha"),
        cases=LEAKY_CASES,
        reference=leaky_relu,
        hint_text=("Choose entry by entry between x and alpha * x with torch.where(x > 0, ...). For 0 <= alpha <= 1, "
                   "torch.maximum(x, alpha * x) is the same thing."),
        solution_code=LEAKY_SOLUTION,
    ),
    Exercise(
        id="leaky_relu_grad", chapter="04",
        title="Return the leaky ReLU's derivative at every entry of x: 1 where x > 0, alpha elsewhere (0 included).",
        params=("x", "alpha"),
        cases=GRAD_CASES,
        reference=leaky_relu_grad,
        hint_text=("The derivative is a step: torch.where(x > 0, 1.0, alpha). Compare it with what autograd gives: "
                   "x.requires_grad_(); F.leaky_relu(x, alpha).backward(torch.ones_like(x)); x.grad."),
        solution_code=GRAD_SOLUTION,
    ),
)
