"""Lesson 13 explorer: a decoding stepper. Pick a scene and a prompt, step through the answer
one token at a time, and see what the model could have said next and where it looked."""

import ipywidgets as widgets
import torch

from mmkit import viz
from mmkit.checks import check_int
from mmkit.viz.vlm import CellsOverImage, TokenBars
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer

PROMPTS = ("describe the scene", "how many objects are there", "is there a red circle",
           "what colour is the square", "where is the blue triangle")
MAX_SCENES = 16
BARS = 8


def decoding_stepper(model=None, images=None, seed: int = 0, *, prompts=PROMPTS,
                     scene: int = 0, max_new_tokens: int = 20) -> Explorer:
    """Step through the greedy answer of a TinyVLM, token by token.

    model: a trained ``mmkit.vlm.TinyVLM`` whose vision encoder can say which cell each
        visual token comes from (SceneEncoder), with ``images`` (at most 16, (B, 3, H, W))
        to pick from; None trains a small one on Scenes in a few seconds
        (``mmkit.vlm.training.demo_vlm``; seeded, so always the same weights).
    prompts: the prompts to choose from (words the model knows).

    Every greedy answer is decoded once, when the explorer is built, with and without the
    image (``mmkit.vlm.decoding.decoding_traces``); a control then only redraws. Left: the
    scene, a white frame around each visual token's cell, thicker where the token being
    chosen attended more (last layer, mean of the heads).
    Right: the most probable next tokens after temperature, top-k and top-p
    (``next_token_probabilities``); orange, the token greedy decoding took. "blind" zeroes
    the visual tokens: what the language prior alone would say.
    """
    from mmkit.vlm.decoding import decode_text, decoding_traces, next_token_probabilities
    from mmkit.vlm.grounding import token_cells
    from mmkit.vlm.model import TinyVLM

    if model is None:
        from mmkit.vlm.training import demo_vlm

        model, default_images = demo_vlm(seed)
        images = default_images if images is None else images
    if not isinstance(model, TinyVLM):
        raise TypeError(f"model must be a mmkit.vlm.TinyVLM, got {type(model).__name__}")
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise TypeError("images must be a (B, 3, H, W) tensor of scenes")
    if len(images) > MAX_SCENES:
        raise ValueError(f"images holds {len(images)} scenes; pass at most {MAX_SCENES}")
    check_int(scene, "scene")
    if scene >= len(images):
        raise ValueError(f"scene must be in [0, {len(images) - 1}], got {scene}")
    prompts = list(prompts)
    traces = decoding_traces(model, images, prompts, max_new_tokens)
    device = next(model.parameters()).device
    with torch.no_grad():
        cells = token_cells(model, images.to(device)).cpu()
    grid, size = model.vision.grid, images.shape[-1]
    places = [[divmod(int(c), grid) for c in row] for row in cells]  # (row, column) per token
    words = [model.vocab.index_to_token(i) for i in range(len(model.vocab))]

    controls = {
        "scene": widgets.IntSlider(value=scene, min=0, max=len(images) - 1,
                                   description="scene", style=SLIDER_STYLE),
        "prompt": widgets.Dropdown(options=prompts, value=prompts[0], description="prompt",
                                   style=SLIDER_STYLE),
        "step": widgets.IntSlider(value=0, min=0, max=max_new_tokens - 1, description="step",
                                  style=SLIDER_STYLE),
        "temperature": widgets.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1,
                                           description="temperature", style=SLIDER_STYLE),
        "top_k": widgets.IntSlider(value=0, min=0, max=BARS, description="top-k (0: off)",
                                   style=SLIDER_STYLE),
        "top_p": widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05,
                                     description="top-p", style=SLIDER_STYLE),
        "blind": widgets.Checkbox(value=False, description="blind the image"),
    }
    fig, _ = viz.new_figure(7.6, 3.2, ncols=0)
    ax_image, ax_bars = fig.subplots(1, 2, width_ratios=[1.0, 1.3])
    plots = {"image": CellsOverImage(ax_image, images[scene], size // grid, model.n_visual),
             "bars": TokenBars(ax_bars, BARS)}
    viz.redraw_only(fig, [*plots["image"].moving(), *plots["bars"].moving()])

    def draw(scene, prompt, step, temperature, top_k, top_p, blind):
        trace = traces[prompt, blind]
        ids = trace["ids"][scene]
        length = int((ids != model.vocab.pad_index).sum())  # tokens up to and with <eos>
        step = min(step, length - 1)
        probabilities = next_token_probabilities(trace["logits"][scene, step], temperature,
                                                 top_k or None, top_p)
        top = probabilities.topk(BARS)
        chosen = words[int(ids[step])]
        shown = [(words[int(i)], float(p)) for p, i in zip(top.values, top.indices, strict=True)
                 if p > 0]
        plots["bars"].update([w for w, _ in shown], [p for _, p in shown], chosen)
        before = decode_text(model, ids[:step])
        plots["image"].update(images[scene], places[scene], trace["attention"][scene, step],
                              f"“{prompt}”\n→ {before} [{chosen}]".replace("  ", " "))
        p_chosen = float(probabilities[int(ids[step])])
        status = (f"step {step + 1} of {length}: greedy took '{chosen}'; sampling with these "
                  f"settings would take it with probability {p_chosen:.2f}")
        if step < controls["step"].value:
            status += " (the answer ended here)"
        return status + (" — image blinded" if blind else "")

    explorer = Explorer(controls, fig, plots, draw)
    explorer.model, explorer.images, explorer.traces = model, images, traces
    return explorer
