"""Lesson 04 self-checks: scaled dot-product attention, one LSTM step, one GRU step, the
parameters of a Transformer layer, an attention mask from lengths."""

import math
from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, run


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def check_attention(fn: Callable) -> Feedback:
    """Exercise: write ``attention(q, k, v, mask=None)`` returning softmax(q kᵀ / √d) v.

    q: (B, L, d), k: (B, S, d), v: (B, S, d_v); mask: bool (L, S) or (B, L, S), True where
    a query may attend (as ``F.scaled_dot_product_attention``'s attn_mask).
    """

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        q, k = torch.randn(2, 3, 16, generator=g), torch.randn(2, 5, 16, generator=g)
        v = torch.randn(2, 5, 4, generator=g)
        scores = q @ k.transpose(-2, -1)
        out = call(fn, q, k, v)
        if out.shape != (2, 3, 4):
            raise Wrong(
                f"output shape {tuple(out.shape)}, expected (2, 3, 4): one d_v-vector per "
                "query, (B, L, d) @ (B, d, S) -> (B, L, S), then @ (B, S, d_v)"
            )
        expected = torch.softmax(scores / math.sqrt(16), dim=-1) @ v
        if _close(out, torch.softmax(scores, dim=-1) @ v):
            raise Wrong(
                "forgot the √d scaling: divide q·k by √d (here √16 = 4), or the scores grow "
                "with d and softmax saturates"
            )
        if _close(out, torch.softmax(scores / 16, dim=-1) @ v):
            raise Wrong("divides by d; the scaling is by √d (math.sqrt(q.shape[-1]))")
        if _close(out, torch.softmax(scores / 4, dim=-2) @ v):
            raise Wrong(
                "takes softmax over the wrong dimension (the queries): each query's weights "
                "over the keys must sum to 1, so softmax(dim=-1)"
            )
        if not _close(out, expected):
            raise Wrong("differs from softmax(q kᵀ / √d) v without a mask")

        mask = torch.tensor([[True, True, False, False, False]] * 2 + [[True] * 5])
        out = call(fn, q, k, v, mask)
        masked = (scores / 4).masked_fill(~mask, float("-inf"))
        if _close(out, expected):
            raise Wrong(
                "ignores the mask: set the scores where mask is False to -inf before softmax"
            )
        inverted = (scores / 4).masked_fill(mask, float("-inf"))
        inverted_out = torch.nan_to_num(torch.softmax(inverted, dim=-1)) @ v
        if _close(out[:, :2], inverted_out[:, :2]):
            raise Wrong(
                "inverts the mask: True means MAY attend (torch's convention), so fill -inf "
                "where the mask is False (~mask)"
            )
        if not _close(out, torch.softmax(masked, dim=-1) @ v):
            raise Wrong(
                "gives wrong values with a mask: fill -inf (not 0) where the mask is False, "
                "so those keys get weight exactly 0 after softmax"
            )
        return "correct: softmax(q kᵀ / √d) v, with the mask applied"

    return run("scaled dot-product attention", checks)


def _call_pair(fn: Callable, *args) -> tuple[torch.Tensor, torch.Tensor]:
    out = {}

    def first():  # call() handles NotImplementedError, exceptions and a missing return
        result = fn(*args)
        out["pair"] = result
        if isinstance(result, tuple) and len(result) == 2:
            return result[0] if isinstance(result[0], torch.Tensor) else None
        return result

    h_next = call(first)
    pair = out["pair"]
    if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], torch.Tensor)):
        raise Wrong(f"must return the pair (h_next, c_next), got a {type(pair).__name__}")
    return h_next, pair[1]


