"""Lesson 10 self-checks: each typical mistake gets its own hint, the right answer passes and
agrees with the library."""

import pytest
import torch

from mmkit import explain
from mmkit.exercises import check_pointing_hit, check_saliency, check_smoothgrad


def _grad(f, x, target):
    x = x.clone().requires_grad_()
    return torch.autograd.grad(f(x).gather(1, target[:, None]).sum(), x)[0]


def saliency(f, images, target):
    return _grad(f, images, target).abs().amax(dim=1)


def test_saliency_check_passes_the_right_answer():
    feedback = check_saliency(saliency)
    assert feedback.passed, feedback.message


@pytest.mark.parametrize("fn,message", [
    (lambda f, x, t: _grad(f, x, t).amax(dim=1), "no absolute value"),
    (lambda f, x, t: _grad(f, x, t).abs().sum(dim=1), "sums or averages the channels"),
    (lambda f, x, t: _grad(f, x, t).abs().mean(dim=1), "sums or averages the channels"),
    (lambda f, x, t: _grad(f, x, t).abs(), "one value per pixel"),
    (lambda f, x, t: torch.autograd.grad(f(x.requires_grad_()).sum(), x)[0].abs().amax(1),
     "sum of all class scores"),
    (lambda f, x, t: _grad(f, x, f(x).argmax(1)).abs().amax(1), "predicted class"),
    (lambda f, x, t: x.amax(dim=1), "differs from mmkit's saliency"),
    (lambda f, x, t: None, "returned nothing"),
])
def test_saliency_check_names_each_mistake(fn, message):
    feedback = check_saliency(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


def hit(heatmap, mask, tolerance):
    row, col = divmod(int(heatmap.argmax()), heatmap.shape[1])
    window = mask[max(row - tolerance, 0):row + tolerance + 1,
                  max(col - tolerance, 0):col + tolerance + 1]
    return bool(window.any())


def test_pointing_hit_check_passes_the_right_answer_which_matches_the_library():
    assert check_pointing_hit(hit).passed
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        heat, mask = torch.rand(7, 9, generator=g), torch.rand(7, 9, generator=g) > 0.85
        for tolerance in (0, 1, 2):
            assert hit(heat, mask, tolerance) == bool(
                explain.pointing_game(heat[None], mask[None], tolerance)[0])


def _slip(index=torch.argmax, swap=False):
    def wrong(heatmap, mask, tolerance):
        row, col = divmod(int(index(heatmap)), heatmap.shape[1])
        if swap:
            row, col = col, row
        return hit_at(mask, row, col, tolerance)
    return wrong


def hit_at(mask, row, col, tolerance):
    return bool(mask[max(row - tolerance, 0):row + tolerance + 1,
                     max(col - tolerance, 0):col + tolerance + 1].any())


def circle(heatmap, mask, tolerance):
    row, col = divmod(int(heatmap.argmax()), heatmap.shape[1])
    rows, cols = torch.nonzero(mask, as_tuple=True)
    return bool((((rows - row) ** 2 + (cols - col) ** 2).float().sqrt() <= tolerance).any())


@pytest.mark.parametrize("fn,message", [
    (_slip(torch.argmin), "LARGEST value"),
    (_slip(swap=True), "mixes rows and columns"),
    (circle, "not a circle"),
    (lambda h, m, t: bool(hit_at(m, *divmod(int(h.argmax()), h.shape[1]), 0)),
     "case 'one pixel right of the mask'"),
    (lambda h, m, t: 1, "must return True or False"),
    (lambda h, m, t: torch.tensor([True, False]), "return one True or False"),
])
def test_pointing_hit_check_names_each_mistake(fn, message):
    feedback = check_pointing_hit(fn)
    assert not feedback.passed and message in feedback.message, feedback.message


def test_checks_report_not_implemented():
    def todo(*args):
        raise NotImplementedError

    assert "not implemented" in check_saliency(todo).message
    assert "not implemented" in check_pointing_hit(todo).message


def _saliency_of(f, images, target):
    x = images.clone().requires_grad_()
    return torch.autograd.grad(f(x).gather(1, target[:, None]).sum(), x)[0]


def _smooth(f, images, target, noise):
    return torch.stack([_saliency_of(f, images + n, target).abs().amax(dim=1) for n in noise]).mean(0)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_smooth, True, "correct"),
    (lambda f, x, t, n: _saliency_of(f, x, t).abs().amax(dim=1), False, "plain saliency"),
    (lambda f, x, t, n: torch.stack([_saliency_of(f, x + k, t) for k in n]).mean(0).abs().amax(dim=1),
     False, "averages the gradients first"),
    (lambda f, x, t, n: _smooth(f, x, t, n) * len(n), False, "sums the maps"),
    (lambda f, x, t, n: _saliency_of(f, x + n.mean(0), t).abs().amax(dim=1), False, "mean noise once"),
    (lambda f, x, t, n: _smooth(f, x, t, n)[:, :4], False, "expected"),
    (lambda f, x, t, n: _smooth(f, x, t, n[:3]), False, "differs"),
])
def test_check_smoothgrad(fn, passed, words):
    feedback = check_smoothgrad(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message
