"""Lesson 04 explorer: the attention weights of a Transformer text encoder, per layer and head."""

import ipywidgets as widgets
import torch

from mmkit import viz
from mmkit.checks import check_int
from mmkit.viz.attention import AttentionHeatmap
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer


def _find_encoder(model):
    from mmkit.encoders.text import TransformerTextEncoder

    if isinstance(model, TransformerTextEncoder):
        return model
    if isinstance(model, torch.nn.Module):
        for module in model.modules():
            if isinstance(module, TransformerTextEncoder):
                return module
    raise TypeError(
        "model must be a TransformerTextEncoder or a model that contains one (e.g. "
        f"UnimodalClassifier(TransformerTextEncoder(...), 'text', ...)), got {type(model).__name__}"
    )


def attention_explorer(model=None, captions=None, vocab=None, seed: int = 0, *,
                       sample: int = 0, layer: int = 1, head: int = 1) -> Explorer:
    """Pick a caption, a layer and a head; see which words each word attends to.

    model: a TransformerTextEncoder, or a model containing one, with the ``vocab`` it was
        trained with; None trains a small one for about a second
        (``mmkit.demo_models.attention_model``; seeded, so always the same weights).
    captions: the texts to show; None takes 16 ShapesWorld captions the model never saw.
    sample, layer, head: what to show first (sample from 0; layer and head from 1).

    The weights are the encoder's own ``last_attention`` after one forward pass over all
    the captions (eval mode): a row of the heatmap is one query token's softmax over the
    caption's tokens, padding cut off.
    """
    from mmkit.demo_models import attention_captions, attention_model
    from mmkit.preprocess.text import Vocabulary, encode_batch

    if captions is not None and (
        isinstance(captions, str) or not isinstance(captions, (list, tuple)) or not captions
    ):
        raise TypeError(f"captions must be a non-empty list of strings, got {captions!r}")
    if model is None:
        model, vocab = attention_model(seed)
    elif not isinstance(vocab, Vocabulary):
        raise TypeError(
            "vocab must be the Vocabulary the model was trained with when a model is given, "
            f"got {type(vocab).__name__}"
        )
    encoder = _find_encoder(model)
    if captions is None:
        captions = attention_captions(16, seed)
    ids, lengths, _ = encode_batch(vocab, list(captions))
    ids = ids.to(next(encoder.parameters()).device)

    was_training = model.training
    model.eval()
    with torch.no_grad():
        encoder(ids)
        logits = model({"text": ids}) if encoder is not model else None
    model.train(was_training)
    attention = [w.cpu() for w in encoder.last_attention]  # kept: the widget only slices
    tokens = [[vocab.index_to_token(int(i)) for i in row[:n]] for row, n in
              zip(ids.cpu(), lengths.tolist(), strict=True)]
    layers, heads = len(attention), attention[0].shape[1]
    classes = getattr(model, "classes", None)
    for value, name, top in ((sample, "sample", len(captions) - 1), (layer, "layer", layers),
                             (head, "head", heads)):
        low = 0 if name == "sample" else 1
        check_int(value, name, minimum=low)
        if value > top:
            raise ValueError(f"{name} must be in [{low}, {top}], got {value}")

    controls = {
        "sample": widgets.IntSlider(value=sample, min=0, max=len(captions) - 1, description="caption",
                                    style=SLIDER_STYLE),
        "layer": widgets.IntSlider(value=layer, min=1, max=layers, description="layer",
                                   style=SLIDER_STYLE),
        "head": widgets.IntSlider(value=head, min=1, max=heads, description="head",
                                  style=SLIDER_STYLE),
    }
    fig, ax = viz.new_figure(5.2, 4.3)
    n0 = len(tokens[sample])
    first = attention[layer - 1][sample, head - 1, :n0, :n0].numpy()
    plots = {"attention": AttentionHeatmap(ax, first, tokens[sample])}

    def draw(sample, layer, head):  # layer and head count from 1, as the labels do
        words, n = tokens[sample], len(tokens[sample])
        weights = attention[layer - 1][sample, head - 1, :n, :n]
        plots["attention"].update(weights.numpy(), words)
        ax.set_title(f"“{captions[sample]}” · layer {layer}, head {head}", fontsize=9)
        # The key that receives the most attention overall, summed over the queries.
        focus = words[int(weights.sum(0).argmax())]
        row, col = divmod(int(weights.argmax()), n)
        status = (f"most attended word: '{focus}'; strongest link: '{words[row]}' → "
                  f"'{words[col]}' ({float(weights[row, col]):.2f})")
        if logits is not None and classes is not None:
            status += f"; the model predicts '{classes[int(logits[sample].argmax())]}'"
        return status

    explorer = Explorer(controls, fig, plots, draw)
    explorer.encoder = encoder  # whose last_attention the heatmap shows
    return explorer
