"""Lesson 07 self-checks pass right answers and name the specific mistake in wrong ones."""

import numpy as np
import pytest
import torch

from mmkit import exercises


def _not_done(*args):
    raise NotImplementedError


def _max_pool(states, mask):
    return states.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values


def _max_pool_loop(states, mask):  # another right answer, one caption at a time
    return torch.stack([s[m].max(dim=0).values for s, m in zip(states, mask, strict=True)])


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_max_pool, True, "correct"),
    (_max_pool_loop, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda s, m: s.max(dim=1).values, False, "padding win"),
    (lambda s, m: (s * m.unsqueeze(-1)).max(dim=1).values, False, "fill it with -inf"),
    (lambda s, m: (s * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True), False, "mean over the real"),
    (lambda s, m: s[:, 0], False, "[CLS]"),
    (lambda s, m: s.max(dim=2).values, False, "expected (N, D)"),
    (lambda s, m: _max_pool(s, m) + 1, False, "differs from each feature"),
])
def test_check_token_max_pool(fn, passed, words):
    feedback = exercises.check_token_max_pool(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message, feedback.message


def _per_class(labels, val, test, seed):
    """The notebook's answer: shuffle each class, give each part its share of it."""
    g = torch.Generator().manual_seed(seed)
    parts = ([], [], [])
    for c in labels.unique():
        rows = torch.nonzero(labels == c).flatten()
        rows = rows[torch.randperm(len(rows), generator=g)]
        n_test, n_val = round(len(rows) * test / len(labels)), round(len(rows) * val / len(labels))
        parts[2].append(rows[:n_test])
        parts[1].append(rows[n_test:n_test + n_val])
        parts[0].append(rows[n_test + n_val:])
    return tuple(torch.cat(p) for p in parts)


def _stratified(labels, val, test, seed):
    """Shuffle, group by class, spread each class evenly over [0, 1], sort, cut."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=g)
    order = order[torch.argsort(labels[order], stable=True)]
    rank = torch.zeros(len(labels))
    for c in labels.unique():
        rows = labels[order] == c
        rank[rows] = (torch.arange(int(rows.sum())) + 0.5) / rows.sum()
    order = order[torch.argsort(rank, stable=True)]
    n = len(labels)
    return order[: n - val - test], order[n - val - test: n - test], order[n - test:]


def _sklearn_stratified(labels, val, test, seed):
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    rest, test_rows = train_test_split(rows, test_size=test, stratify=labels.numpy(),
                                       random_state=seed)
    train_rows, val_rows = train_test_split(rest, test_size=val, stratify=labels.numpy()[rest],
                                            random_state=seed)
    return torch.tensor(train_rows), torch.tensor(val_rows), torch.tensor(test_rows)


def _random(labels, val, test, seed):
    n = len(labels)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[: n - val - test], order[n - val - test: n - test], order[n - test:]


def _global(labels, val, test, seed):
    return _stratified(labels, val, test, int(torch.randint(0, 10**6, ())))


def _bunched(labels, val, test, seed):  # stratified, but each class's rows taken in order
    n = len(labels)
    parts = [[], [], []]
    for c in labels.unique():
        rows = torch.roll(torch.nonzero(labels == c).flatten(), seed)
        k_test = round(len(rows) * test / n)
        k_val = round(len(rows) * val / n)
        parts[2].append(rows[len(rows) - k_test:])
        parts[1].append(rows[len(rows) - k_test - k_val: len(rows) - k_test])
        parts[0].append(rows[: len(rows) - k_test - k_val])
    return tuple(torch.cat(p) for p in parts)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_stratified, True, "correct"),
    (_per_class, True, "correct"),
    (_sklearn_stratified, True, "correct"),
    (lambda *a: tuple(p.numpy() for p in _stratified(*a)), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda *a: _stratified(*a)[:2], False, "return three"),
    (lambda y, v, t, s: (torch.arange(len(y) - v - t), torch.arange(len(y) - v - t, len(y) - t),
                         torch.arange(len(y) - t, len(y))), False, "validation_split"),
    (lambda y, v, t, s: _stratified(y, v + 1, t, s), False, "sizes"),
    (lambda y, v, t, s: (torch.arange(len(y) - v - t), torch.zeros(v).long(),
                         torch.zeros(t).long()), False, "exactly once"),
    (_random, False, "not stratified"),
    (_global, False, "same seed"),
    (lambda y, v, t, s: _stratified(y, v, t, 0), False, "seed is not used"),
    (_bunched, False, "bunched"),
])
def test_check_stratified_split(fn, passed, words):
    feedback = exercises.check_stratified_split(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message, feedback.message


MEAN = np.array([103.939, 116.779, 123.68])


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda x: x[..., ::-1] - MEAN, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda x: x - MEAN, False, "still RGB"),
    (lambda x: x[..., ::-1] - MEAN[::-1], False, "means are in RGB order"),
    (lambda x: (x / 255)[..., ::-1] - MEAN / 255, False, "no scaling"),
    (lambda x: (x[..., ::-1] / 255 - [0.406, 0.456, 0.485]) / [0.225, 0.224, 0.229], False,
     "torchvision's normalisation"),
    (lambda x: x[..., ::-1] - MEAN + 1, False, "differs from BGR"),
    (lambda x: x[0], False, "the same layout"),
])
def test_check_keras_vgg_preprocess(fn, passed, words):
    feedback = exercises.check_keras_vgg_preprocess(fn)
    assert feedback.passed is passed
    assert words in feedback.message
