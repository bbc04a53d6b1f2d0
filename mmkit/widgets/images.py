"""Lesson 03 explorer: what each channel of each layer of a CNN responds to."""

import ipywidgets as widgets
import torch
from torch import nn

from mmkit import viz
from mmkit.checks import check_tensor
from mmkit.encoders.image import feature_maps
from mmkit.viz.feature_maps import ChannelGrid, MapPanel
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer

MAX_IMAGES = 64


def feature_map_explorer(model: nn.Module | None = None, images: torch.Tensor | None = None,
                         layers=None) -> Explorer:
    """Pick an image, a layer and a channel; see the channel's map and all of the layer's.

    model: an image module, (N, C, H, W) -> anything, that torch.fx can trace (every
        ImageCNN, vgg16_features, resnet18_features; for a classifier pass its encoder).
        Default: a freshly seeded (seed 0), UNTRAINED ImageCNN — random filters already
        respond to edges and colours; pass a trained encoder to see what training made.
    images: (N, C, H, W), at most 64. Default: 16 ShapesWorld scenes (32x32, noise 0.1).
    layers: names from ``torchvision.models.feature_extraction.get_graph_node_names``;
        default every layer whose output is a 4-D map.

    All maps are computed once, when the explorer is built (``feature_maps``), so moving a
    control only redraws. Each channel in the grid is scaled to its own range.
    """
    from mmkit.demo_models import feature_map_images, untrained_image_cnn

    if model is None:
        model = untrained_image_cnn()
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    images = feature_map_images() if images is None else images
    check_tensor(images, "images", floating=True, ndim=4)
    if len(images) > MAX_IMAGES:
        raise ValueError(f"images holds {len(images)} images; pass at most {MAX_IMAGES}")
    maps = feature_maps(model, images, layers)
    names = [name for name, value in maps.items() if value.dim() == 4]
    if not names:
        raise ValueError(f"none of the layers {list(maps)} gives a 4-D (N, C, h, w) map")

    first = maps[names[0]]
    controls = {
        "sample": widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="sample",
                                    style=SLIDER_STYLE),
        "layer": widgets.Dropdown(options=names, value=names[0], description="layer",
                                  style=SLIDER_STYLE),
        "channel": widgets.IntSlider(value=0, min=0, max=first.shape[1] - 1,
                                     description="channel", style=SLIDER_STYLE),
    }

    def fit_channel_slider(change) -> None:
        # Registered before the Explorer's own observer, so the slider's range is right
        # (and the channel clamped) before the redraw that the layer change triggers.
        controls["channel"].max = maps[change["new"]].shape[1] - 1

    controls["layer"].observe(fit_channel_slider, names="value")

    fig, (ax_image, ax_map, ax_grid) = viz.new_figure(9.5, 3.4, ncols=3)
    plots = {
        "input": viz.ImagePanel(ax_image, images[0], "input"),
        "map": MapPanel(ax_map, first[0, 0]),  # yellow = the channel's largest value
        "grid": ChannelGrid(ax_grid, first[0], 0, "all channels (each scaled to its range)"),
    }
    # No colour bar: its tick labels would be redrawn on every move (text is slow to draw);
    # the status line gives the channel's range instead.

    def draw(sample, layer, channel):
        layer_maps = maps[layer][sample]  # (C, h, w)
        channel = min(channel, layer_maps.shape[0] - 1)
        chosen = layer_maps[channel]
        plots["input"].update(images[sample])
        plots["map"].update(chosen)
        plots["map"].ax.set_title(f"{layer}, channel {channel}", fontsize=10)
        plots["grid"].update_maps(layer_maps, channel)
        c, h, w = layer_maps.shape
        active = float((chosen > 0).float().mean())
        return (
            f"{layer}: {c} channels of {h}×{w}; channel {channel}: values in "
            f"[{float(chosen.min()):.3g}, {float(chosen.max()):.3g}], {active:.0%} of positions > 0"
        )

    return Explorer(controls, fig, plots, draw)
