"""The math of lesson 01, from scratch: activations, softmax, losses and gradient descent.

Each function takes the same arguments as its PyTorch counterpart and returns the same
result (tested to 1e-6 in float32), so a learner can swap one for the other.
"""

from collections.abc import Callable

import torch

from mmkit.checks import (
    check_choice,
    check_dim,
    check_int,
    check_positive,
    check_same_shape,
    check_tensor,
)

_REDUCTIONS = ("mean", "sum", "none")


def relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU(x) = max(0, x), element-wise. Mirrors ``torch.relu``."""
    check_tensor(x, "x", floating=True, allow_empty=True, finite=False)
    # where(), not x * (x > 0): that would turn -inf into NaN (0 * -inf).
    return torch.where(x > 0, x, torch.zeros_like(x))


def softmax(x: torch.Tensor, dim: int = -1, temperature: float = 1.0) -> torch.Tensor:
    """exp(x_i / T) / sum_j exp(x_j / T) along ``dim``. Mirrors ``torch.softmax``.

    Subtracting the max first changes nothing mathematically (it cancels in the ratio)
    but keeps exp() from overflowing: exp(1e4) is inf in float32, exp(0) is 1.
    A temperature T > 1 flattens the distribution, T < 1 sharpens it.
    """
    check_tensor(x, "x", floating=True)
    dim = check_dim(x, dim)
    temperature = check_positive(temperature, "temperature")
    z = x / temperature
    shifted = z - z.amax(dim=dim, keepdim=True)
    exp = torch.exp(shifted)
    return exp / exp.sum(dim=dim, keepdim=True)


def log_softmax(x: torch.Tensor, dim: int = -1, temperature: float = 1.0) -> torch.Tensor:
    """log(softmax(x)) computed without ever taking log(0). Mirrors ``torch.log_softmax``.

    log softmax(z)_i = (z_i - m) - log sum_j exp(z_j - m), with m = max(z): the
    log-sum-exp trick. log(softmax(x)) would give -inf as soon as a probability underflows.
    """
    check_tensor(x, "x", floating=True)
    dim = check_dim(x, dim)
    temperature = check_positive(temperature, "temperature")
    z = x / temperature
    shifted = z - z.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def _reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy of raw scores against class indices. Mirrors ``F.cross_entropy``.

    logits: (N, C) or (N, C, d1, ...) unnormalised scores; target: (N) or (N, d1, ...)
    integer classes in [0, C). loss_i = -log softmax(logits_i)[target_i]. With class
    weights, "mean" divides by the summed weights of the targets, as PyTorch does, so
    that a weighted mean stays a mean.
    """
    check_tensor(logits, "logits", floating=True, min_ndim=2)
    check_tensor(target, "target", floating=False)
    check_choice(reduction, "reduction", _REDUCTIONS)
    n_classes = logits.shape[1]
    expected = (logits.shape[0], *logits.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"target must have shape {expected} for logits of shape {tuple(logits.shape)}, "
            f"got {tuple(target.shape)}"
        )
    if target.min() < 0 or target.max() >= n_classes:
        raise ValueError(
            f"target holds class indices in [{int(target.min())}, {int(target.max())}] "
            f"but logits have {n_classes} classes (valid indices 0..{n_classes - 1})"
        )
    log_p = log_softmax(logits, dim=1)
    # Pick, for every sample, the log-probability of its true class.
    picked = log_p.gather(1, target.unsqueeze(1)).squeeze(1)
    losses = -picked
    if weight is None:
        return _reduce(losses, reduction)

    check_tensor(weight, "weight", floating=True, ndim=1)
    if weight.shape[0] != n_classes:
        raise ValueError(f"weight must have one entry per class ({n_classes}), got {weight.shape[0]}")
    w = weight[target]
    losses = losses * w
    if reduction == "mean":
        return losses.sum() / w.sum()
    return _reduce(losses, reduction)


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """-[y log p + (1 - y) log(1 - p)] per element. Mirrors ``F.binary_cross_entropy``.

    p are probabilities in [0, 1] (after a sigmoid), y the targets in [0, 1]. Like PyTorch,
    each log is clamped at -100 so that p = 0 or p = 1 gives a large, finite loss instead
    of inf.
    """
    check_tensor(p, "p", floating=True)
    check_tensor(y, "y", floating=True)
    check_same_shape(p, y, "p", "y")
    check_choice(reduction, "reduction", _REDUCTIONS)
    if p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"p must hold probabilities in [0, 1], got values in [{p.min():.4g}, {p.max():.4g}]; "
            "apply torch.sigmoid to raw scores first"
        )
    if y.min() < 0 or y.max() > 1:
        raise ValueError(f"y must be in [0, 1], got values in [{y.min():.4g}, {y.max():.4g}]")
    log_p = torch.log(p).clamp(min=-100)
    log_1mp = torch.log1p(-p).clamp(min=-100)
    return _reduce(-(y * log_p + (1 - y) * log_1mp), reduction)


def mse(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error (pred - target)^2. Mirrors ``F.mse_loss``."""
    check_tensor(pred, "pred", floating=True)
    check_tensor(target, "target", floating=True)
    check_same_shape(pred, target, "pred", "target")
    check_choice(reduction, "reduction", _REDUCTIONS)
    return _reduce((pred - target) ** 2, reduction)


def gradient_descent(
    grad_fn: Callable[[torch.Tensor], torch.Tensor],
    theta0,
    lr: float,
    steps: int,
) -> torch.Tensor:
    """Plain gradient descent, theta <- theta - lr * grad(theta), ``steps`` times.

    Returns the whole trajectory, shape (steps + 1, *theta0.shape), theta0 first, so a
    lesson can plot every step. Mirrors ``torch.optim.SGD(lr=lr)`` without momentum.
    A learning rate that is too large makes theta diverge; the trajectory shows it (the
    values grow, and may reach inf) rather than raising, because seeing it is the lesson.
    """
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be a function theta -> gradient, got {type(grad_fn).__name__}")
    if isinstance(theta0, (int, float)) and not isinstance(theta0, bool):
        theta0 = torch.tensor(float(theta0), dtype=torch.float64)
    check_tensor(theta0, "theta0", floating=True, allow_empty=False)
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=0)

    trajectory = [theta0.detach().clone()]
    theta = trajectory[0]
    for step in range(steps):
        grad = grad_fn(theta)
        if not isinstance(grad, torch.Tensor) or grad.shape != theta.shape:
            got = tuple(grad.shape) if isinstance(grad, torch.Tensor) else type(grad).__name__
            raise ValueError(
                f"grad_fn must return a tensor shaped like theta {tuple(theta.shape)}, "
                f"got {got} at step {step}"
            )
        theta = theta - lr * grad
        trajectory.append(theta.detach().clone())
    return torch.stack(trajectory)
