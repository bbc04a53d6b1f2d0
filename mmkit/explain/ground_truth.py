"""Checking explanations against the truth ShapesWorld keeps, and a sanity check without it.

- The pointing game (Zhang et al., 2016): does the peak of an image heat map fall on the
  object? ShapesWorld keeps each shape's pixel mask, so a hit is a fact, not an opinion.
- Modality ranking: on a task where only one modality carries the label, does the method
  rank that modality first?
- The randomisation test (Adebayo et al., 2018): explain the trained model and the same
  architecture with fresh random weights. A method whose two pictures agree (a high rank
  correlation) shows the input, not what the model learned.
"""

import copy

import numpy as np
import torch
from torch import nn

from mmkit.checks import check_int, check_positive, check_tensor

CARRIERS = ("image", "text")


def peak_positions(maps: torch.Tensor) -> torch.Tensor:
    """(B, 2) (row, column) of each map's peak; NaN for a flat map (it points nowhere).

    Where several pixels share the largest value — a perturbation map is constant over each
    square it removed — the peak is their centre, e.g. the middle of the top square.
    """
    check_tensor(maps, "maps", floating=True, ndim=3)
    flat = maps.flatten(1)
    top = flat.max(dim=1, keepdim=True).values
    at_top = (flat == top).reshape(maps.shape).float()
    rows = torch.arange(maps.shape[1], dtype=torch.float32, device=maps.device)
    cols = torch.arange(maps.shape[2], dtype=torch.float32, device=maps.device)
    count = at_top.sum(dim=(1, 2))
    peak = torch.stack([(at_top.sum(2) * rows).sum(1) / count,
                        (at_top.sum(1) * cols).sum(1) / count], dim=1)
    flat_map = flat.min(dim=1).values == top[:, 0]
    return peak.masked_fill(flat_map[:, None], float("nan"))


def pointing_game(maps: torch.Tensor, masks: torch.Tensor, tolerance: float = 1) -> torch.Tensor:
    """(B,) bool: is each map's peak within ``tolerance`` pixels of its mask?

    maps (B, H, W) heat maps, larger = more important; masks (B, H, W) bool, True on the
    object. A hit: some mask pixel (i, j) has |i - row| <= tolerance and |j - col| <=
    tolerance, (row, col) the peak (``peak_positions``). The original pointing game allows
    15 pixels on 224-pixel photos, about 7 % of the side; on 32-pixel scenes we allow 1
    pixel, about 3 %. A flat map is a miss.
    """
    check_tensor(masks, "masks", ndim=3)
    if masks.dtype != torch.bool:
        raise TypeError(f"masks must be a bool tensor (True on the object), got {masks.dtype}")
    if maps.shape != masks.shape:
        raise ValueError(f"maps and masks must have the same shape (B, H, W), got "
                         f"{tuple(maps.shape)} and {tuple(masks.shape)}")
    tolerance = check_positive(tolerance, "tolerance", allow_zero=True)
    peak = peak_positions(maps).to(masks.device)
    rows = torch.arange(masks.shape[1], device=masks.device)[None, :, None]
    cols = torch.arange(masks.shape[2], device=masks.device)[None, None, :]
    near = ((rows - peak[:, 0, None, None]).abs() <= tolerance) & (
        (cols - peak[:, 1, None, None]).abs() <= tolerance)  # NaN compares False: a miss
    return (near & masks).flatten(1).any(dim=1)


