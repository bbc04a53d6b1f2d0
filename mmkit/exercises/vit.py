"""Lesson 12 self-checks: tokens and attention cost, patchify, cross-attention with padding."""

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, number, run


def _self_attention_flops(tokens: int, dim: int) -> int:
    """What torch's FLOP counter counts for one nn.MultiheadAttention self-attention call."""
    layer = nn.MultiheadAttention(dim, 1, batch_first=True)
    x = torch.zeros(1, tokens, dim)
    with FlopCounterMode(display=False) as counter:
        layer(x, x, x, need_weights=True)  # the path that computes the weights explicitly
    return counter.get_total_flops()


def check_tokens_and_flops(fn: Callable) -> Feedback:
    """Exercise: ``tokens_and_flops(image_size, patch_size, dim)`` -> (T, flops) for a ViT
    layer with a class token: T = (image_size / patch_size)^2 + 1 tokens, and the FLOPs of
    one self-attention over them (2 per multiply-add: the four d x d projections of every
    token, Q Kᵀ and weights @ V). Checked against ``torch.utils.flop_counter`` on
    ``nn.MultiheadAttention``."""

    def checks() -> str:
        for size, patch, dim in ((32, 8, 32), (32, 4, 16), (224, 16, 64)):
            out = call_any(fn, size, patch, dim)
            if not isinstance(out, tuple) or len(out) != 2:
                raise Wrong(f"must return the pair (tokens, flops), got {out!r}")
            tokens, flops = number(out[0], "tokens"), number(out[1], "flops")
            patches = (size // patch) ** 2
            if tokens == patches:
                raise Wrong(f"{size} px, patch {patch}: {int(tokens)} tokens is the patches "
                            "alone; the class token makes one more")
            if tokens == size // patch + 1:
                raise Wrong(f"{size} px, patch {patch}: the patches form a {size // patch} x "
                            f"{size // patch} grid, so (size / patch)^2 of them")
            if tokens != patches + 1:
                raise Wrong(f"{size} px, patch {patch}: expected {patches + 1} tokens, got "
                            f"{tokens:g}")
            expected = _self_attention_flops(patches + 1, dim)
            t = patches + 1
            if flops == expected / 2:
                raise Wrong("counts multiply-adds; a FLOP counter counts 2 per multiply-add")
            if flops == 2 * 2 * t * t * dim:
                raise Wrong("counts Q Kᵀ and weights @ V only; the four projections (Q, K, V "
                            "and the output, d x d each, for every token) cost too")
            if flops != expected:
                raise Wrong(f"{size} px, patch {patch}, dim {dim}: expected {expected} FLOPs "
                            f"(torch's counter), got {flops:g}")
        return ("correct, as torch's FLOP counter counts: halving the patch size makes 4x the "
                "tokens and ~16x the cost of Q Kᵀ")

    return run("tokens and attention FLOPs", checks)


def _reference_patchify(images, patch):
    return F.unfold(images, kernel_size=patch, stride=patch).transpose(1, 2)


def check_patchify(fn: Callable) -> Feedback:
    """Exercise: ``patchify(images, patch_size)``: (B, C, H, W) -> (B, N, C*P*P), the
    patches row by row, each flattened channel first, then row, then column (the layout of
    a Conv2d's weights, so that patch @ conv.weight.flatten(1).T is the convolution)."""

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        images = torch.rand(2, 3, 8, 12, generator=g)
        out = call(fn, images, 4)
        expected = _reference_patchify(images, 4)
        if out.shape == (2, 48, 6):
            raise Wrong("returns (B, C*P*P, N): transpose to one row per patch, (B, N, C*P*P)")
        if out.shape != expected.shape:
            raise Wrong(f"shape {tuple(out.shape)}, expected {tuple(expected.shape)}: "
                        "N = (8/4) * (12/4) = 6 patches of 3*4*4 = 48 numbers")
        channel_last = images.reshape(2, 3, 2, 4, 3, 4).permute(0, 2, 4, 3, 5, 1).reshape(2, 6, 48)
        if torch.allclose(out, channel_last):
            raise Wrong("flattens each patch channel last (row, column, channel); a Conv2d's "
                        "weights are (channel, row, column): put the channel first")
        by_column = images.reshape(2, 3, 2, 4, 3, 4).permute(0, 4, 2, 1, 3, 5).reshape(2, 6, 48)
        if torch.allclose(out, by_column):
            raise Wrong("lists the patches column by column; row by row is the order of "
                        "conv(x).flatten(2)")
        if not torch.allclose(out, expected):
            raise Wrong("differs from the patches (compare with F.unfold(images, P, stride=P)"
                        ".transpose(1, 2))")
        conv = nn.Conv2d(3, 5, 4, stride=4)
        with torch.no_grad():
            tokens = out @ conv.weight.flatten(1).T + conv.bias
            gap = (tokens - conv(images).flatten(2).transpose(1, 2)).abs().max().item()
        return (f"correct: patches @ the conv's weights = Conv2d(kernel=stride=4), max "
                f"|difference| {gap:.0e}")

    return run("patchify", checks)


def check_cross_attention(fn: Callable) -> Feedback:
    """Exercise: ``cross_attention(x, context, padding)``: one head, no projections:
    softmax(x contextᵀ / √d) context, where ``padding`` (B, N) bool is True at context
    tokens that must get weight 0 (the padding of a caption). x: (B, L, d), context
    (B, N, d) -> (B, L, d)."""

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        x, context = torch.randn(2, 3, 8, generator=g), torch.randn(2, 5, 8, generator=g)
        padding = torch.tensor([[False] * 5, [False, False, True, True, True]])
        out = call(fn, x, context, padding)
        if out.shape != (2, 3, 8):
            raise Wrong(f"shape {tuple(out.shape)}, expected (2, 3, 8): one output per query "
                        "token (weights (B, L, N) @ context (B, N, d))")
        scores = x @ context.transpose(1, 2)
        expected = F.scaled_dot_product_attention(x, context, context,
                                                  attn_mask=~padding[:, None, :])

        def attend(s, mask, values=context):
            return torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1) @ values

        if torch.allclose(out, torch.softmax(scores / math.sqrt(8), -1) @ context, atol=1e-5):
            raise Wrong("ignores padding: the padded context tokens still get weight; set "
                        "their scores to -inf before the softmax")
        # Sample 1 has real and padded tokens (sample 0 has no padding, so an inverted mask
        # would leave it nothing to attend to).
        inverted = attend(scores[1:] / math.sqrt(8), ~padding[1:, None, :], context[1:])
        if torch.allclose(out[1:], inverted, atol=1e-5):
            raise Wrong("masks the wrong tokens: padding is True at the tokens to IGNORE")
        if torch.allclose(out, attend(scores, padding[:, None, :]), atol=1e-5):
            raise Wrong("forgot the √d scaling: divide the scores by √d (here √8)")
        if not torch.allclose(out, expected, atol=1e-5):
            raise Wrong("differs from softmax(x cᵀ / √d) c with the padding's scores at -inf "
                        "(F.scaled_dot_product_attention(x, c, c, attn_mask=~padding[:, None, :]))")
        return "correct: equal to F.scaled_dot_product_attention with the padding masked"

    return run("cross-attention with padding", checks)
