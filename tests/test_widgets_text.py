"""The attention explorer, driven without a browser: each control changes the heatmap, and
the heatmap is exactly the encoder's stored attention for that caption, layer and head."""

import numpy as np
import pytest
import torch

from mmkit import widgets
from mmkit.encoders.text import TransformerTextEncoder
from mmkit.models import UnimodalClassifier
from mmkit.preprocess.text import Vocabulary


@pytest.fixture(scope="module")
def explorer():
    return widgets.attention_explorer()  # the default: a small model trained for ~0.5 s


def _expected(encoder, sample, layer, head, n):
    return encoder.last_attention[layer][sample, head, :n, :n].numpy()


def test_default_explorer_shows_the_first_captions_first_head(explorer):
    data = explorer.plots["attention"].data()
    n = data.shape[0]
    assert data.shape == (n, n) and n >= 3
    np.testing.assert_allclose(data.sum(1), np.ones(n), atol=1e-5)  # each row: a softmax
    labels = [t.get_text() for t in explorer.plots["attention"].ax.get_xticklabels()]
    assert len(labels) == n
    assert "most attended word" in explorer.status.value


@pytest.mark.parametrize(("control", "value"), [("sample", 3), ("layer", 2), ("head", 2)])
def test_each_control_changes_the_heatmap_to_the_stored_weights(explorer, control, value):
    encoder = explorer.encoder  # the encoder whose weights are drawn
    explorer.controls["sample"].value = 0
    explorer.controls["layer"].value = 1  # layers and heads count from 1
    explorer.controls["head"].value = 1
    before_data = explorer.plots["attention"].data().copy()
    before_image = explorer.image.value
    explorer.controls[control].value = value
    values = explorer.values()
    after = explorer.plots["attention"].data()
    n = after.shape[0]
    expected = _expected(encoder, values["sample"], values["layer"] - 1, values["head"] - 1, n)
    np.testing.assert_allclose(after, expected, atol=1e-7)
    assert before_data.shape != after.shape or np.abs(before_data - after).max() > 1e-4
    assert explorer.image.value != before_image


def test_tokens_on_the_axes_are_the_captions_tokens():
    vocab = Vocabulary.build(["a red ball moving left", "the box is big and moves up"])
    torch.manual_seed(0)
    encoder = TransformerTextEncoder(len(vocab), dim=8, heads=2, layers=1, max_len=12)
    model = UnimodalClassifier(encoder, "text", 4)
    captions = ["a red ball moving left", "the box moves up", "a purple ball"]
    explorer = widgets.attention_explorer(model, captions, vocab=vocab)
    explorer.controls["sample"].value = 2
    labels = [t.get_text() for t in explorer.plots["attention"].ax.get_yticklabels()]
    assert labels == ["a", "<unk>", "ball"]  # "purple" was never seen in training
    np.testing.assert_allclose(explorer.plots["attention"].data(),
                               encoder.last_attention[0][2, 0, :3, :3].numpy(), atol=1e-7)


def test_the_first_view_can_be_chosen():
    chosen = widgets.attention_explorer(sample=5, layer=2, head=2)
    assert chosen.values() == {"sample": 5, "layer": 2, "head": 2}
    n = chosen.plots["attention"].data().shape[0]
    np.testing.assert_allclose(chosen.plots["attention"].data(),
                               chosen.encoder.last_attention[1][5, 1, :n, :n].numpy(), atol=1e-7)


def test_a_bare_encoder_works_too():
    vocab = Vocabulary.build(["a red ball", "a blue box"])
    encoder = TransformerTextEncoder(len(vocab), dim=8, heads=1, layers=3, max_len=8)
    explorer = widgets.attention_explorer(encoder, ["a red box"], vocab=vocab)
    assert (explorer.controls["layer"].min, explorer.controls["layer"].max) == (1, 3)
    assert explorer.controls["head"].max == 1
    assert explorer.plots["attention"].data().shape == (3, 3)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"model": torch.nn.Linear(2, 2), "vocab": Vocabulary(["<pad>", "<unk>", "a"])}, TypeError,
     "model must be a TransformerTextEncoder or a model that contains one"),
    ({"model": TransformerTextEncoder(5, dim=4, heads=1, layers=1)}, TypeError,
     "vocab must be the Vocabulary the model was trained with"),
    ({"captions": "a red ball"}, TypeError, "captions must be a non-empty list of strings"),
    ({"layer": 3}, ValueError, r"layer must be in \[1, 2\], got 3"),
    ({"head": 0}, ValueError, "head must be >= 1"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        widgets.attention_explorer(**kwargs)
