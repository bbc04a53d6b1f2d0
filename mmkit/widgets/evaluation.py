"""Lesson 08 explorers: move a decision threshold along ROC curves, and rate predictions.

roc_explorer: a threshold slider moves each model's operating point along its ROC curve;
the confusion matrix, precision, recall, F1 and accuracy follow.
feedback_explorer: show one prediction at a time; Agree / Disagree buttons record the
learner's verdict in a JSON file (mmkit.user_feedback), and the agreement rate, with its
confidence interval, is set beside the automatic accuracy on the same samples.
"""

import html
import math

import ipywidgets as widgets
import numpy as np
import torch

from mmkit import viz
from mmkit.checks import check_int
from mmkit.metrics.inputs import as_labels, as_scores
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer


def _check_binary_scores(y_true, scores) -> tuple[np.ndarray, dict]:
    y_true = as_labels(y_true, "y_true")
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError(f"y_true must hold 0 and 1 only, got the values "
                         f"{sorted(set(y_true.tolist()))[:6]}")
    if len(np.unique(y_true)) < 2:
        raise ValueError("y_true holds one class only: a ROC curve needs positives and "
                         "negatives")
    if not isinstance(scores, dict) or not scores:
        raise TypeError(f"scores must be a non-empty dict {{model name: scores}}, got "
                        f"{type(scores).__name__}")
    checked = {}
    for name, s in scores.items():
        checked[str(name)] = as_scores(s, f"scores[{name!r}]", len(y_true))
    return y_true.astype(int), checked


def roc_explorer(y_true=None, scores=None, *, threshold: float = 0.5, labels=("0", "1"),
                 seed: int = 0) -> Explorer:
    """Move the decision threshold and watch what it does to each model.

    y_true: (N,) 0/1 labels; scores: {model name: (N,) scores, higher = more positive}
        (probabilities, or any scores). Both None: two small models on ShapesWorld size,
        trained in about a second (``mmkit.demo_models.roc_scores``; seeded).
    threshold: the first position of the slider; "model" picks whose confusion matrix and
        bars are shown.
    labels: the names of class 0 and class 1, for the axes.

    Panels: the scores of each class with the threshold; the ROC curves (AUC in the legend)
    with each model's operating point; the confusion matrix; precision, recall, F1 and
    accuracy at that threshold.
    """
    from mmkit.demo_models import roc_scores
    from mmkit.metrics import roc_auc_score, roc_curve, threshold_metrics

    if (y_true is None) != (scores is None):
        raise TypeError("give both y_true and scores, or neither (for the default models)")
    if y_true is None:
        y_true, scores = roc_scores(seed)
        labels = ("small", "large")
    y_true, scores = _check_binary_scores(y_true, scores)
    if not isinstance(labels, (tuple, list)) or len(labels) != 2:
        raise ValueError(f"labels must name the two classes, e.g. ('healthy', 'ill'), got "
                         f"{labels!r}")
    labels = [str(label) for label in labels]
    low = min(float(s.min()) for s in scores.values())
    high = max(float(s.max()) for s in scores.values())
    if high == low:
        high = low + 1.0
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not low <= threshold <= high:
        threshold = (low + high) / 2  # e.g. logits, where 0.5 means little
    names = list(scores)

    controls = {
        "threshold": widgets.FloatSlider(value=threshold, min=low, max=high,
                                         step=10 ** math.floor(math.log10((high - low) / 100)),
                                         readout_format=".3g", description="threshold",
                                         style=SLIDER_STYLE, layout=widgets.Layout(width="250px")),
        "model": widgets.Dropdown(options=names, value=names[0], description="model",
                                  style=SLIDER_STYLE, layout=widgets.Layout(width="250px")),
    }
    curves = {}
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y_true, s)
        curves[name] = (fpr, tpr, float(roc_auc_score(y_true, s)))
    fig, _ = viz.new_figure(8.0, 6.0, ncols=0)  # 2 x 2: readable beside the controls
    (ax_hist, ax_roc), (ax_cm, ax_bars) = fig.subplots(2, 2)
    first = threshold_metrics(y_true, scores[names[0]], threshold)
    plots = {
        "scores": viz.ScoreHistogram(ax_hist, y_true, scores[names[0]], threshold,
                                     labels=labels, span=(low, high),
                                     ylim_from=list(scores.values())),
        "roc": viz.RocPlot(ax_roc, curves),
        "confusion": viz.ConfusionMatrixPlot(ax_cm, first["confusion"], labels),
        "metrics": viz.Bars(ax_bars, ["precision", "recall", "F1", "accuracy"],
                            [first[k] for k in ("precision", "recall", "f1", "accuracy")],
                            ylim=(0, 1.12), fmt="{:.2f}"),
    }
    ax_bars.tick_params(axis="x", labelsize=8)
    ax_bars.set_yticks([])  # each bar is labelled with its value; ticks are slow to draw
    shown = {"model": names[0]}  # the histogram is rebuilt only when the model changes
    # Axes, ticks and legends never change: draw them once, then only what moves.
    viz.redraw_only(fig, [*plots["scores"].stairs, plots["scores"].line, ax_hist.get_legend(),
                          ax_hist.title,
                          *plots["roc"].markers.values(), plots["confusion"].image,
                          *ax_cm.spines.values(), *sum(plots["confusion"].texts, []), *plots["metrics"].bars,
                          *plots["metrics"].texts, ax_bars.title])

    def draw(threshold, model):
        if model != shown["model"]:
            plots["scores"].set_scores(y_true, scores[model])
            shown["model"] = model
        plots["scores"].update(threshold)
        ax_hist.set_title(f"{model}: scores ≥ {threshold:.3f} → 1", fontsize=9)
        results = {name: threshold_metrics(y_true, s, threshold) for name, s in scores.items()}
        plots["roc"].update({name: (r["fpr"], r["tpr"]) for name, r in results.items()},
                            highlight=model)
        r = results[model]
        plots["confusion"].update(r["confusion"])
        plots["metrics"].update([r[k] for k in ("precision", "recall", "f1", "accuracy")])
        ax_bars.set_title(model, fontsize=9)
        return (f"threshold {threshold:.3f}, {model}: TP {r['tp']} FP {r['fp']} TN {r['tn']} "
                f"FN {r['fn']}; precision {r['precision']:.2f}, recall (TPR) {r['recall']:.2f}, "
                f"FPR {r['fpr']:.2f}, F1 {r['f1']:.2f}, accuracy {r['accuracy']:.2f}; AUC "
                + ", ".join(f"{name} {curves[name][2]:.3f}" for name in names))

    explorer = Explorer(controls, fig, plots, draw)
    explorer.y_true, explorer.scores, explorer.curves = y_true, scores, curves
    return explorer


