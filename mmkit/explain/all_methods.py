"""Every attribution method's explanation of every sample, computed once: what an explorer
shows when a learner flips between methods (flipping then only redraws)."""

import torch

from mmkit.explain.attributions import METHODS, image_attribution, token_attribution
from mmkit.explain.modality import modality_attribution


def explain_all(model, data: dict, methods=None, *, patch: int | None = None, **options) -> dict:
    """{method: {"image": (N, H, W), "text": (N, L), "modality": (N, M)}} for an image +
    text model. Grad-CAM explains the image only: zeros stand in for its word and modality
    scores. ``patch``: the side of the squares the perturbation methods remove from the
    image (``image_attribution``'s default when None); ``options`` go to every method (e.g.
    n_samples, n_steps)."""
    methods = METHODS if methods is None else list(methods)
    for method in methods:
        if method not in METHODS:
            raise ValueError(f"methods must be among {', '.join(METHODS)}, got {method!r}")
    if not isinstance(data, dict) or not {"image", "text"} <= data.keys():
        raise TypeError("data must be a dict with 'image' and 'text' entries")
    batch = {m: data[m] for m in ("image", "text")}
    results = {}
    for method in methods:
        image = image_attribution(model, batch, method, patch=patch, **options)
        if method == "grad_cam":
            text = torch.zeros(batch["text"].shape)
            modality = torch.zeros(len(image), 2)
        else:
            text = token_attribution(model, batch, method, **options)
            modality = modality_attribution(model, batch, method, **options)
        results[method] = {"image": image, "text": text, "modality": modality}
    return results
