"""Lesson 12 self-checks: the right answers pass, each typical mistake gets its own hint, and
nothing raises."""

import math

import pytest
import torch
import torch.nn.functional as F

from mmkit.exercises import check_cross_attention, check_patchify, check_tokens_and_flops


def tokens_and_flops(size, patch, dim):
    tokens = (size // patch) ** 2 + 1
    return tokens, 2 * (4 * tokens * dim * dim + 2 * tokens * tokens * dim)


def patchify(images, patch):
    b, c, h, w = images.shape
    blocks = images.reshape(b, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5)
    return blocks.reshape(b, (h // patch) * (w // patch), c * patch * patch)


def cross_attention(x, context, padding):
    scores = x @ context.transpose(1, 2) / math.sqrt(x.shape[-1])
    return torch.softmax(scores.masked_fill(padding[:, None, :], float("-inf")), -1) @ context


def _not_done(*args):
    raise NotImplementedError


def test_right_answers_pass():
    for check, fn in ((check_tokens_and_flops, tokens_and_flops), (check_patchify, patchify),
                      (check_cross_attention, cross_attention)):
        feedback = check(fn)
        assert feedback.passed, feedback.message


@pytest.mark.parametrize(("fn", "message"), [
    (lambda s, p, d: ((s // p) ** 2, 1), "the class token makes one more"),
    (lambda s, p, d: (s // p + 1, 1), "(size / patch)^2"),
    (lambda s, p, d: (tokens_and_flops(s, p, d)[0], tokens_and_flops(s, p, d)[1] // 2),
     "counts multiply-adds"),
    (lambda s, p, d: (tokens_and_flops(s, p, d)[0], 4 * tokens_and_flops(s, p, d)[0] ** 2 * d),
     "the four projections"),
    (lambda s, p, d: (tokens_and_flops(s, p, d)[0], 5), "expected"),
    (lambda s, p, d: tokens_and_flops(s, p, d)[0], "must return the pair"),
    (_not_done, "not implemented yet"),
])
def test_tokens_and_flops_mistakes(fn, message):
    feedback = check_tokens_and_flops(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


@pytest.mark.parametrize(("fn", "message"), [
    (lambda x, p: F.unfold(x, p, stride=p), "returns (B, C*P*P, N)"),
    (lambda x, p: x.reshape(x.shape[0], x.shape[1], x.shape[2] // p, p, x.shape[3] // p, p)
     .permute(0, 2, 4, 3, 5, 1).reshape(x.shape[0], -1, x.shape[1] * p * p), "channel last"),
    (lambda x, p: x.reshape(x.shape[0], x.shape[1], x.shape[2] // p, p, x.shape[3] // p, p)
     .permute(0, 4, 2, 1, 3, 5).reshape(x.shape[0], -1, x.shape[1] * p * p), "column by column"),
    (lambda x, p: torch.zeros(x.shape[0], 5, 48), "shape"),
    (lambda x, p: patchify(x, p) + 1, "differs from the patches"),
    (lambda x, p: None, "returned nothing"),
])
def test_patchify_mistakes(fn, message):
    feedback = check_patchify(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


@pytest.mark.parametrize(("fn", "message"), [
    (lambda x, c, m: torch.softmax(x @ c.transpose(1, 2) / math.sqrt(8), -1) @ c, "ignores padding"),
    (lambda x, c, m: cross_attention(x, c, ~m), "masks the wrong tokens"),
    (lambda x, c, m: torch.softmax((x @ c.transpose(1, 2)).masked_fill(m[:, None, :], -math.inf),
                                   -1) @ c, "forgot the √d scaling"),
    (lambda x, c, m: x, "differs from softmax"),
    (lambda x, c, m: c, "shape"),
    (lambda x, c, m: 1 / 0, "raised ZeroDivisionError"),
])
def test_cross_attention_mistakes(fn, message):
    feedback = check_cross_attention(fn)
    assert not feedback.passed and message in feedback.message, feedback.message
