"""Maps over image patches, checked against the objects' masks: attention, and its baselines.

A ViT-style model sees an image as N = g x g patches, so its attention over the image is a
vector of N weights. Here such a map is

- drawn on the pixels: ``patches_to_pixels`` (each patch's weight over its P x P pixels);
- scored: ``patch_pointing_game`` - does the patch with the largest weight hold a pixel of
  the object? (lesson 10's pointing game, with the tolerance of one patch);
- compared with maps that know nothing of the question (lesson 10's baselines, at the
  resolution of patches): ``random_patch_map`` (chance), ``brightness_patch_map`` (the
  brightest patch: on a black background it always lands on *some* object, but which one?);
  the third baseline, a model with random weights, is ``mmkit.explain.randomised_copy``;
- collected from a ``mmkit.token_models.TokenClassifier`` in one pass:
  ``token_attention_maps`` (what the explorer draws).
"""

import torch

from mmkit.checks import check_int, check_tensor
from mmkit.explain.ground_truth import pointing_game
from mmkit.explain.rollout import attention_rollout, cross_attention_rollout


def _check_patch_maps(maps, name: str = "maps") -> tuple[int, int]:
    check_tensor(maps, name, floating=True, ndim=2)
    grid = round(maps.shape[1] ** 0.5)
    if grid * grid != maps.shape[1]:
        raise ValueError(f"{name} must hold one weight per patch of a square grid, (B, g*g); "
                         f"{maps.shape[1]} is not a square")
    return maps.shape[0], grid


def patches_to_pixels(maps: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, g*g) patch weights, row by row -> (B, g*P, g*P): every pixel gets its patch's."""
    batch, grid = _check_patch_maps(maps)
    check_int(patch_size, "patch_size", minimum=1)
    square = maps.reshape(batch, grid, grid)
    return square.repeat_interleave(patch_size, dim=1).repeat_interleave(patch_size, dim=2)


def patch_pointing_game(maps: torch.Tensor, masks: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B,) bool: does the top patch of each map hold a pixel of the object?

    maps (B, g*g), masks (B, H, W) bool with H = W = g * patch_size. The pointing game of
    lesson 10 (``mmkit.explain.pointing_game``) on the map spread over the pixels, with a
    tolerance of (P - 1) / 2 pixels around the top patch's centre: exactly that patch.
    Ties for the top are resolved as there (their centre); a flat map is a miss.
    """
    pixels = patches_to_pixels(maps, patch_size)
    check_tensor(masks, "masks", ndim=3)
    if masks.shape != pixels.shape:
        raise ValueError(f"masks must be (B, H, W) = {tuple(pixels.shape)} for these maps "
                         f"and patch_size={patch_size}, got {tuple(masks.shape)}")
    return pointing_game(pixels, masks, tolerance=(patch_size - 1) / 2)


def random_patch_map(batch: int, num_patches: int, seed: int = 0) -> torch.Tensor:
    """(batch, num_patches) uniform random weights: the chance level of the pointing game."""
    check_int(batch, "batch", minimum=1)
    check_int(num_patches, "num_patches", minimum=1)
    generator = torch.Generator().manual_seed(check_int(seed, "seed"))
    return torch.rand(batch, num_patches, generator=generator)


def brightness_patch_map(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, g*g): each patch's mean brightness (over its pixels and channels), row by row."""
    check_tensor(images, "images", floating=True, ndim=4)
    check_int(patch_size, "patch_size", minimum=1)
    height, width = images.shape[2:]
    if height % patch_size or width % patch_size:
        raise ValueError(f"patch_size={patch_size} must divide the images' {height}x{width}")
    pooled = torch.nn.functional.avg_pool2d(images.mean(dim=1, keepdim=True), patch_size)
    return pooled.flatten(1)


@torch.no_grad()
def token_attention_maps(model, batch: dict) -> dict:
    """Every attention map of a ``TokenClassifier`` (with "image" and "text" encoders) over
    the image, for one batch {"image", "text" ids, ...}.

    Returns a dict (tensors on the CPU; missing parts are None or []):
      "words"    (B, heads, L, K): the fusion's cross-attention, each word over the K
                 tokens it reads (the N patches, or the M queries of a pooler)
      "queries"  (B, heads, M, N): the pooler's learned queries over the patches, or None
      "patches"  list over the image encoder's layers of (B, heads, N, N) self-attention
      "text"     list over the text encoder's layers of (B, heads, L, L)
      "text_padding" (B, L) bool
      "word_rollout"  (B, L, N): each input word -> input patches, through the text
                 encoder's mixing, the cross-attention, the queries and the image encoder
                 (``cross_attention_rollout``); None without a cross-attention
      "query_rollout" (B, M, N) and "patch_rollout" (B, N, N): the same for the queries
                 and the patches (identity where the image encoder has no attention)
    The model runs once, in eval mode, without gradients.
    """
    from mmkit.cross_attention import CrossAttentionFusion

    was_training = model.training
    model.eval()
    try:
        inputs = {name: batch[name] for name in model.encoders}
        device = next(model.parameters()).device
        model({name: torch.as_tensor(x).to(device) for name, x in inputs.items()})
    finally:
        model.train(was_training)
    image_encoder, text_encoder = model.encoders["image"], model.encoders["text"]
    patches = [w.cpu() for w in (getattr(image_encoder, "last_attention", None) or [])]
    text = [w.cpu() for w in (getattr(text_encoder, "last_attention", None) or [])]
    text_padding = text_encoder.padding(batch["text"]).cpu()
    queries = model.pooler.last_weights.cpu() if model.pooler is not None else None
    words = (model.fusion.last_weights.cpu()
             if isinstance(model.fusion, CrossAttentionFusion) else None)

    size = len(batch["text"])
    patch_rollout = attention_rollout(patches) if patches else None
    query_rollout = None
    if queries is not None:  # queries -> input patches (no residual: a query is not a patch)
        query_rollout = cross_attention_rollout(queries, context_rollout=patch_rollout)
    word_rollout = None
    if words is not None:
        reads, through = words.mean(dim=1), patch_rollout
        if queries is not None:  # the words read the queries, the queries read the patches
            reads, through = reads @ query_rollout, None
        word_rollout = cross_attention_rollout(
            reads, query_rollout=attention_rollout(text) if text else None,
            context_rollout=through, query_padding=text_padding)
    if patch_rollout is None:
        num = (queries.shape[-1] if queries is not None
               else words.shape[-1] if words is not None else 0)
        patch_rollout = torch.eye(num).expand(size, num, num) if num else None
    return {"words": words, "queries": queries, "patches": patches, "text": text,
            "text_padding": text_padding, "word_rollout": word_rollout,
            "query_rollout": query_rollout, "patch_rollout": patch_rollout}
