"""How sure is a metric? Confidence intervals (置信区间).

bootstrap_ci: a test set is one sample of the world. Draw n samples from it *with
replacement*, many times; compute the metric on each draw; the spread of those values says
how much the metric would move on another test set of the same size. The middle 95 % of
them is the 95 % percentile interval. Works for any metric.

wilson_interval: for a proportion (an accuracy, a share of "agree"), a formula with no
random draws, trustworthy even for a handful of samples.
"""

import math
import statistics
import warnings
from typing import NamedTuple

import numpy as np

from mmkit.metrics.inputs import to_numpy


class ConfidenceInterval(NamedTuple):
    estimate: float  # the metric on the whole data
    low: float
    high: float
    confidence: float

    def __str__(self) -> str:
        return (f"{self.estimate:.3f} ({100 * self.confidence:.0f}% CI "
                f"{self.low:.3f}-{self.high:.3f})")


def bootstrap_ci(metric, y_true, y_other, *, n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0, **metric_kwargs) -> ConfidenceInterval:
    """The metric and a percentile bootstrap interval for it.

    metric: any function metric(y_true, y_other, **metric_kwargs) -> float, e.g.
        mmkit.metrics.f1_score with y_pred, or roc_auc_score with scores.
    y_other: predictions or scores, one row per sample (1-D or 2-D).
    Resamples where the metric is undefined (NaN, e.g. AUC of a draw with one class) are
    left out; if more than half are, the interval means little and this raises.
    """
    if not callable(metric):
        raise TypeError(f"metric must be a function like f1_score, got {type(metric).__name__}")
    if not isinstance(n_resamples, int) or n_resamples < 10:
        raise ValueError(f"n_resamples must be an int >= 10, got {n_resamples!r}")
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    y_true = to_numpy(y_true, "y_true")
    y_other = to_numpy(y_other, "y_other")
    if len(y_true) != len(y_other):
        raise ValueError(
            f"y_true has {len(y_true)} samples but y_other has {len(y_other)}: "
            "they must hold one value per sample, in the same order"
        )
    if len(y_true) < 2:
        raise ValueError(f"a bootstrap needs at least 2 samples, got {len(y_true)}")
    estimate = float(metric(y_true, y_other, **metric_kwargs))

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(y_true), size=(n_resamples, len(y_true)))
    values = np.empty(n_resamples)
    with warnings.catch_warnings():  # an undefined draw is counted below, not warned about
        warnings.simplefilter("ignore")
        for i, draw in enumerate(draws):
            values[i] = metric(y_true[draw], y_other[draw], **metric_kwargs)
    values = values[~np.isnan(values)]
    if len(values) < n_resamples / 2:
        raise ValueError(
            f"the metric was undefined on {n_resamples - len(values)} of {n_resamples} "
            "resamples (e.g. a draw with only one class); use more samples or another metric"
        )
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return ConfidenceInterval(estimate, float(low), float(high), float(confidence))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``.

    Why not the bootstrap here: a learner rates a handful of predictions, and the percentile
    bootstrap of a proportion from a small sample is too narrow and degenerate at the edges
    (5 agreements out of 5 resample to exactly 1.0 every time: the interval [1, 1]). Wilson's
    interval is exact arithmetic, needs no random resamples, stays inside [0, 1] and keeps
    close to its nominal coverage even for n = 5. With n = 0 it is the whole of [0, 1].
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    if isinstance(successes, bool) or not isinstance(successes, int) or not 0 <= successes <= n:
        raise ValueError(f"successes must be an int in [0, n={n}], got {successes!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
            or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
    if n == 0:
        return 0.0, 1.0
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
