"""Lesson 11 self-checks: hard negatives in the loss, Recall@K with several right items, and
the loss of a perfect batch at a given temperature."""

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, number, run


def _batch(seed: int, batch: int = 6, dim: int = 5):
    generator = torch.Generator().manual_seed(seed)
    unit = lambda: F.normalize(torch.randn(batch, dim, generator=generator,  # noqa: E731
                                           dtype=torch.float64), dim=1)
    return unit(), unit()


def check_hard_negative_loss(fn: Callable) -> Feedback:
    """Exercise: write ``hard_negative_loss(image_features, text_features, negatives,
    logit_scale)``.

    image_features, text_features: (B, D), normalised, row i matches row i; negatives:
    (M, D) normalised captions that match no image (hard negatives). The image -> text side
    scores each image against the B captions *and* the M negatives (B + M columns, the
    right one still caption i); the text -> image side is the plain one. The loss is the
    mean of the two cross-entropies. Checked against ``mmkit.align.contrastive_loss(...,
    negative_text_features=negatives)``.
    """
    from mmkit.align import contrastive_loss

    def ce(logits):
        return float(F.cross_entropy(logits, torch.arange(len(logits))))

    def checks() -> str:
        for seed, scale, m in ((0, 1.0, 6), (1, 14.3, 6), (2, 50.0, 3)):
            a, b = _batch(seed)
            negatives = _batch(seed + 10, batch=m)[0]
            out = number(call(fn, a.clone(), b.clone(), negatives.clone(), scale).detach(),
                         "the loss")
            expected = float(contrastive_loss(a, b, scale, negatives))
            if math.isclose(out, expected, rel_tol=1e-6, abs_tol=1e-9):
                continue
            with_negatives = ce(scale * a @ torch.cat([b, negatives]).T)
            plain_rows, columns = ce(scale * a @ b.T), ce(scale * b @ a.T)
            slips = {
                "ignores the negatives: add them as extra columns of the image -> text "
                "logits, torch.cat([text_features, negatives])": (plain_rows + columns) / 2,
                "only the image -> text side: average it with the plain text -> image "
                "cross-entropy": with_negatives,
                "adds the two sides: the loss is their mean": with_negatives + columns,
                "divides by logit_scale: multiply the cosines by it":
                    (ce(a @ torch.cat([b, negatives]).T / scale) + ce(b @ a.T / scale)) / 2,
            }
            for hint, value in slips.items():
                if math.isclose(out, value, rel_tol=1e-6):
                    raise Wrong(hint)
            raise Wrong(f"with {m} negatives at logit_scale={scale}: got {out:.6f}, expected "
                        f"{expected:.6f}")
        return "correct on three random batches, as mmkit.align.contrastive_loss"

    return run("loss with hard negatives", checks)


def check_recall_at_k(fn: Callable) -> Feedback:
    """Exercise: write ``recall_at_k(similarity, relevant, k)`` for queries with several
    right items.

    similarity: (Q, N), row q scores every gallery item for query q; relevant: (Q, N) bool,
    True at every right item of query q (any handwritten image of the spoken digit, say).
    Return the fraction of queries with at least one right item among the k highest scores
    of their row. Checked against ``mmkit.metrics.recall_at_k(similarity, k, relevant)`` on
    random scores (no ties).
    """
    from mmkit.metrics import recall_at_k

    def checks() -> str:
        rng = np.random.default_rng(0)
        for q, n, k in ((8, 10, 1), (12, 12, 3), (20, 30, 5), (6, 9, 9)):
            similarity = torch.from_numpy(rng.standard_normal((q, n)))
            relevant = torch.from_numpy(rng.random((q, n)) < 0.15)
            relevant[torch.arange(q), torch.from_numpy(rng.integers(0, n, q))] = True
            out = number(call_any(fn, similarity.clone(), relevant.clone(), k), "the recall")
            expected = recall_at_k(similarity, k, relevant)
            if math.isclose(out, expected, abs_tol=1e-6):
                continue
            top = similarity.topk(k, dim=1).indices
            hits = relevant.gather(1, top).float()
            if math.isclose(out, float(hits.mean()), abs_tol=1e-6):
                raise Wrong("averages the share of right items in the top k (precision@k): "
                            "a query counts once if ANY of its top k is right")
            if q == n and math.isclose(out, recall_at_k(similarity, k), abs_tol=1e-6):
                raise Wrong("only item q counts for query q: use relevant, every True is right")
            if k > 1 and math.isclose(out, recall_at_k(similarity, k - 1, relevant),
                                      abs_tol=1e-6):
                raise Wrong(f"counts the top {k - 1}: the right item may be any of the top {k}")
            if math.isclose(out, recall_at_k(-similarity, k, relevant), abs_tol=1e-6):
                raise Wrong("takes the lowest scores: a higher similarity means a better match")
            if math.isclose(out, expected * q, abs_tol=1e-6):
                raise Wrong("returns a count: divide by the number of queries")
            raise Wrong(f"with {q} queries, {n} items and k={k}: got {out:.4f}, expected "
                        f"{expected:.4f}")
        return "correct on four random galleries, as mmkit.metrics.recall_at_k"

    return run("Recall@K with several right items", checks)


def check_perfect_batch_loss(fn: Callable) -> Feedback:
    """Exercise: predict the loss of a *perfect* batch, then check it.

    Write ``perfect_loss(temperature, batch_size)``: the symmetric loss of a batch whose
    pairs are perfectly separated - cosine 1 between partners and 0 between everything
    else - at this temperature. Checked against ``mmkit.align.contrastive_loss`` on such a
    batch, at temperatures from 0.01 to 10 and batches of 2 to 256.
    """
    from mmkit.align import contrastive_loss

    def checks() -> str:
        for temperature in (0.01, 0.07, 1.0, 10.0):
            for batch_size in (2, 32, 256):
                eye = torch.eye(batch_size, dtype=torch.float64)
                expected = float(contrastive_loss(eye, eye, 1 / temperature))
                out = number(call_any(fn, temperature, batch_size), "the loss")
                if math.isclose(out, expected, rel_tol=1e-6, abs_tol=1e-12):
                    continue
                if math.isclose(out, math.log(batch_size), rel_tol=1e-6):
                    raise Wrong("log(B) is the loss of a model that cannot tell the pairs "
                                "apart; here the partner's logit is 1/temperature, the others' 0")
                if math.isclose(out, math.log1p((batch_size - 1) * math.exp(-temperature)),
                                rel_tol=1e-6):
                    raise Wrong("multiplies by the temperature: the logits are cosine / "
                                "temperature")
                raise Wrong(f"at temperature {temperature} with {batch_size} pairs: got "
                            f"{out:.6g}, expected {expected:.6g}")
        return ("correct: even a perfect batch keeps a loss of log(1 + (B - 1) e^(-1/T)); at "
                "T = 1 with 256 pairs it is about 4.6, at T = 0.01 about 0 — a temperature "
                "near 1 cannot reward a model for being right")

    return run("loss of a perfect batch", checks)
