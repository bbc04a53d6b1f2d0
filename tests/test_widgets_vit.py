"""The lesson-12 explorer, driven without a browser: each control redraws the map it names,
and the map drawn is the model's own attention (or its rollout) for that question."""

import numpy as np
import pytest
import torch

from mmkit import widgets
from mmkit.demo_vit import question_vocabulary, referring_data
from mmkit.explain.patch_maps import token_attention_maps
from mmkit.explain.rollout import attention_rollout, cross_attention_rollout
from mmkit.token_models import TokenClassifier, referring_classifier


@pytest.fixture(scope="module")
def explorer():
    return widgets.vit_attention_explorer()  # the default: eight learned queries, ~2 s training


@pytest.fixture(scope="module")
def small():
    """An untrained model whose image encoder is a ViT (so patches can look too)."""
    from mmkit.cross_attention import CrossAttentionFusion
    from mmkit.encoders import TextTokens, ViT

    data, vocab = referring_data({"test": 5}, seed=4)
    torch.manual_seed(0)
    model = TokenClassifier(
        {"image": ViT(image_size=32, patch_size=8, dim=16, heads=2, layers=2, class_token=False),
         "text": TextTokens(len(vocab), dim=16, heads=2, layers=1, max_len=8)},
        CrossAttentionFusion({"image": 16, "text": 16}, heads=2), 2)
    return model, data["test"], vocab


def _drawn(explorer):
    return explorer.plots["overlay"].data().ravel()


def test_default_explorer_shows_a_word_over_the_queries_and_patches(explorer):
    maps = explorer.maps
    assert maps["queries"].shape[2] == 8 and maps["words"].shape[-1] == 8  # words read queries
    expected = maps["words"][0].mean(0)[4] @ maps["queries"][0].mean(0)
    np.testing.assert_allclose(_drawn(explorer), expected.numpy(), atol=1e-6)
    assert "(word 5)" in explorer.status.value and "the object the question names" in \
        explorer.status.value
    assert np.isclose(_drawn(explorer).sum(), 1.0, atol=1e-5)  # a distribution over patches


@pytest.mark.parametrize(("control", "value"), [("sample", 3), ("looker", "query 2"),
                                                ("head", "2"), ("rollout", True)])
def test_each_control_draws_the_stored_map(explorer, control, value):
    for name, default in (("sample", 0), ("looker", "word 5"), ("head", "mean"),
                          ("rollout", False)):
        explorer.controls[name].value = default
    before, before_png = _drawn(explorer).copy(), explorer.image.value
    explorer.controls[control].value = value
    values, maps = explorer.values(), explorer.maps
    s = values["sample"]
    if values["rollout"]:
        expected = maps["word_rollout"][s, 4]
    elif values["looker"] == "query 2":
        expected = maps["queries"][s].mean(0)[1]
    else:
        words = maps["words"][s].mean(0) if values["head"] == "mean" else \
            maps["words"][s, int(values["head"]) - 1]
        expected = words[4] @ maps["queries"][s].mean(0)
    np.testing.assert_allclose(_drawn(explorer), expected.numpy(), atol=1e-6)
    assert np.abs(_drawn(explorer) - before).max() > 1e-6
    assert explorer.image.value != before_png


def test_the_title_names_the_looker_and_head_and_the_colour_bar_follows_the_map(explorer):
    for name, value in (("sample", 0), ("looker", "word 5"), ("head", "mean"), ("rollout", False)):
        explorer.controls[name].value = value
    title = explorer.figure.axes[0].get_title()
    assert "(word 5), heads averaged" in title and "model:" in title
    explorer.controls["looker"].value = "query 2"
    explorer.controls["head"].value = "2"
    assert explorer.figure.axes[0].get_title().endswith("query 2, head 2")
    overlay = explorer.plots["overlay"]
    assert overlay.colorbar is not None
    assert np.isclose(overlay.colorbar.mappable.get_clim()[1], _drawn(explorer).max())
    explorer.controls["rollout"].value = True
    assert explorer.figure.axes[0].get_title().endswith("query 2, rollout (heads averaged)")
    explorer.controls["rollout"].value = False
    explorer.controls["head"].value = "mean"


def test_patches_and_layers_appear_for_a_vit_image_encoder(small):
    model, data, vocab = small
    explorer = widgets.vit_attention_explorer(model, data, vocab, looker="patch (row 2, col 3)")
    maps = token_attention_maps(model, data)
    assert len(maps["patches"]) == 2 and not explorer.controls["layer"].disabled
    patch = 1 * 4 + 2
    np.testing.assert_allclose(_drawn(explorer), maps["patches"][0][0].mean(0)[patch].numpy(),
                               atol=1e-6)
    explorer.controls["layer"].value = 2
    assert explorer.figure.axes[0].get_title().endswith("patch (row 2, col 3), heads averaged, "
                                                        "image layer 2")
    np.testing.assert_allclose(_drawn(explorer), maps["patches"][1][0].mean(0)[patch].numpy(),
                               atol=1e-6)
    explorer.controls["rollout"].value = True
    np.testing.assert_allclose(_drawn(explorer), attention_rollout(maps["patches"])[0, patch].numpy(),
                               atol=1e-6)
    explorer.controls["looker"].value = "word 6"
    expected = cross_attention_rollout(maps["words"], attention_rollout(maps["text"]),
                                       attention_rollout(maps["patches"]), maps["text_padding"])
    np.testing.assert_allclose(_drawn(explorer), expected[0, 5].numpy(), atol=1e-6)
    bundle = explorer._repr_mimebundle_()
    assert "image/png" in bundle


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"sample": 5}, ValueError, r"sample must be in \[0, 4\]"),
    ({"looker": "query 1"}, ValueError, "looker must be one of"),
    ({"head": "3"}, ValueError, "head must be one of"),
    ({"layer": 3}, ValueError, r"layer must be in \[1, 2\]"),
])
def test_bad_arguments_are_named(small, kwargs, error, match):
    model, data, vocab = small
    with pytest.raises(error, match=match):
        widgets.vit_attention_explorer(model, data, vocab, **kwargs)


def test_a_model_that_pools_first_has_nothing_to_show(small):
    _, data, vocab = small
    pooled = referring_classifier(len(vocab), "concatenation", seed=0)
    with pytest.raises(ValueError, match="no cross-attention"):
        widgets.vit_attention_explorer(pooled, data, vocab)
    with pytest.raises(TypeError, match="vocab must be the Vocabulary"):
        widgets.vit_attention_explorer(small[0], data, ["a"])
    too_many = {k: v.repeat(4, *[1] * (v.dim() - 1)) for k, v in data.items()
                if isinstance(v, torch.Tensor)}
    with pytest.raises(ValueError, match="at most 16"):
        widgets.vit_attention_explorer(small[0], too_many, question_vocabulary())
