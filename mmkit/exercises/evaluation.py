"""Lesson 08 self-checks: macro-F1 from a confusion matrix; a threshold chosen by cost; the
expected calibration error."""

import math
from collections.abc import Callable

import numpy as np

from mmkit.exercises.feedback import Feedback, Wrong, call_any, number, run


def _call(fn: Callable, *args):
    """call_any, with a hint for the usual crash: dividing by a zero count."""
    try:
        return call_any(fn, *args)
    except Wrong as wrong:
        if isinstance(wrong.__cause__, ZeroDivisionError):
            raise Wrong("divides by zero: where a denominator is 0 the metric is undefined; "
                        "count it as 0.0, as scikit-learn does with zero_division=0") from None
        raise


def _per_class_f1(cm: np.ndarray) -> np.ndarray:
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    both = precision + recall
    return np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)


def check_macro_f1(fn: Callable) -> Feedback:
    """Exercise: write ``macro_f1(cm)`` -> the macro-averaged F1 of a (K, K) confusion
    matrix (rows: true class, columns: predicted class, scikit-learn's layout).

    Per class k: precision = cm[k, k] / column k's sum, recall = cm[k, k] / row k's sum,
    F1 = 2PR / (P + R) (0 where undefined); macro-F1 is the plain mean of the K F1 scores.
    """

    def checks() -> str:
        cm = np.array([[8, 1, 1], [2, 3, 0], [1, 0, 4]])
        got = number(_call(fn, cm.copy()), "macro-F1")
        if math.isnan(got):
            raise Wrong("returned NaN for a matrix where every class is predicted")
        f1 = _per_class_f1(cm)
        want = float(f1.mean())
        if math.isclose(got, want, abs_tol=1e-6):
            pass
        elif math.isclose(got, np.trace(cm) / cm.sum(), abs_tol=1e-6):
            raise Wrong("this is micro-F1 (all classes' counts pooled), which for single-label "
                        "data equals the accuracy; macro-F1 averages the per-class F1 scores")
        elif math.isclose(got, float(f1 @ cm.sum(axis=1)) / cm.sum(), abs_tol=1e-6):
            raise Wrong("weights each class's F1 by its number of samples (average='weighted'); "
                        "macro-F1 gives every class the same weight: a plain mean")
        else:
            tp = np.diag(cm)
            p, r = (tp / cm.sum(axis=0)).mean(), (tp / cm.sum(axis=1)).mean()
            if math.isclose(got, 2 * p * r / (p + r), abs_tol=1e-6):
                raise Wrong("takes the F1 of the averaged precision and recall; macro-F1 is the "
                            "average of the per-class F1 scores (compute F1 per class first)")
            raise Wrong(f"macro-F1 of {cm.tolist()} is {got:.4f}, expected {want:.4f}")

        never = np.array([[5, 1, 0], [2, 4, 0], [3, 1, 0]])  # class 2 is never predicted
        got = number(_call(fn, never.copy()), "macro-F1")
        if math.isnan(got):
            raise Wrong("returns NaN when a class is never predicted: its precision is 0 / 0; "
                        "count it as 0, as scikit-learn does with zero_division=0")
        if not math.isclose(got, float(_per_class_f1(never).mean()), abs_tol=1e-6):
            raise Wrong(f"for {never.tolist()} (class 2 never predicted) expected "
                        f"{float(_per_class_f1(never).mean()):.4f}, got {got:.4f}: a class "
                        "with no predictions has F1 = 0 and still counts in the mean")
        return "correct: the mean of the per-class F1 scores, each class weighted the same"

    return run("macro-F1", checks)


def _cost(y, scores, threshold, cost_fn, cost_fp) -> float:
    predicted = scores >= threshold
    return cost_fn * float(np.sum(~predicted & (y == 1))) \
        + cost_fp * float(np.sum(predicted & (y == 0)))


