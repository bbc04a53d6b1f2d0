"""The from-scratch RNN and LSTM steps against nn.RNNCell, nn.LSTMCell and nn.LSTM."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from mmkit import scratch

TOL = {"atol": 1e-5, "rtol": 1e-5}


def _weights(module):
    return module.weight_ih, module.weight_hh, module.bias_ih, module.bias_hh


@pytest.mark.parametrize(("batch", "inputs", "hidden"), [(1, 3, 2), (5, 4, 6), (8, 16, 12)])
def test_rnn_cell_matches_torch(batch, inputs, hidden, device):
    torch.manual_seed(batch * 100 + hidden)
    cell = nn.RNNCell(inputs, hidden).to(device)
    x = torch.randn(batch, inputs, device=device)
    h = torch.randn(batch, hidden, device=device)
    with torch.no_grad():
        torch.testing.assert_close(scratch.rnn_cell(x, h, *_weights(cell)), cell(x, h), **TOL)


def test_rnn_cell_without_batch_and_without_bias(device):
    torch.manual_seed(0)
    cell = nn.RNNCell(3, 4, bias=False).to(device)
    x, h = torch.randn(3, device=device), torch.randn(4, device=device)
    with torch.no_grad():
        ours = scratch.rnn_cell(x, h, cell.weight_ih, cell.weight_hh)
        torch.testing.assert_close(ours, cell(x, h), **TOL)


@pytest.mark.parametrize(("batch", "inputs", "hidden"), [(1, 3, 2), (5, 4, 6), (8, 16, 12)])
def test_lstm_cell_matches_torch(batch, inputs, hidden, device):
    torch.manual_seed(batch * 10 + inputs)
    cell = nn.LSTMCell(inputs, hidden).to(device)
    x = torch.randn(batch, inputs, device=device)
    h, c = torch.randn(batch, hidden, device=device), torch.randn(batch, hidden, device=device)
    with torch.no_grad():
        h1, c1 = scratch.lstm_cell(x, h, c, *_weights(cell))
        h_ref, c_ref = cell(x, (h, c))
    torch.testing.assert_close(h1, h_ref, **TOL)
    torch.testing.assert_close(c1, c_ref, **TOL)


def test_lstm_cell_gradients_match_torch(device):
    torch.manual_seed(3)
    cell = nn.LSTMCell(5, 4).to(device)
    x = torch.randn(3, 5, device=device, requires_grad=True)
    h, c = torch.zeros(3, 4, device=device), torch.zeros(3, 4, device=device)
    ours = sum(t.sum() for t in scratch.lstm_cell(x, h, c, *_weights(cell)))
    theirs = sum(t.sum() for t in cell(x, (h, c)))
    g_ours = torch.autograd.grad(ours, [x, cell.weight_ih])
    g_theirs = torch.autograd.grad(theirs, [x, cell.weight_ih])
    for a, b in zip(g_ours, g_theirs, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_lstm_gate_order_is_input_forget_candidate_output(device):
    # Open only the forget gate (bias +20) and close input and output (-20): the memory
    # must pass through unchanged and h must be ~0. A wrong gate order breaks this.
    hidden = 3
    w_ih = torch.zeros(4 * hidden, 2, device=device)
    w_hh = torch.zeros(4 * hidden, hidden, device=device)
    bias = torch.tensor([-20.0] * 3 + [20.0] * 3 + [0.0] * 3 + [-20.0] * 3, device=device)
    c = torch.tensor([[0.5, -1.0, 2.0]], device=device)
    h1, c1 = scratch.lstm_cell(torch.ones(1, 2, device=device), torch.zeros(1, 3, device=device),
                               c, w_ih, w_hh, bias, None)
    torch.testing.assert_close(c1, c, atol=1e-6, rtol=0)
    assert h1.abs().max() < 1e-6


@pytest.mark.parametrize(("batch", "steps", "inputs", "hidden"), [(1, 1, 2, 3), (4, 7, 5, 6)])
def test_lstm_unrolled_matches_nn_lstm(batch, steps, inputs, hidden, device):
    torch.manual_seed(steps)
    module = nn.LSTM(inputs, hidden, batch_first=True).to(device)
    weights = (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0)
    x = torch.randn(batch, steps, inputs, device=device)
    h0, c0 = torch.randn(batch, hidden, device=device), torch.randn(batch, hidden, device=device)
    with torch.no_grad():
        out, (h_n, c_n) = scratch.lstm(x, *weights, h0=h0, c0=c0)
        ref, (h_ref, c_ref) = module(x, (h0[None], c0[None]))
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(h_n, h_ref[0], **TOL)
    torch.testing.assert_close(c_n, c_ref[0], **TOL)


def test_lstm_with_lengths_matches_packed_nn_lstm(device):
    torch.manual_seed(5)
    module = nn.LSTM(4, 5, batch_first=True).to(device)
    weights = (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0)
    x = torch.randn(3, 6, 4, device=device)
    lengths = torch.tensor([6, 2, 4])
    with torch.no_grad():
        out, (h_n, c_n) = scratch.lstm(x, *weights, lengths=lengths)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        ref_packed, (h_ref, c_ref) = module(packed)
        ref, _ = pad_packed_sequence(ref_packed, batch_first=True, total_length=6)
        _, (h_unpacked, _) = scratch.lstm(x, *weights)
    torch.testing.assert_close(out, ref, **TOL)
    torch.testing.assert_close(h_n, h_ref[0], **TOL)
    torch.testing.assert_close(c_n, c_ref[0], **TOL)
    # Reading the padding changes the final state of every sequence shorter than the batch.
    assert (h_unpacked[1:] - h_n[1:]).abs().max() > 1e-3


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda w: scratch.lstm_cell([1.0], *w), TypeError, "x must be a torch.Tensor, got list"),
    (lambda w: scratch.lstm_cell(torch.ones(2, 3, dtype=torch.long), *w), TypeError,
     "x must be a floating-point tensor"),
    (lambda w: scratch.lstm_cell(torch.ones(2, 5), *w), ValueError, r"w_ih must have shape"),
    (lambda w: scratch.lstm_cell(torch.ones(3, 3), *w), ValueError,
     "h must have the batch size of x"),
    (lambda w: scratch.lstm_cell(torch.ones(2, 3), w[0], torch.ones(2, 5), *w[2:]), ValueError,
     "c must have the shape of h"),
    (lambda w: scratch.rnn_cell(torch.ones(2, 3), w[0], *w[2:]), ValueError,
     r"w_ih must have shape \(1 \* hidden, input\)"),
    (lambda w: scratch.lstm_cell(torch.ones(2, 3), *w[:5], torch.ones(7)), ValueError,
     "b_hh must have 4 \\* hidden = 16 entries"),
    (lambda w: scratch.lstm(torch.ones(2, 4, 3), *w[2:], lengths=torch.tensor([5, 1])),
     ValueError, r"lengths must be in \[1, 4\]"),
    (lambda w: scratch.lstm(torch.ones(2, 3), *w[2:]), ValueError, "x must have 3 dimensions"),
])
def test_bad_inputs_are_named(call, error, match):
    h, c = torch.zeros(2, 4), torch.zeros(2, 4)
    w = (h, c, torch.randn(16, 3), torch.randn(16, 4), torch.randn(16), torch.randn(16))
    with pytest.raises(error, match=match):
        call(w)


# ---- the exercise's self-check -----------------------------------------------------------

def _step(order="ifgo", candidate=torch.tanh, use_input=True, keep=True, squash=True,
          swap=False):
    def fn(x, h, c, w_ih, w_hh, b_ih, b_hh):
        chunks = dict(zip(order, (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, -1),
                          strict=True))
        i, f = torch.sigmoid(chunks["i"]), torch.sigmoid(chunks["f"])
        g, o = candidate(chunks["g"]), torch.sigmoid(chunks["o"])
        c_next = (f * c if keep else 0) + (i * g if use_input else g)
        h_next = o * (torch.tanh(c_next) if squash else c_next)
        return (c_next, h_next) if swap else (h_next, c_next)
    return fn


def _not_done(*args):
    raise NotImplementedError


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_step(), True, "correct"),
    (scratch.lstm_cell, True, "correct"),
    (_step(order="ifog"), False, "gates in the wrong order"),
    (_step(candidate=torch.sigmoid), False, "uses tanh, not sigmoid"),
    (_step(use_input=False), False, "forgets the input gate"),
    (_step(keep=False), False, "drops the old memory"),
    (_step(squash=False), False, "the tanh is missing"),
    (_step(swap=True), False, "returns (c_next, h_next)"),
    (lambda *args: _step()(*args)[0], False, "must return the pair"),
    (_not_done, False, "not implemented yet"),
])
def test_check_lstm_step(fn, passed, words):
    from mmkit import exercises

    feedback = exercises.check_lstm_step(fn)
    assert feedback.passed is passed
    assert words in feedback.message
