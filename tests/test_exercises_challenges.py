"""Lesson 09 self-checks pass right answers and name the specific mistake in wrong ones."""

import numpy as np
import pytest
import torch

from mmkit import exercises
from mmkit.data import class_weights


def _not_done(*args):
    raise NotImplementedError


def _effective(labels, num_classes, beta):
    counts = torch.bincount(labels, minlength=num_classes).float()
    weights = (1 - beta) / (1 - beta**counts)
    return weights * num_classes / weights.sum()


def _first_seen_counts(labels, num_classes, beta):  # counts classes in order of appearance
    _, counts = torch.unique_consecutive(labels, return_counts=True)
    weights = (1 - beta) / (1 - beta ** counts[:num_classes].float())
    return weights * num_classes / weights.sum()


def _unscaled(labels, num_classes, beta):
    counts = torch.bincount(labels, minlength=num_classes).float()
    return (1 - beta) / (1 - beta**counts)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_effective, True, "correct"),
    (lambda y, c, b: _effective(y, c, b).double(), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda y, c, b: None, False, "returned nothing"),
    (lambda y, c, b: torch.ones(c + 1), False, "expected (3,)"),
    (_unscaled, False, "sum to C"),
    (lambda y, c, b: _unscaled(y, c, b) / _unscaled(y, c, b).sum(), False, "sum to 1"),
    (lambda y, c, b: 1 / _unscaled(y, c, b) * c / (1 / _unscaled(y, c, b)).sum(), False,
     "the *inverse*"),
    (lambda y, c, b: class_weights(y, c), False, "the limit beta -> 1"),
    (lambda y, c, b: _effective(y, c, b) * 1.1, False, "expected"),
    (_first_seen_counts, False, "depends on the order"),
    (lambda y, c, b: _effective(y, c, b) if b > 0 else torch.full((c,), 0.5), False,
     "beta = 0"),
])
def test_check_effective_number_weights(fn, passed, words):
    feedback = exercises.check_effective_number_weights(fn)
    assert feedback.passed is passed, feedback.message
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


def _centred(x):
    return x - x.mean(dim=1, keepdim=True)


def _matching(s, t):
    return ((_centred(s) - _centred(t)) ** 2).sum(dim=1).mean() / (2 * s.shape[1])


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_matching, True, "correct"),
    (lambda s, t: _matching(s.double(), t.double()), True, "correct"),
    (lambda s, t: float(_matching(s, t)), False, "must return a torch.Tensor"),
    (_not_done, False, "not implemented yet"),
    (lambda s, t: ((s - t) ** 2).sum(1).mean() / (2 * s.shape[1]), False, "not centred"),
    (lambda s, t: ((_centred(s) - _centred(t)) ** 2).sum(1).mean(), False, "1 / (2K)"),
    (lambda s, t: ((_centred(s) - _centred(t)) ** 2).sum(1).mean() / 2, False, "missing the 1 / K"),
    (lambda s, t: ((_centred(s) - _centred(t)) ** 2).sum() / (2 * s.shape[1]), False,
     "sums over the batch"),
    (lambda s, t: ((_centred(s) - _centred(t)) ** 2).mean(), False, "1 / (2K)"),
    (lambda s, t: ((_centred(s) - _centred(t)) ** 2).sum(1) / (2 * s.shape[1]), False,
     "return one number"),
    (lambda s, t: _matching(s, t) * 1.1, False, "expected about"),
])
def test_check_logit_matching(fn, passed, words):
    feedback = exercises.check_logit_matching(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message


def test_logit_matching_is_the_high_temperature_limit_of_the_distillation_loss():
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g,
                                                                         dtype=torch.float64)
    gaps = []
    for temperature in (10.0, 100.0, 1000.0):
        soft = F.kl_div(F.log_softmax(s / temperature, 1), F.softmax(t / temperature, 1),
                        reduction="batchmean") * temperature**2
        gaps.append(abs(float(soft - _matching(s, t))))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3 * float(_matching(s, t))
