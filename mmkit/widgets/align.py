"""Lesson 11 explorers: a batch's similarity matrix under a temperature, and retrieval both ways.

similarity_explorer: eight scenes and their captions; the cosine similarities, each row's
(or column's) softmax at the chosen temperature, and each pair's loss.
retrieval_explorer: pick or type a caption -> the top-k images; pick an image -> the top-k
captions; with the plain or the hard-negative model.
Embeddings are computed once when an explorer is built; a move recomputes only a softmax or
a similarity row (and encodes a typed caption), then redraws.
"""

import ipywidgets as widgets
import numpy as np
import torch

from mmkit import align, viz
from mmkit.checks import check_int, check_positive
from mmkit.preprocess.text import tokenize
from mmkit.viz.align import ImageRow, MatrixPlot, RankedCaptions
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer

BATCH = 8  # pairs in the similarity explorer's batch
VIEWS = {"image → text (rows)": "image_to_text", "text → image (columns)": "text_to_image"}


def _check_gallery(gallery) -> int:
    if (not isinstance(gallery, dict) or not isinstance(gallery.get("image"), torch.Tensor)
            or not isinstance(gallery.get("text"), (list, tuple))):
        raise TypeError("gallery must be a dict {'image': (N, C, H, W) tensor, 'text': list "
                        "of N captions}")
    if len(gallery["image"]) != len(gallery["text"]):
        raise ValueError(f"gallery has {len(gallery['image'])} images but "
                         f"{len(gallery['text'])} captions: one caption per image")
    return len(gallery["text"])


def _check_models(models) -> dict:
    if isinstance(models, align.DualEncoder):
        models = {"model": models}
    if (not isinstance(models, dict) or not models
            or not all(isinstance(m, align.DualEncoder) for m in models.values())):
        raise TypeError(f"models must be a DualEncoder or a dict {{name: DualEncoder}}, got "
                        f"{type(models).__name__}")
    return models


def _short(caption: str, width: int = 58) -> str:
    return caption if len(caption) <= width else caption[: width - 1] + "…"


