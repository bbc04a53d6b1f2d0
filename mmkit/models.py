"""Models that take a dict batch and return class scores (logits)."""

import torch
from torch import nn

from mmkit.checks import check_int


def _out_dim(encoder: nn.Module, name: str = "encoder") -> int:
    out_dim = getattr(encoder, "out_dim", None)
    if not isinstance(out_dim, int) or out_dim < 1:
        raise ValueError(
            f"{name} must have an int attribute out_dim (the size of its feature), "
            f"got {out_dim!r}; every mmkit encoder has one"
        )
    return out_dim


def classifier_head(in_dim: int, num_classes: int, hidden: int | None = None, dropout: float = 0.0):
    """A linear layer, or a small MLP (Linear -> ReLU -> Dropout -> Linear) when hidden is set."""
    if hidden is None:
        return nn.Linear(in_dim, num_classes)
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_classes)
    )


class UnimodalClassifier(nn.Module):
    """One encoder and a classifier head: the baseline every fusion method must beat.

    forward(batch) reads ``batch[modality]``, encodes it to (B, out_dim) and returns logits
    (B, num_classes).
    """

    def __init__(self, encoder: nn.Module, modality: str, num_classes: int,
                 hidden: int | None = None, dropout: float = 0.0):
        super().__init__()
        if not isinstance(modality, str):
            raise TypeError(f"modality must be a key of the batch (a str), got {modality!r}")
        check_int(num_classes, "num_classes", minimum=2)
        self.encoder = encoder
        self.modality = modality
        self.head = classifier_head(_out_dim(encoder), num_classes, hidden, dropout)

    def forward(self, batch: dict) -> torch.Tensor:
        if self.modality not in batch:
            raise ValueError(
                f"the batch has no {self.modality!r}; it has {sorted(batch)}"
            )
        return self.head(self.encoder(batch[self.modality]))


class MultimodalClassifier(nn.Module):
    """Encoders per modality, a fusion module, and a classifier head.

    forward(batch): encodes every modality of ``encoders`` that the batch holds, fuses the
    features, returns logits (B, num_classes). A modality absent from the batch, or flagged
    absent per sample by ``batch[f"{m}_present"]`` (as ``mmkit.data.collate`` writes it),
    is passed to the fusion as missing. A fusion whose output already is class scores
    (``LateFusion``) gets no extra head.
    """

    def __init__(self, encoders: dict, fusion: nn.Module, num_classes: int,
                 hidden: int | None = None, dropout: float = 0.0):
        super().__init__()
        if not isinstance(encoders, dict) or not encoders:
            raise TypeError(f"encoders must be a non-empty dict {{modality: encoder}}, got {encoders!r}")
        check_int(num_classes, "num_classes", minimum=2)
        dims = {m: _out_dim(e, f"encoders[{m!r}]") for m, e in encoders.items()}
        expected = getattr(fusion, "in_dims", None)
        if expected is not None and expected != dims:
            raise ValueError(f"the fusion expects features {expected}, the encoders give {dims}")
        self.encoders = nn.ModuleDict(encoders)
        self.fusion = fusion
        fused_dim = _out_dim(fusion, "fusion")
        if getattr(fusion, "outputs_logits", False):
            if fused_dim != num_classes:
                raise ValueError(f"the fusion gives {fused_dim} class scores, expected {num_classes}")
            self.head = nn.Identity()
        else:
            self.head = classifier_head(fused_dim, num_classes, hidden, dropout)

    def encode(self, batch: dict) -> tuple[dict, dict]:
        """Per-modality features of the modalities present, and their per-sample flags."""
        features, present = {}, {}
        for m, encoder in self.encoders.items():
            if m in batch:
                features[m] = encoder(batch[m])
                if f"{m}_present" in batch:
                    present[m] = batch[f"{m}_present"]
        if not features:
            raise ValueError(
                f"the batch holds none of the modalities {list(self.encoders)}; it has {sorted(batch)}"
            )
        return features, present

    def forward(self, batch: dict) -> torch.Tensor:
        features, present = self.encode(batch)
        return self.head(self.fusion(features, present or None))


class PositionalInputs(nn.Module):
    """Presents a dict-batch model as a function of positional tensors, as Captum expects.

    ``PositionalInputs(model, ["image", "text"], extras={"text_mask": mask})(image, text)``
    calls ``model({"image": image, "text": text, "text_mask": mask})``. Captum can then
    attribute to each input tensor, i.e. to each modality.
    """

    def __init__(self, model: nn.Module, modalities, extras: dict | None = None):
        super().__init__()
        if isinstance(modalities, str) or not modalities:
            raise TypeError(f"modalities must be a list of batch keys, got {modalities!r}")
        self.model = model
        self.modalities = list(modalities)
        self.extras = dict(extras or {})

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if len(inputs) != len(self.modalities):
            raise ValueError(
                f"expected {len(self.modalities)} inputs ({', '.join(self.modalities)}), "
                f"got {len(inputs)}"
            )
        batch = dict(zip(self.modalities, inputs, strict=True))
        size = inputs[0].shape[0]
        # Captum repeats inputs along the batch (e.g. integrated gradients' steps): repeat
        # the extras to match.
        for key, value in self.extras.items():
            if isinstance(value, torch.Tensor) and value.shape[0] != size:
                value = value.repeat(size // value.shape[0], *([1] * (value.dim() - 1)))
            batch[key] = value
        return self.model(batch)
