"""The self-checks must pass right answers and name the specific mistake in wrong ones."""

import pytest
import torch

from mmkit import exercises, scratch


def _not_done(*args, **kwargs):
    raise NotImplementedError


SOFTMAX_CASES = [
    (scratch.softmax, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda x, dim=-1: None, False, "returned nothing"),
    (lambda x, dim=-1: x.tolist(), False, "must return a torch.Tensor, got list"),
    (lambda x, dim=-1: torch.exp(x) / torch.exp(x).sum(), False, "does not sum to 1 along dim=0"),
    (lambda x, dim=-1: torch.exp(x) / torch.exp(x).sum(dim, keepdim=True), False, "overflows for large logits"),
    (lambda x, dim=-1: x - x, False, "does not sum to 1"),
    (lambda x, dim=-1: torch.softmax(x * 2, dim), False, "values differ from torch.softmax"),
]


@pytest.mark.parametrize(("fn", "passed", "words"), SOFTMAX_CASES)
def test_check_softmax(fn, passed, words):
    feedback = exercises.check_softmax(fn)
    assert feedback.passed is passed
    assert words in feedback.message
    assert str(feedback).startswith("✅" if passed else "❌")


CROSS_ENTROPY_CASES = [
    (scratch.cross_entropy, True, "correct"),
    (lambda z, t: -scratch.cross_entropy(z, t), False, "wrong sign"),
    (lambda z, t: scratch.cross_entropy(z, t, reduction="sum"), False, "returns the sum"),
    (lambda z, t: scratch.cross_entropy(z, t, reduction="none"), False, "one number"),
    (lambda z, t: -torch.log(torch.softmax(z, 1)).gather(1, t[:, None]).mean(), False, "log-sum-exp"),
    (lambda z, t: -torch.log_softmax(z, 0).gather(1, t[:, None]).mean(), False, "expected"),
]


@pytest.mark.parametrize(("fn", "passed", "words"), CROSS_ENTROPY_CASES)
def test_check_cross_entropy(fn, passed, words):
    feedback = exercises.check_cross_entropy(fn)
    assert feedback.passed is passed
    assert words in feedback.message


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda theta, grad, lr: theta - lr * grad, True, "correct"),
    (lambda theta, grad, lr: theta + lr * grad, False, "moves uphill"),
    (lambda theta, grad, lr: theta - grad, False, "ignores the learning rate"),
    (lambda theta, grad, lr: theta - lr * grad * 2, False, "expected"),
])
def test_check_gradient_step(fn, passed, words):
    feedback = exercises.check_gradient_step(fn)
    assert feedback.passed is passed
    assert words in feedback.message


@pytest.mark.parametrize(("lr", "passed", "words"), [
    (0.4, True, "reaches the minimum"),
    (0.01, False, "too small"),
    (0.47, False, "close to the limit"),
    (0.6, False, "too large"),
    (-1, False, "must be a number > 0"),
])
def test_check_learning_rate(lr, passed, words):
    feedback = exercises.check_learning_rate(lr)
    assert bool(feedback) is passed
    assert words in feedback.message


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda x, m, s: (x - m.view(1, -1, 1, 1)) / s.view(1, -1, 1, 1), True, "correct"),
    (lambda x, m, s: x * s.view(1, -1, 1, 1) + m.view(1, -1, 1, 1), False, "undoes"),
    (lambda x, m, s: (x - m.mean()) / s.mean(), False, "one mean and std for all channels"),
    (lambda x, m, s: x - m.view(1, -1, 1, 1), False, "forgets to divide"),
    (lambda x, m, s: (x - m.view(1, -1, 1, 1)) / s.view(1, -1, 1, 1)[:, :, :1].mean(), False, "differ"),
    (lambda x, m, s: x.mean(0), False, "reshape mean and std"),
])
def test_check_normalize(fn, passed, words):
    feedback = exercises.check_normalize(fn)
    assert feedback.passed is passed
    assert words in feedback.message


def _bce_naive(z, y):
    p = torch.sigmoid(z)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def _bce_clamped(z, y):
    p = torch.sigmoid(z).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def _bce_stable(z, y):
    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_bce_stable, True, "correct"),
    (lambda z, y: -_bce_stable(z, y), False, "wrong sign"),
    (lambda z, y: _bce_stable(z, y) * len(z), False, "returns the sum"),
    (lambda z, y: _bce_stable(-z, y), False, "swaps the two terms"),
    (_bce_naive, False, "not finite for large |z|"),
    (_bce_clamped, False, "clamping probabilities is not enough"),
    (lambda z, y: (z - y).abs().mean(), False, "expected"),
    (lambda z, y: _bce_stable(z, y)[None], False, "one number"),
])
def test_check_bce_with_logits(fn, passed, words):
    feedback = exercises.check_bce_with_logits(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda X, w, y: 2 * X.T @ (X @ w - y) / len(y), True, "correct"),
    (lambda X, w, y: -2 * X.T @ (X @ w - y) / len(y), False, "wrong sign"),
    (lambda X, w, y: X.T @ (X @ w - y) / len(y), False, "factor 2"),
    (lambda X, w, y: 2 * X.T @ (X @ w - y), False, "1/N"),
    (lambda X, w, y: 2 * X.T @ (X @ w - y) / X.shape[1], False, "number of features"),
    (lambda X, w, y: 2 * (X @ w - y) / len(y), False, "X.T @"),
    (lambda X, w, y: 2 * X.T @ (X @ w + y) / len(y), False, "differs from autograd"),
])
def test_check_mse_gradient(fn, passed, words):
    feedback = exercises.check_mse_gradient(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message
