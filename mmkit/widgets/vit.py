"""Lesson 12 explorer: what a word, a learned query or a patch attends to, drawn on the image."""

import ipywidgets as widgets
import torch

from mmkit import viz
from mmkit.checks import check_choice, check_int
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer, check_labelled_samples

MAX_SAMPLES = 16


def _lookers(maps: dict, length: int) -> list:
    """(label, (kind, index)) for every token whose attention over the image can be drawn."""
    options = [(f"word {i + 1}", ("word", i)) for i in range(length)]
    if maps["queries"] is not None:
        options += [(f"query {i + 1}", ("query", i)) for i in range(maps["queries"].shape[2])]
    if maps["patches"]:
        grid = round(maps["patches"][0].shape[-1] ** 0.5)
        options += [(f"patch (row {i // grid + 1}, col {i % grid + 1})", ("patch", i))
                    for i in range(grid * grid)]
    return options


def vit_attention_explorer(model=None, data=None, vocab=None, seed: int = 0, *,
                           sample: int = 0, looker: str = "word 5", head: str = "mean",
                           layer: int = 1, rollout: bool = False) -> Explorer:
    """Pick a question, a word (or a learned query, or a patch), a head and a layer; see
    where on the image it looks.

    model: a ``mmkit.token_models.TokenClassifier`` with "image" and "text" encoders and a
        ``CrossAttentionFusion`` (learned queries and image self-attention are shown when it
        has them), given with ``data`` {"image" (N, 3, H, W), "text" ids (N, L), "label",
        optional "mask" (N, H, W) bool, the object the question names} (at most 16) and
        the ``vocab`` of its questions. None trains a small model with eight learned queries
        for a second or two (``mmkit.demo_vit.explorer_defaults``; seeded).
    looker: "word k", "query k" or "patch (row r, col c)", as the menu lists them.
    head: "mean" or "1", "2", ...; layer: the image encoder's layer, for a patch.
    rollout: follow the attention back to the input patches through every layer on the
        way (``mmkit.explain.patch_maps.token_attention_maps``); heads are averaged.

    Every map is computed once, when the explorer is built; a control only redraws. A word
    of a model with learned queries reads the queries, not the patches: its map is the
    words' weights over the queries times the queries' weights over the patches.
    """
    from mmkit.explain.patch_maps import patch_pointing_game, token_attention_maps
    from mmkit.explain.rollout import attention_rollout
    from mmkit.viz.patches import PatchAttentionOverlay

    if model is None:
        from mmkit.demo_vit import explorer_defaults

        model, default_data, vocab = explorer_defaults(seed)
        data = default_data if data is None else data
    count = check_labelled_samples(data, vocab, sample, texts="questions", max_samples=MAX_SAMPLES)

    maps = token_attention_maps(model, data)
    if maps["words"] is None:
        raise ValueError("the model's fusion has no cross-attention (it pools first): there "
                         "is no word -> patch attention to show")
    device = next(model.parameters()).device
    with torch.no_grad():
        predicted = model({k: data[k].to(device) for k in model.encoders}).argmax(dim=1).cpu()
    length = data["text"].shape[1]
    lookers = dict(_lookers(maps, length))
    check_choice(looker, "looker", list(lookers))
    heads = maps["words"].shape[1]
    head_names = ["mean", *(str(h + 1) for h in range(heads))]
    check_choice(head, "head", head_names)
    layers = max(len(maps["patches"]), 1)
    check_int(layer, "layer", minimum=1)
    if layer > layers:
        raise ValueError(f"layer must be in [1, {layers}], got {layer}")
    tokens = [[vocab.index_to_token(int(i)) for i in row] for row in data["text"]]
    patch_size = data["image"].shape[-1] // round(maps["word_rollout"].shape[-1] ** 0.5)
    # The image encoder's rollout up to each layer, for a patch with "rollout" ticked.
    patch_rollouts = [attention_rollout(maps["patches"][:k + 1])
                      for k in range(len(maps["patches"]))]
    classes = getattr(model, "classes", None)

    def weights_of(sample, kind, index, head, layer, rollout):
        pick = (lambda w: w.mean(dim=0)) if head == "mean" else (lambda w: w[int(head) - 1])
        if kind == "word":
            if rollout:
                return maps["word_rollout"][sample, index]
            reads = pick(maps["words"][sample])[index]  # over the patches, or the queries
            if maps["queries"] is not None:
                reads = reads @ maps["queries"][sample].mean(dim=0)
            return reads
        if kind == "query":
            return (maps["query_rollout"][sample, index] if rollout
                    else pick(maps["queries"][sample])[index])
        if rollout:
            return patch_rollouts[layer - 1][sample, index]
        return pick(maps["patches"][layer - 1][sample])[index]

    controls = {
        "sample": widgets.IntSlider(value=sample, min=0, max=count - 1, description="question",
                                    style=SLIDER_STYLE),
        "looker": widgets.Dropdown(options=list(lookers), value=looker, description="who looks",
                                   style=SLIDER_STYLE),
        "head": widgets.Dropdown(options=head_names, value=head, description="head",
                                 style=SLIDER_STYLE),
        "layer": widgets.IntSlider(value=layer, min=1, max=layers, description="image layer",
                                   disabled=not maps["patches"], style=SLIDER_STYLE),
        "rollout": widgets.Checkbox(value=rollout, description="rollout"),
    }
    fig, ax = viz.new_figure(4.2, 4.0)
    mask = data.get("mask")
    kind, index = lookers[looker]
    first = weights_of(sample, kind, index, head, layer, rollout)
    plots = {"overlay": PatchAttentionOverlay(ax, data["image"][sample], first,
                                              None if mask is None else mask[sample])}

    def draw(sample, looker, head, layer, rollout):
        kind, index = lookers[looker]
        weights = weights_of(sample, kind, index, head, layer, rollout)
        named = None if mask is None else mask[sample]
        plots["overlay"].update(data["image"][sample], weights, named)
        words = " ".join(t for t, i in zip(tokens[sample], data["text"][sample], strict=True)
                         if int(i) != vocab.pad_index)
        said, truth = int(predicted[sample]), int(data["label"][sample])
        if classes is not None:
            said, truth = classes[said], classes[truth]
        label = (f"'{tokens[sample][index]}' (word {index + 1})" if kind == "word"
                 else looker)
        how = ("rollout (heads averaged)" if rollout
               else "heads averaged" if head == "mean" else f"head {head}")
        if kind == "patch":
            how += f", image layer {layer}" if not rollout else f", up to image layer {layer}"
        ax.set_title(f"“{words}?” model: {said} (truth: {truth})\n{label}, {how}", fontsize=9)
        status = f"{label}, {how}: top weight {float(weights.max()):.2f}"
        if named is not None and kind == "word":
            hit = bool(patch_pointing_game(weights[None].float(), named[None], patch_size)[0])
            status += f"; the top patch is {'on' if hit else 'off'} the object the question names"
        return status

    explorer = Explorer(controls, fig, plots, draw)
    explorer.model, explorer.data, explorer.vocab, explorer.maps = model, data, vocab, maps
    return explorer
