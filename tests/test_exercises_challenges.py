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
