"""The text encoders: shapes, padding never read, the Transformer block equal to torch's, the
positional encoding the only source of word order, and a short training run that learns."""

import pytest
import torch
from torch import nn

from mmkit.encoders.text import (
    BagOfEmbeddings,
    LSTMEncoder,
    TransformerLayer,
    TransformerTextEncoder,
    masked_mean,
)

TOL = {"atol": 1e-5, "rtol": 1e-5}
VOCAB = 20


def _encoders():
    torch.manual_seed(0)
    return [
        BagOfEmbeddings(VOCAB, 8),
        LSTMEncoder(VOCAB, 8, 6),
        TransformerTextEncoder(VOCAB, dim=8, heads=2, layers=2, max_len=10),
    ]


def _ids():
    return torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 0, 0, 0]])


@pytest.mark.parametrize("index", range(3))
def test_encoders_map_ids_to_out_dim_features(index):
    encoder = _encoders()[index]
    out = encoder(_ids())
    assert out.shape == (3, encoder.out_dim)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("index", range(3))
def test_padding_is_never_read(index):
    # The same caption padded to different lengths must give the same feature.
    encoder = _encoders()[index].eval()
    short = torch.tensor([[7, 8, 9]])
    long = torch.tensor([[7, 8, 9, 0, 0, 0, 0]])
    with torch.no_grad():
        torch.testing.assert_close(encoder(short), encoder(long), **TOL)


@pytest.mark.parametrize("index", range(3))
def test_an_empty_text_gives_zeros_not_nan(index):
    encoder = _encoders()[index]
    out = encoder(torch.tensor([[0, 0, 0], [4, 5, 0]]))
    assert torch.isfinite(out).all()
    assert (out[0] == 0).all()
    out.sum().backward()  # and gradients stay finite
    assert all(torch.isfinite(p.grad).all() for p in encoder.parameters() if p.grad is not None)


def test_bag_of_embeddings_is_the_masked_mean_of_the_embeddings():
    encoder = BagOfEmbeddings(VOCAB, 4)
    table = encoder.embedding.weight
    out = encoder(torch.tensor([[2, 5, 0]]))
    torch.testing.assert_close(out[0], (table[2] + table[5]) / 2, **TOL)
    assert (table[0] == 0).all()  # padding_idx's row is zero


def test_masked_mean_ignores_masked_positions():
    x = torch.arange(12.0).reshape(1, 4, 3)
    mask = torch.tensor([[True, False, True, False]])
    torch.testing.assert_close(masked_mean(x, mask), (x[0, 0] + x[0, 2])[None] / 2)


def test_lstm_encoder_returns_the_state_at_the_true_length():
    torch.manual_seed(1)
    encoder = LSTMEncoder(VOCAB, 5, 4)
    ids = torch.tensor([[3, 4, 5, 0, 0]])
    with torch.no_grad():
        _, (h_n, _) = encoder.lstm(encoder.embedding(ids[:, :3]))
        torch.testing.assert_close(encoder(ids), h_n[-1], **TOL)


def test_transformer_layer_equals_torchs_encoder_layer():
    torch.manual_seed(2)
    theirs = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    ours = TransformerLayer(8, 2, 16)
    ours.load_state_dict(theirs.state_dict())  # same parameter names, same layout
    x = torch.randn(3, 5, 8)
    padding = torch.tensor([[False] * 5, [False, False, False, True, True], [False] + [True] * 4])
    theirs.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(x, padding)[0], theirs(x, src_key_padding_mask=padding)[0],
                                   **TOL)
        torch.testing.assert_close(ours(x), theirs(x), **TOL)


def test_transformer_keeps_its_attention_per_layer_and_head():
    encoder = TransformerTextEncoder(VOCAB, dim=8, heads=2, layers=3, max_len=10)
    encoder(_ids())
    assert len(encoder.last_attention) == 3
    for weights in encoder.last_attention:
        assert weights.shape == (3, 2, 4, 4)
        assert (weights[1, :, :, 2:] == 0).all()  # nobody attends to padding
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2, 4), **TOL)


def test_only_the_positional_encoding_tells_word_orders_apart():
    ids = torch.tensor([[3, 4, 5, 6, 7]])
    shuffled = ids[:, [4, 2, 0, 3, 1]]
    torch.manual_seed(3)
    blind = TransformerTextEncoder(VOCAB, dim=8, heads=2, layers=2, positional=False).eval()
    torch.manual_seed(3)
    seeing = TransformerTextEncoder(VOCAB, dim=8, heads=2, layers=2, positional=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(blind(ids), blind(shuffled), **TOL)
        assert (seeing(ids) - seeing(shuffled)).abs().max() > 1e-3


def test_a_short_training_run_learns_which_word_matters():
    # Label = whether token 3 appears anywhere among random tokens; 1 s of training or less.
    from mmkit.models import UnimodalClassifier
    from mmkit.train import evaluate, fit

    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(4, VOCAB, (256, 6), generator=generator)
    label = torch.randint(0, 2, (256,), generator=generator)
    position = torch.randint(0, 6, (256,), generator=generator)
    ids[label == 1, position[label == 1]] = 3
    data = {"text": ids, "label": label}
    torch.manual_seed(0)
    model = UnimodalClassifier(TransformerTextEncoder(VOCAB, dim=16, heads=2, layers=1), "text", 2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: threads only add hand-off costs (and a busy CI)
    try:
        fit(model, data, epochs=8, lr=1e-2, progress=False, device="cpu")
    finally:
        torch.set_num_threads(threads)
    assert evaluate(model, data)["accuracy"] > 0.9


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: BagOfEmbeddings(VOCAB, 4)(torch.ones(2, 3)), TypeError, "ids must hold integer"),
    (lambda: BagOfEmbeddings(VOCAB, 4)(torch.tensor([1, 2])), ValueError,
     "ids must have 2 dimensions"),
    (lambda: LSTMEncoder(VOCAB, 4, 4)(torch.tensor([[1, VOCAB]])), ValueError,
     r"ids must hold token ids in \[0, 20\)"),
    (lambda: TransformerTextEncoder(VOCAB, max_len=3)(torch.ones(1, 4, dtype=torch.long)),
     ValueError, "max_len=3"),
    (lambda: TransformerTextEncoder(VOCAB, dim=10, heads=3), ValueError,
     "dim=10 must be divisible by heads=3"),
    (lambda: BagOfEmbeddings(VOCAB, 4, padding_idx=VOCAB), ValueError,
     "padding_idx must be < vocab_size=20"),
])
def test_bad_inputs_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
