"""Numerics of softmax and cross-entropy: the naive formulas next to the stable ones.

The naive versions are written exactly as the maths reads, so that the stability
chapter can show them overflowing (``exp(1000) = inf``) and producing ``nan``.
The stable versions subtract the maximum before exponentiating (the log-sum-exp
trick) and agree with ``torch.nn.functional`` at any logits.
"""

from __future__ import annotations

import torch

__all__ = [
    "softmax_naive",
    "softmax_stable",
    "logsumexp",
    "log_softmax",
    "cross_entropy_from_probs",
    "cross_entropy_from_logits",
]


def softmax_naive(X: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Return exp(X) / sum(exp(X)) along ``dim``, as written (overflows to nan for large logits)."""
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(dim=dim, keepdim=True)


def _shift(X: torch.Tensor, dim: int) -> torch.Tensor:
    """Return the per-row maximum of ``X`` along ``dim`` (kept dims), with infinite maxima replaced by 0."""
    m = X.detach().amax(dim=dim, keepdim=True)
    return torch.where(torch.isfinite(m), m, torch.zeros_like(m))


def softmax_stable(X: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Return the softmax of ``X`` along ``dim``, computed as exp(X - max) / sum(exp(X - max))."""
    X_exp = torch.exp(X - _shift(X, dim))
    return X_exp / X_exp.sum(dim=dim, keepdim=True)


def logsumexp(X: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """Return log(sum(exp(X))) along ``dim`` without overflow: max + log(sum(exp(X - max)))."""
    m = _shift(X, dim)
    out = m + torch.log(torch.exp(X - m).sum(dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def log_softmax(X: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Return log(softmax(X)) along ``dim``, computed as X - logsumexp(X) (finite at any logits)."""
    return X - logsumexp(X, dim=dim, keepdim=True)


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
    """Return logsumexp(logits[i]) - logits[i, y[i]] per example: cross-entropy fused with softmax, stable."""
    return logsumexp(logits, dim=1) - _pick(logits, y)
