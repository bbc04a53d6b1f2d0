"""The confusion matrix (混淆矩阵), and the two metrics read straight off it: accuracy
(准确率) and balanced accuracy. Same signatures and outputs as scikit-learn's."""

import warnings

import numpy as np

from mmkit.checks import check_choice
from mmkit.metrics.inputs import (
    as_labels,
    as_weights,
    encode,
    to_numpy,
    unique_labels,
)


def _pair(y_true, y_pred, sample_weight):
    y_true = as_labels(y_true, "y_true")
    y_pred = as_labels(y_pred, "y_pred", n=y_true.size)
    return y_true, y_pred, as_weights(sample_weight, y_true.size)


def count_matrix(true_index, pred_index, k: int, weight=None) -> np.ndarray:
    """(k, k) counts: row = true class index, column = predicted class index. Pairs with an
    index >= k (a label outside the chosen ones) are left out."""
    keep = (true_index < k) & (pred_index < k)
    cells = true_index[keep] * k + pred_index[keep]
    if weight is None:
        return np.bincount(cells, minlength=k * k).reshape(k, k).astype(np.int64)
    counts = np.bincount(cells, weights=weight[keep], minlength=k * k).reshape(k, k)
    return counts.astype(np.int64) if weight.dtype.kind in "biu" else counts


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """C[i, j] = how many samples of true class labels[i] were predicted as labels[j].

    labels: the classes and their order (default: every label in y_true or y_pred, sorted).
    normalize: None (counts), "true" (each row sums to 1: the recall of each class on the
    diagonal), "pred" (each column sums to 1: precision on the diagonal) or "all".
    """
    check_choice(normalize, "normalize", (None, "true", "pred", "all"))
    y_true, y_pred, weight = _pair(y_true, y_pred, sample_weight)
    if labels is None:
        classes = unique_labels(y_true, y_pred)
    else:
        classes = to_numpy(labels, "labels")
        if classes.ndim != 1 or classes.size == 0:
            raise ValueError(f"labels must be a non-empty 1-D list, got shape {classes.shape}")
        if not np.isin(y_true, classes).any():
            raise ValueError(
                f"none of labels {classes.tolist()} occurs in y_true; at least one must"
            )
    # Index every label by its position in `classes`, which need not be sorted.
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]
    to_position = np.append(order, len(classes))  # "not a chosen label" stays out of range
    k = len(classes)
    cm = count_matrix(to_position[encode(y_true, sorted_classes)],
                      to_position[encode(y_pred, sorted_classes)], k, weight)
    if normalize is not None:
        with np.errstate(all="ignore"):
            total = {"true": cm.sum(axis=1, keepdims=True),
                     "pred": cm.sum(axis=0, keepdims=True), "all": cm.sum()}[normalize]
            cm = np.nan_to_num(cm / total)  # a class with no samples gets a row of zeros
    if cm.shape == (1, 1):
        warnings.warn(
            "only one label was found in y_true and y_pred, so the confusion matrix is "
            "1x1; pass labels=[...] with every class to get the full matrix",
            UserWarning, stacklevel=2,
        )
    return cm


def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None) -> float:
    """The fraction of samples predicted right (normalize=False: how many, weighted)."""
    y_true, y_pred, weight = _pair(y_true, y_pred, sample_weight)
    unique_labels(y_true, y_pred)  # rejects a mix of string and number labels
    right = y_true == y_pred
    if weight is None:
        return float(right.mean() if normalize else right.sum())
    return float(np.average(right, weights=weight) if normalize else np.dot(right, weight))


def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None, adjusted=False) -> float:
    """The mean of each class's recall: every class counts the same, however rare.

    adjusted=True rescales so that chance scores 0 and perfect scores 1.
    """
    cm = confusion_matrix(y_true, y_pred, sample_weight=sample_weight)
    with np.errstate(all="ignore"):
        per_class = np.diag(cm) / cm.sum(axis=1)
    if np.isnan(per_class).any():
        warnings.warn("y_pred contains classes not in y_true; they are left out of the mean",
                      UserWarning, stacklevel=2)
        per_class = per_class[~np.isnan(per_class)]
    score = per_class.mean()
    if adjusted:
        chance = 1 / len(per_class)
        score = (score - chance) / (1 - chance)
    return float(score)
