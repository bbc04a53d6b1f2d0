"""A small image CNN: (conv -> ReLU -> max-pool) blocks, adaptive pooling, a linear layer.

It is the article's Keras CNN example (卷积神经网络: 卷积层 -> 激活函数 -> 池化层 -> 全连接层)
in PyTorch, sized for 32x32 ShapesWorld scenes on a CPU, with one change: an adaptive
average pooling before the flatten. Without it the linear layer's input size is fixed by
the image size (32x32 gives C*8*8 numbers, 64x64 gives C*16*16) and any other size fails;
with it every image size gives C*pooled_size*pooled_size numbers, so the same encoder
works for 28x28, 32x32 or 64x64 input.
"""

from collections import OrderedDict

import torch
from torch import nn

from mmkit.checks import check_int, check_tensor
from mmkit.encoders.inputs import check_float_input


class ImageCNN(nn.Module):
    """Image (N, C, H, W) -> feature (N, out_dim).

    Args:
        in_channels: C of the input (3 for RGB).
        channels: output channels of each (conv 3x3 -> ReLU -> max-pool 2x2) block; two
            blocks by default. Each 3x3 conv pads by 1, so only the pools shrink the map:
            H -> H/2 -> H/4.
        out_dim: size of the feature; a ReLU follows the last linear layer.
        pooled_size: side of the map after adaptive average pooling.

    Named layers, so that ``torchvision.models.feature_extraction`` (and the feature-map
    explorer) can pick them: ``features.conv1``, ``features.relu1``, ``features.pool1``,
    ``features.conv2``, ..., then ``pool``, ``flatten``, ``fc``, ``out``. Inputs must be at
    least 2**len(channels) pixels on each side.
    """

    def __init__(self, in_channels: int = 3, channels=(16, 32), out_dim: int = 64,
                 pooled_size: int = 4):
        super().__init__()
        check_int(in_channels, "in_channels", minimum=1)
        if not isinstance(channels, (tuple, list)) or not channels:
            raise TypeError(f"channels must be a non-empty tuple of ints, got {channels!r}")
        for c in channels:
            check_int(c, "each entry of channels", minimum=1)
        self.in_channels = in_channels
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        self.pooled_size = check_int(pooled_size, "pooled_size", minimum=1)
        layers, previous = OrderedDict(), in_channels
        for i, c in enumerate(channels, start=1):
            layers[f"conv{i}"] = nn.Conv2d(previous, c, kernel_size=3, padding=1)
            layers[f"relu{i}"] = nn.ReLU()
            layers[f"pool{i}"] = nn.MaxPool2d(2)
            previous = c
        self.features = nn.Sequential(layers)
        self.pool = nn.AdaptiveAvgPool2d(pooled_size)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(previous * pooled_size * pooled_size, out_dim)
        self.out = nn.ReLU()
        self.min_size = 2 ** len(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image_batch(x, self.in_channels, self.min_size)
        return self.out(self.fc(self.flatten(self.pool(self.features(x)))))


def _check_image_batch(x: torch.Tensor, in_channels: int, min_size: int) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        check_float_input(x, "x", pixels=True)  # raises, naming the fix
    if x.dim() != 4 or x.shape[1] != in_channels:
        check_tensor(x, "x", ndim=4, finite=False)
        raise ValueError(
            f"x must have {in_channels} channels, shape (N, {in_channels}, H, W); "
            f"got shape {tuple(x.shape)}"
        )
    if min(x.shape[2:]) < min_size:
        raise ValueError(
            f"x is {tuple(x.shape[2:])} pixels; the max-pools of 2 need at least {min_size} "
            "on each side"
        )


# A leaf for torch.fx: feature extraction (torchvision.models.feature_extraction) traces
# forward() symbolically, and a traced value cannot decide an `if`; the check stays a call.
torch.fx.wrap("_check_image_batch")


def feature_maps(model: nn.Module, x: torch.Tensor, layers=None) -> dict[str, torch.Tensor]:
    """The maps that ``model``'s layers produce for images ``x``: {layer name: (N, C, h, w)}.

    Built on ``torchvision.models.feature_extraction``: the model is traced once, and every
    node named in ``layers`` (names as ``get_graph_node_names`` lists them, e.g.
    "features.relu1") is returned. layers=None: every node whose output is a 4-D map, in
    the order they run (the input itself left out). Runs in eval mode without gradients
    and leaves the model's mode as it was.
    """
    from torchvision.models.feature_extraction import (
        create_feature_extractor,
        get_graph_node_names,
    )

    check_tensor(x, "x", floating=True, ndim=4)
    _, nodes = get_graph_node_names(model)
    if layers is None:
        wanted = nodes[1:]  # nodes[0] is the input placeholder
    else:
        wanted = [layers] if isinstance(layers, str) else list(layers)
        unknown = [name for name in wanted if name not in nodes]
        if unknown:
            raise ValueError(f"unknown layer(s) {unknown}; the model's layers are {nodes[1:]}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = create_feature_extractor(model, return_nodes=wanted)(x)
    finally:
        model.train(was_training)
    if layers is None:
        out = {k: v for k, v in out.items() if isinstance(v, torch.Tensor) and v.dim() == 4}
    return out
