"""Lesson 05 self-checks: PCK, a local soft-argmax, and MFCC deltas."""

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
        from mmkit.encoders.pose import pck as kit_pck

        if fn is kit_pck:
            raise Wrong("that is the kit's pck (mmkit.encoders.pose.pck), not yours: write the "
                        "function body yourself")
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
        return f"correct: PCK@0.1 = {expected:.2f} on the checker's own made-up figures"

    return run("pck", checks)


def _local_soft_argmax(maps: torch.Tensor, radius: int) -> torch.Tensor:
    h, w = maps.shape[-2:]
    peak = maps.flatten(-2).argmax(dim=-1)
    py, px = peak // w, peak % w
    ys = torch.arange(h, device=maps.device)[:, None]
    xs = torch.arange(w, device=maps.device)[None, :]
    near = ((ys - py[..., None, None]).abs() <= radius) & ((xs - px[..., None, None]).abs() <= radius)
    weight = maps * near
    weight = weight / weight.sum(dim=(-2, -1), keepdim=True)
    x = (weight.sum(dim=-2) * xs[0].to(maps.dtype)).sum(dim=-1)
    y = (weight.sum(dim=-1) * ys[:, 0].to(maps.dtype)).sum(dim=-1)
    return torch.stack([x, y], dim=-1)


def check_local_soft_argmax(fn: Callable) -> Feedback:
    """Exercise: ``local_soft_argmax(maps, radius)``: maps (..., H, W) of probabilities ->
    (..., 2) positions (x, y): the mean position under the map, over the
    (2 radius + 1)² square around the map's highest pixel only."""

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        ys, xs = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
        bump = torch.exp(-((xs - 7.3) ** 2 + (ys - 4.6) ** 2) / 2)
        stray = torch.zeros(12, 12)
        stray[0, 0] = 0.3  # probability far from the joint: what a global soft-argmax averages in
        maps = torch.stack([bump + stray, torch.rand(12, 12, generator=g) ** 8])[None]
        maps = maps / maps.sum(dim=(-2, -1), keepdim=True)  # (1, 2, 12, 12)
        out = call(fn, maps, 2)
        want = _local_soft_argmax(maps, 2)
        if out.shape != want.shape:
            raise Wrong(f"returns shape {tuple(out.shape)}, expected {tuple(want.shape)}: one "
                        "(x, y) per map")
        if torch.allclose(out, want.flip(-1), atol=1e-4):
            raise Wrong("returns (y, x): give (x, y), x the column, as the joints are stored")
        whole = _local_soft_argmax(maps, 12)
        if torch.allclose(out, whole, atol=1e-4):
            raise Wrong("averages over the whole map (a global soft-argmax): keep only the "
                        "window of (2 radius + 1)² pixels around the highest one")
        if not torch.allclose(out, want, atol=1e-4):
            raise Wrong(f"gives {[[round(v, 2) for v in p] for p in out[0].tolist()]}, expected "
                        f"{[[round(v, 2) for v in p] for p in want[0].tolist()]}: inside the "
                        "window, divide by the window's own sum before averaging x and y")
        return ("correct: the stray probability in the corner no longer pulls the joint "
                f"(x = {out[0, 0, 0]:.2f}, y = {out[0, 0, 1]:.2f}; the bump is at 7.30, 4.60)")

    return run("local soft-argmax", checks)


def check_deltas(fn: Callable) -> Feedback:
    """Exercise: ``deltas(features)``: the frame-to-frame slope of each coefficient,
    (x[t + 1] - x[t - 1]) / 2 with the edge frames repeated; checked against
    ``librosa.feature.delta(features, width=3, mode="nearest")``."""

    def checks() -> str:
        import librosa

        g = torch.Generator().manual_seed(0)
        features = torch.randn(13, 20, generator=g, dtype=torch.float64)
        out = call(fn, features)
        want = torch.from_numpy(librosa.feature.delta(features.numpy(), width=3, mode="nearest"))
        if out.shape != want.shape:
            raise Wrong(f"returns shape {tuple(out.shape)}, expected {tuple(want.shape)}: one "
                        "slope per coefficient and frame (pad the ends, do not drop them)")
        forward = torch.cat([features[:, 1:] - features[:, :-1], torch.zeros(13, 1, dtype=torch.float64)], 1)
        if torch.allclose(out[:, 1:-1], forward[:, 1:-1]):
            raise Wrong("takes x[t + 1] - x[t]: the centred slope is (x[t + 1] - x[t - 1]) / 2")
        if torch.allclose(out[:, 1:-1], 2 * want[:, 1:-1]):
            raise Wrong("forgets the / 2: the two frames are 2 steps apart")
        if torch.allclose(out[:, 1:-1], want[:, 1:-1]) and not torch.allclose(out, want):
            raise Wrong("is right inside but not at the first and last frames: repeat the edge "
                        "frame (x[-1] = x[0]), so the first slope is (x[1] - x[0]) / 2")
        if not torch.allclose(out, want, atol=1e-10):
            raise Wrong("differs from librosa.feature.delta(width=3, mode='nearest')")
        return "correct: equal to librosa.feature.delta(width=3, mode='nearest')"

    return run("deltas", checks)
