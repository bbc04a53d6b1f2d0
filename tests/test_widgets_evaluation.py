"""Lesson 08 explorers, driven without a browser: the ROC explorer's threshold and the
feedback explorer's buttons (and the file they write)."""

import json
from pathlib import Path

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

from mmkit import metrics
from mmkit.metrics import threshold_metrics
from mmkit.widgets import feedback_explorer, roc_explorer

# ---- the ROC explorer -------------------------------------------------------------------


@pytest.fixture(scope="module")
def roc():
    return roc_explorer()


def test_default_roc_explorer_has_two_models_with_their_aucs(roc):
    assert list(roc.scores) == ["image", "image + text"]
    for name, scores in roc.scores.items():
        auc = roc.curves[name][2]
        assert auc == pytest.approx(skm.roc_auc_score(roc.y_true, scores), abs=1e-12)
        assert 0.6 < auc < 0.99  # a real curve, neither chance nor perfect
    legend = [t.get_text() for t in roc.plots["roc"].ax.get_legend().get_texts()]
    assert any(f"({roc.curves['image + text'][2]:.2f})" in text for text in legend)
    assert roc.curves["image + text"][2] > roc.curves["image"][2]  # the caption helps


@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.5, 0.77, 0.95])
def test_threshold_moves_the_point_the_matrix_and_the_bars(roc, threshold):
    roc.controls["model"].value = "image"
    roc.controls["threshold"].value = threshold
    t = roc.controls["threshold"].value
    y = roc.y_true
    for name, scores in roc.scores.items():
        (tn, fp), (fn, tp) = metrics.confusion_matrix(y, (scores >= t).astype(int), labels=[0, 1])
        point = roc.plots["roc"].point(name)
        assert point == pytest.approx((fp / (fp + tn), tp / (tp + fn)), abs=1e-12)
        fpr, tpr, _ = skm.roc_curve(y, scores, drop_intermediate=False)
        assert np.min(np.hypot(fpr - point[0], tpr - point[1])) < 1e-12  # on the curve
    predicted = (roc.scores["image"] >= t).astype(int)
    np.testing.assert_array_equal(roc.plots["confusion"].counts(),
                                  metrics.confusion_matrix(y, predicted, labels=[0, 1]))
    expected = [metrics.precision_score(y, predicted, zero_division=0),
                metrics.recall_score(y, predicted, zero_division=0),
                metrics.f1_score(y, predicted, zero_division=0),
                metrics.accuracy_score(y, predicted)]
    np.testing.assert_allclose(roc.plots["metrics"].heights(), expected, atol=1e-12)
    assert f"threshold {t:.3f}" in roc.status.value and "Error" not in roc.status.value


def test_a_higher_threshold_never_moves_the_point_up(roc):
    roc.controls["model"].value = "image + text"
    points = []
    for threshold in np.linspace(0.01, 0.99, 15):
        roc.controls["threshold"].value = float(threshold)
        points.append(roc.plots["roc"].point("image + text"))
    fpr, tpr = np.array(points).T
    assert (np.diff(fpr) <= 0).all() and (np.diff(tpr) <= 0).all()
    assert fpr[0] > 0.5 and tpr[-1] < 0.5  # it travels most of the curve


def test_choosing_the_other_model_redraws_matrix_and_image(roc):
    roc.controls["threshold"].value = 0.5
    roc.controls["model"].value = "image"
    counts, png = roc.plots["confusion"].counts(), roc.image.value
    roc.controls["model"].value = "image + text"
    predicted = (roc.scores["image + text"] >= 0.5).astype(int)
    np.testing.assert_array_equal(roc.plots["confusion"].counts(),
                                  metrics.confusion_matrix(roc.y_true, predicted))
    assert not np.array_equal(counts, roc.plots["confusion"].counts())
    for stairs, cls in zip(roc.plots["scores"].stairs, (0, 1), strict=True):  # the histogram
        values, edges = stairs.get_data().values, stairs.get_data().edges
        inside = roc.scores["image + text"][roc.y_true == cls]
        assert values.sum() == len(inside) and edges[0] <= inside.min() <= inside.max() <= edges[-1]
    assert roc.image.value != png
    assert roc.plots["roc"].markers["image + text"].get_markersize() > \
        roc.plots["roc"].markers["image"].get_markersize()


def test_histogram_count_axis_has_ticks_that_fit_every_model(roc):
    ax = roc.figure.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)
    top = ax.get_ylim()[1]
    for model in roc.scores:  # the axis is fixed, so it must hold every model's tallest bin
        roc.controls["model"].value = model
        assert ax.get_ylim()[1] == top
        assert max(stairs.get_data().values.max() for stairs in roc.plots["scores"].stairs) <= top


