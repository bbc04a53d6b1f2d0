"""Lesson 10 explorer: pick a sample and an attribution method; see which pixels, which words
and which modality drove the prediction."""

import ipywidgets as widgets
import numpy as np
import torch

from mmkit import viz
from mmkit.checks import check_choice, check_int
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer
from mmkit.widgets.quick_train import one_thread, quick_train

_XOR = {"task": "xor", "modalities": ("image", "text"), "image_size": 16,
        "noise": {"image": 0.05}}
LABELS = {"saliency": "saliency", "integrated_gradients": "integrated gradients",
          "grad_cam": "Grad-CAM", "feature_ablation": "feature ablation", "lime": "LIME",
          "kernel_shap": "KernelSHAP"}
MAX_SAMPLES = 16
# LIME and KernelSHAP refit a surrogate per sample: few random subsets keep the build
# short; 16 squares of 4x4 pixels and a handful of words need no more.
OPTIONS = {"n_samples": 48, "n_steps": 24}


def default_explain_data(seed: int = 0, n_train: int = 600, n_test: int = 8) -> tuple:
    """ShapesWorld xor (image + caption) as tensors: (train, test, vocab). The label needs
    both: the colour from the image, the caption's direction from the text. test also holds
    "mask", the shapes' pixels."""
    from mmkit.data import ShapesWorld, to_tensors
    from mmkit.preprocess.text import Vocabulary, encode_batch

    vocab = Vocabulary(["<pad>", "<unk>", *ShapesWorld.words])
    data = {}
    for name, n, offset in (("train", n_train, 1), ("test", n_test, 3)):
        world = ShapesWorld(n=n, seed=seed + offset, **_XOR)
        raw = to_tensors(world, keys=("image", "text", "label", "mask"))
        data[name] = {"image": raw["image"], "text": encode_batch(vocab, raw["text"])[0],
                      "label": raw["label"], "mask": raw["mask"]}
    return data["train"], data["test"], vocab


def default_explain_model(train: dict, vocab_size: int, seed: int = 0, steps: int = 250):
    """A one-block image CNN and a bag of embeddings, concatenated, with a small MLP head,
    trained for ``steps`` Adam steps on ``train`` (about a second). Seeded."""
    from mmkit.encoders.image import ImageCNN
    from mmkit.encoders.text import BagOfEmbeddings
    from mmkit.fusion import ConcatFusion
    from mmkit.models import MultimodalClassifier

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoders = {"image": ImageCNN(3, (8,), out_dim=16, pooled_size=1),
                    "text": BagOfEmbeddings(vocab_size, 16)}
        model = MultimodalClassifier(encoders, ConcatFusion({"image": 16, "text": 16}), 2,
                                     hidden=16)
    keys = ("image", "text", "label")
    return quick_train(model, {k: train[k] for k in keys}, steps=steps, seed=seed)


def precompute(model, data: dict, methods=None, **options) -> dict:
    """Every method's explanations of every sample of ``data``, computed once:
    {method: {"image": (N, H, W), "text": (N, L), "modality": (N, M)}}. Grad-CAM has no
    token or modality scores: zeros stand in for them."""
    from mmkit import explain

    methods = explain.METHODS if methods is None else methods
    batch = {m: data[m] for m in ("image", "text")}
    options = {**OPTIONS, **options}
    results = {}
    with one_thread():
        for method in methods:
            image = explain.image_attribution(model, batch, method, **options)
            if method == "grad_cam":
                text = torch.zeros(batch["text"].shape)
                modality = torch.zeros(len(image), 2)
            else:
                text = explain.token_attribution(model, batch, method, **options)
                modality = explain.modality_attribution(model, batch, method, **options)
            results[method] = {"image": image, "text": text, "modality": modality}
    return results


def _share(scores: torch.Tensor) -> np.ndarray:
    """Each modality's score over the sum of |scores|: comparable across methods."""
    total = float(scores.abs().sum())
    return (scores / total).numpy() if total > 0 else np.zeros(len(scores))