def similarity_explorer(model=None, gallery=None, *, temperature: float | None = None,
                        batch: int = 0) -> Explorer:
    """A batch of eight (image, caption) pairs as the loss sees it.

    model: a DualEncoder (None: the "plain" model of ``align.default_alignment_models``).
    gallery: {"image": (N, 3, H, W), "text": N captions}, pair i = image i with caption i.
    temperature: where the slider starts (default: the model's learned one).
    batch: which eight pairs (batch b: pairs 8b .. 8b + 7).

    Left: the cosine similarities (row: an image, column: a caption; the right pairs on the
    outlined diagonal). Middle: the softmax of each row (image -> text) or of each column
    (text -> image) of similarity / temperature. Right: each pair's cross-entropy in both
    directions; the status line gives the symmetric loss.
    """
    if model is None:
        models, default_gallery = align.default_alignment_models()
        model = models["plain"]
        gallery = default_gallery if gallery is None else gallery
    if not isinstance(model, align.DualEncoder):
        raise TypeError(f"model must be a DualEncoder, got {type(model).__name__}")
    n = _check_gallery(gallery)
    if n < BATCH:
        raise ValueError(f"gallery must hold at least {BATCH} pairs, got {n}")
    n_batches = n // BATCH
    batch = check_int(batch, "batch")
    if batch >= n_batches:
        raise ValueError(f"batch must be < {n_batches} ({n} pairs, {BATCH} a batch), got {batch}")
    temperature = model.temperature if temperature is None else check_positive(temperature,
                                                                               "temperature")
    if not 0.005 <= temperature <= 1.0:
        raise ValueError(f"temperature must be in [0.005, 1], got {temperature}")
    images = model.embed(model.modalities[0], gallery["image"][: n_batches * BATCH])
    texts = model.embed(model.modalities[1], list(gallery["text"][: n_batches * BATCH]))

    controls = {
        "temperature": widgets.FloatLogSlider(value=temperature, base=10, min=-2.3, max=0,
                                              step=0.05, description="temperature",
                                              readout_format=".3f", style=SLIDER_STYLE),
        "batch": widgets.IntSlider(value=batch, min=0, max=n_batches - 1,
                                   description="batch", style=SLIDER_STYLE),
        "view": widgets.Dropdown(options=list(VIEWS), description="softmax over",
                                 style=SLIDER_STYLE),
    }
    fig, _ = viz.new_figure(11.0, 6.6, ncols=0)
    grid = fig.add_gridspec(3, BATCH, height_ratios=[1.5, 3.2, 1.4])
    ax_strip = fig.add_subplot(grid[0, :])
    ax_sim = fig.add_subplot(grid[1, 0:3])
    ax_prob = fig.add_subplot(grid[1, 3:6])
    ax_loss = fig.add_subplot(grid[1, 6:8])
    ax_text = fig.add_subplot(grid[2, :])
    ax_text.axis("off")

    def pick(b):
        rows = slice(b * BATCH, (b + 1) * BATCH)
        return gallery["image"][rows], list(gallery["text"][rows]), images[rows], texts[rows]

    batch_images, captions, a, t = pick(batch)
    table = align.similarity_softmax(a, t, temperature)
    strip = viz.ImagePanel(ax_strip, viz.frame_strip(batch_images))  # the 8 pictures in a row
    width = batch_images.shape[-1] + 1
    ax_strip.set_xticks([j * width + width / 2 - 1 for j in range(BATCH)],
                        [f"image {j + 1}" for j in range(BATCH)], fontsize=8)
    similarity = MatrixPlot(ax_sim, table["similarity"], vmin=-1, vmax=1, cmap="RdBu_r",
                            title="cosine similarity", xlabel="caption", ylabel="image")
    probability = MatrixPlot(ax_prob, table["image_to_text"], vmin=0, vmax=1,
                             title="softmax", xlabel="caption", ylabel="image")
    x = np.arange(BATCH)
    row_bars = ax_loss.barh(x - 0.2, np.zeros(BATCH), height=0.4, label="image → text")
    column_bars = ax_loss.barh(x + 0.2, np.zeros(BATCH), height=0.4, label="text → image")
    ax_loss.set_yticks(x, [str(j + 1) for j in x], fontsize=7)
    ax_loss.invert_yaxis()
    ax_loss.set_xscale("symlog", linthresh=0.01)  # losses near 0 stay visible
    ax_loss.set_xlim(0, 10)
    ax_loss.set_xlabel("−log p(right partner)", fontsize=8)
    ax_loss.set_title("loss of each pair", fontsize=9)
    ax_loss.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    text = ax_text.text(0, 1, _caption_list(captions), va="top", ha="left", fontsize=7.5,
                        family="monospace", transform=ax_text.transAxes)
    plots = {"images": strip, "similarity": similarity, "probability": probability,
             "row_bars": row_bars, "column_bars": column_bars, "captions": text}
    # The pictures and captions change only with the batch: they stay in the background,
    # drawn again when the batch changes; every move repaints the matrices and bars.
    viz.redraw_only(fig, [*similarity.moving(), *ax_sim.spines.values(), *probability.moving(),
                          *ax_prob.spines.values(), ax_prob.title, *row_bars, *column_bars,
                          *ax_loss.spines.values()])
    shown = {"batch": batch}

    def draw(temperature, batch, view):
        batch_images, captions, a, t = pick(batch)
        table = align.similarity_softmax(a, t, temperature)
        if batch != shown["batch"]:
            strip.update(viz.frame_strip(batch_images))
            text.set_text(_caption_list(captions))
            viz.redraw_background(fig)
            shown["batch"] = batch
        similarity.update(table["similarity"])
        probability.update(table[VIEWS[view]])
        ax_prob.set_title(f"softmax of each {'row' if 'rows' in view else 'column'} at "
                          f"temperature {temperature:.3f}", fontsize=9)
        for bar, value in zip(row_bars, table["row_loss"], strict=True):
            bar.set_width(min(float(value), 10.0))
        for bar, value in zip(column_bars, table["column_loss"], strict=True):
            bar.set_width(min(float(value), 10.0))
        right = float(table[VIEWS[view]].diagonal().mean())
        return (f"loss {float(table['loss']):.3f} at temperature {temperature:.3f} "
                f"(logit scale {1 / temperature:.1f}); mean probability of the right partner "
                f"{right:.2f}; the learned temperature is {model.temperature:.3f}")

    explorer = Explorer(controls, fig, plots, draw)
    explorer.model, explorer.gallery = model, gallery
    return explorer


