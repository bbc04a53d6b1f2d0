"""Lesson 01 explorers: softmax with temperature, and gradient descent on a curve and a bowl."""

import math

import ipywidgets as widgets
import numpy as np
import torch

from mmkit import scratch, toy_problems, viz
from mmkit.checks import check_positive
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer


def softmax_explorer(logits=(2.0, -1.0, 3.0, 0.0), temperature: float = 1.0) -> Explorer:
    """Move the logits and the temperature; watch softmax turn them into probabilities."""
    logits = [float(v) for v in logits]
    if not 2 <= len(logits) <= 8:
        raise ValueError(f"logits must hold 2 to 8 numbers, got {len(logits)}")
    temperature = check_positive(temperature, "temperature")
    names = [f"z{i + 1}" for i in range(len(logits))]
    controls = {
        name: widgets.FloatSlider(
            value=v, min=-6, max=6, step=0.1, description=name, style=SLIDER_STYLE
        )
        for name, v in zip(names, logits, strict=True)
    }
    controls["temperature"] = widgets.FloatLogSlider(
        value=temperature, base=10, min=-1, max=1, step=0.01, description="temperature T",
        style=SLIDER_STYLE,
    )
    fig, (ax_logits, ax_probs) = viz.new_figure(8, 3, ncols=2)
    ax_logits.set_title("logits z")
    plots = {
        "logits": viz.Bars(ax_logits, names, logits, ylim=(-6.5, 6.5), fmt="{:.1f}"),
        "probabilities": viz.Bars(
            ax_probs, names, np.zeros(len(names)), ylim=(0, 1.1), color="tab:orange"
        ),
    }
    viz.redraw_only(fig, [*plots["logits"].moving(), *plots["probabilities"].moving(),
                          ax_probs.title])  # the axes never change: draw them once

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
            style=SLIDER_STYLE,
        ),
        "steps": widgets.IntSlider(
            value=steps, min=0, max=50, description="steps", style=SLIDER_STYLE
        ),
    }
    fig, (ax_curve, ax_bowl) = viz.new_figure(8, 3.4, ncols=2)
    ax_curve.set_title("L(θ) = (θ - 1)²")
    ax_bowl.set_title("bowl ½(θ₁-1)² + 2(θ₂+0.5)²")
    plots = {
        "curve": viz.Trajectory1D(ax_curve, toy_problems.parabola_loss),
        "bowl": viz.Trajectory2D(
            ax_bowl, lambda grid: bowl.loss(torch.from_numpy(grid)).numpy(),
            minimum=bowl.minimum.numpy(),
        ),
    }
    viz.redraw_only(fig, [*plots["curve"].moving(), *plots["bowl"].moving()])

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
