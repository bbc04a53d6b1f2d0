"""Decoding drawn: the scene with where the current token looked, and the next-token bars.

Both update their artists in place (``set_data``, ``set_width``, ``set_text``), so the
decoding stepper can move a slider without rebuilding the figure.
"""

import numpy as np

from mmkit.viz.arrays import as_float_array
from mmkit.viz.media import _to_numpy_image


class CellsOverImage:
    """The scene in colour, with a white frame around each visual token's cell: the more
    attention the current token pays to it, the thicker and more opaque its frame; and a
    title saying what is being generated. Frames, not a veil, so that no colour of the scene
    hides them."""

    def __init__(self, ax, image, cell_size: int, frames: int, title: str = ""):
        from matplotlib.patches import Rectangle

        self.ax = ax
        self.cell_size = cell_size
        self.image = ax.imshow(np.clip(_to_numpy_image(image), 0, 1), interpolation="nearest")
        self.frames = [ax.add_patch(Rectangle((0, 0), cell_size, cell_size, fill=False,
                                              edgecolor="white", linewidth=0))
                       for _ in range(frames)]
        self.title = ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        self._weights = np.zeros(frames)

    def update(self, image, cells, weights, title: str = "") -> None:
        """cells: (row, column) of each token's cell; weights: its attention (any scale)."""
        self.image.set_data(np.clip(_to_numpy_image(image), 0, 1))
        weights = as_float_array(weights)
        if len(cells) != len(self.frames) or len(weights) != len(self.frames):
            raise ValueError(f"give {len(self.frames)} cells and weights, got {len(cells)} and "
                             f"{len(weights)}")
        top = weights.max() if weights.size and weights.max() > 0 else 1.0
        self._weights = weights / top
        for frame, (row, col), w in zip(self.frames, cells, self._weights, strict=True):
            frame.set_xy((col * self.cell_size - 0.5, row * self.cell_size - 0.5))
            frame.set_linewidth(0.5 + 4.5 * w)
            frame.set_alpha(0.25 + 0.75 * w)
        self.title.set_text(title)

    def weights(self) -> np.ndarray:
        """The frames' weights as drawn: the attention scaled to a largest value of 1."""
        return self._weights.copy()

    def moving(self) -> list:
        return [self.image, *self.frames, self.title]


class TokenBars:
    """Horizontal bars: the ``rows`` most probable next tokens, most probable on top, each
    labelled with its word and probability; the chosen token's bar in orange."""

    def __init__(self, ax, rows: int = 8, title: str = "next-token probabilities"):
        self.ax = ax
        self.rows = rows
        y = np.arange(rows)[::-1]
        self.bars = ax.barh(y, np.zeros(rows), color="tab:blue", height=0.75)
        self.labels = [ax.text(0.02, yi, "", va="center", fontsize=9) for yi in y]
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, rows - 0.4)
        ax.set_yticks([])
        ax.set_xlabel("probability")
        ax.set_title(title, fontsize=10)
        self.words: list[str] = []

    def update(self, words, probabilities, chosen: str | None = None) -> None:
        """words and probabilities: the top tokens, most probable first (at most ``rows``)."""
        probabilities = np.asarray(probabilities, dtype=float)
        if len(words) != len(probabilities) or len(words) > self.rows:
            raise ValueError(f"give at most {self.rows} words with one probability each, got "
                             f"{len(words)} words and {len(probabilities)} probabilities")
        self.words = list(words)
        for k, (bar, label) in enumerate(zip(self.bars, self.labels, strict=True)):
            shown = k < len(words)
            p = float(probabilities[k]) if shown else 0.0
            bar.set_width(p)
            bar.set_color("tab:orange" if shown and words[k] == chosen else "tab:blue")
            label.set_text(f"{words[k]}  {p:.2f}" if shown else "")
            label.set_x(min(p, 0.7) + 0.02)

    def widths(self) -> np.ndarray:
        return np.array([bar.get_width() for bar in self.bars])

    def moving(self) -> list:
        return [*self.bars, *self.labels]