def retrieval_explorer(models=None, gallery=None, *, k: int = 5, caption: int = 0,
                       image: int = 0) -> Explorer:
    """Search a gallery both ways with one or more dual encoders.

    models: a DualEncoder or {name: DualEncoder} (None: ``align.default_alignment_models``,
        "plain" and "hard negatives").
    gallery: {"image": (N, 3, H, W), "text": N captions}; caption i belongs to image i.
    k: how many results; caption, image: the first queries (indices into the gallery).

    Top: the chosen image and its top-k captions (the right one in green). Bottom: the
    chosen caption - or the text typed in the box, when there is any - and its top-k images.
    """
    if models is None:
        models, default_gallery = align.default_alignment_models()
        gallery = default_gallery if gallery is None else gallery
    models = _check_models(models)
    n = _check_gallery(gallery)
    k = check_int(k, "k", minimum=1)
    if k > min(n, 8):
        raise ValueError(f"k must be at most {min(n, 8)}, got {k}")
    for name, value in (("caption", caption), ("image", image)):
        if check_int(value, name) >= n:
            raise ValueError(f"{name} must be < {n} (the gallery's size), got {value}")
    captions = list(gallery["text"])
    embedded = {name: (m.embed(m.modalities[0], gallery["image"]),
                       m.embed(m.modalities[1], captions)) for name, m in models.items()}

    names = list(models)
    controls = {
        "model": widgets.Dropdown(options=names, value=names[0], description="model",
                                  style=SLIDER_STYLE),
        "image": widgets.IntSlider(value=image, min=0, max=n - 1, description="image",
                                   style=SLIDER_STYLE),
        "caption": widgets.Dropdown(options=[(f"{i}: {_short(c, 40)}", i)
                                             for i, c in enumerate(captions)],
                                    value=caption, description="caption", style=SLIDER_STYLE),
        "typed": widgets.Text(value="", description="or type",
                              placeholder="a small red circle left of a large blue square",
                              continuous_update=False, style=SLIDER_STYLE),
    }
    fig, _ = viz.new_figure(10.0, 5.4, ncols=0)
    grid = fig.add_gridspec(2, k + 1, height_ratios=[1, 1])
    ax_query = fig.add_subplot(grid[0, 0])
    ax_captions = fig.add_subplot(grid[0, 1:])
    ax_words = fig.add_subplot(grid[1, 0])
    ax_words.axis("off")
    result_axes = [fig.add_subplot(grid[1, 1 + j]) for j in range(k)]
    query_panel = viz.ImagePanel(ax_query, gallery["image"][image])
    ax_query.set_title("query image", fontsize=9)
    ranked = RankedCaptions(ax_captions, k, title="its top captions")
    results = ImageRow(result_axes, gallery["image"][:k], [""] * k)
    query_text = ax_words.text(0.0, 0.5, "", ha="left", va="center", fontsize=8, wrap=True,
                               transform=ax_words.transAxes)
    ax_words.set_title("query caption → its top images", fontsize=9, loc="left")
    plots = {"query": query_panel, "captions": ranked, "images": results, "text": query_text}
    viz.redraw_only(fig, [query_panel.artist, *ax_query.spines.values(), *ranked.moving(),
                          *ax_captions.spines.values(), *results.moving(),
                          *(spine for ax in result_axes for spine in ax.spines.values()),
                          query_text])

    def draw(model, image, caption, typed):
        image_features, text_features = embedded[model]
        encoder = models[model]
        typed = typed.strip()
        if typed:
            with torch.no_grad():
                encoder.eval()
                query = encoder.encode_text([typed]).cpu()  # beside the gallery's embeddings
            shown = typed
        else:
            query, shown = text_features[caption:caption + 1], captions[caption]
        scores, found = align.retrieve(query, image_features, k)
        right = [bool(j == caption and not typed) for j in found[0].tolist()]
        results.update([gallery["image"][j] for j in found[0].tolist()],
                       [f"#{r + 1}  {s:+.2f}" for r, s in enumerate(scores[0].tolist())],
                       ["green" if ok else "black" for ok in right])
        query_text.set_text(_wrap(shown))
        query_panel.update(gallery["image"][image])
        caption_scores, caption_found = align.retrieve(image_features[image:image + 1],
                                                       text_features, k)
        ranked.update([_short(captions[j], 80) for j in caption_found[0].tolist()],
                      caption_scores[0].tolist(), [j == image for j in caption_found[0].tolist()])
        image_rank = int((image_features[image] @ text_features.T
                          >= image_features[image] @ text_features[image]).sum())
        status = f"{model}: image {image}'s own caption is ranked {image_rank} of {n}"
        if typed:
            unknown = [w for w in tokenize(typed) if encoder.vocab is not None
                       and w not in encoder.vocab]
            status += f"; typed caption's best image: {int(found[0, 0])}"
            if unknown:
                status += f" (words the model never saw: {', '.join(unknown)})"
        else:
            caption_rank = int((query @ image_features.T
                                >= float(query[0] @ image_features[caption])).sum())
            status += f"; caption {caption}'s own image is ranked {caption_rank}"
        return status

    explorer = Explorer(controls, fig, plots, draw)
    explorer.models, explorer.gallery = models, gallery
    return explorer


def _caption_list(captions) -> str:
    return "\n".join(f"caption {j + 1}: {_short(c, 70)}" for j, c in enumerate(captions))


def _wrap(text: str, width: int = 22) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)
