"""Lesson 10 self-checks: each typical mistake gets its own hint, the right answer passes and
agrees with the library."""

import pytest
import torch

from mmkit import explain
from mmkit.exercises import check_gradient_times_input, check_pointing_hit, check_vargrad


def _grad(f, x, target):
    x = x.clone().requires_grad_()
    return torch.autograd.grad(f(x).gather(1, target[:, None]).sum(), x)[0]


def gradient_times_input(f, images, target):
    return (images * _grad(f, images, target)).sum(dim=1)


def test_gradient_times_input_check_passes_the_right_answer():
    feedback = check_gradient_times_input(gradient_times_input)
    assert feedback.passed, feedback.message
    assert "InputXGradient" in feedback.message


@pytest.mark.parametrize("fn,message", [
    (lambda f, x, t: _grad(f, x, t).sum(dim=1), "the gradient alone"),
    (lambda f, x, t: _grad(f, x, t).abs().amax(dim=1), "the gradient alone"),
    (lambda f, x, t: (x * _grad(f, x, t)).abs().sum(dim=1), "keeps its sign"),
    (lambda f, x, t: (x * _grad(f, x, t)).amax(dim=1), "sum the channels"),
    (lambda f, x, t: x * _grad(f, x, t), "one value per pixel"),
    (lambda f, x, t: (x * torch.autograd.grad(f(x.requires_grad_()).sum(), x)[0]).sum(1),
     "sum of all class scores"),
    (lambda f, x, t: gradient_times_input(f, x, f(x).argmax(1)), "predicted class"),
    (lambda f, x, t: gradient_times_input(f, x, t) * 1.01, "differs from Captum"),
    (lambda f, x, t: gradient_times_input(f, x, t)[:, :4], "expected"),
    (lambda f, x, t: None, "returned nothing"),
])
def test_gradient_times_input_check_names_each_mistake(fn, message):
    feedback = check_gradient_times_input(fn)
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

    assert "not implemented" in check_gradient_times_input(todo).message
    assert "not implemented" in check_vargrad(todo).message
    assert "not implemented" in check_pointing_hit(todo).message


def _grads(f, images, target, noise):
    return torch.stack([_grad(f, images + n, target) for n in noise])  # (N, B, C, H, W)


def _vargrad(f, images, target, noise):
    grads = _grads(f, images, target, noise)
    return ((grads**2).mean(0) - grads.mean(0) ** 2).amax(dim=1)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_vargrad, True, "correct"),
    (lambda f, x, t, n: _grads(f, x, t, n).var(0, unbiased=False).amax(1), True, "correct"),
    (lambda f, x, t, n: _grads(f, x, t, n).abs().amax(2).mean(0), False, "SmoothGrad"),
    (lambda f, x, t, n: _grads(f, x, t, n).mean(0).amax(1), False, "the mean of the gradients"),
    (lambda f, x, t, n: _grads(f, x, t, n).var(0).amax(1), False, "divides by N − 1"),
    (lambda f, x, t, n: _grads(f, x, t, n).std(0, unbiased=False).amax(1), False,
     "standard deviation"),
    (lambda f, x, t, n: _grads(f, x, t, n).abs().var(0, unbiased=False).amax(1), False,
     "takes |gradient| first"),
    (lambda f, x, t, n: _grads(f, x, t, n).var(0, unbiased=False).sum(1), False,
     "sums or averages the channels"),
    (lambda f, x, t, n: torch.zeros(x.shape[0], *x.shape[2:]), False, "all zeros"),
    (lambda f, x, t, n: _vargrad(f, x, t, n)[:, :4], False, "expected"),
    (lambda f, x, t, n: _vargrad(f, x, t, n[:3]), False, "differs"),
])
def test_check_vargrad(fn, passed, words):
    feedback = check_vargrad(fn)
    assert feedback.passed is passed, feedback.message
    assert words in feedback.message


def test_vargrad_check_tells_a_slightly_scaled_answer_apart():
    # VarGrad's values are small (about 1e-5 here): the check must compare relative to them.
    feedback = check_vargrad(lambda f, x, t, n: _vargrad(f, x, t, n) * 1.01)
    assert not feedback.passed and "differs" in feedback.message, feedback.message
