"""Fusion: combine per-modality features (dict[str, Tensor (B, d_m)]) into one (B, out_dim).

The article names three ways (特征融合): concatenation (拼接融合), weighting (加权融合) and
attention (注意力机制). Beyond it: late fusion (one head per modality, scores averaged),
the gated multimodal unit, and tensor fusion (full and low-rank).

Shared conventions:
- ``in_dims`` fixes the modalities and their order, e.g. {"image": 64, "text": 32}.
- A modality may be missing: its key absent from the dict, or ``present[m]`` (B,) bool
  False for some samples. Missing features count as zeros, and the methods that weigh
  modalities give them weight 0 (the rest renormalised), so nothing crashes and nothing
  absent is attended to.
- Modules that weigh modalities keep ``.last_weights`` (B, n_modalities), rows summing to
  1, for the widgets and the explanations.
"""

import torch
from torch import nn

from mmkit.checks import check_int


def _check_in_dims(in_dims) -> dict[str, int]:
    if not isinstance(in_dims, dict) or not in_dims:
        raise TypeError(f"in_dims must be a non-empty dict {{modality: feature size}}, got {in_dims!r}")
    for name, dim in in_dims.items():
        check_int(dim, f"in_dims[{name!r}]", minimum=1)
    return dict(in_dims)


class _Fusion(nn.Module):
    """Turns the dict into aligned tensors: zero-filled features and a (B, M) availability."""

    def __init__(self, in_dims: dict[str, int]):
        super().__init__()
        self.in_dims = _check_in_dims(in_dims)
        self.modalities = list(self.in_dims)
        self.last_weights = None

    def _align(self, features: dict, present: dict | None = None):
        if not isinstance(features, dict):
            raise TypeError(f"features must be a dict {{modality: (B, d) tensor}}, got {type(features).__name__}")
        unknown = sorted(set(features) - set(self.modalities))
        if unknown:
            raise ValueError(f"unknown modality {unknown[0]!r}: this fusion expects {self.modalities}")
        if not features:
            raise ValueError(f"features is empty: at least one of {self.modalities} is needed")
        sizes = {m: f.shape[0] for m, f in features.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"the modalities' batch sizes differ: {sizes}")
        batch = next(iter(sizes.values()))
        reference = next(iter(features.values()))
        aligned, available = [], []
        for m in self.modalities:
            if m in features:
                x = features[m]
                if x.dim() != 2 or x.shape[1] != self.in_dims[m]:
                    raise ValueError(
                        f"features[{m!r}] must have shape (B, {self.in_dims[m]}), got {tuple(x.shape)}"
                    )
                mask = torch.ones(batch, dtype=torch.bool, device=x.device)
                if present is not None and m in present:
                    mask = present[m].to(device=x.device, dtype=torch.bool).reshape(batch)
                    x = x * mask.unsqueeze(1).to(x.dtype)  # a flagged-missing row counts as zeros
            else:
                x = reference.new_zeros(batch, self.in_dims[m])
                mask = torch.zeros(batch, dtype=torch.bool, device=reference.device)
            aligned.append(x)
            available.append(mask)
        available = torch.stack(available, dim=1)  # (B, M)
        if not available.any(dim=1).all():
            raise ValueError("a sample has every modality missing: there is nothing to fuse")
        return aligned, available


def _masked_softmax(scores: torch.Tensor, available: torch.Tensor) -> torch.Tensor:
    """Softmax over modalities (dim 1) that gives a missing modality exactly 0."""
    return torch.softmax(scores.masked_fill(~available, float("-inf")), dim=1)


class ConcatFusion(_Fusion):
    """Concatenate the features end to end (拼接融合), optionally projected to out_dim."""

    def __init__(self, in_dims: dict[str, int], out_dim: int | None = None):
        super().__init__(in_dims)
        total = sum(self.in_dims.values())
        self.project = nn.Linear(total, out_dim) if out_dim is not None else nn.Identity()
        self.out_dim = out_dim if out_dim is not None else total

    def forward(self, features: dict, present: dict | None = None) -> torch.Tensor:
        aligned, _ = self._align(features, present)
        return self.project(torch.cat(aligned, dim=1))


class WeightedFusion(_Fusion):
    """One learned weight per modality, softmax-normalised (加权融合).

    Each modality is projected to a common size ``dim``; the output is the weighted sum.
    The weights are the same for every sample: they say how much the model trusts each
    modality overall.
    """

    def __init__(self, in_dims: dict[str, int], dim: int = 64):
        super().__init__(in_dims)
        self.out_dim = check_int(dim, "dim", minimum=1)
        self.project = nn.ModuleDict({m: nn.Linear(d, dim) for m, d in self.in_dims.items()})
        self.logits = nn.Parameter(torch.zeros(len(self.modalities)))  # equal weights at first

    def forward(self, features: dict, present: dict | None = None) -> torch.Tensor:
        aligned, available = self._align(features, present)
        h = torch.stack([self.project[m](x) for m, x in zip(self.modalities, aligned, strict=True)], 1)
        weights = _masked_softmax(self.logits.expand(h.shape[0], -1), available)  # (B, M)
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * h).sum(dim=1)


