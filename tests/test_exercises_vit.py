"""Lesson 12 self-checks: the right answers pass, each typical mistake gets its own hint, and
nothing raises."""

import math

import pytest
import torch

from mmkit.exercises import check_cross_attention, check_patchify, check_tokens_and_flops


def _attention(tokens, dim):
    return 2 * (4 * tokens * dim * dim + 2 * tokens * tokens * dim)


def layer_flops(size, patch, dim, heads, feedforward):
    tokens = (size // patch) ** 2 + 1
    return tokens, _attention(tokens, dim) + 2 * 2 * tokens * dim * feedforward


def patchify(images, patch):
    b, c, h, w = images.shape
    blocks = images.reshape(b, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5)
    return blocks.reshape(b, (h // patch) * (w // patch), c * patch * patch)


def _read(words, patches, scale=True):
    scores = words @ patches.transpose(1, 2) / (math.sqrt(words.shape[-1]) if scale else 1)
    return torch.softmax(scores, dim=-1) @ patches


def words_read_patches(words, patches, padding):
    real = (~padding).float().unsqueeze(-1)
    return (_read(words, patches) * real).sum(dim=1) / real.sum(dim=1)


def _not_done(*args):
    raise NotImplementedError


def test_right_answers_pass():
    for check, fn in ((check_tokens_and_flops, layer_flops), (check_patchify, patchify),
                      (check_cross_attention, words_read_patches)):
        feedback = check(fn)
        assert feedback.passed, feedback.message
    message = check_tokens_and_flops(layer_flops).message
    assert "feed-forward is 44% of the FLOPs, Q Kᵀ and weights @ V 12%" in message  # of 315520


def _with_flops(flops_of):
    """A layer_flops with the right token count and flops_of(tokens, dim, heads, ff)."""
    def fn(s, p, d, h, f):
        tokens = layer_flops(s, p, d, h, f)[0]
        return tokens, flops_of(tokens, d, h, f)
    return fn


@pytest.mark.parametrize(("fn", "message"), [
    (lambda s, p, d, h, f: ((s // p) ** 2, 1), "the class token makes one more"),
    (lambda s, p, d, h, f: (s // p + 1, 1), "(size / patch)^2"),
    (_with_flops(lambda t, d, h, f: layer_flops(32, 4, d, h, f)[1] // 2), "counts multiply-adds"),
    (_with_flops(lambda t, d, h, f: _attention(t, d)), "the self-attention only"),
    (_with_flops(lambda t, d, h, f: 4 * t * d * f), "the feed-forward layer only"),
    (_with_flops(lambda t, d, h, f: _attention(t, d) + 2 * t * d * f), "one of the feed-forward"),
    (_with_flops(lambda t, d, h, f: 2 * (4 * t * d * d + h * 2 * t * t * d) + 4 * t * d * f),
     "multiplies by the 4 heads"),
    (_with_flops(lambda t, d, h, f: h * _attention(t, d) + 4 * t * d * f), "multiplies by the"),
    (_with_flops(lambda t, d, h, f: 4 * t * t * d + 4 * t * d * f), "the four projections"),
    (_with_flops(lambda t, d, h, f: 5), "expected"),
    (lambda s, p, d, h, f: layer_flops(s, p, d, h, f)[0], "must return the pair"),
    (_not_done, "not implemented yet"),
])
def test_layer_flops_mistakes(fn, message):
    feedback = check_tokens_and_flops(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


@pytest.mark.parametrize(("fn", "message"), [
    (lambda x, p: torch.nn.functional.unfold(x, p, stride=p), "returns (B, C*P*P, N)"),
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


def _hide_padded_words_as_keys(words, patches, padding):
    scores = words @ patches.transpose(1, 2) / math.sqrt(words.shape[-1])
    return torch.softmax(scores.masked_fill(padding[:, None, :], -math.inf), -1) @ patches


def _hide_padded_words_rows(words, patches, padding):
    scores = words @ patches.transpose(1, 2) / math.sqrt(words.shape[-1])
    read = torch.softmax(scores.masked_fill(padding[:, :, None], -math.inf), -1) @ patches
    return read.mean(dim=1)


@pytest.mark.parametrize(("fn", "message"), [
    (lambda w, p, m: _read(w, p), "one vector per word"),
    (lambda w, p, m: _read(w, p).mean(dim=1), "averages the padded words too"),
    (lambda w, p, m: (_read(w, p) * (~m).float().unsqueeze(-1)).sum(dim=1), "sums the real words"),
    (lambda w, p, m: (_read(w, p, scale=False) * (~m).float().unsqueeze(-1)).sum(dim=1)
     / (~m).float().sum(dim=1, keepdim=True), "forgot the √d scaling"),
    (_hide_padded_words_as_keys, "marks words, the queries"),
    (_hide_padded_words_rows, "gives NaN"),
    (lambda w, p, m: w.sum(dim=1), "differs from the mean over the real words"),
    (lambda w, p, m: p, "shape"),
    (lambda w, p, m: 1 / 0, "raised ZeroDivisionError"),
    (_not_done, "not implemented yet"),
])
def test_cross_attention_mistakes(fn, message):
    feedback = check_cross_attention(fn)
    assert not feedback.passed and message in feedback.message, feedback.message
