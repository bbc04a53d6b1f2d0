"""Lesson 01 self-checks: softmax, cross-entropy, a gradient step, a learning rate."""

from collections.abc import Callable

import torch
import torch.nn.functional as F

from mmkit import toy_problems
from mmkit.exercises.feedback import Feedback, Wrong, call, run
from mmkit.scratch import gradient_descent


def check_softmax(fn: Callable) -> Feedback:
    """Exercise: write ``softmax(x, dim=-1)``."""

    def checks() -> str:
        z = torch.tensor([2.0, -1.0, 3.0, 0.0])
        out = call(fn, z)
        if out.shape != z.shape:
            raise Wrong(f"output shape {tuple(out.shape)} differs from the input's {tuple(z.shape)}")
        if (out < 0).any():
            raise Wrong("gives negative values: probabilities are exp(...) / sum, never < 0")

        x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]])
        for dim in (0, 1, -1):
            sums = call(fn, x, dim=dim).sum(dim=dim)
            if not torch.allclose(sums, torch.ones_like(sums), atol=1e-5):
                raise Wrong(
                    f"does not sum to 1 along dim={dim} (sums: {[round(s, 4) for s in sums.tolist()]}); "
                    "sum the exponentials along `dim` with keepdim=True"
                )
            expected = torch.softmax(x, dim=dim)
            if not torch.allclose(call(fn, x, dim=dim), expected, atol=1e-5):
                raise Wrong(f"sums to 1 along dim={dim} but the values differ from torch.softmax")

        big = call(fn, torch.tensor([1000.0, 0.0, -1000.0]))
        if not torch.isfinite(big).all():
            raise Wrong(
                "overflows for large logits (exp(1000) = inf, and inf/inf = nan): "
                "subtract the max along dim before exp(); it cancels in the ratio"
            )
        return "correct, sums to 1 along any dim, and stable for large logits"

    return run("softmax", checks)


def check_cross_entropy(fn: Callable) -> Feedback:
    """Exercise: write ``cross_entropy(logits, target)``, the mean over the batch."""

    def checks() -> str:
        logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]])
        target = torch.tensor([0, 2, 1])
        out = call(fn, logits, target)
        if out.dim() != 0:
            raise Wrong(f"must return one number (a 0-d tensor), got shape {tuple(out.shape)}")
        expected = F.cross_entropy(logits, target)
        if torch.isclose(out, -expected, atol=1e-5):
            raise Wrong("has the wrong sign: the loss is MINUS the log-probability of the true class")
        if torch.isclose(out, expected * len(target), atol=1e-5):
            raise Wrong("returns the sum over the batch: divide by the batch size for the mean")
        if not torch.isclose(out, expected, atol=1e-5):
            raise Wrong(
                f"gives {out.item():.4f}, expected {expected.item():.4f}: take log softmax over "
                "the classes (dim=1), then pick each sample's true class"
            )
        big = call(fn, torch.tensor([[1000.0, 0.0]]), torch.tensor([1]))
        if not torch.isfinite(big):
            raise Wrong(
                "is not finite for large logits: use the log-sum-exp trick "
                "(log_softmax), not log(softmax(...)), which takes log(0)"
            )
        return "correct, and finite for large logits"

    return run("cross_entropy", checks)


def check_gradient_step(fn: Callable) -> Feedback:
    """Exercise: write ``step(theta, grad, lr)``, one gradient-descent update."""

    def checks() -> str:
        theta, grad = torch.tensor([2.0, -1.0]), torch.tensor([2.0, -4.0])
        out = call(fn, theta, grad, 0.1)
        expected = theta - 0.1 * grad
        if torch.allclose(out, theta + 0.1 * grad):
            raise Wrong("moves uphill: the gradient points up the slope, so subtract it")
        if torch.allclose(out, theta - grad):
            raise Wrong("ignores the learning rate: scale the gradient by lr")
        if not torch.allclose(out, expected):
            raise Wrong(f"gives {out.tolist()}, expected {expected.tolist()} (θ - lr·∇L)")
        return "correct: θ ← θ - α·∇L"

    return run("gradient step", checks)


