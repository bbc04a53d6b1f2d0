"""Lesson 08 self-checks: macro F-beta from a confusion matrix; decisions that minimise an
expected cost over several classes; the expected calibration error with equal-count bins."""

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


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def _per_class_fbeta(cm: np.ndarray, beta: float) -> np.ndarray:
    """Each class's F-beta, 0 where it is undefined (scikit-learn's zero_division=0)."""
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    precision, recall = _divide(tp, cm.sum(axis=0)), _divide(tp, cm.sum(axis=1))
    b2 = beta * beta
    return _divide((1 + b2) * precision * recall, b2 * precision + recall)


def check_macro_fbeta(fn: Callable) -> Feedback:
    """Exercise: write ``macro_fbeta(cm, beta)`` -> the macro-averaged F-beta score of a
    (K, K) confusion matrix (rows: true class, columns: predicted class, scikit-learn's
    layout).

    Per class k: P = cm[k, k] / column k's sum, R = cm[k, k] / row k's sum,
    F_beta = (1 + beta²) P R / (beta² P + R), 0 where a denominator is 0; the macro average
    is the plain mean over the K classes. beta > 1 weighs recall more than precision.
    """

    def checks() -> str:
        cm = np.array([[8, 1, 1], [2, 3, 0], [1, 0, 4]])
        for beta in (2.0, 0.5, 1.0):
            got = number(_call(fn, cm.copy(), beta), "macro F-beta")
            if math.isnan(got):
                raise Wrong(f"returned NaN for beta={beta} where every class is predicted")
            want = float(_per_class_fbeta(cm, beta).mean())
            if math.isclose(got, want, abs_tol=1e-6):
                continue
            setting = f"beta={beta}"
            if math.isclose(got, float(_per_class_fbeta(cm, 1.0).mean()), abs_tol=1e-6):
                raise Wrong(f"{setting}: this is macro-F1; beta must enter the formula: "
                            "(1 + beta²) P R / (beta² P + R)")
            if math.isclose(got, float(_per_class_fbeta(cm, math.sqrt(beta)).mean()), abs_tol=1e-6):
                raise Wrong(f"{setting}: beta is squared in the formula (beta², not beta)")
            if math.isclose(got, float(_per_class_fbeta(cm, 1 / beta).mean()), abs_tol=1e-6):
                raise Wrong(f"{setting}: precision and recall are swapped: beta² multiplies the "
                            "*precision* in the denominator, so that beta > 1 favours recall")
            if math.isclose(got, float(_per_class_fbeta(cm, beta) @ cm.sum(axis=1)) / cm.sum(),
                            abs_tol=1e-6):
                raise Wrong(f"{setting}: each class is weighted by its number of samples "
                            "(average='weighted'); macro gives every class the same weight")
            if math.isclose(got, np.trace(cm) / cm.sum(), abs_tol=1e-6):
                raise Wrong(f"{setting}: this is micro-averaged (= the accuracy); macro averages "
                            "the per-class scores")
            raise Wrong(f"macro F-beta of {cm.tolist()} with {setting}: expected {want:.4f}, got {got:.4f}")

        never = np.array([[5, 1, 0], [2, 4, 0], [3, 1, 0]])  # class 2 is never predicted
        got = number(_call(fn, never.copy(), 2.0), "macro F-beta")
        want = float(_per_class_fbeta(never, 2.0).mean())
        if math.isnan(got):
            raise Wrong("returns NaN when a class is never predicted: its precision is 0 / 0; "
                        "count it as 0, as scikit-learn does with zero_division=0")
        if not math.isclose(got, want, abs_tol=1e-6):
            raise Wrong(f"for {never.tolist()} (class 2 never predicted) with beta=2 expected "
                        f"{want:.4f}, got {got:.4f}: a class with no right prediction has "
                        "F-beta 0 and still counts in the mean")
        return "correct: the mean of the per-class F-beta scores; beta > 1 favours recall"

    return run("macro F-beta", checks)


