"""Lesson 10: the explanation explorer, driven without a browser."""

import numpy as np
import pytest
import torch

from mmkit import explain
from mmkit.demo_models import explain_data, explain_model
from mmkit.widgets import explanation_explorer


@pytest.fixture(scope="module")
def explorer():
    return explanation_explorer()


def test_default_explorer_shows_a_trained_model_on_both_modalities(explorer):
    assert set(explorer.results) == set(explain.METHODS)
    with torch.no_grad():
        predicted = explorer.model({m: explorer.data[m] for m in ("image", "text")}).argmax(1)
    assert (predicted == explorer.data["label"]).float().mean() >= 0.75  # it learned xor
    assert explorer.plots["image"].data().shape == (16, 16, 4)
    assert len(explorer.plots["modality"].heights()) == 2


def test_the_sample_slider_changes_the_picture_the_words_and_the_bars(explorer):
    explorer.controls["method"].value = "integrated_gradients"
    explorer.controls["sample"].value = 0
    before = (explorer.image.value, explorer.plots["image"].data().copy(),
              explorer.plots["modality"].heights())
    explorer.controls["sample"].value = 1
    assert explorer.image.value != before[0]
    assert not np.allclose(explorer.plots["image"].data(), before[1])
    assert not np.allclose(explorer.plots["modality"].heights(), before[2])


@pytest.mark.parametrize("sample,method", [(2, "saliency"), (5, "lime"), (3, "kernel_shap"),
                                           (6, "feature_ablation")])
def test_what_is_drawn_is_the_explanation_of_that_sample(explorer, sample, method):
    explorer.controls["sample"].value = sample
    explorer.controls["method"].value = method
    data = explorer.data
    batch = {m: data[m][sample:sample + 1] for m in ("image", "text")}
    expected = explorer.results[method]
    overlay = explorer.plots["image"].data()
    heat = np.abs(expected["image"][sample].numpy())
    opacity = 0.85 * heat / heat.max() if heat.max() > 0 else heat  # a blank map: clear
    np.testing.assert_allclose(overlay[..., 3], opacity, atol=1e-6)
    positive = expected["image"][sample].numpy() > 0
    assert (overlay[positive, 0] > overlay[positive, 2]).all()  # red where it pushed up
    scores = expected["modality"][sample]
    total = scores.abs().sum()  # 0 where every gradient is 0 (all ReLUs off): no bars
    share = scores / total if total > 0 else scores
    np.testing.assert_allclose(explorer.plots["modality"].heights(), share.numpy(), atol=1e-6)
    drawn = [t.get_text().split() for t in explorer.plots["words"].words if t.get_text()]
    words = [word for word, _ in drawn]
    assert words == explorer.vocab.decode(data["text"][sample]).split()
    n = len(words)
    np.testing.assert_allclose([float(score) for _, score in drawn],
                               expected["text"][sample, :n].numpy(), atol=0.006)
    if method in ("saliency", "feature_ablation"):  # deterministic: recomputed alone, the same
        fresh = explain.modality_attribution(explorer.model, batch, method)
        torch.testing.assert_close(fresh[0], scores)
    status = explorer.status.value.replace("&#x27;", "'")
    if total > 0:
        top_word = words[int(expected["text"][sample, :len(words)].argmax())]
        assert f"most important word '{top_word}'" in status
    else:
        assert "every score is 0" in status


def test_grad_cam_says_it_has_no_word_scores(explorer):
    explorer.controls["method"].value = "grad_cam"
    assert "explains the image only" in explorer.status.value
    assert np.allclose(explorer.plots["modality"].heights(), 0)


def test_the_status_reports_the_pointing_game(explorer):
    explorer.controls["method"].value = "integrated_gradients"
    hits = explain.pointing_game(explorer.results["integrated_gradients"]["image"],
                                 explorer.data["mask"])
    for sample in (0, 4):
        explorer.controls["sample"].value = sample
        word = "on" if hits[sample] else "off"
        assert f"peak is {word} the shape" in explorer.status.value


def test_a_model_and_data_can_be_passed_in():
    train, test, vocab = explain_data(seed=1, n_train=200, n_test=4)
    model = explain_model(train, len(vocab), seed=1, steps=20)
    explorer = explanation_explorer(model, test, vocab, method="saliency", sample=3)
    assert explorer.controls["sample"].max == 3 and explorer.controls["sample"].value == 3
    assert explorer.model is model


@pytest.mark.parametrize("kwargs,error,match", [
    ({"method": "shap"}, ValueError, "method must be one of"),
    ({"sample": 8}, ValueError, r"sample must be in \[0, 7\]"),
    ({"vocab": "words"}, TypeError, "vocab must be the Vocabulary"),
    ({"data": {"image": torch.zeros(2, 3, 16, 16)}}, TypeError, "data must be a dict with"),
])
def test_bad_arguments_are_named(explorer, kwargs, error, match):
    from mmkit.preprocess.text import Vocabulary

    base = {"model": explorer.model, "data": explorer.data,
            "vocab": Vocabulary(["<pad>", "<unk>", "a"])}
    with pytest.raises(error, match=match):
        explanation_explorer(**{**base, **kwargs})


def test_too_many_samples_are_refused(explorer):
    from mmkit.preprocess.text import Vocabulary

    many = {k: torch.cat([v] * 3) for k, v in explorer.data.items()
            if isinstance(v, torch.Tensor)}
    with pytest.raises(ValueError, match="pass at most 16"):
        explanation_explorer(explorer.model, many, Vocabulary(["<pad>", "<unk>"]))


@pytest.mark.parametrize("method,low", [("integrated_gradients", 0), ("lime", -1.1)])
def test_the_title_names_the_method_and_the_share_axis_fits_its_sign(explorer, method, low):
    explorer.controls["method"].value = method
    ax_image, _, ax_bars = explorer.figure.axes[:3]
    assert ax_image.get_title().startswith(
        {"integrated_gradients": "integrated gradients", "lime": "LIME"}[method])
    assert ax_bars.get_ylim()[0] == pytest.approx(low)
    shares = explorer.plots["modality"].heights()
    assert (shares >= ax_bars.get_ylim()[0]).all()  # every bar fits on the axis
    if method == "integrated_gradients":
        assert (shares >= 0).all()  # sums of |attribution|: never below 0


def test_the_perturbation_methods_remove_4x4_squares_of_the_16x16_images(explorer):
    lime_map = explorer.results["lime"]["image"][0]
    squares = lime_map.reshape(4, 4, 4, 4)  # (square row, pixel row, square col, pixel col)
    assert torch.equal(squares, squares[:, :1, :, :1].expand_as(squares))
