"""Lesson 11: the similarity and retrieval explorers, driven without a browser."""

import html
import math

import numpy as np
import pytest
import torch
from pictures import full_redraw, png_pixels

from mmkit import align
from mmkit.widgets import retrieval_explorer, similarity_explorer


@pytest.fixture(scope="module")
def trained():
    return align.default_alignment_models()


@pytest.fixture(scope="module")
def similarity(trained):
    models, gallery = trained
    return similarity_explorer(models["plain"], gallery)


@pytest.fixture(scope="module")
def retrieval(trained):
    return retrieval_explorer(*trained)


def _ok(explorer):
    assert "Error" not in explorer.status.value, explorer.status.value


def test_the_default_models_learned_something_and_hard_negatives_help_with_swaps(trained):
    models, gallery = trained
    assert set(models) == {"plain", "hard negatives"} and len(gallery["text"]) == 200
    for model in models.values():
        a = model.embed("image", gallery["image"])
        t = model.embed("text", gallery["text"])
        assert (a @ t.T).argmax(dim=1).eq(torch.arange(200)).float().mean() > 0.2  # chance 0.005


def test_similarity_explorer_shows_the_batch_as_the_loss_sees_it(similarity):
    _ok(similarity)
    model, gallery = similarity.model, similarity.gallery
    a = model.embed("image", gallery["image"][:8])
    t = model.embed("text", gallery["text"][:8])
    expected = align.similarity_softmax(a, t, model.temperature)
    np.testing.assert_allclose(similarity.plots["similarity"].values(),
                               expected["similarity"].numpy(), atol=1e-6)
    np.testing.assert_allclose(similarity.plots["probability"].values(),
                               expected["image_to_text"].numpy(), atol=1e-6)
    assert f"loss {float(expected['loss']):.3f}" in similarity.status.value


def test_temperature_sharpens_the_rows_and_the_view_switches_to_columns(similarity):
    before = similarity.image.value
    similarity.controls["temperature"].value = 1.0
    flat = similarity.plots["probability"].values()
    _ok(similarity)
    assert similarity.image.value != before
    # cosines in [-1, 1] at temperature 1: no probability can pass e / (e + 7 / e) of 8
    # columns, and the rows stay nearly uniform (1/8 = 0.125)
    assert flat.max() <= math.e / (math.e + 7 / math.e) + 1e-6
    assert flat.max(axis=1).mean() < 0.3
    np.testing.assert_allclose(flat.sum(axis=1), 1, atol=1e-6)
    similarity.controls["temperature"].value = 0.01
    sharp = similarity.plots["probability"].values()
    assert sharp.max(axis=1).mean() > 0.9
    similarity.controls["view"].value = "text → image (columns)"
    _ok(similarity)
    np.testing.assert_allclose(similarity.plots["probability"].values().sum(axis=0), 1,
                               atol=1e-6)
    widths = [bar.get_width() for bar in similarity.plots["column_bars"]]
    a = similarity.model.embed("image", similarity.gallery["image"][:8])
    t = similarity.model.embed("text", similarity.gallery["text"][:8])
    expected = align.similarity_softmax(a, t, 0.01)["column_loss"].clamp(max=10)
    np.testing.assert_allclose(widths, expected.numpy(), atol=1e-5)
    similarity.controls["view"].value = "image → text (rows)"


def test_the_batch_slider_shows_other_pairs(similarity):
    similarity.controls["batch"].value = 0
    first = similarity.plots["similarity"].values().copy()
    similarity.controls["batch"].value = 3
    _ok(similarity)
    gallery = similarity.gallery
    strip = similarity.plots["images"].artist.get_array()  # 8 pictures side by side
    np.testing.assert_allclose(strip[:, :32], gallery["image"][24].permute(1, 2, 0).numpy(),
                               atol=1e-6)
    np.testing.assert_allclose(strip[:, -32:], gallery["image"][31].permute(1, 2, 0).numpy(),
                               atol=1e-6)
    assert "caption 1: " + gallery["text"][24][:40] in similarity.plots["captions"].get_text()
    assert not np.allclose(similarity.plots["similarity"].values(), first)


