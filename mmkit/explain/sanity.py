"""Sanity checks an explanation must pass, and the trivial maps it must beat.

Baselines for the pointing game (a heat map is only evidence if it beats maps that know
nothing about the model):
    random_maps       uniform noise
    brightness_map    the image's own brightness: "look where it is bright"
    edge_map          the size of the brightness gradient (Sobel): "look where it changes"

The model-parameter randomisation test of Adebayo et al. (2018): re-initialise the model's
layers and see whether the explanation changes.
    parameter_layers  the model's layers with weights, in the order the forward pass runs them
    randomise_layers  a copy with some layers re-initialised, the rest as trained
    cascading_randomisation    from the top (the output layer) down, one more layer each step
    independent_randomisation  one layer at a time, the others as trained
Similarity of two maps: ``rank_correlation`` (Spearman, in ground_truth.py; with or without
the sign, on all pixels or on a mask) and ``ssim`` (structural similarity).
"""

import copy

import torch
from torch import nn

from mmkit.checks import check_int, check_tensor


def random_maps(shape, seed: int = 0) -> torch.Tensor:
    """Uniform noise of ``shape`` (B, H, W), seeded: the chance level of a pointing game."""
    generator = torch.Generator().manual_seed(check_int(seed, "seed"))
    return torch.rand(tuple(shape), generator=generator)


def brightness_map(images: torch.Tensor) -> torch.Tensor:
    """(B, H, W): each pixel's mean over the colour channels — a map that points at
    whatever is bright, object or not."""
    check_tensor(images, "images", floating=True, ndim=4)
    return images.detach().mean(dim=1).cpu()


def edge_map(images: torch.Tensor) -> torch.Tensor:
    """(B, H, W): the magnitude of the brightness gradient by the Sobel filter (edges copied
    at the border) — a map that points at outlines, object or not."""
    grey = brightness_map(images)[:, None].double()
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
                         dtype=torch.float64)
    padded = nn.functional.pad(grey, (1, 1, 1, 1), mode="replicate")
    gx = nn.functional.conv2d(padded, sobel.view(1, 1, 3, 3))
    gy = nn.functional.conv2d(padded, sobel.T.reshape(1, 1, 3, 3))
    return torch.sqrt(gx**2 + gy**2)[:, 0].float()


def parameter_layers(model: nn.Module, batch: dict) -> list[str]:
    """Names of the model's modules that hold their own weights (a Linear, a Conv2d, an
    Embedding...), in the order one forward pass on ``batch`` runs them."""
    from mmkit.explain.checks import forward_in_eval, model_inputs

    inputs, _, _ = model_inputs(model, batch)
    order, hooks = [], []
    for name, module in model.named_modules():
        if any(True for _ in module.parameters(recurse=False)):
            hooks.append(module.register_forward_hook(
                lambda m, args, out, name=name: order.append(name) if name not in order else None))
    try:
        forward_in_eval(model, inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return order


def randomise_layers(model: nn.Module, names, seed: int = 1) -> nn.Module:
    """A deep copy of ``model`` whose layers ``names`` draw fresh weights (their own
    initialisation, ``reset_parameters``), seeded; every other weight stays as trained."""
    if isinstance(names, str):
        names = [names]
    check_int(seed, "seed")
    copied = copy.deepcopy(model)
    modules = dict(copied.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise ValueError(f"the model has no layer {unknown[0]!r}; its layers with weights are "
                         f"{[n for n, m in modules.items() if any(True for _ in m.parameters(recurse=False))]}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name in names:
            module = modules[name]
            if not hasattr(module, "reset_parameters"):
                raise ValueError(f"layer {name!r} ({type(module).__name__}) cannot be "
                                 "re-initialised: it has no reset_parameters")
            module.reset_parameters()
    return copied.train(model.training)


def cascading_randomisation(model: nn.Module, batch: dict, seed: int = 1) -> list:
    """[(layer, model)]: the output layer re-initialised, then it and the layer below, and so
    on down to the first layer (Adebayo et al.'s cascading randomisation)."""
    layers = parameter_layers(model, batch)[::-1]  # top first
    return [(name, randomise_layers(model, layers[: k + 1], seed)) for k, name in enumerate(layers)]


def independent_randomisation(model: nn.Module, batch: dict, seed: int = 1) -> list:
    """[(layer, model)]: one layer re-initialised at a time, top first; the rest as trained."""
    layers = parameter_layers(model, batch)[::-1]
    return [(name, randomise_layers(model, [name], seed)) for name in layers]


def _unit_range(maps: torch.Tensor) -> torch.Tensor:
    low = maps.flatten(1).min(dim=1).values[:, None, None]
    high = maps.flatten(1).max(dim=1).values[:, None, None]
    return (maps - low) / (high - low).clamp_min(1e-12)


def ssim(a: torch.Tensor, b: torch.Tensor, win_size: int = 7) -> torch.Tensor:
    """(B,) structural similarity of each pair of maps (B, H, W), each first scaled to
    [0, 1] (min to max): the mean over every win_size x win_size window inside the map of
    (2 μa μb + C1)(2 σab + C2) / ((μa² + μb² + C1)(σa² + σb² + C2)), C1 = 0.01², C2 = 0.03²,
    with sample (co)variances — as scikit-image's ``structural_similarity(a, b,
    data_range=1)``. 1: the same picture; near 0: unrelated.
    """
    check_tensor(a, "a", floating=True, ndim=3)
    check_tensor(b, "b", floating=True, ndim=3)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    check_int(win_size, "win_size", minimum=3)
    if win_size > min(a.shape[1:]):
        raise ValueError(f"win_size={win_size} is larger than the maps ({tuple(a.shape[1:])})")
    x, y = (_unit_range(m.detach().cpu().double())[:, None] for m in (a, b))

    def mean(t):  # the mean of every window that fits inside the map
        return nn.functional.avg_pool2d(t, win_size, stride=1)

    n = win_size * win_size
    ux, uy = mean(x), mean(y)
    vx = (mean(x * x) - ux * ux) * n / (n - 1)
    vy = (mean(y * y) - uy * uy) * n / (n - 1)
    vxy = (mean(x * y) - ux * uy) * n / (n - 1)
    c1, c2 = 0.01**2, 0.03**2
    s = (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(dim=1).float()
