"""Calibration, rater agreement, McNemar and Wilson against scikit-learn and SciPy."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from scipy import optimize, stats
from sklearn.calibration import calibration_curve as sk_calibration_curve

from mmkit import metrics


@pytest.mark.parametrize("seed", range(40))
def test_calibration_curve_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    y = rng.integers(0, 2, n)
    if seed % 4 == 0:  # probabilities exactly on bin edges, and at 0 and 1
        p = rng.choice([0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0], n)
    else:
        p = rng.random(n).round(int(rng.integers(1, 4)))
    n_bins = int(rng.integers(1, 12))
    strategy = "quantile" if seed % 3 == 0 else "uniform"
    ours = metrics.calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    theirs = sk_calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_calibration_curve_pos_label_and_strings():
    y = np.array(["cat", "dog", "dog", "cat", "dog"])
    p = np.array([0.1, 0.9, 0.7, 0.3, 0.2])
    for a, b in zip(metrics.calibration_curve(y, p, pos_label="dog", n_bins=3),
                    sk_calibration_curve(y, p, pos_label="dog", n_bins=3), strict=True):
        np.testing.assert_allclose(a, b)


def _naive_ece(y, prob, n_bins):
    """A loop over the bins, written apart from the kit: (lo, hi] bins, the first [0, hi]."""
    confidence, predicted = prob.max(axis=1), prob.argmax(axis=1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (confidence > lo) & (confidence <= hi) if b else confidence <= hi
        if inside.any():
            gap = abs((predicted[inside] == y[inside]).mean() - confidence[inside].mean())
            total += inside.mean() * gap
    return total


@pytest.mark.parametrize("seed", range(20))
def test_expected_calibration_error_equals_a_plain_loop(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 400)), int(rng.integers(2, 6))
    logits = rng.normal(size=(n, k)) * rng.uniform(0.5, 4)
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = rng.integers(0, k, n)
    n_bins = int(rng.integers(1, 16))
    assert metrics.expected_calibration_error(y, prob, n_bins=n_bins) == pytest.approx(
        _naive_ece(y, prob, n_bins), abs=1e-12)


def test_ece_is_near_zero_when_calibrated_and_exact_for_a_constant():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 200_000)
    right = rng.random(200_000) < confidence  # right exactly as often as it says
    prob = np.stack([confidence, 1 - confidence], axis=1)
    y = np.where(right, 0, 1)
    assert metrics.expected_calibration_error(y, prob, n_bins=10) < 0.01
    y = np.array([0] * 6 + [1] * 4)  # always 0.9 sure of class 0, right 60 % of the time
    prob = np.tile([0.9, 0.1], (10, 1))
    assert metrics.expected_calibration_error(y, prob) == pytest.approx(0.3)
    # a binary (N,) probability of class 1 is the same as its two columns
    p1 = rng.random(50)
    y1 = rng.integers(0, 2, 50)
    assert metrics.expected_calibration_error(y1, p1) == pytest.approx(
        metrics.expected_calibration_error(y1, np.stack([1 - p1, p1], 1)))


@pytest.mark.parametrize("seed", range(10))
def test_fit_temperature_equals_scipy_on_sklearn_log_loss(seed):
    rng = np.random.default_rng(seed)
    n, k = 300, int(rng.integers(2, 8))
    z = rng.normal(size=(n, k)) * 2
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in p])  # drawn from softmax(z): T = 1 is right
    scale = rng.uniform(0.3, 4.0)
    logits = z * scale  # over- (scale > 1) or under-confident

    def log_loss(t):
        q = np.exp(logits / t - (logits / t).max(1, keepdims=True))
        return skm.log_loss(y, q / q.sum(1, keepdims=True), labels=np.arange(k))

    found = optimize.minimize_scalar(log_loss, bounds=(0.01, 100), method="bounded",
                                     options={"xatol": 1e-10})
    ours = metrics.fit_temperature(logits, y)
    assert ours == pytest.approx(found.x, rel=1e-4)
    assert metrics.negative_log_likelihood(logits, y, ours) == pytest.approx(log_loss(ours), rel=1e-9)
    assert metrics.negative_log_likelihood(logits, y, ours) <= log_loss(1.0) + 1e-12
    assert 0.5 * scale < ours < 2 * scale  # it undoes most of the distortion


def test_temperature_keeps_the_predicted_class():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(100, 4)) * 5
    y = rng.integers(0, 4, 100)
    t = metrics.fit_temperature(logits, y)
    assert t > 1  # random labels: the confident logits are overconfident
    assert ((logits / t).argmax(1) == logits.argmax(1)).all()


@pytest.mark.parametrize("seed", range(30))
def test_cohen_kappa_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(2, 200)), int(rng.integers(2, 6))
    y1 = rng.integers(0, k, n)
    y2 = np.where(rng.random(n) < 0.6, y1, rng.integers(0, k, n))
    weights = [None, "linear", "quadratic"][seed % 3]
    sample_weight = rng.uniform(0.1, 2, n) if seed % 4 == 0 else None
    labels = np.arange(k) if seed % 5 == 0 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = skm.cohen_kappa_score(y1, y2, weights=weights, sample_weight=sample_weight,
                                       labels=labels)
        ours = metrics.cohen_kappa_score(y1, y2, weights=weights, sample_weight=sample_weight,
                                         labels=labels)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_cohen_kappa_undefined_and_strings():
    assert metrics.cohen_kappa_score(["a", "b", "a"], ["a", "b", "b"]) == pytest.approx(
        skm.cohen_kappa_score(["a", "b", "a"], ["a", "b", "b"]))
    with pytest.warns(metrics.UndefinedMetricWarning, match="only one label"):
        assert np.isnan(metrics.cohen_kappa_score([1, 1, 1], [1, 1, 1]))


@pytest.mark.parametrize("seed", range(40))
def test_mcnemar_equals_scipy_binomtest(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    a = rng.random(n) < rng.uniform(0.3, 0.9)
    b = np.where(rng.random(n) < rng.uniform(0, 1), a, rng.random(n) < 0.7)
    result = metrics.mcnemar_test(a, b)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    assert (result.only_a, result.only_b) == (only_a, only_b)
    expected = stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue \
        if only_a + only_b else 1.0
    assert result.p_value == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_mcnemar_edge_cases_and_errors():
    assert metrics.mcnemar_test([1, 0, 1], [1, 0, 1]).p_value == 1.0  # no disagreement
    assert metrics.mcnemar_test([1, 0], [0, 1]).p_value == 1.0  # one each way
    assert metrics.mcnemar_test([1] * 10, [0] * 10).p_value == pytest.approx(2 / 2**10)
    with pytest.raises(ValueError, match="correct_a has 3 samples but correct_b has 2"):
        metrics.mcnemar_test([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="correct_b must hold True/False"):
        metrics.mcnemar_test([1, 0], [2, 0])


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_wilson_equals_scipy(confidence):
    for n in (1, 2, 5, 13, 40, 200):
        for k in range(n + 1):
            ours = metrics.wilson_interval(k, n, confidence)
            ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
            np.testing.assert_allclose(ours, (ci.low, ci.high), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: metrics.calibration_curve([0, 1], [0.2, 1.3]), ValueError, r"probabilities in \[0, 1\]"),
    (lambda: metrics.calibration_curve([0, 1, 2], [0.2, 0.3, 0.1]), ValueError, "binary labels"),
    (lambda: metrics.calibration_curve([0, 1], [0.2]), ValueError, "y_prob has 1 values"),
    (lambda: metrics.expected_calibration_error([0, 1], [[0.5, 0.6], [0.5, 0.5]]), ValueError,
     "must sum to 1"),
    (lambda: metrics.expected_calibration_error([0, 3], [[0.5, 0.5], [0.5, 0.5]]), ValueError,
     r"class indices 0\.\.1"),
    (lambda: metrics.expected_calibration_error([0, 1], [0.5, 0.5], n_bins=0), ValueError,
     "n_bins must be >= 1"),
    (lambda: metrics.fit_temperature([[1.0, 2.0]], [2]), ValueError, r"class indices 0\.\.1"),
    (lambda: metrics.fit_temperature([1.0, 2.0], [0, 1]), ValueError, "logits must be 2-D"),
    (lambda: metrics.negative_log_likelihood([[1.0, 2.0]], [0], 0.0), ValueError,
     "temperature must be > 0"),
    (lambda: metrics.cohen_kappa_score([0, 1], [0, 1], weights="cubic"), ValueError, "weights"),
])
def test_bad_inputs_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
