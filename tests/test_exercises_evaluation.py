"""Lesson 08 self-checks: the right answers pass (and agree with scikit-learn), and each
typical mistake gets a message that names it."""

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

from mmkit.exercises import check_cost_threshold, check_ece, check_macro_f1
from mmkit.exercises.evaluation import _cost, _screening_data


def macro_f1(cm):
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return float(f1.mean())


def best_threshold(y_true, scores, cost_fn, cost_fp):
    candidates = np.append(np.unique(scores), np.inf)
    costs = [cost_fn * np.sum((scores < t) & (y_true == 1))
             + cost_fp * np.sum((scores >= t) & (y_true == 0)) for t in candidates]
    return float(candidates[int(np.argmin(costs))])


def test_the_right_macro_f1_passes_and_equals_sklearn():
    feedback = check_macro_f1(macro_f1)
    assert feedback.passed and str(feedback).startswith("✅")
    rng = np.random.default_rng(0)
    for _ in range(50):
        k = int(rng.integers(2, 5))
        y, predicted = rng.integers(0, k, 40), rng.integers(0, k, 40)
        cm = skm.confusion_matrix(y, predicted, labels=range(k))
        expected = skm.f1_score(y, predicted, labels=range(k), average="macro", zero_division=0)
        assert macro_f1(cm) == pytest.approx(expected, abs=1e-12)


def _per_class(cm):
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    return tp, tp / cm.sum(axis=0), tp / cm.sum(axis=1)


def _f1_of_means(cm):
    _, p, r = _per_class(cm)
    return 2 * p.mean() * r.mean() / (p.mean() + r.mean())


def _weighted(cm):
    _, p, r = _per_class(cm)
    return float((2 * p * r / (p + r)) @ np.sum(cm, axis=1) / np.sum(cm))


def _nan_for_unpredicted(cm):
    with np.errstate(invalid="ignore", divide="ignore"):
        _, p, r = _per_class(cm)
        return float(np.mean(2 * p * r / (p + r)))


@pytest.mark.parametrize("fn,message", [
    (lambda cm: np.trace(cm) / np.sum(cm), "micro-F1"),
    (_weighted, "weighted"),
    (_f1_of_means, "F1 of the averaged precision and recall"),
    (_nan_for_unpredicted, "never predicted"),
    (lambda cm: macro_f1(cm) + 0.1, "expected"),
    (lambda cm: np.zeros(3), "must be one number"),
    (lambda cm: None, "returned nothing"),
    (lambda cm: 1 / 0, "divides by zero"),
])
def test_macro_f1_mistakes_are_named(fn, message):
    feedback = check_macro_f1(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


def test_tensors_are_accepted_as_numbers():
    assert check_macro_f1(lambda cm: torch.tensor(macro_f1(cm), dtype=torch.float32)).passed


def test_the_right_threshold_passes_and_really_is_cheapest():
    assert check_cost_threshold(best_threshold).passed
    y, scores = _screening_data()
    t = best_threshold(y, scores, 10.0, 1.0)
    grid = np.linspace(-0.01, 1.01, 500)  # no threshold on a fine grid does better
    assert min(_cost(y, scores, g, 10.0, 1.0) for g in grid) >= _cost(y, scores, t, 10.0, 1.0)
    # and it differs from the threshold with the fewest errors: costs matter here
    assert t != best_threshold(y, scores, 1.0, 1.0)


@pytest.mark.parametrize("fn,message", [
    (lambda y, s, cfn, cfp: 0.5, "returns 0.5"),
    (lambda y, s, cfn, cfp: best_threshold(y, s, 1.0, 1.0), "fewest errors"),
    (lambda y, s, cfn, cfp: best_threshold(y, s, cfp, cfn), "swapped"),
    (lambda y, s, cfn, cfp: 0.9, "costs"),
    (lambda y, s, cfn, cfp: "low", "must be one number"),
    (lambda y, s, cfn, cfp: float("nan"), "NaN"),
])
def test_cost_threshold_mistakes_are_named(fn, message):
    feedback = check_cost_threshold(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


def test_not_implemented_is_reported():
    def todo(*args):
        raise NotImplementedError

    assert "not implemented" in check_cost_threshold(todo).message
    assert "not implemented" in check_macro_f1(todo).message


def _ece_not_done(*args):
    raise NotImplementedError


def _ece_right(confidence, correct, n_bins):
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence)
    return sum((bins == b).mean() * abs(correct[bins == b].mean() - confidence[bins == b].mean())
               for b in np.unique(bins))


def _ece_right_edges(confidence, correct, n_bins):  # an edge value goes to the upper bin
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence, side="right")
    return sum((bins == b).mean() * abs(correct[bins == b].mean() - confidence[bins == b].mean())
               for b in np.unique(bins))


def _ece_unweighted(confidence, correct, n_bins):
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence)
    return np.mean([abs(correct[bins == b].mean() - confidence[bins == b].mean())
                    for b in np.unique(bins)])


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_ece_right, True, "correct"),
    (lambda c, r, n: _ece_right(c, r, n) * 1.5, False, "expected"),
    (_ece_not_done, False, "not implemented yet"),
    (lambda c, r, n: abs(r.mean() - c.mean()), False, "one gap over all samples"),
    (_ece_unweighted, False, "weigh each bin"),
    (_ece_right_edges, False, "lower bin"),
    (lambda c, r, n: float("nan"), False, "NaN"),
])
def test_check_ece(fn, passed, words):
    feedback = check_ece(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message
