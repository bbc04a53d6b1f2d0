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
