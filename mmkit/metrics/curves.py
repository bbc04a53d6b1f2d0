"""ROC and precision-recall curves: what happens to the counts as the threshold moves.

Sort the samples by score, highest first. Lowering the threshold past one score turns every
sample with that score positive at once, so the curve has one point per *distinct* score
(tied scores move together - this is where hand-written ROC code usually goes wrong).
With cumulative sums over the sorted labels we get, for every threshold at once,
    tps = positives scored >= threshold,   fps = negatives scored >= threshold.
The ROC curve plots tpr = tps / P against fpr = fps / N; precision-recall plots
tps / (tps + fps) against tps / P.
"""

import warnings

import numpy as np

from mmkit.metrics.inputs import (
    UndefinedMetricWarning,
    as_labels,
    as_scores,
    as_weights,
    to_numpy,
    unique_labels,
)


def _positive_mask(y_true: np.ndarray, pos_label) -> np.ndarray:
    """y_true == pos_label; without pos_label the labels must be {0, 1} or {-1, 1}."""
    classes = unique_labels(y_true)
    if pos_label is None:
        if len(classes) > 2:
            raise ValueError(
                f"y_true has {len(classes)} classes {classes.tolist()[:10]}: a curve needs "
                "two; pass pos_label=<the positive class> to score one class against the rest"
            )
        allowed = ({0, 1}, {-1, 1}, {0}, {-1}, {1})
        if classes.dtype.kind not in "biuf" or set(classes.tolist()) not in allowed:
            raise ValueError(
                f"y_true takes the values {classes.tolist()}, so which one is positive? "
                "Pass pos_label=..., or use labels 0/1 (or -1/1)"
            )
        pos_label = 1
    return y_true == pos_label


def counts_at_thresholds(y_true, y_score, *, pos_label=None, sample_weight=None):
    """fps, tps and the thresholds, one entry per distinct score, thresholds decreasing."""
    y_true = as_labels(y_true, "y_true")
    y_score = as_scores(y_score, "y_score", y_true.size)
    weight = as_weights(sample_weight, y_true.size)
    positive = _positive_mask(y_true, pos_label).astype(np.float64)
    if weight is not None:  # a sample of weight 0 must not add a point to the curve
        keep = weight != 0
        positive, y_score, weight = positive[keep], y_score[keep], weight[keep]

    order = np.argsort(y_score, kind="stable")[::-1]  # highest score first
    y_score, positive = y_score[order], positive[order]
    # The last index of each run of equal scores, and the very last sample.
    last = np.flatnonzero(np.diff(y_score))
    last = np.append(last, y_score.size - 1)
    if weight is None:
        tps = np.cumsum(positive)[last]
        fps = 1.0 + last - tps  # everything at or above the threshold that is not positive
    else:
        weight = weight[order].astype(np.float64)
        tps = np.cumsum(positive * weight)[last]
        fps = np.cumsum((1.0 - positive) * weight)[last]
    return fps, tps, y_score[last]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    """fpr, tpr and thresholds of the ROC curve (ROC 曲线), as scikit-learn returns them.

    The first threshold is +inf (nothing is positive: the point (0, 0)). With
    drop_intermediate, points on a straight segment are dropped: the curve looks the same.
    """
    fps, tps, thresholds = counts_at_thresholds(
        y_true, y_score, pos_label=pos_label, sample_weight=sample_weight)
    if drop_intermediate and fps.size > 2:
        # Keep a point only where the curve bends (a change in either slope).
        bends = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.concatenate([[True], bends, [True]]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.concatenate([[0.0], fps])
    tps = np.concatenate([[0.0], tps])
    thresholds = np.concatenate([[np.inf], thresholds])
    fpr = to_rate(fps, "negative", "false positive rate")
    tpr = to_rate(tps, "positive", "true positive rate")
    return fpr, tpr, thresholds


def to_rate(counts: np.ndarray, kind: str, rate: str) -> np.ndarray:
    """Cumulative counts as a fraction of the last (the total); NaN, with a warning, when
    there are no samples of that kind (weights can zero them all out)."""
    if counts[-1] <= 0:
        warnings.warn(
            f"y_true has no {kind} samples, so the {rate} is undefined (set to NaN)",
            UndefinedMetricWarning, stacklevel=3,
        )
        return np.full(counts.shape, np.nan)
    return counts / counts[-1]


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
                           drop_intermediate=False):
    """precision, recall and thresholds, recall decreasing, ending at (recall 0, precision 1),
    as scikit-learn returns them (thresholds increasing, one fewer than the points)."""
    fps, tps, thresholds = counts_at_thresholds(
        y_true, y_score, pos_label=pos_label, sample_weight=sample_weight)
    if drop_intermediate and fps.size > 2:
        # Keep a point only where recall changes on one side of it.
        changes = np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:]))
        keep = np.flatnonzero(np.concatenate([[True], changes, [True]]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    called = tps + fps
    precision = np.divide(tps, called, out=np.zeros_like(tps), where=called != 0)
    if tps[-1] == 0:
        warnings.warn(
            "y_true has no positive samples, so recall is undefined; it is set to 1 for "
            "every threshold", UserWarning, stacklevel=2,
        )
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return (np.concatenate([precision[::-1], [1.0]]), np.concatenate([recall[::-1], [0.0]]),
            thresholds[::-1])


def auc(x, y) -> float:
    """The area under a curve given by points, with the trapezoidal rule (x monotonic)."""
    x = as_scores(x, "x", len(to_numpy(x, "x")), reference="x")
    y = as_scores(y, "y", x.size, reference="x")
    if x.size < 2:
        raise ValueError(f"auc needs at least 2 points, got {x.size}")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError("x must be increasing or decreasing to measure an area under y")
        direction = -1.0
    return float(direction * np.trapezoid(y, x))
