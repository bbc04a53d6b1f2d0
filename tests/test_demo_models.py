"""The explorers' default data and models (mmkit.demo_models), and the pipeline pieces they
moved into: shapes_world_splits, corrupt, evaluate_corrupted."""

import pytest
import torch

from mmkit import demo_models
from mmkit.data import corrupt
from mmkit.preprocess.splits import shapes_world_splits
from mmkit.preprocess.text import Vocabulary, encode_batch
from mmkit.train import evaluate_corrupted


def test_splits_share_no_scene_and_fit_the_vocabulary_on_the_first_split_only():
    data, vocab = shapes_world_splits({"train": 40, "test": 30}, seed=2, task="shape",
                                      modalities=("image", "text"), keep_captions=True,
                                      image_size=16)
    assert data["train"]["image"].shape == (40, 3, 16, 16) and data["test"]["label"].shape == (30,)
    assert vocab == Vocabulary.build(data["train"]["caption"])
    ids, _, _ = encode_batch(vocab, data["test"]["caption"])
    assert torch.equal(data["test"]["text"], ids)
    train_images = {tuple(x.flatten().tolist()) for x in data["train"]["image"]}
    assert not any(tuple(x.flatten().tolist()) in train_images for x in data["test"]["image"])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"sizes": {}}, TypeError, "sizes must be a non-empty dict"),
    ({"sizes": {"train": 0}}, ValueError, r"sizes\['train'\] must be >= 1"),
    ({"sizes": {"train": 4}, "vocab": {"a": 1}}, TypeError, "vocab must be a mmkit.preprocess"),
    ({"sizes": {"train": 4}, "seed": "1"}, TypeError, "seed must be an int"),
])
def test_splits_name_bad_arguments(kwargs, error, match):
    sizes = kwargs.pop("sizes")
    with pytest.raises(error, match=match):
        shapes_world_splits(sizes, **kwargs)


def test_corrupt_is_seeded_and_touches_one_modality():
    data = {"image": torch.zeros(4, 3), "text": torch.tensor([[2, 3, 0]] * 4),
            "label": torch.zeros(4, dtype=torch.long)}
    a, b = corrupt(data, "image", 0.5, seed=1), corrupt(data, "image", 0.5, seed=1)
    assert torch.equal(a["image"], b["image"]) and a["text"] is data["text"]
    swapped = corrupt(data, "text", 1.0)["text"]
    assert (swapped[:, 2] == 0).all()  # padding is never replaced
    with pytest.raises(ValueError, match="level must be a finite number >= 0"):
        corrupt(data, "image", -1)
    with pytest.raises(TypeError, match="data must be a dict of tensors"):
        corrupt([data], "image", 0.1)


def test_evaluate_corrupted_reports_the_named_models_weights():
    train, test, vocab_size = demo_models.fusion_data(n_train=64, n_test=16)
    models = {name: demo_models.image_text_classifier(vocab_size, name)
              for name in ("attention", "concat")}
    accuracy, weights = evaluate_corrupted(models, test, "image", 0.5, weights_of="attention")
    assert set(accuracy) == {"attention", "concat"} and weights.shape == (16, 2)
    assert evaluate_corrupted(models, test, "image", 0.5, weights_of="concat")[1] is None
    with pytest.raises(ValueError, match="weights_of must be one of 'attention', 'concat'"):
        evaluate_corrupted(models, test, "image", 0.5, weights_of="late")


def test_default_models_are_seeded_and_leave_the_learners_rng_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = demo_models.image_text_classifier(20, "attention", seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    second = demo_models.image_text_classifier(20, "attention", seed=4)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_quick_fit_learns_the_roc_task_better_than_chance():
    y, scores = demo_models.roc_scores(steps=150)
    from mmkit.metrics import roc_auc_score

    assert set(scores) == {"image", "image + text"}
    assert roc_auc_score(y, scores["image + text"]) > 0.75
