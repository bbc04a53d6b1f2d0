"""Referring questions: each names one object of its scene, by a colour no other object has,
and its answer and mask are that object's; the same questions for any n and any process;
the question models and their parameter counts."""

import pytest
import torch

from mmkit.data.referring import ReferringQuestions
from mmkit.data.scenes import Scenes
from mmkit.demo_vit import question_vocabulary, referring_data
from mmkit.token_models import FUSIONS, TokenClassifier, count_parameters, referring_classifier


@pytest.fixture(scope="module")
def questions():
    return ReferringQuestions(n=120, seed=3)


def test_each_question_names_one_object_by_a_colour_of_its_own(questions):
    scenes = Scenes(n=len(questions.scenes), image_size=32, seed=3, n_objects=(2, 3),
                    modalities=("image",))
    for i in range(len(questions)):
        sample = questions[i]
        truth = scenes.truth(sample["scene"])
        objects = truth["objects"]
        target = objects[sample["target"]]
        assert sample["text"] == f"what size is the {target['colour']} {target['shape']}"
        assert [o["colour"] for o in objects].count(target["colour"]) == 1
        assert ReferringQuestions.classes[sample["label"]] == target["size"]
        assert 2 <= sample["n_objects"] == len(objects) <= 3
        rendered = scenes[sample["scene"]]
        assert torch.equal(sample["mask"], rendered["masks"][sample["target"]])
        assert torch.equal(sample["image"], rendered["image"])
        assert sample["mask"].any()


def test_scenes_without_an_object_of_its_own_colour_are_skipped(questions):
    used = set(questions._scene)
    for index in range(max(used)):
        colours = [o["colour"] for o in questions.scenes.truth(index)["objects"]]
        has_unique = any(colours.count(c) == 1 for c in colours)
        assert (index in used) == has_unique


def test_the_first_questions_do_not_depend_on_n(questions):
    few = ReferringQuestions(n=15, seed=3)
    for i in range(15):
        assert few.truth(i) == questions.truth(i)


def test_same_questions_in_another_process(same_in_two_processes):
    same_in_two_processes(
        "import hashlib\n"
        "from mmkit.data.referring import ReferringQuestions\n"
        "for seed in (0, 1):\n"
        "    q = ReferringQuestions(n=40, seed=seed)\n"
        "    text = repr([(q.truth(i)['text'], q.truth(i)['label'], q.truth(i)['scene'])"
        " for i in range(40)]) + repr(q[7]['image'].sum().item())\n"
        "    print(seed, hashlib.sha256(text.encode()).hexdigest())\n")


def test_answers_are_balanced_and_described(questions):
    labels = questions.labels
    assert labels.shape == (120,) and set(labels.tolist()) == {0, 1}
    assert 0.3 < labels.float().mean() < 0.7
    text = questions.describe()
    assert "120 questions" in text and "answers: small:" in text


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"n_objects": 1}, ValueError, "n_objects must be at least 2"),
    ({"n_objects": (1, 3)}, ValueError, "n_objects must be at least 2"),
    ({"n": 0}, ValueError, "n must be >= 1"),
    ({"seed": 1.5}, TypeError, "seed must be an int"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReferringQuestions(**{"n": 5, **kwargs})


def test_index_errors(questions):
    with pytest.raises(IndexError, match="out of range for 120 questions"):
        questions[120]
    with pytest.raises(TypeError, match="index must be an int"):
        questions["0"]


def test_referring_data_and_the_three_models():
    data, vocab = referring_data({"train": 20, "test": 6}, seed=0)
    assert vocab == question_vocabulary()
    train = data["train"]
    assert train["image"].shape == (20, 3, 32, 32) and train["text"].shape == (20, 6)
    assert train["mask"].shape == (20, 32, 32) and len(train["question"]) == 20
    counts = {}
    for name in FUSIONS:
        model = referring_classifier(len(vocab), name, seed=0)
        assert isinstance(model, TokenClassifier)
        logits = model({k: train[k] for k in ("image", "text")})
        assert logits.shape == (20, 2)
        counts[name] = count_parameters(model)
    spread = max(counts.values()) / min(counts.values())
    assert spread < 1.01, counts  # comparable parameter counts, as the lesson claims
    pooled = referring_classifier(len(vocab), "cross-attention", num_queries=3, seed=0)
    assert pooled({k: train[k] for k in ("image", "text")}).shape == (20, 2)
    assert pooled.pooler.last_weights.shape == (20, 2, 3, 16)
    same = referring_classifier(len(vocab), "concatenation", seed=0)
    assert all(torch.equal(a, b) for a, b in zip(same.parameters(),
                                                 referring_classifier(len(vocab), "concatenation",
                                                                      seed=0).parameters(),
                                                 strict=True))
    with pytest.raises(ValueError, match="num_queries needs fusion='cross-attention'"):
        referring_classifier(len(vocab), "concatenation", num_queries=2)
    with pytest.raises(ValueError, match="fusion must be one of"):
        referring_classifier(len(vocab), "sum")


def test_token_classifier_checks_what_it_is_given():
    from mmkit.cross_attention import CrossAttentionFusion
    from mmkit.encoders import ImageCNN, PatchTokens, TextTokens

    encoders = {"image": PatchTokens(16, 4, dim=8), "text": TextTokens(10, dim=8, heads=2,
                                                                        layers=1)}
    with pytest.raises(ValueError, match="the fusion expects tokens"):
        TokenClassifier(encoders, CrossAttentionFusion({"image": 8, "text": 4}), 2)
    with pytest.raises(TypeError, match="must keep its tokens"):
        TokenClassifier({"image": ImageCNN()}, CrossAttentionFusion({"image": 64, "text": 8}), 2)
    model = TokenClassifier(encoders, CrossAttentionFusion({"image": 8, "text": 8}), 2)
    with pytest.raises(ValueError, match="the batch has no 'text'"):
        model({"image": torch.rand(1, 3, 16, 16)})
