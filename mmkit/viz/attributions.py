"""Attributions drawn: a heat map over an image, and a caption's words coloured by score.

Red = the piece pushed the explained class's score up, blue = down; the stronger the
colour, the larger |attribution| compared with the largest one in the same picture. Both
update their artists in place, so a widget can switch samples and methods quickly.
``attribution_colourbar`` draws the key to these colours next to a figure's panels.
"""

import numpy as np

from mmkit.viz.arrays import as_float_array
from mmkit.viz.media import _to_numpy_image

_RED = np.array([0.85, 0.1, 0.1])
_BLUE = np.array([0.1, 0.3, 0.9])


def attribution_colours(scores, max_alpha: float = 0.85) -> np.ndarray:
    """(..., 4) RGBA: red where a score is > 0, blue where < 0, opacity |score| / max|score|.
    All-zero scores give a fully transparent result."""
    scores = as_float_array(scores)
    top = np.abs(scores).max() if scores.size else 0.0
    strength = np.abs(scores) / top if top > 0 else np.zeros_like(scores)
    rgb = np.where((scores >= 0)[..., None], _RED, _BLUE)
    return np.concatenate([rgb, (max_alpha * strength)[..., None]], axis=-1)


def attribution_colourmap(max_alpha: float = 0.85):
    """The colours of ``attribution_colours`` laid over white, as a matplotlib colormap on
    [-1, 1]: blue at -1 (the score's largest push down), white at 0, red at +1."""
    from matplotlib.colors import LinearSegmentedColormap

    white = np.ones(3)
    ends = [max_alpha * colour + (1 - max_alpha) * white for colour in (_BLUE, _RED)]
    return LinearSegmentedColormap.from_list("attribution", [ends[0], white, ends[1]])


def attribution_colourbar(fig, axes, label: str = "attribution / largest |attribution| in "
                          "its map\n(red: raised the score, blue: lowered it)", **kwargs):
    """A colour bar for maps drawn with ``attribution_colours``, beside ``axes`` (an Axes or
    a list of them); ``kwargs`` go to ``fig.colorbar``. Returns the Colorbar."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    key = ScalarMappable(norm=Normalize(-1, 1), cmap=attribution_colourmap())
    bar = fig.colorbar(key, ax=axes, **kwargs)
    bar.set_label(label, fontsize=8)
    bar.set_ticks([-1, 0, 1])
    return bar


def _grey(image) -> np.ndarray:
    """The image in grey, so that a red or blue shape is not mistaken for the overlay."""
    data = _to_numpy_image(image)
    return np.clip(data.mean(axis=-1) if data.ndim == 3 else data, 0, 1)


class AttributionOverlay:
    """An image, in grey, with its attribution map laid over it and a + at the map's peak."""

    def __init__(self, ax, image, scores, title: str = ""):
        self.ax = ax
        self.image = ax.imshow(_grey(image), cmap="gray", vmin=0, vmax=1,
                               interpolation="nearest")
        self.overlay = ax.imshow(attribution_colours(scores), interpolation="nearest")
        (self.peak,) = ax.plot([], [], "+", color="yellow", markersize=12, markeredgewidth=2)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        self.update(image, scores)

    def update(self, image, scores, peak=None) -> None:
        """peak: (row, column) to mark, or None for no marker."""
        grey = _grey(image)
        self.image.set_data(grey)
        height, width = grey.shape
        colours = attribution_colours(scores)
        if colours.shape[:2] != (height, width):
            raise ValueError(f"scores must be a {height}x{width} map like the image, got "
                             f"{colours.shape[:2]}")
        self.overlay.set_data(colours)
        has_peak = peak is not None and np.all(np.isfinite(peak))
        self.peak.set_data([peak[1]] if has_peak else [], [peak[0]] if has_peak else [])

    def data(self) -> np.ndarray:
        return np.asarray(self.overlay.get_array())


class TokenStrip:
    """A caption's words, one per line, each with its score on a patch coloured by the
    score. Room for ``max_tokens`` words; unused lines are blank. One text per word: text
    is the slowest thing to draw, and a widget redraws it on every move."""

    def __init__(self, ax, tokens, scores, max_tokens: int = 12, title: str = "caption"):
        self.ax = ax
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        ax.set_title(title, fontsize=10)
        step = 1.0 / max_tokens
        self.words = [ax.text(0.05, 1 - (k + 0.5) * step, "", va="center", fontsize=10,
                              family="monospace",
                              bbox={"boxstyle": "square,pad=0.2", "facecolor": "white",
                                    "edgecolor": "none"}) for k in range(max_tokens)]
        self.tokens: list[str] = []
        self.update(tokens, scores)

    def update(self, tokens, scores) -> None:
        scores = as_float_array(scores)
        if len(tokens) > len(self.words):
            raise ValueError(f"at most {len(self.words)} tokens fit, got {len(tokens)}")
        if len(scores) != len(tokens):
            raise ValueError(f"one score per token: {len(tokens)} tokens, {len(scores)} scores")
        self.tokens = list(tokens)
        width = max((len(t) for t in tokens), default=0)
        colours = attribution_colours(scores, max_alpha=0.8)
        for k, word in enumerate(self.words):
            shown = k < len(tokens)
            word.set_text(f"{tokens[k]:<{width}} {scores[k]:+.2f}" if shown else "")
            word.get_bbox_patch().set_facecolor(colours[k] if shown else (1, 1, 1, 0))

    def shown(self) -> list[str]:
        """The words on show, in order."""
        return list(self.tokens)
