"""Render a dataset once into stacked tensors, so that training epochs cost no re-rendering."""

import torch

from mmkit.checks import check_int


def to_tensors(dataset, keys=("image", "label"), progress: bool = False, limit: int | None = None):
    """Read every sample once and stack each key: returns {key: Tensor with N rows}.

    Tensors are stacked (N, ...), numbers become a 1-D tensor (labels int64), anything else
    (captions, attribute dicts) stays a list. Memory is allocated once per key from the
    first sample's shape, so a large video set is not held twice. For samples whose
    modalities may be missing, use ``mmkit.data.collate``, which fills and flags them.
    """
    if isinstance(keys, str):
        keys = (keys,)
    n = len(dataset) if limit is None else min(check_int(limit, "limit", minimum=1), len(dataset))
    if n == 0:
        raise ValueError("dataset is empty: nothing to stack")
    indices = range(n)
    if progress:
        from tqdm.auto import tqdm

        indices = tqdm(indices, desc="rendering", leave=False)

    out: dict = {}
    for i in indices:
        sample = dataset[i]
        for key in keys:
            if key not in sample:
                raise ValueError(
                    f"sample {i} has no {key!r} (it has {sorted(sample)}); a missing modality? "
                    "use mmkit.data.collate, which fills and flags it"
                )
            value = sample[key]
            if i == 0:  # allocate once, from the first sample
                if isinstance(value, torch.Tensor):
                    out[key] = torch.empty((n, *value.shape), dtype=value.dtype)
                elif isinstance(value, (bool, int, float)):
                    dtype = torch.int64 if isinstance(value, int) else torch.float32
                    out[key] = torch.empty(n, dtype=dtype)
                else:
                    out[key] = [None] * n
            if isinstance(out[key], torch.Tensor) and isinstance(value, torch.Tensor):
                if value.shape != out[key].shape[1:]:
                    raise ValueError(
                        f"sample {i}'s {key!r} has shape {tuple(value.shape)}, but sample 0's "
                        f"is {tuple(out[key].shape[1:])}: they cannot be stacked"
                    )
            out[key][i] = value
    return out


def count_rows(data, name: str = "data", *, labels: bool = True) -> int:
    """Check that ``data`` is a dict of tensors (or lists) with one row per sample, and
    return the number of rows. With ``labels``, it must hold integer class indices under
    "label" (N,). Every error names ``name`` and says how to fix it."""
    if isinstance(data, torch.utils.data.Dataset) or (
            hasattr(data, "__getitem__") and hasattr(data, "__len__")
            and not isinstance(data, (dict, list, tuple, str, torch.Tensor))):
        raise TypeError(
            f"{name} must be a dict of tensors, got the dataset {type(data).__name__}; render "
            f"it once with mmkit.data.to_tensors({name}, keys=(...)), or wrap it in a "
            "torch.utils.data.DataLoader(..., collate_fn=mmkit.data.collate)"
        )
    if not isinstance(data, dict):
        raise TypeError(f"{name} must be a dict of tensors {{key: (N, ...)}}, got "
                        f"{type(data).__name__}")
    if not data:
        raise ValueError(f"{name} is an empty dict: it holds no inputs")
    sizes = {}
    for key, value in data.items():
        if not isinstance(value, (torch.Tensor, list, tuple)):
            raise TypeError(f"{name}[{key!r}] must be a tensor or a list with one entry per "
                            f"sample, got {type(value).__name__}")
        if isinstance(value, torch.Tensor) and value.dim() == 0:
            raise ValueError(f"{name}[{key!r}] is a single number, not one row per sample")
        sizes[key] = len(value)
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every entry of {name} must have the same number of rows, got {sizes}")
    n = next(iter(sizes.values()))
    if n == 0:
        raise ValueError(f"{name} has no rows: nothing to work on")
    if labels:
        if "label" not in data:
            raise ValueError(f"{name} has no 'label' entry (it has {sorted(data)}); training "
                             "and evaluation need the class index of every sample")
        label = data["label"]
        if not isinstance(label, torch.Tensor) or label.dim() != 1:
            raise TypeError(f"{name}['label'] must be a 1-D tensor of class indices, got "
                            f"{type(label).__name__}"
                            + (f" of shape {tuple(label.shape)}" if isinstance(label, torch.Tensor)
                               else ""))
        if label.is_floating_point() or label.dtype == torch.bool or label.is_complex():
            raise TypeError(f"{name}['label'] must hold integer class indices, got {label.dtype}; "
                            f"convert with {name}['label'].long() (one-hot labels: .argmax(1))")
        if int(label.min()) < 0:
            raise ValueError(f"{name}['label'] holds {int(label.min())}: class indices start at 0")
    return n


def take_rows(data: dict, index) -> dict:
    """The rows ``index`` (a tensor of indices, or a slice) of every entry of ``data``:
    tensors are indexed, lists picked."""
    if isinstance(index, slice):
        return {key: value[index] for key, value in data.items()}
    return {key: value[index] if isinstance(value, torch.Tensor) else [value[i] for i in index]
            for key, value in data.items()}
