"""Comparing a learner's result with the expected one, and noticing what a learner's function changed in place.

Floating-point results are compared within a tolerance of the result's dtype: ``8 * eps`` relative, and the same
times ``scale`` absolute (``scale`` is the size of the inputs for results, like log-probabilities, whose rounding
grows with the logits). ``nan`` matches ``nan`` and ``inf`` matches the same ``inf``: where the right answer is not
finite, the learner's must not be finite in the same way.
"""

from __future__ import annotations

import inspect
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from d2lnotes.exercises.display import show, show_index, show_number

__all__ = ["Problem", "tolerance", "compare", "snapshot", "changed", "input_scale"]


@dataclass(frozen=True)
class Problem:
    """What is wrong with one case: the lines that show it, and what it usually means when the case's own text
    would not fit (``why``); ``nonfinite`` when nan or inf came back where a finite value was expected."""

    text: str
    why: str | None = None
    nonfinite: bool = False
    not_answered: bool = False


def tolerance(dtype: torch.dtype, scale: float = 1.0) -> tuple[float, float]:
    """Return (rtol, atol) for comparing results of ``dtype``: 8 eps relative, 8 eps times ``scale`` absolute."""
    if not dtype.is_floating_point:
        return 0.0, 0.0
    eps = torch.finfo(dtype).eps
    return 8 * eps, 8 * eps * scale


def input_scale(args: tuple[Any, ...]) -> float:
    """Return max(1, the largest finite |value| of the floating-point tensors among ``args``)."""
    scale = 1.0
    for a in args:
        if isinstance(a, torch.Tensor) and a.is_floating_point() and a.numel():
            finite = a.detach()[torch.isfinite(a.detach())]
            if finite.numel():
                scale = max(scale, finite.abs().max().item())
    return scale


def _type_advice(got: Any) -> str | None:
    """Return a sentence on how to turn what came back into what was expected, or None."""
    if isinstance(got, tuple) and hasattr(got, "values") and hasattr(got, "indices"):
        return ("torch.max(X, dim) and its kin reduce along a dimension and return (values, indices); an elementwise "
                "maximum is torch.maximum(X, Y) or X.clamp(min=0).")
    if inspect.isgenerator(got):
        return "a function with `yield` in it returns a generator: give the result back with `return`."
    if isinstance(got, np.ndarray):
        return "stay in torch, or convert back with torch.from_numpy(...)."
    if isinstance(got, (list, tuple)):
        return "return one tensor (torch.stack or torch.cat join a list of tensors)."
    if isinstance(got, numbers.Number):
        return "a Python number has left torch: keep the tensor operations, without .item() or float()."
    if isinstance(got, str):
        return "return the computed value, not a text about it."
    return None


def _dtype_advice(expected: torch.dtype, got: torch.dtype) -> str:
    if got == torch.bool:
        return "a comparison such as x > 0 gives booleans: convert with .to(x.dtype), or use torch.where(...)."
    if not got.is_floating_point and expected.is_floating_point:
        return "integer arithmetic rounds the fractions away: convert to float before dividing (.float())."
    if got.is_floating_point and expected.is_floating_point:
        return (f"keep the input's dtype ({expected}): a .float() or a new tensor made with torch.tensor(...) or "
                f"torch.zeros(...) without dtype= changes it; convert back with .to(X.dtype).")
    return ""


def _compare_tensors(expected: torch.Tensor, got: Any, scale: float, exact_dtype: bool) -> Problem | None:
    if not isinstance(got, torch.Tensor):
        return Problem(f"expected: {show(expected)}\ngot:      {show(got)}, not a tensor", why=_type_advice(got))
    if tuple(got.shape) != tuple(expected.shape):
        return Problem(f"expected a tensor of shape {tuple(expected.shape)}: {show(expected)}\n"
                       f"got shape {tuple(got.shape)}: {show(got)}")
    if got.dtype != expected.dtype and (exact_dtype or not got.is_floating_point()):
        return Problem(f"expected dtype {expected.dtype}: {show(expected)}\ngot dtype {got.dtype}: {show(got)}",
                       why=_dtype_advice(expected.dtype, got.dtype) or None)
    e = expected.detach().cpu().double()
    g = got.detach().cpu().double()
    rtol, atol = tolerance(expected.dtype, scale)
    close = torch.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)  # nan matches nan, inf the same inf
    if bool(close.all()):
        return None
    wrong = ~close
    first = tuple(int(i) for i in wrong.nonzero()[0])
    nonfinite = bool((wrong & ~torch.isfinite(g) & torch.isfinite(e)).any())
    is_float = expected.is_floating_point()
    lines = [f"expected: {show(expected)}", f"got:      {show(got)}"]
    if first:
        digits = {torch.float16: 5, torch.bfloat16: 4, torch.float32: 7}.get(expected.dtype, 12)
        at_e, at_g = (show_number(t[first].item(), is_float, digits) for t in (e, g))
        lines.append(f"first difference at {show_index(first)}: expected {at_e}, got {at_g} "
                     f"({int(wrong.sum())} of {expected.numel()} entries differ)")
    return Problem("\n".join(lines), nonfinite=nonfinite)


