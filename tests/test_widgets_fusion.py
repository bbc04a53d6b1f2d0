"""Lesson 06: the fusion explorer (driven without a browser) and the fusion-weights self-check."""

import numpy as np
import pytest
import torch

from mmkit.data import corrupt
from mmkit.exercises import check_fusion_weights
from mmkit.train import evaluate_corrupted
from mmkit.widgets import fusion_explorer


@pytest.fixture(scope="module")
def explorer():
    return fusion_explorer()


def _weights_shown(explorer):
    return np.asarray(explorer.plots["weights"].get_array())


def test_default_explorer_builds_with_three_methods(explorer):
    assert list(explorer.models) == ["concat", "late", "attention"]
    assert len(explorer.plots["accuracy"].heights()) == 3
    assert _weights_shown(explorer).shape == (2, 16)


def test_heatmap_names_its_model_and_labels_its_colour_bar(explorer):
    ax_w = explorer.figure.axes[1]
    assert "'attention'" in ax_w.get_title()
    colour_bar = explorer.figure.axes[2]
    assert colour_bar.get_ylabel() == "attention weight"
    explorer.figure.canvas.draw()
    ticks = [t for t in ax_w.get_xticks() if 0 <= t < 16]
    assert ticks and all(float(t).is_integer() for t in ticks)  # sample numbers, not 2.5


def _chance_line(explorer):
    ax = explorer.figure.axes[0]
    return [line for line in ax.get_lines() if line.get_label().startswith("chance")]


def test_chance_line_is_the_share_of_the_most_common_class(explorer):
    (line,) = _chance_line(explorer)
    assert line.get_ydata()[0] == pytest.approx(0.5, abs=0.05)  # balanced binary xor
    data = dict(explorer.data)
    data["label"] = torch.arange(len(data["label"])) % 10  # ten classes, as AVDigits has
    data["label"][:40] = 3  # class 3 the most common: 40 + its share of the rest
    ten = fusion_explorer(explorer.models, data)
    (line,) = _chance_line(ten)
    expected = float(torch.bincount(data["label"]).max()) / len(data["label"])
    assert line.get_ydata()[0] == pytest.approx(expected)
    assert expected < 0.5 and f"chance ({expected:.2f})" == line.get_label()


def test_noise_slider_changes_bars_and_weights_image(explorer):
    explorer.controls["modality"].value = "image"
    explorer.controls["noise"].value = 0.0
    bars, png = explorer.plots["accuracy"].heights(), explorer.image.value
    weights = _weights_shown(explorer).copy()
    explorer.controls["noise"].value = 1.5
    assert not np.allclose(bars, explorer.plots["accuracy"].heights())
    assert not np.allclose(weights, _weights_shown(explorer))
    assert explorer.image.value != png


@pytest.mark.parametrize("modality,level", [("image", 0.7), ("text", 0.5)])
def test_shown_weights_are_the_models_last_weights(explorer, modality, level):
    explorer.controls["modality"].value = modality
    explorer.controls["noise"].value = level
    model = explorer.models["attention"]
    noisy = corrupt(explorer.data, modality, level)
    with torch.no_grad():
        model(noisy)
    np.testing.assert_allclose(_weights_shown(explorer), model.fusion.last_weights[:16].T.numpy())
    accuracy, _ = evaluate_corrupted(explorer.models, explorer.data, modality, level)
    np.testing.assert_allclose(explorer.plots["accuracy"].heights(), list(accuracy.values()))


def test_corrupt_is_seeded_and_leaves_the_rest():
    data = {"image": torch.zeros(4, 3, 8, 8), "text": torch.tensor([[2, 3, 0], [4, 5, 6]] * 2),
            "label": torch.zeros(4, dtype=torch.long)}
    a, b = corrupt(data, "image", 0.5), corrupt(data, "image", 0.5)
    assert torch.equal(a["image"], b["image"]) and a["text"] is data["text"]
    assert abs(float(a["image"].std()) - 0.5) < 0.05
    text = corrupt(data, "text", 1.0)["text"]
    assert (text[:, 2][::2] == 0).all() and not torch.equal(text, data["text"])


@pytest.mark.parametrize("kwargs,error,match", [
    ({"models": {}}, TypeError, "models must be a non-empty dict"),
    ({"noise": 3.0}, ValueError, r"noise must be in \[0, 2\]"),
    ({"modality": "audio"}, ValueError, "modality"),
])
def test_bad_arguments_are_named(explorer, kwargs, error, match):
    base = {"models": explorer.models, "data": explorer.data}
    with pytest.raises(error, match=match):
        fusion_explorer(**{**base, **kwargs})


def test_corrupt_rejects_an_unknown_modality():
    with pytest.raises(ValueError, match="modality 'audio' is not in data"):
        corrupt({"image": torch.zeros(2, 1)}, "audio", 0.1)


def right(scores, available):
    return torch.softmax(scores.masked_fill(~available, float("-inf")), dim=1)


@pytest.mark.parametrize("fn,message", [
    (lambda s, a: torch.softmax(s, dim=0), "wrong dimension"),
    (lambda s, a: s, "no softmax"),
    (lambda s, a: torch.softmax(s, dim=1), "not masked"),
    (lambda s, a: torch.softmax(s, dim=1) * a, "zeroes the missing modality after"),
    (lambda s, a: torch.softmax(s.masked_fill(~a, 0.0), dim=1), "fills the missing scores with 0"),
    (lambda s, a: s[:, :2], "output shape"),
])
def test_fusion_weights_check_names_each_mistake(fn, message):
    feedback = check_fusion_weights(fn)
    assert not feedback.passed and message in feedback.message


def test_fusion_weights_check_passes_the_right_answer_and_matches_the_library():
    assert check_fusion_weights(right).passed
    from mmkit.fusion import _masked_softmax

    s, a = torch.randn(5, 3), torch.rand(5, 3) > 0.3
    a[:, 0] = True
    torch.testing.assert_close(right(s, a), _masked_softmax(s, a))


def test_fusion_weights_check_reports_not_implemented():
    def todo(scores, available):
        raise NotImplementedError

    assert "not implemented" in check_fusion_weights(todo).message
