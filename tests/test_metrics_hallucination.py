"""CHAIR and POPE against hand-worked examples, scikit-learn's scores and the scenes' truth."""

import math
import random

import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from mmkit.data import Scenes
from mmkit.metrics import chair, object_mentions, pope

SCENE = [{"colour": "red", "shape": "circle"}, {"colour": "blue", "shape": "square"}]


def test_object_mentions_reads_colour_and_shape_pairs():
    assert object_mentions("a small red circle left of a large blue square") == [
        ("red", "circle"), ("blue", "square")]
    assert object_mentions("a large circle and a red") == [(None, "circle")]
    assert object_mentions("Red Circle") == [("red", "circle")]


def test_chair_by_hand():
    captions = ["a small red circle left of a large blue square",  # both there
                "a small red circle above a large green square",   # green square is not
                "a large circle and a triangle"]                   # circle yes, triangle no
    scores = chair(captions, [SCENE, SCENE, SCENE])
    assert scores["mentions"] == 6 and scores["hallucinated"] == 2
    assert scores["chair_i"] == pytest.approx(2 / 6)
    assert scores["chair_s"] == pytest.approx(2 / 3)
    # Objects named: scene 1 both, scene 2 the red circle; "a large circle" names no pair.
    assert scores["coverage"] == pytest.approx(3 / 6)


def test_chair_of_the_true_captions_is_zero_and_of_swapped_colours_is_not():
    scenes = Scenes(n=60, seed=3)
    truths = [scenes.truth(i) for i in range(60)]
    objects = [t["objects"] for t in truths]
    true = chair([t["caption"] for t in truths], objects)
    assert true["chair_i"] == 0 and true["chair_s"] == 0 and true["coverage"] == 1
    # Give each object a colour it does not have: every mention a hallucination.
    rng = random.Random(0)
    wrong = []
    for t in truths:
        objs = [dict(o) for o in t["objects"]]
        present = {(o["colour"], o["shape"]) for o in objs}
        for o in objs:
            o["colour"] = rng.choice([c for c in Scenes.colours
                                      if (c, o["shape"]) not in present])
        wrong.append(" and ".join(f"a {o['size']} {o['colour']} {o['shape']}" for o in objs))
    bad = chair(wrong, objects)
    assert bad["chair_i"] == 1 and bad["chair_s"] == 1


def test_chair_without_mentions_is_nan():
    scores = chair(["nothing to see"], [SCENE])
    assert math.isnan(scores["chair_i"]) and scores["chair_s"] == 0 and scores["mentions"] == 0


def test_chair_accepts_pairs():
    assert chair(["a red circle"], [[("red", "circle")]])["chair_i"] == 0


@pytest.mark.parametrize("captions,objects,error,match", [
    ("a red circle", [SCENE], TypeError, "captions must be a list"),
    (["a"], SCENE, ValueError, "one list per caption"),
    ([], [], ValueError, "captions is empty"),
    (["a"], [[{"colour": "red"}]], ValueError, "needs 'colour' and 'shape'"),
    (["a"], [["red circle"]], TypeError, r"objects\[0\] must be a dict"),
    ([3], [SCENE], TypeError, "caption must be a str"),
])
def test_chair_bad_input(captions, objects, error, match):
    with pytest.raises(error, match=match):
        chair(captions, objects)


@pytest.mark.parametrize("seed", range(30))
def test_pope_equals_scikit_learn(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 40)
    truth = [rng.random() < 0.5 for _ in range(n)]
    answers = [rng.choice(["yes", "no", "yes it is", "No", "red"]) for _ in range(n)]
    said = [a.lower().split()[0] == "yes" for a in answers]
    scores = pope(answers, truth)
    assert scores["accuracy"] == pytest.approx(accuracy_score(truth, said))
    assert scores["precision"] == pytest.approx(precision_score(truth, said, zero_division=0))
    assert scores["recall"] == pytest.approx(recall_score(truth, said, zero_division=0))
    assert scores["f1"] == pytest.approx(f1_score(truth, said, zero_division=0))
    assert scores["yes_ratio"] == pytest.approx(sum(said) / n)


def test_pope_of_a_model_that_always_says_yes():
    scores = pope(["yes"] * 4, ["yes", "no", "yes", "no"])
    assert scores == {"accuracy": 0.5, "precision": 0.5, "recall": 1.0,
                      "f1": pytest.approx(2 / 3), "yes_ratio": 1.0}
    never = pope(["no"] * 4, [True, False, True, False])
    assert never["precision"] == 0 and never["f1"] == 0 and never["yes_ratio"] == 0


@pytest.mark.parametrize("answers,truth,error,match", [
    ("yes", ["yes"], TypeError, "answers must be a list"),
    (["yes"], "yes", TypeError, "truth must be a list"),
    ([], [], ValueError, "answers is empty"),
    (["yes"], ["yes", "no"], ValueError, "same length"),
    ([1], ["yes"], TypeError, "str answers"),
])
def test_pope_bad_input(answers, truth, error, match):
    with pytest.raises(error, match=match):
        pope(answers, truth)
