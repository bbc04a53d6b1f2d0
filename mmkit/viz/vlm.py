"""Decoding drawn: the scene with where the current token looked, and the next-token bars.

Both update their artists in place (``set_data``, ``set_width``, ``set_text``), so the
decoding stepper can move a slider without rebuilding the figure.
"""

import numpy as np

from mmkit.viz.media import _to_numpy_image


class LookOverImage:
    """The scene in colour, a translucent yellow veil where a map is high (the attention of
    the current token over the image's cells), and a caption of what is being generated."""

    def __init__(self, ax, image, heat, title: str = ""):
        self.ax = ax
        self.image = ax.imshow(np.clip(_to_numpy_image(image), 0, 1), interpolation="nearest")
        height, width = self.image.get_array().shape[:2]
        self.veil = ax.imshow(np.zeros((height, width, 4)), interpolation="nearest")
        self.title = ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        self.update(image, heat, title)

    def update(self, image, heat, title: str = "") -> None:
        self.image.set_data(np.clip(_to_numpy_image(image), 0, 1))
        heat = np.asarray(heat, dtype=float)
        top = heat.max() if heat.size else 0.0
        veil = np.zeros((*heat.shape, 4))
        veil[..., :3] = (1.0, 0.9, 0.2)  # yellow: visible on black and on every shape colour
        veil[..., 3] = 0.75 * heat / top if top > 0 else 0.0
        self.veil.set_data(veil)
        self.title.set_text(title)

    def heat(self) -> np.ndarray:
        """The veil's opacity: the map as drawn, scaled to a largest value of 0.75."""
        return np.asarray(self.veil.get_array())[..., 3]

    def moving(self) -> list:
        return [self.image, self.veil, self.title]


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
