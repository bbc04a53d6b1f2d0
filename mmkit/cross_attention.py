"""Fusion inside the modalities (lesson 12): cross-attention, learned queries, and pooling first.

Lesson 06 fused one vector per modality. Here each modality stays a *sequence of tokens*
(words; image patches), a dict {modality: (B, T_m, d_m)}, with padding {modality: (B, T_m)
bool, True at padding} where a modality has any:

- ``CrossAttention``: queries from one sequence, keys and values from another (交叉注意力):
  softmax(Q Kᵀ / √d) V with Q = x W_q, K = c W_k, V = c W_v. The parameters and their names
  are those of ``nn.MultiheadAttention(dim, heads, kdim=, vdim=, batch_first=True)`` (with
  kdim != dim), so its state_dict loads as it is.
- ``CrossAttentionFusion``: every word looks at the patches (ViLBERT's co-attention,
  Flamingo's cross-attention layers): one cross-attention block, then the mean over the
  real words -> (B, d). ``last_weights`` (B, heads, words, patches): which patches each
  word read.
- ``QueryPooler``: M learned queries look at the N patches and return M tokens (Perceiver,
  the Q-Former of BLIP-2): what reads the image afterwards costs M, not N.
- ``PooledFusion``: the lesson-06 way, for comparison: average each sequence to one vector
  first (words and patches forgotten), then a lesson-06 fusion (concat, attention).

``attention_flops`` counts the multiply-adds of a cross-attention, as
``torch.utils.flop_counter`` counts them.
"""

import math

import torch
from torch import nn

from mmkit.checks import check_int
from mmkit.scratch.attention import _softmax_attend


def _check_dims(in_dims, names: tuple) -> dict[str, int]:
    if not isinstance(in_dims, dict) or not in_dims:
        raise TypeError(f"in_dims must be a non-empty dict {{modality: token size}}, got "
                        f"{in_dims!r}")
    for name, dim in in_dims.items():
        check_int(dim, f"in_dims[{name!r}]", minimum=1)
    for name in names:
        if name not in in_dims:
            raise ValueError(f"{name!r} is not a modality of in_dims {list(in_dims)}")
    return dict(in_dims)


def _tokens(features, name: str, size: int) -> torch.Tensor:
    if not isinstance(features, dict):
        raise TypeError(f"features must be a dict {{modality: (B, T, d) tokens}}, got "
                        f"{type(features).__name__}")
    if name not in features:
        raise ValueError(f"features has no {name!r} (it has {sorted(features)})")
    x = features[name]
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != size:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"features[{name!r}] must be tokens of shape (B, T, {size}), got {got}")
    return x


def _padding(padding, name: str, tokens: torch.Tensor):
    """padding[name] as a (B, T) bool tensor, or None when the modality has no padding."""
    if padding is None or padding.get(name) is None:
        return None
    mask = padding[name]
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool \
            or tuple(mask.shape) != tuple(tokens.shape[:2]):
        got = f"{mask.dtype} {tuple(mask.shape)}" if isinstance(mask, torch.Tensor) else \
            type(mask).__name__
        raise ValueError(f"padding[{name!r}] must be a bool tensor of shape (B, T) = "
                         f"{tuple(tokens.shape[:2])}, True at padding; got {got}")
    return mask


def masked_mean(tokens: torch.Tensor, padding: torch.Tensor | None) -> torch.Tensor:
    """Mean over the real tokens (padding False): (B, T, d) -> (B, d)."""
    if padding is None:
        return tokens.mean(dim=1)
    real = (~padding).to(tokens.dtype).unsqueeze(-1)
    return (tokens * real).sum(dim=1) / real.sum(dim=1).clamp_min(1.0)


