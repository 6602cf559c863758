"""Tests for d2lnotes.exercises: every checker passes correct answers (the reference, its solution, and two or more
written differently), fails the typical wrong ones on the case that exposes them with a message that says so, and
never raises, whatever a learner passes."""

import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import d2lnotes
from d2lnotes import exercises
from d2lnotes.exercises.checking import is_stub

ROOT = Path(__file__).resolve().parents[1]


# --- correct answers written differently from the reference -------------------------------------------------------


def shares_memory_numpy(a, b):
    return np.shares_memory(a.numpy(), b.numpy())


def shares_memory_storage_start(a, b):
    return a.data_ptr() - a.storage_offset() * a.element_size() == b.data_ptr() - b.storage_offset() * b.element_size()


def gradient_of_autograd_grad(f, x):
    xr = x.detach().clone().requires_grad_()
    return torch.autograd.grad(f(xr).sum(), xr)[0]


def gradient_of_detached(f, x):
    xr = x.detach().requires_grad_()  # shares x's memory, but has a .grad of its own
    f(xr).sum().backward()
    return xr.grad


def minibatch_indices_python(num_examples, batch_size):
    order = list(range(num_examples))
    random.Random(num_examples).shuffle(order)  # a generator of its own: the test repeats
    return [order[i:i + batch_size] for i in range(0, num_examples, batch_size)]


def minibatch_indices_numpy(num_examples, batch_size):
    order = np.random.default_rng(num_examples).permutation(num_examples)
    for i in range(0, num_examples, batch_size):
        yield order[i:i + batch_size]


def absolute_loss_l1(y_hat, y):
    return F.l1_loss(y_hat, y.reshape(y_hat.shape), reduction="none")


def absolute_loss_view_as(y_hat, y):
    return torch.abs(y_hat - y.view_as(y_hat))


def sgd_sub_and_none(params, lr, n):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad / n)
            p.grad = None


def sgd_data(params, lr, n):
    for p in params:
        p.data -= lr * p.grad / n
        p.grad.zero_()


def sgd_optimizer(params, lr, n):
    optimizer = torch.optim.SGD(params, lr=lr / n)
    optimizer.step()
    optimizer.zero_grad()


def smooth_l1_torch(e, beta):
    return F.smooth_l1_loss(e, torch.zeros_like(e), reduction="none", beta=beta)


def smooth_l1_masks(e, beta):
    out = e.abs() - beta / 2
    inside = e.abs() < beta
    out[inside] = e[inside] ** 2 / (2 * beta)
    return out


def leaky_relu_maximum(x, alpha):
    return torch.maximum(x, alpha * x)


def leaky_relu_clamps(x, alpha):
    return x.clamp(min=0) + alpha * x.clamp(max=0)


def leaky_relu_grad_autograd(x, alpha):
    xr = x.detach().clone().requires_grad_()
    F.leaky_relu(xr, alpha).backward(torch.ones_like(xr))
    return xr.grad


def leaky_relu_grad_arithmetic(x, alpha):
    return (x > 0).to(x.dtype) * (1 - alpha) + alpha


def class_means_one_hot(X, y, num_classes):
    flat = X.float().reshape(len(X), -1)
    one_hot = F.one_hot(y, num_classes).float()
    return (one_hot.T @ flat / one_hot.sum(0)[:, None]).reshape(num_classes, *X.shape[1:])


def class_means_index_add(X, y, num_classes):
    sums = torch.zeros(num_classes, *X.shape[1:]).index_add_(0, y, X.float())
    counts = torch.bincount(y, minlength=num_classes).float()
    return sums / counts.reshape(-1, *[1] * (X.ndim - 1))


def num_batches_ceil(num_examples, batch_size):
    return math.ceil(num_examples / batch_size)


