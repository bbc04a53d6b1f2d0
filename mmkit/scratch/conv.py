"""Lesson 03, from scratch: 2-D convolution and max pooling.

A convolution slides a small kernel over the image and takes, at every position, the dot
product of the kernel with the patch under it. Written as loops that is six nested loops;
written the way libraries do it, every patch is first copied into a column ("im2col",
``unfold``) and then all dot products are one matrix multiplication. That is what
``conv2d`` below does. Both functions take the same arguments as their ``torch.nn.functional``
counterparts and agree with them to 1e-5 in float32 (tests/test_scratch_conv.py).

Like PyTorch (and the cross-correlation it really computes), the kernel is not flipped.
"""

import torch
import torch.nn.functional as F

from mmkit.checks import check_tensor


def _pair(value, name: str, *, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each >= minimum, as a tuple of two ints."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in pair)
    ):
        raise TypeError(f"{name} must be an int or a pair of ints (height, width), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum} in both directions, got {tuple(pair)}")
    return int(pair[0]), int(pair[1])


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """How many positions a kernel takes along one axis: floor((size + 2p - k) / s) + 1.

    The input is padded with p zeros on *both* sides, the kernel must fit inside, and the
    last position that does not fit a whole stride is dropped (floor).
    """
    return (size + 2 * padding - kernel_size) // stride + 1


def _windows(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int]) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H_out, W_out, kH, kW): every window, as a view (no copy yet)."""
    return x.unfold(2, kernel[0], stride[0]).unfold(3, kernel[1], stride[1])


def _check_fits(shape: tuple[int, int], kernel: tuple[int, int], what: str) -> None:
    if kernel[0] > shape[0] or kernel[1] > shape[1]:
        raise ValueError(
            f"the kernel {kernel} is bigger than the {what} {shape}: it must fit at least "
            "once (use a smaller kernel, or more padding)"
        )


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride=1,
    padding=0,
) -> torch.Tensor:
    """2-D convolution by unfold (im2col) + one matrix multiplication. Mirrors ``F.conv2d``.

    x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); bias: (C_out,) or None.
    stride, padding: an int or a pair (height, width); padding adds that many zeros on each
    side. Returns (N, C_out, H_out, W_out) with H_out = floor((H + 2p - kH) / s) + 1.
    """
    check_tensor(x, "x", floating=True, ndim=4)
    check_tensor(weight, "weight", floating=True, ndim=4)
    if x.dtype != weight.dtype:
        raise TypeError(f"x and weight must have the same dtype, got {x.dtype} and {weight.dtype}")
    c_out, c_in, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(
            f"x has {x.shape[1]} channels but weight expects C_in = {c_in} "
            f"(weight shape {tuple(weight.shape)} is (C_out, C_in, kH, kW))"
        )
    if bias is not None:
        check_tensor(bias, "bias", floating=True, ndim=1)
        if bias.shape[0] != c_out:
            raise ValueError(f"bias must have one entry per output channel ({c_out}), "
                             f"got shape {tuple(bias.shape)}")
    stride = _pair(stride, "stride", minimum=1)
    padding = _pair(padding, "padding", minimum=0)
    padded_shape = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    _check_fits(padded_shape, (kh, kw), "padded input (H + 2p, W + 2p) =")

    # F.pad takes (left, right, top, bottom) for the last two dimensions.
    padded = F.pad(x, (padding[1], padding[1], padding[0], padding[0]))
    patches = _windows(padded, (kh, kw), stride)  # (N, C_in, H_out, W_out, kH, kW)
    n, _, h_out, w_out = patches.shape[:4]
    # im2col: one row per output position, holding the C_in*kH*kW numbers under the kernel.
    columns = patches.permute(0, 2, 3, 1, 4, 5).reshape(n, h_out * w_out, c_in * kh * kw)
    out = columns @ weight.reshape(c_out, -1).T  # (N, H_out*W_out, C_out): all dot products
    if bias is not None:
        out = out + bias
    return out.permute(0, 2, 1).reshape(n, c_out, h_out, w_out)


def max_pool2d(x: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """The largest value in each window. Mirrors ``F.max_pool2d`` (no padding, floor mode).

    x: (N, C, H, W); kernel_size, stride: an int or a pair; stride defaults to kernel_size
    (windows side by side, not overlapping). Each channel is pooled on its own.
    Returns (N, C, H_out, W_out), H_out = floor((H - kH) / s) + 1.
    """
    check_tensor(x, "x", floating=True, ndim=4)
    kernel = _pair(kernel_size, "kernel_size", minimum=1)
    stride = kernel if stride is None else _pair(stride, "stride", minimum=1)
    _check_fits(tuple(x.shape[2:]), kernel, "input (H, W) =")
    return _windows(x, kernel, stride).amax(dim=(-2, -1))
