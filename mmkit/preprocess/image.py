"""Images for models: per-channel statistics, a transform pipeline, and label-safe augmentation.

A CNN trains best on inputs near zero mean and unit variance, in a fixed size::

    mean, std = channel_stats(train_images)                     # TRAINING split only
    train_tf = make_image_transform(32, mean, std, augment=True)
    test_tf = make_image_transform(32, mean, std)               # same stats, no augmentation
    x = train_tf(image)                                         # (C, 32, 32) float32
    shown = denormalize(x, mean, std).clamp(0, 1)               # back to [0, 1] to plot

Augmentation shows the model a slightly different copy of an image each epoch, so it learns
the object and not the exact pixels. It must never change what the label says: see
``make_image_transform`` and ``hflip_caption``.
"""

import re
from collections.abc import Iterable, Sequence

import torch
from torchvision.transforms import v2

from mmkit.checks import _describe, check_int, check_tensor

# Augmentation strengths, small on purpose: a shift by up to 10 % of the width and height
# keeps the shape in view, and a 10 % change of brightness/contrast/saturation keeps red red.
MAX_SHIFT = 0.1
JITTER = 0.1


def _check_unit_range(x: torch.Tensor, name: str) -> None:
    """Float images in this kit hold values in [0, 1]; 0..255 floats are a classic slip."""
    low, high = x.min().item(), x.max().item()
    if low < 0 or high > 1:
        raise ValueError(
            f"{name} must hold values in [0, 1], got values in [{low:.4g}, {high:.4g}]"
            + (" (0..255 pixels? divide by 255)" if high > 1 else "")
        )


