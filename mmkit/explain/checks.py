"""Input checks shared by the explanation functions: the model, the batch, the method, the target.

Every explanation starts the same way: is this a classifier the kit knows, does the batch
hold what its encoders read, are the batch sizes equal, is the target a class it has? The
answers are here, once, so each error reads the same wherever it is raised.
"""

import torch
from torch import nn

from mmkit.checks import check_tensor


def classifier_encoders(model) -> dict[str, nn.Module]:
    """{modality: encoder} of a MultimodalClassifier (or a UnimodalClassifier), in the
    model's own order, which is the order of every per-modality output in mmkit.explain."""
    from mmkit.models import MultimodalClassifier, UnimodalClassifier

    if isinstance(model, MultimodalClassifier):
        return dict(model.encoders.items())
    if isinstance(model, UnimodalClassifier):
        return {model.modality: model.encoder}
    raise TypeError(
        "model must be a mmkit.models.MultimodalClassifier (or UnimodalClassifier): the "
        "explanations read its encoders to know each modality; got "
        f"{type(model).__name__}"
    )


def is_token_modality(encoder: nn.Module) -> bool:
    """Text encoders read integer ids through an ``embedding`` layer: gradients cannot flow
    to integers, so gradient methods attribute to that layer's output instead."""
    return isinstance(getattr(encoder, "embedding", None), nn.Embedding)


def padding_index(encoder: nn.Module) -> int:
    return int(getattr(encoder, "padding_idx", 0))


def check_method(method, known) -> str:
    if method not in known:
        raise ValueError(
            f"unknown method {method!r}; the known methods are {', '.join(known)}"
        )
    return method


def check_batch(model, batch) -> tuple[dict, int]:
    """Check ``batch`` against ``model``; return (its encoders, the batch size).

    The batch must hold every modality the model encodes, as tensors with one row per
    sample: images (B, C, H, W) float, token ids (B, L) int.
    """
    encoders = classifier_encoders(model)
    if not isinstance(batch, dict):
        raise TypeError(f"batch must be a dict {{modality: tensor}}, got {type(batch).__name__}")
    missing = [m for m in encoders if m not in batch]
    if missing:
        raise ValueError(
            f"the batch has no {missing[0]!r}, which the model needs (it encodes "
            f"{list(encoders)}); the batch has {sorted(batch)}"
        )
    sizes = {}
    for m, encoder in encoders.items():
        x = batch[m]
        if is_token_modality(encoder):
            if isinstance(x, (list, tuple)):
                raise TypeError(
                    f"batch[{m!r}] must be token ids (B, L) int64, got a list of "
                    f"{type(x[0]).__name__ if x else 'nothing'}; encode the captions first "
                    "(mmkit.preprocess.text.encode_batch)"
                )
            check_tensor(x, f"batch[{m!r}]", floating=False, min_ndim=2)
        else:
            check_tensor(x, f"batch[{m!r}]", floating=True, min_ndim=2)
        sizes[m] = x.shape[0]
    for key in (f"{m}_present" for m in encoders):
        if key in batch:
            sizes[key] = len(batch[key])
    if len(set(sizes.values())) != 1:
        raise ValueError(f"the batch sizes differ: {sizes}; every entry needs one row per sample")
    return encoders, next(iter(sizes.values()))


def model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def model_inputs(model, batch) -> tuple[dict, dict, int]:
    """The checked batch, cut to what the model reads (modalities and their present flags)
    and moved to the model's device; with the encoders and the batch size."""
    encoders, size = check_batch(model, batch)
    device = model_device(model)
    keys = [*encoders, *(f"{m}_present" for m in encoders if f"{m}_present" in batch)]
    return {key: torch.as_tensor(batch[key]).to(device) for key in keys}, encoders, size


def forward_in_eval(model, inputs):
    """One forward pass in eval mode (dropout off) without gradients, for reading what the
    model computes; the model's own mode is restored afterwards, even on an error."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(inputs)
    finally:
        model.train(was_training)


def resolve_target(logits: torch.Tensor, target) -> torch.Tensor:
    """The class to explain per sample, (B,) int64: the predicted class when target is None,
    else one int for every sample or one per sample; each must be a class of the model."""
    size, classes = logits.shape
    if target is None:
        return logits.argmax(dim=1)
    if isinstance(target, bool) or not isinstance(target, (int, torch.Tensor, list, tuple)):
        raise TypeError(f"target must be None, an int or (B,) class indices, got {target!r}")
    target = torch.as_tensor(target, device=logits.device)
    if target.is_floating_point():
        raise TypeError(f"target must hold integer class indices, got {target.dtype}")
    target = target.long().reshape(-1)
    if target.numel() == 1:
        target = target.expand(size)
    if target.numel() != size:
        raise ValueError(
            f"target must be one class or one per sample ({size}), got {target.numel()}"
        )
    if target.min() < 0 or target.max() >= classes:
        raise ValueError(
            f"target must be a class index in [0, {classes}) (the model has {classes} classes), "
            f"got values in [{int(target.min())}, {int(target.max())}]"
        )
    return target.clone()
