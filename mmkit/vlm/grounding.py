"""Which image patches did a generated word rely on? Two answers, as pixel maps.

- attention: the decoder's last layer, at the position whose output chose the word, over
  the visual tokens (mean of the heads), each token's weight painted over its cell;
- saliency (Simonyan et al., 2014; Captum's ``Saliency``): |d logit(word) / d pixel|, the
  largest over the colour channels, through the frozen vision encoder.

Both can be scored against the mask of the object the word describes with lesson 10's
pointing game (``mmkit.explain.pointing_game``).
"""

import torch

from mmkit.checks import check_tensor
from mmkit.vlm.model import TinyVLM


def token_cells(model: TinyVLM, images: torch.Tensor) -> torch.Tensor:
    """(B, n_visual) the grid cell (row * grid + column) each visual token comes from."""
    encoder = model.vision
    if not hasattr(encoder, "kept_cells"):
        raise TypeError(f"{type(encoder).__name__} does not say where its tokens come from "
                        "(no kept_cells): its tokens cannot be drawn on the image")
    return encoder.kept_cells(images)


def paint_tokens(values: torch.Tensor, cells: torch.Tensor, grid: int,
                 image_size: int) -> torch.Tensor:
    """(B, H, W) maps: each token's value spread over the pixels of its cell, 0 elsewhere.
    values and cells (B, n_tokens)."""
    check_tensor(values, "values", floating=True, ndim=2)
    if cells.shape != values.shape:
        raise ValueError(f"cells and values must have the same shape, got "
                         f"{tuple(cells.shape)} and {tuple(values.shape)}")
    flat = torch.zeros(len(values), grid * grid, dtype=values.dtype, device=values.device)
    flat.scatter_(1, cells, values)
    side = image_size // grid
    return flat.view(-1, grid, grid).repeat_interleave(side, 1).repeat_interleave(side, 2)


def _check_positions(ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    check_tensor(ids, "ids", floating=False, ndim=2)
    positions = torch.as_tensor(positions, device=ids.device).long().reshape(-1)
    if len(positions) != len(ids):
        raise ValueError(f"positions must hold one index per row of ids ({len(ids)}), got "
                         f"{len(positions)}")
    if (positions < 1).any() or (positions >= ids.shape[1]).any():
        raise ValueError(f"positions must index a word of ids after the first token, in "
                         f"[1, {ids.shape[1] - 1}], got {positions.tolist()}")
    return positions


@torch.no_grad()
def word_attention(model: TinyVLM, images: torch.Tensor, ids: torch.Tensor,
                   positions) -> torch.Tensor:
    """(B, n_visual): for each row, how much the query that chose the word ids[b, t]
    (t = positions[b]; the query sits one place before it, at t - 1) attends to each visual
    token in the last layer, averaged over the heads."""
    positions = _check_positions(ids, positions)
    model.eval()
    _, attention = model(ids, images, return_attention=True)
    rows = torch.arange(len(ids), device=ids.device)
    query = model.n_visual + positions - 1
    return attention[-1].mean(dim=1)[rows, query, :model.n_visual]


def word_saliency(model: TinyVLM, images: torch.Tensor, ids: torch.Tensor,
                  positions) -> torch.Tensor:
    """(B, H, W): Captum's Saliency of the logit of each word ids[b, positions[b]] (from
    the position before it), with respect to the pixels; the largest |gradient| over the
    channels."""
    from captum.attr import Saliency

    positions = _check_positions(ids, positions)
    check_tensor(images, "images", floating=True, ndim=4)
    model.eval()
    rows = torch.arange(len(ids), device=ids.device)
    words = ids[rows, positions]

    def word_logit(pixels):
        return model(ids, pixels)[rows, positions - 1, words]

    maps = Saliency(word_logit).attribute(images.clone().requires_grad_(), abs=True)
    return maps.amax(dim=1).detach()
