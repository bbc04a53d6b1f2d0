"""Matplotlib figures shared by the notebooks and the widgets.

Every plot draws once on Axes it is given and then *updates its artists in place*
(``set_height``, ``set_data``): a widget that moves a slider must not rebuild the figure,
or the redraw would be too slow to feel live. plots.py: figures, bars, curves, trajectories;
media.py: images, frame strips, waveforms, WAV bytes; evaluation.py: ROC curves, confusion
matrices, score histograms, bars with confidence intervals.
"""

from mmkit.viz.evaluation import ConfusionMatrixPlot, IntervalBars, RocPlot, ScoreHistogram
from mmkit.viz.media import ImagePanel, Waveform, frame_strip, wav_bytes
from mmkit.viz.plots import (
    Bars,
    Trajectory1D,
    Trajectory2D,
    figure_to_png,
    new_figure,
    plot_history,
    redraw_background,
    redraw_only,
)

__all__ = [
    "Bars",
    "ConfusionMatrixPlot",
    "ImagePanel",
    "IntervalBars",
    "RocPlot",
    "ScoreHistogram",
    "Trajectory1D",
    "Trajectory2D",
    "Waveform",
    "figure_to_png",
    "frame_strip",
    "new_figure",
    "plot_history",
    "redraw_background",
    "redraw_only",
    "wav_bytes",
]
