"""mmkit.viz.plots: the PNG a widget shows, drawn in full or by redrawing only what moves."""

import numpy as np
import pytest
from pictures import full_redraw, png_pixels

from mmkit import viz


def test_redrawing_only_the_moving_artists_gives_the_full_picture():
    fig, ax = viz.new_figure(4, 3)
    ax.plot([0, 1], [0, 1], color="0.5", label="static")
    ax.legend(loc="lower right")
    (moving,) = ax.plot([0.2], [0.2], "o", markersize=10)
    title = ax.set_title("x = 0.2")
    viz.redraw_only(fig, [moving, title])
    first = png_pixels(viz.figure_to_png(fig))
    moving.set_data([0.8], [0.6])
    title.set_text("x = 0.8, further along")
    second = png_pixels(viz.figure_to_png(fig))
    assert (np.abs(second - first).max(axis=2) > 0).sum() > 50  # the picture did change
    different = np.abs(second - full_redraw(fig)).max(axis=2) > 0
    assert different.sum() == 0  # ... and exactly as a full redraw would show it


@pytest.mark.parametrize(("name", "moves"), [
    ("softmax_explorer", {"z1": 5.5, "temperature": 0.3}),
    ("gradient_descent_explorer", {"lr": 1.2, "steps": 30}),
    ("fusion_explorer", {"noise": 1.5}),
    ("roc_explorer", {"model": "image + text", "threshold": 0.7}),
    ("data_browser", {"index": 5, "noise": 0.3}),
])
def test_explorers_that_redraw_only_what_moves_look_the_same_as_afull_redraw(name, moves):
    from mmkit import widgets

    explorer = getattr(widgets, name)()
    assert explorer.figure.mmkit_changing, f"{name} should redraw only its moving parts"
    before = png_pixels(explorer.image.value)
    for control, value in moves.items():
        explorer.controls[control].value = value
    shown = png_pixels(explorer.image.value)
    assert (np.abs(shown - before).max(axis=2) > 0).sum() > 50  # the picture changed
    different = np.abs(shown - full_redraw(explorer.figure)).max(axis=2) > 0
    assert different.sum() < 0.001 * different.size  # a few anti-aliased edge pixels at most


def test_trajectory_2d_marks_the_minimum_only_when_given():
    def bowl(grid):
        return 0.5 * (grid[..., 0] - 1) ** 2 + 2 * (grid[..., 1] + 0.5) ** 2

    _, ax = viz.new_figure(4, 3)
    viz.Trajectory2D(ax, bowl, minimum=(1.0, -0.5))
    marks = [line for line in ax.get_lines() if line.get_label() == "minimum"]
    assert len(marks) == 1
    assert np.allclose(np.column_stack(marks[0].get_data()), [[1.0, -0.5]])
    assert ax.texts, "the contours carry their loss values"
    _, plain = viz.new_figure(4, 3)
    viz.Trajectory2D(plain, bowl)
    assert not [line for line in plain.get_lines() if line.get_label() == "minimum"]


def test_the_attribution_colour_bar_shows_the_colours_the_maps_are_drawn_with():
    import matplotlib.pyplot as plt

    from mmkit.viz.attributions import (
        attribution_colourbar,
        attribution_colourmap,
        attribution_colours,
    )

    scores = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])  # / max |score|: -1, -0.5, 0, 0.5, 1
    rgba = attribution_colours(scores)
    over_white = rgba[:, :3] * rgba[:, 3:] + (1 - rgba[:, 3:])  # what the map shows on white
    key = attribution_colourmap()(np.array([0.0, 0.25, 0.5, 0.75, 1.0]))[:, :3]
    np.testing.assert_allclose(key, over_white, atol=0.01)
    fig, ax = plt.subplots()
    bar = attribution_colourbar(fig, ax)
    assert list(bar.get_ticks()) == [-1, 0, 1] and "red" in bar.ax.get_ylabel()
    plt.close(fig)
