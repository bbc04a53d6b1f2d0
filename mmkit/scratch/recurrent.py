"""Recurrent cells of lesson 04, from scratch: a vanilla RNN step, an LSTM step, an LSTM over time.

Each takes the same tensors as its PyTorch counterpart (``nn.RNNCell``, ``nn.LSTMCell``,
``nn.LSTM(batch_first=True)``; pass a module's ``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``) and returns the same result (tested to 1e-5 in float32).

The article's "RNN" (循环神经网络) has an input gate, a forget gate and an output gate: that
is an LSTM (its own code calls ``tf.keras.layers.LSTM``). A vanilla RNN has no gates at all:
h' = tanh(W_ih x + W_hh h + b). Both are here, so the difference can be seen.
"""

import torch

from mmkit.checks import check_tensor


def _check_step(x, h, w_ih, w_hh, b_ih, b_hh, gates: int) -> None:
    """Shapes of one step: x (B, I) or (I,), h like x but H wide, w_ih (gates*H, I), ..."""
    check_tensor(x, "x", floating=True, ndim=(1, 2))
    check_tensor(h, "h", floating=True, ndim=x.dim())
    if x.dim() == 2 and h.shape[0] != x.shape[0]:
        raise ValueError(
            f"h must have the batch size of x ({x.shape[0]}), got shape {tuple(h.shape)}"
        )
    hidden, inputs = h.shape[-1], x.shape[-1]
    check_tensor(w_ih, "w_ih", floating=True, ndim=2)
    check_tensor(w_hh, "w_hh", floating=True, ndim=2)
    if tuple(w_ih.shape) != (gates * hidden, inputs):
        raise ValueError(
            f"w_ih must have shape ({gates} * hidden, input) = {(gates * hidden, inputs)} for "
            f"x of shape {tuple(x.shape)} and h of shape {tuple(h.shape)}, "
            f"got {tuple(w_ih.shape)}"
        )
    if tuple(w_hh.shape) != (gates * hidden, hidden):
        raise ValueError(
            f"w_hh must have shape ({gates} * hidden, hidden) = {(gates * hidden, hidden)}, "
            f"got {tuple(w_hh.shape)}"
        )
    for bias, name in ((b_ih, "b_ih"), (b_hh, "b_hh")):
        if bias is not None:
            check_tensor(bias, name, floating=True, ndim=1)
            if bias.shape[0] != gates * hidden:
                raise ValueError(
                    f"{name} must have {gates} * hidden = {gates * hidden} entries, "
                    f"got shape {tuple(bias.shape)}"
                )


def _affine(x, h, w_ih, w_hh, b_ih, b_hh) -> torch.Tensor:
    """W_ih x + b_ih + W_hh h + b_hh: what every gate starts from."""
    out = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        out = out + b_ih
    if b_hh is not None:
        out = out + b_hh
    return out


def rnn_cell(
    x: torch.Tensor,
    h: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
) -> torch.Tensor:
    """One step of a vanilla (Elman) RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).

    x: (B, input) or (input,); h: (B, hidden) or (hidden,); w_ih: (hidden, input);
    w_hh: (hidden, hidden); biases (hidden,) or None. Returns h' shaped like h.
    Mirrors ``nn.RNNCell(nonlinearity="tanh")``. The same h is rewritten at every step, and
    the gradient through many tanh steps shrinks: a plain RNN forgets the start of a long
    sequence. The LSTM's gates are the fix.
    """
    _check_step(x, h, w_ih, w_hh, b_ih, b_hh, gates=1)
    return torch.tanh(_affine(x, h, w_ih, w_hh, b_ih, b_hh))


def lstm_cell(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step; returns (h', c'). Mirrors ``nn.LSTMCell``.

    x: (B, input) or (input,); h, c: (B, hidden) or (hidden,); w_ih: (4*hidden, input);
    w_hh: (4*hidden, hidden); biases (4*hidden,) or None. PyTorch stacks the four gates'
    weights in the order input, forget, cell candidate, output (i, f, g, o):

        i  = sigmoid(...)   how much of the new candidate to write   (输入门, input gate)
        f  = sigmoid(...)   how much of the old memory to keep       (遗忘门, forget gate)
        g  = tanh(...)      the candidate content, in [-1, 1]
        o  = sigmoid(...)   how much of the memory to show as h      (输出门, output gate)
        c' = f * c + i * g  the memory cell (记忆单元): updated by addition, so gradients
                            flow back through many steps without shrinking (when f ~ 1)
        h' = o * tanh(c')
    """
    _check_step(x, h, w_ih, w_hh, b_ih, b_hh, gates=4)
    check_tensor(c, "c", floating=True)
    if c.shape != h.shape:
        raise ValueError(
            f"c must have the shape of h {tuple(h.shape)}, got {tuple(c.shape)}"
        )
    pre_i, pre_f, pre_g, pre_o = _affine(x, h, w_ih, w_hh, b_ih, b_hh).chunk(4, dim=-1)
    input_gate = torch.sigmoid(pre_i)
    forget_gate = torch.sigmoid(pre_f)
    candidate = torch.tanh(pre_g)
    output_gate = torch.sigmoid(pre_o)
    c_next = forget_gate * c + input_gate * candidate
    h_next = output_gate * torch.tanh(c_next)
    return h_next, c_next


def lstm(
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
    lengths: torch.Tensor | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """``lstm_cell`` unrolled over time, batch first: returns (outputs, (h_n, c_n)).

    x: (B, T, input); h0, c0: (B, hidden), zeros by default; outputs: (B, T, hidden), the
    h of every step; h_n, c_n: (B, hidden). Equal to a one-layer
    ``nn.LSTM(batch_first=True)`` given the same weights (whose h_n has an extra leading
    layer dimension).

    lengths: (B,) true lengths of padded sequences. After its last real token a sequence's
    state is frozen, so h_n is the state at its true length, as with
    ``pack_padded_sequence``; without it, h_n has also read the padding, and a sentence
    would mean something different depending on how long the longest one in its batch is.
    Outputs past a sequence's end are zeros, as ``pad_packed_sequence`` gives.
    """
    check_tensor(x, "x", floating=True, ndim=3)
    batch, steps, _ = x.shape
    hidden = check_tensor(w_hh, "w_hh", floating=True, ndim=2).shape[1]
    zeros = x.new_zeros(batch, hidden)
    h = zeros if h0 is None else h0
    c = zeros if c0 is None else c0
    if lengths is not None:
        check_tensor(lengths, "lengths", floating=False, ndim=1)
        if lengths.shape[0] != batch:
            raise ValueError(
                f"lengths must have one entry per sequence ({batch}), got {lengths.shape[0]}"
            )
        if lengths.min() < 1 or lengths.max() > steps:
            raise ValueError(
                f"lengths must be in [1, {steps}] (the padded length), got values in "
                f"[{int(lengths.min())}, {int(lengths.max())}]"
            )
        lengths = lengths.to(x.device)
    outputs = []
    for t in range(steps):
        h_next, c_next = lstm_cell(x[:, t], h, c, w_ih, w_hh, b_ih, b_hh)
        if lengths is None:
            h, c = h_next, c_next
            outputs.append(h)
        else:
            real = (t < lengths)[:, None]  # which sequences still have a token at step t
            h, c = torch.where(real, h_next, h), torch.where(real, c_next, c)
            outputs.append(torch.where(real, h_next, torch.zeros_like(h_next)))
    return torch.stack(outputs, dim=1), (h, c)