def explanation_explorer(model=None, data=None, vocab=None, seed: int = 0, *,
                         sample: int = 0, method: str = "integrated_gradients") -> Explorer:
    """Pick a sample and a method; see the image's heat map, the words' scores and each
    modality's share.

    model: a MultimodalClassifier with "image" and "text" encoders, given with the test
        ``data`` {"image" (N, 3, H, W), "text" ids (N, L), "label" (N,), optional "mask"
        (N, H, W) bool} (at most 16 samples) and the ``vocab`` of its captions. None trains
        a small model on ShapesWorld xor for about a second (seeded): its label needs the
        image's colour *and* the caption's direction.
    sample, method: what to show first.

    Every method's explanations are computed once, when the explorer is built
    (``precompute``), so moving a control only redraws. Left: the image, red where pixels
    raised the predicted class's score, blue where they lowered it, + at the peak. Middle:
    the caption's words, coloured the same way. Right: each modality's share of the total
    |attribution| (signed), from ``mmkit.explain.modality_attribution``.
    """
    from mmkit.explain import METHODS, peak_positions, pointing_game
    from mmkit.explain.checks import model_inputs
    from mmkit.preprocess.text import Vocabulary
    from mmkit.viz.attributions import AttributionOverlay, TokenStrip

    if model is None:
        train, default_test, vocab = default_explain_data(seed)
        model = default_explain_model(train, len(vocab), seed)
        data = default_test if data is None else data
    if not isinstance(data, dict) or not all(k in data for k in ("image", "text", "label")):
        raise TypeError("data must be a dict with 'image', 'text' (token ids) and 'label'")
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab must be the Vocabulary of the captions, got {type(vocab).__name__}")
    count = len(data["label"])
    if count > MAX_SAMPLES:
        raise ValueError(f"data holds {count} samples; pass at most {MAX_SAMPLES}")
    check_int(sample, "sample")
    if sample >= count:
        raise ValueError(f"sample must be in [0, {count - 1}], got {sample}")
    method = check_choice(method, "method", METHODS)

    results = precompute(model, data)
    inputs, _, _ = model_inputs(model, {m: data[m] for m in ("image", "text")})
    with torch.no_grad(), one_thread():
        probabilities = torch.softmax(model(inputs), dim=1).cpu()
    lengths = (data["text"] != vocab.pad_index).sum(1).tolist()
    tokens = [[vocab.index_to_token(int(i)) for i in row[:n]]
              for row, n in zip(data["text"], lengths, strict=True)]
    modalities = list(model.encoders)
    peaks = {m: peak_positions(r["image"]) for m, r in results.items()}
    hits = ({m: pointing_game(r["image"], data["mask"]) for m, r in results.items()}
            if "mask" in data else None)

    controls = {
        "sample": widgets.IntSlider(value=sample, min=0, max=count - 1, description="sample",
                                    style=SLIDER_STYLE),
        "method": widgets.Dropdown(options=[(LABELS[m], m) for m in METHODS], value=method,
                                   description="method", style=SLIDER_STYLE),
    }
    fig, _ = viz.new_figure(8.4, 3.0, ncols=0)
    ax_image, ax_words, ax_bars = fig.subplots(1, 3, width_ratios=[1.0, 0.9, 0.9])
    first = results[method]
    plots = {
        "image": AttributionOverlay(ax_image, data["image"][sample], first["image"][sample]),
        "words": TokenStrip(ax_words, tokens[sample], first["text"][sample, :lengths[sample]],
                            max_tokens=max(lengths)),
        "modality": viz.Bars(ax_bars, modalities, _share(first["modality"][sample]),
                             ylim=(-1.1, 1.1), fmt="{:+.2f}"),
    }
    ax_bars.set_title("share of |attribution|", fontsize=10)
    ax_bars.set_yticks([-1, 0, 1])  # few tick labels: each one is redrawn on every move

    def draw(sample, method):
        shown = results[method]
        n = lengths[sample]
        plots["image"].update(data["image"][sample], shown["image"][sample],
                              peaks[method][sample].tolist())
        plots["words"].update(tokens[sample], shown["text"][sample, :n])
        plots["modality"].update(_share(shown["modality"][sample]))
        predicted = int(probabilities[sample].argmax())
        ax_image.set_title(f"label {int(data['label'][sample])}, predicted {predicted} "
                           f"({float(probabilities[sample, predicted]):.2f})", fontsize=10)
        if method == "grad_cam":
            status = "Grad-CAM explains the image only: no word or modality scores"
        elif shown["modality"][sample].abs().max() == 0:
            status = (f"{LABELS[method]}: every score is 0 — a flat spot, where small changes "
                      "of the input do not move the score")
        else:
            word = tokens[sample][int(shown["text"][sample, :n].argmax())]
            top = modalities[int(shown["modality"][sample].argmax())]
            status = f"{LABELS[method]}: most important word '{word}', modality {top}"
        if not torch.isfinite(peaks[method][sample]).all():
            status += "; the image's map is flat: it points nowhere"
        elif hits is not None:
            status += f"; the image's peak is {'on' if hits[method][sample] else 'off'} the shape"
        return status

    explorer = Explorer(controls, fig, plots, draw)
    explorer.model, explorer.data, explorer.vocab = model, data, vocab
    explorer.results = results  # {method: {"image", "text", "modality"}}, as drawn
    return explorer
