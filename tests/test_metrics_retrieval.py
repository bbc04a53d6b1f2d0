"""Recall@K and the median rank against scikit-learn's top-k accuracy and a brute-force sort."""

import numpy as np
import pytest
import torch
from sklearn.metrics import top_k_accuracy_score

from mmkit.metrics import median_rank, recall_at_k, retrieval_ranks


def brute_force_ranks(similarity: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Sort each row from the highest score down, wrong items before right ones on a tie,
    and return the 1-based position of the first right item."""
    ranks = []
    for scores, right in zip(similarity, relevant, strict=True):
        order = sorted(range(len(scores)), key=lambda j: (-scores[j], bool(right[j])))
        ranks.append(next(p for p, j in enumerate(order, start=1) if right[j]))
    return np.array(ranks)


@pytest.mark.parametrize("seed", range(5))
def test_recall_at_k_equals_scikit_learns_top_k_accuracy_on_random_scores(seed):
    rng = np.random.default_rng(seed)
    n_queries, n_items = rng.integers(1, 40), rng.integers(2, 60)
    similarity = rng.standard_normal((n_queries, n_items))
    targets = rng.integers(0, n_items, n_queries)
    for k in (1, 2, 5, 10):
        if k >= n_items:
            continue  # scikit-learn warns that every answer is right then
        expected = top_k_accuracy_score(targets, similarity, k=k, labels=np.arange(n_items))
        assert recall_at_k(similarity, k, targets) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_ranks_equal_a_brute_force_sort_with_ties_and_several_right_items(seed):
    rng = np.random.default_rng(100 + seed)
    n_queries, n_items = rng.integers(1, 25), rng.integers(1, 30)
    similarity = rng.integers(0, 4, (n_queries, n_items)).astype(float)  # many ties
    relevant = rng.random((n_queries, n_items)) < 0.2
    relevant[np.arange(n_queries), rng.integers(0, n_items, n_queries)] = True
    expected = brute_force_ranks(similarity, relevant)
    np.testing.assert_array_equal(retrieval_ranks(similarity, relevant), expected)
    for k in (1, 3, 10):
        assert recall_at_k(similarity, k, relevant) == pytest.approx(np.mean(expected <= k))
    assert median_rank(similarity, relevant) == np.median(expected)


def test_the_default_target_is_the_diagonal_and_tensors_are_accepted():
    generator = torch.Generator().manual_seed(0)
    similarity = torch.randn(12, 15, generator=generator)
    by_index = recall_at_k(similarity, 3, torch.arange(12))
    assert recall_at_k(similarity, 3) == by_index
    assert median_rank(similarity) == median_rank(similarity.numpy(), np.arange(12))


def test_edge_cases():
    perfect = np.eye(5)
    assert recall_at_k(perfect, 1) == 1.0 and median_rank(perfect) == 1.0
    reversed_scores = -np.eye(4)  # the right item is always last
    np.testing.assert_array_equal(retrieval_ranks(reversed_scores), [4, 4, 4, 4])
    assert recall_at_k(reversed_scores, 3) == 0.0 and recall_at_k(reversed_scores, 4) == 1.0
    constant = np.zeros((3, 6))  # a model that scores everything alike gets the worst rank
    np.testing.assert_array_equal(retrieval_ranks(constant), [6, 6, 6])
    assert recall_at_k(np.array([[0.3]]), 1) == 1.0  # one item: always found
    assert recall_at_k(np.eye(3), 50) == 1.0  # k beyond the gallery
    assert median_rank(np.array([[1.0, 2.0], [1.0, 2.0]])) == 1.5  # ranks 2 and 1: a half


@pytest.mark.parametrize(("args", "error", "message"), [
    ((np.zeros(4), 1), ValueError, "similarity must be a non-empty 2-D"),
    ((np.zeros((0, 3)), 1), ValueError, "similarity must be a non-empty 2-D"),
    ((np.eye(3), 0), ValueError, "k must be >= 1"),
    ((np.eye(3), 1.5), TypeError, "k must be an int"),
    ((np.full((2, 2), np.nan), 1), ValueError, "NaN or infinite"),
    ((np.eye(3), 1, np.array([0, 1])), ValueError, r"targets must be \(n_queries,\) = \(3,\)"),
    ((np.eye(3), 1, np.array([0, 1, 3])), ValueError, r"item indices in \[0, 3\)"),
    ((np.eye(3), 1, np.array([0.0, 1.0, 2.0])), TypeError, "integer item indices"),
    ((np.eye(3), 1, np.eye(3)), TypeError, "must be bool"),
    ((np.eye(3), 1, np.zeros((3, 3), bool)), ValueError, "query 0 has no right item"),
    ((np.eye(3), 1, np.ones((2, 3), bool)), ValueError, "must have similarity's shape"),
    ((np.zeros((4, 3)), 1), ValueError, "only 3 items; pass targets"),
    (("scores", 1), TypeError, "similarity must be a list, a numpy array or a torch tensor"),
])
def test_bad_inputs_name_the_argument(args, error, message):
    with pytest.raises(error, match=message):
        recall_at_k(*args)
