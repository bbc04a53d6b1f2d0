"""Lesson 13 self-checks: the right answers pass, each typical slip gets its own hint, and the
checks agree with PyTorch and the kit's metrics."""

import pytest
import torch

from mmkit.exercises import check_causal_mask, check_chair, check_top_p


def causal_mask(n):
    return torch.ones(n, n, dtype=torch.bool).tril()


@pytest.mark.parametrize("fn,message", [
    (lambda n: torch.ones(n, n, dtype=torch.bool).triu(), "the upper triangle"),
    (lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1), "the diagonal is False"),
    (lambda n: ~torch.ones(n, n, dtype=torch.bool).tril(), "swapped"),
    (lambda n: torch.ones(n, n).tril(), "bool tensor"),
    (lambda n: torch.ones(n, n + 1, dtype=torch.bool), "has shape"),
    (lambda n: torch.ones(n, n, dtype=torch.bool), "differs from the causal mask"),
    (lambda n: None, "returned nothing"),
])
def test_causal_mask_check_names_each_mistake(fn, message):
    feedback = check_causal_mask(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


def test_causal_mask_check_passes_the_right_answer_which_matches_pytorch():
    assert check_causal_mask(causal_mask).passed
    for n in (1, 4, 7):
        torch_mask = torch.nn.Transformer.generate_square_subsequent_mask(n)
        assert torch.equal(causal_mask(n), torch_mask == 0)


def top_p_filter(probabilities, p):
    order = probabilities.argsort(descending=True)
    sorted_p = probabilities[order]
    keep_sorted = (sorted_p.cumsum(0) - sorted_p) < p
    keep = torch.zeros_like(keep_sorted)
    keep[order] = keep_sorted
    kept = probabilities * keep
    return kept / kept.sum()


def test_top_p_check_passes_the_right_answer():
    feedback = check_top_p(top_p_filter)
    assert feedback.passed, feedback.message


def _no_renormalise(probabilities, p):
    kept = top_p_filter(probabilities, p)
    return probabilities * (kept > 0)


def _exclusive(probabilities, p):
    order = probabilities.argsort(descending=True)
    keep_sorted = probabilities[order].cumsum(0) <= p
    keep_sorted[0] = True
    keep = torch.zeros_like(keep_sorted)
    keep[order] = keep_sorted
    kept = probabilities * keep
    return kept / kept.sum()


def _sorted(probabilities, p):
    return top_p_filter(probabilities, p).sort(descending=True).values


@pytest.mark.parametrize("fn,message", [
    (_no_renormalise, "not renormalised"),
    (_exclusive, "too few kept"),
    (_sorted, "sorted order"),
    (lambda probabilities, p: probabilities[:2], "one probability per token"),
    (lambda probabilities, p: probabilities, "expected"),
    (lambda probabilities, p: 1 / 0, "raised ZeroDivisionError"),
])
def test_top_p_check_names_each_mistake(fn, message):
    feedback = check_top_p(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


COLOURS = ("red", "yellow", "green", "blue")


def chair_i(caption, objects):
    words = caption.split()
    mentions = [(words[i - 1], w) for i, w in enumerate(words)
                if w in ("circle", "square", "triangle") and i and words[i - 1] in COLOURS]
    return sum(m not in objects for m in mentions) / len(mentions)


def test_chair_check_passes_the_right_answer():
    feedback = check_chair(chair_i)
    assert feedback.passed, feedback.message


def _missed(caption, objects):
    return sum(f"{c} {s}" not in caption for c, s in objects) / len(objects)


def _shape_only(caption, objects):
    shapes = [w for w in caption.split() if w in ("circle", "square", "triangle")]
    return sum(all(s != o[1] for o in objects) for s in shapes) / len(shapes)


@pytest.mark.parametrize("fn,message", [
    (_missed, "misses"),
    (_shape_only, "matches the shape only"),
    (lambda caption, objects: 0.5, "expected"),
    (lambda caption, objects: "half", "must be one number"),
])
def test_chair_check_names_each_mistake(fn, message):
    feedback = check_chair(fn)
    assert not feedback.passed and message in feedback.message, feedback.message