def _expected_costs(probabilities: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """(N, K): the expected cost of answering each class, sum_i p_i cost[i, j]."""
    return probabilities @ cost


def _problem(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, size=(40, 3))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    # true class: 0 healthy, 1 mild, 2 severe; missing a severe case is by far the worst
    cost = np.array([[0.0, 1.0, 2.0],
                     [3.0, 0.0, 1.0],
                     [20.0, 8.0, 0.0]])
    return probabilities, cost


def check_cost_decision(fn: Callable) -> Feedback:
    """Exercise: write ``min_cost_decision(probabilities, cost)`` -> (N,) class indices.

    probabilities: (N, K), each row a sample's class probabilities; cost: (K, K), cost[i, j]
    the cost of answering j when the truth is i. Answer, for each sample, the class j with
    the lowest expected cost sum_i p_i cost[i, j].
    """

    def checks() -> str:
        probabilities, cost = _problem()
        out = np.asarray(call_any(fn, probabilities.copy(), cost.copy()))
        if out.shape != (40,):
            if out.shape == (40, 3):
                raise Wrong("returns the (N, K) expected costs; answer one class per sample: "
                            "the column with the lowest expected cost")
            raise Wrong(f"output shape {out.shape}, expected (N,) = (40,): one class per sample")
        if not np.issubdtype(out.dtype, np.integer) and not np.all(out == np.round(out)):
            raise Wrong("return class indices (integers 0..K-1), not costs or probabilities")
        out = out.astype(int)
        expected = _expected_costs(probabilities, cost).argmin(axis=1)
        if np.array_equal(out, expected):
            pass
        elif np.array_equal(out, probabilities.argmax(axis=1)):
            raise Wrong("this is the most probable class: it ignores the costs; weigh each "
                        "possible truth by its cost, sum_i p_i cost[i, j], and take the cheapest j")
        elif np.array_equal(out, (probabilities @ cost.T).argmin(axis=1)):
            raise Wrong("the cost matrix is read the wrong way round: cost[i, j] is the cost "
                        "of answering j when the truth is i, so the expected cost of answer j "
                        "is probabilities @ cost[:, j]")
        elif np.array_equal(out, _expected_costs(probabilities, cost).argmax(axis=1)):
            raise Wrong("takes the class with the *highest* expected cost; take the lowest "
                        "(argmin)")
        else:
            wrong = int(np.sum(out != expected))
            raise Wrong(f"{wrong} of 40 answers are not the cheapest in expectation")
        zero_one = 1 - np.eye(3)
        out = np.asarray(call_any(fn, probabilities.copy(), zero_one)).astype(int)
        if not np.array_equal(out, probabilities.argmax(axis=1)):
            raise Wrong("with a 0-1 cost (every mistake costs 1) the cheapest answer must be "
                        "the most probable class")
        return "correct: the answer with the lowest expected cost; with 0-1 costs, the argmax"

    return run("decisions by expected cost", checks)


def _adaptive_ece(confidence, correct, n_bins: int) -> float:
    order = np.argsort(confidence, kind="stable")
    total = 0.0
    for rows in np.array_split(order, n_bins):
        if len(rows):
            total += len(rows) / len(confidence) * abs(correct[rows].mean() - confidence[rows].mean())
    return float(total)


def _uniform_ece(confidence, correct, n_bins: int) -> float:
    from mmkit.metrics.calibration import _uniform_bins

    bins = _uniform_bins(confidence, n_bins)
    return float(sum((bins == b).mean() * abs(correct[bins == b].mean()
                                              - confidence[bins == b].mean())
                     for b in np.unique(bins)))


def check_adaptive_ece(fn: Callable) -> Feedback:
    """Exercise: write ``adaptive_ece(confidence, correct, n_bins)`` -> the expected
    calibration error with equal-*count* bins: sort the samples by confidence (a stable
    sort), cut them into n_bins consecutive groups of (nearly) equal size with
    np.array_split, and return the sum over the groups of (share of samples) ×
    |accuracy − mean confidence|."""

    def checks() -> str:
        rng = np.random.default_rng(5)
        # most confidences crowd near 1, where equal-width bins would lump them together
        confidence = np.r_[rng.uniform(0.5, 0.8, 10), rng.uniform(0.9, 1.0, 53)]
        right_rate = np.where(confidence > 0.95, confidence - 0.2, confidence + 0.1)
        correct = (rng.random(63) < right_rate).astype(float)
        shuffle = rng.permutation(63)
        confidence, correct = confidence[shuffle], correct[shuffle]
        got = number(_call(fn, confidence.copy(), correct.copy(), 5), "the ECE")
        want = _adaptive_ece(confidence, correct, 5)
        if math.isnan(got):
            raise Wrong("returned NaN")
        if math.isclose(got, want, abs_tol=1e-9):
            pass
        elif math.isclose(got, _uniform_ece(confidence, correct, 5), abs_tol=1e-9):
            raise Wrong("these are equal-*width* bins (section 5's ECE); here each bin holds "
                        "the same number of samples: sort by confidence, then np.array_split")
        else:
            unsorted = sum(len(r) / 63 * abs(correct[r].mean() - confidence[r].mean())
                           for r in np.array_split(np.arange(63), 5))
            order = np.argsort(confidence, kind="stable")
            plain = np.mean([abs(correct[r].mean() - confidence[r].mean())
                             for r in np.array_split(order, 5)])
            if math.isclose(got, unsorted, abs_tol=1e-9):
                raise Wrong("the groups are cut in the samples' given order; sort by "
                            "confidence first, so that each bin holds similar confidences")
            if math.isclose(got, plain, abs_tol=1e-9):
                raise Wrong("a plain mean of the bins' gaps: weigh each bin by its share of the "
                            "samples (with 63 samples in 5 bins, they differ by one)")
            if math.isclose(got, abs(correct.mean() - confidence.mean()), abs_tol=1e-9):
                raise Wrong("one gap over all samples: take the gap in each bin, then the "
                            "weighted sum")
            raise Wrong(f"expected {want:.4f}, got {got:.4f}")
        calibrated = number(_call(fn, np.full(10, 0.8), np.array([1.0] * 8 + [0.0] * 2), 1),
                            "the ECE")
        if not math.isclose(calibrated, 0.0, abs_tol=1e-9):
            raise Wrong(f"always 0.8 sure and right 8 times in 10, in one bin, is calibrated: "
                        f"expected 0, got {calibrated:.4f}")
        return "correct: equal-count bins, each gap weighted by its bin's share"

    return run("expected calibration error, equal-count bins", checks)
