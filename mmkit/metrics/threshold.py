"""What one decision threshold does to a binary classifier's scores: the counts and every
rate derived from them, at that threshold."""

import numpy as np

from mmkit.checks import check_real
from mmkit.metrics.inputs import as_labels, as_scores


def threshold_metrics(y_true, y_score, threshold: float) -> dict:
    """Predict positive where score >= threshold (scikit-learn's convention in roc_curve),
    count tp, fp, tn, fn and derive the rates from the counts.

    y_true: (N,) 0/1 labels; y_score: (N,) scores, higher = more positive.
    Returns tp, fp, tn, fn, "confusion" [[tn, fp], [fn, tp]] (rows true 0/1, columns
    predicted), precision, recall (= tpr), fpr, f1 and accuracy. A rate whose denominator
    is 0 is 0 (scikit-learn's zero_division=0).
    """
    y = as_labels(y_true, "y_true")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y_true must hold 0 and 1 only, got the values "
                         f"{sorted(set(y.tolist()))[:6]}")
    scores = as_scores(y_score, "y_score", len(y))
    threshold = check_real(threshold, "threshold")
    y = y == 1
    predicted = scores >= threshold
    tp, fp = int(np.sum(predicted & y)), int(np.sum(predicted & ~y))
    fn, tn = int(np.sum(~predicted & y)), int(np.sum(~predicted & ~y))

    def ratio(a, b):
        return a / b if b else 0.0

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn,
            "confusion": np.array([[tn, fp], [fn, tp]]),
            "precision": precision, "recall": recall, "tpr": recall, "fpr": ratio(fp, fp + tn),
            "f1": ratio(2 * precision * recall, precision + recall),
            "accuracy": (tp + tn) / len(y)}
