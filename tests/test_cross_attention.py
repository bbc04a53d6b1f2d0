"""Cross-attention against nn.MultiheadAttention (kdim/vdim, padding, edge cases); the token
fusions and the learned-query pooler; FLOPs against torch's FLOP counter."""

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import mmkit.fusion
from mmkit.cross_attention import (
    CrossAttention,
    CrossAttentionFusion,
    PooledFusion,
    QueryPooler,
    attention_flops,
    masked_mean,
)
from mmkit.fusion import AttentionFusion, ConcatFusion


def test_fusion_exports_the_lesson_12_modules():
    assert mmkit.fusion.CrossAttentionFusion is CrossAttentionFusion
    assert mmkit.fusion.QueryPooler is QueryPooler


@pytest.mark.parametrize(("dim", "context_dim", "heads", "length", "keys"),
                         [(32, 48, 2, 7, 16), (8, 8, 1, 1, 1), (16, 12, 4, 5, 9), (6, 3, 3, 2, 4)])
def test_cross_attention_equals_torch_multihead_attention(rng, dim, context_dim, heads, length, keys):
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(dim, heads, kdim=context_dim, vdim=context_dim, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_bias.normal_()  # zero at init: make the biases count
        theirs.out_proj.bias.normal_()
    ours = CrossAttention(dim, context_dim, heads)
    if context_dim != dim:
        ours.load_state_dict(theirs.state_dict())
    else:  # torch packs q, k and v into in_proj_weight when the sizes agree
        state = theirs.state_dict()
        q, k, v = state.pop("in_proj_weight").chunk(3)
        ours.load_state_dict({**state, "q_proj_weight": q, "k_proj_weight": k, "v_proj_weight": v})
    x = torch.randn(3, length, dim, generator=rng)
    context = torch.randn(3, keys, context_dim, generator=rng)
    padding = torch.zeros(3, keys, dtype=torch.bool)
    padding[1, keys // 2 + 1:] = True  # some padding, never all of a row
    padding[2, 1:] = True  # all but one key
    with torch.no_grad():
        for mask in (None, padding):
            expected, weights = theirs(x, context, context, key_padding_mask=mask,
                                       average_attn_weights=False)
            torch.testing.assert_close(ours(x, context, mask), expected, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(ours.last_weights, weights, atol=1e-6, rtol=1e-5)
    assert (ours.last_weights[2, :, :, 1:] == 0).all()


def test_a_query_with_every_key_padded_gets_zeros_not_nan(rng):
    layer = CrossAttention(4, 4, 1)
    padding = torch.tensor([[True, True, True], [False, True, True]])
    out = layer(torch.randn(2, 2, 4, generator=rng), torch.randn(2, 3, 4, generator=rng), padding)
    assert torch.isfinite(out).all()
    assert (layer.last_weights[0] == 0).all()
    torch.testing.assert_close(out[0], layer.out_proj.bias.detach().expand(2, 4))


def test_cross_attention_fusion_ignores_padded_words_and_padded_patches(rng):
    torch.manual_seed(0)
    fusion = CrossAttentionFusion({"text": 8, "image": 6}, heads=2).eval()
    words, patches = torch.randn(2, 4, 8, generator=rng), torch.randn(2, 5, 6, generator=rng)
    padded_words = torch.cat([words, torch.randn(2, 3, 8, generator=rng)], dim=1)
    word_padding = torch.tensor([[False] * 4 + [True] * 3] * 2)
    padded_patches = torch.cat([patches, torch.randn(2, 2, 6, generator=rng)], dim=1)
    patch_padding = torch.tensor([[False] * 5 + [True] * 2] * 2)
    with torch.no_grad():
        plain = fusion({"text": words, "image": patches})
        padded = fusion({"text": padded_words, "image": padded_patches},
                        {"text": word_padding, "image": patch_padding})
    torch.testing.assert_close(plain, padded, atol=1e-5, rtol=1e-5)
    assert plain.shape == (2, 8) and fusion.out_dim == 8
    assert fusion.last_weights.shape == (2, 2, 7, 7)
    assert (fusion.last_weights[..., 5:] == 0).all()
    torch.testing.assert_close(fusion.last_weights.sum(-1), torch.ones(2, 2, 7))


def test_query_pooler_returns_m_tokens_and_passes_the_rest_on(rng):
    torch.manual_seed(0)
    pooler = QueryPooler({"image": 8}, num_queries=3, heads=2)
    text = torch.randn(2, 5, 4, generator=rng)
    out = pooler({"image": torch.randn(2, 10, 8, generator=rng), "text": text})
    assert out["image"].shape == (2, 3, 8) and out["text"] is text
    assert pooler.last_weights.shape == (2, 2, 3, 10)
    torch.testing.assert_close(pooler.last_weights.sum(-1), torch.ones(2, 2, 3))
    # The queries are parameters: the same for every image, learned by backpropagation.
    # (Not .sum(): the block ends in a freshly made LayerNorm, whose outputs always sum to
    # the sum of its bias, so that gradient is zero up to rounding.)
    (out["image"] * torch.randn(2, 3, 8, generator=rng)).sum().backward()
    assert pooler.queries.grad is not None and pooler.queries.grad.abs().sum() > 0


def test_pooled_fusion_fuses_the_masked_means(rng):
    torch.manual_seed(0)
    inner = ConcatFusion({"image": 4, "text": 3})
    fusion = PooledFusion(inner)
    image, text = torch.randn(2, 6, 4, generator=rng), torch.randn(2, 5, 3, generator=rng)
    padding = torch.tensor([[False, False, True, True, True], [False] * 5])
    out = fusion({"image": image, "text": text}, {"text": padding})
    expected = torch.cat([image.mean(1), torch.stack([text[0, :2].mean(0), text[1].mean(0)])], 1)
    torch.testing.assert_close(out, expected)
    attention = PooledFusion(AttentionFusion({"image": 4, "text": 3}, dim=5))
    assert attention({"image": image, "text": text}, {"text": padding}).shape == (2, 5)
    assert attention.last_weights.shape == (2, 2)
    torch.testing.assert_close(masked_mean(text, None), text.mean(1))


@pytest.mark.parametrize(("queries", "keys", "dim", "context_dim"),
                         [(6, 16, 32, 48), (1, 1, 4, 4), (4, 64, 16, 8)])
def test_attention_flops_is_what_torch_counts(queries, keys, dim, context_dim):
    layer = CrossAttention(dim, context_dim, heads=2 if dim % 2 == 0 else 1)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(torch.zeros(1, queries, dim), torch.zeros(1, keys, context_dim))
    assert attention_flops(queries, keys, dim, context_dim) == counter.get_total_flops()
    projections = 2 * 2 * keys * context_dim * dim
    assert attention_flops(queries, keys, dim, context_dim, project_context=False) == \
        counter.get_total_flops() - projections


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: CrossAttention(6, 4, heads=4), ValueError, "divisible by heads"),
    (lambda: CrossAttention(4, 4)(torch.zeros(1, 2, 5), torch.zeros(1, 3, 4)), ValueError,
     r"x must have shape \(B, L, 4\)"),
    (lambda: CrossAttention(4, 6)(torch.zeros(1, 2, 4), torch.zeros(2, 3, 6)), ValueError,
     r"context must have shape \(1, N, 6\)"),
    (lambda: CrossAttentionFusion({"text": 4}), ValueError, "'image' is not a modality"),
    (lambda: CrossAttentionFusion({"text": 4, "image": 4}, query="text", context="text"),
     ValueError, "two modalities"),
    (lambda: CrossAttentionFusion({"text": 4, "image": 4})({"text": torch.zeros(1, 2, 4)}),
     ValueError, "features has no 'image'"),
    (lambda: CrossAttentionFusion({"text": 4, "image": 4})(
        {"text": torch.zeros(1, 2, 4), "image": torch.zeros(1, 3, 5)}), ValueError,
     r"features\['image'\] must be tokens of shape \(B, T, 4\)"),
    (lambda: CrossAttentionFusion({"text": 4, "image": 4})(
        {"text": torch.zeros(1, 2, 4), "image": torch.zeros(1, 3, 4)},
        {"text": torch.zeros(1, 3, dtype=torch.bool)}), ValueError,
     r"padding\['text'\] must be a bool tensor of shape"),
    (lambda: CrossAttentionFusion([4, 4]), TypeError, "in_dims must be a non-empty dict"),
    (lambda: QueryPooler({"image": 4, "text": 4}, 2), ValueError, "the one modality"),
    (lambda: QueryPooler({"image": 4}, 0), ValueError, "num_queries must be >= 1"),
    (lambda: PooledFusion(nn.Linear(2, 2)), TypeError, "mmkit.fusion module"),
    (lambda: attention_flops(0, 3, 4), ValueError, "queries must be >= 1"),
])
def test_bad_inputs_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
