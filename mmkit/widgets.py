"""ipywidgets front ends: thin wrappers that wire controls to a compute function and a plot.

Each explorer is three layers (see DESIGN.md, Widgets):
  compute  - pure tensors in, tensors out (mmkit.scratch, mmkit.toy_problems, ...);
  viz      - draws once on matplotlib Axes, then updates its artists in place (mmkit.viz);
  front end - this file: controls, a PNG of the figure, a status line.
The figure is sent to the browser as a PNG in an ``Image`` widget, which needs no extra
JupyterLab extension, and the explorer also carries a static PNG of its default state, so
a notebook rendered without a kernel (GitHub, nbviewer) still shows the plot.
"""

import base64
import html
import math
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import torch

from mmkit import scratch, toy_problems, viz
from mmkit.checks import check_positive

_SLIDER_STYLE = {"description_width": "initial"}


class Explorer(widgets.HBox):
    """Controls on the left; the live figure and a one-line status on the right.

    ``draw(**values)`` updates the plots for the controls' current values and returns the
    status text. Tests drive an explorer exactly as a learner does: set
    ``explorer.controls[name].value`` and look at ``explorer.plots`` or ``explorer.image``.
    """

    def __init__(
        self, controls: dict, figure, plots: dict, draw: Callable[..., str], extras=()
    ):
        self.controls = controls
        self.figure = figure
        self.plots = plots
        self._draw = draw
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()
        panel = widgets.VBox(list(controls.values()), layout=widgets.Layout(min_width="260px"))
        super().__init__([panel, widgets.VBox([self.image, self.status, *extras])])
        self.add_class("mmkit-explorer")
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Recompute and redraw for the current control values."""
        try:
            message = html.escape(self._draw(**self.values()))
        except Exception as error:  # show it where the learner is looking, not in a log
            message = f"<span style='color:#b00'>Error: {html.escape(str(error))}</span>"
        self.status.value = message
        self.image.value = viz.figure_to_png(self.figure)

    def _on_change(self, change) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        # JupyterLab prefers the live widget; a viewer without a kernel falls back to the PNG.
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle


def softmax_explorer(logits=(2.0, -1.0, 3.0, 0.0), temperature: float = 1.0) -> Explorer:
    """Move the logits and the temperature; watch softmax turn them into probabilities."""
    logits = [float(v) for v in logits]
    if not 2 <= len(logits) <= 8:
        raise ValueError(f"logits must hold 2 to 8 numbers, got {len(logits)}")
    temperature = check_positive(temperature, "temperature")
    names = [f"z{i + 1}" for i in range(len(logits))]
    controls = {
        name: widgets.FloatSlider(
            value=v, min=-6, max=6, step=0.1, description=name, style=_SLIDER_STYLE
        )
        for name, v in zip(names, logits, strict=True)
    }
    controls["temperature"] = widgets.FloatLogSlider(
        value=temperature, base=10, min=-1, max=1, step=0.01, description="temperature T",
        style=_SLIDER_STYLE,
    )
    fig, (ax_logits, ax_probs) = viz.new_figure(8, 3, ncols=2)
    ax_logits.set_title("logits z")
    plots = {
        "logits": viz.Bars(ax_logits, names, logits, ylim=(-6.5, 6.5), fmt="{:.1f}"),
        "probabilities": viz.Bars(
            ax_probs, names, np.zeros(len(names)), ylim=(0, 1.1), color="tab:orange"
        ),
    }

    def draw(temperature, **z):
        values = torch.tensor([z[name] for name in names], dtype=torch.float64)
        probs = scratch.softmax(values, temperature=temperature)
        plots["logits"].update(values.numpy())
        plots["probabilities"].update(probs.numpy())
        entropy = float(-(probs * probs.clamp_min(1e-300).log()).sum())
        ax_probs.set_title(f"softmax(z / {temperature:.2f})")
        return (
            f"sum of probabilities = {float(probs.sum()):.4f}; entropy = {entropy:.3f} nats "
            f"(uniform would be {math.log(len(names)):.3f})"
        )

    return Explorer(controls, fig, plots, draw)


def gradient_descent_explorer(lr: float = 0.1, steps: int = 10) -> Explorer:
    """Pick a learning rate and a number of steps; watch descent on a curve and in a bowl."""
    lr = check_positive(lr, "lr")
    bowl = toy_problems.QuadraticBowl()
    theta0_1d, theta0_2d = 2.0, torch.tensor([-2.5, 2.0], dtype=torch.float64)
    controls = {
        "lr": widgets.FloatLogSlider(
            value=lr, base=10, min=-3, max=0.2, step=0.01, description="learning rate α",
            style=_SLIDER_STYLE,
        ),
        "steps": widgets.IntSlider(
            value=steps, min=0, max=50, description="steps", style=_SLIDER_STYLE
        ),
    }
    fig, (ax_curve, ax_bowl) = viz.new_figure(8, 3.4, ncols=2)
    ax_curve.set_title("L(θ) = (θ - 1)²")
    ax_bowl.set_title("bowl ½(θ₁-1)² + 2(θ₂+0.5)²")
    plots = {
        "curve": viz.Trajectory1D(ax_curve, toy_problems.parabola_loss),
        "bowl": viz.Trajectory2D(
            ax_bowl, lambda grid: bowl.loss(torch.from_numpy(grid)).numpy()
        ),
    }

    def draw(lr, steps):
        path_1d = scratch.gradient_descent(toy_problems.parabola_grad, theta0_1d, lr, steps)
        path_2d = scratch.gradient_descent(bowl.grad, theta0_2d, lr, steps)
        plots["curve"].update(path_1d.numpy())
        plots["bowl"].update(path_2d.numpy())
        loss_1d = float(toy_problems.parabola_loss(path_1d[-1]))
        loss_2d = float(bowl.loss(path_2d[-1]))
        verdicts = []
        for name, limit in (("curve", 1.0), ("bowl", bowl.max_stable_lr)):
            verdict = "converges" if lr < limit else "does not converge"
            verdicts.append(f"{name} {verdict} (needs α < {limit:g})")
        return (
            f"after {steps} steps: L(curve) = {loss_1d:.3g}, L(bowl) = {loss_2d:.3g}; "
            + "; ".join(verdicts)
        )

    return Explorer(controls, fig, plots, draw)


def data_browser(seed: int = 0, n: int = 64, image_size: int = 32) -> Explorer:
    """One ShapesWorld scene in all four modalities at once; pick a sample and a noise level.

    The image, the video frames, the waveform with its log-mel spectrogram, and the caption
    all describe the same scene; the noise slider corrupts every modality at once (pixel
    noise, waveform noise, dropped words), which is what the fusion lessons fight against.
    An audio player plays the scene's sound.
    """
    from mmkit.data.shapes_world import ShapesWorld
    from mmkit.preprocess.audio import log_mel

    def scene(index: int, noise: float) -> dict:
        # Building a ShapesWorld only draws the scene descriptions (milliseconds); the
        # pixels and the sound of the one sample asked for are rendered on demand.
        levels = {"image": noise, "video": noise, "audio": noise, "text": min(noise, 0.5)}
        return ShapesWorld(n=n, image_size=image_size, seed=seed, noise=levels)[index]

    first = scene(0, 0.0)
    frames = first["video"].shape[0]
    controls = {
        "index": widgets.IntSlider(value=0, min=0, max=n - 1, description="sample", style=_SLIDER_STYLE),
        "noise": widgets.FloatSlider(
            value=0.0, min=0.0, max=0.5, step=0.05, description="noise", style=_SLIDER_STYLE
        ),
    }
    fig = viz.Figure(figsize=(9, 4.4), dpi=80, layout="constrained")
    viz.FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 3)
    ax_image, ax_video = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1:])
    ax_wave, ax_mel = fig.add_subplot(grid[1, :2]), fig.add_subplot(grid[1, 2])
    sample_rate = 8000
    plots = {
        "image": viz.ImagePanel(ax_image, first["image"], "image"),
        "video": viz.ImagePanel(ax_video, viz.frame_strip(first["video"]), f"video: {frames} frames"),
        "waveform": viz.Waveform(ax_wave, first["audio"], sample_rate),
        "spectrogram": viz.ImagePanel(
            ax_mel, log_mel(first["audio"], sample_rate, n_mels=32, n_fft=256), "log-mel (dB)",
            cmap="magma", origin="lower", vmin=-80, vmax=0, aspect="auto",
        ),
    }
    player = widgets.Audio(format="wav", autoplay=False, loop=False)

    def draw(index, noise):
        sample = scene(index, noise)
        plots["image"].update(sample["image"])
        plots["video"].update(viz.frame_strip(sample["video"]))
        plots["waveform"].update(sample["audio"])
        plots["spectrogram"].update(log_mel(sample["audio"], sample_rate, n_mels=32, n_fft=256))
        fig.suptitle(f"caption: \u201c{sample['text']}\u201d")
        player.value = viz.wav_bytes(sample["audio"], sample_rate)
        truth = ", ".join(f"{k}={v}" for k, v in sample["attributes"].items()
                          if k in ("shape", "colour", "size", "direction"))
        return f"sample {index}: {truth}"

    return Explorer(controls, fig, plots, draw, extras=(player,))