def ranks_first(scores: torch.Tensor, carrier: int) -> torch.Tensor:
    """(B,) bool: does modality column ``carrier`` get the largest score in each row?
    A tie for the top is not a win: a method that cannot tell the modalities apart has not
    ranked the carrier first."""
    check_tensor(scores, "scores", floating=True, ndim=2)
    check_int(carrier, "carrier")
    if carrier >= scores.shape[1]:
        raise ValueError(f"carrier must be a column of scores, in [0, {scores.shape[1]}), "
                         f"got {carrier}")
    others = torch.cat([scores[:, :carrier], scores[:, carrier + 1:]], dim=1)
    return scores[:, carrier] > others.max(dim=1).values


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of each row, ties given their mean rank (as scipy.stats.rankdata)."""
    ranks = np.empty_like(x, dtype=float)
    for i, row in enumerate(x):
        order = np.argsort(row, kind="stable")
        sorted_row = row[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_row)) + 1]
        ends = np.r_[starts[1:], len(row)]
        mean_rank = (starts + ends + 1) / 2  # ranks start + 1 ... end, averaged
        ranks[i, order] = np.repeat(mean_rank, ends - starts)
    return ranks


def _spearman_rows(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    ra = ra - ra.mean(axis=1, keepdims=True)
    rb = rb - rb.mean(axis=1, keepdims=True)
    norm = np.sqrt((ra**2).sum(1) * (rb**2).sum(1))
    safe = np.where(norm > 0, norm, 1.0)
    return np.where(norm > 0, (ra * rb).sum(1) / safe, 0.0)


def rank_correlation(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B,) Spearman rank correlation between each pair of maps a[i], b[i] (any shape per
    sample): the Pearson correlation of their ranks. 1: the same order; 0: unrelated. A
    constant map has no order; its correlation is 0.

    mask: None (every element), or bool of the maps' shape: only the elements where it is
    True count — e.g. an object's pixels, so that a background both maps leave at 0 cannot
    make them look alike. A row with fewer than 2 such elements gives 0.
    """
    check_tensor(a, "a", floating=True, min_ndim=2)
    check_tensor(b, "b", floating=True, min_ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    fa = a.detach().cpu().flatten(1).double().numpy()
    fb = b.detach().cpu().flatten(1).double().numpy()
    if mask is None:
        return torch.from_numpy(_spearman_rows(_average_ranks(fa), _average_ranks(fb))).float()
    check_tensor(mask, "mask", ndim=a.dim())
    if mask.dtype != torch.bool or mask.shape != a.shape:
        raise ValueError(f"mask must be a bool tensor of the maps' shape {tuple(a.shape)}, got "
                         f"{mask.dtype} {tuple(mask.shape)}")
    keep = mask.detach().cpu().flatten(1).numpy()
    out = np.zeros(len(fa))
    for i, row in enumerate(keep):
        if row.sum() >= 2:
            out[i] = _spearman_rows(_average_ranks(fa[i:i + 1, row]), _average_ranks(fb[i:i + 1, row]))[0]
    return torch.from_numpy(out).float()


def randomised_copy(model: nn.Module, seed: int = 1) -> nn.Module:
    """The same architecture with fresh random weights: a deep copy in which every layer
    that can (``reset_parameters``) draws new ones, from ``seed``. The original is untouched,
    and so is the global random state. Pick a seed other than the one the model was built
    with: the same seed could draw its initial weights again."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_int(seed, "seed")
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    # Drawn on the CPU, so a seed gives the same weights on any device (a GPU has its own
    # random stream), and then moved to the model's device.
    copied = copy.deepcopy(model).cpu()
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)  # the CPU's alone, not the GPU's
        for module in copied.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
            if hasattr(module, "logits") and isinstance(module.logits, nn.Parameter):
                nn.init.normal_(module.logits)  # WeightedFusion's own weights
    return copied.to(device).train(model.training)


def randomisation_test(model: nn.Module, batch: dict, method: str, seed: int = 1,
                       **options) -> torch.Tensor:
    """(B,) rank correlation between the image maps of ``model`` and of
    ``randomised_copy(model, seed)``, both explaining the class ``model`` predicts.

    The maps are compared in magnitude (|map|), as a heat map is read: "how important",
    whatever the sign. A method passes if the correlation is low: its picture changed when
    what the model learned was thrown away. ``options`` go to ``image_attribution``.
    """
    from mmkit.explain.attributions import image_attribution
    from mmkit.explain.checks import forward_in_eval, model_inputs

    inputs, _, _ = model_inputs(model, batch)
    predicted = forward_in_eval(model, inputs).argmax(dim=1)
    trained = image_attribution(model, batch, method, target=predicted, **options)
    random = image_attribution(randomised_copy(model, seed), batch, method, target=predicted,
                               **options)
    return rank_correlation(trained.abs(), random.abs())


def shapes_world_truth(carrier: str = "image", n: int = 200, seed: int = 0,
                       image_size: int = 32, image_noise: float = 0.0, image_task: str = "shape",
                       **scenery) -> dict:
    """ShapesWorld scenes (image + caption) where exactly one modality carries the label.

    carrier="image": the task is ``image_task`` (the shape by default, or the colour or
        the size), and each image is paired with *another* scene's caption (a seeded
        shuffle), so the caption says nothing about the label.
    carrier="text": the task is the direction of motion, which a still image cannot show;
        only the caption names it.
    image_noise: the std of Gaussian pixel noise; 0 leaves the background exactly black,
        the baseline of the attribution methods.
    scenery: ShapesWorld's background= (background_level=) and distractors=
        (distractor_colour=): a textured background and shapes the label is not about, so
        that "anything bright" is no longer the object ("distractor_mask" is returned too).
    Returns tensors: "image" (n, 3, H, W), "text" ids (n, L) over ``ShapesWorld.words``,
    "label" (n,), "mask" (n, H, W) bool, the shape's pixels; and "captions" (list of str),
    "vocab" (a Vocabulary, the same for every call), "classes", "carrier".
    """
    from mmkit.data import ShapesWorld, to_tensors
    from mmkit.preprocess.text import Vocabulary, encode_batch

    if carrier not in CARRIERS:
        raise ValueError(f"carrier must be one of {CARRIERS}, got {carrier!r}")
    if image_task not in ("shape", "colour", "size"):
        raise ValueError(f"image_task must be 'shape', 'colour' or 'size', got {image_task!r}")
    task = image_task if carrier == "image" else "direction"
    world = ShapesWorld(n=check_int(n, "n", minimum=1), seed=seed, task=task,
                        image_size=image_size, modalities=("image", "text"),
                        noise={"image": image_noise}, **scenery)
    keys = ("image", "text", "label", "mask") + (("distractor_mask",) if
                                                 scenery.get("distractors") else ())
    data = to_tensors(world, keys=keys)
    captions = list(data["text"])
    if carrier == "image":
        order = np.random.default_rng([seed, 10]).permutation(n)
        captions = [captions[i] for i in order]
    vocab = Vocabulary(["<pad>", "<unk>", *ShapesWorld.words])
    ids, _, _ = encode_batch(vocab, captions)
    out = {"image": data["image"], "text": ids, "label": data["label"], "mask": data["mask"],
           "captions": captions, "vocab": vocab, "classes": world.classes, "carrier": carrier}
    if "distractor_mask" in data:
        out["distractor_mask"] = data["distractor_mask"]
    return out
