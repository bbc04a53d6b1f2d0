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
