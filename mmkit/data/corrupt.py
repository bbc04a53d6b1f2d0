"""Corrupt one modality of a dict of tensors: what happens to a model when a sensor fails."""

import torch

from mmkit.checks import check_int, check_positive


def corrupt(data: dict, modality: str, level: float, seed: int = 0) -> dict:
    """A copy of ``data`` with one modality corrupted at ``level``, the same for a given seed.

    Float tensors (images, audio features) get Gaussian noise of std ``level``; token ids
    (int tensors) have each non-padding token (id != 0) replaced by a random word with
    probability ``min(level, 1)``. Other keys are shared, not copied.
    """
    if not isinstance(data, dict):
        raise TypeError(f"data must be a dict of tensors, got {type(data).__name__}")
    if modality not in data:
        raise ValueError(f"modality {modality!r} is not in data; it has {sorted(data)}")
    level = check_positive(level, "level", allow_zero=True)
    generator = torch.Generator().manual_seed(check_int(seed, "seed"))
    x = data[modality]
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"data[{modality!r}] must be a tensor, got {type(x).__name__}")
    if x.is_floating_point():
        noisy = x + level * torch.randn(x.shape, generator=generator).to(x)
    else:
        swap = (torch.rand(x.shape, generator=generator) < min(level, 1.0)).to(x.device) & (x != 0)
        words = torch.randint(2, max(int(x.max()) + 1, 3), x.shape, generator=generator)
        noisy = torch.where(swap, words.to(x), x)
    return {**data, modality: noisy}
