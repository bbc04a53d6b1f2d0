"""Attention of lesson 04, from scratch: positional encoding, scaled dot-product attention and
multi-head attention.

``scaled_dot_product_attention`` mirrors ``F.scaled_dot_product_attention`` and
``multi_head_attention`` mirrors ``nn.MultiheadAttention(batch_first=True)`` given its
weights (tested to 1e-5 in float32); both also return the attention weights, which the
widgets and the explanations draw.

Masks, as in PyTorch (mind the two conventions, they are PyTorch's):
- ``mask`` of ``scaled_dot_product_attention`` (torch's ``attn_mask``): bool, True where a
  query MAY attend to a key; or a float tensor added to the scores.
- ``key_padding_mask`` (both functions, as in ``nn.MultiheadAttention``): bool (B, S),
  True at PADDING keys, which no query may attend to.
- ``attn_mask`` of ``multi_head_attention`` (as in ``nn.MultiheadAttention``): bool (L, S),
  True where a query may NOT attend.
A query that may attend to no key at all gets all-zero weights and a zero output, as
``F.scaled_dot_product_attention`` gives (``nn.MultiheadAttention`` gives NaN there).
"""

import math

import torch

from mmkit.checks import check_int, check_positive, check_tensor


def positional_encoding(length: int, dim: int) -> torch.Tensor:
    """The sinusoidal position code of "Attention is all you need": (length, dim) float32.

    PE[pos, 2i] = sin(pos / 10000^(2i/dim)),  PE[pos, 2i+1] = cos(pos / 10000^(2i/dim)).
    Each pair of columns is a clock hand turning at its own speed, from one turn every 2π
    positions down to one every 10000·2π: every position gets a distinct code, and the code
    of pos + k is a fixed rotation of the code of pos, so "k words later" is easy to learn.
    Attention by itself ignores order (位置编码: the article lists it and never applies it);
    adding this to the embeddings is what tells the model which word came where.
    """
    check_int(length, "length", minimum=1)
    check_int(dim, "dim", minimum=1)
    position = torch.arange(length, dtype=torch.float64)[:, None]
    pair = torch.arange(0, dim, 2, dtype=torch.float64)  # 2i for each sin/cos pair
    angle = position / 10000.0 ** (pair / dim)  # (length, ceil(dim / 2))
    encoding = torch.zeros(length, dim, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(angle)
    encoding[:, 1::2] = torch.cos(angle[:, : dim // 2])  # an odd dim has one sin more
    return encoding.float()


def _check_qkv(q, k, v) -> None:
    check_tensor(q, "q", floating=True, min_ndim=2)
    check_tensor(k, "k", floating=True, ndim=q.dim())
    check_tensor(v, "v", floating=True, ndim=q.dim())
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(
            f"q and k must have the same last dimension (the dot product runs over it), "
            f"got q {tuple(q.shape)} and k {tuple(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have one row per key (dimension -2), got k {tuple(k.shape)} "
            f"and v {tuple(v.shape)}"
        )


def _check_key_padding_mask(key_padding_mask, batch: int, keys: int) -> torch.Tensor:
    check_tensor(key_padding_mask, "key_padding_mask", ndim=2)
    if key_padding_mask.dtype != torch.bool:
        raise TypeError(
            f"key_padding_mask must be a bool tensor (True at padding), got {key_padding_mask.dtype}"
        )
    if tuple(key_padding_mask.shape) != (batch, keys):
        raise ValueError(
            f"key_padding_mask must have shape (batch, keys) = {(batch, keys)}, "
            f"got {tuple(key_padding_mask.shape)}"
        )
    return key_padding_mask


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    key_padding_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √d + mask) v; returns (output, weights). Mirrors
    ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=..., scale=...)``.

    q: (..., L, d) queries; k: (..., S, d) keys; v: (..., S, d_v) values; output
    (..., L, d_v); weights (..., L, S), each row a probability distribution over the keys
    (the attention map a widget draws).
    Why √d: a dot product of two d-dimensional vectors with unit-variance entries has
    variance d, so without the scaling the scores grow with d, softmax saturates to a
    one-hot and its gradient vanishes.

    mask: broadcastable to (..., L, S); bool (True = may attend) or float (added to scores).
    key_padding_mask: (B, S) bool, True at padding keys, for q of shape (B, ..., L, d).
    is_causal: query i sees keys 0..i only (a language model must not read ahead).
    """
    _check_qkv(q, k, v)
    length, keys = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check_positive(scale, "scale")
    scores = (q @ k.transpose(-2, -1)) * scale  # (..., L, S): how well each query fits each key

    allowed = torch.ones(length, keys, dtype=torch.bool, device=q.device)
    if is_causal:
        allowed = torch.tril(allowed)  # key j <= query i
    if mask is not None:
        check_tensor(mask, "mask", min_ndim=1, finite=False)
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            raise ValueError(
                f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
                f"{tuple(scores.shape)} (..., queries, keys)"
            ) from None
        if mask.dtype == torch.bool:
            allowed = allowed & mask
        elif mask.is_floating_point():
            scores = scores + mask
        else:
            raise TypeError(f"mask must be a bool or a float tensor, got {mask.dtype}")
    if key_padding_mask is not None:
        _check_key_padding_mask(key_padding_mask, q.shape[0], keys)
        not_padding = ~key_padding_mask.reshape(q.shape[0], *[1] * (q.dim() - 2), keys)
        allowed = allowed & not_padding
    return _softmax_attend(scores, allowed.expand_as(scores), v)


def _softmax_attend(scores, allowed, v) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax over the allowed keys, then the weighted sum of the values (no checks)."""
    # A forbidden key scores -inf, so softmax gives it weight exactly 0. A query with no key
    # allowed would be softmax(all -inf) = 0/0 = NaN: give it zeros instead (as torch does),
    # and keep the NaN out of the backward pass by never computing it.
    sees_something = allowed.any(dim=-1, keepdim=True)
    scores = scores.masked_fill(~allowed, float("-inf"))
    scores = torch.where(sees_something, scores, torch.zeros_like(scores))
    weights = torch.softmax(scores, dim=-1)
    weights = torch.where(sees_something, weights, torch.zeros_like(weights))
    return weights @ v, weights


def multi_head_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    num_heads: int,
    in_proj_weight: torch.Tensor,
    in_proj_bias: torch.Tensor | None,
    out_proj_weight: torch.Tensor,
    out_proj_bias: torch.Tensor | None,
    key_padding_mask: torch.Tensor | None = None,
    attn_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention; returns (output (B, L, E), weights per head (B, heads, L, S)).

    Mirrors ``nn.MultiheadAttention(E, num_heads, batch_first=True)`` with its
    ``in_proj_weight`` (3E, E: the q, k, v projections stacked), ``in_proj_bias`` (3E),
    ``out_proj.weight`` (E, E) and ``out_proj.bias`` (E); the weights equal its
    ``average_attn_weights=False`` ones. query: (B, L, E); key, value: (B, S, E).

    Each head looks at its own E / heads slice of the projected q, k, v, so it can learn its
    own notion of "which words matter here" (one head may follow the word order, another
    link an adjective to its noun); the heads' outputs are concatenated and mixed by the
    output projection. key_padding_mask: (B, S) bool, True at padding; attn_mask: (L, S)
    bool, True where a query may NOT attend (nn.MultiheadAttention's convention).
    """
    check_tensor(query, "query", floating=True, ndim=3)
    check_tensor(key, "key", floating=True, ndim=3)
    check_tensor(value, "value", floating=True, ndim=3)
    batch, length, embed = query.shape
    if key.shape[0] != batch or value.shape[0] != batch:
        raise ValueError(
            f"query, key and value must have the same batch size, got {batch}, "
            f"{key.shape[0]} and {value.shape[0]}"
        )
    if key.shape[-1] != embed or value.shape[-1] != embed or key.shape[1] != value.shape[1]:
        raise ValueError(
            f"key and value must have shape (batch, keys, {embed}) alike, got key "
            f"{tuple(key.shape)} and value {tuple(value.shape)}"
        )
    check_int(num_heads, "num_heads", minimum=1)
    if embed % num_heads:
        raise ValueError(
            f"the embedding size {embed} must be divisible by num_heads={num_heads}"
        )
    check_tensor(in_proj_weight, "in_proj_weight", floating=True, ndim=2)
    if tuple(in_proj_weight.shape) != (3 * embed, embed):
        raise ValueError(
            f"in_proj_weight must have shape (3 * {embed}, {embed}) = {(3 * embed, embed)}, "
            f"got {tuple(in_proj_weight.shape)}"
        )
    check_tensor(out_proj_weight, "out_proj_weight", floating=True, ndim=2)
    if tuple(out_proj_weight.shape) != (embed, embed):
        raise ValueError(
            f"out_proj_weight must have shape {(embed, embed)}, got {tuple(out_proj_weight.shape)}"
        )
    for bias, name, size in ((in_proj_bias, "in_proj_bias", 3 * embed),
                             (out_proj_bias, "out_proj_bias", embed)):
        if bias is not None:
            check_tensor(bias, name, floating=True, ndim=1)
            if bias.shape[0] != size:
                raise ValueError(f"{name} must have {size} entries, got {bias.shape[0]}")
    keys = key.shape[1]
    if key_padding_mask is not None:
        _check_key_padding_mask(key_padding_mask, batch, keys)
    allowed = None
    if attn_mask is not None:
        check_tensor(attn_mask, "attn_mask", ndim=2)
        if attn_mask.dtype != torch.bool or tuple(attn_mask.shape) != (length, keys):
            raise ValueError(
                f"attn_mask must be a bool tensor of shape (queries, keys) = {(length, keys)}, "
                f"True where attention is NOT allowed; got {attn_mask.dtype} "
                f"{tuple(attn_mask.shape)}"
            )
        allowed = ~attn_mask

    return _multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                                 out_proj_weight, out_proj_bias, key_padding_mask, allowed)


def _multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                          out_proj_weight, out_proj_bias, key_padding_mask=None, allowed=None):
    """The computation of ``multi_head_attention`` without its checks, for the encoders'
    inner loop. allowed: (L, S) bool, True where a query MAY attend, or None."""
    batch, length, embed = query.shape
    w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    head_dim = embed // num_heads

    def project(x, w, b):  # (B, n, E) -> (B, heads, n, head_dim)
        x = x @ w.T if b is None else x @ w.T + b
        return x.reshape(batch, -1, num_heads, head_dim).transpose(1, 2)

    q, k, v = project(query, w_q, b_q), project(key, w_k, b_k), project(value, w_v, b_v)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(head_dim)  # (B, heads, L, S)
    mask = torch.ones_like(scores, dtype=torch.bool) if allowed is None else allowed.expand_as(
        scores
    )
    if key_padding_mask is not None:
        mask = mask & ~key_padding_mask[:, None, None, :]
    heads, weights = _softmax_attend(scores, mask, v)
    merged = heads.transpose(1, 2).reshape(batch, length, embed)  # concatenate the heads
    output = merged @ out_proj_weight.T
    if out_proj_bias is not None:
        output = output + out_proj_bias
    return output, weights