class CrossAttention(nn.Module):
    """Multi-head attention whose queries come from one sequence and whose keys and values
    come from another: (B, L, dim) x (B, N, context_dim) -> (B, L, dim).

    ``key_padding_mask`` (B, N) bool, True at context tokens no query may read (the padding
    of a caption). A query whose every key is padding gets zeros, not NaN.
    ``last_weights``: the attention weights of the last call, (B, heads, L, N), detached.
    """

    def __init__(self, dim: int, context_dim: int | None = None, heads: int = 1):
        super().__init__()
        check_int(dim, "dim", minimum=1)
        context_dim = dim if context_dim is None else check_int(context_dim, "context_dim",
                                                                minimum=1)
        self.heads = check_int(heads, "heads", minimum=1)
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        self.dim, self.context_dim = dim, context_dim
        # nn.MultiheadAttention's names when kdim != embed_dim.
        self.q_proj_weight = nn.Parameter(torch.empty(dim, dim))
        self.k_proj_weight = nn.Parameter(torch.empty(dim, context_dim))
        self.v_proj_weight = nn.Parameter(torch.empty(dim, context_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            nn.init.xavier_uniform_(weight)  # as nn.MultiheadAttention initialises
        nn.init.zeros_(self.out_proj.bias)
        self.last_weights = None

    def forward(self, x: torch.Tensor, context: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (B, L, {self.dim}), got {tuple(x.shape)}")
        if context.dim() != 3 or context.shape[-1] != self.context_dim \
                or context.shape[0] != x.shape[0]:
            raise ValueError(f"context must have shape ({x.shape[0]}, N, {self.context_dim}), "
                             f"got {tuple(context.shape)}")
        batch, length, _ = x.shape
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)

        def split_heads(t):  # (B, n, dim) -> (B, heads, n, dim / heads)
            return t.reshape(batch, t.shape[1], self.heads, -1).transpose(1, 2)

        q = split_heads(x @ self.q_proj_weight.T + b_q)
        k = split_heads(context @ self.k_proj_weight.T + b_k)
        v = split_heads(context @ self.v_proj_weight.T + b_v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, heads, L, N)
        allowed = torch.ones_like(scores, dtype=torch.bool)
        if key_padding_mask is not None:
            allowed = allowed & ~key_padding_mask[:, None, None, :]
        heads, weights = _softmax_attend(scores, allowed, v)
        self.last_weights = weights.detach()
        return self.out_proj(heads.transpose(1, 2).reshape(batch, length, self.dim))


class _AttentionBlock(nn.Module):
    """x = LayerNorm(x + CrossAttention(x, context)); x = LayerNorm(x + FeedForward(x)):
    the lesson-04 block with the self-attention swapped for cross-attention (post-norm)."""

    def __init__(self, dim: int, context_dim: int, heads: int, feedforward: int | None):
        super().__init__()
        feedforward = 2 * dim if feedforward is None else check_int(feedforward, "feedforward",
                                                                     minimum=1)
        self.cross_attn = CrossAttention(dim, context_dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.feedforward = nn.Sequential(nn.Linear(dim, feedforward), nn.ReLU(),
                                         nn.Linear(feedforward, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x, context, key_padding_mask=None):
        x = self.norm1(x + self.cross_attn(x, context, key_padding_mask))
        return self.norm2(x + self.feedforward(x))


class CrossAttentionFusion(nn.Module):
    """Every token of ``query`` (the words) attends to the tokens of ``context`` (the
    patches); the result is averaged over the real query tokens: dict -> (B, d_query).

    in_dims: {modality: token size}, e.g. {"image": 32, "text": 32}.
    forward(features, padding=None): features {modality: (B, T, d)}; padding {modality:
    (B, T) bool, True at padding} for the modalities that have any (a caption). Padded
    words are left out of the mean; padded context tokens are never attended to.
    ``last_weights`` (B, heads, L, N): row l of a head is word l's attention over the
    context tokens, each row summing to 1.
    """

    def __init__(self, in_dims: dict, query: str = "text", context: str = "image",
                 heads: int = 2, feedforward: int | None = None):
        super().__init__()
        self.in_dims = _check_dims(in_dims, (query, context))
        if query == context:
            raise ValueError(f"query and context must be two modalities, got {query!r} twice")
        self.query, self.context = query, context
        self.modalities = [query, context]
        self.block = _AttentionBlock(self.in_dims[query], self.in_dims[context], heads,
                                     feedforward)
        self.out_dim = self.in_dims[query]

    @property
    def last_weights(self):
        return self.block.cross_attn.last_weights

    def forward(self, features: dict, padding: dict | None = None) -> torch.Tensor:
        words = _tokens(features, self.query, self.in_dims[self.query])
        patches = _tokens(features, self.context, self.in_dims[self.context])
        if words.shape[0] != patches.shape[0]:
            raise ValueError(f"the modalities' batch sizes differ: {words.shape[0]} and "
                             f"{patches.shape[0]}")
        word_padding = _padding(padding, self.query, words)
        x = self.block(words, patches, _padding(padding, self.context, patches))
        return masked_mean(x, word_padding)


class QueryPooler(nn.Module):
    """``num_queries`` learned query vectors attend to one modality's N tokens and replace
    them with M = num_queries tokens (Perceiver's latents, BLIP-2's Q-Former queries).

    in_dims: {modality: token size}, the one modality to compress, e.g. {"image": 32}.
    forward(features, padding=None) -> a new dict: that modality's (B, N, d) tokens
    replaced by (B, M, d), the other entries passed on unchanged; it has no padding after.
    ``last_weights`` (B, heads, M, N): which tokens each query gathered.
    The queries are the same for every image: each learns what to look for, and the
    attention decides where it is in this image.
    """

    def __init__(self, in_dims: dict, num_queries: int, heads: int = 2,
                 feedforward: int | None = None):
        super().__init__()
        if not isinstance(in_dims, dict) or len(in_dims) != 1:
            raise ValueError(f"in_dims must name the one modality to compress, e.g. "
                             f"{{'image': 32}}, got {in_dims!r}")
        self.in_dims = _check_dims(in_dims, ())
        self.modality, dim = next(iter(self.in_dims.items()))
        self.num_queries = check_int(num_queries, "num_queries", minimum=1)
        self.queries = nn.Parameter(torch.randn(num_queries, dim))
        self.block = _AttentionBlock(dim, dim, heads, feedforward)
        self.out_dim = dim

    @property
    def last_weights(self):
        return self.block.cross_attn.last_weights

    def forward(self, features: dict, padding: dict | None = None) -> dict:
        tokens = _tokens(features, self.modality, self.out_dim)
        queries = self.queries.expand(len(tokens), -1, -1)
        pooled = self.block(queries, tokens, _padding(padding, self.modality, tokens))
        return {**features, self.modality: pooled}


class PooledFusion(nn.Module):
    """The lesson-06 way on token sequences: the mean of each modality's real tokens, one
    vector per modality, then ``fusion`` (a ``mmkit.fusion`` module: ConcatFusion,
    AttentionFusion, ...) on the vectors. Which word was where, and which patch held what,
    is gone before the modalities meet."""

    def __init__(self, fusion: nn.Module):
        super().__init__()
        if not isinstance(getattr(fusion, "in_dims", None), dict):
            raise TypeError(f"fusion must be a mmkit.fusion module (with in_dims), got "
                            f"{type(fusion).__name__}")
        self.fusion = fusion
        self.in_dims = fusion.in_dims
        self.modalities = list(self.in_dims)
        self.out_dim = fusion.out_dim

    @property
    def last_weights(self):
        """The inner fusion's per-modality weights (B, M), if it keeps any."""
        return getattr(self.fusion, "last_weights", None)

    def forward(self, features: dict, padding: dict | None = None) -> torch.Tensor:
        pooled = {}
        for name, size in self.in_dims.items():
            tokens = _tokens(features, name, size)
            pooled[name] = masked_mean(tokens, _padding(padding, name, tokens))
        return self.fusion(pooled)


def attention_flops(queries: int, keys: int, dim: int, context_dim: int | None = None,
                    project_context: bool = True) -> int:
    """Floating-point operations of one ``CrossAttention`` call for one sample: L = queries
    tokens of size dim read N = keys tokens of size context_dim.

    Counted as ``torch.utils.flop_counter`` counts them: 2 per multiply-add of every matrix
    product (the softmax, the scaling and the biases are left out, they are O(L N) and
    O(L d)). project_context=False leaves out the keys' and values' projections (2 N
    context_dim dim multiply-adds each), which can be computed once per image and reused
    by every question about it.
    """
    for value, name in ((queries, "queries"), (keys, "keys"), (dim, "dim")):
        check_int(value, name, minimum=1)
    context_dim = dim if context_dim is None else check_int(context_dim, "context_dim",
                                                            minimum=1)
    multiply_adds = (queries * dim * dim          # Q = x W_q
                     + queries * keys * dim       # scores Q Kᵀ
                     + queries * keys * dim       # weights @ V
                     + queries * dim * dim)       # output projection
    if project_context:
        multiply_adds += 2 * keys * context_dim * dim  # K = c W_k, V = c W_v
    return 2 * multiply_adds
