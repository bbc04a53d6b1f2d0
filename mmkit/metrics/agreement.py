"""Agreement between raters, and between two models judged on the same samples.

    cohen_kappa_score   how much two raters agree beyond what chance would give them
                        (scikit-learn's signature and values)
    mcnemar_test        are two models (or two conditions) really different, judged on the
                        same samples? The exact test on the samples where they disagree

Both are for evaluation by people (基于用户反馈的评估): ratings are subjective, so first
measure whether raters agree at all, then test a difference before believing it.
"""

import math
import warnings
from typing import NamedTuple

import numpy as np

from mmkit.checks import check_choice
from mmkit.metrics.confusion import confusion_matrix
from mmkit.metrics.inputs import UndefinedMetricWarning, as_labels, to_numpy


def cohen_kappa_score(y1, y2, *, labels=None, weights=None, sample_weight=None,
                      replace_undefined_by=np.nan) -> float:
    """Cohen's kappa: κ = (p_o − p_e) / (1 − p_e).

    p_o: how often the two raters give the same label; p_e: how often they would if each
    kept their own label frequencies but rated independently (Σ_k p1_k · p2_k). κ = 1 is
    full agreement, 0 no more than chance, below 0 less.
    weights: None, "linear" or "quadratic" — for ordered labels, a disagreement of two
    steps counts 2 (or 4) times one of one step. Undefined when p_e = 1 (both raters always
    say the same single label): ``replace_undefined_by``, with a warning, as scikit-learn.
    """
    check_choice(weights, "weights", (None, "linear", "quadratic"))
    y1 = as_labels(y1, "y1")
    y2 = as_labels(y2, "y2", n=y1.size, reference="y1")
    with warnings.catch_warnings():  # one shared label: the warning below says what it means
        warnings.filterwarnings("ignore", message="only one label was found")
        confusion = confusion_matrix(y1, y2, labels=labels, sample_weight=sample_weight)
    confusion = np.atleast_2d(confusion).astype(np.float64)
    k = confusion.shape[0]
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / confusion.sum()
    steps = np.abs(np.arange(k)[:, None] - np.arange(k)[None, :]).astype(np.float64)
    weight = {None: (steps > 0).astype(np.float64), "linear": steps, "quadratic": steps**2}[weights]
    observed_cost, expected_cost = np.sum(weight * confusion), np.sum(weight * expected)
    if expected_cost == 0:
        warnings.warn("the raters share only one label, so kappa is undefined (0 / 0); "
                      f"returning replace_undefined_by={replace_undefined_by}",
                      UndefinedMetricWarning, stacklevel=2)
        return replace_undefined_by
    return float(1 - observed_cost / expected_cost)


class McNemarResult(NamedTuple):
    only_a: int  # samples where A is right (or preferred) and B is not
    only_b: int  # samples where B is right and A is not
    p_value: float  # two-sided, exact

    def __str__(self) -> str:
        return (f"A alone right on {self.only_a}, B alone right on {self.only_b}: "
                f"p = {self.p_value:.3g} (exact McNemar test)")


def mcnemar_test(correct_a, correct_b) -> McNemarResult:
    """McNemar's exact test: do A and B differ, judged on the same samples?

    correct_a, correct_b: one bool per sample (right or wrong; or "rater agreed"). Samples
    where both are right or both wrong say nothing about which is better; on the n others,
    if A and B were equally good, "A alone right" would be a fair coin: Binomial(n, ½). The
    p-value is the chance of a split at least as lopsided as the one seen, either way:
    2 · P(X ≤ min(b, c)), at most 1 — exact integer arithmetic, no normal approximation.
    """
    a = to_numpy(correct_a, "correct_a")
    b = to_numpy(correct_b, "correct_b")
    for name, x in (("correct_a", a), ("correct_b", b)):
        if x.ndim != 1 or x.size == 0:
            raise ValueError(f"{name} must be 1-D and not empty (one verdict per sample), "
                             f"got shape {x.shape}")
        if x.dtype.kind not in "biu" or not np.isin(x, (0, 1)).all():
            raise ValueError(f"{name} must hold True/False (or 1/0) per sample")
    if a.size != b.size:
        raise ValueError(f"correct_a has {a.size} samples but correct_b has {b.size}: the "
                         "test pairs the two verdicts of each sample")
    a, b = a.astype(bool), b.astype(bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n, low = only_a + only_b, min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(low + 1))  # P(X <= low) * 2^n
    p_value = min(1.0, 2 * tail / 2**n) if n else 1.0
    return McNemarResult(only_a, only_b, float(p_value))
