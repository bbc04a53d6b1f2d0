"""Which patches a generated word relied on: the last layer's attention against PyTorch's
nn.MultiheadAttention with the same weights, saliency (Captum) against autograd by hand,
painting tokens onto their cells against a loop, and the input checks."""

import pytest
import torch
from torch import nn

from mmkit.preprocess.text import Vocabulary
from mmkit.vlm import SceneEncoder, TinyVLM, to_torch_layer
from mmkit.vlm.grounding import paint_tokens, token_cells, word_attention, word_saliency
from mmkit.vlm.training import SPECIALS

WORDS = "a red blue circle square left of describe the scene".split()


def tiny_model(seed=0, keep=3):
    torch.manual_seed(seed)
    vocab = Vocabulary([*SPECIALS, *WORDS], num_specials=len(SPECIALS))
    model = TinyVLM(SceneEncoder(keep=keep, seed=seed), vocab, layers=2)
    for p in model.parameters():
        if p.requires_grad:
            nn.init.normal_(p, std=0.3)  # sharp attention, so a wrong index shows
    return model.eval()


def images(n=3, seed=0):
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def ids(n=3, length=6, seed=0):
    return torch.randint(len(SPECIALS), len(SPECIALS) + len(WORDS), (n, length),
                         generator=torch.Generator().manual_seed(seed))


def test_paint_tokens_fills_each_tokens_cell_against_a_loop():
    values = torch.tensor([[0.5, 2.0], [1.0, -3.0]])
    cells = torch.tensor([[0, 5], [3, 15]])
    maps = paint_tokens(values, cells, grid=4, image_size=32)
    expected = torch.zeros(2, 32, 32)
    for b in range(2):
        for value, cell in zip(values[b], cells[b], strict=True):
            row, column = divmod(int(cell), 4)
            expected[b, row * 8:(row + 1) * 8, column * 8:(column + 1) * 8] = value
    assert maps.shape == (2, 32, 32)
    torch.testing.assert_close(maps, expected)
    with pytest.raises(ValueError, match="cells and values must have the same shape"):
        paint_tokens(values, cells[:, :1], grid=4, image_size=32)


def test_token_cells_are_the_encoders_kept_cells_and_need_them():
    model = tiny_model()
    x = images()
    assert torch.equal(token_cells(model, x), model.vision.kept_cells(x))

    class NoCells(nn.Module):
        out_dim, n_tokens = 4, 2

        def forward(self, images):
            return images.new_zeros(len(images), 2, 4)

    vocab = model.vocab
    with pytest.raises(TypeError, match="NoCells does not say where its tokens come from"):
        token_cells(TinyVLM(NoCells(), vocab), x)


def test_word_attention_equals_pytorchs_attention_weights_with_the_same_weights():
    model = tiny_model(seed=1)
    x, tokens = images(), ids()
    positions = torch.tensor([1, 3, 5])
    captured = {}
    last = model.blocks[-1]
    handle = last.norm1.register_forward_hook(lambda m, i, out: captured.update(h=out))
    try:
        ours = word_attention(model, x, tokens, positions)
    finally:
        handle.remove()
    h = captured["h"]  # the last block's normalised input, visual and text tokens
    attention = to_torch_layer(last).self_attn
    mask = nn.Transformer.generate_square_subsequent_mask(h.shape[1])
    _, weights = attention(h, h, h, attn_mask=mask, need_weights=True, average_attn_weights=True)
    rows = torch.arange(3)
    expected = weights[rows, model.n_visual + positions - 1, :model.n_visual]
    assert ours.shape == (3, model.n_visual)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)


def test_word_attention_reads_the_query_before_the_word():
    model = tiny_model(seed=2)
    x, tokens = images(), ids(seed=4)
    positions = torch.tensor([2, 2, 2])
    before = word_attention(model, x, tokens, positions)
    changed_word = tokens.clone()
    changed_word[:, 2] = (changed_word[:, 2] + 1 - len(SPECIALS)) % len(WORDS) + len(SPECIALS)
    # The query at position 1 chose word 2 and cannot see it: changing it changes nothing,
    torch.testing.assert_close(word_attention(model, x, changed_word, positions), before)
    changed_query = tokens.clone()
    changed_query[:, 1] = (changed_query[:, 1] + 1 - len(SPECIALS)) % len(WORDS) + len(SPECIALS)
    # while changing the token the query sits on does.
    assert not torch.allclose(word_attention(model, x, changed_query, positions), before)


def test_word_saliency_equals_autograd_by_hand():
    model = tiny_model(seed=3)
    x, tokens = images(seed=1), ids(seed=2)
    positions = torch.tensor([4, 1, 5])
    ours = word_saliency(model, x, tokens, positions)
    pixels = x.clone().requires_grad_()
    logits = model(tokens, pixels)
    total = sum(logits[b, positions[b] - 1, tokens[b, positions[b]]] for b in range(3))
    (gradient,) = torch.autograd.grad(total, pixels)
    assert ours.shape == (3, 32, 32) and gradient.abs().amax() > 0
    torch.testing.assert_close(ours, gradient.abs().amax(dim=1))


@pytest.mark.parametrize("positions, match", [
    ([1, 2], "positions must hold one index per row of ids"),
    ([0, 1, 1], "positions must index a word of ids after the first token"),
    ([1, 1, 6], "positions must index a word of ids after the first token"),
])
def test_bad_positions(positions, match):
    model = tiny_model()
    with pytest.raises(ValueError, match=match):
        word_attention(model, images(), ids(), positions)
    with pytest.raises(ValueError, match=match):
        word_saliency(model, images(), ids(), positions)
