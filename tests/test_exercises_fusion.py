"""Lesson 06 self-checks pass right answers and name the specific mistake in wrong ones."""

import pytest
import torch

from mmkit import exercises


def _not_done(*args):
    raise NotImplementedError


def _geometric(probabilities):
    return torch.softmax(torch.stack([p.log() for p in probabilities]).mean(dim=0), dim=1)


def _normalised(q):
    return q / q.sum(dim=1, keepdim=True)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_geometric, True, "correct"),
    (lambda ps: _normalised(torch.stack(ps).prod(0) ** (1 / len(ps))), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda ps: None, False, "returned nothing"),
    (lambda ps: torch.stack(ps).mean(0), False, "arithmetic mean"),
    (lambda ps: torch.stack(ps).prod(0), False, "not normalised"),
    (lambda ps: _normalised(torch.stack(ps).prod(0)), False, "power 1/M"),
    (lambda ps: _normalised(torch.stack(ps).prod(0) ** (1 / 3)) if len(ps) == 3 else ps[0], False,
     "do not assume M = 3"),
    (lambda ps: torch.stack(ps).mean(0)[:, :2], False, "expected (4, 3)"),
    (lambda ps: torch.softmax(torch.stack(ps).mean(0), 1), False, "differs from softmax"),
])
def test_check_late_fusion(fn, passed, words):
    feedback = exercises.check_late_fusion(fn)
    assert feedback.passed is passed
    assert words in feedback.message


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda a, b: torch.einsum("rio,rjo->oij", a, b), True, "correct"),
    (lambda a, b: sum(torch.einsum("io,jo->oij", a[r], b[r]) for r in range(len(a))), True,
     "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda a, b: torch.einsum("rio,rjo->roij", a, b), False, "one tensor per rank"),
    (lambda a, b: torch.einsum("rio,rjo->ijo", a, b), False, "output index first"),
    (lambda a, b: torch.einsum("rio,rjo->oji", a, b), False, "(O, b, a)"),
    (lambda a, b: torch.einsum("rio,rjo->oij", a, b) / 2, False, "do not average"),
    (lambda a, b: torch.einsum("rio,rjo->oij", a, b.flip(0) * 0 + 1), False,
     "does not give the low-rank output"),
    (lambda a, b: torch.zeros(3, 3), False, "expected (O, a, b)"),
])
def test_check_low_rank_weight(fn, passed, words):
    feedback = exercises.check_low_rank_weight(fn)
    assert feedback.passed is passed
    assert words in feedback.message