class AttentionFusion(_Fusion):
    """Per-sample attention over modalities (注意力机制).

    Each modality's projected feature h_m gets a score s_m = v·tanh(W h_m); softmax over
    the modalities gives weights α_m for *this* sample, and the output is Σ α_m h_m. A
    modality that looks unreliable in one sample (noise, say) can be given less weight
    there, which a single learned weight cannot do.
    """

    def __init__(self, in_dims: dict[str, int], dim: int = 64, hidden: int = 32):
        super().__init__(in_dims)
        self.out_dim = check_int(dim, "dim", minimum=1)
        self.project = nn.ModuleDict({m: nn.Linear(d, dim) for m, d in self.in_dims.items()})
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, features: dict, present: dict | None = None) -> torch.Tensor:
        aligned, available = self._align(features, present)
        h = torch.stack([self.project[m](x) for m, x in zip(self.modalities, aligned, strict=True)], 1)
        weights = _masked_softmax(self.score(torch.tanh(h)).squeeze(-1), available)  # (B, M)
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * h).sum(dim=1)


class LateFusion(_Fusion):
    """Decision-level fusion: one classifier per modality, class scores averaged over the
    modalities present. Its output already *is* class scores (``outputs_logits``)."""

    outputs_logits = True

    def __init__(self, in_dims: dict[str, int], num_classes: int):
        super().__init__(in_dims)
        self.out_dim = check_int(num_classes, "num_classes", minimum=2)
        self.heads = nn.ModuleDict({m: nn.Linear(d, num_classes) for m, d in self.in_dims.items()})

    def forward(self, features: dict, present: dict | None = None) -> torch.Tensor:
        aligned, available = self._align(features, present)
        logits = torch.stack([self.heads[m](x) for m, x in zip(self.modalities, aligned, strict=True)], 1)
        weights = available.float() / available.float().sum(dim=1, keepdim=True)  # mean over present
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * logits).sum(dim=1)


class GatedFusion(_Fusion):
    """The gated multimodal unit (Arevalo et al., 2017), for any number of modalities.

    h_m = tanh(W_m x_m); gates z = softmax over modalities of W_z [x_1; ...; x_M], one gate
    per modality *and feature*; output Σ z_m ⊙ h_m. ``last_weights`` is each modality's
    gate averaged over the features.
    """

    def __init__(self, in_dims: dict[str, int], dim: int = 64):
        super().__init__(in_dims)
        self.out_dim = check_int(dim, "dim", minimum=1)
        self.project = nn.ModuleDict({m: nn.Linear(d, dim) for m, d in self.in_dims.items()})
        self.gate = nn.Linear(sum(self.in_dims.values()), len(self.modalities) * dim)

    def forward(self, features: dict, present: dict | None = None) -> torch.Tensor:
        aligned, available = self._align(features, present)
        h = torch.stack([torch.tanh(self.project[m](x))
                         for m, x in zip(self.modalities, aligned, strict=True)], 1)  # (B, M, D)
        scores = self.gate(torch.cat(aligned, dim=1)).view(h.shape)
        gates = torch.softmax(scores.masked_fill(~available.unsqueeze(-1), float("-inf")), dim=1)
        self.last_weights = gates.mean(dim=-1).detach()
        return (gates * h).sum(dim=1)


class TensorFusion(_Fusion):
    """Tensor fusion (Zadeh et al., 2017): the outer product of the modalities' features,
    each with a 1 appended, so that it holds every single feature, every pair, every
    triple... then a linear layer. The product grows as Π (d_m + 1), so each modality is
    first projected to ``small`` features.

    With ``rank`` set it is low-rank tensor fusion (Liu et al., 2018): the weight tensor is
    a sum of ``rank`` products of per-modality factors, and the outer product is never
    built — the cost grows with the sum of the sizes, not their product.
    """

    def __init__(self, in_dims: dict[str, int], out_dim: int = 64, small: int = 8,
                 rank: int | None = None):
        super().__init__(in_dims)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        check_int(small, "small", minimum=1)
        self.rank = None if rank is None else check_int(rank, "rank", minimum=1)
        self.project = nn.ModuleDict({m: nn.Linear(d, small) for m, d in self.in_dims.items()})
        if self.rank is None:
            self.output = nn.Linear((small + 1) ** len(self.modalities), out_dim)
        else:
            self.factors = nn.ParameterDict({
                m: nn.Parameter(torch.randn(self.rank, small + 1, out_dim) * (small + 1) ** -0.5)
                for m in self.modalities
            })
            self.bias = nn.Parameter(torch.zeros(out_dim))

    def forward(self, features: dict, present: dict | None = None) -> torch.Tensor:
        aligned, _ = self._align(features, present)
        zs = []
        for m, x in zip(self.modalities, aligned, strict=True):
            z = self.project[m](x)
            zs.append(torch.cat([z, torch.ones_like(z[:, :1])], dim=1))  # (B, small + 1)
        if self.rank is None:
            product = zs[0]
            for z in zs[1:]:  # (B, a) x (B, b) -> (B, a * b)
                product = (product.unsqueeze(2) * z.unsqueeze(1)).flatten(1)
            return self.output(product)
        fused = None
        for m, z in zip(self.modalities, zs, strict=True):
            part = torch.einsum("bi,rio->bro", z, self.factors[m])  # (B, rank, out)
            fused = part if fused is None else fused * part
        return fused.sum(dim=1) + self.bias

from mmkit.cross_attention import CrossAttentionFusion, QueryPooler  # noqa: E402, F401  (lesson 12)
