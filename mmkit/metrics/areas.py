"""One number for a whole curve: the area under the ROC curve (AUC) and average precision.

AUC is the chance that a random positive sample scores higher than a random negative one
(ties count one half): 0.5 is guessing, 1.0 a perfect ranking. It does not depend on any
threshold. Average precision summarises the precision-recall curve the same way, and,
unlike AUC, it drops when positives are rare and the model ranks many negatives first.

Several classes: one-vs-rest (one class against all others), then averaged - "macro" (plain
mean), "weighted" (by each class's count), "micro" (all class-sample pairs pooled) - as in
scikit-learn.
"""

import warnings

import numpy as np

from mmkit.checks import check_choice
from mmkit.metrics.curves import (
    counts_at_thresholds,
    precision_recall_curve,
    roc_curve,
    to_rate,
)
from mmkit.metrics.inputs import (
    UndefinedMetricWarning,
    as_labels,
    as_scores,
    as_weights,
    encode,
    to_numpy,
    unique_labels,
)


def _binary_auc(positive, y_score, sample_weight=None, max_fpr=None) -> float:
    """AUC of one class (``positive``: a bool mask) against the rest."""
    if positive.all() or not positive.any():
        warnings.warn(
            "only one class is present in y_true, so the ROC AUC is undefined (NaN): "
            "it needs positive and negative samples to compare",
            UndefinedMetricWarning, stacklevel=3,
        )
        return float("nan")
    if max_fpr is None or max_fpr == 1:
        # Every distinct threshold, no points dropped: the same area, and one pass less.
        fps, tps, _ = counts_at_thresholds(positive, y_score, sample_weight=sample_weight)
        fpr = to_rate(np.concatenate([[0.0], fps]), "negative", "false positive rate")
        tpr = to_rate(np.concatenate([[0.0], tps]), "positive", "true positive rate")
        return float(np.trapezoid(tpr, fpr))
    # The standardised partial AUC up to max_fpr (McClish correction): 0.5 for a random
    # ranking, 1 for a perfect one, like the full AUC.
    fpr, tpr, _ = roc_curve(positive, y_score, sample_weight=sample_weight)
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr = np.append(tpr[:stop], np.interp(max_fpr, fpr[stop - 1:stop + 1], tpr[stop - 1:stop + 1]))
    fpr = np.append(fpr[:stop], max_fpr)
    partial = np.trapezoid(tpr, fpr)
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    return float(0.5 * (1 + (partial - min_area) / (max_area - min_area)))


def _binary_average_precision(positive, y_score, sample_weight=None) -> float:
    """Sum over thresholds of (increase in recall) x precision: no interpolation."""
    precision, recall, _ = precision_recall_curve(positive, y_score, sample_weight=sample_weight)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _one_vs_rest(metric, onehot, y_score, average, sample_weight):
    """Apply a binary metric to each column of a one-hot target and average."""
    if average == "micro":
        weight = None if sample_weight is None else np.repeat(sample_weight, onehot.shape[1])
        return metric(onehot.ravel(), y_score.ravel(), sample_weight=weight)
    if average == "samples":  # one score per sample, across its classes
        scores = np.array([metric(onehot[i], y_score[i]) for i in range(len(onehot))])
        return float(np.average(scores, weights=sample_weight))
    scores = np.array([metric(onehot[:, c], y_score[:, c], sample_weight=sample_weight)
                       for c in range(onehot.shape[1])])
    if average is None:
        return scores
    weights = None
    if average == "weighted":
        weights = onehot.sum(axis=0) if sample_weight is None else sample_weight @ onehot
        if np.isclose(weights.sum(), 0):
            return 0
        scores[weights == 0] = 0  # a class with no weight must not spread its NaN
    return float(np.average(scores, weights=weights))


def _classes_for_scores(y_true, y_score, labels):
    """The classes that index the columns of y_score, checked."""
    if labels is None:
        classes = unique_labels(y_true)
        if len(classes) != y_score.shape[1]:
            raise ValueError(
                f"y_score has {y_score.shape[1]} columns but y_true holds {len(classes)} "
                f"classes {classes.tolist()[:10]}; pass labels=[...] naming the class of "
                "each column"
            )
        return classes
    classes = to_numpy(labels, "labels")
    if len(np.unique(classes)) != len(classes):
        raise ValueError(f"labels must not repeat a class, got {classes.tolist()}")
    if not np.array_equal(np.sort(classes), classes):
        raise ValueError(f"labels must be sorted, got {classes.tolist()}")
    if len(classes) != y_score.shape[1]:
        raise ValueError(
            f"labels names {len(classes)} classes but y_score has {y_score.shape[1]} columns"
        )
    if not np.isin(y_true, classes).all():
        raise ValueError("y_true holds labels that are not in labels")
    return classes


