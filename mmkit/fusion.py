"""Fusion: combine per-modality features (dict[str, Tensor (B, d_m)]) into one (B, out_dim).

The article names three ways (特征融合): concatenation (拼接融合), weighting (加权融合) and
attention (注意力机制). Beyond it: late fusion (one head per modality, class scores
averaged), the gated multimodal unit, and tensor fusion (full and low-rank).

Shared conventions:
- ``in_dims`` fixes the modalities and their order, e.g. {"image": 64, "text": 32}.
- A modality may be missing: its key absent from the dict, or ``present[m]`` (B,) bool
  False for some samples. Missing features count as zeros, and the methods that weigh
  modalities give them weight 0 (the rest renormalised), so nothing crashes and nothing
  absent is attended to.
- Modules that weigh modalities keep ``.last_weights`` (B, n_modalities), rows summing to
  1, for the widgets and the explanations.
- Bad input is named: a feature that is not a tensor, a ``present`` flag of the wrong
  length or for an unknown modality, a tensor fusion too large for memory.
"""

import torch
from torch import nn

from mmkit.checks import check_int, check_positive

# Tensor fusion's output layer holds prod(small + 1) x out_dim weights: past this many
# megabytes (float32) the constructor refuses and suggests the low-rank form.
TENSOR_FUSION_MAX_MB = 256.0


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
        for m, x in features.items():
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"features[{m!r}] must be a (B, {self.in_dims[m]}) tensor, got "
                                f"{type(x).__name__}")
        sizes = {m: f.shape[0] if f.dim() else 0 for m, f in features.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"the modalities' batch sizes differ: {sizes}")
        batch = next(iter(sizes.values()))
        present = self._check_present(present, batch)
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
                if m in present:
                    mask = present[m].to(device=x.device, dtype=torch.bool)
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

    def _check_present(self, present, batch: int) -> dict:
        """``present``: None, or {modality: (B,) flags}, True (or 1) where the modality is there."""
        if present is None:
            return {}
        if not isinstance(present, dict):
            raise TypeError(f"present must be None or a dict {{modality: (B,) bool tensor}}, got "
                            f"{type(present).__name__}")
        unknown = sorted(set(present) - set(self.modalities))
        if unknown:
            raise ValueError(f"present names unknown modality {unknown[0]!r}: this fusion "
                             f"expects {self.modalities}")
        for m, flags in present.items():
            if not isinstance(flags, torch.Tensor):
                raise TypeError(f"present[{m!r}] must be a (B,) bool tensor, got {type(flags).__name__}")
            if flags.dim() != 1 or flags.shape[0] != batch:
                raise ValueError(f"present[{m!r}] must hold one flag per sample, shape ({batch},), "
                                 f"got {tuple(flags.shape)}")
        return present


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

    Each modality's projected feature h_m = P_m x_m gets a score s_m = vᵀ tanh(W h_m + b)
    (additive attention, as Bahdanau et al. score a word); softmax over the modalities
    gives weights α_m for *this* sample, and the output is Σ α_m h_m. A modality that looks
    unreliable in one sample (noise, say) can be given less weight there, which a single
    learned weight cannot do. v has no bias: a constant added to every score would cancel
    in the softmax. Layers: ``project[m]`` is P_m, ``score[0]`` is (W, b), ``score[2]`` is v.
    """

    def __init__(self, in_dims: dict[str, int], dim: int = 64, hidden: int = 32):
        super().__init__(in_dims)
        self.out_dim = check_int(dim, "dim", minimum=1)
        self.project = nn.ModuleDict({m: nn.Linear(d, dim) for m, d in self.in_dims.items()})
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(),
                                   nn.Linear(hidden, 1, bias=False))

    def forward(self, features: dict, present: dict | None = None) -> torch.Tensor:
        aligned, available = self._align(features, present)
        h = torch.stack([self.project[m](x) for m, x in zip(self.modalities, aligned, strict=True)], 1)
        weights = _masked_softmax(self.score(h).squeeze(-1), available)  # (B, M)
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * h).sum(dim=1)


class LateFusion(_Fusion):
    """Decision-level fusion: one classifier per modality, their class scores (logits)
    averaged over the modalities present. Its output already *is* class scores
    (``outputs_logits``).

    Averaging logits is not a vote: softmax(mean_m z_m) is proportional to the geometric
    mean of the per-modality probabilities, Π_m p_m^(1/M) — a *product of experts*. A
    modality that is very sure (a large logit) outweighs one that is unsure; and since the
    scores are only added, the model can never express an interaction such as XOR.

    hidden: None for a linear head per modality; a number for a small MLP per modality
    (Linear -> ReLU -> Linear), so that late fusion can get the same head as the others.
    """

    outputs_logits = True

    def __init__(self, in_dims: dict[str, int], num_classes: int, hidden: int | None = None):
        super().__init__(in_dims)
        self.out_dim = check_int(num_classes, "num_classes", minimum=2)
        if hidden is not None:
            check_int(hidden, "hidden", minimum=1)
        self.hidden = hidden

        def head(d: int) -> nn.Module:
            if hidden is None:
                return nn.Linear(d, num_classes)
            return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

        self.heads = nn.ModuleDict({m: head(d) for m, d in self.in_dims.items()})

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

    The full form's output layer holds (small + 1)^M x out_dim weights: with M = 4
    modalities, small = 64 and out_dim = 64 that is 4.4 GB. Above ``max_mb`` megabytes
    (float32) the constructor refuses, naming the size, rather than fill the memory.
    """

    def __init__(self, in_dims: dict[str, int], out_dim: int = 64, small: int = 8,
                 rank: int | None = None, max_mb: float = TENSOR_FUSION_MAX_MB):
        super().__init__(in_dims)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        check_int(small, "small", minimum=1)
        self.rank = None if rank is None else check_int(rank, "rank", minimum=1)
        max_mb = check_positive(max_mb, "max_mb")
        if self.rank is None:
            product = (small + 1) ** len(self.modalities)
            # nn.Linear(product, out_dim): product x out_dim weights and out_dim biases
            megabytes = (product + 1) * out_dim * 4 / 2**20
            if megabytes > max_mb:
                raise ValueError(
                    f"tensor fusion of {len(self.modalities)} modalities with small={small} "
                    f"and out_dim={out_dim} needs an output layer of {product:,} x {out_dim} "
                    f"weights and {out_dim} biases, {megabytes:,.1f} MB, above "
                    f"max_mb={max_mb:g}; pass rank= "
                    "(low-rank tensor fusion), a smaller small=, or a larger max_mb="
                )
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