def num_batches_negative_floor(num_examples, batch_size):
    return -(-num_examples // batch_size)


def cross_entropy_indexing(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def cross_entropy_nll(y_hat, y):
    return F.nll_loss(torch.log(y_hat), y, reduction="none")


def per_class_accuracy_loop(y_hat, y, num_classes):
    pred = y_hat.argmax(1)
    return torch.stack([(pred[y == c] == c).float().mean() for c in range(num_classes)])


def per_class_accuracy_index_add(y_hat, y, num_classes):
    hit = (y_hat.argmax(1) == y).double()
    correct = torch.zeros(num_classes, dtype=torch.float64).index_add_(0, y, hit)
    total = torch.zeros(num_classes, dtype=torch.float64).index_add_(0, y, torch.ones_like(hit))
    return correct / total


def init_linear_type_and_no_grad(m):
    if type(m) == nn.Linear:  # noqa: E721 - the chapter's test
        with torch.no_grad():
            m.weight.normal_(0, 0.01)
            m.bias.zero_()


def init_linear_data(m):
    if isinstance(m, nn.Linear):
        m.weight.data = torch.randn_like(m.weight) * 0.01
        m.bias.data.zero_()


def softmax_via_logsumexp(X):
    return torch.exp(X - torch.logsumexp(X, dim=1, keepdim=True))


def log_softmax_via_logsumexp(X):
    return X - torch.logsumexp(X, dim=1, keepdim=True)


def cross_entropy_via_logsumexp(X, y):
    return torch.logsumexp(X, dim=1) - X[range(len(y)), y]


def cross_entropy_via_gather(X, y):
    return -F.log_softmax(X, dim=1).gather(1, y[:, None]).squeeze(1)


def mlp_forward_functional(X, params):
    W1, b1, W2, b2 = params
    return F.linear(F.relu(F.linear(X.flatten(1), W1.T, b1)), W2.T, b2)


def mlp_forward_maximum(X, params):
    W1, b1, W2, b2 = params
    H = X.reshape(len(X), -1) @ W1 + b1
    return torch.maximum(H, torch.zeros_like(H)) @ W2 + b2


def mlp_num_params_zip(sizes):
    return sum(n * m + m for n, m in zip(sizes, sizes[1:]))


def mlp_num_params_layers(sizes):
    return sum(p.numel() for n, m in zip(sizes, sizes[1:]) for p in nn.Linear(n, m).parameters())


def dead_unit_fraction_count(H):
    return (H == 0).all(dim=0).sum().item() / H.shape[1]


def dead_unit_fraction_amax(H):
    return (H.abs().amax(dim=0) == 0).float().mean()  # a one-element tensor is a number too


def clip_torch(params, max_norm):
    nn.utils.clip_grad_norm_(params, max_norm)


def clip_python_floats(params, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    norm = float(torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads])))
    for g in grads:
        g.mul_(min(1.0, max_norm / norm) if norm > 0 else 1.0)


CORRECT = {
    "shares_memory": [shares_memory_numpy, shares_memory_storage_start],
    "gradient_of": [gradient_of_autograd_grad, gradient_of_detached],
    "minibatch_indices": [minibatch_indices_python, minibatch_indices_numpy],
    "absolute_loss": [absolute_loss_l1, absolute_loss_view_as],
    "sgd_by_length": [sgd_sub_and_none, sgd_data, sgd_optimizer],
    "smooth_l1_loss": [smooth_l1_torch, smooth_l1_masks],
    "leaky_relu": [leaky_relu_maximum, leaky_relu_clamps, lambda x, alpha: F.leaky_relu(x, alpha)],
    "leaky_relu_grad": [leaky_relu_grad_autograd, leaky_relu_grad_arithmetic],
    "class_means": [class_means_one_hot, class_means_index_add],
    "num_batches": [num_batches_ceil, num_batches_negative_floor],
    "cross_entropy_gather": [cross_entropy_indexing, cross_entropy_nll],
    "per_class_accuracy": [per_class_accuracy_loop, per_class_accuracy_index_add],
    "init_linear": [init_linear_type_and_no_grad, init_linear_data],
    "stable_softmax": [lambda X: torch.softmax(X, dim=1), softmax_via_logsumexp],
    "stable_log_softmax": [lambda X: F.log_softmax(X, dim=1), log_softmax_via_logsumexp],
    "stable_cross_entropy": [lambda X, y: F.cross_entropy(X, y, reduction="none"), cross_entropy_via_logsumexp,
                             cross_entropy_via_gather],
    "mlp_forward": [mlp_forward_functional, mlp_forward_maximum],
    "mlp_num_params": [mlp_num_params_zip, mlp_num_params_layers],
    "dead_unit_fraction": [dead_unit_fraction_count, dead_unit_fraction_amax],
    "clip_gradients": [clip_torch, clip_python_floats],
}


def test_every_exercise_has_two_more_correct_answers_to_test():
    assert sorted(CORRECT) == sorted(exercises.available())
    assert all(len(answers) >= 2 for answers in CORRECT.values())


