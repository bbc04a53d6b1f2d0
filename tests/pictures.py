"""Pixels of the pictures explorers show, for tests that compare a blitted update with a
full redraw (mmkit.viz.redraw_only)."""

import io

import numpy as np
from PIL import Image


def png_pixels(png: bytes) -> np.ndarray:
    """A PNG's pixels as an int array (H, W, channels), so differences can be negative."""
    return np.asarray(Image.open(io.BytesIO(png))).astype(int)


def full_redraw(fig) -> np.ndarray:
    """The figure drawn in full, every artist included (H, W, 4); afterwards the moving
    artists are animated again and blitting starts from a fresh background."""
    for artist in fig.mmkit_changing:
        artist.set_animated(False)
    fig.canvas.draw()
    picture = np.asarray(fig.canvas.buffer_rgba()).astype(int)
    for artist in fig.mmkit_changing:
        artist.set_animated(True)
    fig.mmkit_background = None
    return picture
