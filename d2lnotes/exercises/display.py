"""Short, readable text for the values a check shows: a case's input, what was expected, what came back.

A small tensor is written out in full, the way a learner would type it (``tensor([[1000., 0.]])``); a large one as
its dtype, shape and range. Nothing shown carries a memory address, so that a stored notebook output repeats.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["show", "show_number", "show_index", "SMALL"]

#: Tensors with at most this many entries are written out in full.
SMALL = 20


def show_number(value: float, is_float: bool = True, digits: int = 4) -> str:
    """Return a number as torch prints it, to ``digits`` significant digits (``1000.``, ``0.3333``, ``nan``)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if not is_float:
        return str(int(value))
    text = f"{value:.{digits}g}"
    return text if any(c in text for c in ".e") else text + "."


def show_index(index: tuple[int, ...]) -> str:
    """Return a tensor index as Python writes it: ``[3, 7]``."""
    return "[" + ", ".join(str(i) for i in index) + "]"


def _nested(values: Any, is_float: bool) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v, is_float) for v in values) + "]"
    return show_number(float(values), is_float)


def _tensor(x: torch.Tensor) -> str:
    x_shown = x.detach()
    is_float = x_shown.is_floating_point()
    extras = []
    if x_shown.dtype not in (torch.float32, torch.int64, torch.bool):
        extras.append(f"dtype={x_shown.dtype}")
    if x.requires_grad:
        extras.append("requires_grad=True")
    if x_shown.numel() <= SMALL and x_shown.ndim <= 4:
        if x_shown.dtype == torch.bool:
            body = str(x_shown.cpu().tolist())
        else:
            body = _nested(x_shown.cpu().double().tolist(), is_float)
        text = f"tensor({body}{''.join(', ' + e for e in extras)})"
    else:
        shape = "(" + ", ".join(str(s) for s in x_shown.shape) + ("," if x_shown.ndim == 1 else "") + ")"
        text = f"a {x_shown.dtype} tensor of shape {shape}"
        finite = x_shown[torch.isfinite(x_shown)] if is_float else x_shown
        if finite.numel():
            low, high = finite.min().item(), finite.max().item()
            text += f", values from {show_number(low, is_float)} to {show_number(high, is_float)}"
        if is_float and finite.numel() < x_shown.numel():
            text += f", {x_shown.numel() - finite.numel()} of them not finite"
        if x.requires_grad:
            text += ", requires_grad=True"
    if x_shown.ndim >= 2 and not x_shown.is_contiguous():
        text += " (not contiguous)"
    if x.grad is not None:
        text += f" (.grad: {_tensor(x.grad)})"
    return text


def show(value: Any) -> str:
    """Return a one-line description of ``value`` for a check's message: tensors, numbers, lists, functions, layers."""
    if isinstance(value, torch.Tensor):
        return _tensor(value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # a Python number, as Python writes it
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        inner = ", ".join(show(v) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, tuple) and hasattr(value, "values") and hasattr(value, "indices"):
        return f"a (values, indices) pair of type {type(value).__module__}.{type(value).__name__}"
    if inspect.isgenerator(value):
        return "a generator"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, nn.Module):
        return repr(value) if len(repr(value)) <= 80 else f"a {type(value).__name__} module"
    if callable(value) and hasattr(value, "__name__"):
        return f"{value.__name__}" if value.__name__ != "<lambda>" else "a lambda function"
    text = repr(value)
    if " at 0x" in text or len(text) > 80:
        return f"a {type(value).__module__}.{type(value).__qualname__} object"
    return text