@pytest.mark.parametrize(("exercise_id", "answer"), [pytest.param(i, a, id=f"{i}-{k}") for i, answers in CORRECT.items()
                                                     for k, a in enumerate(answers)])
def test_a_correct_answer_written_differently_passes(exercise_id, answer):
    result = exercises.get(exercise_id).check(answer)
    assert result.passed, result.message
    assert result.message.startswith(f"✓ {exercise_id}(") and "cases pass" in result.message


@pytest.mark.parametrize("exercise_id", exercises.available())
def test_the_reference_and_the_executed_solution_pass(exercise_id):
    ex = exercises.get(exercise_id)
    assert ex.check(ex.reference).passed, ex.check(ex.reference).message
    namespace = {}
    exec(compile(ex.solution(), f"<solution of {exercise_id}>", "exec"), namespace)
    result = ex.check(namespace[exercise_id])
    assert result.passed, result.message


# --- typical wrong answers: (answer, the case that catches it, a phrase of what it usually means) -------------------


def softmax_naive(X):
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(1, keepdim=True)


def softmax_global_max(X):
    Z_exp = torch.exp(X - X.max())
    return Z_exp / Z_exp.sum(1, keepdim=True)


def softmax_no_keepdim(X):
    Z_exp = torch.exp(X - X.max(1, keepdim=True).values)
    return Z_exp / Z_exp.sum(1)


def softmax_in_place(X):
    X -= X.max(1, keepdim=True).values
    X.exp_()
    return X / X.sum(1, keepdim=True)


def softmax_in_float32(X):
    Z_exp = torch.exp(X.float() - X.float().max(1, keepdim=True).values)
    return Z_exp / Z_exp.sum(1, keepdim=True)


def log_of_stable_softmax(X):
    Z_exp = torch.exp(X - X.max(1, keepdim=True).values)
    return torch.log(Z_exp / Z_exp.sum(1, keepdim=True))


def log_softmax_global_max(X):
    Z = X - X.max()
    return Z - torch.log(torch.exp(Z).sum(1, keepdim=True))


def cross_entropy_from_probabilities(X, y):
    return -torch.log(torch.softmax(X, dim=1)[range(len(y)), y])


def cross_entropy_naive_logsumexp(X, y):
    return torch.log(torch.exp(X).sum(1)) - X[range(len(y)), y]


def gradient_of_on_callers_x(f, x):
    x.requires_grad_()
    f(x).sum().backward()
    return x.grad


def gradient_of_without_sum(f, x):
    xr = x.detach().clone().requires_grad_()
    f(xr).backward()
    return xr.grad


def gradient_of_without_requires_grad(f, x):
    f(x).sum().backward()
    return x.grad


def indices_in_order(num_examples, batch_size):
    return [torch.arange(i, min(i + batch_size, num_examples)) for i in range(0, num_examples, batch_size)]


def indices_drop_last(num_examples, batch_size):
    order = torch.randperm(num_examples)
    return [order[i:i + batch_size] for i in range(0, num_examples - batch_size + 1, batch_size)]


def indices_randint(num_examples, batch_size):
    return [torch.randint(0, num_examples, (min(batch_size, num_examples - i),))
            for i in range(0, num_examples, batch_size)]


def indices_one_batch_too_many(num_examples, batch_size):
    order = torch.randperm(num_examples)
    for i in range(num_examples // batch_size + 1):
        yield order[i * batch_size:(i + 1) * batch_size]


def sgd_rebinding(params, lr, n):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad / n  # the mistake under test


def sgd_rebinding_then_zeroing(params, lr, n):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad / n
            param.grad.zero_()


def sgd_without_no_grad(params, lr, n):
    for param in params:
        param -= lr * param.grad / n
        param.grad.zero_()


def sgd_keeps_gradients(params, lr, n):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / n


def sgd_by_batch_size(params, lr, n):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / 64
            param.grad.zero_()


def huber_not_divided(e, beta):
    return torch.where(e.abs() <= beta, e**2 / 2, beta * (e.abs() - beta / 2))


def huber_divided_by_beta(e, beta):
    return torch.where(e.abs() <= beta, e**2 / 2, beta * (e.abs() - beta / 2)) / beta


def smooth_l1_without_abs(e, beta):
    return torch.where(e.abs() < beta, e**2 / (2 * beta), e - beta / 2)


def smooth_l1_with_if(e, beta):
    if e.abs() < beta:
        return e**2 / (2 * beta)
    return e.abs() - beta / 2


def leaky_relu_in_place(x, alpha):
    x[x < 0] *= alpha
    return x


def cross_entropy_without_flatten(y_hat, y):
    return -torch.log(torch.gather(y_hat, 1, y.unsqueeze(1)))


def cross_entropy_squeeze(y_hat, y):
    return -torch.log(torch.gather(y_hat, 1, y.unsqueeze(1))).squeeze()


def per_class_accuracy_over_batch(y_hat, y, num_classes):
    hit = y_hat.argmax(1) == y
    return torch.bincount(y[hit], minlength=num_classes).float() / len(y)


def per_class_accuracy_no_minlength(y_hat, y, num_classes):
    hit = y_hat.argmax(1) == y
    return torch.bincount(y[hit]).float() / torch.bincount(y).float()


def per_class_accuracy_integers(y_hat, y, num_classes):
    hit = y_hat.argmax(1) == y
    return torch.bincount(y[hit], minlength=num_classes) // torch.bincount(y, minlength=num_classes)


def init_mean_not_std(m):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0.01)
        nn.init.zeros_(m.bias)


