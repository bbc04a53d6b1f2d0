"""Each from-scratch function against its PyTorch counterpart: values, gradients, extremes,
and the errors a learner meets when passing the wrong thing."""

import pytest
import torch
import torch.nn.functional as F

from mmkit import scratch

SHAPES = [(7,), (4, 5), (3, 4, 6), (2, 3, 4, 5)]
TOL = {"atol": 1e-6, "rtol": 1e-6}


def _random(shape, rng, device, scale=3.0, dtype=torch.float32):
    return (torch.randn(shape, generator=rng, dtype=torch.float64) * scale).to(device, dtype)


@pytest.mark.parametrize("shape", SHAPES)
def test_relu_matches_torch(shape, rng, device):
    x = _random(shape, rng, device)
    torch.testing.assert_close(scratch.relu(x), torch.relu(x), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_and_log_softmax_match_torch(shape, dim, rng, device):
    x = _random(shape, rng, device)
    torch.testing.assert_close(scratch.softmax(x, dim=dim), torch.softmax(x, dim=dim), **TOL)
    torch.testing.assert_close(
        scratch.log_softmax(x, dim=dim), torch.log_softmax(x, dim=dim), **TOL
    )


@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0, 10.0])
def test_softmax_temperature_divides_the_logits(temperature, rng, device):
    x = _random((5, 4), rng, device)
    expected = torch.softmax(x / temperature, dim=-1)
    torch.testing.assert_close(scratch.softmax(x, temperature=temperature), expected, **TOL)
    torch.testing.assert_close(
        scratch.log_softmax(x, temperature=temperature), expected.log(), atol=1e-5, rtol=1e-5
    )


def test_softmax_of_the_articles_example(device):
    z = torch.tensor([2.0, -1.0, 3.0, 0.0], device=device)
    expected = torch.tensor([0.2562, 0.0128, 0.6964, 0.0347], device=device)
    torch.testing.assert_close(scratch.softmax(z), expected, atol=5e-5, rtol=0)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_softmax_is_stable_for_huge_logits(scale, device):
    x = torch.tensor([[1.0, 0.5, -1.0], [0.0, 0.0, 1.0]], device=device) * scale
    for ours, theirs in [(scratch.softmax, torch.softmax), (scratch.log_softmax, torch.log_softmax)]:
        out = ours(x, dim=-1)
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out, theirs(x, dim=-1), **TOL)


def test_relu_handles_infinities_like_torch(device):
    x = torch.tensor([-float("inf"), -1.0, 0.0, 2.0, float("inf")], device=device)
    torch.testing.assert_close(scratch.relu(x), torch.relu(x))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 7), (2, 3, 4, 4)])
def test_cross_entropy_matches_torch(shape, reduction, rng, device):
    logits = _random(shape, rng, device)
    target_shape = (shape[0], *shape[2:])
    target = torch.randint(0, shape[1], target_shape, generator=rng).to(device)
    torch.testing.assert_close(
        scratch.cross_entropy(logits, target, reduction=reduction),
        F.cross_entropy(logits, target, reduction=reduction), **TOL,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_cross_entropy_matches_torch(reduction, rng, device):
    logits = _random((10, 3), rng, device)
    target = torch.randint(0, 3, (10,), generator=rng).to(device)
    weight = torch.tensor([0.2, 1.0, 5.0], device=device)
    torch.testing.assert_close(
        scratch.cross_entropy(logits, target, weight=weight, reduction=reduction),
        F.cross_entropy(logits, target, weight=weight, reduction=reduction), **TOL,
    )


def test_cross_entropy_is_finite_and_right_for_huge_logits(device):
    logits = torch.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], device=device)
    target = torch.tensor([2, 1], device=device)
    out = scratch.cross_entropy(logits, target)
    assert torch.isfinite(out)
    torch.testing.assert_close(out, F.cross_entropy(logits, target), **TOL)


def test_cross_entropy_gradient_matches_torch(rng, device):
    logits = _random((5, 4), rng, device).requires_grad_()
    target = torch.randint(0, 4, (5,), generator=rng).to(device)
    (grad_ours,) = torch.autograd.grad(scratch.cross_entropy(logits, target), logits)
    (grad_torch,) = torch.autograd.grad(F.cross_entropy(logits, target), logits)
    torch.testing.assert_close(grad_ours, grad_torch, **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_torch(reduction, rng, device):
    p = torch.rand((4, 6), generator=rng).to(device)
    y = torch.randint(0, 2, (4, 6), generator=rng).float().to(device)
    torch.testing.assert_close(
        scratch.binary_cross_entropy(p, y, reduction=reduction),
        F.binary_cross_entropy(p, y, reduction=reduction), **TOL,
    )


def test_binary_cross_entropy_of_certain_wrong_answers_is_clamped_like_torch(device):
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], device=device)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0], device=device)
    out = scratch.binary_cross_entropy(p, y, reduction="none")
    torch.testing.assert_close(out, F.binary_cross_entropy(p, y, reduction="none"))
    assert out.tolist() == [100.0, 100.0, 0.0, 0.0]


def test_binary_cross_entropy_of_the_articles_example(device):
    p = torch.tensor([0.7, 0.3, 0.6, 0.4], device=device)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], device=device)
    assert round(scratch.binary_cross_entropy(p, y).item(), 4) == 0.4338
    assert round(-(y * p.log()).sum().item(), 4) == 0.8675


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", SHAPES)
def test_mse_matches_torch(shape, reduction, rng, device):
    pred, target = _random(shape, rng, device), _random(shape, rng, device)
    torch.testing.assert_close(
        scratch.mse(pred, target, reduction=reduction),
        F.mse_loss(pred, target, reduction=reduction), **TOL,
    )


