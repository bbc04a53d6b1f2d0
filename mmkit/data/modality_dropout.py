"""Modality dropout: hide whole modalities at random during training.

A fusion model trained on batches that always hold every modality learns to lean on the
easiest one; when that one is missing at test time (a broken microphone, an image without
a caption) it has never learned to answer without it. Modality dropout flags a modality
absent, per sample, with probability p, through the ``f"{m}_present"`` flags that
``mmkit.data.collate`` writes and ``mmkit.models.MultimodalClassifier`` reads (an absent
modality's feature counts as zeros in the fusion). So every modality must learn to carry
the label on its own. A sample never loses all its modalities: one stays.

    fit(model, train, batch_transform=ModalityDropout(0.3, ("image", "text"), seed=0))
"""

import torch

from mmkit.checks import check_int, check_positive


def _check_p(p, modalities) -> torch.Tensor:
    """One drop probability per modality, from one number or a dict {modality: p}."""
    values = p if isinstance(p, dict) else dict.fromkeys(modalities, p)
    unknown = sorted(set(values) - set(modalities))
    if unknown:
        raise ValueError(f"p names modality {unknown[0]!r}, which is not in {list(modalities)}")
    out = []
    for m in modalities:
        value = check_positive(values.get(m, 0.0), f"p[{m!r}]" if isinstance(p, dict) else "p",
                               allow_zero=True)
        if value >= 1:
            raise ValueError(f"a drop probability must be in [0, 1), got {value} for {m!r}")
        out.append(value)
    return torch.tensor(out)


def _check_modalities(modalities) -> tuple[str, ...]:
    if isinstance(modalities, str) or not isinstance(modalities, (list, tuple)) or not modalities:
        raise TypeError(f"modalities must be a non-empty list of batch keys, got {modalities!r}")
    for m in modalities:
        if not isinstance(m, str):
            raise TypeError(f"every modality must be a str, got {m!r}")
    return tuple(modalities)


def drop_modalities(batch: dict, p, modalities, generator: torch.Generator | None = None) -> dict:
    """A copy of ``batch`` whose ``f"{m}_present"`` flags say some modalities are absent.

    batch: a dict batch with "label" (B,) and each of ``modalities``.
    p: the probability of hiding each modality in each sample, in [0, 1); one number or a
        dict {modality: p} (a modality left out of the dict is never hidden).
    A modality already flagged absent stays absent. A sample whose every present modality
    was drawn to go keeps one of them, picked at random. The tensors themselves are not
    changed (the model zeroes an absent modality's feature), only the flags are new.
    """
    if not isinstance(batch, dict) or "label" not in batch:
        raise TypeError("batch must be a dict batch with a 'label' entry")
    modalities = _check_modalities(modalities)
    missing = [m for m in modalities if m not in batch]
    if missing:
        raise ValueError(f"the batch has no {missing[0]!r}; it has {sorted(batch)}")
    rates = _check_p(p, modalities)
    size = len(batch["label"])
    present = torch.stack([
        batch[f"{m}_present"].bool().cpu() if f"{m}_present" in batch
        else torch.ones(size, dtype=torch.bool)
        for m in modalities
    ], dim=1)  # (B, M)
    keep = present & (torch.rand(size, len(modalities), generator=generator) >= rates)
    # A sample left with nothing gets back one of the modalities it had, chosen at random.
    emptied = ~keep.any(dim=1) & present.any(dim=1)
    if emptied.any():
        scores = torch.rand(size, len(modalities), generator=generator).masked_fill(~present, -1)
        pick = scores.argmax(dim=1)
        keep[emptied, pick[emptied]] = True
    device = batch["label"].device if isinstance(batch["label"], torch.Tensor) else "cpu"
    flags = {f"{m}_present": keep[:, i].to(device) for i, m in enumerate(modalities)}
    return {**batch, **flags}


class ModalityDropout:
    """``drop_modalities`` as a seeded batch transform, for ``fit(batch_transform=...)``.

    Holds its own generator, so a training run with the same seed hides the same
    modalities in the same samples, whatever else draws random numbers.
    """

    def __init__(self, p, modalities, seed: int = 0):
        self.modalities = _check_modalities(modalities)
        _check_p(p, self.modalities)
        self.p = p
        self.generator = torch.Generator().manual_seed(check_int(seed, "seed"))

    def __call__(self, batch: dict) -> dict:
        return drop_modalities(batch, self.p, self.modalities, self.generator)

    def __repr__(self) -> str:
        return f"ModalityDropout(p={self.p!r}, modalities={self.modalities!r})"