def test_threshold_metrics_equal_sklearn_on_random_and_edge_cases():
    rng = np.random.default_rng(0)
    cases = [(rng.integers(0, 2, n), rng.random(n).round(1), t)  # rounded: many ties
             for n in (5, 40, 300) for t in (0.0, 0.3, 0.5, 1.0, 1.01)]
    cases.append((np.array([0, 1, 1]), np.array([0.2, 0.2, 0.2]), 0.2))  # constant scores
    for y, scores, t in cases:
        r = threshold_metrics(y, scores, t)
        predicted = (scores >= t).astype(int)
        np.testing.assert_array_equal(r["confusion"],
                                      skm.confusion_matrix(y, predicted, labels=[0, 1]))
        for key, fn in (("precision", skm.precision_score), ("recall", skm.recall_score),
                        ("f1", skm.f1_score)):
            assert r[key] == pytest.approx(fn(y, predicted, zero_division=0), abs=1e-12)
        assert r["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted), abs=1e-12)


def test_roc_explorer_takes_tensors_lists_and_logits():
    y = torch.tensor([0, 0, 1, 1, 0, 1])
    logits = {"a": torch.tensor([-2.0, 0.5, 1.0, 3.0, -1.0, 0.2]), "b": [0, 1, 2, 3, 4, 5]}
    explorer = roc_explorer(y, logits, labels=("cat", "dog"))
    slider = explorer.controls["threshold"]
    assert (slider.min, slider.max) == (-2.0, 5.0) and slider.value == 0.5
    assert explorer.curves["a"][2] == pytest.approx(skm.roc_auc_score(y, logits["a"]))
    assert [t.get_text() for t in explorer.plots["confusion"].ax.get_xticklabels()] == \
        ["cat", "dog"]
    far = roc_explorer(y, {"a": logits["a"] + 10})  # 0.5 is below every score: use the middle
    assert far.controls["threshold"].value == pytest.approx(10.5)  # (8 + 13) / 2


@pytest.mark.parametrize("y,scores,error,match", [
    ([0, 1, 2], {"a": [0.1, 0.2, 0.3]}, ValueError, "y_true must hold 0 and 1 only"),
    ([1, 1, 1], {"a": [0.1, 0.2, 0.3]}, ValueError, "one class only"),
    ([0, 1, 1], {"a": [0.1, 0.2]}, ValueError, r"scores\['a'\] has 2 values but y_true has 3"),
    ([0, 1, 1], [0.1, 0.2, 0.3], TypeError, "scores must be a non-empty dict"),
    ([0, 1, 1], {"a": [0.1, float("nan"), 0.3]}, ValueError, "NaN"),
    ([0, 1, 1], None, TypeError, "give both y_true and scores"),
])
def test_roc_explorer_names_bad_arguments(y, scores, error, match):
    with pytest.raises(error, match=match):
        roc_explorer(y, scores)


# ---- the feedback explorer --------------------------------------------------------------

CLASSES = ["cat", "dog", "fox"]


@pytest.fixture
def small():
    """Six samples; the model is right on 0, 1, 2 and 4."""
    g = torch.Generator().manual_seed(0)
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8],
                              [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.5, 0.1, 0.4]])
    data = {"image": torch.rand(6, 3, 8, 8, generator=g), "label": torch.tensor([0, 1, 2, 1, 1, 2]),
            "caption": [f"caption {i}" for i in range(6)]}
    return data, probabilities


def _file(path: Path) -> list[dict]:
    return json.loads(path.read_text())["ratings"]


def test_default_feedback_explorer_shows_a_prediction_per_sample(tmp_path):
    explorer = feedback_explorer(tmp_path / "f.json")
    assert len(explorer.data["label"]) == 60 and explorer.classes == ["red", "yellow", "green",
                                                                       "blue"]
    accuracy = (explorer.probabilities.argmax(1) == explorer.data["label"].numpy()).mean()
    assert 0.55 < accuracy < 0.95  # mistakes to find, but mostly right
    png = explorer.image.value
    explorer.controls["sample"].value = 5
    np.testing.assert_allclose(explorer.plots["probabilities"].heights(),
                               explorer.probabilities[5])
    assert explorer.image.value != png and "sample 5: predicted" in explorer.status.value