def _ranked(query, gallery, k=5):
    return (query @ gallery.T).topk(k).indices[0].tolist()


def test_retrieval_explorer_ranks_captions_for_the_image_and_images_for_the_caption(retrieval):
    _ok(retrieval)
    gallery = retrieval.gallery
    for name, model in retrieval.models.items():
        retrieval.controls["model"].value = name
        retrieval.controls["image"].value = 7
        retrieval.controls["caption"].value = 11
        _ok(retrieval)
        a = model.embed("image", gallery["image"])
        t = model.embed("text", gallery["text"])
        captions = [gallery["text"][j] for j in _ranked(a[7:8], t)]
        shown = [text.get_text().split("  ", 1)[1] for text in retrieval.plots["captions"].texts]
        assert [s.rstrip("…") for s in shown] == [c[:len(s.rstrip("…"))] for s, c in
                                                   zip(shown, captions, strict=True)]
        top_images = _ranked(t[11:12], a)
        for panel, j in zip(retrieval.plots["images"].panels, top_images, strict=True):
            np.testing.assert_allclose(panel.artist.get_array(),
                                       gallery["image"][j].permute(1, 2, 0).numpy(), atol=1e-6)


def test_typing_a_caption_searches_with_it(retrieval):
    model = retrieval.models["plain"]
    retrieval.controls["model"].value = "plain"
    typed = "a large blue square left of a small red circle"
    retrieval.controls["typed"].value = typed
    _ok(retrieval)
    a = model.embed("image", retrieval.gallery["image"])
    expected = _ranked(model.embed("text", [typed]), a)
    assert f"typed caption's best image: {expected[0]}" in html.unescape(retrieval.status.value)
    assert retrieval.plots["text"].get_text().replace("\n", " ") == typed
    retrieval.controls["typed"].value = "a purple circle"
    assert "never saw: purple" in retrieval.status.value
    retrieval.controls["typed"].value = ""
    _ok(retrieval)


def test_explorers_reject_bad_arguments(trained):
    models, gallery = trained
    with pytest.raises(TypeError, match="model must be a DualEncoder"):
        similarity_explorer("clip", gallery)
    with pytest.raises(ValueError, match="temperature must be in"):
        similarity_explorer(models["plain"], gallery, temperature=5.0)
    with pytest.raises(ValueError, match="batch must be < 25"):
        similarity_explorer(models["plain"], gallery, batch=25)
    with pytest.raises(TypeError, match="gallery must be a dict"):
        retrieval_explorer(models, gallery["image"])
    with pytest.raises(ValueError, match="one caption per image"):
        retrieval_explorer(models, {"image": gallery["image"], "text": gallery["text"][:3]})
    with pytest.raises(ValueError, match="image must be < 200"):
        retrieval_explorer(models, gallery, image=200)
    with pytest.raises(ValueError, match="k must be at most 8"):
        retrieval_explorer(models, gallery, k=9)


@pytest.mark.parametrize(("which", "moves"), [
    ("similarity", {"temperature": 0.2}),
    ("similarity", {"batch": 5, "view": "text → image (columns)"}),  # the background changes
    ("retrieval", {"image": 9, "caption": 3}),
    ("retrieval", {"typed": "a small red circle", "model": "hard negatives"}),
])
def test_redrawing_only_what_moves_looks_like_afull_redraw(trained, which, moves):
    models, gallery = trained
    explorer = (similarity_explorer(models["plain"], gallery) if which == "similarity"
                else retrieval_explorer(models, gallery))
    before = png_pixels(explorer.image.value)
    for control, value in moves.items():
        explorer.controls[control].value = value
    _ok(explorer)
    shown = png_pixels(explorer.image.value)
    assert (np.abs(shown - before).max(axis=2) > 0).sum() > 50  # the picture changed
    different = np.abs(shown - full_redraw(explorer.figure)).max(axis=2) > 0
    assert different.sum() < 0.001 * different.size  # a few anti-aliased edge pixels at most
