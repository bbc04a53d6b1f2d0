"""An attention map: a (queries x keys) heatmap with the tokens written along both axes."""

import numpy as np


class AttentionHeatmap:
    """Row i: how much token i attends to each token (each row sums to 1).

    ``update(weights, tokens)`` swaps the data, the extent and the tick labels in place; the
    number of tokens may change from one caption to the next. No numbers in the cells: their
    text would double the redraw time of a slider move; the colour bar gives the scale.
    """

    def __init__(self, ax, weights, tokens, *, cmap="viridis"):
        self.ax = ax
        self.artist = ax.imshow(np.zeros((1, 1)), cmap=cmap, vmin=0.0, vmax=1.0,
                                interpolation="nearest")
        ax.figure.colorbar(self.artist, ax=ax, fraction=0.046, pad=0.04, label="weight")
        ax.set_xlabel("attended to (key)")
        ax.set_ylabel("attending (query)")
        self.update(weights, tokens)

    def update(self, weights, tokens):
        weights = np.asarray(weights, dtype=float)
        n = len(tokens)
        if weights.shape != (n, n):
            raise ValueError(
                f"weights must be a (tokens, tokens) = {(n, n)} array, got {weights.shape}"
            )
        self.artist.set_data(weights)
        self.artist.set_extent((-0.5, n - 0.5, n - 0.5, -0.5))
        ticks = np.arange(n)
        self.ax.set_xticks(ticks, tokens, rotation=45, ha="right")
        self.ax.set_yticks(ticks, tokens)

    def data(self) -> np.ndarray:
        return np.asarray(self.artist.get_array())