def test_buttons_record_verdicts_in_the_file_and_move_on(tmp_path, small):
    data, probabilities = small
    path = tmp_path / "ratings.json"
    explorer = feedback_explorer(path, data, probabilities, CLASSES)
    for verdict in ("agree", "disagree", "agree", "agree"):  # samples 0, 1, 2, 3
        explorer.buttons[verdict].click()
    assert explorer.controls["sample"].value == 4
    ratings = _file(path)
    assert [(r["sample_id"], r["verdict"], r["prediction"]) for r in ratings] == [
        (0, "agree", "cat"), (1, "disagree", "dog"), (2, "agree", "fox"), (3, "agree", "cat")]
    assert ratings[1]["confidence"] == pytest.approx(0.7)
    # agreement 3/4 with its Wilson interval; the model is right on 0, 1, 2 of the 4 rated
    from scipy.stats import binomtest

    ci = binomtest(3, 4).proportion_ci(method="wilson")
    np.testing.assert_allclose(explorer.plots["agreement"].heights(), [0.75, 0.75])
    whisker = explorer.plots["agreement"].whiskers[0].get_ydata()
    np.testing.assert_allclose(whisker, [ci.low, ci.high], atol=1e-12)
    assert "agreement 0.75" in explorer.status.value
    assert "automatic accuracy on the 4 rated samples: 0.75" in explorer.status.value


def test_rating_the_last_sample_stays_there_and_rating_again_replaces(tmp_path, small):
    data, probabilities = small
    path = tmp_path / "f.json"
    explorer = feedback_explorer(path, data, probabilities, CLASSES, start=5)
    explorer.buttons["agree"].click()
    explorer.buttons["disagree"].click()
    assert explorer.controls["sample"].value == 5
    assert [(r["sample_id"], r["verdict"]) for r in _file(path)] == [(5, "disagree")]
    assert "you said disagree" in explorer.status.value


def test_an_existing_file_is_loaded_not_replaced(tmp_path, small):
    data, probabilities = small
    path = tmp_path / "f.json"
    feedback_explorer(path, data, probabilities, CLASSES).buttons["disagree"].click()
    explorer = feedback_explorer(path, data, probabilities, CLASSES)
    assert "from 1 ratings (0 agree, 1 disagree)" in explorer.status.value
    explorer.controls["sample"].value = 3
    explorer.buttons["agree"].click()
    assert [r["sample_id"] for r in _file(path)] == [0, 3]


def test_a_corrupt_file_is_shown_as_an_error_and_never_overwritten(tmp_path, small):
    data, probabilities = small
    path = tmp_path / "f.json"
    path.write_bytes(b'{"format": "mmkit-feedback", "ratings": [')
    explorer = feedback_explorer(path, data, probabilities, CLASSES)
    assert "Error" in explorer.status.value and str(path) in explorer.status.value
    assert explorer.buttons["agree"].disabled and explorer.buttons["disagree"].disabled
    explorer.buttons["agree"].click()  # disabled in the browser, but code can click
    explorer.controls["sample"].value = 2
    assert "Error" in explorer.status.value
    assert path.read_bytes() == b'{"format": "mmkit-feedback", "ratings": ['


def test_a_file_damaged_while_open_is_not_saved_over(tmp_path, small):
    data, probabilities = small
    path = tmp_path / "f.json"
    explorer = feedback_explorer(path, data, probabilities, CLASSES)
    explorer.buttons["agree"].click()
    path.write_text("my notes, not JSON")
    explorer.buttons["agree"].click()
    assert "not saved" in explorer.status.value and "not valid JSON" in explorer.status.value
    assert path.read_text() == "my notes, not JSON"
    assert explorer.controls["sample"].value == 1  # did not move on: nothing was recorded


def test_without_a_path_the_ratings_go_to_a_temporary_file(small):
    data, probabilities = small
    explorer = feedback_explorer(None, data, probabilities, CLASSES)
    explorer.buttons["agree"].click()
    assert explorer.path.name == "feedback.json" and _file(explorer.path)[0]["sample_id"] == 0
    assert "mmkit-feedback-" in str(explorer.path.parent)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"data": None}, TypeError, "probabilities were given without data"),
    ({"probabilities": np.ones((5, 3)) / 3}, ValueError, r"probabilities must be \(N=6"),
    ({"classes": ["a", "b"]}, ValueError, "classes names 2 classes"),
    ({"start": 6}, ValueError, "start must be < the number of samples"),
    ({"data": {"image": torch.zeros(6, 3, 8, 8)}}, TypeError, "'label'"),
])
def test_feedback_explorer_names_bad_arguments(tmp_path, small, kwargs, error, match):
    data, probabilities = small
    arguments = {"path": tmp_path / "f.json", "data": data, "probabilities": probabilities,
                 "classes": CLASSES, **kwargs}
    with pytest.raises(error, match=match):
        feedback_explorer(**arguments)
