"""Lesson 06 self-checks: attention weights with missing modalities masked; late fusion as a
product of experts; the full weight tensor of a low-rank tensor fusion."""

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


def _experts(seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.softmax(torch.randn(4, 3, generator=g) * 2, dim=1) for _ in range(3)]


def check_late_fusion(fn: Callable) -> Feedback:
    """Exercise: write ``late_fusion_probabilities(probabilities)`` -> (B, K).

    probabilities: a list of M (B, K) tensors, each modality's class probabilities. Late
    fusion averages the logits and applies softmax, which gives the renormalised geometric
    mean of the probabilities (a product of experts), not their arithmetic mean.
    """

    def checks() -> str:
        experts = _experts()
        logits = [p.log() + torch.arange(4.0)[:, None] for p in experts]  # any logits will do
        expected = torch.softmax(torch.stack(logits).mean(dim=0), dim=1)
        out = call(fn, [p.clone() for p in experts])
        if out.shape != (4, 3):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (4, 3): one probability per "
                        "sample and class")
        if _close(out, torch.stack(experts).mean(dim=0)):
            raise Wrong("this is the arithmetic mean of the probabilities (a mixture, like a "
                        "vote of the experts); averaging the *logits* multiplies the experts: "
                        "take the mean of log p, then softmax")
        product = torch.stack(experts).prod(dim=0)
        if _close(out, product) or _close(out, product ** (1 / 3)):
            raise Wrong("the product (or geometric mean) is right in shape but not normalised: "
                        "each row must sum to 1; divide by the row sum (or use softmax)")
        if _close(out, product / product.sum(1, keepdim=True)):
            raise Wrong("the product of the probabilities is the *sum* of the log-probabilities; "
                        "late fusion takes their *mean*: raise the product to the power 1/M "
                        "before normalising")
        if not torch.allclose(out.sum(dim=1), torch.ones(4), atol=1e-5):
            raise Wrong("each row must be probabilities summing to 1")
        if not _close(out, expected):
            raise Wrong("differs from softmax(mean of the logits); log p is a logit up to a "
                        "constant per row, which the softmax ignores")
        two = _experts(seed=2)[:2]
        expected_two = torch.softmax(torch.stack([p.log() for p in two]).mean(dim=0), dim=1)
        if not _close(call(fn, two), expected_two):
            raise Wrong("right for three modalities but not for two: do not assume M = 3")
        return "correct: the renormalised geometric mean of the experts, a product of experts"

    return run("late fusion as a product of experts", checks)


def check_low_rank_weight(fn: Callable) -> Feedback:
    """Exercise: write ``full_weight(factor_a, factor_b)`` -> (O, a, b), the full tensor of a
    low-rank tensor fusion whose factors are (R, a, O) and (R, b, O); checked through
    ``torch.nn.Bilinear`` against the low-rank computation."""

    def checks() -> str:
        g = torch.Generator().manual_seed(3)
        fa, fb = torch.randn(2, 4, 5, generator=g), torch.randn(2, 3, 5, generator=g)
        out = call(fn, fa.clone(), fb.clone())
        if out.shape == (5, 3, 4):
            raise Wrong("shape (O, b, a): the first factor's index must come first, (O, a, b)")
        if out.shape == (4, 3, 5):
            raise Wrong("shape (a, b, O): nn.Bilinear wants the output index first, (O, a, b)")
        if out.shape == (2, 5, 4, 3) or out.shape == (2, 4, 3, 5):
            raise Wrong("one tensor per rank: the full weight is their *sum* over r")
        if out.shape != (5, 4, 3):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (O, a, b) = (5, 4, 3)")
        a, b = torch.randn(6, 4, generator=g), torch.randn(6, 3, generator=g)
        low_rank = (torch.einsum("bi,rio->bro", a, fa) * torch.einsum("bj,rjo->bro", b, fb)).sum(1)
        bilinear = torch.nn.Bilinear(4, 3, 5, bias=False)
        with torch.no_grad():
            bilinear.weight.copy_(out)
            got = bilinear(a, b)
        if _close(got, low_rank / 2):
            raise Wrong("half the right values: sum over the rank, do not average")
        if not _close(got, low_rank):
            raise Wrong("nn.Bilinear with this weight does not give the low-rank output: "
                        "W[o, i, j] = sum over r of factor_a[r, i, o] * factor_b[r, j, o]")
        return "correct: nn.Bilinear with this weight gives the low-rank fusion's output"

    return run("low-rank factors to the full tensor", checks)
