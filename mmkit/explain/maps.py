"""What a model computes on the way: feature maps of its image encoder, attention weights of
its Transformer encoders and of its fusion (可视化特征图, 注意力权重).

These are the article's first two ways to look inside a model. They show what the model
*computed*, not what *caused* its answer: a bright channel or a strong attention weight
may still count for nothing in the final score (lesson 10 measures that with attributions).
"""

import torch
from torch import nn

from mmkit.explain.checks import classifier_encoders, forward_in_eval, model_inputs


def _image_encoder(model: nn.Module) -> nn.Module:
    from mmkit.models import MultimodalClassifier, UnimodalClassifier

    if not isinstance(model, (MultimodalClassifier, UnimodalClassifier)):
        return model  # an image module itself (an ImageCNN, a torchvision backbone)
    encoders = classifier_encoders(model)
    if "image" not in encoders:
        raise ValueError(f"the model has no 'image' encoder; it encodes {list(encoders)}")
    return encoders["image"]


def feature_maps(model: nn.Module, x: torch.Tensor, layers=None) -> dict[str, torch.Tensor]:
    """The maps the image encoder's layers produce for images ``x``: {layer: (N, C, h, w)}.

    model: an image module (an ImageCNN...) or a classifier, whose "image" encoder is used.
    layers: layer names as ``torchvision.models.feature_extraction.get_graph_node_names``
        lists them (e.g. "features.relu1"); None: every layer whose output is a 4-D map.
    Same as ``mmkit.encoders.image.feature_maps`` (lesson 03), which does the work.
    """
    from mmkit.encoders.image import feature_maps as encoder_feature_maps

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return encoder_feature_maps(_image_encoder(model), x, layers)


def attention_maps(model: nn.Module, batch: dict) -> dict:
    """Every attention weight the model computes for ``batch``, after one forward pass.

    Returns a dict with
      - for each encoder that keeps attention (``TransformerTextEncoder.last_attention``),
        its modality -> a list over layers of (B, heads, L, L) weights: row i of a head says
        how much token i looked at each token;
      - "fusion" -> (B, n_modalities) weights of a fusion that weighs modalities
        (``.last_weights`` of WeightedFusion, AttentionFusion, LateFusion, GatedFusion), in
        the fusion's modality order (``model.fusion.modalities``); absent for a fusion that
        does not weigh them (ConcatFusion, TensorFusion).
    Runs in eval mode without gradients; the tensors are returned on the CPU.
    """
    inputs, encoders, _ = model_inputs(model, batch)
    forward_in_eval(model, inputs)
    maps = {}
    for m, encoder in encoders.items():
        layers = getattr(encoder, "last_attention", None)
        if layers:
            maps[m] = [weights.cpu() for weights in layers]
    weights = getattr(getattr(model, "fusion", None), "last_weights", None)
    if weights is not None:
        maps["fusion"] = weights.cpu()
    return maps
