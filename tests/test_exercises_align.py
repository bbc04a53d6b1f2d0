"""Lesson 11 self-checks: right answers pass, typical slips get their hint, nothing raises."""

import math

import torch
import torch.nn.functional as F

from mmkit.exercises import (
    check_hard_negative_loss,
    check_perfect_batch_loss,
    check_recall_at_k,
)


def _ce(logits):
    return F.cross_entropy(logits, torch.arange(len(logits)))


def test_hard_negative_loss_check():
    def right(a, b, negatives, scale):
        rows = scale * a @ torch.cat([b, negatives]).T  # (B, B + M): caption i still right
        return (_ce(rows) + _ce(scale * b @ a.T)) / 2

    assert check_hard_negative_loss(right).passed
    slips = {
        "ignores the negatives": lambda a, b, n, s: (_ce(s * a @ b.T) + _ce(s * b @ a.T)) / 2,
        "only the image -> text side": lambda a, b, n, s: _ce(s * a @ torch.cat([b, n]).T),
        "adds the two sides": lambda a, b, n, s: _ce(s * a @ torch.cat([b, n]).T)
        + _ce(s * b @ a.T),
        "divides by logit_scale": lambda a, b, n, s: (_ce(a @ torch.cat([b, n]).T / s)
                                                      + _ce(b @ a.T / s)) / 2,
    }
    for hint, slip in slips.items():
        feedback = check_hard_negative_loss(slip)
        assert not feedback.passed and hint in feedback.message, (hint, feedback)
    off = check_hard_negative_loss(lambda a, b, n, s: right(a, b, n, s) + 0.1)
    assert "with 6 negatives at logit_scale=1.0" in off.message
    assert "not implemented" in check_hard_negative_loss(_stub).message
    assert "must return a torch.Tensor" in check_hard_negative_loss(lambda a, b, n, s: 1.0).message


def _stub(*args):
    raise NotImplementedError


def test_recall_at_k_check():
    def right(similarity, relevant, k):
        top = similarity.topk(k, dim=1).indices
        return relevant.gather(1, top).any(dim=1).float().mean()

    assert check_recall_at_k(right).passed

    def diagonal_only(similarity, relevant, k):
        top = similarity.topk(k, dim=1).indices
        return (top == torch.arange(len(similarity))[:, None]).any(dim=1).float().mean()

    slips = {
        "precision@k": lambda s, r, k: r.gather(1, s.topk(k, dim=1).indices).float().mean(),
        "lowest scores": lambda s, r, k: right(-s, r, k),
        "returns a count": lambda s, r, k: right(s, r, k) * len(s),
        "top 2": lambda s, r, k: right(s, r, max(k - 1, 1)),
    }
    for hint, slip in slips.items():
        feedback = check_recall_at_k(slip)
        assert not feedback.passed and hint in feedback.message, (hint, feedback)
    first = check_recall_at_k(diagonal_only)
    assert not first.passed and "with 8 queries, 10 items" in first.message
    assert "not implemented" in check_recall_at_k(_stub).message
    assert not check_recall_at_k(lambda s, r, k: "high").passed


def test_perfect_batch_loss_check():
    def right(temperature, batch_size):
        return math.log1p((batch_size - 1) * math.exp(-1 / temperature))

    feedback = check_perfect_batch_loss(right)
    assert feedback.passed and "about 4.6" in feedback.message
    assert "log(B)" in check_perfect_batch_loss(lambda t, b: math.log(b)).message
    times = check_perfect_batch_loss(lambda t, b: math.log1p((b - 1) * math.exp(-t)))
    assert "multiplies by the temperature" in times.message
    assert "expected" in check_perfect_batch_loss(lambda t, b: 0.0).message
    assert "not implemented" in check_perfect_batch_loss(_stub).message
