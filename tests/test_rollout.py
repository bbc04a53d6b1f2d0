"""Attention rollout against exact results and a plain loop; rollout through a cross-attention;
patch maps, their baselines and the pointing game on patches."""

import numpy as np
import pytest
import torch

from mmkit import explain
from mmkit.explain.patch_maps import (
    brightness_patch_map,
    patch_pointing_game,
    patches_to_pixels,
    random_patch_map,
)
from mmkit.explain.rollout import attention_rollout, cross_attention_rollout


def _random_attention(rng, batch, heads, tokens):
    return torch.softmax(torch.randn(batch, heads, tokens, tokens, generator=rng) * 2, dim=-1)


def _rollout_by_loop(attentions):
    """Abnar & Zuidema's rule, written with numpy and explicit loops."""
    layers = [a.double().mean(dim=1).numpy() for a in attentions]
    batch, tokens, _ = layers[0].shape
    out = np.zeros((batch, tokens, tokens))
    for b in range(batch):
        total = np.eye(tokens)
        for a in layers:
            mixed = 0.5 * a[b] + 0.5 * np.eye(tokens)
            for i in range(tokens):
                mixed[i] /= mixed[i].sum()
            total = mixed @ total
        out[b] = total
    return out


def test_rollout_equals_a_plain_loop(rng):
    attentions = [_random_attention(rng, 2, 3, 5) for _ in range(3)]
    np.testing.assert_allclose(attention_rollout(attentions).numpy(), _rollout_by_loop(attentions),
                               atol=1e-6)


@pytest.mark.parametrize(("tokens", "layers"), [(17, 1), (17, 2), (5, 4), (1, 3)])
def test_rollout_of_uniform_attention_is_exact(tokens, layers):
    uniform = [torch.full((1, 2, tokens, tokens), 1 / tokens)] * layers
    exact = 0.5**layers * torch.eye(tokens) + (1 - 0.5**layers) / tokens
    torch.testing.assert_close(attention_rollout(uniform)[0], exact)


def test_rollout_properties(rng):
    attentions = [_random_attention(rng, 2, 2, 6) for _ in range(2)]
    rollout = attention_rollout(attentions)
    torch.testing.assert_close(rollout.sum(-1), torch.ones(2, 6))
    assert (rollout >= 0).all()
    identity = [torch.eye(6).expand(2, 2, 6, 6)] * 3
    torch.testing.assert_close(attention_rollout(identity), torch.eye(6).expand(2, 6, 6))
    one = attention_rollout(attentions[:1])
    torch.testing.assert_close(one, 0.5 * attentions[0].mean(1) + 0.5 * torch.eye(6))
    raw = attention_rollout(attentions, residual=False)
    torch.testing.assert_close(raw, attentions[1].mean(1) @ attentions[0].mean(1))
    largest = attention_rollout(attentions[:1], residual=False, head_fusion="max")
    maxed = attentions[0].amax(1)
    torch.testing.assert_close(largest, maxed / maxed.sum(-1, keepdim=True))
    three_d = attention_rollout([a.mean(1) for a in attentions])  # one head, (B, N, N)
    torch.testing.assert_close(three_d, rollout)


def test_exported_from_explain():
    assert explain.attention_rollout is attention_rollout


