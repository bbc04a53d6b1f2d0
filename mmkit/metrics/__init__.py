"""Metrics (评估指标), written from scratch with scikit-learn's names, signatures and outputs.

Each takes lists, numpy arrays or torch tensors, and returns what scikit-learn returns
(floats, numpy arrays), so a learner can switch between the two libraries freely. The tests
check every function against scikit-learn (or SciPy) on random and edge-case inputs.

    confusion.py         confusion_matrix, accuracy_score, balanced_accuracy_score
    precision_recall.py  precision_score, recall_score, f1_score, fbeta_score, ...
    curves.py            roc_curve, precision_recall_curve, auc
    areas.py             roc_auc_score, average_precision_score
    bootstrap.py         bootstrap_ci (any metric), wilson_interval (a proportion)
    calibration.py       calibration_curve, expected_calibration_error, fit_temperature
    agreement.py         cohen_kappa_score (raters), mcnemar_test (two models, paired)
    threshold.py         threshold_metrics: the counts and rates at one threshold
    retrieval.py         recall_at_k, median_rank, retrieval_ranks (no scikit-learn
                         counterpart: checked against its top_k_accuracy_score and a sort)
    text_generation.py   bleu (= sacreBLEU's corpus BLEU), cider (= pycocoevalcap's CIDEr-D)
    hallucination.py     chair (captions), pope (yes/no probes), against a scene's truth
"""

from mmkit.metrics.agreement import McNemarResult, cohen_kappa_score, mcnemar_test
from mmkit.metrics.areas import average_precision_score, roc_auc_score
from mmkit.metrics.bootstrap import ConfidenceInterval, bootstrap_ci, wilson_interval
from mmkit.metrics.calibration import (
    calibration_curve,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
)
from mmkit.metrics.confusion import accuracy_score, balanced_accuracy_score, confusion_matrix
from mmkit.metrics.curves import auc, precision_recall_curve, roc_curve
from mmkit.metrics.hallucination import chair, object_mentions, pope
from mmkit.metrics.inputs import UndefinedMetricWarning
from mmkit.metrics.precision_recall import (
    f1_score,
    fbeta_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from mmkit.metrics.retrieval import median_rank, recall_at_k, retrieval_ranks
from mmkit.metrics.text_generation import bleu, cider
from mmkit.metrics.threshold import threshold_metrics

__all__ = [
    "ConfidenceInterval",
    "McNemarResult",
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "average_precision_score",
    "balanced_accuracy_score",
    "bleu",
    "bootstrap_ci",
    "calibration_curve",
    "chair",
    "cider",
    "cohen_kappa_score",
    "confusion_matrix",
    "expected_calibration_error",
    "f1_score",
    "fbeta_score",
    "fit_temperature",
    "mcnemar_test",
    "median_rank",
    "negative_log_likelihood",
    "object_mentions",
    "pope",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_at_k",
    "recall_score",
    "reliability_bins",
    "retrieval_ranks",
    "roc_auc_score",
    "roc_curve",
    "threshold_metrics",
    "wilson_interval",
]
