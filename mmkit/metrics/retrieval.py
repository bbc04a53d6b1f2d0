"""Retrieval (检索) metrics: Recall@K and the median rank, from a similarity matrix.

similarity (n_queries, n_items): row q scores every item of the gallery for query q
(image->text: one row per image, one column per caption; text->image: its transpose).
targets says which item is right for each query:
    None                 the diagonal: query q's item is item q (a test set of pairs)
    (n_queries,) ints    the index of each query's one right item
    (n_queries, n_items) bools, True at every right item (several captions per image, or
                         "any image of the same digit")
The rank of a query is the position of its best-scored right item when the row is sorted
from the highest score down, 1 for the top. A wrong item that *ties* with it counts as
ahead of it, so a model that scores everything alike gets the worst rank, not the best.
"""

import numpy as np

from mmkit.checks import check_int
from mmkit.metrics.inputs import to_numpy


def _relevance(similarity, targets) -> tuple[np.ndarray, np.ndarray]:
    scores = to_numpy(similarity, "similarity")
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(f"similarity must be a non-empty 2-D (n_queries, n_items) matrix, "
                         f"got shape {scores.shape}")
    if scores.dtype.kind not in "biuf":
        raise TypeError(f"similarity must hold numbers, got dtype {scores.dtype}")
    scores = scores.astype(np.float64, copy=False)
    if not np.all(np.isfinite(scores)):
        raise ValueError("similarity contains NaN or infinite values")
    n_queries, n_items = scores.shape
    if targets is None:
        if n_queries > n_items:
            raise ValueError(f"targets=None means query q's item is item q, but similarity "
                             f"has {n_queries} queries and only {n_items} items; pass targets")
        relevant = np.zeros(scores.shape, dtype=bool)
        relevant[np.arange(n_queries), np.arange(n_queries)] = True
        return scores, relevant
    targets = to_numpy(targets, "targets")
    if targets.ndim == 2:
        if targets.shape != scores.shape:
            raise ValueError(f"targets as a matrix must have similarity's shape {scores.shape}, "
                             f"got {targets.shape}")
        if targets.dtype != bool:
            raise TypeError(f"targets as a matrix must be bool (True at the right items), got "
                            f"dtype {targets.dtype}")
        if not targets.any(axis=1).all():
            q = int(np.flatnonzero(~targets.any(axis=1))[0])
            raise ValueError(f"query {q} has no right item in targets: its rank is undefined")
        return scores, targets
    if targets.ndim != 1 or len(targets) != n_queries:
        raise ValueError(f"targets must be (n_queries,) = ({n_queries},) item indices or a "
                         f"(n_queries, n_items) bool matrix, got shape {targets.shape}")
    if targets.dtype.kind not in "iu":
        raise TypeError(f"targets must hold integer item indices, got dtype {targets.dtype}")
    if targets.min() < 0 or targets.max() >= n_items:
        raise ValueError(f"targets must be item indices in [0, {n_items}), got values in "
                         f"[{targets.min()}, {targets.max()}]")
    relevant = np.zeros(scores.shape, dtype=bool)
    relevant[np.arange(n_queries), targets] = True
    return scores, relevant


def retrieval_ranks(similarity, targets=None) -> np.ndarray:
    """The rank of each query's best right item, (n_queries,) ints from 1 (see the module
    docstring): 1 + the number of wrong items scored at least as high."""
    scores, relevant = _relevance(similarity, targets)
    best_right = np.where(relevant, scores, -np.inf).max(axis=1, keepdims=True)
    return 1 + ((scores >= best_right) & ~relevant).sum(axis=1)


def recall_at_k(similarity, k: int, targets=None) -> float:
    """Recall@K: the fraction of queries whose right item is among their top ``k``."""
    k = check_int(k, "k", minimum=1)
    return float(np.mean(retrieval_ranks(similarity, targets) <= k))


def median_rank(similarity, targets=None) -> float:
    """The median over queries of the rank of the right item (1 is perfect; a random
    ordering of n items gives about n / 2)."""
    return float(np.median(retrieval_ranks(similarity, targets)))
