"""Pose estimation (姿态估计): heatmap keypoint network, decoding, PCK, and an action encoder.

The pipeline of a modern 2-D pose estimator, at toy scale:
1. ``gaussian_heatmaps``: the training target — one image per joint with a Gaussian bump
   centred on the joint;
2. ``KeypointNet``: a fully-convolutional network, frame (B, 1, H, W) -> one score map per
   joint (B, J, H, W), at the input's resolution;
3. ``decode_heatmaps``: each map -> a position (argmax, or the sub-pixel soft-argmax);
4. ``pck``: Percentage of Correct Keypoints — a joint counts as found when it lies within
   alpha x the figure's height of the truth (PCK@0.1: alpha = 0.1);
5. ``ActionClassifier``: an encoder over the joint *sequence* (B, T, J, 2) -> (B, out_dim),
   to tell actions (wave, jump, squat) from motion of the skeleton alone.

Coordinates are (x, y) in pixels, pixel (row i, column j) centred at (x=j, y=i), as in
``mmkit.data.StickFigures``.
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mmkit.checks import check_choice, check_int, check_positive, check_same_shape, check_tensor
from mmkit.encoders.inputs import check_float_input

KEYPOINT_RCNN_FILE = "keypointrcnn_resnet50_fpn_coco-fc266e95.pth"  # torchvision's COCO_V1


def keypoint_rcnn_weights_path() -> Path:
    """Where torchvision looks for its keypoint R-CNN weights: <torch hub dir>/checkpoints/."""
    return Path(torch.hub.get_dir()) / "checkpoints" / KEYPOINT_RCNN_FILE


def _check_joints(joints: torch.Tensor, name: str) -> torch.Tensor:
    check_float_input(joints, name, min_ndim=2)
    if joints.shape[-1] != 2:
        raise ValueError(f"{name} must be (..., J, 2) with (x, y) last, got {tuple(joints.shape)}")
    return joints


def gaussian_heatmaps(joints: torch.Tensor, size: int, sigma: float = 1.0) -> torch.Tensor:
    """Target maps (..., J, size, size): exp(-d^2 / (2 sigma^2)), d = distance to the joint.

    joints (..., J, 2) in pixels; each map peaks (value 1 when the joint sits on a pixel
    centre) at the pixel nearest its joint.
    """
    _check_joints(joints, "joints")
    size = check_int(size, "size", minimum=1)
    sigma = check_positive(sigma, "sigma")
    grid = torch.arange(size, dtype=joints.dtype, device=joints.device)
    dx = grid - joints[..., 0, None]  # (..., J, W)
    dy = grid - joints[..., 1, None]  # (..., J, H)
    return torch.exp(-(dy[..., :, None] ** 2 + dx[..., None, :] ** 2) / (2 * sigma**2))


def decode_heatmaps(heatmaps: torch.Tensor, method: str = "argmax") -> torch.Tensor:
    """Joint positions (..., J, 2) as (x, y) from score maps (..., J, H, W).

    "argmax": the centre of the highest pixel (whole pixels; first one on ties).
    "soft_argmax": the mean position under the map taken as a distribution
    (negative values clipped to 0, the map divided by its sum) — sub-pixel, and
    differentiable. Give it probabilities (e.g. a softmax over each map's pixels) or
    non-negative scores; a map with nothing in it raises.
    """
    check_tensor(heatmaps, "heatmaps", floating=True, min_ndim=3)
    check_choice(method, "method", ("argmax", "soft_argmax"))
    h, w = heatmaps.shape[-2:]
    flat = heatmaps.flatten(-2)  # (..., J, H * W)
    if method == "argmax":
        index = flat.argmax(dim=-1)
        return torch.stack([index % w, index // w], dim=-1).to(heatmaps.dtype)
    weight = flat.clamp(min=0)
    total = weight.sum(dim=-1, keepdim=True)
    if (total <= 0).any():
        raise ValueError("a heatmap has no positive value: soft_argmax cannot place its joint")
    weight = (weight / total).unflatten(-1, (h, w))
    xs = torch.arange(w, dtype=heatmaps.dtype, device=heatmaps.device)
    ys = torch.arange(h, dtype=heatmaps.dtype, device=heatmaps.device)
    x = (weight.sum(dim=-2) * xs).sum(dim=-1)
    y = (weight.sum(dim=-1) * ys).sum(dim=-1)
    return torch.stack([x, y], dim=-1)


def pck(pred: torch.Tensor, true: torch.Tensor, height, alpha: float = 0.1) -> torch.Tensor:
    """Percentage of Correct Keypoints: the fraction of joints within alpha * height of the truth.

    pred, true: (..., J, 2) in pixels. height: the figure's height in pixels — a number, or
    one value per figure, a tensor broadcastable to pred.shape[:-2] (e.g. (N,) for
    (N, J, 2) joints, (N, 1) for (N, T, J, 2) clips). The distance is Euclidean and
    "within" means <=. Returns a 0-dim float tensor in [0, 1].
    Scaling by the figure's height (not the image size) makes PCK mean the same for a
    small figure far away and a large one close by.
    """
    _check_joints(pred, "pred")
    _check_joints(true, "true")
    check_same_shape(pred, true, "pred", "true")
    alpha = check_positive(alpha, "alpha")
    height = torch.as_tensor(height, dtype=pred.dtype, device=pred.device)
    if (height <= 0).any():
        raise ValueError("height must be > 0: it is the figure's height in pixels")
    try:
        threshold = (alpha * height).expand(pred.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"height of shape {tuple(height.shape)} must broadcast to one value per figure, "
            f"{tuple(pred.shape[:-2])}"
        ) from None
    distance = (pred - true).norm(dim=-1)  # (..., J)
    return (distance <= threshold[..., None]).float().mean()


class KeypointNet(nn.Module):
    """A tiny fully-convolutional heatmap network: (B, 1, H, W) -> (B, J, H, W) logits.

    3x3 convolutions at full resolution, the middle ones dilated (gaps of 2 and 4 pixels) so
    each output pixel sees a wide patch of the figure (receptive field 1 + 2 * sum(dilations)
    = 17 pixels by default) without pooling away the resolution the joints need; a 1x1
    convolution gives one map per joint.
    Train with ``heatmap_loss``; ``predict`` returns joint positions.
    """

    def __init__(self, num_joints: int = 11, in_channels: int = 1, width: int = 12,
                 dilations=(1, 2, 4, 1)):
        super().__init__()
        self.num_joints = check_int(num_joints, "num_joints", minimum=1)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        width = check_int(width, "width", minimum=1)
        layers, c_in = [], in_channels
        if not isinstance(dilations, (list, tuple)) or not dilations:
            raise TypeError(f"dilations must be a non-empty tuple of ints, got {dilations!r}")
        for dilation in dilations:
            check_int(dilation, "dilations[i]", minimum=1)
            layers += [nn.Conv2d(c_in, width, 3, padding=dilation, dilation=dilation),
                       nn.BatchNorm2d(width), nn.ReLU()]
            c_in = width
        self.body = nn.Sequential(*layers)
        self.out = nn.Conv2d(width, num_joints, 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        check_float_input(frames, "frames", pixels=True, ndim=4)
        if frames.shape[1] != self.in_channels:
            raise ValueError(
                f"frames must be (B, {self.in_channels}, H, W), got shape {tuple(frames.shape)}"
            )
        return self.out(self.body(frames))

    @torch.no_grad()
    def predict(self, frames: torch.Tensor, method: str = "soft_argmax",
                batch_size: int = 512) -> torch.Tensor:
        """Joints (B, J, 2) for frames (B, 1, H, W): softmax over each map, then decode."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        out = []
        for start in range(0, len(frames), batch_size):
            logits = self(frames[start:start + batch_size].to(device))
            out.append(decode_heatmaps(spatial_softmax(logits), method).cpu())
        self.train(was_training)
        return torch.cat(out)


def spatial_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the pixels of each map: (..., H, W) -> same shape, each map sums to 1."""
    return logits.flatten(-2).softmax(dim=-1).unflatten(-1, logits.shape[-2:])


def heatmap_loss(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy between each predicted map (softmax over pixels) and its target map.

    target (B, J, H, W), e.g. ``gaussian_heatmaps``, is normalised to sum to 1 per map: the
    network learns a probability distribution over *where* each joint is, which trains
    faster than a per-pixel regression (MSE) where most pixels are background.
    Equal to ``F.cross_entropy(logits.flatten(-2), target.flatten(-2))`` with the target
    maps normalised (PyTorch's probability targets). reduction: "mean" (over samples and
    joints), "sum" (over samples of each sample's mean over joints, as ``evaluate`` sums
    a batch) or "none" (one value per sample, (B,)).
    """
    check_same_shape(logits, target, "logits", "target")
    check_choice(reduction, "reduction", ("mean", "sum", "none"))
    target = target.flatten(-2)
    target = target / target.sum(dim=-1, keepdim=True).clamp(min=1e-12)
    per_map = -(target * F.log_softmax(logits.flatten(-2), dim=-1)).sum(dim=-1)  # (B, J)
    per_sample = per_map.flatten(1).mean(dim=1) if per_map.dim() > 1 else per_map
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


def normalize_pose(joints: torch.Tensor, hips: int = 2, neck: int = 1, head: int = 0):
    """Remove where the figure stands and how big it is: (B, T, J, 2) -> (B, T, J, 2).

    Subtracts the clip's mean hip position and divides by its mean torso length
    (|head - neck| + |neck - hips|, rigid in every action), so a wave is a wave anywhere in
    the frame, at any size. The default indices follow StickFigures.joint_names.
    """
    check_tensor(joints, "joints", floating=True, ndim=4)
    if joints.shape[-1] != 2:
        raise ValueError(f"joints must be (B, T, J, 2), got shape {tuple(joints.shape)}")
    centre = joints[:, :, hips].mean(dim=1)[:, None, None]  # (B, 1, 1, 2)
    torso = (joints[:, :, head] - joints[:, :, neck]).norm(dim=-1) + (
        joints[:, :, neck] - joints[:, :, hips]
    ).norm(dim=-1)
    scale = torso.mean(dim=1).clamp(min=1e-6)[:, None, None, None]
    return (joints - centre) / scale


class ActionClassifier(nn.Module):
    """Joint sequences (B, T, J, 2) -> normalise -> 1-D convs over time -> (B, out_dim).

    The J * 2 coordinates of a frame are the channels of a 1-D signal over time; two
    temporal convolutions find short motion patterns (a hand swinging, hips dipping), a
    max over time keeps the strongest response of each, wherever in the clip it happened.
    An encoder: it has ``out_dim`` and goes into ``UnimodalClassifier`` or a fusion model.
    """

    def __init__(self, num_joints: int = 11, out_dim: int = 32, hidden: int = 32):
        super().__init__()
        self.num_joints = check_int(num_joints, "num_joints", minimum=3)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        hidden = check_int(hidden, "hidden", minimum=1)
        self.temporal = nn.Sequential(
            nn.Conv1d(2 * num_joints, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Linear(hidden, out_dim), nn.ReLU())

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        check_float_input(joints, "joints", ndim=4)
        if joints.shape[2:] != (self.num_joints, 2):
            raise ValueError(
                f"joints must be (B, T, {self.num_joints}, 2), got shape {tuple(joints.shape)}"
            )
        x = normalize_pose(joints).flatten(2).transpose(1, 2)  # (B, 2J, T)
        return self.head(self.temporal(x).amax(dim=-1))


@torch.no_grad()
def predict_keypoints(net: KeypointNet, videos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``net`` on every frame of ``videos`` (N, T, C, H, W) in eval mode: heatmaps
    (N, T, J, H, W) (softmax over pixels) and soft-argmax joints (N, T, J, 2), on the CPU.
    The network's train/eval mode is restored afterwards."""
    check_tensor(videos, "videos", floating=True, ndim=5)
    n, t = videos.shape[:2]
    was_training = net.training
    net.eval()
    try:
        device = next(net.parameters()).device
        maps = spatial_softmax(net(videos.flatten(0, 1).to(device))).cpu()
    finally:
        net.train(was_training)
    maps = maps.unflatten(0, (n, t))
    return maps, decode_heatmaps(maps, "soft_argmax")
