"""Video encoders: hand-made optical-flow features -> MLP, and a small 3-D CNN on raw frames.

Two ways to see motion:
- ``flow_features`` + ``FlowMLP``: optical flow (光流, ``mmkit.preprocess.video.flow_field``)
  says per pixel how far it moved; pooled into a few numbers per frame pair it is a compact,
  interpretable motion feature, and a tiny MLP reads it. The flow is computed once per clip,
  before training (it costs far more than the MLP).
- ``VideoCNN3d``: 3-D convolutions (time x height x width) on the raw frames learn their
  own motion detectors, end to end, from the labels alone.

Videos are (B, T, C, H, W), as ``mmkit.data.collate`` stacks them.
"""

import torch
import torch.nn.functional as F
from torch import nn

from mmkit.checks import check_int, check_positive
from mmkit.encoders.inputs import check_float_input
from mmkit.scratch.flow import optical_flow_batch, to_grey


def _check_videos(videos: torch.Tensor, name: str = "videos") -> torch.Tensor:
    check_float_input(videos, name, pixels=True, ndim=5)
    if videos.shape[1] < 2:
        raise ValueError(f"{name} needs at least 2 frames (dimension 1), got {videos.shape[1]}")
    if videos.shape[2] not in (1, 3):
        raise ValueError(
            f"{name} must be (B, T, C, H, W) with C = 1 or 3, got shape {tuple(videos.shape)}"
        )
    return videos


def flow_features(videos: torch.Tensor, grid: int = 1, min_change: float = 0.3,
                  **flow_kwargs) -> torch.Tensor:
    """Motion features (B, T - 1, 2, grid, grid): mean flow (dx, dy) per frame pair and cell.

    The flow of every consecutive pair (Lucas-Kanade by default; ``flow_kwargs`` go to
    ``mmkit.scratch.optical_flow_batch``) is averaged over each of grid x grid cells,
    weighted by how much each pixel changed (|frame difference|), counting only pixels whose
    change is at least ``min_change`` times the largest change in that frame pair. Why: the
    still background carries no motion, only noise; in a noisy clip its many small
    differences would otherwise hold most of the weight and pull the mean towards zero
    (min_change=0 keeps every pixel). grid=1 gives one (dx, dy) per frame pair.
    """
    _check_videos(videos)
    grid = check_int(grid, "grid", minimum=1)
    min_change = check_positive(min_change, "min_change", allow_zero=True)
    if min_change >= 1:
        raise ValueError(f"min_change must be < 1 (a fraction of the largest change), got {min_change}")
    b, t, c, h, w = videos.shape
    if grid > min(h, w):
        raise ValueError(f"grid={grid} is larger than the frames ({h} x {w})")
    frames = videos.flatten(0, 1)
    grey = torch.stack([to_grey(frame) for frame in frames]).reshape(b, t, h, w)
    flow = optical_flow_batch(grey[:, :-1].flatten(0, 1), grey[:, 1:].flatten(0, 1), **flow_kwargs)
    change = (grey[:, 1:] - grey[:, :-1]).abs().flatten(0, 1).unsqueeze(1)  # (B(T-1), 1, H, W)
    peak = change.amax(dim=(-2, -1), keepdim=True)
    weight = torch.where(change >= min_change * peak, change, torch.zeros_like(change))
    total = F.adaptive_avg_pool2d(weight, grid)  # a cell where nothing changed has no motion: 0
    pooled = torch.where(total > 0, F.adaptive_avg_pool2d(flow * weight, grid) / total.clamp(min=1e-12),
                         torch.zeros_like(total))
    return pooled.reshape(b, t - 1, 2, grid, grid)


class FlowMLP(nn.Module):
    """Flow features (B, ...) -> flatten -> MLP -> (B, out_dim).

    in_features: the number of values per sample, e.g. (T - 1) * 2 * grid**2 for
    ``flow_features(videos, grid)``.
    """

    def __init__(self, in_features: int, out_dim: int = 32, hidden: int = 64):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        self.mlp = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_dim), nn.ReLU()
        )

    def forward(self, flow: torch.Tensor) -> torch.Tensor:
        check_float_input(flow, "flow", min_ndim=2)
        x = flow.flatten(1)
        if x.shape[1] != self.in_features:
            raise ValueError(
                f"flow has {x.shape[1]} values per sample (shape {tuple(flow.shape)}), but "
                f"this FlowMLP was built for in_features={self.in_features}"
            )
        return self.mlp(x)


class VideoCNN3d(nn.Module):
    """Raw frames (B, T, C, H, W) -> 3-D conv blocks -> global average pool -> (B, out_dim).

    Each block: 3x3x3 convolution, batch norm (which keeps the tiny network's training
    stable from any initialisation), ReLU, and 2x2 max-pooling in space.

    A 3x3x3 kernel spans three frames, so it can respond to an edge that *moves* one way
    (a tilted pattern in time x space), which a 2-D kernel on one frame cannot. Pooling
    halves H and W but keeps T (clips are short); the global average pool then sums each
    motion detector's response over the whole clip.
    """

    def __init__(self, in_channels: int = 3, out_dim: int = 32, channels=(8, 8)):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        if not isinstance(channels, (list, tuple)) or not channels:
            raise TypeError(f"channels must be a non-empty tuple of ints, got {channels!r}")
        sizes = [in_channels, *(check_int(c, "channels[i]", minimum=1) for c in channels)]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Conv3d(a, b, 3, padding=1), nn.BatchNorm3d(b), nn.ReLU(),
                       nn.MaxPool3d((1, 2, 2))]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(sizes[-1], out_dim), nn.ReLU())

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        _check_videos(video, "video")
        if video.shape[2] != self.in_channels:
            raise ValueError(
                f"video has {video.shape[2]} channels (shape {tuple(video.shape)}), this "
                f"encoder expects in_channels={self.in_channels}"
            )
        x = self.features(video.transpose(1, 2))  # Conv3d wants (B, C, T, H, W)
        return self.head(x.mean(dim=(2, 3, 4)))
