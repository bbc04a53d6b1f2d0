"""Lesson 06 self-check: attention weights over modalities, with missing ones masked."""

from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, run


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def check_fusion_weights(fn: Callable) -> Feedback:
    """Exercise: write ``fusion_weights(scores, available)`` -> (B, M) attention weights.

    scores: (B, M) one score per sample and modality; available: bool (B, M), False where a
    modality is missing. Each row is a softmax over the modalities present; a missing
    modality gets exactly 0.
    """

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        scores = torch.randn(4, 3, generator=g) * 2
        everything = torch.ones(4, 3, dtype=torch.bool)
        out = call(fn, scores, everything)
        if out.shape != (4, 3):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (4, 3): one weight per "
                        "sample and modality, the same shape as scores")
        if _close(out, torch.softmax(scores, dim=0)):
            raise Wrong("takes softmax over the wrong dimension (the samples): each sample's "
                        "weights over its modalities must sum to 1, so softmax(dim=1)")
        if _close(out, scores) or _close(out, scores / scores.sum(1, keepdim=True)):
            raise Wrong("no softmax: raw scores can be negative and need not sum to 1; "
                        "apply torch.softmax(scores, dim=1)")
        if not _close(out, torch.softmax(scores, dim=1)):
            raise Wrong("differs from softmax(scores, dim=1) when every modality is present")

        available = torch.tensor([[True, True, False], [True, False, True],
                                  [False, True, True], [True, True, True]])
        out = call(fn, scores, available)
        expected = torch.softmax(scores.masked_fill(~available, float("-inf")), dim=1)
        if _close(out, torch.softmax(scores, dim=1)):
            raise Wrong("a missing modality is not masked: it still gets weight; set its "
                        "score to -inf before the softmax (scores.masked_fill(~available, ...))")
        if _close(out, torch.softmax(scores, dim=1) * available):
            raise Wrong("zeroes the missing modality after the softmax, so the rows no longer "
                        "sum to 1; mask the scores with -inf before the softmax instead")
        if _close(out, torch.softmax(scores.masked_fill(~available, 0.0), dim=1)):
            raise Wrong("fills the missing scores with 0, which still gets weight e^0; "
                        "fill them with float('-inf')")
        if not _close(out, expected):
            raise Wrong("gives wrong weights when a modality is missing: each row must be a "
                        "softmax over the modalities present, 0 for the missing ones")
        return "correct: a softmax over the modalities present, missing ones weighted 0"

    return run("attention fusion weights", checks)