def check_lstm_step(fn: Callable) -> Feedback:
    """Exercise: write ``lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh) -> (h_next, c_next)``
    with PyTorch's gate order i, f, g, o; checked against ``nn.LSTMCell``."""

    def checks() -> str:
        torch.manual_seed(0)
        cell = torch.nn.LSTMCell(3, 4)
        g = torch.Generator().manual_seed(1)
        x, h, c = (torch.randn(2, n, generator=g) for n in (3, 4, 4))
        weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        with torch.no_grad():
            h_next, c_next = _call_pair(fn, x, h, c, *weights)
            h_ref, c_ref = cell(x, (h, c))
            pre = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
        i, f, cand, o = pre.chunk(4, dim=-1)
        if h_next.shape != (2, 4) or c_next.shape != (2, 4):
            raise Wrong(
                f"returns shapes {tuple(h_next.shape)} and {tuple(c_next.shape)}, expected "
                "(2, 4) each: split the 4*hidden pre-activations into four gates (chunk(4, -1))"
            )
        if _close(h_next, c_ref) and _close(c_next, h_ref):
            raise Wrong("returns (c_next, h_next): the order is (h_next, c_next)")
        if _close(c_next, c_ref) and _close(h_next, torch.sigmoid(o) * c_ref):
            raise Wrong("c_next is right, but h_next = o * tanh(c_next): the tanh is missing")
        swapped_c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(o)
        if _close(c_next, swapped_c):  # read the chunks as i, f, o, g
            raise Wrong(
                "uses the gates in the wrong order: PyTorch stacks input, forget, cell "
                "candidate, output (i, f, g, o)"
            )
        if _close(c_next, torch.sigmoid(f) * c + torch.sigmoid(i) * torch.sigmoid(cand)):
            raise Wrong("the cell candidate g uses tanh, not sigmoid: it is content in [-1, 1]")
        if _close(c_next, torch.sigmoid(f) * c + torch.tanh(cand)):
            raise Wrong("forgets the input gate: c_next = f * c + i * g")
        if _close(c_next, torch.sigmoid(i) * torch.tanh(cand)):
            raise Wrong("drops the old memory: c_next = f * c + i * g keeps f * c")
        if not _close(c_next, c_ref):
            raise Wrong("c_next differs from nn.LSTMCell's: c_next = f * c + i * g")
        if not _close(h_next, h_ref):
            raise Wrong("h_next differs from nn.LSTMCell's: h_next = o * tanh(c_next)")
        return "correct: equal to nn.LSTMCell"

    return run("LSTM step", checks)


def check_gru_step(fn: Callable) -> Feedback:
    """Exercise: ``gru_step(x, h, w_ih, w_hh, b_ih, b_hh) -> h_next`` with PyTorch's gate
    order r, z, n; checked against ``nn.GRUCell``."""

    def checks() -> str:
        torch.manual_seed(0)
        cell = torch.nn.GRUCell(3, 4)
        g = torch.Generator().manual_seed(1)
        x, h = torch.randn(2, 3, generator=g), torch.randn(2, 4, generator=g)
        weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        with torch.no_grad():
            out = call(fn, x, h, *weights)
            want = cell(x, h)
            gi = x @ cell.weight_ih.T + cell.bias_ih
            gh = h @ cell.weight_hh.T + cell.bias_hh
        if out.shape != want.shape:
            raise Wrong(f"returns shape {tuple(out.shape)}, expected {tuple(want.shape)}: split "
                        "the 3*hidden pre-activations into r, z, n with chunk(3, dim=-1)")
        i_r, i_z, i_n = gi.chunk(3, dim=-1)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        if _close(out, z * n + (1 - z) * h):
            raise Wrong("mixes the wrong way round: h' = (1 - z) * n + z * h (z keeps the OLD state)")
        if _close(out, (1 - z) * torch.tanh(i_n + h_n) + z * h):
            raise Wrong("forgets the reset gate: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))")
        if _close(out, (1 - z) * torch.tanh(i_n + r * h @ cell.weight_hh[8:].T + cell.bias_hh[8:]) + z * h):
            raise Wrong("applies r before the hidden-to-hidden product; PyTorch applies it after: "
                        "r * (W_hn h + b_hn)")
        r2, z2 = torch.sigmoid(i_z + h_z), torch.sigmoid(i_r + h_r)
        if _close(out, (1 - z2) * torch.tanh(i_n + r2 * h_n) + z2 * h):
            raise Wrong("swaps r and z: PyTorch stacks reset, update, new (r, z, n)")
        if not _close(out, want):
            raise Wrong("differs from nn.GRUCell: r, z = σ(...), n = tanh(i_n + r·h_n), "
                        "h' = (1 - z)·n + z·h")
        return "correct: equal to nn.GRUCell"

    return run("GRU step", checks)


