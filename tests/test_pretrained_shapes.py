"""The kit's small pretrained encoders (data/pretrained/): they load, they know what their
pretraining taught them (checked by a scikit-learn probe and by masked words), and a missing
or wrong file is named."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from mmkit.data import ShapesWorld, to_tensors
from mmkit.encoders.pretrained import TinyBert, shapes_image_cnn, tiny_bert, tiny_bert_vocabulary
from mmkit.preprocess.text import encode_batch


def _attribute(world, name):
    values = {"shape": ShapesWorld.shapes, "colour": ShapesWorld.colours, "size": ShapesWorld.sizes}
    return np.array([values[name].index(world.attributes(i)[name]) for i in range(len(world))])


def _probe(features, labels, n_train):
    model = LogisticRegression(max_iter=2000).fit(features[:n_train], labels[:n_train])
    return model.score(features[n_train:], labels[n_train:])


@pytest.fixture(scope="module")
def scenes():
    world = ShapesWorld(n=900, seed=77, task="shape", modalities=("image", "text"))
    return world, to_tensors(world, keys=("image", "text"))


def test_image_cnn_features_name_shape_colour_and_size_better_than_random_weights(scenes):
    world, data = scenes
    pretrained, random = shapes_image_cnn(), shapes_image_cnn(weights=None)
    assert pretrained.pretrained and not random.pretrained and not pretrained.training
    assert pretrained.pretraining["held_out_accuracy"]["shape"] > 0.9 and random.pretraining is None
    with torch.no_grad():
        ours, theirs = pretrained(data["image"]).numpy(), random(data["image"]).numpy()
    assert ours.shape == (900, 64)
    shape = _attribute(world, "shape")
    assert _probe(ours, shape, 600) >= 0.85
    assert _probe(ours, shape, 600) >= _probe(theirs, shape, 600) + 0.1
    for name in ("colour", "size"):
        assert _probe(ours, _attribute(world, name), 600) >= 0.95, name


def test_tiny_bert_fills_a_masked_colour_with_a_colour_word(scenes):
    world, data = scenes
    bert = tiny_bert()
    assert bert.pretrained and bert.vocab.tokens[:3] == ["<pad>", "<unk>", "<mask>"]
    ids = encode_batch(bert.vocab, data["text"])[0]
    colour_ids = [bert.vocab.tokens.index(c) for c in ShapesWorld.colours]
    at = (ids[..., None] == torch.tensor(colour_ids)).any(-1)  # where each caption's colour is
    assert (at.sum(1) == 1).all()
    masked = ids.masked_fill(at, bert.vocab.tokens.index("<mask>"))
    with torch.no_grad():
        guess = bert.mlm_head(bert.token_states(masked))[at].argmax(-1)
    synonyms = {"scarlet", "golden", "lime", "navy"}
    colour_words = {bert.vocab.tokens.index(w) for w in (*ShapesWorld.colours, *synonyms)}
    assert np.mean([int(g) in colour_words for g in guess]) >= 0.9


def test_tiny_bert_pooled_features_name_the_caption_colour(scenes):
    world, data = scenes
    bert = tiny_bert()
    with torch.no_grad():
        pooled = bert(encode_batch(bert.vocab, data["text"])[0]).numpy()
    assert pooled.shape == (900, bert.out_dim)
    assert _probe(pooled, _attribute(world, "colour"), 600) >= 0.95


def test_token_states_and_forward_agree_with_a_masked_mean():
    bert = tiny_bert()
    ids = encode_batch(bert.vocab, ["a red circle", "a small blue square moving up"])[0]
    states = bert.token_states(ids)
    assert states.shape == (2, ids.shape[1], bert.out_dim)
    expected = torch.stack([states[0, :3].mean(0), states[1].mean(0)])
    torch.testing.assert_close(bert(ids), expected)


def test_random_weights_without_a_file_and_a_clear_warning(tmp_path):
    with pytest.warns(UserWarning, match=r"no weights file at .*nothing\.pt; going on with RANDOM"):
        encoder = shapes_image_cnn(tmp_path / "nothing.pt")
    assert encoder.pretrained is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # weights=None asks for random weights: no warning
        bert = tiny_bert(weights=None)
    assert bert.pretrained is False and len(bert.vocab) == len(tiny_bert_vocabulary())


def test_a_file_of_the_wrong_kind_is_named(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"kind": "tiny_bert", "state_dict": {}}, path)
    with pytest.raises(ValueError, match="is not a kit file of kind 'shapes_cnn'"):
        shapes_image_cnn(path)
    with pytest.raises(TypeError, match="weights must be None, 'auto' or a path"):
        tiny_bert(weights=3)


def test_tiny_bert_names_bad_ids():
    bert = TinyBert(10, dim=8, max_len=4)
    with pytest.raises(ValueError, match="more than max_len=4"):
        bert.token_states(torch.ones(2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"token ids in \[0, 10\)"):
        bert.token_states(torch.full((2, 3), 12))