def test_mse_is_finite_for_large_values(device):
    pred = torch.tensor([1e4, -1e4], device=device)
    target = torch.tensor([-1e4, 1e4], device=device)
    torch.testing.assert_close(scratch.mse(pred, target), F.mse_loss(pred, target))


def test_float64_inputs_stay_float64(rng, device):
    x = _random((3, 4), rng, device, dtype=torch.float64)
    assert scratch.softmax(x).dtype == torch.float64
    torch.testing.assert_close(scratch.log_softmax(x), torch.log_softmax(x, -1), atol=1e-12, rtol=0)


def test_gradient_descent_reproduces_the_article_correctly():
    path = scratch.gradient_descent(lambda t: 2 * (t - 1), 2.0, lr=0.1, steps=2)
    torch.testing.assert_close(path, torch.tensor([2.0, 1.8, 1.64], dtype=torch.float64))


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.7])
def test_gradient_descent_matches_torch_sgd(lr, rng, device):
    target = _random((3, 2), rng, device)
    theta0 = _random((3, 2), rng, device)

    def grad_fn(theta):
        return 2 * (theta - target)

    ours = scratch.gradient_descent(grad_fn, theta0, lr=lr, steps=15)
    theta = theta0.clone().requires_grad_()
    optimizer = torch.optim.SGD([theta], lr=lr)
    expected = [theta0.clone()]
    for _ in range(15):
        optimizer.zero_grad()
        ((theta - target) ** 2).sum().backward()
        optimizer.step()
        expected.append(theta.detach().clone())
    assert ours.shape == (16, 3, 2)
    torch.testing.assert_close(ours, torch.stack(expected), **TOL)


def test_gradient_descent_with_zero_steps_returns_the_start():
    path = scratch.gradient_descent(lambda t: t, torch.tensor([1.0, 2.0]), lr=0.1, steps=0)
    assert path.tolist() == [[1.0, 2.0]]


def test_gradient_descent_shows_divergence_instead_of_raising():
    path = scratch.gradient_descent(lambda t: 2 * (t - 1), 2.0, lr=1.5, steps=10)
    distances = (path - 1).abs()
    assert (distances[1:] > distances[:-1]).all()


BAD_CALLS = [
    (lambda: scratch.relu([1.0, 2.0]), TypeError, "x must be a torch.Tensor, got list"),
    (lambda: scratch.softmax(torch.tensor([1, 2])), TypeError, "x must be a floating-point tensor, got torch.int64"),
    (lambda: scratch.softmax(torch.ones(3), dim=1), ValueError, "dim=1 is out of range"),
    (lambda: scratch.softmax(torch.ones(3), temperature=0), ValueError, "temperature must be a finite number > 0, got 0"),
    (lambda: scratch.log_softmax(torch.ones(3), temperature=-2.0), ValueError, "temperature must be a finite number > 0"),
    (lambda: scratch.softmax(torch.tensor([1.0, float("nan")])), ValueError, "x contains NaN"),
    (lambda: scratch.softmax(torch.empty(0)), ValueError, "x is empty"),
    (lambda: scratch.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2, 3])), ValueError, r"class indices in \[0, 3\] but logits have 3 classes"),
    (lambda: scratch.cross_entropy(torch.randn(4, 3), torch.tensor([0, -1, 2, 1])), ValueError, "valid indices 0..2"),
    (lambda: scratch.cross_entropy(torch.randn(4, 3), torch.tensor([0.0, 1.0, 2.0, 1.0])), TypeError, "target must hold integer class indices, got torch.float32"),
    (lambda: scratch.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1])), ValueError, r"target must have shape \(4,\)"),
    (lambda: scratch.cross_entropy(torch.randn(4), torch.tensor([0])), ValueError, "logits must have at least 2 dimensions"),
    (lambda: scratch.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), reduction="avg"), ValueError, "reduction must be one of 'mean', 'sum', 'none', got 'avg'"),
    (lambda: scratch.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), weight=torch.ones(2)), ValueError, r"weight must have one entry per class \(3\), got 2"),
    (lambda: scratch.binary_cross_entropy(torch.tensor([0.5, 1.5]), torch.tensor([1.0, 0.0])), ValueError, r"p must hold probabilities in \[0, 1\].*sigmoid"),
    (lambda: scratch.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([1.0, 0.0])), ValueError, "p and y must have the same shape"),
    (lambda: scratch.mse(torch.ones(2, 3), torch.ones(3, 2)), ValueError, r"pred and target must have the same shape, got \(2, 3\) and \(3, 2\)"),
    (lambda: scratch.mse(torch.ones(2), torch.tensor([1.0, float("inf")])), ValueError, "target contains infinite values"),
    (lambda: scratch.gradient_descent(lambda t: t, 1.0, lr=0, steps=3), ValueError, "lr must be a finite number > 0, got 0"),
    (lambda: scratch.gradient_descent(lambda t: t, 1.0, lr=-0.1, steps=3), ValueError, "lr must be a finite number > 0"),
    (lambda: scratch.gradient_descent(lambda t: t, 1.0, lr=0.1, steps=-1), ValueError, "steps must be >= 0, got -1"),
    (lambda: scratch.gradient_descent(lambda t: t, 1.0, lr=0.1, steps=2.5), TypeError, "steps must be an int"),
    (lambda: scratch.gradient_descent("grad", 1.0, lr=0.1, steps=2), TypeError, "grad_fn must be a function"),
    (lambda: scratch.gradient_descent(lambda t: t[:1], torch.ones(2), lr=0.1, steps=2), ValueError, r"grad_fn must return a tensor shaped like theta \(2,\)"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_CALLS)
def test_bad_inputs_give_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
