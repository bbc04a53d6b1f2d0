"""Lesson 02 self-checks: per-channel normalisation."""

from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, run


def check_normalize(fn: Callable) -> Feedback:
    """Exercise: write ``normalize(images, mean, std)``, per channel, for (N, C, H, W) images."""

    def checks() -> str:
        generator = torch.Generator().manual_seed(0)
        images = torch.rand(4, 3, 5, 6, generator=generator)
        mean, std = torch.tensor([0.2, 0.5, 0.8]), torch.tensor([0.1, 0.2, 0.4])
        out = call(fn, images, mean, std)
        if out.shape != images.shape:
            raise Wrong(
                f"output shape {tuple(out.shape)} differs from the input's {tuple(images.shape)}: "
                "reshape mean and std to (1, C, 1, 1) so they broadcast over the channels"
            )
        expected = (images - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
        if torch.allclose(out, images * std.view(1, 3, 1, 1) + mean.view(1, 3, 1, 1)):
            raise Wrong("undoes a normalisation instead: subtract the mean, then divide by std")
        if torch.allclose(out, (images - mean.mean()) / std.mean()):
            raise Wrong("uses one mean and std for all channels: use each channel's own")
        if torch.allclose(out, images - mean.view(1, 3, 1, 1)):
            raise Wrong("subtracts the mean but forgets to divide by std")
        if not torch.allclose(out, expected, atol=1e-6):
            raise Wrong("values differ from (x - mean_c) / std_c for channel c")
        return "correct: every channel centred on its own mean and scaled by its own std"

    return run("normalize", checks)
