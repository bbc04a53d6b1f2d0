"""Lesson 08 self-checks: the right answers pass (and agree with scikit-learn where it has
the metric), and each typical mistake gets a message that names it."""

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

from mmkit.exercises import check_adaptive_ece, check_cost_decision, check_macro_fbeta
from mmkit.exercises.evaluation import _adaptive_ece, _problem


def _not_done(*args):
    raise NotImplementedError


def _divide(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def macro_fbeta(cm, beta):
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    precision, recall = _divide(tp, cm.sum(axis=0)), _divide(tp, cm.sum(axis=1))
    return float(_divide((1 + beta**2) * precision * recall, beta**2 * precision + recall).mean())


def test_the_right_macro_fbeta_passes_and_equals_sklearn():
    assert check_macro_fbeta(macro_fbeta).passed
    rng = np.random.default_rng(0)
    for _ in range(100):
        k = int(rng.integers(2, 5))
        y, predicted = rng.integers(0, k, 40), rng.integers(0, k, 40)
        beta = float(rng.choice([0.5, 1.0, 2.0, 3.0]))
        cm = skm.confusion_matrix(y, predicted, labels=range(k))
        expected = skm.fbeta_score(y, predicted, beta=beta, labels=range(k), average="macro",
                                   zero_division=0)
        assert macro_fbeta(cm, beta) == pytest.approx(expected, abs=1e-12)


def _per_class(cm):
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    return tp / cm.sum(axis=0), tp / cm.sum(axis=1)


def _unsquared(cm, beta):
    p, r = _per_class(cm)
    return float(np.mean((1 + beta) * p * r / (beta * p + r)))


def _swapped(cm, beta):
    p, r = _per_class(cm)
    return float(np.mean((1 + beta**2) * p * r / (p + beta**2 * r)))


def _weighted(cm, beta):
    p, r = _per_class(cm)
    f = (1 + beta**2) * p * r / (beta**2 * p + r)
    return float(f @ np.sum(cm, axis=1) / np.sum(cm))


def _nan_for_unpredicted(cm, beta):
    with np.errstate(invalid="ignore", divide="ignore"):
        p, r = _per_class(cm)
        return float(np.mean((1 + beta**2) * p * r / (beta**2 * p + r)))


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (macro_fbeta, True, "correct"),
    (lambda cm, b: torch.tensor(macro_fbeta(cm, b)), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda cm, b: macro_fbeta(cm, 1.0), False, "macro-F1"),
    (_unsquared, False, "squared"),
    (_swapped, False, "swapped"),
    (_weighted, False, "weighted"),
    (lambda cm, b: np.trace(cm) / np.sum(cm), False, "micro"),
    (_nan_for_unpredicted, False, "never predicted"),
    (lambda cm, b: macro_fbeta(cm, b) + 0.1, False, "expected"),
    (lambda cm, b: np.zeros(3), False, "must be one number"),
    (lambda cm, b: None, False, "returned nothing"),
    (lambda cm, b: 1 / 0, False, "divides by zero"),
])
def test_check_macro_fbeta(fn, passed, words):
    feedback = check_macro_fbeta(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message, feedback.message


def min_cost_decision(probabilities, cost):
    return (probabilities @ cost).argmin(axis=1)


def test_the_cost_decision_changes_answers_and_is_cheapest_on_average():
    probabilities, cost = _problem()
    chosen = min_cost_decision(probabilities, cost)
    assert (chosen != probabilities.argmax(axis=1)).sum() >= 5  # the costs matter here
    # drawing truths from the probabilities, the decision rule's mean cost is the lowest
    rng = np.random.default_rng(0)
    truths = np.array([[rng.choice(3, p=p) for p in probabilities] for _ in range(400)])
    mean_cost = {name: cost[truths, answers[None, :]].mean() for name, answers in
                 (("rule", chosen), ("argmax", probabilities.argmax(axis=1)))}
    assert mean_cost["rule"] < mean_cost["argmax"]


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (min_cost_decision, True, "correct"),
    (lambda p, c: torch.tensor(min_cost_decision(p, c)), True, "correct"),
    (lambda p, c: min_cost_decision(p, c).astype(float), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda p, c: p.argmax(axis=1), False, "ignores the costs"),
    (lambda p, c: (p @ c.T).argmin(axis=1), False, "wrong way round"),
    (lambda p, c: (p @ c).argmax(axis=1), False, "highest"),
    (lambda p, c: p @ c, False, "expected costs"),
    (lambda p, c: (p @ c).min(axis=1), False, "class indices"),
    (lambda p, c: np.zeros(len(p), dtype=int), False, "not the cheapest"),
    (lambda p, c: min_cost_decision(p, c)[:5], False, "one class per sample"),
])
def test_check_cost_decision(fn, passed, words):
    feedback = check_cost_decision(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message, feedback.message


def adaptive_ece(confidence, correct, n_bins):
    order = np.argsort(confidence, kind="stable")
    return sum(len(rows) / len(order) * abs(correct[rows].mean() - confidence[rows].mean())
               for rows in np.array_split(order, n_bins))


def _uniform(confidence, correct, n_bins):
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence)
    return sum((bins == b).mean() * abs(correct[bins == b].mean() - confidence[bins == b].mean())
               for b in np.unique(bins))


def _unsorted(confidence, correct, n_bins):
    return sum(len(rows) / len(confidence) * abs(correct[rows].mean() - confidence[rows].mean())
               for rows in np.array_split(np.arange(len(confidence)), n_bins))


def _unweighted(confidence, correct, n_bins):
    order = np.argsort(confidence, kind="stable")
    return np.mean([abs(correct[rows].mean() - confidence[rows].mean())
                    for rows in np.array_split(order, n_bins)])


def test_the_adaptive_ece_is_sklearns_quantile_curve_when_the_bins_are_equal():
    """With N divisible by n_bins and no ties, equal-count bins are scikit-learn's quantile
    strategy: the ECE from its calibration curve of (right?, confidence) is the same."""
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.4, 1.0, 200)
    correct = (rng.random(200) < confidence).astype(float)
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=5,
                                                  strategy="quantile")
    assert adaptive_ece(confidence, correct, 5) == pytest.approx(
        float(np.mean(np.abs(accuracy - mean_confidence))), abs=1e-12)
    assert _adaptive_ece(confidence, correct, 5) == pytest.approx(adaptive_ece(confidence, correct, 5))


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (adaptive_ece, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (_uniform, False, "equal-*width*"),
    (_unsorted, False, "sort by"),
    (_unweighted, False, "weigh each bin"),
    (lambda c, r, n: abs(r.mean() - c.mean()), False, "one gap"),
    (lambda c, r, n: adaptive_ece(c, r, n) * 1.5, False, "expected"),
    (lambda c, r, n: float("nan"), False, "NaN"),
])
def test_check_adaptive_ece(fn, passed, words):
    feedback = check_adaptive_ece(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message, feedback.message
