"""Lesson 05 explorer: a keypoint network's joints and heatmaps, clip by clip, frame by frame."""

import ipywidgets as widgets
import numpy as np
import torch

from mmkit import viz
from mmkit.checks import check_tensor
from mmkit.encoders.pose import KeypointNet, predict_keypoints
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer


def keypoint_explorer(net: KeypointNet | None = None, videos: torch.Tensor | None = None,
                      joints: torch.Tensor | None = None, heights: torch.Tensor | None = None,
                      joint_names=None) -> Explorer:
    """Pick a clip, a frame and a joint: see the true (green) and predicted (red) joints, and
    the network's heatmap for that joint.

    net: a KeypointNet; default a freshly seeded (seed 0), UNTRAINED one — its maps are
        blurry guesses; pass the trained network to see what training made.
    videos (N, T, 1, H, W) and joints (N, T, J, 2), at most 64 clips; default 8 StickFigures
        clips (24 x 24, noise 0.05). heights (N,): the figures' heights, for PCK@0.1 in the
        status line. joint_names: J names (default StickFigures.joint_names).
    All heatmaps are computed once, when the explorer is built; the sliders only redraw.
    """
    from mmkit.data import StickFigures
    from mmkit.demo_models import keypoint_clips, untrained_keypoint_net

    if videos is None:
        videos, joints, heights = keypoint_clips(8)
    check_tensor(videos, "videos", floating=True, ndim=5)
    if joints is None:
        raise ValueError("pass joints (N, T, J, 2) with videos: the explorer shows the truth too")
    check_tensor(joints, "joints", floating=True, ndim=4)
    if joints.shape[:2] != videos.shape[:2] or joints.shape[-1] != 2:
        raise ValueError(
            f"joints must be (N, T, J, 2) for videos of shape {tuple(videos.shape)}, "
            f"got {tuple(joints.shape)}"
        )
    if len(videos) > 64:
        raise ValueError(f"pass at most 64 clips (their maps are kept in memory), got {len(videos)}")
    n_joints = joints.shape[2]
    names = list(joint_names or StickFigures.joint_names)
    if len(names) != n_joints:
        raise ValueError(f"joint_names has {len(names)} names for {n_joints} joints")
    if net is None:
        net = untrained_keypoint_net(n_joints, videos.shape[2])
    maps, predicted = predict_keypoints(net, videos)
    # numpy from here on: matplotlib draws numpy arrays without conversion warnings
    videos, joints, maps, predicted = (x.numpy() for x in (videos, joints, maps, predicted))

    controls = {
        "clip": widgets.IntSlider(value=0, min=0, max=len(videos) - 1, description="clip",
                                  style=SLIDER_STYLE),
        "frame": widgets.IntSlider(value=0, min=0, max=videos.shape[1] - 1, description="frame",
                                   style=SLIDER_STYLE),
        "joint": widgets.Dropdown(options=names, value=names[-5] if n_joints > 5 else names[0],
                                  description="heatmap of", style=SLIDER_STYLE),
    }
    fig, (ax_frame, ax_map) = viz.new_figure(7, 3.4, ncols=2)
    for ax in (ax_frame, ax_map):
        ax.set_xticks([])
        ax.set_yticks([])
    plots = {
        "frame": ax_frame.imshow(videos[0, 0, 0], cmap="gray", vmin=0, vmax=1),
        "truth": ax_frame.scatter(*joints[0, 0].T, s=40, facecolors="none", edgecolors="lime",
                                  label="truth"),
        "predicted": ax_frame.scatter(*predicted[0, 0].T, s=10, c="red", label="predicted"),
        "chosen": ax_frame.scatter([0], [0], s=120, marker="+", c="yellow", label="heatmap shown"),
        "heatmap": ax_map.imshow(maps[0, 0, 0], cmap="viridis"),
    }
    ax_frame.legend(fontsize=7, loc="lower left")

    def draw(clip, frame, joint):
        j = names.index(joint)
        truth, guess = joints[clip, frame], predicted[clip, frame]
        plots["frame"].set_data(videos[clip, frame, 0])
        plots["truth"].set_offsets(truth)
        plots["predicted"].set_offsets(guess)
        plots["chosen"].set_offsets(guess[j : j + 1])
        heat = maps[clip, frame, j]
        plots["heatmap"].set_data(heat)
        plots["heatmap"].set_clim(0, float(heat.max()))
        ax_frame.set_title(f"clip {clip}, frame {frame}", fontsize=9)
        ax_map.set_title(f"heatmap: {joint} (peak {float(heat.max()):.2f})", fontsize=9)
        distance = np.linalg.norm(guess - truth, axis=-1)  # (J,) pixels
        error = float(distance[j])
        status = f"{joint}: predicted ({guess[j, 0]:.1f}, {guess[j, 1]:.1f}), true "
        status += f"({truth[j, 0]:.1f}, {truth[j, 1]:.1f}), off by {error:.2f} px"
        if heights is not None:
            limit = 0.1 * float(heights[clip])
            found = int((distance <= limit).sum())
            status += f"; within 0.1 × height = {limit:.2f} px: {found} of {n_joints} joints"
        return status

    return Explorer(controls, fig, plots, draw)