def _as_number(got: Any) -> float | None:
    """Return a Python number from a number or a one-element tensor, or None."""
    if isinstance(got, (bool, np.bool_)):
        return None
    if isinstance(got, numbers.Number):
        return got  # type: ignore[return-value]
    if isinstance(got, torch.Tensor) and got.numel() == 1 and got.dtype != torch.bool:
        return got.detach().cpu().item()
    return None


def compare(expected: Any, got: Any, scale: float = 1.0, exact_dtype: bool = True) -> Problem | None:
    """Return what differs between ``expected`` and ``got`` (tensors, bools, ints, floats), or None if they agree."""
    if isinstance(expected, torch.Tensor):
        return _compare_tensors(expected, got, scale, exact_dtype)
    if isinstance(expected, bool):
        ok = isinstance(got, (bool, np.bool_)) or (
            isinstance(got, torch.Tensor) and got.numel() == 1 and got.dtype == torch.bool)
        if not ok:
            return Problem(f"expected: {expected} (a bool)\ngot:      {show(got)}", why="return True or False.")
        return None if bool(got) == expected else Problem(f"expected: {expected}\ngot:      {bool(got)}")
    number = _as_number(got)
    if isinstance(expected, int):
        if number is None or isinstance(number, float) or (isinstance(got, torch.Tensor) and got.is_floating_point()):
            advice = "use integer division // (or math.ceil, which returns an int)." if number is not None else None
            return Problem(f"expected: {expected} (an int)\ngot:      {show(got)}, not an int", why=advice)
        return None if int(number) == expected else Problem(f"expected: {expected}\ngot:      {int(number)}")
    if isinstance(expected, float):
        if number is None:
            return Problem(f"expected: {show(expected)} (a number)\ngot:      {show(got)}", why=_type_advice(got))
        if abs(float(number) - expected) <= 1e-6 + 1e-6 * abs(expected):
            return None
        return Problem(f"expected: {show(expected)}\ngot:      {show(float(number))}")
    return None if got == expected else Problem(f"expected: {show(expected)}\ngot:      {show(got)}")


@dataclass(frozen=True)
class _Frozen:
    """A tensor's values, requires_grad flag and gradient at one moment."""

    values: torch.Tensor
    requires_grad: bool
    grad: torch.Tensor | None


def snapshot(value: Any) -> Any:
    """Return a copy of ``value``'s tensors (in lists, tuples, modules) to compare with after a call."""
    if isinstance(value, torch.Tensor):
        grad = None if value.grad is None else value.grad.detach().clone()
        return _Frozen(value.detach().clone(), value.requires_grad, grad)
    if isinstance(value, (list, tuple)):
        return [snapshot(v) for v in value]
    if isinstance(value, nn.Module):
        return {k: v.detach().clone() for k, v in value.state_dict().items()}
    return None


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return torch.equal(a, b)


def changed(name: str, value: Any, before: Any) -> str | None:
    """Return how ``value`` (the argument called ``name``) differs from its ``snapshot``, or None."""
    if isinstance(before, _Frozen) and isinstance(value, torch.Tensor):
        if not _same(value.detach(), before.values):
            return f"the entries of {name}"
        if value.requires_grad != before.requires_grad:
            return f"{name}.requires_grad (now {value.requires_grad})"
        grad = value.grad
        if (grad is None) != (before.grad is None) or (grad is not None and not _same(grad.detach(), before.grad)):
            return f"{name}.grad"
        return None
    if isinstance(before, list) and isinstance(value, (list, tuple)):
        if len(value) != len(before):
            return f"the length of {name}"
        for i, (v, b) in enumerate(zip(value, before)):
            if (what := changed(f"{name}[{i}]", v, b)) is not None:
                return what
        return None
    if isinstance(before, dict) and isinstance(value, nn.Module):
        now = value.state_dict()
        if now.keys() != before.keys() or any(not _same(now[k].detach(), before[k]) for k in before):
            return f"the parameters of {name}"
    return None
