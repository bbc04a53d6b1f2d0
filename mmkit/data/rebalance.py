"""Imbalanced classes (数据不平衡): class weights, random oversampling, minority augmentation.

Three ways to stop a model from simply predicting the majority class:

- ``class_weights``: keep the data, but make a mistake on a rare class cost more in the
  loss (``mmkit.train.fit(..., class_weights=...)``).
- ``oversample``: repeat minority samples, drawn at random, until every class is as common
  as the largest one. The same pictures come back again and again.
- ``augment_minority``: the same, but every repeated image is changed a little (mirrored,
  noise added), so the model sees new pictures of the rare class, not copies.

All three work on a dict of tensors with a "label" entry (``mmkit.data.to_tensors``) and
never touch the validation or test data: those keep the real class proportions.
"""

import numpy as np
import torch

from mmkit.checks import check_int, check_positive
from mmkit.data.tensors import take_rows


def _as_labels(labels, name: str = "labels") -> torch.Tensor:
    """Labels as a 1-D int64 tensor of class indices >= 0, from a tensor, list or array."""
    if isinstance(labels, torch.Tensor):
        tensor = labels
    elif isinstance(labels, (list, tuple, np.ndarray)):
        array = np.asarray(labels)
        if array.size == 0:
            raise ValueError(f"{name} is empty; pass at least one label")
        if array.dtype == object or array.dtype.kind not in "iub":
            raise TypeError(f"{name} must hold integer class indices, got dtype {array.dtype}")
        tensor = torch.from_numpy(array.astype(np.int64))
    else:
        raise TypeError(
            f"{name} must be a tensor, list or numpy array of class indices, "
            f"got {type(labels).__name__}"
        )
    if tensor.is_floating_point() or tensor.is_complex():
        raise TypeError(f"{name} must hold integer class indices, got {tensor.dtype} (use .long())")
    if tensor.dim() != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        raise ValueError(f"{name} is empty; pass at least one label")
    tensor = tensor.long().cpu()
    if int(tensor.min()) < 0:
        raise ValueError(f"{name} must be class indices >= 0, got {int(tensor.min())}")
    return tensor


def class_weights(labels, num_classes: int | None = None) -> torch.Tensor:
    """Inverse-frequency class weights, (num_classes,) float32:

        w_c = N / (C * n_c)      N samples, C classes, n_c samples of class c

    so every class contributes the same total weight, N / C, to the loss, and a balanced
    set gets weights of exactly 1. The same as scikit-learn's
    ``compute_class_weight("balanced", classes=np.arange(C), y=labels)``.

    num_classes: C; None takes max(labels) + 1. A class with no sample would get an
    infinite weight, so it is an error (as in scikit-learn).
    """
    labels = _as_labels(labels)
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    if int(labels.max()) >= num_classes:
        raise ValueError(
            f"labels holds class {int(labels.max())}, but num_classes={num_classes} "
            f"allows only 0..{num_classes - 1}"
        )
    counts = torch.bincount(labels, minlength=num_classes)
    empty = (counts == 0).nonzero().flatten().tolist()
    if empty:
        raise ValueError(
            f"class(es) {empty} have no sample in labels: their weight N / (C * 0) would be "
            "infinite; drop them from num_classes or gather samples of them"
        )
    return (len(labels) / (num_classes * counts.double())).float()


def oversample_indices(labels, seed: int = 0) -> torch.Tensor:
    """Row indices that balance the classes by random oversampling (with replacement).

    Every row appears once, in order; then, for each class smaller than the largest one,
    (largest count - its count) extra rows of that class are drawn at random with
    replacement and appended. Seeded: the same seed gives the same indices.
    """
    labels = _as_labels(labels)
    seed = check_int(seed, "seed")
    generator = torch.Generator().manual_seed(seed)
    counts = torch.bincount(labels)
    extra = []
    for c, count in enumerate(counts.tolist()):
        missing = int(counts.max()) - count
        if count == 0 or missing == 0:
            continue
        rows = (labels == c).nonzero().flatten()
        extra.append(rows[torch.randint(count, (missing,), generator=generator)])
    return torch.cat([torch.arange(len(labels)), *extra])


def _check_data(data, name: str = "data") -> torch.Tensor:
    if not isinstance(data, dict):
        raise TypeError(f"{name} must be a dict of tensors with a 'label' entry, "
                        f"got {type(data).__name__}")
    if "label" not in data:
        raise ValueError(f"{name} has no 'label' entry (it has {sorted(data)})")
    labels = _as_labels(data["label"], f"{name}['label']")
    sizes = {key: len(value) for key, value in data.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every entry of {name} must have the same number of rows, got {sizes}")
    return labels


def oversample(data: dict, seed: int = 0) -> dict:
    """``data`` with minority rows repeated at random until every class is as large as the
    largest (``oversample_indices``). Use it on the training set only."""
    labels = _check_data(data)
    return take_rows(data, oversample_indices(labels, seed))


def augment_minority(data: dict, modality: str = "image", *, noise: float = 0.05,
                     flip: bool = True, seed: int = 0) -> dict:
    """Balance the classes like ``oversample``, but change every added image a little.

    Each extra row is a random minority sample whose ``modality`` (images (N, C, H, W) in
    [0, 1]) is mirrored left-right with probability 1/2 (when ``flip``) and gets Gaussian
    noise of std ``noise``, clipped back to [0, 1]. The original rows come first,
    unchanged; other entries (text, labels) are copied as they are.

    A mirror keeps the label only if the label does not care about sides: fine for shape,
    colour or size, wrong for "moving left" (see ``mmkit.preprocess.image.hflip_caption``).
    """
    labels = _check_data(data)
    if modality not in data:
        raise ValueError(f"modality {modality!r} is not in data; it has {sorted(data)}")
    images = data[modality]
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() or images.dim() != 4:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"data[{modality!r}] must be float images (N, C, H, W) in [0, 1], got {got}")
    noise = check_positive(noise, "noise", allow_zero=True)
    index = oversample_indices(labels, seed)
    out = take_rows(data, index)
    n = len(labels)
    added = out[modality][n:]  # a fresh copy (indexing copies), safe to change
    generator = torch.Generator().manual_seed(check_int(seed, "seed") + 1)
    if flip and len(added):
        mirrored = (torch.rand(len(added), generator=generator) < 0.5).to(added.device)
        added[mirrored] = added[mirrored].flip(-1)
    if noise > 0 and len(added):
        added = added + noise * torch.randn(added.shape, generator=generator).to(added)
    out[modality] = torch.cat([out[modality][:n], added.clamp(0, 1)])
    return out
