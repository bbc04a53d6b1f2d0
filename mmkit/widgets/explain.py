"""Lesson 10 explorer: pick a sample and an attribution method; see which pixels, which words
and which modality drove the prediction."""

import ipywidgets as widgets
import numpy as np
import torch

from mmkit import viz
from mmkit.checks import check_choice
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer, check_labelled_samples

LABELS = {"saliency": "saliency", "smoothgrad": "SmoothGrad",
          "integrated_gradients": "integrated gradients", "gradient_shap": "GradientSHAP",
          "deeplift": "DeepLift", "grad_cam": "Grad-CAM", "feature_ablation": "feature ablation",
          "lime": "LIME", "kernel_shap": "KernelSHAP"}
MAX_SAMPLES = 16
# LIME and KernelSHAP refit a surrogate per sample: few random subsets keep the build
# short, so the 16x16 images are cut into 16 squares of 4x4 pixels — 48 subsets are three
# per square — and a caption has a handful of words.
OPTIONS = {"n_samples": 48, "n_steps": 24, "patch": 4}
SIGNED = ("feature_ablation", "lime", "kernel_shap")  # modality scores that can be < 0


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
        a small model on ShapesWorld xor for about a second (seeded; ``mmkit.demo_models.
        explain_model``): its label needs the image's colour *and* the caption's direction.
    sample, method: what to show first.

    Every method's explanations are computed once, when the explorer is built
    (``mmkit.explain.explain_all``), so moving a control only redraws. Left: the image, red where pixels
    raised the predicted class's score, blue where they lowered it, + at the peak. Middle:
    the caption's words, coloured the same way. Right: each modality's share of the total
    |attribution|, from ``mmkit.explain.modality_attribution`` (signed for the perturbation
    methods, whose axis then reaches down to -1).
    """
    from mmkit.explain import METHODS, explain_all, peak_positions, pointing_game
    from mmkit.explain.checks import model_inputs
    from mmkit.viz.attributions import AttributionOverlay, TokenStrip

    if model is None:
        from mmkit.demo_models import explain_data, explain_model

        train, default_test, vocab = explain_data(seed)
        model = explain_model(train, len(vocab), seed)
        data = default_test if data is None else data
    count = check_labelled_samples(data, vocab, sample, texts="captions", max_samples=MAX_SAMPLES)
    method = check_choice(method, "method", METHODS)

    results = explain_all(model, data, **OPTIONS)
    inputs, _, _ = model_inputs(model, {m: data[m] for m in ("image", "text")})
    with torch.no_grad():
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

    def draw(sample, method):
        shown = results[method]
        n = lengths[sample]
        plots["image"].update(data["image"][sample], shown["image"][sample],
                              peaks[method][sample].tolist())
        plots["words"].update(tokens[sample], shown["text"][sample, :n])
        plots["modality"].update(_share(shown["modality"][sample]))
        predicted = int(probabilities[sample].argmax())
        ax_image.set_title(f"{LABELS[method]}: label {int(data['label'][sample])}, predicted "
                           f"{predicted} ({float(probabilities[sample, predicted]):.2f})",
                           fontsize=10)
        # The gradient methods' shares are sums of |attribution|, never < 0; the
        # perturbation methods' can be (removing a modality may raise the score).
        ax_bars.set_ylim(-1.1 if method in SIGNED else 0, 1.1)
        ax_bars.set_yticks([-1, 0, 1] if method in SIGNED else [0, 1])
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
