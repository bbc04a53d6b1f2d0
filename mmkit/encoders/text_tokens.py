"""Captions as token sequences: the lesson-04 Transformer text encoder without its final mean.

``TransformerTextEncoder`` ends with a masked mean, one vector per caption: right for
fusing whole modalities (lesson 06), wrong for cross-attention, where every word must keep
its own vector to look at the image with. ``TextTokens`` is the same encoder (same
parameters, same names: a trained ``TransformerTextEncoder``'s state_dict loads into it)
stopped before the mean.
"""

import torch

from mmkit.encoders.text import TransformerTextEncoder, _check_ids


class TextTokens(TransformerTextEncoder):
    """ids (B, L) -> token vectors (B, L, dim), each word's vector after the self-attention
    layers (it has read the other words of its caption).

    ``padding(ids)`` (B, L) bool is True at padding positions, whose vectors mean nothing;
    ``pooled(ids)`` is the masked mean, what ``TransformerTextEncoder`` returns.
    Same arguments as ``TransformerTextEncoder``.
    """

    def padding(self, ids: torch.Tensor) -> torch.Tensor:
        return ids == self.padding_idx

    def tokens(self, ids: torch.Tensor) -> torch.Tensor:
        _check_ids(ids, self.embedding.num_embeddings)
        if ids.shape[1] > self.max_len:
            raise ValueError(
                f"ids has {ids.shape[1]} tokens per row but the encoder was built with "
                f"max_len={self.max_len}; build it with a larger max_len or truncate the texts"
            )
        real = ids != self.padding_idx
        x = self.embedding(ids)
        if self.positional:
            x = x + self.positions[: ids.shape[1]]
        padding = ~real & real.any(dim=1, keepdim=True)  # as TransformerTextEncoder does
        for layer in self.layers:
            x = layer(x, padding)
        return x

    def pooled(self, ids: torch.Tensor) -> torch.Tensor:
        return super().forward(ids)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.tokens(ids)
