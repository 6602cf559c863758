"""Tests for d2lnotes.numerics: the naive formulas break at extreme logits, the stable ones do not."""

import math

import pytest
import torch
import torch.nn.functional as F

from d2lnotes import numerics as nx

# One row per regime: ordinary, all huge, all tiny, mixed huge and tiny, one dominant.
EXTREME = torch.tensor(
    [
        [1.0, 2.0, 3.0],
        [1000.0, 1000.0, 999.0],
        [-1000.0, -1000.0, -1001.0],
        [1000.0, -1000.0, 0.0],
        [0.0, 1000.0, -5.0],
    ],
    dtype=torch.float64,
)
LABELS = torch.tensor([2, 0, 1, 1, 2])


def test_naive_softmax_overflows_to_nan_at_large_logits():
    p = nx.softmax_naive(EXTREME.float())
    assert torch.isfinite(p[0]).all()
    assert torch.isnan(p[1]).all()  # exp(1000) = inf, inf / inf = nan
    assert torch.isnan(p[2]).all()  # exp(-1000) = 0, 0 / 0 = nan
    assert torch.isnan(p[3]).any()


def test_naive_softmax_matches_torch_at_moderate_logits():
    X = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(nx.softmax_naive(X), F.softmax(X, dim=-1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stable_softmax_is_finite_and_equals_torch(dtype):
    X = EXTREME.to(dtype)
    p = nx.softmax_stable(X)
    assert torch.isfinite(p).all()
    torch.testing.assert_close(p, F.softmax(X, dim=-1))
    torch.testing.assert_close(p.sum(dim=-1), torch.ones(5, dtype=dtype))
    assert p[3].tolist() == [1.0, 0.0, 0.0]


def test_stable_softmax_along_dim_0():
    X = EXTREME.T.contiguous()
    torch.testing.assert_close(nx.softmax_stable(X, dim=0), F.softmax(X, dim=0))


def test_logsumexp_is_finite_and_equals_torch():
    lse = nx.logsumexp(EXTREME)
    assert torch.isfinite(lse).all()
    torch.testing.assert_close(lse, torch.logsumexp(EXTREME, dim=-1))
    assert lse[3].item() == pytest.approx(1000.0)
    assert nx.logsumexp(EXTREME, keepdim=True).shape == (5, 1)
    # The naive formula overflows on the same rows.
    assert torch.isinf(torch.log(torch.exp(EXTREME).sum(dim=-1))[1])


def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    X = torch.full((1, 3), float("-inf"))
    assert nx.logsumexp(X).item() == float("-inf")
    assert torch.logsumexp(X, dim=-1).item() == float("-inf")


def test_log_softmax_is_finite_and_equals_torch():
    ls = nx.log_softmax(EXTREME)
    assert torch.isfinite(ls).all()
    torch.testing.assert_close(ls, F.log_softmax(EXTREME, dim=-1))
    assert ls[3, 1].item() == pytest.approx(-2000.0)
    # log of the (stable) softmax loses it: log(0) = -inf
    assert torch.isinf(torch.log(nx.softmax_stable(EXTREME))[3, 1])


def test_cross_entropy_from_probs_is_inf_where_the_probability_underflows():
    probs = nx.softmax_stable(EXTREME)
    ce = nx.cross_entropy_from_probs(probs, LABELS)
    assert torch.isinf(ce[3])  # p[3, 1] = exp(-2000) underflows to 0
    expected = F.cross_entropy(EXTREME, LABELS, reduction="none")
    torch.testing.assert_close(ce[:3], expected[:3])


def test_cross_entropy_from_probs_matches_d2l_formula():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    ce = nx.cross_entropy_from_probs(y_hat, y)
    torch.testing.assert_close(ce, -torch.log(y_hat[range(len(y_hat)), y]))
    assert ce.tolist() == pytest.approx([2.302585, 0.693147], abs=1e-5)


def test_naive_cross_entropy_gives_nan_or_inf_from_naive_softmax():
    ce = nx.cross_entropy_from_probs(nx.softmax_naive(EXTREME.float()), LABELS)
    assert torch.isnan(ce[1]).item() and torch.isnan(ce[2]).item()
    assert ce[3].item() == float("inf")  # p[3] = [nan, 0, 0]: the label's probability is 0
    assert torch.isfinite(ce[0]).item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_from_logits_is_finite_and_equals_torch(dtype):
    X = EXTREME.to(dtype)
    ce = nx.cross_entropy_from_logits(X, LABELS)
    assert torch.isfinite(ce).all()
    torch.testing.assert_close(ce, F.cross_entropy(X, LABELS, reduction="none"))
    assert ce[3].item() == pytest.approx(2000.0)


def test_cross_entropy_rejects_mismatched_shapes_with_a_hint():
    with pytest.raises(ValueError, match="reshape"):
        nx.cross_entropy_from_logits(EXTREME, LABELS.reshape(-1, 1))


@pytest.mark.parametrize(
    "fn",
    [
        nx.softmax_stable,
        nx.logsumexp,
        nx.log_softmax,
        lambda X: nx.cross_entropy_from_logits(X, LABELS),
    ],
    ids=["softmax_stable", "logsumexp", "log_softmax", "cross_entropy_from_logits"],
)
def test_gradcheck_passes_on_stable_functions(fn):
    X = EXTREME.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(fn, (X,), eps=1e-6, atol=1e-5)
    Z = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 10
    assert torch.autograd.gradcheck(fn, (Z.requires_grad_(True),))


def test_gradient_of_fused_cross_entropy_is_softmax_minus_one_hot():
    X = EXTREME.clone().requires_grad_(True)
    nx.cross_entropy_from_logits(X, LABELS).sum().backward()
    expected = F.softmax(EXTREME, dim=-1) - F.one_hot(LABELS, 3).double()
    torch.testing.assert_close(X.grad, expected)
    assert torch.isfinite(X.grad).all()


# --- the edges the stability chapter is about: low precision, large offsets, infinities, empty rows ------------

@pytest.mark.parametrize("dtype, offset, tol", [(torch.float32, 1e4, 1e-5), (torch.float32, 1e5, 1e-5),
                                                (torch.float16, 1e4, 2e-3), (torch.float16, 6e4, 2e-3),
                                                (torch.bfloat16, 1e4, 2e-2)])
def test_log_softmax_and_cross_entropy_equal_torch_at_large_offsets_in_low_precision(dtype, offset, tol):
    torch.manual_seed(0)
    X = (torch.randn(8, 5) + offset).to(dtype)
    y = torch.arange(8) % 5
    torch.testing.assert_close(nx.log_softmax(X, dim=1).float(), F.log_softmax(X.float(), dim=1), atol=tol, rtol=0)
    torch.testing.assert_close(nx.cross_entropy_from_logits(X, y).float(),
                               F.cross_entropy(X.float(), y, reduction="none"), atol=tol, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_cross_entropy_of_equal_huge_logits_is_log_of_the_class_count(dtype):
    X = torch.tensor([[1e4, 1e4, 1e4]], dtype=dtype)
    assert float(nx.cross_entropy_from_logits(X, torch.tensor([0]))) == pytest.approx(math.log(3), abs=1e-2)
    two = torch.tensor([[6e4, 6e4, 0.0]], dtype=torch.float16)
    assert float(nx.cross_entropy_from_logits(two, torch.tensor([0]))) == pytest.approx(math.log(2), abs=1e-2)


def test_infinite_logits_give_torchs_nan_and_inf_pattern():
    inf = float("inf")
    X = torch.tensor([[inf, 0.0, 0.0], [-inf, 0.0, 0.0], [-inf, -inf, -inf], [inf, -inf, 0.0]])
    for ours, theirs in [(nx.log_softmax(X, dim=1), F.log_softmax(X, dim=1)),
                         (nx.softmax_stable(X, dim=1), F.softmax(X, dim=1)),
                         (nx.logsumexp(X, dim=1), torch.logsumexp(X, dim=1))]:
        torch.testing.assert_close(ours, theirs, equal_nan=True)


def test_empty_class_dimension_is_handled_like_torch():
    X = torch.empty(3, 0)
    assert nx.log_softmax(X, dim=1).shape == (3, 0) and nx.softmax_stable(X, dim=1).shape == (3, 0)
    torch.testing.assert_close(nx.logsumexp(X, dim=1), torch.logsumexp(X, dim=1))


def test_gradcheck_in_float64_at_a_large_offset():
    X = (torch.randn(4, 6, dtype=torch.float64) * 3 + 1e4).requires_grad_()
    y = torch.tensor([0, 5, 2, 3])
    assert torch.autograd.gradcheck(lambda t: nx.cross_entropy_from_logits(t, y), (X,))
    assert torch.autograd.gradcheck(lambda t: nx.log_softmax(t, dim=1), (X,))