def _screening_data(seed: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """200 samples, 1 in 4 positive, scores that overlap: no threshold is free of errors."""
    rng = np.random.default_rng(seed)
    y = (rng.random(200) < 0.25).astype(int)
    scores = np.clip(rng.normal(0.35 + 0.3 * y, 0.15), 0, 1).round(3)
    return y, scores


def check_cost_threshold(fn: Callable) -> Feedback:
    """Exercise: write ``best_threshold(y_true, scores, cost_fn, cost_fp)`` -> the threshold
    (predict positive where score >= threshold) with the lowest total cost, where each missed
    positive costs ``cost_fn`` and each false alarm ``cost_fp``.
    """

    def checks() -> str:
        y, scores = _screening_data()
        candidates = np.append(np.unique(scores), np.inf)  # every distinct outcome
        for cost_fn, cost_fp in ((10.0, 1.0), (1.0, 4.0)):
            threshold = number(_call(fn, y.copy(), scores.copy(), cost_fn, cost_fp),
                                "the threshold")
            if math.isnan(threshold):
                raise Wrong("returned NaN instead of a threshold")
            cost = _cost(y, scores, threshold, cost_fn, cost_fp)
            best = min(_cost(y, scores, t, cost_fn, cost_fp) for t in candidates)
            if cost <= best + 1e-9:
                continue
            errors = min(_cost(y, scores, t, 1, 1) for t in candidates)
            swapped = min(_cost(y, scores, t, cost_fp, cost_fn) for t in candidates)
            setting = f"with cost_fn={cost_fn:g}, cost_fp={cost_fp:g}"
            if threshold == 0.5:
                raise Wrong(f"returns 0.5 {setting}: a fixed threshold ignores the costs; try "
                            "every distinct score as a threshold and keep the cheapest")
            if _cost(y, scores, threshold, 1, 1) <= errors + 1e-9:
                raise Wrong(f"{setting} your threshold makes the fewest errors, counting a "
                            "miss and a false alarm the same: weigh each miss by cost_fn and "
                            "each false alarm by cost_fp")
            if _cost(y, scores, threshold, cost_fp, cost_fn) <= swapped + 1e-9:
                raise Wrong(f"{setting} the costs are swapped: a missed positive (score below "
                            "the threshold, label 1) costs cost_fn; a false alarm costs cost_fp")
            raise Wrong(f"{setting} your threshold {threshold:.3f} costs {cost:g}, but "
                        f"{best:g} is possible; try every distinct score as a threshold")
        return "correct: the threshold with the lowest expected cost"

    return run("cost-optimal threshold", checks)


def _ece(confidence, correct, n_bins: int) -> float:
    from mmkit.metrics.calibration import _uniform_bins

    bins = _uniform_bins(confidence, n_bins)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def check_ece(fn: Callable) -> Feedback:
    """Exercise: write ``ece(confidence, correct, n_bins)`` -> the expected calibration
    error: n_bins equal bins of [0, 1] (an edge value in the lower bin), Σ over non-empty
    bins of (share of samples) × |accuracy − mean confidence|."""

    def checks() -> str:
        rng = np.random.default_rng(5)
        edges = np.linspace(0, 1, 11)
        # some confidences exactly on bin edges, the rest random; over-confident above 0.65,
        # under-confident below, so that gaps of both signs occur
        confidence = np.r_[edges[4:10], rng.uniform(0.3, 1.0, 54).round(3)]
        right_rate = np.where(confidence > 0.65, confidence - 0.25, confidence + 0.25)
        correct = (rng.random(60) < right_rate).astype(float)
        got = number(_call(fn, confidence.copy(), correct.copy(), 10), "the ECE")
        want = _ece(confidence, correct, 10)
        if math.isnan(got):
            raise Wrong("returned NaN: an empty bin has no mean; skip the empty bins")
        if math.isclose(got, want, abs_tol=1e-9):
            pass
        elif math.isclose(got, abs(correct.mean() - confidence.mean()), abs_tol=1e-9):
            raise Wrong("one gap over all samples: over- and under-confidence in different "
                        "bins cancel that way; take the gap in each bin, then the weighted sum")
        else:
            bins = np.searchsorted(edges[1:-1], confidence)
            plain = np.mean([abs(correct[bins == b].mean() - confidence[bins == b].mean())
                             for b in np.unique(bins)])
            upper = np.searchsorted(edges[1:-1], confidence, side="right")
            upper_ece = sum((upper == b).mean() * abs(correct[upper == b].mean()
                                                      - confidence[upper == b].mean())
                            for b in np.unique(upper))
            if math.isclose(got, plain, abs_tol=1e-9):
                raise Wrong("a plain mean of the bins' gaps: weigh each bin by its share of "
                            "the samples, so a bin of 2 samples counts less than one of 20")
            if math.isclose(got, upper_ece, abs_tol=1e-9):
                raise Wrong("a confidence exactly on a bin edge (0.7, say) must go to the "
                            "lower bin, (0.6, 0.7]: np.searchsorted(edges[1:-1], c) does that")
            raise Wrong(f"expected {want:.4f}, got {got:.4f}")
        calibrated = _ece(np.full(10, 0.8), np.array([1.0] * 8 + [0.0] * 2), 5)
        got = number(_call(fn, np.full(10, 0.8), np.array([1.0] * 8 + [0.0] * 2), 5), "the ECE")
        if not math.isclose(got, calibrated, abs_tol=1e-9):
            raise Wrong(f"always 0.8 sure and right 8 times in 10 is calibrated: expected "
                        f"{calibrated:.4f}, got {got:.4f}")
        return "correct: the bins' gaps between accuracy and confidence, weighted by their size"

    return run("expected calibration error", checks)
