"""Figures for contrastive alignment (lesson 11): a matrix with its numbers, a row of images
with captions, and a ranked list of captions; each updates its artists in place."""

import numpy as np

from mmkit.viz.media import ImagePanel


class MatrixPlot:
    """A small matrix as a heatmap (a batch's similarities or softmax probabilities), with a
    colour bar; ``outline`` frames the diagonal, where the right pairs are. ``annotate``
    writes each value in its cell (for a static figure: many texts make a redraw slow)."""

    def __init__(self, ax, matrix, *, vmin: float, vmax: float, cmap: str = "viridis",
                 title: str = "", xlabel: str = "", ylabel: str = "", fmt: str = "{:.2f}",
                 outline: bool = True, annotate: bool = False, colorbar: bool = True):
        self.ax = ax
        self.fmt = fmt
        matrix = np.asarray(matrix, dtype=float)
        n_rows, n_cols = matrix.shape
        self.artist = ax.imshow(matrix, vmin=vmin, vmax=vmax, cmap=cmap, aspect="equal",
                                interpolation="nearest")
        self.texts = [[ax.text(j, i, "", ha="center", va="center", fontsize=6)
                       for j in range(n_cols)] for i in range(n_rows)] if annotate else []
        self.squares = [ax.add_patch(_square(k)) for k in range(min(n_rows, n_cols))] \
            if outline else []
        if colorbar:
            ax.figure.colorbar(self.artist, ax=ax, shrink=0.8)
        ax.set_xticks(range(n_cols), [str(j + 1) for j in range(n_cols)], fontsize=7)
        ax.set_yticks(range(n_rows), [str(i + 1) for i in range(n_rows)], fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        self.update(matrix)

    def update(self, matrix) -> None:
        matrix = np.asarray(matrix, dtype=float)
        self.artist.set_data(matrix)
        if self.texts:
            colours = self.artist.cmap(self.artist.norm(matrix))
            light = colours[..., :3] @ np.array([0.299, 0.587, 0.114]) > 0.5
            for i, row in enumerate(self.texts):
                for j, text in enumerate(row):
                    text.set_text(self.fmt.format(matrix[i, j]))
                    text.set_color("black" if light[i, j] else "white")

    def values(self) -> np.ndarray:
        return np.asarray(self.artist.get_array(), dtype=float)

    def moving(self) -> list:
        """What update() changes, in drawing order (for redraw_only)."""
        return [self.artist, *self.squares, *(t for row in self.texts for t in row)]


def _square(k: int):
    from matplotlib.patches import Rectangle

    return Rectangle((k - 0.5, k - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.2)


class ImageRow:
    """Images side by side, each with a short title under it (a rank and a score)."""

    def __init__(self, axes, images, titles):
        self.panels = [ImagePanel(ax, image) for ax, image in zip(axes, images, strict=True)]
        # Texts of the axes, not axis labels: redraw_only can repaint a text alone, while an
        # axis label is drawn with its axis, in the background, and would leave a ghost.
        self.labels = [ax.text(0.5, -0.04, "", transform=ax.transAxes, ha="center", va="top",
                               fontsize=8) for ax in axes]
        self.update(images, titles)

    def update(self, images, titles, colours=None) -> None:
        colours = colours or ["black"] * len(self.panels)
        for panel, label, image, title, colour in zip(self.panels, self.labels, images, titles,
                                                      colours, strict=True):
            panel.update(image)
            label.set_text(title)
            label.set_color(colour)

    def moving(self) -> list:
        return [p.artist for p in self.panels] + self.labels


class RankedCaptions:
    """The top-k captions for a query as horizontal bars of their scores, best on top, each
    caption written over its bar; the right caption's bar in green."""

    def __init__(self, ax, k: int, xlim=(0.0, 1.0), title: str = ""):
        self.ax = ax
        y = np.arange(k)[::-1]
        self.bars = ax.barh(y, np.zeros(k), left=xlim[0], color="lightsteelblue", height=0.8)
        self.texts = [ax.text(xlim[0] + 0.01 * (xlim[1] - xlim[0]), yi, "", va="center",
                              ha="left", fontsize=7) for yi in y]
        self.low = xlim[0]
        ax.set_xlim(*xlim)
        ax.set_ylim(-0.6, k - 0.4)
        ax.set_yticks([])
        ax.set_xlabel("cosine similarity", fontsize=8)
        ax.set_title(title, fontsize=9)

    def update(self, captions, scores, right=None) -> None:
        right = right if right is not None else [False] * len(captions)
        for bar, text, caption, score, ok in zip(self.bars, self.texts, captions, scores, right,
                                                 strict=True):
            bar.set_width(max(float(score) - self.low, 0.0))
            bar.set_color("yellowgreen" if ok else "lightsteelblue")
            text.set_text(f"{float(score):+.2f}  {caption}")

    def moving(self) -> list:
        return [*self.bars, *self.texts]