def init_every_module(m):
    nn.init.normal_(m.weight, std=0.01)
    nn.init.zeros_(m.bias)


def init_weights_only(m):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01)


def init_variance_as_std(m):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01**2)
        nn.init.zeros_(m.bias)


def class_means_all_pixels(X, y, num_classes):
    return torch.stack([X[y == c].float().mean() for c in range(num_classes)])


def class_means_blocks(X, y, num_classes):
    return X.float().reshape(num_classes, -1, *X.shape[1:]).mean(1)


def class_means_uint8(X, y, num_classes):
    return torch.stack([X[y == c].mean(dim=0) for c in range(num_classes)])


def mlp_without_relu(X, params):
    W1, b1, W2, b2 = params
    return (X.reshape(-1, W1.shape[0]) @ W1 + b1) @ W2 + b2


def mlp_relu_on_output(X, params):
    W1, b1, W2, b2 = params
    return torch.relu(torch.relu(X.reshape(-1, W1.shape[0]) @ W1 + b1) @ W2 + b2)


def mlp_view(X, params):
    W1, b1, W2, b2 = params
    return torch.relu(X.view(-1, W1.shape[0]) @ W1 + b1) @ W2 + b2


def mlp_784(X, params):
    W1, b1, W2, b2 = params
    return torch.relu(X.reshape(-1, 784) @ W1 + b1) @ W2 + b2


def clip_each_parameter(params, max_norm):
    for p in params:
        norm = p.grad.norm()
        if norm > max_norm:
            p.grad *= max_norm / norm


def clip_entries(params, max_norm):
    for p in params:
        p.grad.clamp_(-max_norm, max_norm)


