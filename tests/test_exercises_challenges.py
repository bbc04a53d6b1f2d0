"""Lesson 09 self-checks pass right answers and name the specific mistake in wrong ones."""

import numpy as np
import pytest
import torch

from mmkit import exercises
from mmkit.data import class_weights


def _not_done(*args):
    raise NotImplementedError


def _inverse_frequency(labels, num_classes):
    counts = torch.bincount(labels, minlength=num_classes).float()
    return len(labels) / (num_classes * counts)


def _first_seen_counts(labels, num_classes):  # counts classes in order of appearance
    _, counts = torch.unique_consecutive(labels, return_counts=True)
    return len(labels) / (num_classes * counts[:num_classes].float())


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_inverse_frequency, True, "correct"),
    (lambda y, c: class_weights(y, c), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda y, c: None, False, "returned nothing"),
    (lambda y, c: torch.ones(c + 1), False, "expected (3,)"),
    (lambda y, c: torch.bincount(y, minlength=c) / len(y), False, "that is the frequency"),
    (lambda y, c: 1 / torch.bincount(y, minlength=c).float(), False, "the scale is not"),
    (lambda y, c: len(y) / torch.bincount(y, minlength=c).float(), False,
     "divide by the number of classes"),
    (lambda y, c: _inverse_frequency(y, c) * 1.1, False, "differs from N / (C * n_c)"),
    (_first_seen_counts, False, "depends on the order"),
])
def test_check_class_weights(fn, passed, words):
    feedback = exercises.check_class_weights(fn)
    assert feedback.passed is passed
    assert words in feedback.message


def _balanced_accuracy(y_true, y_pred):
    recalls = [(y_pred[y_true == c] == c).float().mean() for c in torch.unique(y_true)]
    return torch.stack(recalls).mean()


def _two_class_only(y_true, y_pred):  # right for classes 0 and 1, ignores any other
    recalls = [(y_pred[y_true == c] == c).float().mean() for c in (0, 1)]
    return float(sum(recalls) / 2)


def _macro_precision(y_true, y_pred):
    values = [(y_true[y_pred == c] == c).float().mean() for c in torch.unique(y_true)]
    return float(torch.stack(values).mean())


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_balanced_accuracy, True, "correct"),
    (lambda t, p: float(_balanced_accuracy(t, p)), True, "correct"),
    (lambda t, p: np.float64(_balanced_accuracy(t, p)), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda t, p: None, False, "returned nothing"),
    (lambda t, p: [0.5], False, "must be one number, got list"),
    (lambda t, p: (t == p).float().mean(), False, "that is plain accuracy"),
    (_macro_precision, False, "averages precision"),
    (lambda t, p: _balanced_accuracy(t, p) * 0.9, False, "expected 0.6944"),
    (_two_class_only, False, "wrong on three"),
])
def test_check_balanced_accuracy(fn, passed, words):
    feedback = exercises.check_balanced_accuracy(fn)
    assert feedback.passed is passed
    assert words in feedback.message
    assert str(feedback).startswith("✅" if passed else "❌")


def _kd(s, t, y, temperature, alpha):
    import torch.nn.functional as F

    soft = F.kl_div(F.log_softmax(s / temperature, 1), F.softmax(t / temperature, 1),
                    reduction="batchmean")
    return alpha * temperature**2 * soft + (1 - alpha) * F.cross_entropy(s, y)


def _kd_no_square(s, t, y, temperature, alpha):
    return _kd(s, t, y, temperature, alpha) - alpha * (temperature**2 - 1) * (
        _kd(s, t, y, temperature, 1.0) / temperature**2)


def _kd_manual(s, t, y, temperature, alpha):
    p_t = torch.softmax(t / temperature, 1)
    log_p_s = torch.log_softmax(s / temperature, 1)
    kl = (p_t * (p_t.log() - log_p_s)).sum(1).mean()
    ce = -torch.log_softmax(s, 1)[torch.arange(len(y)), y].mean()
    return alpha * temperature**2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_kd, True, "correct"),
    (_kd_manual, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (_kd_no_square, False, "factor T²"),
    (lambda s, t, y, T, a: _kd(t, s, y, T, a) - (1 - a) * torch.nn.functional.cross_entropy(t, y)
     + (1 - a) * torch.nn.functional.cross_entropy(s, y), False, "wrong way round"),
    (lambda s, t, y, T, a: _kd(s, t * T, y, T, a), False, "need the temperature too"),
    (lambda s, t, y, T, a: _kd(s, t, y, T, 1 - a), False, "swapped"),
    (lambda s, t, y, T, a: _kd(s, t, y, T, a) * 2, False, "expected"),
])
def test_check_distillation_loss(fn, passed, words):
    feedback = exercises.check_distillation_loss(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message
