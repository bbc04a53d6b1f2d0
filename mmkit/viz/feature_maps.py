"""Feature maps: one channel as a heat map, or all channels of a layer tiled in one picture."""

import math

import numpy as np
from matplotlib.patches import Rectangle

from mmkit.viz.arrays import as_float_array


def channel_mosaic(maps, gap: int = 1) -> tuple[np.ndarray, int]:
    """(C, h, w) maps -> one (rows*(h+gap)-gap, cols*(w+gap)-gap) picture, and cols.

    Each channel is scaled to [0, 1] on its own (a flat channel, such as a dead ReLU, is 0),
    so that every pattern is visible whatever its size; gaps and unused tiles are NaN,
    which imshow leaves blank. Channel k sits at row k // cols, column k % cols.
    """
    maps = as_float_array(maps)
    c, h, w = maps.shape
    cols = math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)
    mosaic = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for k in range(c):
        top, left = (k // cols) * (h + gap), (k % cols) * (w + gap)
        mosaic[top:top + h, left:left + w] = scaled[k]
    return mosaic, cols


class MapPanel:
    """A 2-D map shown with a colour bar range that follows it; replaceable by any size."""

    def __init__(self, ax, values, title: str = "", cmap: str = "viridis", fixed_range=None):
        self.ax = ax
        self.fixed_range = fixed_range
        self.artist = ax.imshow(as_float_array(values), cmap=cmap, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        self.update(values)

    def update(self, values) -> None:
        data = as_float_array(values)
        h, w = data.shape
        self.artist.set_data(data)
        # A new layer has a new size: pixel (i, j) must still be centred at (x=j, y=i).
        self.artist.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        self.ax.set_xlim(-0.5, w - 0.5)
        self.ax.set_ylim(h - 0.5, -0.5)
        if self.fixed_range is not None:
            self.artist.set_clim(*self.fixed_range)
        else:
            finite = data[np.isfinite(data)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self.artist.set_clim(low, high if high > low else low + 1e-6)


class ChannelGrid(MapPanel):
    """Every channel of a layer in one mosaic, the chosen one framed in red."""

    def __init__(self, ax, maps, channel: int = 0, title: str = ""):
        self.frame = Rectangle((0, 0), 1, 1, fill=False, edgecolor="red", linewidth=1.5)
        mosaic, _ = channel_mosaic(maps)
        super().__init__(ax, mosaic, title, cmap="gray", fixed_range=(0, 1))
        ax.add_patch(self.frame)
        self.update_maps(maps, channel)

    def update_maps(self, maps, channel: int) -> None:
        mosaic, cols = channel_mosaic(maps)
        self.update(mosaic)
        h, w = maps.shape[1:]
        row, col = divmod(channel, cols)
        # Pixel (i, j) is centred at (j, i), so a tile's outer edge lies half a pixel out.
        self.frame.set_bounds(col * (w + 1) - 0.5, row * (h + 1) - 0.5, w, h)
