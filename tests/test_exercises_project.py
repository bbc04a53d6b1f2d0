"""Lesson 07 self-checks pass right answers and name the specific mistake in wrong ones."""

import numpy as np
import pytest
import torch

from mmkit import exercises


def _not_done(*args):
    raise NotImplementedError


def _pool(states, mask):
    w = mask.unsqueeze(-1).float()
    return (states * w).sum(1) / w.sum(1)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_pool, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda s, m: s.mean(dim=1), False, "counts the padding"),
    (lambda s, m: s[:, 0], False, "[CLS]"),
    (lambda s, m: (s * m.unsqueeze(-1)).sum(1) / s.shape[1], False, "still counted"),
    (lambda s, m: s.mean(dim=2), False, "expected (N, D)"),
    (lambda s, m: _pool(s, m) * 2, False, "differs from the mean"),
])
def test_check_mean_pool(fn, passed, words):
    feedback = exercises.check_mean_pool(fn)
    assert feedback.passed is passed
    assert words in feedback.message


def _split(n, val, test, seed):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[: n - val - test], order[n - val - test: n - test], order[n - test:]


def _global_random(n, val, test, seed):
    order = torch.randperm(n)
    return order[: n - val - test], order[n - val - test: n - test], order[n - test:]


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_split, True, "correct"),
    (lambda n, v, t, s: tuple(p.numpy() for p in _split(n, v, t, s)), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda n, v, t, s: _split(n, v, t, s)[:2], False, "return three"),
    (lambda n, v, t, s: (torch.arange(n - v - t), torch.arange(n - v - t, n - t),
                         torch.arange(n - t, n)), False, "validation_split"),
    (lambda n, v, t, s: _split(n, t, v, s), False, "sizes"),
    (lambda n, v, t, s: (torch.arange(n - v - t), torch.zeros(v).long(), torch.zeros(t).long()),
     False, "exactly once"),
    (_global_random, False, "same seed"),
    (lambda n, v, t, s: _split(n, v, t, 0), False, "seed is not used"),
])
def test_check_shuffled_split(fn, passed, words):
    feedback = exercises.check_shuffled_split(fn)
    assert feedback.passed is passed
    assert words in feedback.message


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
