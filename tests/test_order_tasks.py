"""The order tasks of lesson 04: the labels follow their rules, and only the order tells."""

import pytest
import torch

from mmkit.data.order_tasks import WARMTH, remember_first, word_order_captions


def test_word_order_labels_follow_the_rule():
    data = word_order_captions(400, seed=0)
    assert len(data["text"]) == 400 and data["label"].shape == (400,)
    for text, label in zip(data["text"], data["label"].tolist(), strict=True):
        words = text.split()
        colours = [w for w in words if w in WARMTH]
        assert len(colours) == 2 and colours[0] != colours[1]
        left, right = colours if "left" in words else colours[::-1]
        assert label == int(WARMTH.index(left) < WARMTH.index(right)), text
    assert 0.4 < data["label"].float().mean() < 0.6


def test_swapping_the_colours_keeps_the_words_and_flips_the_label():
    data = word_order_captions(200, seed=1)
    for text, label in zip(data["text"], data["label"].tolist(), strict=True):
        words = text.split()
        a, b = (i for i, w in enumerate(words) if w in WARMTH)
        words[a], words[b] = words[b], words[a]
        swapped = " ".join(words)
        # The same bag of words ...
        assert sorted(swapped.split()) == sorted(text.split())
        # ... and the opposite answer: the left colour is now the other one.
        colours = [w for w in words if w in WARMTH]
        left, right = colours if "left" in words else colours[::-1]
        assert int(WARMTH.index(left) < WARMTH.index(right)) == 1 - label


def test_a_bag_of_words_cannot_beat_chance():
    """The best any order-blind rule can do: the majority label of each bag of words."""
    train, test = word_order_captions(3000, seed=2), word_order_captions(1000, seed=3)
    votes = {}
    for text, label in zip(train["text"], train["label"].tolist(), strict=True):
        votes.setdefault(tuple(sorted(text.split())), []).append(label)
    majority = {bag: round(sum(v) / len(v)) for bag, v in votes.items()}
    hits = [majority.get(tuple(sorted(t.split())), 1) == y
            for t, y in zip(test["text"], test["label"].tolist(), strict=True)]
    assert 0.4 < sum(hits) / len(hits) < 0.6


def test_remember_first():
    data = remember_first(300, length=12, seed=0, distractors=5)
    ids, labels = data["text"], data["label"]
    assert ids.shape == (300, 12) and ids.dtype == torch.int64
    assert torch.equal(ids[:, 0], labels + 1)
    assert ids[:, 1:].min() >= 3 and ids[:, 1:].max() <= 7
    assert 0.4 < labels.float().mean() < 0.6
    again = remember_first(300, length=12, seed=0, distractors=5)
    assert torch.equal(again["text"], ids)
    assert not torch.equal(remember_first(300, length=12, seed=1, distractors=5)["text"], ids)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: word_order_captions(0), ValueError, "n must be >= 1, got 0"),
    (lambda: word_order_captions(5, seed=1.5), TypeError, "seed must be an int, got float"),
    (lambda: remember_first(5, length=1), ValueError, "length must be >= 2, got 1"),
    (lambda: remember_first(5, length=4, distractors=0), ValueError, "distractors must be >= 1"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_word_order_label_gives_the_generators_labels():
    from mmkit.data import word_order_label

    data = word_order_captions(300, seed=3)
    assert [word_order_label(t) for t in data["text"]] == data["label"].tolist()
    assert word_order_label("a small red circle is left of a large blue square") == 1
    assert word_order_label("a small blue circle is left of a large red square") == 0


@pytest.mark.parametrize(("caption", "error", "match"), [
    (3, TypeError, "caption must be a str, got int"),
    ("a red circle", ValueError, "two different colours"),
    ("a red circle is left of a red square", ValueError, "two different colours"),
    ("a red circle above a blue square", ValueError, "one relation"),
])
def test_word_order_label_refuses_other_captions(caption, error, match):
    from mmkit.data import word_order_label

    with pytest.raises(error, match=match):
        word_order_label(caption)
