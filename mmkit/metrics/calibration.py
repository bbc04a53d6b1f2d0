"""Calibration (校准): does a predicted probability of 0.8 come true 80 % of the time?

    calibration_curve            the reliability diagram's points, as scikit-learn computes
                                 them (sklearn.calibration.calibration_curve)
    expected_calibration_error   ECE: the gap between confidence and accuracy, bin by bin,
                                 weighted by how many samples fall in each bin
    fit_temperature              temperature scaling (Guo et al., 2017): one number T that
                                 divides every logit, chosen to minimise the validation
                                 negative log-likelihood
    negative_log_likelihood      the mean -log p(true class), scikit-learn's log_loss

Temperature scaling changes the confidence, never the ranking of the classes: argmax and so
accuracy stay the same, and only the probabilities move.
"""

import numpy as np

from mmkit.checks import check_choice, check_int
from mmkit.metrics.curves import _positive_mask
from mmkit.metrics.inputs import as_labels, as_scores, to_numpy


def _check_probabilities(y_prob: np.ndarray, name: str = "y_prob") -> None:
    if y_prob.min() < 0 or y_prob.max() > 1:
        raise ValueError(f"{name} must be probabilities in [0, 1], got values in "
                         f"[{y_prob.min():.3g}, {y_prob.max():.3g}]; apply a softmax first")


