"""Lesson 06 self-checks pass right answers and name the specific mistake in wrong ones."""

import pytest
import torch

from mmkit import exercises, fusion


def _not_done(*args):
    raise NotImplementedError


def _late(probabilities, present):
    log_p = torch.stack(probabilities, dim=1).log()  # (B, M, K)
    log_p = torch.where(present.unsqueeze(-1), log_p, torch.zeros_like(log_p))
    return torch.softmax(log_p.sum(dim=1) / present.sum(dim=1, keepdim=True), dim=1)


def _late_loop(probabilities, present):  # another right answer: one sample at a time
    rows = []
    for b in range(present.shape[0]):
        chosen = [p[b] for p, here in zip(probabilities, present[b], strict=True) if here]
        product = torch.stack(chosen).prod(dim=0) ** (1 / len(chosen))
        rows.append(product / product.sum())
    return torch.stack(rows)


def _late_all(probabilities, present):  # ignores present
    return torch.softmax(torch.stack(probabilities).log().mean(dim=0), dim=1)


def _late_multiplied(probabilities, present):  # 0 * log 0 = NaN for missing zero rows
    log_p = torch.stack(probabilities, dim=1).log() * present.unsqueeze(-1)
    return torch.softmax(log_p.sum(dim=1) / present.sum(dim=1, keepdim=True), dim=1)


def _late_over_m(probabilities, present):
    log_p = torch.stack(probabilities, dim=1).log()
    log_p = torch.where(present.unsqueeze(-1), log_p, torch.zeros_like(log_p))
    return torch.softmax(log_p.sum(dim=1) / len(probabilities), dim=1)


def _late_epsilon(probabilities, present):
    return _late([p + 1e-8 for p in probabilities], present)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_late, True, "correct"),
    (_late_loop, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda ps, present: None, False, "returned nothing"),
    (lambda ps, present: torch.stack(ps).mean(0), False, "arithmetic mean"),
    (lambda ps, present: (lambda q: q / q.sum(1, keepdim=True))(torch.stack(ps).prod(0)), False,
     "power 1/M"),
    (lambda ps, present: torch.stack(ps).prod(0) ** (1 / len(ps)), False, "sum to 1"),
    (_late_all, False, "missing experts still count"),
    (_late_multiplied, False, "0 × log 0"),
    (_late_over_m, False, "divides by M"),
    (_late_epsilon, False, "veto"),
    (lambda ps, present: _late(ps, present)[:, :2], False, "expected (B, K)"),
    (lambda ps, present: _late(ps, present) if len(ps) == 3 else ps[0], False,
     "do not assume M = 3"),
])
def test_check_late_fusion_present(fn, passed, words):
    feedback = exercises.check_late_fusion_present(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message, feedback.message


def test_the_late_fusion_answer_is_what_late_fusion_computes():
    """The exercise's answer equals the kit's LateFusion with the experts' log p as logits."""
    g = torch.Generator().manual_seed(4)
    probabilities = [torch.softmax(torch.randn(5, 3, generator=g), dim=1) for _ in range(3)]
    present = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1], [0, 0, 1]]).bool()
    layer = fusion.LateFusion({"a": 3, "b": 3, "c": 3}, num_classes=3)
    for head in layer.heads.values():  # each head passes its input through: logits = log p
        with torch.no_grad():
            head.weight.copy_(torch.eye(3))
            head.bias.zero_()
    logits = layer({m: p.log() for m, p in zip("abc", probabilities, strict=True)},
                   {m: present[:, k] for k, m in enumerate("abc")})
    assert torch.allclose(torch.softmax(logits, dim=1), _late(probabilities, present), atol=1e-6)


def _size(dims, small, out_dim, rank=None):
    projections = sum(d * small + small for d in dims)
    if rank is None:
        return projections + (small + 1) ** len(dims) * out_dim + out_dim
    return projections + rank * len(dims) * (small + 1) * out_dim + out_dim


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_size, True, "correct"),
    (lambda *a: torch.tensor(_size(*a)), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda d, s, o, r=None: "many", False, "must return a number"),
    (lambda d, s, o, r=None: _size(d, s - 1, o, r) + sum(x + 1 for x in d) if r is None
     else _size(d, s, o, r), False, None),
    (lambda d, s, o, r=None: sum(x * s + s for x in d) + s ** len(d) * o + o if r is None
     else _size(d, s, o, r), False, "a 1 is appended"),
    (lambda d, s, o, r=None: sum(x * s + s for x in d) + (s + 1) * len(d) * o + o if r is None
     else _size(d, s, o, r), False, "product of the sizes"),
    (lambda d, s, o, r=None: _size(d, s, o, r) - sum(x * s + s for x in d), False,
     "projections to small are parameters"),
    (lambda d, s, o, r=None: _size(d, s, o, r) - o, False, "bias of out_dim"),
    (lambda d, s, o, r=None: _size(d, s, o, r) - len(d) * s, False, "bias of small"),
    (lambda d, s, o, r=None: _size(d, s, o) if r is None
     else sum(x * s + s for x in d) + r * (s + 1) * o + o, False, "its own factor"),
    (lambda d, s, o, r=None: _size(d, s, o) if r is None
     else sum(x * s + s for x in d) + r * len(d) * s * o + o, False, "the appended 1"),
    (lambda d, s, o, r=None: _size(d, s, o), False, "no full output layer"),
])
def test_check_tensor_fusion_parameters(fn, passed, words):
    feedback = exercises.check_tensor_fusion_parameters(fn)
    assert feedback.passed is passed, feedback.message
    if words:
        assert words in feedback.message, feedback.message