def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None,
                  multi_class="raise", labels=None) -> float:
    """Area under the ROC curve (AUC).

    Two classes: y_score (n,) is the score of the greater label (predict_proba[:, 1]).
    More classes: y_score (n, n_classes) of probabilities that sum to 1 per row, and
    multi_class="ovr" (one-vs-rest), averaged by ``average`` ("macro", "weighted",
    "micro" or None for one AUC per class).
    """
    check_choice(average, "average", ("micro", "macro", "samples", "weighted", None))
    check_choice(multi_class, "multi_class", ("raise", "ovr", "ovo"))
    y_true = as_labels(y_true, "y_true")
    y_score = as_scores(y_score, "y_score", y_true.size, ndim=(1, 2))
    if max_fpr is not None and not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr!r}")
    classes = unique_labels(y_true)

    if len(classes) > 2 or (y_score.ndim == 2 and y_score.shape[1] > 2):
        if max_fpr not in (None, 1):
            raise ValueError("max_fpr (partial AUC) is only defined for two classes")
        if multi_class == "raise":
            raise ValueError(
                "y_true has more than two classes: pass multi_class='ovr' to average "
                "one-vs-rest AUCs"
            )
        if multi_class == "ovo":
            raise ValueError(
                "multi_class='ovo' is not implemented in mmkit; use multi_class='ovr', "
                "or sklearn.metrics.roc_auc_score for one-vs-one"
            )
        check_choice(average, "average for several classes", ("micro", "macro", "weighted", None))
        if y_score.ndim != 2:
            raise ValueError(
                f"y_true has {len(classes)} classes, so y_score must be (n_samples, "
                f"n_classes) probabilities, got shape {y_score.shape}"
            )
        classes = _classes_for_scores(y_true, y_score, labels)
        weight = as_weights(sample_weight, y_true.size)
        if not np.allclose(1, y_score.sum(axis=1)):
            raise ValueError(
                "y_score rows must be probabilities that sum to 1 (apply softmax to logits)"
            )
        onehot = encode(y_true, classes)[:, None] == np.arange(len(classes))
        return _one_vs_rest(_binary_auc, onehot, y_score, average, weight)

    if y_score.ndim != 1:
        raise ValueError(
            f"y_true has two classes, so y_score must be 1-D (the score of the class "
            f"{classes[-1]!r}, e.g. probabilities[:, 1]), got shape {y_score.shape}"
        )
    positive = y_true == classes[-1]
    if len(classes) == 1:  # undefined, whatever the weights: say so before checking them
        return _binary_auc(positive, y_score)
    return _binary_auc(positive, y_score, as_weights(sample_weight, y_true.size), max_fpr)


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1,
                            sample_weight=None) -> float:
    """Average precision (AP): the precision-recall curve in one number.

    Two classes: y_score (n,) is the score of ``pos_label``. More classes: y_score
    (n, n_classes), one-vs-rest, averaged by ``average``.
    """
    check_choice(average, "average", ("micro", "macro", "samples", "weighted", None))
    y_true = as_labels(y_true, "y_true")
    y_score = as_scores(y_score, "y_score", y_true.size, ndim=(1, 2))
    weight = as_weights(sample_weight, y_true.size)
    classes = unique_labels(y_true)
    if len(classes) <= 2:
        if len(classes) == 2 and pos_label not in classes.tolist():
            raise ValueError(
                f"pos_label={pos_label!r} is not one of the labels {classes.tolist()}"
            )
        if y_score.ndim != 1:
            raise ValueError(
                f"for two classes y_score must be 1-D (the score of pos_label), "
                f"got shape {y_score.shape}"
            )
        return _binary_average_precision(y_true == pos_label, y_score, weight)
    if pos_label != 1:
        raise ValueError("pos_label is fixed to 1 for several classes; leave it out")
    if y_score.shape != (y_true.size, len(classes)):
        raise ValueError(
            f"y_true has {len(classes)} classes, so y_score must have shape "
            f"({y_true.size}, {len(classes)}), got {y_score.shape}"
        )
    onehot = encode(y_true, classes)[:, None] == np.arange(len(classes))
    return _one_vs_rest(_binary_average_precision, onehot, y_score, average, weight)
