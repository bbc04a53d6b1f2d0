"""Text encoders: token ids (B, L) -> feature (B, out_dim). Bag of embeddings, LSTM, Transformer.

How an encoder sees the padding: it takes only the ids tensor (the batch's "text", made by
``mmkit.preprocess.text.encode_batch`` or ``mmkit.data.collate``) and derives the mask
itself, ``ids != padding_idx`` (True at real tokens; the same as the batch's "text_mask"
for post-padding). So ``UnimodalClassifier(encoder, "text", ...)`` needs nothing more than
the ids, and a padding token can never be read by accident.

- BagOfEmbeddings: the mean of the word vectors (词嵌入, word embedding); blind to order.
- LSTMEncoder: reads the words in order and keeps the state at each text's true end.
- TransformerTextEncoder: embeddings + positional encoding, then self-attention blocks (the
  article's 变换器 / 转换器, with the positional encoding applied and the residual
  connections and LayerNorm its example leaves out); keeps its attention weights.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from mmkit import scratch
from mmkit.checks import check_int
from mmkit.encoders.inputs import check_token_ids
from mmkit.scratch.attention import _multi_head_attention


def _check_ids(ids, vocab_size: int, name: str = "ids") -> torch.Tensor:
    check_token_ids(ids, name, ndim=2)
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(
            f"{name} must hold token ids in [0, {vocab_size}) (the vocabulary size), got "
            f"values in [{int(ids.min())}, {int(ids.max())}]; was the vocabulary fitted on "
            "other texts?"
        )
    return ids


def _embedding(vocab_size: int, dim: int, padding_idx: int) -> nn.Embedding:
    """The token table every text encoder starts with; its padding row stays zero."""
    check_int(vocab_size, "vocab_size", minimum=2)
    check_int(dim, "dim", minimum=1)
    check_int(padding_idx, "padding_idx")
    if padding_idx >= vocab_size:
        raise ValueError(f"padding_idx must be < vocab_size={vocab_size}, got {padding_idx}")
    return nn.Embedding(vocab_size, dim, padding_idx=padding_idx)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real positions only: x (B, L, D), mask (B, L) True at real tokens.

    A plain mean would count the padding, so the same caption would get a different feature
    in a batch whose longest caption is longer. A text with no token gives zeros.
    """
    weights = mask.to(x.dtype).unsqueeze(-1)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


class BagOfEmbeddings(nn.Module):
    """ids (B, L) -> the mean of their embeddings over the real tokens (B, dim).

    ``nn.Embedding`` is a lookup table: row i is the learned vector of token i.
    padding_idx's row stays zero and gets no gradient. Word order is lost: "moving left is
    a red circle" and "a red circle moving left" give the same feature.
    """

    def __init__(self, vocab_size: int, dim: int, padding_idx: int = 0):
        super().__init__()
        self.embedding = _embedding(vocab_size, dim, padding_idx)
        self.padding_idx = padding_idx
        self.out_dim = dim

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _check_ids(ids, self.embedding.num_embeddings)
        return masked_mean(self.embedding(ids), ids != self.padding_idx)


class LSTMEncoder(nn.Module):
    """ids (B, L) -> the LSTM's hidden state after each text's last real token (B, hidden).

    Captions of different lengths are padded to one length, and an LSTM fed the padding
    would keep updating its state on <pad> tokens: the feature of "a red ball" would then
    depend on the longest caption in its batch. ``pack_padded_sequence`` tells the LSTM
    each row's true length, so it stops there (and skips the wasted steps).
    """

    def __init__(self, vocab_size: int, dim: int, hidden: int, padding_idx: int = 0):
        super().__init__()
        check_int(hidden, "hidden", minimum=1)
        self.embedding = _embedding(vocab_size, dim, padding_idx)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.padding_idx = padding_idx
        self.out_dim = hidden

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _check_ids(ids, self.embedding.num_embeddings)
        lengths = (ids != self.padding_idx).sum(dim=1)
        # pack needs lengths >= 1 on the CPU; an empty text reads one <pad>, then is zeroed.
        packed = pack_padded_sequence(
            self.embedding(ids), lengths.clamp_min(1).cpu(), batch_first=True,
            enforce_sorted=False,
        )
        _, (h_n, _) = self.lstm(packed)
        return h_n[-1] * (lengths > 0).unsqueeze(1).to(h_n.dtype)


class SelfAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameters and names
    (``in_proj_weight``, ``in_proj_bias``, ``out_proj``), computed as
    ``scratch.multi_head_attention`` computes it, so a torch layer's weights load into it as they are.
    ``last_weights``: the attention weights of the last call, (B, heads, L, L), detached."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        check_int(heads, "heads", minimum=1)
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)  # as nn.MultiheadAttention initialises
        nn.init.zeros_(self.out_proj.bias)
        self.last_weights = None

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None):
        # The kit's multi-head attention, minus its input checks (this runs every step).
        out, weights = _multi_head_attention(
            x, x, x, self.heads, self.in_proj_weight, self.in_proj_bias,
            self.out_proj.weight, self.out_proj.bias, key_padding_mask=key_padding_mask,
        )
        self.last_weights = weights.detach()
        return out


class TransformerLayer(nn.Module):
    """One encoder block, post-norm as in "Attention is all you need":

        x = LayerNorm(x + SelfAttention(x))      every token looks at every real token
        x = LayerNorm(x + FeedForward(x))        then each token is transformed on its own

    The residual (x + ...) lets each block learn a correction instead of a whole new
    representation, and keeps gradients flowing through deep stacks; LayerNorm keeps each
    token's vector at a steady scale. Equal to ``nn.TransformerEncoderLayer(dim, heads,
    feedforward, dropout=0, batch_first=True)`` with the same weights (same parameter
    names, so its state_dict loads here).
    """

    def __init__(self, dim: int, heads: int, feedforward: int):
        super().__init__()
        self.self_attn = SelfAttention(dim, heads)
        self.linear1 = nn.Linear(dim, feedforward)
        self.linear2 = nn.Linear(feedforward, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None):
        x = self.norm1(x + self.self_attn(x, key_padding_mask))
        return self.norm2(x + self.linear2(torch.relu(self.linear1(x))))


class TransformerTextEncoder(nn.Module):
    """ids (B, L) -> masked mean of the last layer's token vectors (B, dim).

    embedding + positional encoding (sinusoidal, ``scratch.positional_encoding``) ->
    ``layers`` x TransformerLayer -> mean over the real tokens. Texts may be at most
    ``max_len`` tokens long. ``last_attention``: after a forward pass, a list over layers of
    the attention weights (B, heads, L, L) — row i says how much token i looked at each
    token; padding columns are 0.

    positional=False leaves the positional encoding out (as the article's example does in
    effect): self-attention and the mean are then blind to word order, and any permutation
    of the tokens gives the same feature.
    """

    def __init__(self, vocab_size: int, dim: int = 32, heads: int = 2, layers: int = 2,
                 max_len: int = 64, padding_idx: int = 0, feedforward: int | None = None,
                 positional: bool = True):
        super().__init__()
        self.embedding = _embedding(vocab_size, dim, padding_idx)
        check_int(layers, "layers", minimum=1)
        check_int(max_len, "max_len", minimum=1)
        feedforward = 2 * dim if feedforward is None else check_int(feedforward, "feedforward",
                                                                     minimum=1)
        self.register_buffer("positions", scratch.positional_encoding(max_len, dim),
                             persistent=False)
        self.layers = nn.ModuleList(
            TransformerLayer(dim, heads, feedforward) for _ in range(layers)
        )
        self.padding_idx = padding_idx
        self.positional = bool(positional)
        self.max_len = max_len
        self.out_dim = dim

    @property
    def last_attention(self) -> list:
        """Per layer, the attention weights of the last forward pass (B, heads, L, L)."""
        return [layer.self_attn.last_weights for layer in self.layers]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _check_ids(ids, self.embedding.num_embeddings)
        if ids.shape[1] > self.max_len:
            raise ValueError(
                f"ids has {ids.shape[1]} tokens per row but the encoder was built with "
                f"max_len={self.max_len}; build it with a larger max_len or truncate the texts"
            )
        real = ids != self.padding_idx  # (B, L), True at real tokens
        x = self.embedding(ids)
        if self.positional:
            x = x + self.positions[: ids.shape[1]]  # the step the article defines but skips
        # A text with no token at all would leave its queries nothing to attend to; let it
        # attend to its padding instead (its feature is zeroed by the masked mean anyway).
        padding = ~real & real.any(dim=1, keepdim=True)
        for layer in self.layers:
            x = layer(x, padding)
        return masked_mean(x, real)
