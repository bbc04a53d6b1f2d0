"""Patchify, the patch embedding and the ViT against PyTorch's own layers (F.unfold, Conv2d,
nn.TransformerEncoderLayer); PatchTokens keeps patches apart; TextTokens is the lesson-04
encoder without its mean."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmkit.encoders import PatchEmbedding, PatchTokens, TextTokens, TransformerTextEncoder, ViT
from mmkit.encoders.vit import patchify


@pytest.mark.parametrize(("shape", "patch"), [((2, 3, 32, 32), 8), ((1, 1, 8, 12), 4),
                                              ((3, 2, 6, 6), 1), ((1, 3, 16, 16), 16)])
def test_patchify_equals_unfold_and_a_hand_made_cut(rng, shape, patch):
    images = torch.rand(*shape, generator=rng)
    ours = patchify(images, patch)
    torch.testing.assert_close(ours, F.unfold(images, patch, stride=patch).transpose(1, 2))
    b, c, h, w = shape
    rows, cols = h // patch, w // patch
    assert ours.shape == (b, rows * cols, c * patch * patch)
    # patch (1, 0) of image 0, by hand: rows patch..2*patch-1, columns 0..patch-1
    if rows > 1:
        by_hand = images[0, :, patch:2 * patch, :patch].flatten()
        torch.testing.assert_close(ours[0, cols], by_hand)


@pytest.mark.parametrize("patch", [2, 4, 8])
def test_patch_embedding_is_a_strided_convolution_and_a_linear_map(rng, patch):
    torch.manual_seed(0)
    embedding = PatchEmbedding(patch, 3, 16)
    conv = nn.Conv2d(3, 16, patch, stride=patch)
    conv.load_state_dict(embedding.projection.state_dict())
    images = torch.rand(2, 3, 16, 16, generator=rng)
    tokens = embedding(images)
    assert tokens.shape == (2, (16 // patch) ** 2, 16)
    torch.testing.assert_close(tokens, conv(images).flatten(2).transpose(1, 2))
    linear = patchify(images, patch) @ embedding.weight.T + embedding.bias
    torch.testing.assert_close(tokens, linear, atol=1e-5, rtol=1e-5)


def test_vit_equals_torch_transformer_layers_with_the_same_weights(rng):
    torch.manual_seed(0)
    vit = ViT(image_size=16, patch_size=4, dim=16, heads=2, layers=2).eval()
    reference = [nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                            batch_first=True).eval() for _ in range(2)]
    for ours, theirs in zip(vit.layers, reference, strict=True):
        theirs.load_state_dict(ours.state_dict())
    images = torch.rand(3, 3, 16, 16, generator=rng)
    with torch.no_grad():
        x = vit.patch_embedding.projection(images).flatten(2).transpose(1, 2)
        x = torch.cat([vit.class_token.expand(3, -1, -1), x], dim=1) + vit.position
        for layer in reference:
            x = layer(x)
        torch.testing.assert_close(vit.tokens(images), x, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(vit(images), x[:, 0], atol=1e-5, rtol=1e-5)
    assert vit.out_dim == 16 and vit.num_patches == 16
    assert [tuple(w.shape) for w in vit.last_attention] == [(3, 2, 17, 17)] * 2
    for weights in vit.last_attention:
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2, 17))


def test_vit_without_class_token_averages_its_patches(rng):
    torch.manual_seed(0)
    vit = ViT(image_size=8, patch_size=4, dim=8, heads=1, layers=1, class_token=False).eval()
    images = torch.rand(2, 3, 8, 8, generator=rng)
    with torch.no_grad():
        assert vit.tokens(images).shape == (2, 4, 8)
        torch.testing.assert_close(vit(images), vit.tokens(images).mean(1))
    assert vit.padding(images) is None


def test_vit_position_embeddings_make_it_see_where_a_patch_is(rng):
    """Attention alone is blind to order: swapping two patches would only swap two tokens.
    The learned positions break that, so the class token's vector changes."""
    torch.manual_seed(0)
    vit = ViT(image_size=8, patch_size=4, dim=8, heads=1, layers=1).eval()
    with torch.no_grad():
        vit.position.normal_()
        images = torch.rand(1, 3, 8, 8, generator=rng)
        swapped = images.clone()
        swapped[..., :4, :4], swapped[..., :4, 4:] = images[..., :4, 4:], images[..., :4, :4]
        assert not torch.allclose(vit(images), vit(swapped), atol=1e-4)
        vit.position.zero_()
        torch.testing.assert_close(vit(images), vit(swapped), atol=1e-5, rtol=1e-5)