def channel_stats(
    images: torch.Tensor | Iterable[torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of each channel over every pixel of the TRAINING images.

    images: a float tensor (N, C, H, W) with values in [0, 1], or an iterable of (C, H, W)
        float tensors (sizes may differ; each pixel counts once).
    Returns (mean, std), float32 tensors of shape (C,); std is torch's default (divides by
    the number of pixels - 1), i.e. ``images.std(dim=(0, 2, 3))``.

    Compute them on the training split only. Normalisation is part of the model: the test
    images must go through the same transform with the same numbers, and statistics that
    peeked at the test set leak information about it into training.
    """
    if isinstance(images, torch.Tensor):
        check_tensor(images, "images", floating=True, ndim=4)
        _check_unit_range(images, "images")
        batches = images.split(256)  # chunks, so the float64 copy stays small
    elif isinstance(images, Iterable) and not isinstance(images, (str, bytes)):
        batches = _single_images(images)
    else:
        raise TypeError(
            f"images must be a tensor (N, C, H, W) or an iterable of (C, H, W) tensors, "
            f"got {_describe(images)}"
        )

    # Running sums in float64: summing the squares of millions of pixels in float32 would
    # lose digits. Then var = (sum(x^2) - sum(x)^2 / n) / (n - 1).
    count, total, total_sq = 0, None, None
    for batch in batches:
        x = batch.double()
        if total is None:
            total = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
            total_sq = torch.zeros_like(total)
        count += x.shape[0] * x.shape[2] * x.shape[3]
        total += x.sum(dim=(0, 2, 3))
        total_sq += (x * x).sum(dim=(0, 2, 3))
    if total is None:
        raise ValueError("images is empty; pass at least one image")
    if count < 2:
        raise ValueError("images holds a single pixel; a standard deviation needs at least two")
    mean = total / count
    var = (total_sq - total * mean) / (count - 1)
    std = var.clamp(min=0).sqrt()  # clamp: rounding can make a zero variance slightly negative
    return mean.float(), std.float()


def _single_images(images: Iterable[torch.Tensor]):
    """Check each (C, H, W) image of an iterable and yield it as a batch of one."""
    channels = None
    for i, image in enumerate(images):
        name = f"images[{i}]"
        check_tensor(image, name, floating=True, ndim=3)
        _check_unit_range(image, name)
        if channels is None:
            channels = image.shape[0]
        elif image.shape[0] != channels:
            raise ValueError(
                f"{name} has {image.shape[0]} channels but images[0] has {channels}; "
                "every image needs the same channels"
            )
        yield image.unsqueeze(0)


def _channel_values(values, name: str) -> torch.Tensor:
    """mean or std given as a sequence of numbers or a 1-D tensor -> float64 tensor (C,)."""
    if isinstance(values, torch.Tensor):
        check_tensor(values, name, floating=True, ndim=1)
        return values.double()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of numbers (one per channel), got "
                        f"{_describe(values)}")  # fmt: skip
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name}[{i}] must be a number, got {_describe(value)}")
    return check_tensor(torch.tensor(values, dtype=torch.float64), name, ndim=1)


def _check_mean_std(mean, std) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = _channel_values(mean, "mean"), _channel_values(std, "std")
    if mean.shape != std.shape:
        raise ValueError(
            f"mean and std need one value per channel each, got {mean.numel()} and {std.numel()}"
        )
    if (std <= 0).any():
        raise ValueError(f"std must be > 0 for every channel (it divides), got {std.tolist()}")
    return mean, std


class _CheckImage(torch.nn.Module):
    """The first step of the pipeline: a clear error for an image the steps after it would
    silently get wrong (0..255 floats are not rescaled by ToDtype; NaN spreads)."""

    def __init__(self, channels: int | None):
        super().__init__()
        self.channels = channels

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        check_tensor(image, "image", min_ndim=3)
        if image.is_floating_point():
            _check_unit_range(image, "image")
        if self.channels is not None and image.shape[-3] != self.channels:
            raise ValueError(
                f"image has {image.shape[-3]} channels (shape {tuple(image.shape)}) but mean "
                f"and std have {self.channels} values; give one value per channel"
            )
        return image

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


def make_image_transform(
    size: int | tuple[int, int] | None = None,
    mean: Sequence[float] | torch.Tensor | None = None,
    std: Sequence[float] | torch.Tensor | None = None,
    augment: bool = False,
    hflip: bool = False,
) -> v2.Compose:
    """The transform from a raw image to a model input.

    Input: one image, a PIL image or a tensor (C, H, W) (uint8 0..255 or float in [0, 1]);
    output: a float32 tensor (C, H, W), or (C, size, size) when ``size`` is given.

    Steps: to tensor -> float32 in [0, 1] -> resize (antialias, so shrinking does not alias)
    -> [augmentation] -> Normalize(mean, std) -> plain tensor.

    size: an int for a square (size, size) output, or (height, width); None keeps the size.
    mean, std: per-channel statistics from ``channel_stats`` on the training set; None skips
        normalisation. Use the same values for training and test transforms.
    augment: for training only. A random shift of up to ``MAX_SHIFT`` of the size (the same
        as padding with black and cropping back at a random place) and a small random
        change of brightness, contrast and saturation. Never hue: when the label is the
        colour, a hue shift turns a red shape into an orange one with the label still "red".
    hflip: also mirror the image left-right half of the time (needs augment=True). Off by
        default because a horizontal flip turns "moving left" into "moving right": keep it
        off whenever the label or caption depends on left/right (the ``direction`` task of
        ShapesWorld, a caption that says "left"), or flip the caption too (``hflip_caption``).
        It is safe for labels that do not care about sides (shape, colour, size).

    Random steps draw from torch's global generator: call ``torch.manual_seed`` (or
    ``mmkit.seed_everything``) to repeat them. Apply the transform per image (in the
    dataset), so each image gets its own random shift.
    """
    if size is not None:
        size = _check_size(size)
    if (mean is None) != (std is None):
        raise ValueError("pass both mean and std to normalise, or neither")
    if mean is not None:
        mean, std = _check_mean_std(mean, std)
    if hflip and not augment:
        raise ValueError("hflip=True is an augmentation: it needs augment=True")

    steps = [
        v2.ToImage(),  # PIL image or tensor -> tv_tensors.Image (C, H, W)
        v2.ToDtype(torch.float32, scale=True),  # uint8 0..255 -> float 0..1
        _CheckImage(None if mean is None else mean.numel()),
    ]
    if size is not None:
        steps.append(v2.Resize(size, antialias=True))
    if augment:
        steps.append(v2.RandomAffine(degrees=0, translate=(MAX_SHIFT, MAX_SHIFT)))
        steps.append(v2.ColorJitter(brightness=JITTER, contrast=JITTER, saturation=JITTER))
        if hflip:
            steps.append(v2.RandomHorizontalFlip(p=0.5))
    if mean is not None:
        steps.append(v2.Normalize(mean=mean.tolist(), std=std.tolist()))
    steps.append(v2.ToPureTensor())  # a plain torch.Tensor, like every other input
    return v2.Compose(steps)


def _check_size(size) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size must be an int or a (height, width) pair, got {_describe(size)}")
    return tuple(check_int(side, "size", minimum=1) for side in size)


def denormalize(
    x: torch.Tensor, mean: Sequence[float] | torch.Tensor, std: Sequence[float] | torch.Tensor
) -> torch.Tensor:
    """Undo Normalize: x * std + mean per channel, to look at a normalised image.

    x: (C, H, W) or (N, C, H, W) float; mean, std: C values each. Returns the same shape
    and dtype. Not clamped, so it inverts Normalize exactly; clamp(0, 1) before plotting.
    """
    check_tensor(x, "x", floating=True, ndim=(3, 4))
    mean, std = _check_mean_std(mean, std)
    if x.shape[-3] != mean.numel():
        raise ValueError(
            f"x has {x.shape[-3]} channels (shape {tuple(x.shape)}) but mean and std have "
            f"{mean.numel()} values; give one value per channel"
        )
    # (C,) -> (C, 1, 1): one value per channel, broadcast over height and width.
    mean = mean.to(x.device, x.dtype)[:, None, None]
    std = std.to(x.device, x.dtype)[:, None, None]
    return x * std + mean


_SIDE_WORD = re.compile(r"\b(left|right)(wards?)?\b", re.IGNORECASE)
_OTHER_SIDE = {"left": "right", "right": "left"}


def _mirror_word(match: re.Match) -> str:
    side, suffix = match.group(1), match.group(2) or ""
    other = _OTHER_SIDE[side.lower()]
    if side.isupper():
        other = other.upper()
    elif side[0].isupper():
        other = other.capitalize()
    return other + suffix


def hflip_caption(caption: str) -> str:
    """The caption of the mirrored image: left <-> right (and leftwards <-> rightwards).

    >>> hflip_caption("a red circle moving left")
    'a red circle moving right'

    A horizontal flip changes what the image shows, so whatever describes it must change
    too. Word-level: it cannot tell "right" (the side) from "right" (correct).
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {_describe(caption)}")
    return _SIDE_WORD.sub(_mirror_word, caption)
