"""Lesson 06 self-checks: attention weights with missing modalities masked; late fusion as a
product of the experts present; the parameters of full and low-rank tensor fusion."""

from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, run


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


def _experts(seed: int, m: int = 3, b: int = 4, k: int = 3) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.softmax(torch.randn(b, k, generator=g) * 2, dim=1) for _ in range(m)]


def _late_reference(probabilities: list, present: torch.Tensor) -> torch.Tensor:
    """The mean of log p over the experts present, then softmax: 0 stays 0, no NaN."""
    log_p = torch.stack(probabilities, dim=1).log()  # (B, M, K)
    log_p = torch.where(present.unsqueeze(-1), log_p, torch.zeros_like(log_p))
    mean = log_p.sum(dim=1) / present.sum(dim=1, keepdim=True)
    return torch.softmax(mean, dim=1)


def check_late_fusion_present(fn: Callable) -> Feedback:
    """Exercise: write ``late_fusion_present(probabilities, present)`` -> (B, K).

    probabilities: a list of M (B, K) tensors, each expert's (modality's) class
    probabilities; present: bool (B, M), False where a modality is missing in that sample
    (its row of probabilities is then meaningless). Return what late fusion gives: the
    softmax of the mean log-probability over the experts *present* (the renormalised
    geometric mean, a product of experts). A class that a present expert gives probability
    exactly 0 is vetoed: 0, not NaN.
    """

    def checks() -> str:
        experts = _experts(1)
        everyone = torch.ones(4, 3, dtype=torch.bool)
        out = call(fn, [p.clone() for p in experts], everyone.clone())
        if out.shape != (4, 3):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (B, K) = (4, 3): one "
                        "probability per sample and class")
        if _close(out, torch.stack(experts).mean(dim=0)):
            raise Wrong("this is the arithmetic mean of the probabilities (a mixture, like a "
                        "vote); averaging the *logits* multiplies the experts: take the mean "
                        "of log p, then softmax")
        product = torch.stack(experts).prod(dim=0)
        if _close(out, product / product.sum(1, keepdim=True)):
            raise Wrong("the product of the probabilities is the *sum* of the log-"
                        "probabilities; late fusion takes their *mean* (a power 1/M)")
        if not torch.allclose(out.sum(dim=1), torch.ones(4, dtype=out.dtype), atol=1e-5):
            raise Wrong("each row must be probabilities that sum to 1: normalise (softmax)")
        if not _close(out, _late_reference(experts, everyone)):
            raise Wrong("with every expert present this differs from softmax(mean of log p)")

        # Missing experts: their rows are junk, zeros included, and must not count.
        present = torch.tensor([[True, True, False], [True, False, False],
                                [False, True, True], [True, True, True]])
        junk = [p.clone() for p in experts]
        for m in range(3):
            junk[m][~present[:, m]] = torch.tensor([0.0, 0.0, 1.0])
        out = call(fn, [p.clone() for p in junk], present.clone())
        expected = _late_reference(junk, present)
        if out.shape != (4, 3):
            raise Wrong(f"output shape {tuple(out.shape)} with a modality missing, expected (4, 3)")
        if torch.isnan(out).any():
            raise Wrong("NaN where a modality is missing: its row holds zeros, and 0 × log 0 is "
                        "NaN; leave a missing expert out with torch.where(present, log p, 0), "
                        "not by multiplying")
        everything = torch.softmax(torch.stack(junk).log().mean(dim=0), dim=1)
        if _close(out, everything):
            raise Wrong("the missing experts still count: average only over the experts "
                        "present in each sample (present[b, m] True)")
        zeroed = torch.where(present.T.unsqueeze(-1), torch.stack(junk).log(), torch.zeros(1))
        if _close(out, torch.softmax(zeroed.sum(0) / 3, dim=1)):
            raise Wrong("divides by M for every sample: a sample with one expert present must "
                        "divide by 1; divide by present.sum(dim=1)")
        if not _close(out, expected):
            raise Wrong("wrong when a modality is missing: each sample's result is the softmax "
                        "of the mean log p over *its* present experts")

        # A veto: a present expert that gives a class probability exactly 0.
        vetoing = [p.clone() for p in experts]
        vetoing[0][0] = torch.tensor([0.0, 0.3, 0.7])
        out = call(fn, [p.clone() for p in vetoing], everyone.clone())
        if torch.isnan(out).any():
            raise Wrong("NaN when an expert gives a class probability 0: log 0 = -inf is fine "
                        "inside a softmax (e^-inf = 0); do not add an epsilon or mask it away")
        if out[0, 0] != 0:
            raise Wrong(f"an expert present said class 0 is impossible (p = 0), but the fused "
                        f"probability is {float(out[0, 0]):.3g}: a product of experts gives "
                        "0 — every expert can veto. (An epsilon added to p breaks that.)")
        if not _close(out, _late_reference(vetoing, everyone)):
            raise Wrong("wrong when an expert gives a probability of 0")
        two = _experts(2, m=2)
        if not _close(call(fn, two, torch.ones(4, 2, dtype=torch.bool)),
                      _late_reference(two, torch.ones(4, 2, dtype=torch.bool))):
            raise Wrong("right for three modalities but not for two: do not assume M = 3")
        return ("correct: the product of the experts present, renormalised; a missing expert "
                "is left out and a zero vetoes its class")

    return run("late fusion with missing experts", checks)


