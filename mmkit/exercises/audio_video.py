"""Lesson 05 self-checks: PCK, the pose-estimation metric."""

from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, run


def _pck(pred, true, threshold) -> torch.Tensor:
    return ((pred - true).norm(dim=-1) <= threshold[:, None]).float().mean()


def check_pck(fn: Callable) -> Feedback:
    """Exercise: write ``pck(pred, true, height, alpha=0.1)`` for (N, J, 2) joints, (N,) heights.

    The right answer: the fraction of joints whose Euclidean distance to the truth is
    <= alpha * height of *their own* figure, as a 0-dim tensor.
    """

    def checks() -> str:
        # Four figures of different heights in a 32 x 32 image, five joints each. Each error
        # is chosen so that one typical mistake, and only it, changes the answer.
        height = torch.tensor([10.0, 20.0, 12.0, 16.0])
        true = torch.full((4, 5, 2), 15.0)
        offsets = torch.tensor([
            [[0.0, 0.0], [1.0, 0.0], [0.9, 0.9], [1.5, 0.0], [5.0, 0.0]],
            [[1.2, 1.6], [2.0, 0.0], [0.0, 2.4], [1.5, 1.5], [3.1, 0.0]],
            [[0.0, 1.0], [0.9, 0.8], [1.1, 0.0], [2.0, 2.0], [0.0, 0.5]],
            [[1.6, 0.0], [1.0, 1.3], [0.0, 1.7], [1.2, 1.2], [0.4, 0.4]],
        ])
        pred = true + offsets
        out = call(fn, pred, true, height, 0.1)
        if out.numel() != 1:
            raise Wrong(
                f"returned {out.numel()} values (shape {tuple(out.shape)}): average over every "
                "joint of every figure to get one fraction"
            )
        value = float(out)
        expected = float(_pck(pred, true, 0.1 * height))
        if value > 1:
            raise Wrong(f"returned {value:g}, more than 1: divide the count by the number of joints")
        if abs(value - float(_pck(pred, true, 0.1 * torch.full((4,), 32.0)))) < 1e-6:
            raise Wrong(
                "scales the threshold by the image size (32): use each figure's own height, so "
                "PCK means the same for a small figure and a large one"
            )
        if abs(value - float(_pck(pred, true, 0.1 * height.mean().expand(4)))) < 1e-6:
            raise Wrong("uses one mean height for all figures: each figure has its own height")
        box = ((pred - true).abs() <= 0.1 * height[:, None, None]).all(dim=-1).float().mean()
        if abs(value - float(box)) < 1e-6:
            raise Wrong(
                "compares |dx| and |dy| separately (a square): use the Euclidean distance "
                "sqrt(dx² + dy²)"
            )
        if abs(value - float(_pck(pred, true, height))) < 1e-6:
            raise Wrong("forgets alpha: the threshold is alpha * height, not the height itself")
        strict = ((pred - true).norm(dim=-1) < 0.1 * height[:, None]).float().mean()
        if abs(value - float(strict)) < 1e-6:
            raise Wrong("uses <: a joint exactly at alpha * height counts as correct (<=)")
        if abs(value - expected) > 1e-6:
            raise Wrong(f"returned {value:.4f}, expected {expected:.4f}")
        return f"correct: PCK@0.1 = {expected:.2f} on the test figures"

    return run("pck", checks)
