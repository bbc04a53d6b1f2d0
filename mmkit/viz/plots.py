"""Figures for widgets (off pyplot, fast PNG), and bars, curves and trajectories that update
in place."""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


def new_figure(width: float = 8.0, height: float = 3.0, ncols: int = 1, dpi: int = 80):
    """A figure that pyplot does not know about, so Jupyter never shows it twice.

    Returns (figure, axes); axes is a single Axes when ncols == 1.
    """
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)  # draws to memory; no GUI, no pyplot state
    axes = fig.subplots(1, ncols) if ncols else None  # ncols=0: lay out the axes yourself
    return fig, axes


def redraw_only(fig: Figure, artists) -> None:
    """Declare the artists that change when a control moves; ``figure_to_png`` then draws the
    rest of the figure (axes, ticks, labels, legends: most of the time) once, keeps it as a
    background, and on later frames paints only these on top of it ("blitting").

    Everything else must then stay as it is. List the artists in drawing order (a line
    that should lie over a histogram comes after it).
    """
    fig.mmkit_changing = list(artists)
    fig.mmkit_background = None


def redraw_background(fig: Figure) -> None:
    """A part that ``redraw_only`` keeps in the background has changed (a picture or a
    caption that only some controls replace): draw the background again on the next frame,
    then go back to painting only the moving artists."""
    fig.mmkit_background = None


def figure_to_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (what an ipywidgets Image shows), fast enough for a slider.

    Constrained layout re-solves the whole layout on every draw, half the redraw time; the
    axes do not move when a slider does, so it is solved on the first draw and then frozen.
    A figure with ``redraw_only`` artists redraws just those after the first frame.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    changing = getattr(fig, "mmkit_changing", None)
    if changing is None:
        canvas.draw()
    elif fig.mmkit_background is None:
        canvas.draw()  # everything, so that the layout is solved with every artist in it
        for artist in changing:
            artist.set_animated(True)  # an animated artist is left out of canvas.draw()
        fig.set_layout_engine("none")
        canvas.draw()
        fig.mmkit_background = canvas.copy_from_bbox(fig.bbox)
    else:
        canvas.restore_region(fig.mmkit_background)
    for artist in changing or ():
        fig.draw_artist(artist)
    if fig.get_layout_engine() is not None:
        fig.set_layout_engine("none")
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    rgba.save(buffer, format="png", compress_level=1)  # speed over size: it is sent once
    return buffer.getvalue()


class Bars:
    """A labelled bar chart whose heights can change: logits, probabilities, scores."""

    def __init__(self, ax, labels, values, *, ylim=None, color="tab:blue", fmt="{:.3f}"):
        self.ax = ax
        self.fmt = fmt
        x = np.arange(len(labels))
        self.bars = ax.bar(x, values, color=color)
        ax.set_xticks(x, labels)
        self.zero_line = ax.axhline(0, color="black", linewidth=0.8)
        if ylim is not None:
            ax.set_ylim(*ylim)
        self.texts = [ax.text(i, 0, "", ha="center", va="bottom", fontsize=9) for i in x]
        self.update(values)

    def update(self, values):
        values = np.asarray(values, dtype=float)
        for bar, text, v in zip(self.bars, self.texts, values, strict=True):
            bar.set_height(v)
            text.set_text(self.fmt.format(v))
            text.set_y(max(v, 0))

    def heights(self) -> np.ndarray:
        return np.array([bar.get_height() for bar in self.bars])

    def moving(self) -> list:
        """What update() changes, in drawing order (for redraw_only)."""
        return [*self.bars, self.zero_line, *self.texts]


class Trajectory1D:
    """A loss curve L(θ) with the points gradient descent visits, joined in order."""

    def __init__(self, ax, loss_fn, xlim=(-1.0, 3.0), ylim=(-0.2, 4.5)):
        self.ax = ax
        self.loss_fn = loss_fn
        grid = np.linspace(*xlim, 400)
        ax.plot(grid, loss_fn(grid), color="0.6", label="L(θ)")
        (self.path,) = ax.plot([], [], "o-", color="tab:red", markersize=4, label="steps")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel("θ")
        ax.set_ylabel("L(θ)")
        self.legend = ax.legend(loc="upper center")

    def update(self, thetas):
        thetas = np.asarray(thetas, dtype=float)
        self.path.set_data(thetas, self.loss_fn(thetas))

    def moving(self) -> list:
        """What update() changes, in drawing order (the legend stays on top of the path)."""
        return [self.path, self.legend]


class Trajectory2D:
    """Contours of a 2-D loss with the path gradient descent takes across them."""

    def __init__(self, ax, loss_fn, xlim=(-3.0, 3.0), ylim=(-3.0, 3.0), minimum=None):
        """minimum: (θ₁, θ₂) of the loss's minimum, marked with a × when given."""
        self.ax = ax
        xs, ys = np.meshgrid(np.linspace(*xlim, 120), np.linspace(*ylim, 120))
        contours = ax.contour(xs, ys, loss_fn(np.stack([xs, ys], -1)), levels=6, colors="0.7",
                              linewidths=0.8)
        ax.clabel(contours, fontsize=6, fmt="L=%.3g")  # the loss on each contour
        if minimum is not None:
            ax.plot(*np.asarray(minimum, dtype=float), "x", color="black", markersize=8,
                    markeredgewidth=2, label="minimum")
            ax.legend(loc="upper right", fontsize=7)
        (self.path,) = ax.plot([], [], "o-", color="tab:red", markersize=3)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel("θ₁")
        ax.set_ylabel("θ₂")
        ax.set_aspect("equal")

    def update(self, thetas):
        thetas = np.asarray(thetas, dtype=float).reshape(-1, 2)
        self.path.set_data(thetas[:, 0], thetas[:, 1])

    def moving(self) -> list:
        return [self.path]


def plot_history(ax, values, label: str, ylabel: str = "loss", xlabel: str = "step"):
    """One training curve; call again on the same Axes to compare runs."""
    ax.plot(np.arange(len(values)), np.asarray(values, dtype=float), label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax
