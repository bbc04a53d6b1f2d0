"""A classifier whose modalities stay sequences of tokens until they are fused (lesson 12).

    batch {"image": (B, 3, H, W), "text": ids (B, L), "label": (B,)}
      -> encoders, each keeping every token: PatchTokens / ViT (patches), TextTokens (words)
      -> optional QueryPooler: N patch tokens -> M learned-query tokens
      -> a fusion of token sequences: CrossAttentionFusion, or PooledFusion(lesson-06 fusion)
      -> a classifier head -> logits (B, classes)

Same batches and the same ``mmkit.train.fit`` as every other model of the kit; only what
the fusion receives differs: tokens instead of one vector per modality.
"""

import torch
from torch import nn

from mmkit.checks import check_int
from mmkit.models import classifier_head


class TokenClassifier(nn.Module):
    """Token encoders per modality, an optional pooler, a token fusion, a head.

    encoders: {modality: encoder}; each encoder has ``tokens(x)`` -> (B, T, d) and
        ``padding(x)`` -> (B, T) bool (True at padding) or None, and ``out_dim`` = d
        (``mmkit.encoders.PatchTokens``, ``ViT``, ``TextTokens``).
    fusion: takes ({modality: tokens}, {modality: padding}) and returns (B, out_dim):
        ``CrossAttentionFusion`` or ``PooledFusion``; its ``in_dims`` must match.
    pooler: None, or a ``QueryPooler`` applied to the tokens before the fusion.
    hidden: a hidden layer in the head (as ``MultimodalClassifier``'s).
    """

    def __init__(self, encoders: dict, fusion: nn.Module, num_classes: int,
                 hidden: int | None = None, pooler: nn.Module | None = None):
        super().__init__()
        if not isinstance(encoders, dict) or not encoders:
            raise TypeError(f"encoders must be a non-empty dict {{modality: encoder}}, got "
                            f"{encoders!r}")
        for name, encoder in encoders.items():
            if not (hasattr(encoder, "tokens") and hasattr(encoder, "padding")):
                raise TypeError(f"encoders[{name!r}] must keep its tokens (have tokens() and "
                                f"padding(), as PatchTokens, ViT and TextTokens do), got "
                                f"{type(encoder).__name__}")
        check_int(num_classes, "num_classes", minimum=2)
        dims = {name: encoder.out_dim for name, encoder in encoders.items()}
        if getattr(fusion, "in_dims", None) != dims:
            raise ValueError(f"the fusion expects tokens {getattr(fusion, 'in_dims', None)}, "
                             f"the encoders give {dims}")
        if pooler is not None and any(dims.get(m) != d for m, d in pooler.in_dims.items()):
            raise ValueError(f"the pooler expects {pooler.in_dims}, the encoders give {dims}")
        self.encoders = nn.ModuleDict(encoders)
        self.pooler = pooler
        self.fusion = fusion
        self.head = classifier_head(fusion.out_dim, num_classes, hidden)

    def encode(self, batch: dict) -> tuple[dict, dict]:
        """({modality: tokens}, {modality: padding or None}), after the pooler if any."""
        if not isinstance(batch, dict):
            raise TypeError(f"batch must be a dict {{modality: tensor}}, got "
                            f"{type(batch).__name__}")
        missing = [name for name in self.encoders if name not in batch]
        if missing:
            raise ValueError(f"the batch has no {missing[0]!r}; it has {sorted(batch)}")
        tokens, padding = {}, {}
        for name, encoder in self.encoders.items():
            tokens[name] = encoder.tokens(batch[name])
            padding[name] = encoder.padding(batch[name])
        if self.pooler is not None:
            tokens = self.pooler(tokens, padding)
            padding[self.pooler.modality] = None  # the queries are all real
        return tokens, padding

    def forward(self, batch: dict) -> torch.Tensor:
        tokens, padding = self.encode(batch)
        return self.head(self.fusion(tokens, padding))


def count_parameters(model: nn.Module) -> int:
    """The number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


FUSIONS = ("cross-attention", "concatenation", "attention")
# Head sizes that give the three fusions about the same number of parameters (within 1 %
# for the default sizes): pooling first leaves fewer weights in the fusion, so its head
# gets them instead.
HIDDEN = {"cross-attention": 64, "concatenation": 160, "attention": 216}


def referring_classifier(vocab_size: int, fusion: str = "cross-attention", *,
                         image_size: int = 32, patch_size: int = 8, dim: int = 32,
                         heads: int = 2, text_layers: int = 1, max_len: int = 8,
                         num_queries: int | None = None, hidden: int | None = None,
                         num_classes: int = 2, seed: int = 0) -> TokenClassifier:
    """The lesson-12 question answerer, untrained: ``PatchTokens`` for the image,
    ``TextTokens`` for the question, fused by ``fusion``:

    - "cross-attention": ``CrossAttentionFusion`` (the words attend to the patches);
    - "concatenation": ``PooledFusion(ConcatFusion)`` (lesson 06: mean of each, joined);
    - "attention": ``PooledFusion(AttentionFusion)`` (lesson 06: one weight per modality).
    num_queries: put a ``QueryPooler`` of that many queries between the patches and the
    cross-attention. hidden: the head's hidden layer (default ``HIDDEN[fusion]``).
    The weights depend on ``seed`` only; the global random state is left as it was.
    """
    from mmkit.checks import check_choice
    from mmkit.cross_attention import CrossAttentionFusion, PooledFusion, QueryPooler
    from mmkit.encoders.text_tokens import TextTokens
    from mmkit.encoders.vit import PatchTokens
    from mmkit.fusion import AttentionFusion, ConcatFusion

    check_choice(fusion, "fusion", FUSIONS)
    if num_queries is not None and fusion != "cross-attention":
        raise ValueError("num_queries needs fusion='cross-attention': the words read the "
                         "queries' tokens")
    dims = {"image": dim, "text": dim}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed"))
        encoders = {"image": PatchTokens(image_size, patch_size, dim=dim),
                    "text": TextTokens(vocab_size, dim=dim, heads=heads, layers=text_layers,
                                       max_len=max_len)}
        fused = {"cross-attention": lambda: CrossAttentionFusion(dims, heads=heads),
                 "concatenation": lambda: PooledFusion(ConcatFusion(dims)),
                 "attention": lambda: PooledFusion(AttentionFusion(dims, dim=dim))}[fusion]()
        pooler = (QueryPooler({"image": dim}, num_queries, heads=heads)
                  if num_queries is not None else None)
        return TokenClassifier(encoders, fused, num_classes,
                               hidden=HIDDEN[fusion] if hidden is None else hidden,
                               pooler=pooler)
