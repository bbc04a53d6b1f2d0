"""Lesson 12 self-checks: the FLOPs of a ViT layer, patchify, cross-attention from padded words."""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, number, run


def _layer_flops(tokens: int, dim: int, heads: int, feedforward: int) -> tuple[int, int]:
    """(attention, feed-forward) FLOPs of one Transformer layer over ``tokens`` tokens, as
    torch's FLOP counter counts them on ``nn.MultiheadAttention`` and two ``nn.Linear``."""
    attention = nn.MultiheadAttention(dim, heads, batch_first=True)
    mlp = nn.Sequential(nn.Linear(dim, feedforward), nn.ReLU(), nn.Linear(feedforward, dim))
    x = torch.zeros(1, tokens, dim)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        attention(x, x, x, need_weights=True)  # the path that computes the weights explicitly
    with torch.no_grad(), FlopCounterMode(display=False) as mlp_counter:
        mlp(x)
    return counter.get_total_flops(), mlp_counter.get_total_flops()


def check_tokens_and_flops(fn: Callable) -> Feedback:
    """Exercise: ``layer_flops(image_size, patch_size, dim, heads, feedforward)`` -> (T,
    flops) for one whole ViT layer with a class token: T = (image_size / patch_size)^2 + 1
    tokens; the FLOPs (2 per multiply-add) of its self-attention with ``heads`` heads (the
    four d x d projections of every token, Q Kᵀ and weights @ V) plus its feed-forward
    layer (dim -> feedforward -> dim for every token). Checked against
    ``torch.utils.flop_counter`` on ``nn.MultiheadAttention`` and two ``nn.Linear``."""

    def checks() -> str:
        # First a feed-forward of 3 * dim: at 2 * dim (the lesson's) or 4 * dim its FLOPs, or
        # half of them, equal the four projections', and two mistakes would look alike.
        for size, patch, dim, heads, feedforward in ((32, 4, 16, 4, 48), (224, 16, 64, 8, 256),
                                                     (32, 8, 32, 2, 64)):
            out = call_any(fn, size, patch, dim, heads, feedforward)
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
            t = patches + 1
            attention, mlp = _layer_flops(t, dim, heads, feedforward)
            expected = attention + mlp
            mixing = 2 * 2 * t * t * dim  # Q Kᵀ and weights @ V, all heads together
            if flops == expected / 2:
                raise Wrong("counts multiply-adds; a FLOP counter counts 2 per multiply-add")
            if flops == attention:
                raise Wrong("counts the self-attention only; the feed-forward layer (dim -> "
                            "feedforward -> dim, for every token) is part of the layer too")
            if flops == mlp:
                raise Wrong("counts the feed-forward layer only; add the self-attention")
            if flops == attention + mlp / 2:
                raise Wrong("counts one of the feed-forward layer's two matrix products; it "
                            "has dim -> feedforward and feedforward -> dim")
            if heads > 1 and flops in (expected + (heads - 1) * mixing,
                                       heads * attention + mlp):
                raise Wrong(f"multiplies by the {heads} heads; each head works on dim / heads "
                            "numbers, so the heads together cost what one head of full width "
                            "would")
            if flops == mixing + mlp:
                raise Wrong("leaves out the four projections (Q, K, V and the output, d x d "
                            "each, for every token)")
            if flops != expected:
                raise Wrong(f"{size} px, patch {patch}, dim {dim}, {heads} heads, "
                            f"feedforward {feedforward}: expected {expected} FLOPs (torch's "
                            f"counter), got {flops:g}")
        # The last case is the lesson's layer (32 px, P = 8, dim 32, feed-forward 64).
        return ("correct, as torch's FLOP counter counts; the heads share out dim and leave "
                f"the count as it is. In the lesson's layer (17 tokens) the feed-forward is "
                f"{mlp / expected:.0%} of the FLOPs, Q Kᵀ and weights @ V {mixing / expected:.0%}")

    return run("the FLOPs of a ViT layer", checks)


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
    """Exercise: ``words_read_patches(words, patches, word_padding)``: every word reads the
    patches with one head and no projections, softmax(w pᵀ / √d) p, then the mean over the
    *real* words -> (B, d). ``word_padding`` (B, L) bool is True at the padded words: they
    are the queries here, so nothing is hidden from them; they only must not count in the
    mean. words (B, L, d), patches (B, N, d)."""

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        words, patches = torch.randn(2, 4, 8, generator=g), torch.randn(2, 5, 8, generator=g)
        padding = torch.tensor([[False] * 4, [False, False, True, True]])
        try:
            out = call(fn, words, patches, padding)
        except Wrong as wrong:
            if isinstance(wrong.__cause__, RuntimeError) and "size" in str(wrong.__cause__):
                raise Wrong(f"{wrong}. word_padding (B, L) marks words, the queries; the "
                            "patches (keys) have no padding to hide") from None
            raise
        read = F.scaled_dot_product_attention(words, patches, patches)  # (B, L, d)
        real = (~padding).float().unsqueeze(-1)
        expected = (read * real).sum(dim=1) / real.sum(dim=1)
        if out.shape == (2, 4, 8):
            raise Wrong("returns one vector per word, (B, L, d); average over the real words "
                        "to one vector per sample, (B, d)")
        if out.shape != (2, 8):
            raise Wrong(f"shape {tuple(out.shape)}, expected (2, 8): one vector per sample")
        if torch.isnan(out).any():
            raise Wrong("gives NaN: a padded word's scores all at -inf make a softmax of 0/0. "
                        "The padded words still read the patches; leave them out of the mean")
        if torch.allclose(out, read.mean(dim=1), atol=1e-5):
            raise Wrong("averages the padded words too: sample 2 has two real words, so its "
                        "mean is over those two")
        if torch.allclose(out, (read * real).sum(dim=1), atol=1e-5):
            raise Wrong("sums the real words; divide by how many there are")
        unscaled = torch.softmax(words @ patches.transpose(1, 2), dim=-1) @ patches
        if torch.allclose(out, (unscaled * real).sum(dim=1) / real.sum(dim=1), atol=1e-5):
            raise Wrong("forgot the √d scaling: divide the scores by √d (here √8)")
        if not torch.allclose(out, expected, atol=1e-5):
            raise Wrong("differs from the mean over the real words of softmax(w pᵀ / √d) p "
                        "(F.scaled_dot_product_attention(words, patches, patches), then a "
                        "masked mean)")
        return ("correct: equal to F.scaled_dot_product_attention, then the mean over the real "
                "words; the padded words read the patches but do not count")

    return run("cross-attention, padded words", checks)
