"""Lesson 06 explorer: corrupt one modality and watch each fusion's accuracy and the attention."""

import ipywidgets as widgets
from matplotlib.ticker import MaxNLocator

from mmkit import viz
from mmkit.checks import check_choice, check_positive
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer

SHOWN = 16  # samples in the attention-weight heatmap


def _attention_model(models: dict):
    from mmkit.fusion import AttentionFusion

    for name, model in models.items():
        if isinstance(getattr(model, "fusion", None), AttentionFusion):
            return name
    raise ValueError("models must include one whose .fusion is an AttentionFusion")


def fusion_explorer(models=None, data=None, seed: int = 0, *, modality: str | None = None,
                    noise: float = 0.0) -> Explorer:
    """Corrupt one modality of the test set and compare the fusion methods.

    models: {name: MultimodalClassifier}, one of them with an AttentionFusion; None trains
        concat, late and attention fusion on ShapesWorld xor for about a second
        (``mmkit.demo_models.fusion_models``; seeded, so always the same weights).
    data: the test tensors {modality: (N, ...), "label": (N,)} the models read; None takes
        200 xor scenes the default models never saw (give it when you give models).
    modality, noise: the first view (modality defaults to the first one the models encode).

    Left: accuracy of each model, and chance — the share of the most common class in
    ``data``'s labels (0.5 on a balanced binary task, 0.1 on ten balanced digits). Right: the
    attention model's weights (its fusion's ``last_weights``) on the first 16 test samples,
    one row per modality; the title names that model (the first in ``models`` whose fusion is
    an AttentionFusion).
    """
    from mmkit.report import chance_accuracy
    from mmkit.train import evaluate_corrupted

    if models is None:
        from mmkit.demo_models import fusion_data, fusion_models

        train, test, vocab_size = fusion_data(seed)
        models = fusion_models(train, vocab_size, seed)
        data = test if data is None else data
    if not isinstance(models, dict) or not models:
        raise TypeError(f"models must be a non-empty dict {{name: model}}, got {models!r}")
    if not isinstance(data, dict) or "label" not in data:
        raise TypeError("data must be a dict of test tensors with a 'label' entry")
    attention_name = _attention_model(models)
    attention = models[attention_name]
    modalities = [m for m in attention.fusion.modalities if m in data]
    modality = modalities[0] if modality is None else check_choice(modality, "modality",
                                                                  modalities)
    noise = check_positive(noise, "noise", allow_zero=True)
    if noise > 2:
        raise ValueError(f"noise must be in [0, 2], got {noise}")

    controls = {
        "modality": widgets.Dropdown(options=modalities, value=modality,
                                     description="corrupt", style=SLIDER_STYLE),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=2.0, step=0.1,
                                     description="noise level", style=SLIDER_STYLE),
    }
    fig, (ax_acc, ax_w) = viz.new_figure(8.5, 3.0, ncols=2)
    accuracy, weights = evaluate_corrupted(models, data, modality, noise, seed,
                                           weights_of=attention_name)
    bars = viz.Bars(ax_acc, list(models), list(accuracy.values()), ylim=(0, 1.1), fmt="{:.2f}")
    level = chance_accuracy(data["label"])
    chance = ax_acc.axhline(level, color="grey", linestyle=":", linewidth=1,
                            label=f"chance ({level:.2f})")
    ax_acc.legend(handles=[chance], fontsize=7, loc="upper right")
    ax_acc.set_ylabel("test accuracy")
    ax_acc.tick_params(axis="x", labelsize=8, labelrotation=25)  # long model names fit
    image = ax_w.imshow(weights[:SHOWN].T.numpy(), vmin=0, vmax=1, cmap="viridis",
                        aspect="auto")
    ax_w.set_yticks(range(len(attention.fusion.modalities)), attention.fusion.modalities)
    ax_w.set_xlabel("test sample")
    ax_w.xaxis.set_major_locator(MaxNLocator(integer=True))  # samples are whole numbers
    ax_w.set_title(f"attention weights of {attention_name!r}, per sample", fontsize=9)
    fig.colorbar(image, ax=ax_w, label="attention weight")
    plots = {"accuracy": bars, "weights": image}
    # Axes, ticks and the colour bar never change: draw them once, then only what moves
    # (in the order a full draw would: bars, lines, texts; the heatmap, then its frame).
    viz.redraw_only(fig, [*bars.bars, bars.zero_line, chance, *bars.texts, ax_acc.title,
                          image, *ax_w.spines.values()])

    seen = {}  # (modality, noise) -> results: moving back to a setting costs nothing

    def draw(modality, noise):
        key = (modality, round(noise, 6))
        if key not in seen:
            seen[key] = evaluate_corrupted(models, data, modality, noise, seed,
                                           weights_of=attention_name)
        accuracy, weights = seen[key]
        bars.update(list(accuracy.values()))
        image.set_data(weights[:SHOWN].T.numpy())
        ax_acc.set_title(f"{modality} corrupted at {noise:.1f}", fontsize=9)
        column = attention.fusion.modalities.index(modality)
        return (f"mean attention weight on {modality}: {float(weights[:, column].mean()):.2f}; "
                + ", ".join(f"{k} {v:.2f}" for k, v in accuracy.items()))

    explorer = Explorer(controls, fig, plots, draw)
    explorer.models, explorer.data = models, data
    return explorer