def check_learning_rate(lr: float, steps: int = 20, tolerance: float = 0.01) -> Feedback:
    """Exercise: choose a learning rate that brings the bowl to its minimum in ``steps`` steps."""

    def checks() -> str:
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
            raise Wrong(f"the learning rate must be a number > 0, got {lr!r}")
        bowl = toy_problems.QuadraticBowl()
        start = torch.tensor([-2.5, 2.0], dtype=torch.float64)
        path = gradient_descent(bowl.grad, start, lr, steps)
        gap = (path[-1] - bowl.minimum).abs()
        distance = float(gap.norm())
        if lr >= bowl.max_stable_lr:
            raise Wrong(
                f"α = {lr:g} is too large: the steep direction (curvature "
                f"{float(bowl.curvatures.max()):g}) overshoots and diverges when α ≥ "
                f"{bowl.max_stable_lr:g}"
            )
        if distance > tolerance:
            flat_is_behind = gap[0] > gap[1]  # θ₁ has the small curvature
            why = (
                "too small: the flat direction θ₁ barely moves"
                if flat_is_behind
                else "close to the limit: the steep direction θ₂ bounces from side to side"
            )
            raise Wrong(
                f"α = {lr:g} is {why}; after {steps} steps θ is still {distance:.3f} "
                "from the minimum"
            )
        return f"α = {lr:g} reaches the minimum within {distance:.4f} in {steps} steps"

    return run("learning rate", checks)


def check_bce_with_logits(fn: Callable) -> Feedback:
    """Exercise: write ``bce_with_logits(z, y)``: the mean binary cross-entropy of raw
    scores z against targets y in [0, 1], finite for any z. Checked against
    ``F.binary_cross_entropy_with_logits``."""

    def checks() -> str:
        z = torch.tensor([2.0, -1.0, 0.0, 3.5, -0.5])
        y = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.3])
        out = call(fn, z, y)
        if out.dim() != 0:
            raise Wrong(f"must return one number (the mean), got shape {tuple(out.shape)}")
        expected = F.binary_cross_entropy_with_logits(z, y)
        if torch.isclose(out, -expected, atol=1e-5):
            raise Wrong("has the wrong sign: the loss is MINUS the log-likelihood")
        if torch.isclose(out, expected * len(z), atol=1e-5):
            raise Wrong("returns the sum: divide by the number of samples for the mean")
        swapped = F.binary_cross_entropy_with_logits(-z, y)
        if torch.isclose(out, swapped, atol=1e-5):
            raise Wrong("swaps the two terms: y pairs with log sigmoid(z), 1 - y with "
                        "log sigmoid(-z) = log(1 - sigmoid(z))")
        if not torch.isclose(out, expected, atol=1e-5):
            raise Wrong(f"gives {out.item():.4f}, expected {expected.item():.4f}: "
                        "-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], averaged")
        big = torch.tensor([80.0, -80.0, 200.0, -200.0])
        targets = torch.tensor([0.0, 1.0, 1.0, 0.0])
        out = call(fn, big, targets)
        expected = F.binary_cross_entropy_with_logits(big, targets)
        if not torch.isfinite(out):
            raise Wrong(
                "is not finite for large |z| (sigmoid(80) rounds to 1 and log(1 - 1) = -inf): "
                "write log sigmoid(z) = -softplus(-z) = -(max(-z, 0) + log(1 + exp(-|z|)))"
            )
        if not torch.isclose(out, expected, rtol=1e-4):
            raise Wrong(f"gives {out.item():.4g} for large |z|, expected {expected.item():.4g} "
                        "(a wrong answer of 80 should cost about 80): clamping probabilities "
                        "is not enough, use the log-sum-exp form")
        return "correct, and exact for large |z| (80 wrong costs 80)"

    return run("BCE with logits", checks)


def check_mse_gradient(fn: Callable) -> Feedback:
    """Exercise: derive and write ``mse_gradient(X, w, y)``, the gradient of
    mean((X @ w - y) ** 2) with respect to w; checked against autograd."""

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        X = torch.randn(7, 3, generator=g, dtype=torch.float64)
        w = torch.randn(3, generator=g, dtype=torch.float64)
        y = torch.randn(7, generator=g, dtype=torch.float64)
        out = call(fn, X, w, y)
        w_ = w.clone().requires_grad_(True)
        (expected,) = torch.autograd.grad(((X @ w_ - y) ** 2).mean(), w_)
        if out.shape != w.shape:
            raise Wrong(f"returns shape {tuple(out.shape)}, expected {tuple(w.shape)}: one "
                        "partial derivative per weight, so X.T @ (...), not X @ (...)")
        residual = X @ w - y
        if torch.allclose(out, -expected):
            raise Wrong("has the wrong sign: d/dw (Xw - y)^2 = +2 X^T (Xw - y)")
        if torch.allclose(out, expected / 2):
            raise Wrong("misses the factor 2 from the square: d/dr r^2 = 2r")
        if torch.allclose(out, expected * len(y)):
            raise Wrong("misses the 1/N of the mean: divide by the number of samples")
        if torch.allclose(out, 2 * X.T @ residual / X.shape[1]):
            raise Wrong("divides by the number of features; the mean runs over the N samples")
        if not torch.allclose(out, expected, atol=1e-10):
            raise Wrong("differs from autograd: dL/dw = (2 / N) X^T (Xw - y)")
        return "correct: (2 / N) Xᵀ(Xw - y), equal to autograd"

    return run("MSE gradient", checks)
