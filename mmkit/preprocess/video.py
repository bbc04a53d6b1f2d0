"""Video features for models: frame differences, optical flow, and where things move.

A video is a tensor (T, C, H, W) with C = 3 (RGB) or 1, or (T, H, W) grey, values in
[0, 1], as ShapesWorld makes them. Flow fields follow torchvision's convention:
(..., 2, H, W) with channel 0 = dx (right) and channel 1 = dy (down), in pixels.
"""

import torch

from mmkit.checks import check_choice, check_positive, check_tensor
from mmkit.scratch.flow import optical_flow_batch, to_grey

DIRECTIONS = ("left", "right", "up", "down")


def _check_video(video: torch.Tensor) -> torch.Tensor:
    check_tensor(video, "video", floating=True, ndim=(3, 4))
    if video.dim() == 4 and video.shape[1] not in (1, 3):
        raise ValueError(
            "video must be (T, 3, H, W), (T, 1, H, W) or (T, H, W), "
            f"got shape {tuple(video.shape)} (channels second, after time)"
        )
    if video.shape[0] < 2:
        raise ValueError(f"video needs at least 2 frames to show motion, got {video.shape[0]}")
    return video


def _check_flow(flow: torch.Tensor) -> torch.Tensor:
    check_tensor(flow, "flow", floating=True, min_ndim=3)
    if flow.shape[-3] != 2:
        raise ValueError(
            f"flow must be (..., 2, H, W) with (dx, dy) in dimension -3, got shape "
            f"{tuple(flow.shape)}"
        )
    return flow


def frame_differences(video: torch.Tensor) -> torch.Tensor:
    """video[t + 1] - video[t] for each consecutive pair: (T - 1, ...) same layout as video.

    The simplest motion feature: zero where nothing changed, + where a pixel got brighter,
    - where it got darker. It shows *that* something moved, not where to.
    """
    _check_video(video)
    return video[1:] - video[:-1]


def flow_field(video: torch.Tensor, method: str = "lucas_kanade", **kwargs) -> torch.Tensor:
    """Optical flow for each consecutive pair of frames: (T - 1, 2, H, W).

    flow[t] = ``mmkit.scratch.flow.optical_flow(video[t], video[t + 1], method, **kwargs)``,
    computed for all pairs in one batch (``optical_flow_batch``).
    """
    _check_video(video)
    return optical_flow_batch(video[:-1], video[1:], method=method, **kwargs)


def flow_to_rgb(flow: torch.Tensor) -> torch.Tensor:
    """Colour picture of a flow field: hue = direction, saturation = speed.

    (2, H, W) -> uint8 (3, H, W); (N, 2, H, W) -> (N, 3, H, W). Wraps
    ``torchvision.utils.flow_to_image`` (which scales by the largest vector in the field).
    """
    _check_flow(flow)
    if flow.dim() not in (3, 4):
        raise ValueError(f"flow must be (2, H, W) or (N, 2, H, W), got shape {tuple(flow.shape)}")
    # Imported here: torchvision is heavy and only this function needs it.
    from torchvision.utils import flow_to_image

    return flow_to_image(flow.float())


def mean_motion(flow: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[float, float]:
    """The average (dx, dy) of a flow field (..., 2, H, W), over the pixels in mask.

    mask: bool, broadcastable to (..., H, W), e.g. the pixels of an object or those that
    changed; default all pixels. Returns two floats, in pixels per frame.
    """
    _check_flow(flow)
    dx, dy = flow.unbind(dim=-3)
    if mask is None:
        return dx.mean().item(), dy.mean().item()
    check_tensor(mask, "mask", allow_empty=False)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor, got {mask.dtype} (use mask > 0)")
    try:
        mask = mask.expand_as(dx)
    except RuntimeError:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not fit the flow's pixels {tuple(dx.shape)}"
        ) from None
    if not mask.any():
        raise ValueError("mask selects no pixel; pass a mask with at least one True")
    return dx[mask].mean().item(), dy[mask].mean().item()


def direction_of_motion(
    video: torch.Tensor,
    method: str = "lucas_kanade",
    min_motion: float = 0.05,
    **kwargs,
) -> str:
    """Which way the video's content moves: "left", "right", "up" or "down".

    The flow of every consecutive pair is averaged over the pixels that changed (where the
    frame difference is at least 10 % of its largest value: the background, which does not
    move, would only pull the mean towards zero); the larger of |dx|, |dy| decides.
    "up" means towards row 0 (dy < 0), "down" towards the last row.

    Raises ValueError when the mean motion is under min_motion pixels per frame.
    """
    _check_video(video)
    check_choice(method, "method", ("lucas_kanade", "horn_schunck"))
    min_motion = check_positive(min_motion, "min_motion", allow_zero=True)
    flow = flow_field(video, method=method, **kwargs)  # (T - 1, 2, H, W)

    grey = torch.stack([to_grey(frame) for frame in video])
    change = frame_differences(grey).abs()  # (T - 1, H, W)
    peak = change.amax()
    if peak == 0:
        raise ValueError("video shows no motion: all frames are identical")
    dx, dy = mean_motion(flow, mask=change >= 0.1 * peak)

    if max(abs(dx), abs(dy)) < min_motion:
        raise ValueError(
            f"video shows no clear motion: mean flow (dx, dy) = ({dx:.3f}, {dy:.3f}) px per "
            f"frame is under min_motion={min_motion}"
        )
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"