def clip_always(params, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    for g in grads:
        g *= max_norm / norm


def clip_without_none_check(params, max_norm):
    norm = torch.sqrt(sum((p.grad**2).sum() for p in params))
    if norm > max_norm:
        for p in params:
            p.grad *= max_norm / norm


WRONG = {
    "shares_memory": [
        (lambda a, b: a.data_ptr() == b.data_ptr(), "x[1:]", "data_ptr() differs"),
        (lambda a, b: torch.equal(a, b), "x.view(2, 3)", "not their values"),
        (lambda a, b: a is b, "x.view(2, 3)", "identity"),
        (lambda a, b: a._base is b or b._base is a, "m and m.T", "the same memory"),
    ],
    "gradient_of": [
        (gradient_of_on_callers_x, "f = sum_of_squares", "changed x.requires_grad"),
        (gradient_of_without_sum, "sine", "needs a scalar"),
        (gradient_of_without_requires_grad, "f = sum_of_squares", "requires grad"),
        (lambda f, x: 2 * x, "sine", "cos(x)"),
    ],
    "minibatch_indices": [
        (indices_in_order, "10 examples in batches of 4", "randperm"),
        (indices_drop_last, "10 examples in batches of 4", "the last 2 examples never came"),
        (indices_randint, "10 examples in batches of 4", "repeat some examples"),
        (indices_one_batch_too_many, "9 examples in batches of 3", "the last batch is empty"),
    ],
    "absolute_loss": [
        (lambda y_hat, y: (y_hat - y).abs(), "y of shape (3,)", "broadcasts"),
        (lambda y_hat, y: (y_hat - y.reshape(y_hat.shape)).abs().mean(), "y_hat and y of shape (3, 1)", "summed"),
        (lambda y_hat, y: (y_hat - y.reshape(y_hat.shape)) ** 2, "y_hat and y of shape (3, 1)", "squared"),
        (lambda y_hat, y: (y_hat.reshape(y.shape) - y).abs(), "y of shape (3,)", "reshape"),
    ],
    "sgd_by_length": [
        (sgd_rebinding, "lr 0.1, n = 40", "binds the loop's name"),
        (sgd_rebinding_then_zeroing, "lr 0.1, n = 40", "holds a new tensor"),
        (sgd_without_no_grad, "lr 0.1, n = 40", "torch.no_grad()"),
        (sgd_keeps_gradients, "lr 0.1, n = 40", "zero each gradient"),
        (sgd_by_batch_size, "lr 0.1, n = 40", "-lr * grad / n"),
    ],
    "smooth_l1_loss": [
        (huber_not_divided, "beta = 2", "divided by delta"),
        (huber_divided_by_beta, "beta = 0", "nan (0 / 0)"),
        (smooth_l1_without_abs, "beta = 1", "negative errors"),
        (smooth_l1_with_if, "beta = 1", "torch.where"),
    ],
    "leaky_relu": [
        (lambda x, alpha: torch.where(x > 0, x, alpha), "alpha = 0.1", "not replaced"),
        (lambda x, alpha: torch.relu(x) + alpha * x, "alpha = 0.1", "positive ones pass unchanged"),
        (leaky_relu_in_place, "alpha = 0.1", "changed the entries of x"),
        (lambda x, alpha: torch.where(x > 0, x, 0.1 * x), "alpha = 0.2", "the one passed in"),
    ],
    "leaky_relu_grad": [
        (lambda x, alpha: torch.where(x >= 0, 1.0, alpha), "x = 0 exactly", "not x >= 0"),
        (lambda x, alpha: x > 0, "x away from 0", "booleans"),
        (lambda x, alpha: (x > 0).float(), "x away from 0", "alpha where x < 0"),
    ],
    "class_means": [
        (class_means_all_pixels, "labels [0, 0, 1, 1, 2, 2]", "pixel by pixel"),
        (class_means_blocks, "shuffled labels", "blocks of equal size"),
        (class_means_uint8, "uint8 pixels", "X.float()"),
        (lambda X, y, k: X.float().mean(0).expand(k, *X.shape[1:]), "labels [0, 0, 1, 1, 2, 2]", "label is c"),
    ],
    "num_batches": [
        (lambda n, b: n // b, "1000 examples in batches of 64", "rounded up"),
        (lambda n, b: n // b + 1, "60,000 examples in batches of 250", "one batch too many"),
        (lambda n, b: n / b, "1000 examples in batches of 64", "not an int"),
        (lambda n, b: round(n / b), "60,000 examples in batches of 256", "234 full batches"),
    ],
    "cross_entropy_gather": [
        (lambda y_hat, y: -torch.log(y_hat[:, y]), "the chapter's toy", "flatten it"),
        (cross_entropy_without_flatten, "the chapter's toy", "shape (n, 1)"),
        (cross_entropy_squeeze, "a one-row batch", "not squeeze()"),
        (lambda y_hat, y: -torch.log(y_hat.gather(1, y[:, None]).flatten() + 1e-9), "probability exactly 0",
         "don't clamp"),
    ],
    "per_class_accuracy": [
        (per_class_accuracy_over_batch, "2 examples each", "not over the whole batch"),
        (per_class_accuracy_no_minlength, "the last class never predicted right", "minlength=num_classes"),
        (per_class_accuracy_integers, "2 examples each", "integer arithmetic"),
    ],
    "init_linear": [
        (init_mean_not_std, "nn.Linear(784, 10)", "sets the mean"),
        (init_every_module, "nn.Flatten()", "isinstance(m, nn.Linear)"),
        (init_weights_only, "nn.Linear(784, 10)", "nn.init.zeros_(m.bias)"),
        (init_variance_as_std, "nn.Linear(784, 10)", "not 0.01 ** 2"),
    ],
    "stable_softmax": [
        (softmax_naive, "large logits", "Subtract each row's maximum first"),
        (softmax_global_max, "rows far apart", "each row needs its own maximum"),
        (softmax_no_keepdim, "small logits", "keepdim=True"),
        (softmax_in_place, "small logits", "changed the entries of X"),
        (softmax_in_float32, "float16", "keep the input's dtype"),
    ],
    "stable_log_softmax": [
        (log_of_stable_softmax, "a class 150 below the best", "log(0) = -inf"),
        (lambda X: torch.log(softmax_naive(X)), "a class 150 below the best", "log(0) = -inf"),
        (log_softmax_global_max, "rows far apart", "each row needs its own maximum"),
        (lambda X: X - torch.logsumexp(X, dim=0, keepdim=True), "small logits", "dim=1"),
    ],
    "stable_cross_entropy": [
        (cross_entropy_from_probabilities, "a true class 150 below the best", "-log(0) = inf"),
        (lambda X, y: F.cross_entropy(X, y), "small logits", "neither summed nor averaged"),
        (cross_entropy_naive_logsumexp, "large logits", "overflows float32"),
        (lambda X, y: -F.log_softmax(X, 1)[:, y], "small logits", "shape (n,)"),
    ],
    "mlp_forward": [
        (mlp_without_relu, "5 images", "relu(X @ W1 + b1)"),
        (mlp_relu_on_output, "5 images", "no ReLU after the output layer"),
        (mlp_view, "transposed images", "use .reshape()"),
        (mlp_784, "5 images", "instead of typing them"),
    ],
    "mlp_num_params": [
        (lambda sizes: sum(n * m for n, m in zip(sizes, sizes[1:])), "(784, 256, 10)", "m biases"),
        (lambda sizes: sum(n * m + n for n, m in zip(sizes, sizes[1:])), "(784, 256, 10)", "m biases"),
        (lambda sizes: sizes[0] * sizes[1] + sizes[1] + sizes[1] * sizes[-1] + sizes[-1], "softmax regression",
         "one layer"),
    ],
    "dead_unit_fraction": [
        (lambda H: (H == 0).float().mean().item(), "units 1 and 3 dead", "(H == 0).all(dim=0)"),
        (lambda H: (H == 0).all(dim=1).float().mean().item(), "units 1 and 3 dead", "(H == 0).all(dim=0)"),
        (lambda H: (H == 0).all(dim=0).sum().item(), "units 1 and 3 dead", "fraction"),
    ],
    "clip_gradients": [
        (clip_each_parameter, "together 5", "not one norm per parameter"),
        (clip_entries, "[3, 4]", "Clamping each entry"),
        (clip_always, "already short enough", "min(1, max_norm / norm)"),
        (clip_without_none_check, "without a gradient", "p.grad is None"),
    ],
}


def test_every_exercise_has_at_least_three_wrong_answers_to_test():
    assert sorted(WRONG) == sorted(exercises.available())
    assert all(len(answers) >= 3 for answers in WRONG.values())


@pytest.mark.parametrize(("exercise_id", "answer", "case", "meaning"),
                         [pytest.param(i, *w, id=f"{i}-{k}") for i, wrongs in WRONG.items()
                          for k, w in enumerate(wrongs)])
def test_a_typical_mistake_fails_on_the_case_that_exposes_it_and_says_what_it_means(exercise_id, answer, case,
                                                                                   meaning):
    result = exercises.get(exercise_id).check(answer)
    assert not result.passed and result.answered
    headline = result.message.splitlines()[0]
    assert headline.startswith(f"✗ {exercise_id}(") and " Case " in headline, result.message
    assert case in headline, result.message  # the failing case is named ...
    assert meaning in result.message, result.message  # ... and what the mistake usually means
    assert "checker itself failed" not in result.message
    assert "Traceback" not in result.message


# --- what a learner sees ------------------------------------------------------------------------------------------


def test_the_message_shows_the_input_expected_and_got_of_the_failing_case():
    message = exercises.get("stable_softmax").check(softmax_naive).message
    assert "X = tensor([[1000., 990.], [0., 1000.]])" in message
    assert "expected: tensor([[1., 4.54e-05], [0., 1.]])" in message
    assert "got:      tensor([[nan, nan], [0., nan]])" in message
    assert "first difference at [0, 0]: expected 0.9999546, got nan (3 of 4 entries differ)" in message


def test_an_exception_shows_its_type_text_and_the_learners_own_line():
    message = exercises.get("stable_softmax").check(softmax_no_keepdim).message
    assert "raised an exception. Case 1 of 10" in message
    assert "RuntimeError: The size of tensor a (3) must match the size of tensor b (2)" in message
    line = next(i for i, text in enumerate(Path(__file__).read_text().splitlines(), 1)
                if "return Z_exp / Z_exp.sum(1)" in text)
    assert f'File "{__file__}", line {line}, in softmax_no_keepdim' in message
    assert "return Z_exp / Z_exp.sum(1)\n" in message
    assert "d2lnotes/exercises" not in message and "torch/" not in message  # no frames of ours or torch's


def test_an_in_place_change_is_reported_even_when_the_result_is_right():
    def softmax_right_but_in_place(X):
        out = torch.softmax(X, dim=1)
        X.zero_()
        return out

    message = exercises.get("stable_softmax").check(softmax_right_but_in_place).message
    assert "changed its input. Case 1 of 10" in message
    assert "before the call: X = tensor([[1., 2., 3.], [0., 0., 0.]])" in message
    assert "after the call:  X = tensor([[0., 0., 0.], [0., 0., 0.]])" in message


def test_a_gradient_added_to_the_callers_x_grad_is_reported():
    def accumulates(f, x):
        x = x if x.requires_grad else x.detach().clone().requires_grad_()
        f(x).sum().backward()
        return x.grad

    message = exercises.get("gradient_of").check(accumulates).message
    assert "x that already requires grad" in message.splitlines()[0] and "it changed x.grad in place" in message


def test_a_stub_is_not_answered_yet_without_a_traceback():
    def stable_softmax(X):
        """Return the softmax of each row of X, computed without overflow."""
        ...

    def raises(X):
        raise NotImplementedError("fill me in")

    ex = exercises.get("stable_softmax")
    for stub in (stable_softmax, raises):
        result = ex.check(stub)
        assert not result.passed and not result.answered
        assert result.message == (f"○ stable_softmax(X): not answered yet. Fill in the body of {stub.__name__}, "
                                  "then run this cell again.")


@pytest.mark.parametrize("exercise_id", exercises.available())
def test_the_starter_is_a_stub_that_is_not_answered_yet(exercise_id):
    ex = exercises.get(exercise_id)
    namespace = {}
    exec(ex.starter(), namespace)
    assert is_stub(namespace[exercise_id])
    result = ex.check(namespace[exercise_id])
    assert not result.passed and not result.answered and "not answered yet" in result.message


def test_not_implemented_for_one_case_only_is_reported_as_an_error_of_that_case():
    def softmax_without_float16(X):
        if X.dtype == torch.float16:
            raise NotImplementedError("float16 is not supported")
        return torch.softmax(X, dim=1)

    result = exercises.get("stable_softmax").check(softmax_without_float16)
    assert result.answered and "raised an exception. Case 7 of 10, float16" in result.message
    assert "NotImplementedError: float16 is not supported" in result.message


def test_a_function_that_only_forgot_return_is_told_so_not_called_a_stub():
    def forgot_return(X):
        torch.softmax(X, dim=1)

    assert not is_stub(forgot_return)
    result = exercises.get("stable_softmax").check(forgot_return)
    assert result.answered and "returned None" in result.message and "`return`" in result.message


def test_not_implemented_raised_inside_a_library_call_is_an_ordinary_error():
    def uses_a_missing_feature(X):
        return nn.Module()(X)  # a module without forward: torch raises NotImplementedError in its own code

    result = exercises.get("stable_softmax").check(uses_a_missing_feature)
    assert result.answered and "raised an exception" in result.message and "NotImplementedError" in result.message


def _tensor_args(ex):
    """Return the names of the first case's tensor arguments the function must not change."""
    args = ex.cases[0].make()
    return [n for n, a in zip(ex.params, args) if isinstance(a, torch.Tensor) and n not in ex.may_change]


def _hostile_answers(ex):
    """Return answers that are wrong in every way but the exercise's own: each must give a failed result."""
    n = len(ex.params)

    def mutates(*args):
        result = ex.reference(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])
        next(a for name, a in zip(ex.params, args) if name in _tensor_args(ex)).add_(1)
        return result

    def too_many(a, b, c, d, e, f):
        return None

    answers = {
        "not callable: 42": 42,
        "not callable: None": None,
        "not callable: a tensor": torch.ones(3),
        "too many parameters": too_many,
        "too few parameters": (lambda: None),
        "returns a string": lambda *args: "hello",
        "returns a wrongly shaped tensor": lambda *args: torch.zeros(7, 7),
        "returns a list": lambda *args: [1, 2],
        "raises ValueError": lambda *args: int("not a number"),
        "raises SystemExit": lambda *args: sys.exit(3),
        "recurses forever": (lambda *args: answers["recurses forever"](*args)),
    }
    if _tensor_args(ex):
        answers["mutates its input"] = mutates
    return answers if n else {}


@pytest.mark.parametrize("exercise_id", exercises.available())
def test_check_never_raises_and_never_passes_a_hostile_answer(exercise_id):
    ex = exercises.get(exercise_id)
    for name, answer in _hostile_answers(ex).items():
        result = ex.check(answer)
        assert isinstance(result.message, str) and result.message, name
        assert not result.passed, (name, result.message)
        assert "checker itself failed" not in result.message, (name, result.message)
        assert "Traceback" not in result.message, (name, result.message)
        if name.startswith("not callable"):
            assert "check() needs your function itself" in result.message
        if name.startswith("too "):
            assert f"cannot be called as {ex.call}" in result.message and f"def {ex.call}:" in result.message
        if name == "raises ValueError":
            assert "ValueError: invalid literal for int()" in result.message and 'int("not a number")' in result.message
        if name == "mutates its input":
            assert "changed its input" in result.message and "in place" in result.message, result.message


def test_check_leaves_the_learners_random_numbers_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    exercises.get("minibatch_indices").check(exercises.get("minibatch_indices").reference)  # torch.randperm
    exercises.get("init_linear").check(init_linear_data)  # torch.randn_like
    assert torch.equal(torch.rand(3), expected)


def test_a_result_reads_as_plain_text_in_a_script_and_as_a_coloured_box_in_a_notebook():
    passed = exercises.get("num_batches").check(num_batches_ceil)
    failed = exercises.get("num_batches").check(lambda n, b: n // b)
    stub = exercises.get("num_batches").check(lambda n, b: None)
    assert bool(passed) and not bool(failed)
    assert str(failed) == repr(failed) == failed.message and "\n" in failed.message
    assert "<pre" in failed._repr_html_() and "rgb(179, 38, 30)" in failed._repr_html_()
    assert "rgb(26, 127, 55)" in passed._repr_html_() and "rgb(110, 110, 110)" in stub._repr_html_()
    lt = exercises.get("stable_cross_entropy").check(lambda X, y: "<b>")
    assert "&lt;b&gt;" in lt._repr_html_() and "<b>" not in lt._repr_html_()  # the learner's text is escaped


# --- the catalogue ------------------------------------------------------------------------------------------------


def test_available_lists_at_least_15_exercises_covering_chapters_01_to_10():
    ids = exercises.available()
    assert len(ids) >= 15 and len(set(ids)) == len(ids)
    assert {"stable_softmax", "stable_log_softmax", "stable_cross_entropy"} <= set(ids)
    chapters = [exercises.get(i).chapter for i in ids]
    assert set(chapters) == {f"{n:02d}" for n in range(1, 11)}
    assert chapters == sorted(chapters)  # course order
    assert exercises.available("08") == ["stable_softmax", "stable_log_softmax", "stable_cross_entropy"]
    assert exercises.available(8) == exercises.available("08-numerical-stability") == exercises.available("08")


@pytest.mark.parametrize("exercise_id", exercises.available())
def test_every_exercise_has_a_hint_a_title_and_a_readable_solution(exercise_id):
    ex = exercises.get(exercise_id)
    assert isinstance(ex.hint(), str) and len(ex.hint()) > 40
    assert ex.title.endswith(".") and ex.call.startswith(f"{exercise_id}(")
    assert f"def {ex.call}:" in ex.solution() and ex.title in ex.solution()  # the starter's docstring, kept
    assert repr(ex) == f"<exercise {ex.call}, chapter {ex.chapter}: {ex.title}>"


def test_an_unknown_id_suggests_the_closest_one():
    with pytest.raises(LookupError, match=r"no exercise 'stable_sofmax'\. Did you mean 'stable_softmax'\?"):
        exercises.get("stable_sofmax")


def test_the_exercises_are_a_submodule_of_the_d2l_namespace():
    assert d2lnotes.exercises is exercises


@pytest.mark.slow  # starts a Python process
def test_import_d2lnotes_does_not_import_the_exercises():
    proc = subprocess.run([sys.executable, "-c", "import sys, d2lnotes; print('d2lnotes.exercises' in sys.modules, "
                                                 "'torch' in sys.modules)"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]
