"""What every encoder checks first: the dtype of its input, with the fix in the message.

A wrong dtype is the most common slip when data comes from a file: images read as uint8
(0..255), token ids stored as floats, joints as integers. PyTorch would fail deep inside a
layer ("expected scalar type Float but found Byte"); these checks fail at the door and say
how to convert.
"""

import torch

from mmkit.checks import check_tensor


def check_float_input(x, name: str, *, pixels: bool = False, **shape) -> torch.Tensor:
    """x must be a floating-point tensor. pixels=True: images or frames, whose integer
    form is 0..255 (uint8), so the fix divides by 255. ``shape``: ndim=/min_ndim= for
    ``check_tensor``."""
    if isinstance(x, torch.Tensor) and not x.is_floating_point():
        if pixels and x.dtype == torch.uint8:
            fix = f"`{name}.float() / 255` (uint8 pixels 0..255 become 0..1)"
        else:
            fix = f"`{name}.float()`"
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}: convert with {fix}")
    return check_tensor(x, name, floating=True, **shape)


def check_token_ids(x, name: str = "ids", **shape) -> torch.Tensor:
    """x must hold integer token ids (an embedding looks rows up by index)."""
    if isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex()
                                        or x.dtype == torch.bool):
        raise TypeError(f"{name} must hold integer token ids, got {x.dtype}: convert with "
                        f"`{name}.long()` (or encode the texts with a Vocabulary)")
    return check_tensor(x, name, floating=False, **shape)
