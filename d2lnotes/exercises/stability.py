"""Chapter 08's exercises: softmax, log-softmax and cross-entropy that survive any logits.

``X`` is a 2-D float tensor of logits, one row per example; ``y`` holds class indices (int64). The cases go from
ordinary logits to the hostile ones of the chapter: logits of a thousand, rows a thousand apart, ``-inf`` for a
masked class, float16 (where ``exp`` overflows at 11) and bfloat16, a one-row batch, a transposed input.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from d2lnotes.exercises.checking import Case, Exercise, seeded_randn

__all__ = ["EXERCISES", "stable_softmax", "stable_log_softmax", "stable_cross_entropy"]

INF = float("inf")


def _t(rows: list[list[float]], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.tensor(rows, dtype=dtype)


# The logits of each case, and the true classes for cross-entropy.
SMALL_LOGITS = ([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [2, 0])
ONE_ROW = ([[1.0, 2.0, 3.0, 4.0]], [1])
GAP = ([[-150.0, 0.0], [0.0, 0.0]], [0, 1])
LARGE = ([[1000.0, 990.0], [0.0, 1000.0]], [1, 0])
VERY_NEGATIVE = ([[-1000.0, -1000.0, -999.0]], [2])
FAR_APART = ([[1000.0, 999.0, 998.0], [0.0, -1.0, -2.0]], [0, 2])
MASKED = ([[-INF, 0.0, 1.0], [2.0, -INF, 0.0]], [2, 0])
HALF = ([[10.0, 0.0, -5.0], [12.0, 11.0, 0.0]], [0, 1])
BFLOAT = ([[100.0, 0.0, -100.0], [50.0, 60.0, 70.0]], [2, 0])


def _transposed() -> torch.Tensor:
    return seeded_randn(8, 5, 4, scale=10.0).T  # 4 examples of 5 classes, stored column by column


def _random() -> torch.Tensor:
    return seeded_randn(9, 8, 10, scale=30.0)


_LABELS_T = [4, 0, 2, 1]
_LABELS_R = [3, 9, 0, 5, 5, 1, 7, 2]

# --- what failing each case usually means, shared by the three exercises -------------------------------------------

WHY_ONE_ROW = ("a batch of one example is a (1, k) tensor and must stay one: reduce with dim=1 and keepdim=True, "
               "and avoid squeeze() and sums over all entries.")
WHY_OVERFLOW = ("exp(1000) overflows float32 to inf (anything above about 88.7 does), and inf / inf or inf - inf "
                "is nan. Subtract each row's maximum first: X - X.max(dim=1, keepdim=True).values; the largest "
                "exponent is then exp(0) = 1.")
WHY_UNDERFLOW = ("every exp(-1000) rounds to 0, so the sum is 0 and 0 / 0 (or log 0) follows. Subtracting the "
                 "row's maximum fixes this too: the largest term becomes exp(0) = 1, so the sum is at least 1.")
WHY_FAR_APART = ("each row needs its own maximum. X.max() over the whole batch leaves the second row near -1000, "
                 "where every exp rounds to 0; use X.max(dim=1, keepdim=True).values.")
WHY_MASKED = ("a logit of -inf marks a class that cannot occur: exp(-inf) = 0, so it gets probability 0 (log-"
              "probability -inf) and the others a proper softmax. nan here comes from an inf - inf: subtract the "
              "row's maximum, not its mean or minimum, and don't replace -inf by a number.")
WHY_HALF = ("float16 overflows much earlier than float32: exp(x) is inf from x = 11.1 on (its largest value is "
            "65504), so the formula as written fails for logits above 11. Subtracting each row's maximum works in "
            "every dtype.")
WHY_HALF_DTYPE = ("in float16 the answer should still be float16, within float16's rounding of the truth. Keep "
                  "the input's dtype: constants and new tensors made with the input's dtype, no .float().")
WHY_BFLOAT = ("bfloat16 reaches as far as float32 but no further: exp(100) is inf. Subtract each row's maximum.")
WHY_TRANSPOSED = ("the input is a transposed view, not contiguous in memory: .view() fails on it (use .reshape()), "
                  "and code that assumes rows lie one after another reads the wrong numbers.")


def _cases(why_small: str, why_random: str, with_gap: str | None, labels: bool) -> tuple[Case, ...]:
    """Return the cases of one exercise: the arguments ``(X,)`` or ``(X, y)``, in order from easy to hostile."""

    def case(name: str, data: tuple[list[list[float]], list[int]] | Callable[[], torch.Tensor],
             why: str, why_nonfinite: str | None = None, dtype: torch.dtype = torch.float32,
             y: list[int] | None = None) -> Case:
        def make() -> tuple[Any, ...]:
            X = data() if callable(data) else _t(data[0], dtype)
            if not labels:
                return (X,)
            return X, torch.tensor(y if y is not None else data[1])  # type: ignore[index]
        return Case(name, make, why, why_nonfinite)

    cases = [
        case("small logits [[1, 2, 3], [0, 0, 0]]", SMALL_LOGITS, why_small),
        case("a one-row batch", ONE_ROW, WHY_ONE_ROW),
    ]
    if with_gap:
        cases.append(case("a true class 150 below the best [[-150, 0], ...]" if labels
                          else "a class 150 below the best [[-150, 0], ...]", GAP, with_gap))
    cases += [
        case("large logits [[1000, 990], [0, 1000]]", LARGE,
             "subtracting each row's maximum keeps the answer exact; clamping or scaling the logits changes it.",
             WHY_OVERFLOW),
        case("very negative logits [[-1000, -1000, -999]]", VERY_NEGATIVE,
             "subtracting each row's maximum keeps the answer exact.", WHY_UNDERFLOW),
        case("rows far apart [[1000, 999, 998], [0, -1, -2]]", FAR_APART, WHY_FAR_APART),
        case("a masked class (logit -inf)", MASKED, WHY_MASKED),
        case("float16 logits up to 12", HALF, WHY_HALF_DTYPE, WHY_HALF, torch.float16),
        case("bfloat16 logits up to 100", BFLOAT, WHY_HALF_DTYPE.replace("float16", "bfloat16"), WHY_BFLOAT,
             torch.bfloat16),
        case("a transposed (non-contiguous) batch", _transposed, WHY_TRANSPOSED, y=_LABELS_T),
        case("a batch of 8 random rows of 10 logits", _random, why_random, y=_LABELS_R),
    ]
    return tuple(cases)


# --- the references: float64 through torch, rounded to the input's dtype -------------------------------------------


def stable_softmax(X: torch.Tensor) -> torch.Tensor:
    """Return the softmax of each row of ``X`` (the reference: torch in float64, in ``X``'s dtype)."""
    return torch.softmax(X.double(), dim=1).to(X.dtype)


def stable_log_softmax(X: torch.Tensor) -> torch.Tensor:
    """Return the log-softmax of each row of ``X`` (the reference: torch in float64, in ``X``'s dtype)."""
    return torch.log_softmax(X.double(), dim=1).to(X.dtype)


def stable_cross_entropy(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return the cross-entropy loss of each example (the reference: torch in float64, in ``X``'s dtype)."""
    return F.cross_entropy(X.double(), y, reduction="none").to(X.dtype)


SOFTMAX_SOLUTION = '''\
import torch


def stable_softmax(X):
    """Return the softmax of each row of X, computed without overflow."""
    Z = X - X.max(dim=1, keepdim=True).values  # each row's largest logit becomes 0
    Z_exp = torch.exp(Z)                        # so every exp is at most 1
    return Z_exp / Z_exp.sum(dim=1, keepdim=True)
'''

LOG_SOFTMAX_SOLUTION = '''\
import torch


def stable_log_softmax(X):
    """Return log(softmax(X)) of each row of X, computed without overflow and without log(0)."""
    Z = X - X.max(dim=1, keepdim=True).values
    return Z - torch.log(torch.exp(Z).sum(dim=1, keepdim=True))  # stay in the shifted frame
'''

CROSS_ENTROPY_SOLUTION = '''\
import torch


def stable_cross_entropy(X, y):
    """Return the cross-entropy loss of each example, computed from the logits X and the classes y."""
    Z = X - X.max(dim=1, keepdim=True).values
    log_probs = Z - torch.log(torch.exp(Z).sum(dim=1, keepdim=True))
    return -log_probs[range(len(y)), y]
'''

_KEEPDIM = ("must match the size of tensor",
            "X.sum(1) and X.max(1) return one number per row but drop the dimension, so a (n,) tensor meets an "
            "(n, k) one; keep it with keepdim=True, so that each row is combined with its own number.")

EXERCISES = (
    Exercise(
        id="stable_softmax", chapter="08",
        title="Return the softmax of each row of X, computed without overflow.",
        params=("X",),
        cases=_cases("softmax divides each row's exponentials by that row's sum: sum over dim=1 with keepdim=True, "
                     "so that the (n, 1) sums broadcast over the columns.",
                     "the answer is wrong on an ordinary batch: compare your function with torch.softmax(X, dim=1) "
                     "on it.", None, labels=False),
        reference=stable_softmax,
        hint_text=("Softmax does not change when the same number is subtracted from every logit of a row. Subtract "
                   "each row's largest logit, X.max(dim=1, keepdim=True).values: no exponent is then above 0, and "
                   "the largest term is exp(0) = 1, so the sum is at least 1."),
        solution_code=SOFTMAX_SOLUTION,
        scale_with_input=True,  # exp(X - logsumexp(X)) is right to eps * |X|
        error_meanings=(_KEEPDIM,),
    ),
    Exercise(
        id="stable_log_softmax", chapter="08",
        title="Return log(softmax(X)) of each row of X, computed without overflow and without log(0).",
        params=("X",),
        cases=_cases("the log-softmax of a row is (x - m) - log(sum(exp(x - m))) with m the row's maximum; reduce "
                     "over dim=1 with keepdim=True.",
                     "the answer is wrong on an ordinary batch: compare your function with "
                     "torch.log_softmax(X, dim=1) on it.",
                     "exp(-150) is below float32's smallest number, so softmax rounds that probability to 0 and "
                     "log(0) = -inf, although the right answer is -150. Never take the log of a probability you "
                     "computed first: (x - m) - log(sum(exp(x - m))) stays finite.", labels=False),
        reference=stable_log_softmax,
        hint_text=("log(softmax(x)) = (x - m) - log(sum(exp(x - m))) for m the row's maximum: every exp is then "
                   "at most 1 and the sum at least 1. Stay in that shifted frame; never compute the probabilities "
                   "and take their log."),
        solution_code=LOG_SOFTMAX_SOLUTION,
        scale_with_input=True,
        error_meanings=(_KEEPDIM,),
    ),
    Exercise(
        id="stable_cross_entropy", chapter="08",
        title="Return the cross-entropy loss of each example, computed from the logits X and the classes y.",
        params=("X", "y"),
        cases=_cases("the loss of example i is log(sum(exp(X[i]))) - X[i, y[i]]: one loss per example, a tensor "
                     "of shape (n,), neither summed nor averaged.",
                     "the answer is wrong on an ordinary batch: compare your function with "
                     "torch.nn.functional.cross_entropy(X, y, reduction='none') on it.",
                     "the true class's probability, exp(-150), rounds to 0 in float32 and -log(0) = inf, although "
                     "the right loss is 150. Never compute the probability: the loss is "
                     "log(sum(exp(x - m))) + m - x[y], finite at any logits.", labels=True),
        reference=stable_cross_entropy,
        hint_text=("The loss of example i is log(sum(exp(X[i]))) - X[i, y[i]]. Compute a stable log-softmax of each "
                   "row (subtract the row's maximum, stay in that frame), then pick the entry of the true class "
                   "with log_probs[range(len(y)), y] (or gather) and negate it."),
        solution_code=CROSS_ENTROPY_SOLUTION,
        scale_with_input=True,
        error_meanings=(_KEEPDIM,),
    ),
)
