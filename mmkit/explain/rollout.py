"""Attention rollout (Abnar & Zuidema, 2020): which *input* tokens a token's output draws on.

A layer's attention map A (rows sum to 1) says how much each token read from each token of
that layer's *input*. But after one layer every token is already a mixture, so the map of
layer 2 is over mixtures, not over patches. Rollout follows the mixing back to the input:

    Ã_l = normalise_rows(½ A_l + ½ I)        the residual: x + Attention(x) keeps x itself
    R   = Ã_L · ... · Ã_2 · Ã_1              row i: how much output token i draws on input j

The heads of a layer are averaged first (the paper's choice). Rows of R sum to 1.

Through a cross-attention (words reading patches), the same bookkeeping gives a word ->
input-patch map: the word's final token draws on the input words by R_text, each final
word token reads the (mixed) patch tokens by the cross-attention A, and each patch token
draws on the input patches by R_image:

    word s -> input patch n   ∝   Σ_t Σ_m R_text[t, s] · A[t, m] · R_image[m, n]
                              =   (R_textᵀ · A · R_image)[s, n]

(Chefer et al., 2021, propagate relevance through co-attention the same way.)
"""

import torch

from mmkit.checks import check_choice, check_tensor


def _check_maps(attentions) -> list:
    if isinstance(attentions, torch.Tensor) or not isinstance(attentions, (list, tuple)) \
            or not attentions:
        raise TypeError("attentions must be a non-empty list of per-layer attention maps "
                        "(B, heads, N, N), first layer first")
    shape = None
    for index, weights in enumerate(attentions):
        check_tensor(weights, f"attentions[{index}]", floating=True, ndim=(3, 4))
        if weights.shape[-1] != weights.shape[-2]:
            raise ValueError(f"attentions[{index}] must be square over the tokens "
                             f"(..., N, N), got {tuple(weights.shape)}")
        if shape is not None and (weights.shape[0], weights.shape[-1]) != shape:
            raise ValueError(f"attentions[{index}] has shape {tuple(weights.shape)}: every "
                             f"layer needs the same batch and tokens, {shape}")
        shape = (weights.shape[0], weights.shape[-1])
    return list(attentions)


def _normalise_rows(x: torch.Tensor) -> torch.Tensor:
    total = x.sum(dim=-1, keepdim=True)
    return x / torch.where(total > 0, total, torch.ones_like(total))


def attention_rollout(attentions, residual: bool = True, head_fusion: str = "mean") -> torch.Tensor:
    """Roll a stack of self-attention maps out to the input tokens: (B, N, N).

    attentions: a list over layers, first layer first, of (B, heads, N, N) weights (or
        (B, N, N), one head), e.g. ``ViT.last_attention``.
    residual: add the identity for the residual connection before multiplying (the paper's
        ½ A + ½ I); False multiplies the raw maps.
    head_fusion: how a layer's heads become one map: "mean" (the paper), "max" or "min".
    Row i of the result: how much output token i draws on each input token; rows sum to 1.
    """
    attentions = _check_maps(attentions)
    check_choice(head_fusion, "head_fusion", ("mean", "max", "min"))
    rollout = None
    for weights in attentions:
        weights = weights.detach().double()
        if weights.dim() == 4:
            weights = {"mean": weights.mean(dim=1), "max": weights.amax(dim=1),
                       "min": weights.amin(dim=1)}[head_fusion]
        if residual:
            weights = 0.5 * weights + 0.5 * torch.eye(weights.shape[-1], dtype=weights.dtype,
                                                      device=weights.device)
        weights = _normalise_rows(weights)
        rollout = weights if rollout is None else weights @ rollout  # later layers on the left
    return rollout.float()


def cross_attention_rollout(cross_weights: torch.Tensor, query_rollout=None,
                            context_rollout=None, query_padding=None) -> torch.Tensor:
    """Word -> input-patch maps through a cross-attention: (B, L, N), rows summing to 1.

    cross_weights: (B, heads, L, N) or (B, L, N) weights of the cross-attention (heads
        averaged), L final query tokens reading N context tokens.
    query_rollout: (B, L, L), the rollout of the query side's self-attention (the text
        encoder): row t = how much final token t draws on input word s. None: identity.
    context_rollout: (B, N, N), the rollout of the context side (the image encoder).
        None: identity (patch tokens that never attended to each other).
    query_padding: (B, L) bool, True at padding words: their final tokens read nothing
        that counts, so they pass nothing on.
    Row s of the result: the input patches that input word s ends up reading,
    (R_queryᵀ · A · R_context)[s].
    """
    check_tensor(cross_weights, "cross_weights", floating=True, ndim=(3, 4))
    weights = cross_weights.detach().double()
    if weights.dim() == 4:
        weights = weights.mean(dim=1)
    batch, length, keys = weights.shape
    if query_rollout is not None:
        check_tensor(query_rollout, "query_rollout", floating=True, ndim=3)
        if tuple(query_rollout.shape) != (batch, length, length):
            raise ValueError(f"query_rollout must have shape (B, L, L) = "
                             f"{(batch, length, length)}, got {tuple(query_rollout.shape)}")
        mixing = query_rollout.detach().double()
        if query_padding is not None:
            check_tensor(query_padding, "query_padding", ndim=2)
            if query_padding.dtype != torch.bool or tuple(query_padding.shape) != (batch, length):
                raise ValueError(f"query_padding must be a bool tensor of shape (B, L) = "
                                 f"{(batch, length)}, got {query_padding.dtype} "
                                 f"{tuple(query_padding.shape)}")
            mixing = mixing.masked_fill(query_padding[:, :, None], 0.0)
        weights = mixing.transpose(1, 2) @ weights
    if context_rollout is not None:
        check_tensor(context_rollout, "context_rollout", floating=True, ndim=3)
        if tuple(context_rollout.shape) != (batch, keys, keys):
            raise ValueError(f"context_rollout must have shape (B, N, N) = "
                             f"{(batch, keys, keys)}, got {tuple(context_rollout.shape)}")
        weights = weights @ context_rollout.detach().double()
    return _normalise_rows(weights).float()
