"""An attention map over image patches, drawn on the image: the picture of lesson 12's explorer."""

import numpy as np

from mmkit.viz.arrays import as_float_array
from mmkit.viz.media import _to_numpy_image


def _outline(mask) -> np.ndarray:
    """An RGBA image, white on the pixels at the edge of ``mask`` and clear elsewhere."""
    inside = np.asarray(mask.cpu() if hasattr(mask, "cpu") else mask, dtype=bool)
    rgba = np.zeros((*inside.shape, 4))
    padded = np.pad(inside, 1)
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    edge = inside & ~interior
    rgba[edge] = (1.0, 1.0, 1.0, 1.0)
    return rgba


class PatchAttentionOverlay:
    """The image, its patch grid coloured by attention weight, the outline of one object and
    a + on the top patch. ``update(image, weights, mask)`` swaps all of it in place.

    weights: (g, g) or (g*g,) one weight per patch, row by row; mask: (H, W) bool or None.
    The colour scale runs from 0 to the largest weight of the map shown; ``colorbar`` puts
    its bar, labelled ``label``, beside the image (it follows the scale on every update).
    """

    def __init__(self, ax, image, weights, mask=None, *, cmap: str = "magma", alpha: float = 0.6,
                 colorbar: bool = True, label: str = "attention weight"):
        self.ax = ax
        picture = np.clip(_to_numpy_image(image), 0, 1)
        height, width = picture.shape[:2]
        self.extent = (-0.5, width - 0.5, height - 0.5, -0.5)
        self.picture = ax.imshow(picture, interpolation="nearest")
        grid = self._square(weights)
        self.heat = ax.imshow(grid, cmap=cmap, alpha=alpha, extent=self.extent,
                              interpolation="nearest", vmin=0.0, vmax=max(grid.max(), 1e-9))
        self.outline = ax.imshow(_outline(np.zeros((height, width), bool) if mask is None
                                          else mask), interpolation="nearest")
        (self.peak,) = ax.plot([], [], "+", color="cyan", markersize=14, markeredgewidth=2.5)
        self.colorbar = (ax.figure.colorbar(self.heat, ax=ax, fraction=0.046, pad=0.03,
                                            label=label) if colorbar else None)
        ax.set_xticks([])
        ax.set_yticks([])
        self.update(image, weights, mask)

    @staticmethod
    def _square(weights) -> np.ndarray:
        grid = as_float_array(weights)
        side = round(grid.size ** 0.5)
        if side * side != grid.size:
            raise ValueError(f"weights must hold one number per patch of a square grid, got "
                             f"{grid.size}")
        return grid.reshape(side, side)

    def update(self, image, weights, mask=None) -> None:
        picture = np.clip(_to_numpy_image(image), 0, 1)
        self.picture.set_data(picture)
        grid = self._square(weights)
        self.heat.set_data(grid)
        self.heat.set_clim(0.0, max(grid.max(), 1e-9))
        height, width = picture.shape[:2]
        self.outline.set_data(_outline(np.zeros((height, width), bool) if mask is None else mask))
        row, col = divmod(int(grid.argmax()), grid.shape[1])
        patch_h, patch_w = height / grid.shape[0], width / grid.shape[1]
        self.peak.set_data([(col + 0.5) * patch_w - 0.5], [(row + 0.5) * patch_h - 0.5])

    def data(self) -> np.ndarray:
        """The (g, g) weights drawn now."""
        return np.asarray(self.heat.get_array())