def check_transformer_params(fn: Callable) -> Feedback:
    """Exercise: ``transformer_params(dim, heads, feedforward)``, the parameter count of one
    encoder layer; checked against ``nn.TransformerEncoderLayer``."""
    from mmkit.exercises.feedback import call_any, number

    cases = [(16, 4, 32), (32, 2, 64), (64, 8, 256), (12, 3, 12)]

    def checks() -> str:
        got = [number(call_any(fn, *case), "the parameter count") for case in cases]
        want = [sum(p.numel() for p in torch.nn.TransformerEncoderLayer(e, h, f).parameters())
                for e, h, f in cases]
        if got == want:
            return ("correct: 4E² + 4E (attention) + 2EF + F + E (feed-forward) + 4E (two "
                    "LayerNorms); the number of heads does not change it")
        i = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        e, h, f = cases[i]
        if all(g != w and abs(g - w * h) < 0.5 for g, w in zip(got, want, strict=True)) or \
                got[i] == want[i] + 3 * e * e * (h - 1):
            raise Wrong(f"gives {got[i]:g} for dim={e}, heads={h}, feedforward={f}, expected "
                        f"{want[i]}: the heads split the E columns of one projection, they do not "
                        "each get their own E × E matrices")
        if got[i] == want[i] - 4 * e:
            raise Wrong(f"gives {got[i]:g} for dim={e}, expected {want[i]}: the two LayerNorms "
                        "have a scale and a shift of E values each")
        if got[i] == 4 * e * e + 2 * e * f + 4 * e:
            raise Wrong(f"gives {got[i]:g} for dim={e}, expected {want[i]}: add the biases of the "
                        "projections and of both linear layers")
        raise Wrong(f"gives {got[i]:g} for dim={e}, heads={h}, feedforward={f}, expected {want[i]}: "
                    "q, k, v and output projections (E × E + E each), feed-forward (E·F + F and "
                    "F·E + E), two LayerNorms (2E each)")

    return run("Transformer parameters", checks)


def check_attention_mask(fn: Callable) -> Feedback:
    """Exercise: ``attention_mask(lengths, max_len, causal)`` -> bool (B, L, L), True where
    query i may attend to key j: key j is a real token (j < length) and, if causal, j <= i."""

    def reference(lengths, max_len, causal):
        keys = torch.arange(max_len)[None, None, :] < lengths[:, None, None]
        allowed = keys.expand(len(lengths), max_len, max_len)
        if causal:
            allowed = allowed & torch.ones(max_len, max_len, dtype=torch.bool).tril()
        return allowed

    def checks() -> str:
        lengths = torch.tensor([4, 2, 3])
        for causal in (False, True):
            out = call(fn, lengths, 4, causal)
            want = reference(lengths, 4, causal)
            if out.shape != want.shape:
                raise Wrong(f"returns shape {tuple(out.shape)}, expected (batch, queries, keys) = "
                            f"{tuple(want.shape)}")
            if out.dtype != torch.bool:
                raise Wrong(f"returns {out.dtype}; a mask is bool (True = may attend)")
            if torch.equal(out, ~want):
                raise Wrong("is inverted: True must mean MAY attend (torch's attn_mask convention)")
            if causal and torch.equal(out, reference(lengths, 4, False)
                                      & torch.ones(4, 4, dtype=torch.bool).triu()):
                raise Wrong("lets each query see the FUTURE: causal means key j <= query i (tril)")
            if torch.equal(out, reference(lengths, 4, causal).transpose(1, 2)):
                raise Wrong("masks padded queries instead of padded keys: the padding is in the "
                            "last dimension, the keys being looked at")
            if not torch.equal(out, want):
                where = "with" if causal else "without"
                raise Wrong(f"differs {where} causal: key j is allowed when j < length"
                            + (" and j <= i" if causal else ""))
        return "correct: padded keys never seen, and with causal=True no query sees the future"

    return run("attention mask", checks)
