"""The tiny VLM against PyTorch: causal attention against scaled_dot_product_attention
(is_causal=True), a decoder block against nn.TransformerEncoderLayer with the same weights,
the next-token loss against cross_entropy by hand; KV-cache decoding against decoding
without it; the sampling filters against their definitions; and the input checks."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmkit.preprocess.text import Vocabulary
from mmkit.vlm import (
    CausalSelfAttention,
    DecoderBlock,
    KVCache,
    SceneEncoder,
    TinyVLM,
    causal_mask,
    generate,
    next_token_probabilities,
    to_torch_layer,
)
from mmkit.vlm.decoding import decoding_traces, generate_ids
from mmkit.vlm.training import (
    SPECIALS,
    encode_rows,
    freeze_for_stage,
    next_token_loss,
    next_token_objective,
    training_data,
)

WORDS = "a red blue circle square left of describe the scene is there yes no".split()


def vocab():
    return Vocabulary([*SPECIALS, *WORDS], num_specials=len(SPECIALS))


def tiny_model(seed=0, keep=3, **kwargs):
    torch.manual_seed(seed)
    return TinyVLM(SceneEncoder(keep=keep, seed=seed), vocab(), **kwargs).eval()


def images(n=4, seed=0):
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


# ---- the causal decoder ----------------------------------------------------------------

def test_causal_mask_is_the_lower_triangle_and_handles_cached_keys():
    assert torch.equal(causal_mask(4), nn.Transformer.generate_square_subsequent_mask(4) == 0)
    # Two new queries after three cached keys: they see the cache and themselves.
    assert causal_mask(2, 5).tolist() == [[True, True, True, True, False],
                                          [True, True, True, True, True]]


@pytest.mark.parametrize("heads,length", [(1, 1), (2, 5), (4, 17)])
def test_causal_attention_equals_scaled_dot_product_attention(heads, length):
    torch.manual_seed(heads)
    attention = CausalSelfAttention(16, heads)
    x = torch.randn(3, length, 16)
    out, weights = attention(x)
    q, k, v = (t.view(3, length, heads, 16 // heads).transpose(1, 2)
               for t in attention.qkv(x).split(16, dim=-1))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    expected = attention.proj(expected.transpose(1, 2).reshape(3, length, 16))
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, heads, length))
    assert (weights.triu(1) == 0).all()  # nothing attends to the future


def test_decoder_block_equals_pytorchs_layer_with_the_same_weights():
    torch.manual_seed(0)
    block = DecoderBlock(24, 4)
    for p in block.parameters():  # not the default init: biases and norms matter too
        nn.init.normal_(p, std=0.3)
    x = torch.randn(2, 9, 24)
    ours, _ = block(x)
    layer = to_torch_layer(block)
    mask = nn.Transformer.generate_square_subsequent_mask(9)
    with torch.no_grad():
        theirs = layer(x, src_mask=mask, is_causal=True)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    # And a block without the mask would differ: the check can fail.
    with torch.no_grad():
        unmasked = layer(x)
    assert (ours - unmasked).abs().max() > 1e-3


def test_next_token_loss_is_the_shifted_cross_entropy_on_answer_tokens():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 10)
    ids = torch.randint(0, 10, (2, 6))
    mask = torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]], dtype=torch.bool)
    # By hand: position t predicts token t + 1, for every target t + 1 in the mask.
    terms = [-logits[b, t].log_softmax(-1)[ids[b, t + 1]] for b in range(2) for t in range(5)
             if mask[b, t + 1]]
    torch.testing.assert_close(next_token_loss(logits, ids, mask), torch.stack(terms).mean())


def test_encode_rows_marks_the_answer_and_eos():
    v = vocab()
    data = encode_rows(v, [{"prompt": "describe the scene", "answer": "a red circle"},
                           {"prompt": "is there a red circle", "answer": "yes"}])
    ids, mask = data["ids"], data["answer_mask"]
    tokens = [v.index_to_token(int(i)) for i in ids[0]]
    assert tokens == ["<bos>", "describe", "the", "scene", "<sep>", "a", "red", "circle", "<eos>"]
    assert mask[0].tolist() == [False] * 5 + [True] * 4
    second = [v.index_to_token(int(i)) for i in ids[1]]
    assert second[:9] == ["<bos>", "is", "there", "a", "red", "circle", "<sep>", "yes", "<eos>"]
    assert mask[1].tolist() == [False] * 7 + [True, True]


def test_the_objective_ignores_trailing_padding():
    model = tiny_model()
    v = model.vocab
    rows = [{"scene": 0, "prompt": "describe the scene", "answer": "a red circle"},
            {"scene": 1, "prompt": "is there a red circle", "answer": "yes"}]
    features = model.encode_images(images(2))
    data = training_data(model, features, rows)
    padded = {**data, "ids": F.pad(data["ids"], (0, 5), value=v.pad_index),
              "answer_mask": F.pad(data["answer_mask"], (0, 5))}
    torch.testing.assert_close(next_token_objective(model, padded),
                               next_token_objective(model, data))


# ---- the model and its cache -----------------------------------------------------------

def test_model_shapes_and_the_frozen_encoder():
    model = tiny_model()
    ids = torch.tensor([[2, 5, 6, 3]])
    logits = model(ids, images(1))
    assert logits.shape == (1, 4, len(model.vocab))
    assert not any(p.requires_grad for p in model.vision.parameters())
    text_only = model(ids)  # a language model without an image
    assert text_only.shape == logits.shape and not torch.allclose(text_only, logits)


def test_blind_zeroes_the_visual_tokens():
    model = tiny_model()
    features = model.encode_images(images(2))
    assert (model.visual_tokens(features, blind=True) == 0).all()
    ids = torch.tensor([[2, 5, 3], [2, 6, 3]])
    blind_a = model(ids, features=features, blind=True)
    blind_b = model(ids, features=model.encode_images(images(2, seed=5)), blind=True)
    torch.testing.assert_close(blind_a, blind_b)  # the image no longer matters


def test_cached_logits_equal_uncached_logits():
    model = tiny_model(layers=3)
    features = model.encode_images(images(3))
    ids = torch.randint(5, len(model.vocab), (3, 7))
    full = model(ids, features=features)
    cache = KVCache()
    first = model(ids[:, :4], features=features, cache=cache)
    steps = [model(ids[:, t:t + 1], features=features, cache=cache) for t in range(4, 7)]
    torch.testing.assert_close(torch.cat([first, *steps], dim=1), full, atol=1e-5, rtol=1e-5)
    assert len(cache) == model.n_visual + 7 and cache.text_length == 7


@pytest.mark.parametrize("prompt", ["describe the scene", ["describe the scene", "is there a red circle",
                                                           "is there a red circle", "describe the scene"]])
def test_generate_with_and_without_cache_gives_the_same_tokens(prompt):
    model = tiny_model(seed=3)
    for p in model.parameters():
        nn.init.normal_(p, std=0.5)  # a sharp, varied random model: no ties, long answers
    with_cache = generate(model, images(4), prompt, 12, temperature=0, use_cache=True)
    without = generate(model, images(4), prompt, 12, temperature=0, use_cache=False)
    assert with_cache == without
    assert all(isinstance(a, str) for a in with_cache) and len(with_cache) == 4


def test_sampling_is_reproducible_with_a_generator_and_varies_without_temperature_zero():
    model = tiny_model(seed=1)
    for p in model.parameters():
        nn.init.normal_(p, std=0.2)

    def sample(seed):
        return generate(model, images(4), "describe the scene", 8, temperature=2.0,
                        generator=torch.Generator().manual_seed(seed))

    assert sample(0) == sample(0)
    assert any(sample(0) != sample(s) for s in range(1, 6))


def test_generation_stops_at_eos_and_decode_text_drops_specials():
    model = tiny_model()
    with torch.no_grad():
        model.head.bias.fill_(-10.0)
        model.head.bias[model.eos] = 10.0  # <eos> first, always
    out = generate_ids(model, model.encode_images(images(2)), torch.tensor([[2, 3], [2, 3]]),
                       5, temperature=0)
    assert out["ids"].shape == (2, 1) and (out["ids"] == model.eos).all()
    assert generate(model, images(2), "describe the scene", 5, temperature=0) == ["", ""]


def test_decoding_traces_records_each_step():
    model = tiny_model(seed=2)
    traces = decoding_traces(model, images(3), ["describe the scene"], max_new_tokens=4)
    trace = traces["describe the scene", False]
    steps = trace["ids"].shape[1]
    assert trace["logits"].shape == (3, steps, len(model.vocab))
    assert trace["attention"].shape == (3, steps, model.n_visual)
    # The greedy token is the argmax of the recorded logits.
    assert torch.equal(trace["logits"].argmax(-1)[:, 0], trace["ids"][:, 0])
    assert ("describe the scene", True) in traces


# ---- sampling filters ------------------------------------------------------------------

def _brute_force_top_p(p: torch.Tensor, top_p: float) -> torch.Tensor:
    """The smallest set of most likely tokens whose total reaches top_p."""
    order = sorted(range(len(p)), key=lambda i: (-float(p[i]), i))
    kept, total = [], 0.0
    for i in order:
        kept.append(i)
        total += float(p[i])
        if total >= top_p - 1e-12:
            break
    out = torch.zeros_like(p)
    out[kept] = p[kept]
    return out / out.sum()


@pytest.mark.parametrize("seed", range(20))
def test_filters_against_their_definitions(seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(12, generator=g, dtype=torch.float64) * 2
    temperature = float(torch.rand(1, generator=g)) * 2 + 0.2
    scaled = (logits / temperature).softmax(-1)
    torch.testing.assert_close(next_token_probabilities(logits, temperature), scaled)
    k = int(torch.randint(1, 12, (1,), generator=g))
    top_k = next_token_probabilities(logits, temperature, top_k=k)
    kept = scaled.topk(k).indices
    assert set(top_k.nonzero()[:, 0].tolist()) == set(kept.tolist())
    torch.testing.assert_close(top_k[kept], scaled[kept] / scaled[kept].sum())
    p = float(torch.rand(1, generator=g)) * 0.95 + 0.05
    torch.testing.assert_close(next_token_probabilities(logits, temperature, top_p=p),
                               _brute_force_top_p(scaled, p))


def test_temperature_zero_is_greedy_and_batches_work():
    logits = torch.tensor([[1.0, 3.0, 2.0], [5.0, 0.0, 5.0]])
    assert next_token_probabilities(logits, 0).tolist() == [[0, 1, 0], [1, 0, 0]]
    both = next_token_probabilities(logits, 1.0, top_k=2, top_p=0.5)
    torch.testing.assert_close(both.sum(-1), torch.ones(2))


@pytest.mark.parametrize("kwargs,error,match", [
    ({"temperature": -1}, ValueError, "temperature must be a finite number >= 0"),
    ({"top_k": 0}, ValueError, "top_k must be >= 1"),
    ({"top_p": 1.5}, ValueError, r"top_p must be in \(0, 1\]"),
    ({"top_p": 0}, ValueError, "top_p must be a finite number > 0"),
    ({"top_k": 2.5}, TypeError, "top_k must be an int"),
])
def test_filters_reject_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        next_token_probabilities(torch.zeros(3), **kwargs)


# ---- input checks ----------------------------------------------------------------------

def test_generate_rejects_bad_input():
    model = tiny_model()
    with pytest.raises(ValueError, match="never learned: \\['purple'\\]"):
        generate(model, images(1), "is there a purple circle", 3)
    with pytest.raises(ValueError, match="one per image \\(2\\), got 3 prompts"):
        generate(model, images(2), ["a", "a", "a"], 3)
    with pytest.raises(TypeError, match="prompt must be a str or a list of str"):
        generate(model, images(2), 5, 3)
    with pytest.raises(TypeError, match="images must be a torch.Tensor"):
        generate(model, [0], "a", 3)
    with pytest.raises(TypeError, match="model must be a TinyVLM"):
        generate(nn.Linear(2, 2), images(1), "a", 3)
    with pytest.raises(ValueError, match="max_new_tokens must be >= 1"):
        generate(model, images(1), "a", 0)


def test_model_rejects_bad_input():
    model = tiny_model()
    with pytest.raises(TypeError, match="ids must hold integer class indices"):
        model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="images must be \\(B, 3, 32, 32\\)"):
        model(torch.tensor([[2, 3]]), torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="features must be \\(B, 3, 34\\)"):
        model(torch.tensor([[2, 3]]), features=torch.rand(1, 4, 34))
    with pytest.raises(ValueError, match="do not fit"):
        model(torch.full((1, 40), 5))
    with pytest.raises(ValueError, match="the image batch has 2 rows, ids has 1"):
        model(torch.tensor([[2, 3]]), images(2))
    with pytest.raises(TypeError, match="vocab must be a mmkit.preprocess.text.Vocabulary"):
        TinyVLM(SceneEncoder(), ["a"])
    with pytest.raises(ValueError, match="vocab has no '<bos>'"):
        TinyVLM(SceneEncoder(), Vocabulary(["<pad>", "<unk>", "a"]))
    with pytest.raises(TypeError, match="needs an int attribute 'out_dim'"):
        TinyVLM(nn.Linear(2, 2), vocab())
    with pytest.raises(ValueError, match="dim must be a multiple of heads"):
        TinyVLM(SceneEncoder(), vocab(), dim=30, heads=4)


# ---- the encoder and the stages --------------------------------------------------------

def test_scene_encoder_keeps_the_most_object_like_cells_in_grid_order():
    encoder = SceneEncoder(keep=None, seed=0)
    x = images(2)
    every = encoder(x)
    assert every.shape == (2, 16, 34) and encoder.n_tokens == 16
    encoder.set_keep(3)
    kept = encoder(x)
    cells = encoder.kept_cells(x)
    assert kept.shape == (2, 3, 34) and (cells.diff(dim=1) > 0).all()
    torch.testing.assert_close(kept, every.gather(1, cells[..., None].expand(-1, -1, 34)))
    objectness = 1 - encoder.cell_logits(x)["colour"].softmax(-1)[..., 0]
    assert set(cells[0].tolist()) == set(objectness[0].topk(3).indices.tolist())
    # The last two features are the cell's (x, y), scaled.
    assert every[0, 0, -2:].tolist() == [-10.0, -10.0] and every[0, 15, -2:].tolist() == [10, 10]
    with pytest.raises(ValueError, match="keep must be at most the 16 cells"):
        encoder.set_keep(17)


def test_freeze_for_stage_trains_the_right_parts():
    model = tiny_model()
    projector = sum(p.numel() for p in model.projector.parameters()) + model.patch_position.numel()
    assert freeze_for_stage(model, "alignment") == projector
    assert not model.head.weight.requires_grad and model.projector[0].weight.requires_grad
    total = sum(p.numel() for p in model.parameters()) - sum(
        p.numel() for p in model.vision.parameters())
    assert freeze_for_stage(model, "instruction") == total
    assert freeze_for_stage(model, "language") == total - projector
    assert not any(p.requires_grad for p in model.vision.parameters())
    with pytest.raises(ValueError, match="stage must be one of"):
        freeze_for_stage(model, "everything")
