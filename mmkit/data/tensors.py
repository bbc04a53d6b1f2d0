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