def _check_feedback_inputs(data, probabilities, classes):
    if not isinstance(data, dict) or not {"image", "label"} <= data.keys():
        raise TypeError("data must be a dict with 'image' (N, C, H, W) and 'label' (N,) "
                        "entries, and optionally 'caption' (N strings)")
    labels = as_labels(data["label"], "data['label']").astype(np.int64)
    n = len(labels)
    if len(data["image"]) != n or len(data.get("caption", labels)) != n:
        raise ValueError("data['image'], data['label'] (and data['caption']) must have the "
                         "same number of samples")
    if isinstance(probabilities, torch.Tensor):
        probabilities = probabilities.detach().cpu().numpy()
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 2 or len(probabilities) != n:
        raise ValueError(f"probabilities must be (N={n}, classes), got shape "
                         f"{probabilities.shape}")
    if classes is None:
        classes = [str(k) for k in range(probabilities.shape[1])]
    if len(classes) != probabilities.shape[1]:
        raise ValueError(f"classes names {len(classes)} classes but probabilities have "
                         f"{probabilities.shape[1]} columns")
    return labels, probabilities, [str(c) for c in classes]


def feedback_explorer(path=None, data=None, probabilities=None, classes=None, *,
                      seed: int = 0, start: int = 0) -> Explorer:
    """Rate a model's predictions one by one; the verdicts are kept in a JSON file.

    path: the feedback file (mmkit.user_feedback.FeedbackStore; created if missing). None
        writes to a new file in a temporary folder, which is lost: point it at a file you
        keep to keep your ratings. A corrupt file is shown as an error, never overwritten.
    data, probabilities, classes: the samples ({"image", "label", optional "caption"}), the
        model's (N, C) class probabilities and the class names; None: a small CNN's
        predictions on 60 ShapesWorld colour scenes (``mmkit.demo_models.feedback_predictions``).
    start: the first sample shown.

    The sample slider picks a prediction; Agree / Disagree record a verdict on it and move
    on. The right panel sets the agreement rate (95 % Wilson interval) beside the automatic
    accuracy on the samples rated so far.
    """
    import tempfile
    from pathlib import Path

    from mmkit.demo_models import feedback_predictions
    from mmkit.user_feedback import FeedbackFileError, FeedbackStore

    if data is None:
        if probabilities is not None:
            raise TypeError("probabilities were given without data: give both, or neither")
        data, probabilities, classes = feedback_predictions(seed)
    labels, probabilities, classes = _check_feedback_inputs(data, probabilities, classes)
    n = len(labels)
    start = check_int(start, "start")
    if start >= n:
        raise ValueError(f"start must be < the number of samples ({n}), got {start}")
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="mmkit-feedback-")) / "feedback.json"
    store, problem = None, None
    try:
        store = FeedbackStore(path, create=True)
    except FeedbackFileError as error:
        problem = error  # shown in the status; the file is left as it is
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    captions = data.get("caption")

    controls = {"sample": widgets.IntSlider(value=start, min=0, max=n - 1,
                                            description="sample", style=SLIDER_STYLE)}
    fig, (ax_image, ax_probs, ax_agree) = viz.new_figure(9.5, 3.0, ncols=3)
    plots = {
        "image": viz.ImagePanel(ax_image, data["image"][start], ""),
        "probabilities": viz.Bars(ax_probs, classes, probabilities[start], ylim=(0, 1.12),
                                  fmt="{:.2f}"),
        "agreement": viz.IntervalBars(ax_agree, ["you agree", "accuracy"]),
    }
    ax_probs.set_yticks([])
    agree = widgets.Button(description="Agree", button_style="success", icon="check")
    disagree = widgets.Button(description="Disagree", button_style="danger", icon="times")
    where = widgets.HTML(f"<small>feedback file: <code>{html.escape(str(path))}</code></small>")
    agree.disabled = disagree.disabled = problem is not None
    buttons = widgets.HBox([agree, disagree])

    def rated_accuracy():
        ids = [r["sample_id"] for r in store.ratings
               if isinstance(r["sample_id"], int) and 0 <= r["sample_id"] < n]
        return (float(np.mean(predicted[ids] == labels[ids])) if ids else np.nan), len(ids)

    def draw(sample):
        plots["image"].update(data["image"][sample])
        caption = f"“{captions[sample]}”" if captions is not None else f"sample {sample}"
        ax_image.set_title(caption, fontsize=8)
        plots["probabilities"].update(probabilities[sample])
        guess = f"predicted {classes[predicted[sample]]!r} ({confidence[sample]:.2f})"
        ax_probs.set_title(f"the model {guess}", fontsize=9)
        if problem is not None:
            raise problem  # shown in red in the status line
        summary = store.summary()
        accuracy, k = rated_accuracy()
        plots["agreement"].update([summary.agreement, accuracy],
                                  [(summary.low, summary.high) if k else None, None])
        ax_agree.set_title(f"on the {k} samples rated" if k else "rate a sample to start",
                           fontsize=9)
        verdict = store.verdict(sample)
        said = f"you said {verdict}" if verdict else "not rated yet"
        return (f"sample {sample}: {guess}, {said}. {summary}; automatic accuracy on the "
                f"{k} rated samples: " + ("–" if np.isnan(accuracy) else f"{accuracy:.2f}"))

    explorer = Explorer(controls, fig, plots, draw, extras=(buttons, where),
                        expected_errors=(FeedbackFileError,))

    def record(verdict):
        if problem is not None:  # buttons are disabled, but code can still click them
            explorer.refresh()
            return
        sample = controls["sample"].value
        try:
            store.rate(sample, verdict, classes[predicted[sample]], float(confidence[sample]))
        except (OSError, FeedbackFileError) as error:
            explorer.status.value = (f"<span style='color:#b00'>Error: not saved: "
                                     f"{html.escape(str(error))}</span>")
            return
        if sample < n - 1:
            controls["sample"].value = sample + 1  # the slider's change redraws
        else:
            explorer.refresh()

    agree.on_click(lambda _: record("agree"))
    disagree.on_click(lambda _: record("disagree"))
    explorer.store, explorer.path, explorer.buttons = store, Path(path), {"agree": agree,
                                                                           "disagree": disagree}
    explorer.data, explorer.probabilities, explorer.classes = data, probabilities, classes
    return explorer
