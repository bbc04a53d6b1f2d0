"""mmkit.metrics against scikit-learn: same values (1e-12), same warnings, same errors.

Each test draws many random cases - ties, constant scores, one class only, several classes,
string labels, sample weights - and runs both libraries on each. A case is described in
the failure message, so a mismatch can be replayed.
"""

import warnings

import numpy as np
import pytest
import sklearn.metrics as sk
import torch

from mmkit import metrics as mm

CASES = 1000  # per test: the issue asks for at least 1000 random cases


def _outcome(fn, *args, **kwargs):
    """(result, warning class names, exception type) of one call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = fn(*args, **kwargs), None
        except Exception as exc:  # compared by type below
            result, error = None, exc
    names = {w.category.__name__ for w in caught
             if w.category.__name__ in ("UndefinedMetricWarning", "UserWarning")}
    return result, names, error


def _pick(rng, options):
    """One of options, keeping its type (rng.choice would turn [0.0, "warn"] into strings)."""
    return options[int(rng.integers(len(options)))]


def _kind(error):
    return next(k for k in (ValueError, TypeError, Exception) if isinstance(error, k))


def assert_same(name, args, kwargs, case):
    ours, our_warnings, our_error = _outcome(getattr(mm, name), *args, **kwargs)
    theirs, their_warnings, their_error = _outcome(getattr(sk, name), *args, **kwargs)
    where = f"{name}(**{kwargs}) on {case}"
    if their_error is not None:
        assert our_error is not None, f"scikit-learn raised {their_error!r}, mmkit did not: {where}"
        assert _kind(our_error) is _kind(their_error), f"{our_error!r} vs {their_error!r}: {where}"
        assert len(str(our_error)) > 20, f"the message must explain: {our_error!r}"
        return
    assert our_error is None, f"mmkit raised {our_error!r}, scikit-learn did not: {where}"
    assert our_warnings == their_warnings, f"warnings {our_warnings} vs {their_warnings}: {where}"
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs), where
    for a, b in zip(ours, theirs, strict=True):
        if b is None:
            assert a is None, where
            continue
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"shape {a.shape} vs {b.shape}: {where}"
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, equal_nan=True, err_msg=where)


def _labels(rng, n, k):
    """n labels from k classes, in one of several spellings."""
    index = rng.integers(0, k, n)
    kind = rng.integers(0, 4)
    if kind == 0:
        return index, list(range(k))
    if kind == 1:  # gaps and negatives
        classes = np.sort(rng.choice(np.arange(-3, 10), size=k, replace=False))
        return classes[index], classes.tolist()
    if kind == 2:
        classes = np.array(["cat", "dog", "fox", "owl"][:k])
        return classes[index], classes.tolist()
    return index.astype(np.float64), list(range(k))  # whole-number floats


def _weights(rng, n):
    kind = rng.integers(0, 4)
    if kind == 0:
        return rng.random(n) * 3
    if kind == 1:
        return rng.integers(0, 3, n)  # ints, some zero
    return None


def _classification_case(rng):
    n = int(rng.choice([1, 2, 3, 5, 10, 40, 200]))
    k = int(rng.choice([1, 2, 2, 3, 4]))
    y_true, classes = _labels(rng, n, k)
    if rng.random() < 0.3:  # a good classifier: mostly right
        y_pred = np.where(rng.random(n) < 0.8, y_true, y_true[rng.permutation(n)])
    elif rng.random() < 0.2:  # a constant classifier
        y_pred = np.full_like(y_true, y_true[0])
    else:
        y_pred = _labels(rng, n, k)[0] if rng.random() < 0.5 else y_true[rng.permutation(n)]
        if y_pred.dtype != y_true.dtype:
            y_pred = y_true[rng.permutation(n)]
    return y_true, y_pred, classes, _weights(rng, n)


def test_confusion_matrix_accuracy_and_balanced_accuracy_match_sklearn():
    rng = np.random.default_rng(0)
    for case in range(CASES):
        y_true, y_pred, classes, weight = _classification_case(rng)
        info = f"case {case}: y_true={y_true!r} y_pred={y_pred!r} weight={weight!r}"
        assert_same("accuracy_score", (y_true, y_pred),
                    {"normalize": bool(rng.random() < 0.7), "sample_weight": weight}, info)
        labels = None
        if rng.random() < 0.4:  # a shuffled subset or superset of the classes
            labels = list(rng.permutation(classes))[: rng.integers(1, len(classes) + 1)]
        normalize = _pick(rng, [None, "true", "pred", "all"])
        assert_same("confusion_matrix", (y_true, y_pred),
                    {"labels": labels, "sample_weight": weight, "normalize": normalize}, info)
        assert_same("balanced_accuracy_score", (y_true, y_pred),
                    {"sample_weight": weight, "adjusted": bool(rng.random() < 0.3)}, info)


@pytest.mark.parametrize("metric", ["precision_score", "recall_score", "f1_score",
                                    "precision_recall_fscore_support"])
def test_precision_recall_f1_match_sklearn(metric):
    rng = np.random.default_rng(1)
    for case in range(CASES):
        y_true, y_pred, classes, weight = _classification_case(rng)
        info = f"case {case}: y_true={y_true!r} y_pred={y_pred!r} weight={weight!r}"
        average = _pick(rng, ["binary", "micro", "macro", "weighted", None])
        kwargs = {"average": average, "sample_weight": weight,
                  "zero_division": _pick(rng, ["warn", 0.0, 1.0, np.nan])}
        if average == "binary" and rng.random() < 0.7:
            kwargs["pos_label"] = classes[-1]  # the label the data really uses
        if average != "binary" and rng.random() < 0.3:
            kwargs["labels"] = list(rng.permutation(classes))[: rng.integers(1, len(classes) + 1)]
        assert_same(metric, (y_true, y_pred), kwargs, info)


def _binary_scores(rng, n):
    kind = rng.integers(0, 4)
    if kind == 0:
        return rng.normal(size=n)
    if kind == 1:  # many ties
        return rng.integers(0, 4, n) / 4
    if kind == 2:  # one constant score
        return np.full(n, 0.5)
    return rng.random(n).round(1)


def _binary_case(rng):
    n = int(rng.choice([1, 2, 3, 5, 10, 40, 300]))
    pick = rng.integers(0, 10)
    if pick == 0:
        y_true = np.zeros(n, int)  # one class only
    elif pick == 1:
        y_true = np.ones(n, int)
    elif pick == 2:
        y_true = rng.choice([-1, 1], n)
    else:
        y_true = rng.integers(0, 2, n)
    scores = _binary_scores(rng, n)
    if rng.random() < 0.3:  # informative scores
        scores = scores + 2 * (y_true == 1)
    return y_true, scores, _weights(rng, n)


def test_roc_and_precision_recall_curves_match_sklearn_with_ties():
    rng = np.random.default_rng(2)
    for case in range(CASES):
        y_true, scores, weight = _binary_case(rng)
        info = f"case {case}: y_true={y_true!r} scores={scores!r} weight={weight!r}"
        drop = bool(rng.random() < 0.5)
        assert_same("roc_curve", (y_true, scores),
                    {"sample_weight": weight, "drop_intermediate": drop}, info)
        assert_same("precision_recall_curve", (y_true, scores),
                    {"sample_weight": weight, "drop_intermediate": drop}, info)
        if rng.random() < 0.3:  # string labels need pos_label
            names = np.where(y_true == 1, "spam", "ham")
            assert_same("roc_curve", (names, scores), {"pos_label": "spam"}, info)
            assert_same("roc_curve", (names, scores), {}, info)  # an error in both


def test_binary_roc_auc_and_average_precision_match_sklearn():
    rng = np.random.default_rng(3)
    for case in range(CASES):
        y_true, scores, weight = _binary_case(rng)
        info = f"case {case}: y_true={y_true!r} scores={scores!r} weight={weight!r}"
        max_fpr = _pick(rng, [None, None, 0.3, 1.0])
        assert_same("roc_auc_score", (y_true, scores),
                    {"sample_weight": weight, "max_fpr": max_fpr}, info)
        assert_same("average_precision_score", (y_true, scores),
                    {"sample_weight": weight, "pos_label": 1}, info)


def test_multiclass_roc_auc_and_average_precision_match_sklearn():
    rng = np.random.default_rng(4)
    for case in range(CASES):
        n, k = int(rng.choice([3, 10, 60, 200])), int(rng.choice([3, 4, 5]))
        y_true = rng.integers(0, k, n)
        logits = rng.normal(size=(n, k)) + 2 * np.eye(k)[y_true] * rng.random()
        if rng.random() < 0.3:
            logits = logits.round()  # ties
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        weight = _weights(rng, n)
        info = f"case {case}: y_true={y_true!r} proba={proba!r} weight={weight!r}"
        labels = list(range(k)) if rng.random() < 0.3 else None
        average = _pick(rng, ["macro", "weighted", "micro", None])
        assert_same("roc_auc_score", (y_true, proba),
                    {"multi_class": "ovr", "average": average, "sample_weight": weight,
                     "labels": labels}, info)
        assert_same("average_precision_score", (y_true, proba),
                    {"average": _pick(rng, ["macro", "weighted", "micro", None]
                                      + ["samples"] * (n <= 10)),  # samples: slow in both
                     "sample_weight": weight}, info)


def test_single_class_and_undefined_cases_warn_like_sklearn():
    zeros = np.zeros(6, int)
    scores = np.linspace(0, 1, 6)
    with pytest.warns(mm.UndefinedMetricWarning, match="only one class"):
        assert np.isnan(mm.roc_auc_score(zeros, scores))
    with pytest.warns(mm.UndefinedMetricWarning, match="no positive samples"):
        _, tpr, _ = mm.roc_curve(zeros, scores)
    assert np.isnan(tpr).all()
    with pytest.warns(mm.UndefinedMetricWarning, match="precision is undefined"):
        assert mm.precision_score([1, 0, 1], [0, 0, 0]) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a chosen zero_division is silent
        assert mm.precision_score([1, 0, 1], [0, 0, 0], zero_division=1.0) == 1.0
    with pytest.raises(ValueError, match="multi_class='ovr'"):
        mm.roc_auc_score([0, 1, 2], np.eye(3))


def test_inputs_may_be_lists_arrays_or_tensors():
    y_true = [0, 1, 1, 0, 1, 2]
    y_pred = [0, 1, 0, 0, 2, 2]
    expected = sk.f1_score(y_true, y_pred, average="macro")
    for convert in (list, np.asarray, torch.tensor):
        assert mm.f1_score(convert(y_true), convert(y_pred), average="macro") == pytest.approx(
            expected, abs=1e-12)
    scores = torch.tensor([0.1, 0.9, 0.8, 0.3, 0.5, 0.7], dtype=torch.float32)
    binary = torch.tensor([0, 1, 1, 0, 1, 0])
    assert mm.roc_auc_score(binary, scores) == pytest.approx(
        sk.roc_auc_score(binary.numpy(), scores.numpy()), abs=1e-12)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: mm.accuracy_score([], []), "y_true is empty"),
    (lambda: mm.accuracy_score([0, 1], [0, 1, 1]), "y_pred has 3 values but y_true has 2"),
    (lambda: mm.accuracy_score([[0, 1]], [[0, 1]]), "y_true must be 1-D"),
    (lambda: mm.accuracy_score([0.5, 1.0], [0, 1]), "continuous value"),
    (lambda: mm.accuracy_score("01", [0, 1]), "y_true must be a list"),
    (lambda: mm.f1_score([0, 1, 2], [0, 1, 2]), "average='binary' needs two classes"),
    (lambda: mm.f1_score([0, 1], [0, 1], average="mean"), "average must be one of"),
    (lambda: mm.f1_score([0, 1], [0, 1], zero_division=2), "zero_division must be"),
    (lambda: mm.f1_score([0, 1], [0, 1], pos_label=3), "pos_label=3 is not one of"),
    (lambda: mm.roc_curve([0, 1], [0.1, float("nan")]), "y_score contains NaN"),
    (lambda: mm.roc_curve(["a", "b"], [0.1, 0.2]), "which one is positive"),
    (lambda: mm.roc_auc_score([0, 1, 1], [[0.5, 0.5]] * 3), "y_score must be 1-D"),
    (lambda: mm.roc_auc_score([0, 1, 2], np.full((3, 3), 0.5), multi_class="ovr"),
     "sum to 1"),
    (lambda: mm.confusion_matrix([0, 1], [1, 0], labels=[5]), "none of labels"),
    (lambda: mm.accuracy_score([0, 1], [0, 1], sample_weight=[1, -1]), "sample_weight must"),
    (lambda: mm.bootstrap_ci(mm.accuracy_score, [0, 1], [0, 1, 1]), "y_other has 3"),
    (lambda: mm.bootstrap_ci(mm.accuracy_score, [0, 1], [0, 1], confidence=95),
     "confidence must be between 0 and 1"),
    (lambda: mm.bootstrap_ci("f1", [0, 1], [0, 1]), "metric must be a function"),
])
def test_bad_input_is_named_in_the_error(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bootstrap_interval_is_reproducible_and_covers_the_truth_about_95_percent():
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, 200)
    y_pred = np.where(rng.random(200) < 0.8, y_true, 1 - y_true)
    first = mm.bootstrap_ci(mm.accuracy_score, y_true, y_pred, seed=3)
    assert first == mm.bootstrap_ci(mm.accuracy_score, y_true, y_pred, seed=3)
    assert first.low < first.estimate < first.high
    assert first.estimate == mm.accuracy_score(y_true, y_pred)
    # Four times the data, about half the width (the width shrinks like 1 / sqrt(n)).
    y_big = np.tile(y_true, 4)
    wide = first.high - first.low
    narrow = mm.bootstrap_ci(mm.accuracy_score, y_big, np.tile(y_pred, 4)).high - \
        mm.bootstrap_ci(mm.accuracy_score, y_big, np.tile(y_pred, 4)).low
    assert 0.35 < narrow / wide < 0.65
    # Coverage: over many test sets from a model whose true accuracy is 0.8, the 90 %
    # interval contains 0.8 about 90 % of the time.
    hits = 0
    for trial in range(150):
        right = rng.random(100) < 0.8
        ci = mm.bootstrap_ci(mm.accuracy_score, np.ones(100, int), right.astype(int),
                             n_resamples=200, confidence=0.9, seed=trial)
        hits += ci.low <= 0.8 <= ci.high
    assert 0.8 <= hits / 150 <= 0.97


def test_bootstrap_leaves_out_undefined_resamples_and_says_when_too_many():
    y_true = np.array([0] * 30 + [1])
    scores = np.linspace(0, 1, 31)
    ci = mm.bootstrap_ci(mm.roc_auc_score, y_true, scores, n_resamples=200)
    assert ci.estimate == 1.0 and ci.low == pytest.approx(1.0)  # defined draws rank perfectly
    def first_is_positive(y_true, y_other):  # undefined unless the draw starts with a 1
        return 1.0 if y_true[0] == 1 else float("nan")

    with pytest.raises(ValueError, match="undefined on"):
        mm.bootstrap_ci(first_is_positive, np.array([0] * 9 + [1]), np.zeros(10),
                        n_resamples=200)
