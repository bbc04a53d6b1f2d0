"""Lesson 06 explorer: corrupt one modality and watch each fusion's accuracy and the attention."""

import ipywidgets as widgets
import torch

from mmkit import viz
from mmkit.checks import check_choice, check_positive
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer
from mmkit.widgets.quick_train import one_thread, quick_train

_XOR = {"task": "xor", "modalities": ("image", "text"), "image_size": 8, "noise": {"image": 0.05}}
SHOWN = 16  # samples in the attention-weight heatmap


def default_fusion_data(seed: int = 0, n_train: int = 600, n_test: int = 200):
    """ShapesWorld xor (image + text) as tensors: returns (train, test, vocab_size)."""
    from mmkit.data import ShapesWorld, to_tensors
    from mmkit.preprocess.text import Vocabulary, encode_batch

    raw = {name: to_tensors(ShapesWorld(n=n, seed=seed + offset, **_XOR),
                            keys=("image", "text", "label"))
           for name, n, offset in (("train", n_train, 1), ("test", n_test, 3))}
    vocab = Vocabulary.build(raw["train"]["text"])
    data = {name: {"image": r["image"], "text": encode_batch(vocab, r["text"])[0],
                   "label": r["label"]} for name, r in raw.items()}
    return data["train"], data["test"], len(vocab)


def default_fusion_models(train: dict, vocab_size: int, seed: int = 0, steps: int = 200) -> dict:
    """Concat, late and attention fusion of a tiny image CNN and a bag of embeddings, each
    trained for ``steps`` Adam steps (about a second in all) on ``train``. Seeded: the same
    seed gives the same weights."""
    from mmkit import fusion
    from mmkit.encoders.image import ImageCNN
    from mmkit.encoders.text import BagOfEmbeddings
    from mmkit.models import MultimodalClassifier

    dims = {"image": 16, "text": 16}
    makers = {"concat": lambda: fusion.ConcatFusion(dims),
              "late": lambda: fusion.LateFusion(dims, 2),
              "attention": lambda: fusion.AttentionFusion(dims, dim=16, hidden=8)}
    models = {}
    for name, make in makers.items():
        torch.manual_seed(seed)
        encoders = {"image": ImageCNN(3, (8,), out_dim=16, pooled_size=1),
                    "text": BagOfEmbeddings(vocab_size, 16)}
        model = MultimodalClassifier(encoders, make(), 2, hidden=16)
        models[name] = quick_train(model, train, steps=steps, seed=seed)
    return models


def corrupt(data: dict, modality: str, level: float, seed: int = 0) -> dict:
    """A copy of ``data`` with one modality corrupted at ``level``, the same for a given seed.

    Float tensors (images, audio features) get Gaussian noise of std ``level``; token ids
    (int tensors) have each non-padding token replaced by a random word with probability
    ``min(level, 1)``. Other keys are shared, not copied.
    """
    if modality not in data:
        raise ValueError(f"modality {modality!r} is not in data; it has {sorted(data)}")
    level = check_positive(level, "level", allow_zero=True)
    x = data[modality]
    generator = torch.Generator().manual_seed(seed)
    if x.is_floating_point():
        noisy = x + level * torch.randn(x.shape, generator=generator)
    else:
        swap = (torch.rand(x.shape, generator=generator) < min(level, 1.0)) & (x != 0)
        words = torch.randint(2, max(int(x.max()) + 1, 3), x.shape, generator=generator)
        noisy = torch.where(swap, words, x)
    return {**data, modality: noisy}


def _attention_model(models: dict):
    from mmkit.fusion import AttentionFusion

    for name, model in models.items():
        if isinstance(getattr(model, "fusion", None), AttentionFusion):
            return name
    raise ValueError("models must include one whose .fusion is an AttentionFusion")


@torch.no_grad()
def evaluate_corrupted(models: dict, data: dict, modality: str, level: float, seed: int = 0):
    """Accuracy of each model on ``data`` with ``modality`` corrupted at ``level``, and the
    attention model's per-sample weights (N, M) for that corruption."""
    noisy = corrupt(data, modality, level, seed)
    accuracy, weights = {}, None
    for name, model in models.items():
        model.eval()
        with one_thread():
            logits = model(noisy)
        accuracy[name] = float((logits.argmax(1) == noisy["label"]).float().mean())
        if name == _attention_model(models):
            weights = model.fusion.last_weights.clone()
    return accuracy, weights


def fusion_explorer(models=None, data=None, seed: int = 0, *, modality: str | None = None,
                    noise: float = 0.0) -> Explorer:
    """Corrupt one modality of the test set and compare the fusion methods.

    models: {name: MultimodalClassifier}, one of them with an AttentionFusion; None trains
        concat, late and attention fusion on ShapesWorld xor for about a second
        (``default_fusion_models``; seeded, so always the same weights).
    data: the test tensors {modality: (N, ...), "label": (N,)} the models read; None takes
        200 xor scenes the default models never saw (give it when you give models).
    modality, noise: the first view (modality defaults to the first one the models encode).

    Left: accuracy of each model. Right: the attention model's weights (its fusion's
    ``last_weights``) on the first 16 test samples, one row per modality.
    """
    if models is None:
        train, test, vocab_size = default_fusion_data(seed)
        models = default_fusion_models(train, vocab_size, seed)
        data = test if data is None else data
    if not isinstance(models, dict) or not models:
        raise TypeError(f"models must be a non-empty dict {{name: model}}, got {models!r}")
    if not isinstance(data, dict) or "label" not in data:
        raise TypeError("data must be a dict of test tensors with a 'label' entry")
    attention = models[_attention_model(models)]
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
    accuracy, weights = evaluate_corrupted(models, data, modality, noise, seed)
    bars = viz.Bars(ax_acc, list(models), list(accuracy.values()), ylim=(0, 1.1), fmt="{:.2f}")
    chance = ax_acc.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax_acc.set_ylabel("test accuracy")
    ax_acc.tick_params(axis="x", labelsize=8)
    image = ax_w.imshow(weights[:SHOWN].T.numpy(), vmin=0, vmax=1, cmap="viridis",
                        aspect="auto")
    ax_w.set_yticks(range(len(attention.fusion.modalities)), attention.fusion.modalities)
    ax_w.set_xlabel("test sample")
    ax_w.set_title("attention weight per sample", fontsize=9)
    fig.colorbar(image, ax=ax_w)
    plots = {"accuracy": bars, "weights": image}
    # Axes, ticks and the colour bar never change: draw them once, then only what moves
    # (in the order a full draw would: bars, lines, texts; the heatmap, then its frame).
    viz.redraw_only(fig, [*bars.bars, bars.zero_line, chance, *bars.texts, ax_acc.title,
                          image, *ax_w.spines.values()])

    seen = {}  # (modality, noise) -> results: moving back to a setting costs nothing

    def draw(modality, noise):
        key = (modality, round(noise, 6))
        if key not in seen:
            seen[key] = evaluate_corrupted(models, data, modality, noise, seed)
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
