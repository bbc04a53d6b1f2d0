"""Precision (精确率), recall (召回率) and F1 for each class, and their averages.

For one class c, counted over the samples:
    tp = predicted c and truly c;   fp = predicted c, truly not;   fn = truly c, missed.
    precision = tp / (tp + fp)   - of what we called c, how much was c?
    recall    = tp / (tp + fn)   - of what was c, how much did we find?
    F_beta    = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp)   (beta = 1: F1, their harmonic mean)
A ratio with 0 / 0 is undefined; ``zero_division`` says which value it takes.

Averages over classes (``average=``), as in scikit-learn:
    "binary"   - only the class ``pos_label`` (two-class problems);
    "macro"    - the plain mean over classes: a rare class counts as much as a common one;
    "weighted" - the mean weighted by each class's number of true samples (support);
    "micro"    - add up tp, fp, fn over all classes first, then divide once;
    None       - no average: one value per class.
"""

import warnings

import numpy as np

from mmkit.checks import check_choice
from mmkit.metrics.confusion import count_matrix
from mmkit.metrics.inputs import (
    UndefinedMetricWarning,
    as_labels,
    as_weights,
    encode,
    to_numpy,
    unique_labels,
    zero_division_value,
)

AVERAGES = ("binary", "micro", "macro", "weighted", None)


def _chosen_labels(y_true, y_pred, average, labels, pos_label):
    """The labels whose scores are computed, checked against the kind of problem."""
    present = unique_labels(y_true, y_pred)
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                f"average='binary' needs two classes, but y_true and y_pred hold "
                f"{len(present)} ({present.tolist()}); choose average='macro', 'micro', "
                "'weighted' or None"
            )
        if pos_label not in present.tolist() and len(present) == 2:
            raise ValueError(
                f"pos_label={pos_label!r} is not one of the labels {present.tolist()}; "
                "pass the label of the positive class"
            )
        return present, np.asarray([pos_label])
    if pos_label not in (None, 1):
        warnings.warn(
            f"pos_label={pos_label!r} is ignored when average={average!r}; to score one "
            "class only, pass labels=[that class]",
            UserWarning, stacklevel=3,
        )
    if labels is None:
        return present, present
    labels = to_numpy(labels, "labels")
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D list, got shape {labels.shape}")
    return present, labels


def _divide(numerator, denominator, metric, reason, zero_division, warn, average):
    """numerator / denominator, with ``zero_division`` where the denominator is 0."""
    zero = denominator == 0
    result = numerator / np.where(zero, 1, denominator)
    if zero.any():
        result[zero] = zero_division_value(zero_division)
        if warn and zero_division == "warn":
            where = "" if average == "binary" or len(result) == 1 else (
                f" for {zero.sum()} of {len(result)} labels")
            warnings.warn(
                f"{metric} is undefined{where} ({reason}), so it is set to 0.0. "
                "Pass zero_division=0.0, 1.0 or np.nan to choose the value yourself "
                "and silence this warning.",
                UndefinedMetricWarning, stacklevel=4,
            )
    return result


def _average(values, weights):
    """Mean over classes that skips NaN (zero_division=np.nan), like scikit-learn."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:
        return float(values[keep].mean())
    return float(np.average(values[keep], weights=weights[keep]))


def precision_recall_fscore_support(
    y_true, y_pred, *, beta=1.0, labels=None, pos_label=1, average=None,
    warn_for=("precision", "recall", "f-score"), sample_weight=None, zero_division="warn",
):
    """Precision, recall, F-beta and support (true samples per class) in one pass.

    Returns arrays (one value per label) when average is None, else three floats and None.
    """
    check_choice(average, "average", AVERAGES)
    zero_division_value(zero_division)  # check it before any work
    if not isinstance(beta, (int, float)) or beta < 0:
        raise ValueError(f"beta must be a number >= 0, got {beta!r}")
    y_true = as_labels(y_true, "y_true")
    y_pred = as_labels(y_pred, "y_pred", n=y_true.size)
    weight = as_weights(sample_weight, y_true.size)
    present, chosen = _chosen_labels(y_true, y_pred, average, labels, pos_label)

    # One confusion matrix over the labels seen, then read off the chosen labels' counts;
    # a chosen label that never occurs has zero counts.
    k = len(present)
    cm = count_matrix(encode(y_true, present), encode(y_pred, present), k, weight)
    position = {label: i for i, label in enumerate(present.tolist())}
    rows = np.array([position.get(label, k) for label in chosen.tolist()])
    padded = np.zeros((k + 1, k + 1), dtype=np.float64)
    padded[:k, :k] = cm
    tp = np.diag(padded)[rows]
    predicted = padded.sum(axis=0)[rows]  # tp + fp
    true = padded.sum(axis=1)[rows]  # tp + fn: the support
    if average == "micro":
        tp, predicted, true = tp.sum(keepdims=True), predicted.sum(keepdims=True), \
            true.sum(keepdims=True)

    precision = _divide(tp, predicted, "precision", "no sample was predicted as the label",
                        zero_division, "precision" in warn_for, average)
    recall = _divide(tp, true, "recall", "no sample truly has the label",
                     zero_division, "recall" in warn_for, average)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        b2 = beta**2
        f_score = _divide((1 + b2) * tp, b2 * true + predicted, "F-score",
                          "the label is neither true nor predicted for any sample",
                          zero_division, "f-score" in warn_for, average)
    if average is None:
        support = true.astype(np.int64) if weight is None or weight.dtype.kind in "biu" \
            else true
        return precision, recall, f_score, support
    weights = true if average == "weighted" else None
    return _average(precision, weights), _average(recall, weights), \
        _average(f_score, weights), None


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                    sample_weight=None, zero_division="warn"):
    """tp / (tp + fp): of the samples called positive, the fraction that were."""
    return precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("precision",), sample_weight=sample_weight, zero_division=zero_division,
    )[0]


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                 sample_weight=None, zero_division="warn"):
    """tp / (tp + fn): of the truly positive samples, the fraction found."""
    return precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("recall",), sample_weight=sample_weight, zero_division=zero_division,
    )[1]


def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary",
                sample_weight=None, zero_division="warn"):
    """F-beta: recall counts beta times as much as precision."""
    return precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average,
        warn_for=("f-score",), sample_weight=sample_weight, zero_division=zero_division,
    )[2]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
             sample_weight=None, zero_division="warn"):
    """2 tp / (2 tp + fp + fn): the harmonic mean of precision and recall."""
    return fbeta_score(y_true, y_pred, beta=1, labels=labels, pos_label=pos_label,
                       average=average, sample_weight=sample_weight,
                       zero_division=zero_division)
