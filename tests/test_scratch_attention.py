"""Positional encoding, scaled dot-product attention and multi-head attention from scratch,
against the formula, F.scaled_dot_product_attention and nn.MultiheadAttention."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmkit import scratch

TOL = {"atol": 1e-5, "rtol": 1e-5}


@pytest.mark.parametrize(("length", "dim"), [(1, 1), (5, 4), (7, 7), (50, 32)])
def test_positional_encoding_follows_the_formula(length, dim):
    pe = scratch.positional_encoding(length, dim)
    assert pe.shape == (length, dim) and pe.dtype == torch.float32
    for pos in range(length):
        for j in range(dim):
            angle = pos / 10000 ** ((j - j % 2) / dim)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert abs(pe[pos, j].item() - expected) < 1e-6


def test_positional_encoding_gives_every_position_its_own_code():
    pe = scratch.positional_encoding(64, 16)
    distances = torch.cdist(pe, pe) + torch.eye(64) * 10
    assert distances.min() > 0.1
    assert pe.abs().max() <= 1.0


def _qkv(shape_q, keys, dim_v, device, seed):
    g = torch.Generator().manual_seed(seed)
    *lead, length, d = shape_q
    q = torch.randn(*lead, length, d, generator=g).to(device)
    k = torch.randn(*lead, keys, d, generator=g).to(device)
    v = torch.randn(*lead, keys, dim_v, generator=g).to(device)
    return q, k, v


@pytest.mark.parametrize(("shape_q", "keys", "dim_v"), [
    ((3, 4), 5, 2), ((2, 4, 8), 6, 8), ((2, 3, 5, 16), 7, 4), ((1, 1, 1), 1, 1),
])
def test_attention_without_mask_matches_torch(shape_q, keys, dim_v, device):
    q, k, v = _qkv(shape_q, keys, dim_v, device, seed=keys)
    out, weights = scratch.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), **TOL)
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    torch.testing.assert_close(weights, expected, **TOL)
    torch.testing.assert_close(weights.sum(-1), torch.ones_like(weights.sum(-1)), **TOL)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_attention_with_a_bool_mask_matches_torch(seed, device):
    q, k, v = _qkv((2, 3, 5, 8), 6, 4, device, seed)
    mask = torch.rand(5, 6, generator=torch.Generator().manual_seed(seed)).to(device) > 0.4
    mask[:, 0] = True  # every query sees at least one key
    out, weights = scratch.scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), **TOL)
    assert (weights.masked_select(~mask.expand_as(weights)) == 0).all()


def test_attention_with_a_float_mask_and_a_scale_matches_torch(device):
    q, k, v = _qkv((2, 4, 8), 4, 3, device, 7)
    bias = torch.randn(4, 4, generator=torch.Generator().manual_seed(1)).to(device)
    out, _ = scratch.scaled_dot_product_attention(q, k, v, bias, scale=0.3)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=0.3)
    torch.testing.assert_close(out, ref, **TOL)


@pytest.mark.parametrize("length", [1, 4, 9])
def test_causal_attention_matches_torch_and_never_reads_ahead(length, device):
    q, k, v = _qkv((3, length, 8), length, 8, device, length)
    out, weights = scratch.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), **TOL)
    assert (weights.triu(diagonal=1) == 0).all()


def test_key_padding_mask_matches_an_equivalent_attn_mask(device):
    q, k, v = _qkv((3, 2, 4, 8), 5, 8, device, 11)
    padding = torch.tensor([[False] * 5, [False, False, True, True, True],
                            [False, True, True, True, True]], device=device)
    out, weights = scratch.scaled_dot_product_attention(q, k, v, key_padding_mask=padding)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=~padding[:, None, None, :])
    torch.testing.assert_close(out, ref, **TOL)
    assert (weights[1, ..., 2:] == 0).all() and (weights[2, ..., 1:] == 0).all()
    # Changing what sits at the padded positions changes nothing.
    k2, v2 = k.clone(), v.clone()
    k2[2, :, 1:], v2[2, :, 1:] = 100.0, -100.0
    out2, _ = scratch.scaled_dot_product_attention(q, k2, v2, key_padding_mask=padding)
    torch.testing.assert_close(out2, out, **TOL)


def test_fully_masked_queries_give_zeros_like_torch_and_finite_gradients(device):
    q, k, v = _qkv((2, 3, 4), 3, 4, device, 5)
    q.requires_grad_(True)
    mask = torch.ones(2, 3, 3, dtype=torch.bool, device=device)
    mask[0, 1] = False  # query 1 of sample 0 may look at nothing
    out, weights = scratch.scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), **TOL)
    assert (out[0, 1] == 0).all() and (weights[0, 1] == 0).all()
    (grad,) = torch.autograd.grad(out.sum(), q)
    assert torch.isfinite(grad).all()


def _mha(embed, heads, device, seed, bias=True):
    torch.manual_seed(seed)
    module = nn.MultiheadAttention(embed, heads, batch_first=True, bias=bias).to(device)
    with torch.no_grad():  # non-zero biases, so a bias mistake shows
        if bias:
            module.in_proj_bias.normal_()
            module.out_proj.bias.normal_()
    return module


def _ours(module, query, key, value, **masks):
    return scratch.multi_head_attention(
        query, key, value, module.num_heads, module.in_proj_weight, module.in_proj_bias,
        module.out_proj.weight, module.out_proj.bias, **masks,
    )


@pytest.mark.parametrize(("batch", "length", "keys", "embed", "heads"), [
    (1, 1, 1, 4, 1), (2, 5, 5, 8, 2), (3, 4, 7, 12, 3), (2, 6, 6, 16, 4),
])
def test_multi_head_attention_matches_torch(batch, length, keys, embed, heads, device):
    module = _mha(embed, heads, device, seed=embed + heads)
    g = torch.Generator().manual_seed(batch)
    query = torch.randn(batch, length, embed, generator=g).to(device)
    key = torch.randn(batch, keys, embed, generator=g).to(device)
    value = torch.randn(batch, keys, embed, generator=g).to(device)
    with torch.no_grad():
        out, weights = _ours(module, query, key, value)
        ref, ref_weights = module(query, key, value, average_attn_weights=False)
    assert weights.shape == (batch, heads, length, keys)
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(weights, ref_weights, **TOL)


def test_multi_head_attention_with_padding_and_causal_masks_matches_torch(device):
    module = _mha(8, 2, device, seed=3)
    x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(0)).to(device)
    padding = torch.zeros(3, 5, dtype=torch.bool, device=device)
    padding[1, 3:], padding[2, 1:] = True, True
    causal = torch.ones(5, 5, dtype=torch.bool, device=device).triu(1)  # True = not allowed
    for masks in ({"key_padding_mask": padding}, {"attn_mask": causal},
                  {"key_padding_mask": padding, "attn_mask": causal}):
        with torch.no_grad():
            out, weights = _ours(module, x, x, x, **masks)
            ref, ref_weights = module(x, x, x, average_attn_weights=False, **masks)
        torch.testing.assert_close(out, ref, **TOL)
        torch.testing.assert_close(weights, ref_weights, **TOL)


def test_multi_head_attention_without_bias_matches_torch(device):
    module = _mha(8, 4, device, seed=9, bias=False)
    x = torch.randn(2, 3, 8, generator=torch.Generator().manual_seed(2)).to(device)
    with torch.no_grad():
        out, weights = _ours(module, x, x, x)
        ref, ref_weights = module(x, x, x, average_attn_weights=False)
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(weights, ref_weights, **TOL)


def test_multi_head_attention_of_an_all_padding_text_is_its_output_bias(device):
    # torch's module gives NaN here (softmax over nothing); ours gives zero attention.
    module = _mha(8, 2, device, seed=4)
    x = torch.randn(2, 3, 8, device=device)
    padding = torch.tensor([[False, False, True], [True, True, True]], device=device)
    with torch.no_grad():
        out, weights = _ours(module, x, x, x, key_padding_mask=padding)
        ref, _ = module(x[:1], x[:1], x[:1], key_padding_mask=padding[:1])
    torch.testing.assert_close(out[:1], ref, **TOL)
    assert (weights[1] == 0).all()
    torch.testing.assert_close(out[1], module.out_proj.bias.expand(3, 8), **TOL)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda q: scratch.scaled_dot_product_attention(q, q.tolist(), q), TypeError,
     "k must be a torch.Tensor"),
    (lambda q: scratch.scaled_dot_product_attention(q, q[..., :3], q), ValueError,
     "q and k must have the same last dimension"),
    (lambda q: scratch.scaled_dot_product_attention(q, q, q[:, :2]), ValueError,
     "k and v must have one row per key"),
    (lambda q: scratch.scaled_dot_product_attention(q, q, q, torch.ones(3, 3, dtype=torch.bool)),
     ValueError, r"mask of shape \(3, 3\) does not broadcast"),
    (lambda q: scratch.scaled_dot_product_attention(q, q, q, torch.ones(4, 4, dtype=torch.long)),
     TypeError, "mask must be a bool or a float tensor"),
    (lambda q: scratch.scaled_dot_product_attention(q, q, q, key_padding_mask=torch.zeros(2, 4)),
     TypeError, "key_padding_mask must be a bool tensor"),
    (lambda q: scratch.scaled_dot_product_attention(
        q, q, q, key_padding_mask=torch.zeros(2, 5, dtype=torch.bool)),
     ValueError, r"key_padding_mask must have shape \(batch, keys\) = \(2, 4\)"),
    (lambda q: scratch.multi_head_attention(q, q, q, 3, *_weights(8)), ValueError,
     "must be divisible by num_heads=3"),
    (lambda q: scratch.multi_head_attention(q, q, q, 2, torch.ones(8, 8), *_weights(8)[1:]),
     ValueError, r"in_proj_weight must have shape \(3 \* 8, 8\)"),
    (lambda q: scratch.multi_head_attention(q, q[:1], q, 2, *_weights(8)), ValueError,
     "the same batch size"),
    (lambda q: scratch.multi_head_attention(q, q, q, 2, *_weights(8),
                                            attn_mask=torch.ones(4, 4)), ValueError,
     "attn_mask must be a bool tensor"),
    (lambda q: scratch.positional_encoding(0, 4), ValueError, "length must be >= 1"),
    (lambda q: scratch.positional_encoding(4, 2.5), TypeError, "dim must be an int"),
])
def test_bad_inputs_are_named(call, error, match):
    q = torch.randn(2, 4, 8)
    with pytest.raises(error, match=match):
        call(q)


def _weights(embed):
    return torch.randn(3 * embed, embed), torch.zeros(3 * embed), torch.randn(embed, embed), None


# ---- the exercise's self-check -----------------------------------------------------------

def _attention(scale_by="sqrt", dim=-1, mask_mode="right"):
    def fn(q, k, v, mask=None):
        d = q.shape[-1]
        scores = q @ k.transpose(-2, -1)
        scores = scores / {"sqrt": math.sqrt(d), "none": 1.0, "d": d}[scale_by]
        if mask is not None and mask_mode == "right":
            scores = scores.masked_fill(~mask, float("-inf"))
        elif mask is not None and mask_mode == "inverted":
            scores = scores.masked_fill(mask, float("-inf"))
        elif mask is not None and mask_mode == "zero":
            scores = scores.masked_fill(~mask, 0.0)
        return torch.softmax(scores, dim=dim) @ v
    return fn


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_attention(), True, "correct"),
    (lambda q, k, v, mask=None: scratch.scaled_dot_product_attention(q, k, v, mask)[0], True,
     "correct"),
    (_attention(scale_by="none"), False, "forgot the √d scaling"),
    (_attention(scale_by="d"), False, "divides by d"),
    (_attention(dim=-2), False, "softmax over the wrong dimension"),
    (_attention(mask_mode="ignored"), False, "ignores the mask"),
    (_attention(mask_mode="inverted"), False, "inverts the mask"),
    (_attention(mask_mode="zero"), False, "fill -inf (not 0)"),
    (lambda q, k, v, mask=None: (q @ k.transpose(-2, -1)).softmax(-1), False, "output shape"),
    (lambda q, k, v, mask=None: None, False, "returned nothing"),
])
def test_check_attention(fn, passed, words):
    from mmkit import exercises

    feedback = exercises.check_attention(fn)
    assert feedback.passed is passed
    assert words in feedback.message