def test_cross_attention_rollout_follows_both_sides(rng):
    cross = torch.softmax(torch.randn(2, 3, 4, 6, generator=rng), dim=-1)  # (B, heads, L, N)
    text = attention_rollout([_random_attention(rng, 2, 2, 4)])
    image = attention_rollout([_random_attention(rng, 2, 2, 6)])
    plain = cross.mean(1)
    torch.testing.assert_close(cross_attention_rollout(cross), plain)
    out = cross_attention_rollout(cross, query_rollout=text, context_rollout=image)
    expected = torch.einsum("bts,btm,bmn->bsn", text.double(), plain.double(), image.double())
    expected = (expected / expected.sum(-1, keepdim=True)).float()
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out.sum(-1), torch.ones(2, 4))
    padding = torch.tensor([[False, False, True, True], [False] * 4])
    masked = cross_attention_rollout(cross, query_rollout=text, query_padding=padding)
    keep = (text * ~padding[:, :, None]).double()
    expected = torch.einsum("bts,btn->bsn", keep, plain.double())
    torch.testing.assert_close(masked, (expected / expected.sum(-1, keepdim=True)).float())


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: attention_rollout([]), TypeError, "non-empty list"),
    (lambda: attention_rollout(torch.ones(1, 2, 3, 3)), TypeError, "non-empty list"),
    (lambda: attention_rollout([torch.ones(1, 2, 3, 4)]), ValueError, "square"),
    (lambda: attention_rollout([torch.ones(1, 2, 3, 3), torch.ones(1, 2, 4, 4)]), ValueError,
     "same batch and tokens"),
    (lambda: attention_rollout([torch.ones(1, 3, 3)], head_fusion="median"), ValueError,
     "head_fusion must be one of"),
    (lambda: cross_attention_rollout(torch.ones(1, 2, 3), query_rollout=torch.ones(1, 3, 3)),
     ValueError, r"query_rollout must have shape \(B, L, L\) = \(1, 2, 2\)"),
    (lambda: cross_attention_rollout(torch.ones(1, 2, 3), context_rollout=torch.ones(1, 2, 2)),
     ValueError, r"context_rollout must have shape \(B, N, N\) = \(1, 3, 3\)"),
    (lambda: cross_attention_rollout(torch.ones(1, 2, 3), query_rollout=torch.ones(1, 2, 2),
                                     query_padding=torch.zeros(1, 2)), ValueError,
     "query_padding must be a bool tensor"),
])
def test_bad_inputs_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_patches_to_pixels_and_brightness(rng):
    maps = torch.arange(4.0).reshape(1, 4)
    pixels = patches_to_pixels(maps, 3)
    assert pixels.shape == (1, 6, 6)
    assert pixels[0, 0, 0] == 0 and pixels[0, 0, 5] == 1 and pixels[0, 5, 0] == 2
    images = torch.rand(2, 3, 8, 8, generator=rng)
    bright = brightness_patch_map(images, 4)
    torch.testing.assert_close(bright[1, 1], images[1, :, :4, 4:].mean())
    random = random_patch_map(3, 16, seed=2)
    torch.testing.assert_close(random, random_patch_map(3, 16, seed=2))
    assert random.shape == (3, 16) and not torch.equal(random, random_patch_map(3, 16, seed=3))


def _pointing_by_hand(maps, masks, patch):
    hits = []
    for weights, mask in zip(maps, masks, strict=True):
        grid = int(len(weights) ** 0.5)
        top = int(weights.argmax())
        row, col = divmod(top, grid)
        hits.append(bool(mask[row * patch:(row + 1) * patch, col * patch:(col + 1) * patch].any()))
    return hits


def test_patch_pointing_game_is_a_hit_exactly_when_the_top_patch_holds_the_object(rng):
    masks = torch.zeros(200, 16, 16, dtype=torch.bool)
    for i in range(200):  # small random boxes
        r, c = torch.randint(0, 14, (2,), generator=rng).tolist()
        masks[i, r:r + 3, c:c + 2] = True
    maps = torch.rand(200, 16, generator=rng)
    hits = patch_pointing_game(maps, masks, 4)
    assert hits.tolist() == _pointing_by_hand(maps, masks, 4)
    assert 0 < hits.float().mean() < 1
    flat = torch.ones(1, 16)
    assert not patch_pointing_game(flat, masks[:1], 4)[0]  # a flat map points nowhere
    with pytest.raises(ValueError, match=r"masks must be \(B, H, W\) = \(200, 16, 16\)"):
        patch_pointing_game(maps, masks[:, :8], 4)
    with pytest.raises(ValueError, match="is not a square"):
        patches_to_pixels(torch.ones(1, 15), 4)