def test_patch_tokens_keep_each_patch_to_itself(rng):
    torch.manual_seed(0)
    encoder = PatchTokens(image_size=16, patch_size=4, dim=8).eval()
    images = torch.rand(1, 3, 16, 16, generator=rng)
    changed = images.clone()
    changed[..., 4:8, 8:12] = 0.0  # patch (row 1, col 2) = token 6
    with torch.no_grad():
        before, after = encoder(images), encoder(changed)
    moved = (before - after).abs().amax(dim=-1)[0] > 1e-6
    assert moved.tolist() == [i == 6 for i in range(16)]
    assert encoder.padding(images) is None and encoder.last_attention == []
    torch.testing.assert_close(encoder.tokens(images), before)


@pytest.mark.parametrize(("make", "call", "error", "match"), [
    (lambda: PatchEmbedding(4, 3, 8), lambda m: m(torch.rand(1, 1, 8, 8)), ValueError,
     "must have 3 channels"),
    (lambda: PatchEmbedding(4, 3, 8), lambda m: m(torch.rand(1, 3, 10, 8)), ValueError,
     "multiples of patch_size=4"),
    (lambda: PatchEmbedding(4, 3, 8), lambda m: m(torch.rand(3, 8, 8)), ValueError,
     "images must have 4 dimensions"),
    (lambda: PatchEmbedding(4, 3, 8), lambda m: m(torch.zeros(1, 3, 8, 8, dtype=torch.long)),
     TypeError, "images must be a floating-point tensor"),
    (lambda: ViT(image_size=16, patch_size=4), lambda m: m(torch.rand(1, 3, 8, 8)), ValueError,
     "must be 16x16"),
    (lambda: ViT(image_size=30, patch_size=4), None, ValueError, "patch_size=4 must divide"),
    (lambda: ViT(image_size=16, patch_size=4, layers=0), None, ValueError, "layers must be >= 1"),
    (lambda: PatchTokens(image_size=16, patch_size=4.0), None, TypeError,
     "patch_size must be an int"),
])
def test_bad_inputs_are_named(make, call, error, match):
    with pytest.raises(error, match=match):
        module = make()
        call(module)


def test_numpy_integers_are_accepted():
    import numpy as np

    vit = ViT(image_size=np.int64(8), patch_size=np.int32(4), dim=np.int64(8), heads=1, layers=1)
    assert vit.num_patches == 4


def test_text_tokens_are_the_transformer_encoder_before_its_mean(rng):
    torch.manual_seed(0)
    pooled = TransformerTextEncoder(12, dim=8, heads=2, layers=2, max_len=8).eval()
    tokens = TextTokens(12, dim=8, heads=2, layers=2, max_len=8).eval()
    tokens.load_state_dict(pooled.state_dict())  # the same parameters, the same names
    ids = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 0, 0, 0]])
    with torch.no_grad():
        out = tokens(ids)
        real = (ids != 0).float().unsqueeze(-1)
        torch.testing.assert_close((out * real).sum(1) / real.sum(1), pooled(ids))
        torch.testing.assert_close(tokens.pooled(ids), pooled(ids))
    assert out.shape == (3, 4, 8)
    assert tokens.padding(ids).tolist() == (ids == 0).tolist()
    with pytest.raises(ValueError, match="max_len=8"):
        tokens(torch.ones(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="token ids in"):
        tokens(torch.tensor([[12]]))