def _uniform_bins(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index 0..n_bins-1 of each value in [0, 1], n_bins equal bins; a value on an inner
    edge goes to the lower bin (as scikit-learn's calibration_curve places it)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], values)


def calibration_curve(y_true, y_prob, *, pos_label=None, n_bins: int = 5,
                      strategy: str = "uniform"):
    """(prob_true, prob_pred): per non-empty bin of predicted probability, the share of
    positives and the mean predicted probability. A calibrated model's points lie on the
    diagonal. Same signature and values as ``sklearn.calibration.calibration_curve``.

    strategy: "uniform" (n_bins equal bins on [0, 1]) or "quantile" (bins holding about the
    same number of samples).
    """
    y_true = as_labels(y_true, "y_true")
    y_prob = as_scores(y_prob, "y_prob", y_true.size)
    _check_probabilities(y_prob)
    check_int(n_bins, "n_bins", minimum=1)
    check_choice(strategy, "strategy", ("uniform", "quantile"))
    if np.unique(y_true).size > 2:
        raise ValueError(f"calibration_curve is for binary labels, got classes "
                         f"{np.unique(y_true).tolist()}; for several classes use "
                         "expected_calibration_error with the (N, K) probabilities")
    positive = _positive_mask(y_true, pos_label).astype(np.float64)
    if strategy == "quantile":
        edges = np.percentile(y_prob, np.linspace(0, 1, n_bins + 1) * 100)  # as sklearn spells it
        bins = np.searchsorted(edges[1:-1], y_prob)
    else:
        bins = _uniform_bins(y_prob, n_bins)
    total = np.bincount(bins, minlength=n_bins)
    filled = total > 0
    prob_true = np.bincount(bins, weights=positive, minlength=n_bins)[filled] / total[filled]
    prob_pred = np.bincount(bins, weights=y_prob, minlength=n_bins)[filled] / total[filled]
    return prob_true, prob_pred


def _top_label(y_true, y_prob):
    """Confidence (the largest probability) and whether that class is right, per sample.
    y_prob: (N, K) probabilities, or (N,) the probability of class 1 of a binary task."""
    y_true = as_labels(y_true, "y_true")
    y_prob = as_scores(y_prob, "y_prob", y_true.size, ndim=(1, 2))
    _check_probabilities(y_prob)
    if y_prob.ndim == 1:
        y_prob = np.stack([1 - y_prob, y_prob], axis=1)
    if not np.allclose(y_prob.sum(axis=1), 1, atol=1e-4):
        raise ValueError("each row of y_prob must sum to 1 (class probabilities); got sums "
                         f"from {y_prob.sum(axis=1).min():.4g} to {y_prob.sum(axis=1).max():.4g}")
    labels = y_true.astype(np.int64) if y_true.dtype.kind in "biuf" else None
    if labels is None or labels.min() < 0 or labels.max() >= y_prob.shape[1]:
        raise ValueError(f"y_true must hold class indices 0..{y_prob.shape[1] - 1} (the "
                         f"columns of y_prob), got {np.unique(y_true)[:5].tolist()}")
    predicted = y_prob.argmax(axis=1)
    return y_prob[np.arange(len(labels)), predicted], (predicted == labels).astype(np.float64)


def reliability_bins(y_true, y_prob, *, n_bins: int = 10):
    """Per bin of confidence (n_bins equal bins on [0, 1]): (count, mean confidence,
    accuracy), the numbers behind a reliability diagram and ECE; empty bins give NaN."""
    check_int(n_bins, "n_bins", minimum=1)
    confidence, correct = _top_label(y_true, y_prob)
    bins = _uniform_bins(confidence, n_bins)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return count, mean_confidence, accuracy


def expected_calibration_error(y_true, y_prob, *, n_bins: int = 10) -> float:
    """ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b| over n_bins equal bins of the
    predicted class's probability (the "top-label" ECE of Guo et al., 2017).

    y_prob: (N, K) class probabilities, or (N,) the probability of class 1 (binary).
    0 is perfect calibration; a model that says 0.9 and is right 60 % of the time there
    adds 0.3 times the share of samples in that bin.
    """
    count, mean_confidence, accuracy = reliability_bins(y_true, y_prob, n_bins=n_bins)
    filled = count > 0
    gaps = np.abs(accuracy[filled] - mean_confidence[filled])
    return float(np.sum(count[filled] / count.sum() * gaps))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _as_logits(logits, labels):
    z = as_scores(logits, "logits", len(to_numpy(labels, "labels")), ndim=(2,))
    y = as_labels(labels, "labels", n=z.shape[0], reference="logits")
    if y.dtype.kind not in "biu" or y.min() < 0 or y.max() >= z.shape[1]:
        raise ValueError(f"labels must be class indices 0..{z.shape[1] - 1} (the columns of "
                         f"logits), got values {np.unique(y)[:5].tolist()}")
    return z, y.astype(np.int64)


def negative_log_likelihood(logits, labels, temperature: float = 1.0) -> float:
    """Mean −log softmax(logits / T)[true class]: what temperature scaling minimises, and
    what ``sklearn.metrics.log_loss`` computes from the probabilities."""
    z, y = _as_logits(logits, labels)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return float(-_log_softmax(z / temperature)[np.arange(len(y)), y].mean())


def fit_temperature(logits, labels, *, low: float = 1e-2, high: float = 1e2) -> float:
    """The temperature T in [low, high] that minimises the mean negative log-likelihood of
    softmax(logits / T) on (held-out) ``labels``.

    With β = 1 / T the loss is convex in β (a log-sum-exp minus a linear term), so its
    derivative, mean(E_softmax(βz)[z] − z_true), grows with β: bisection on its sign finds
    the one minimum, to double precision, with no step size to tune. T > 1 softens an
    overconfident model, T < 1 sharpens an underconfident one.
    """
    z, y = _as_logits(logits, labels)
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    true_logit = z[np.arange(len(y)), y]

    def slope(beta: float) -> float:  # d NLL / d beta
        p = np.exp(_log_softmax(beta * z))
        return float(np.mean((p * z).sum(axis=1) - true_logit))

    lo, hi = 1 / high, 1 / low  # beta's range
    if slope(lo) >= 0:
        return high
    if slope(hi) <= 0:
        return low
    for _ in range(200):
        mid = np.sqrt(lo * hi)  # bisect on a log scale: beta spans orders of magnitude
        if slope(mid) > 0:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1 + 1e-12:
            break
    return float(2 / (lo + hi))
