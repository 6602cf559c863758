"""Chapter 01's exercises: which tensors share memory, and a gradient that leaves its input alone."""

from __future__ import annotations

from typing import Callable

import torch

from d2lnotes.exercises.checking import Case, Exercise

__all__ = ["EXERCISES", "shares_memory", "gradient_of", "sum_of_squares", "sine", "double_until_large"]


# --- shares_memory ------------------------------------------------------------------------------------------------


def shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Return True if ``a`` and ``b`` are stored in the same memory (the reference: compare their storages)."""
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def _x() -> torch.Tensor:
    return torch.arange(6.0)


def _m() -> torch.Tensor:
    return torch.arange(6.0).reshape(2, 3)


def _pair_from_numpy() -> tuple[torch.Tensor, torch.Tensor]:
    x = _x()
    return x, torch.from_numpy(x.numpy())


def _transposed_and_reshaped() -> tuple[torch.Tensor, torch.Tensor]:
    t = _m().T
    return t, t.reshape(6)


SHARES_CASES = (
    Case("x and x.view(2, 3)", lambda: (lambda x: (x, x.view(2, 3)))(_x()),
         "view() never copies: the result reads and writes x's memory. Compare where the two tensors' memory lives, "
         "not their values (torch.equal) or their identity (a is b): they are two tensor objects of different "
         "shapes."),
    Case("x and x.clone()", lambda: (lambda x: (x, x.clone()))(_x()),
         "clone() copies the values into memory of its own: equal values are not shared memory."),
    Case("x and x[1:], a view that starts one element later", lambda: (lambda x: (x, x[1:]))(_x()),
         "x[1:] is a view of x's storage, but it starts one element later, so its data_ptr() differs from x's. "
         "Compare the storages: a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()."),
    Case("m and m.T", lambda: (lambda m: (m, m.T))(_m()),
         "m.T is a view: the same memory, read with other strides."),
    Case("t = m.T and t.reshape(6)", _transposed_and_reshaped,
         "a transposed matrix is not contiguous, so reshape(6) has to copy (view() would fail): the result has "
         "memory of its own."),
    Case("x and torch.from_numpy(x.numpy())", _pair_from_numpy,
         "x.numpy() and torch.from_numpy(...) share x's memory (on the CPU): a change through one shows in the other."),
    Case("torch.zeros(3) and torch.zeros(3)", lambda: (torch.zeros(3), torch.zeros(3)),
         "two tensors made separately have memory of their own, whatever their values."),
    Case("x and x.reshape(3, 2)", lambda: (lambda x: (x, x.reshape(3, 2)))(_x()),
         "reshape() of a contiguous tensor returns a view: it copies only when it must."),
)

SHARES_SOLUTION = '''\
import torch


def shares_memory(a, b):
    """Return True if tensors a and b are stored in the same memory."""
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
'''

# --- gradient_of --------------------------------------------------------------------------------------------------


def sum_of_squares(x: torch.Tensor) -> torch.Tensor:
    """Return sum(x ** 2), a scalar."""
    return (x * x).sum()


def sine(x: torch.Tensor) -> torch.Tensor:
    """Return sin(x), entry by entry: not a scalar."""
    return torch.sin(x)


def double_until_large(a: torch.Tensor) -> torch.Tensor:
    """Return a doubled until its norm reaches 1000 (chapter 01's function with Python control flow)."""
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    return b


def gradient_of(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the gradient of f(x).sum() with respect to x (the reference: torch.autograd.grad on a copy)."""
    xr = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(f(xr).sum(), xr)[0]


def _with_grad() -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.grad = torch.full((3,), 10.0)
    return sum_of_squares, x


GRADIENT_CASES = (
    Case("f = sum_of_squares, x = [1, 2, 3]", lambda: (sum_of_squares, torch.tensor([1.0, 2.0, 3.0])),
         "the gradient of sum(x ** 2) is 2x. Work on a copy that records: xr = x.detach().clone().requires_grad_(), "
         "call f(xr).sum().backward(), and return xr.grad."),
    Case("f = sine, whose result is not a scalar", lambda: (sine, torch.tensor([0.0, 1.0, 2.0])),
         "f(x) is a vector here, and backward() needs a scalar: the gradient of f(x).sum() is the derivative of "
         "each entry, cos(x)."),
    Case("x that already requires grad and holds a .grad", _with_grad,
         "gradients accumulate: x already had a .grad, and backward() on x itself adds to it. Work on "
         "x.detach().clone().requires_grad_(), whose .grad starts empty."),
    Case("f = double_until_large (control flow), a = 0.7", lambda: (double_until_large, torch.tensor(0.7)),
         "autograd follows the path the loop took: the gradient is f(a) / a, a power of 2."),
    Case("a transposed (non-contiguous) x", lambda: (sum_of_squares, torch.arange(6.0).reshape(2, 3).T),
         "the gradient has x's shape (3, 2): 2x, entry by entry."),
    Case("x in float64", lambda: (sine, torch.tensor([0.5, -1.5], dtype=torch.float64)),
         "the gradient keeps x's dtype: clone() keeps it, torch.tensor(...) without dtype= does not."),
)

GRADIENT_SOLUTION = '''\
import torch


def gradient_of(f, x):
    """Return the gradient of f(x).sum() with respect to x, leaving x itself alone."""
    x = x.detach().clone().requires_grad_(True)  # a copy of our own, recording, with no .grad yet
    f(x).sum().backward()                         # sum: backward() needs a scalar
    return x.grad
'''

EXERCISES = (
    Exercise(
        id="shares_memory", chapter="01",
        title="Return True if tensors a and b are stored in the same memory.",
        params=("a", "b"),
        cases=SHARES_CASES,
        reference=shares_memory,
        hint_text=("Every tensor is a view of a storage, a block of memory. a.untyped_storage() is that block; two "
                   "tensors share memory when their storages start at the same address (data_ptr()). A tensor's "
                   "own data_ptr() is where its first element sits, which differs for x[1:]."),
        solution_code=SHARES_SOLUTION,
    ),
    Exercise(
        id="gradient_of", chapter="01",
        title="Return the gradient of f(x).sum() with respect to x, leaving x itself alone.",
        params=("f", "x"),
        cases=GRADIENT_CASES,
        reference=gradient_of,
        hint_text=("Make a copy of x that records operations: x.detach().clone().requires_grad_(). Call f on the "
                   "copy, sum the result (backward() needs a scalar), call backward(), and return the copy's .grad. "
                   "The caller's x keeps its requires_grad flag and its own .grad."),
        solution_code=GRADIENT_SOLUTION,
    ),
)
