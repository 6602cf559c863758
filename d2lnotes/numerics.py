"""Numerics of softmax and cross-entropy: the naive formulas next to the stable ones.

The naive versions are written exactly as the maths reads, so that the stability
chapter can show them overflowing (``exp(1000) = inf``) and producing ``nan``.
The stable versions subtract the maximum before exponentiating (the log-sum-exp
trick), stay in the shifted frame, and agree with ``torch.nn.functional`` at any
logits and in float16/bfloat16, with torch's nan pattern for rows holding inf.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [
    "to_float",
    "softmax_naive",
    "softmax_stable",
    "logsumexp",
    "log_softmax",
    "cross_entropy_from_probs",
    "cross_entropy_from_logits",
]


def to_float(value: Any) -> float:
    """Return ``value`` (a Python or numpy number, or a one-element tensor, read without its gradient) as a float."""
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


def softmax_naive(X: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Return exp(X) / sum(exp(X)) along ``dim``, as written (overflows to nan for large logits)."""
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(dim=dim, keepdim=True)


def _shifted(X: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (m, Z = X - m, log(sum(exp(Z))), rows holding +inf), all with ``dim`` kept.

    ``m`` is the row's maximum where it is finite and 0 elsewhere (an empty row too), so that ``Z <= 0`` and no
    exponential overflows. The caller computes in the shifted frame (``Z - lse``), never as ``X - (m + lse)``:
    in float16 the sum ``m + lse`` rounds ``lse`` away when ``m`` is large.
    """
    if X.shape[dim] == 0:
        top = X.detach().new_full((*X.shape[:dim % X.ndim], 1, *X.shape[dim % X.ndim + 1:]), float("-inf"))
    else:
        top = X.detach().amax(dim=dim, keepdim=True)
    m = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    Z = X - m
    return m, Z, torch.log(torch.exp(Z).sum(dim=dim, keepdim=True)), top == float("inf")


def softmax_stable(X: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Return the softmax of ``X`` along ``dim``, computed as exp(X - max) / sum(exp(X - max)) (nan rows like torch)."""
    _, Z, _, inf_rows = _shifted(X, dim)
    Z_exp = torch.exp(Z)
    out = Z_exp / Z_exp.sum(dim=dim, keepdim=True)
    return torch.where(inf_rows, torch.full_like(out, float("nan")), out)


def logsumexp(X: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """Return log(sum(exp(X))) along ``dim`` without overflow: max + log(sum(exp(X - max)))."""
    m, _, lse, _ = _shifted(X, dim)
    out = m + lse
    return out if keepdim else out.squeeze(dim)


def log_softmax(X: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Return log(softmax(X)) along ``dim``, computed as (X - max) - log(sum(exp(X - max))) (nan rows like torch)."""
    _, Z, lse, inf_rows = _shifted(X, dim)
    out = Z - lse
    return torch.where(inf_rows, torch.full_like(out, float("nan")), out)


def _pick(M: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return M[i, y[i]] for every row i of the 2-D tensor ``M``."""
    if M.ndim != 2 or y.ndim != 1 or M.shape[0] != y.shape[0]:
        raise ValueError(
            f"expected a [batch, classes] tensor and [batch] labels, got shapes {tuple(M.shape)} and "
            f"{tuple(y.shape)}; reshape the labels with y.reshape(-1)"
        )
    return M.gather(1, y.long().unsqueeze(1)).squeeze(1)


def cross_entropy_from_probs(probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return -log(probs[i, y[i]]) per example (d2l's from-scratch loss; inf where the probability is 0)."""
    return -torch.log(_pick(probs, y))


def cross_entropy_from_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return -log_softmax(logits)[i, y[i]] per example: cross-entropy fused with softmax, stable in any dtype."""
    return -_pick(log_softmax(logits, dim=1), y)
