"""Evaluation figures that update in place: ROC curves with a moving operating point, a
confusion matrix, the scores of each class against a threshold, and a bar with its
confidence interval."""

import numpy as np
from matplotlib.ticker import MaxNLocator

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown")


class RocPlot:
    """ROC curves (FPR on x, TPR on y) of several models, each with one marker: the
    operating point at the current threshold. The legend gives each model's AUC.

    curves: {name: (fpr, tpr, auc)}, e.g. from mmkit.metrics.roc_curve and roc_auc_score.
    """

    def __init__(self, ax, curves: dict):
        self.ax = ax
        self.markers = {}
        ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1, label="chance (0.50)")
        for (name, (fpr, tpr, auc)), colour in zip(curves.items(), _COLOURS, strict=False):
            ax.plot(fpr, tpr, color=colour, linewidth=1.5, label=f"{name} ({auc:.2f})")
            (self.markers[name],) = ax.plot([], [], "o", color=colour, markersize=7,
                                            markeredgecolor="black")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xticks([0, 0.5, 1])  # few ticks: tick labels are most of a redraw's time
        ax.set_yticks([0, 0.5, 1])
        ax.set_xlabel("false positive rate (FPR)")
        ax.set_ylabel("true positive rate (TPR, recall)")
        ax.set_aspect("equal")
        ax.legend(title="model (AUC)", loc="lower right", fontsize=7, title_fontsize=7)

    def update(self, points: dict, highlight=None) -> None:
        """points: {name: (fpr, tpr)}; the highlighted model's marker is drawn larger."""
        for name, (fpr, tpr) in points.items():
            self.markers[name].set_data([fpr], [tpr])
            self.markers[name].set_markersize(11 if name == highlight else 6)

    def point(self, name) -> tuple[float, float]:
        x, y = self.markers[name].get_data()
        return float(x[0]), float(y[0])


class ConfusionMatrixPlot:
    """Counts as a heatmap with the number written in each cell; rows are the true class,
    columns the predicted one (scikit-learn's layout)."""

    def __init__(self, ax, matrix, labels, title: str = "confusion matrix"):
        self.ax = ax
        matrix = np.asarray(matrix)
        k = len(labels)
        self.image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(matrix.sum(), 1))
        self.texts = [[ax.text(j, i, "", ha="center", va="center", fontsize=11)
                       for j in range(k)] for i in range(k)]
        ax.set_xticks(range(k), labels, fontsize=8)
        ax.set_yticks(range(k), labels, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title, fontsize=9)
        self.update(matrix)

    def update(self, matrix) -> None:
        matrix = np.asarray(matrix)
        self.image.set_data(matrix)
        dark = matrix > 0.5 * max(matrix.sum(), 1)  # white text on dark cells
        for i, row in enumerate(self.texts):
            for j, text in enumerate(row):
                text.set_text(str(int(matrix[i, j])))
                text.set_color("white" if dark[i, j] else "black")

    def counts(self) -> np.ndarray:
        return np.array([[int(t.get_text()) for t in row] for row in self.texts])


class ScoreHistogram:
    """Histograms of the scores of the negatives and of the positives, and the threshold as
    a vertical line: everything right of the line is predicted positive."""

    def __init__(self, ax, y_true, scores, threshold: float, bins: int = 20,
                 labels=("negative", "positive"), span=None, ylim_from=None):
        """span: (low, high) of the score axis, kept when the scores change (default: the
        range of the first scores), so that the threshold line stays in view.
        ylim_from: every score array that ``set_scores`` may show later; the count axis is
        fixed to fit the tallest of their bins, so that its tick values stay right (an
        explorer draws the axes once). Default: the first scores only."""
        self.ax = ax
        self.bins = bins
        scores = np.asarray(scores, dtype=float)
        low, high = (scores.min(), scores.max()) if span is None else span
        high = high if high > low else low + 1.0  # constant scores: any width will do
        self.edges = np.linspace(low, high + 1e-12 * max(1.0, abs(high)), bins + 1)
        self.stairs = [ax.stairs(np.zeros(bins), self.edges, fill=True,
                                 alpha=0.5, color=colour, label=label)
                       for colour, label in zip(("tab:red", "tab:green"), labels, strict=True)]
        self.line = ax.axvline(threshold, color="black", linewidth=1.5)
        ax.set_xlim(self.edges[0], self.edges[-1])
        ax.set_xticks(np.linspace(self.edges[0], self.edges[-1], 3))
        ax.xaxis.set_major_formatter("{x:.2f}")
        ax.set_xlabel("score")
        ax.set_ylabel("samples per bin")
        top = max(self._tallest(y_true, s) for s in (scores, *(ylim_from or ())))
        ax.set_ylim(0, 1.15 * max(top, 1))  # fixed: the ticks are drawn once
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.legend(fontsize=7, loc="upper center")
        self.set_scores(y_true, scores)

    def _tallest(self, y_true, scores) -> int:
        y_true = np.asarray(y_true)
        scores = np.clip(np.asarray(scores, dtype=float), self.edges[0], self.edges[-1])
        return max(int(np.histogram(scores[y_true == cls], bins=self.edges)[0].max(initial=0))
                   for cls in (0, 1))

    def set_scores(self, y_true, scores) -> None:
        y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=float)
        scores = np.clip(scores, self.edges[0], self.edges[-1])  # out of span: the end bins
        for stairs, cls in zip(self.stairs, (0, 1), strict=True):
            counts, _ = np.histogram(scores[y_true == cls], bins=self.edges)
            stairs.set_data(counts, self.edges)

    def update(self, threshold: float) -> None:
        self.line.set_xdata([threshold, threshold])


class IntervalBars:
    """Bars with a confidence interval drawn as a vertical line on each: e.g. the agreement
    of a learner's ratings beside the automatic accuracy."""

    def __init__(self, ax, labels, colours=("tab:purple", "tab:blue")):
        self.ax = ax
        x = np.arange(len(labels))
        self.bars = ax.bar(x, np.zeros(len(labels)), color=colours[: len(labels)], alpha=0.8)
        self.whiskers = [ax.plot([i, i], [np.nan, np.nan], color="black", linewidth=2)[0]
                         for i in x]
        self.texts = [ax.text(i, 0, "", ha="center", va="bottom", fontsize=9) for i in x]
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_yticks([])  # each bar is labelled with its value
        ax.set_ylim(0, 1.12)

    def update(self, values, intervals) -> None:
        """values: one height each (NaN: no bar); intervals: (low, high) or None each."""
        for bar, whisker, text, v, ci in zip(self.bars, self.whiskers, self.texts, values,
                                             intervals, strict=True):
            bar.set_height(0 if np.isnan(v) else v)
            whisker.set_ydata([np.nan, np.nan] if ci is None else list(ci))
            top = v if ci is None else ci[1]
            text.set_text("–" if np.isnan(v) else f"{v:.2f}")
            text.set_y(0 if np.isnan(top) else top + 0.01)

    def heights(self) -> np.ndarray:
        return np.array([bar.get_height() for bar in self.bars])