def _tensor_fusion_size(dims: list, small: int, out_dim: int, rank=None) -> int:
    """Parameters of the kit's TensorFusion, counted on the module itself."""
    from mmkit.fusion import TensorFusion

    module = TensorFusion({f"m{i}": d for i, d in enumerate(dims)}, out_dim=out_dim,
                          small=small, rank=rank)
    return sum(p.numel() for p in module.parameters())


def check_tensor_fusion_parameters(fn: Callable) -> Feedback:
    """Exercise: write ``tensor_fusion_parameters(dims, small, out_dim, rank=None)`` -> int,
    the number of learned numbers in tensor fusion: a projection (weight and bias) from each
    modality's d_m features to ``small``; then, with a 1 appended to each, either the full
    output layer on the outer product (rank None: its weight and bias) or, low-rank, one
    factor (rank, small + 1, out_dim) per modality and one bias. Checked against
    ``mmkit.fusion.TensorFusion``'s own parameters.
    """

    cases = [([6, 4], 3, 5, None), ([6, 4], 3, 5, 2), ([16, 16, 16], 4, 8, None),
             ([16, 16, 16], 4, 8, 3), ([10, 7, 5, 3], 2, 4, None), ([10, 7, 5, 3], 6, 16, 4)]

    def checks() -> str:
        for dims, small, out_dim, rank in cases:
            got = call_any(fn, list(dims), small, out_dim, rank)
            try:
                got = int(got) if float(got) == int(got) else float(got)
            except (TypeError, ValueError):
                raise Wrong(f"must return a number of parameters (an int), got "
                            f"{type(got).__name__}") from None
            want = _tensor_fusion_size(dims, small, out_dim, rank)
            if got == want:
                continue
            setting = f"dims={dims}, small={small}, out_dim={out_dim}, rank={rank}"
            m = len(dims)
            projections = sum(d * small + small for d in dims)
            if rank is None:
                body = (small + 1) ** m * out_dim + out_dim
                if got == projections + small ** m * out_dim + out_dim:
                    raise Wrong(f"{setting}: the outer product has (small + 1) entries per "
                                "modality, not small: a 1 is appended to each before the product")
                if got == projections + (small + 1) * m * out_dim + out_dim:
                    raise Wrong(f"{setting}: the full outer product has (small + 1) ** M entries "
                                "(a product of the sizes), not (small + 1) * M")
                if got == body:
                    raise Wrong(f"{setting}: the projections to small are parameters too "
                                "(a weight and a bias per modality)")
                if got == projections + (small + 1) ** m * out_dim:
                    raise Wrong(f"{setting}: the output layer has a bias of out_dim numbers")
            else:
                if got == projections + rank * (small + 1) * out_dim + out_dim:
                    raise Wrong(f"{setting}: each modality has its own factor "
                                "(rank, small + 1, out_dim): M of them")
                if got == projections + rank * m * small * out_dim + out_dim:
                    raise Wrong(f"{setting}: each factor is (rank, small + 1, out_dim): the "
                                "appended 1 has its row too")
                if got == projections + (small + 1) ** m * out_dim + out_dim:
                    raise Wrong(f"{setting}: with rank given there is no full output layer; "
                                "count the factors instead")
                if got == projections + rank * m * (small + 1) * out_dim:
                    raise Wrong(f"{setting}: low-rank fusion still has one bias of out_dim")
            if got == want - m * small:
                raise Wrong(f"{setting}: each projection has a bias of small numbers too")
            raise Wrong(f"{setting}: got {got}, TensorFusion has {want} parameters")
        return ("correct: the full form grows as (small + 1) ** M, the low-rank form as "
                "rank × M × (small + 1)")

    return run("tensor fusion's parameters", checks)
