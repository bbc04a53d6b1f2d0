"""The Vision Transformer (视觉 Transformer, ViT; Dosovitskiy et al., 2021): an image as a sequence of patches.

    image (B, C, H, W)
      -> cut into P x P patches (图像块), each flattened to C*P*P numbers     patchify
      -> one linear map per patch to ``dim`` numbers: the patch tokens       PatchEmbedding
      -> a learned class token in front, learned position embeddings added
      -> the lesson-04 Transformer block (self-attention + feed-forward), ``layers`` times
      -> the class token's final vector: the image feature (B, dim)        ViT

"Unfold, then one linear layer" is exactly a convolution whose kernel and stride are both P:
each output position of ``Conv2d(C, dim, kernel_size=P, stride=P)`` is a dot product with one
patch, and no two positions share a pixel. ``PatchEmbedding`` uses the convolution (one
fast call); ``patchify`` gives the flattened patches in the same order as the convolution's
weights, ``weight.flatten(1)``, so the two can be compared number for number.

Unlike a CNN, nothing here says that neighbouring pixels belong together: the patch
embedding sees one patch at a time, and where a patch lies is only known through a
position embedding that has to be *learned*. That is the ViT's lack of built-in locality,
which it pays for with data (lesson 12 measures it).

``PatchTokens`` is the same patch embedding with no attention between patches, for
models that let other tokens (the words of a question) attend to the patches.
"""

import torch
from torch import nn

from mmkit.checks import check_int, check_tensor
from mmkit.encoders.text import TransformerLayer


def _check_images(images, in_channels: int, patch_size: int, name: str = "images") -> None:
    check_tensor(images, name, floating=True, ndim=4, finite=False)
    if images.shape[1] != in_channels:
        raise ValueError(f"{name} must have {in_channels} channels, shape (B, {in_channels}, "
                         f"H, W); got {tuple(images.shape)}")
    height, width = images.shape[2:]
    if height % patch_size or width % patch_size:
        raise ValueError(f"{name} are {height}x{width} pixels, which patches of "
                         f"{patch_size}x{patch_size} do not tile: H and W must be multiples "
                         f"of patch_size={patch_size}")


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, N, C * P * P): the P x P patches, row by row, each flattened
    channel first (the layout of ``Conv2d.weight.flatten(1)``); N = (H / P) * (W / P)."""
    check_int(patch_size, "patch_size", minimum=1)
    check_tensor(images, "images", floating=True, ndim=4, finite=False)
    _check_images(images, images.shape[1], patch_size)
    # unfold lists each patch as a column of C*P*P numbers, in (channel, row, column) order.
    return nn.functional.unfold(images, kernel_size=patch_size, stride=patch_size).transpose(1, 2)


class PatchEmbedding(nn.Module):
    """Images (B, C, H, W) -> patch tokens (B, N, dim): one linear map applied to every
    P x P patch, i.e. ``Conv2d(C, dim, kernel_size=P, stride=P)``, flattened row by row.

    ``weight`` (dim, C*P*P) and ``bias`` (dim,) are the linear layer's, so
    ``patchify(x, P) @ weight.T + bias`` gives the same tokens.
    """

    def __init__(self, patch_size: int, in_channels: int = 3, dim: int = 32):
        super().__init__()
        self.patch_size = check_int(patch_size, "patch_size", minimum=1)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.dim = check_int(dim, "dim", minimum=1)
        self.projection = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    @property
    def weight(self) -> torch.Tensor:
        """(dim, C*P*P): the convolution's kernels as the rows of a linear layer."""
        return self.projection.weight.flatten(1)

    @property
    def bias(self) -> torch.Tensor:
        return self.projection.bias

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images, self.in_channels, self.patch_size)
        return self.projection(images).flatten(2).transpose(1, 2)  # (B, dim, h, w) -> (B, N, dim)


def _grid(image_size: int, patch_size: int) -> int:
    check_int(image_size, "image_size", minimum=1)
    check_int(patch_size, "patch_size", minimum=1)
    if image_size % patch_size:
        raise ValueError(f"patch_size={patch_size} must divide image_size={image_size}")
    return image_size // patch_size


class ViT(nn.Module):
    """A small Vision Transformer: images (B, C, S, S) -> feature (B, dim).

    Args:
        image_size: S, the side of the (square) images it reads.
        patch_size: P; S / P patches per side, N = (S / P)^2 patch tokens.
        in_channels, dim: C of the images; size of every token.
        heads, layers, feedforward: of the lesson-04 Transformer blocks
            (``mmkit.encoders.text.TransformerLayer``; feedforward 2 * dim by default).
        class_token: put a learned token in front of the patches and return its final
            vector (as the ViT paper does); False: return the mean of the patch tokens.

    After a forward pass, ``last_attention`` holds every layer's attention weights,
    (B, heads, T, T) with T = N (+ 1 for the class token, which comes first).
    """

    def __init__(self, image_size: int = 32, patch_size: int = 8, in_channels: int = 3,
                 dim: int = 32, heads: int = 2, layers: int = 2, feedforward: int | None = None,
                 class_token: bool = True):
        super().__init__()
        self.grid = _grid(image_size, patch_size)
        self.image_size, self.num_patches = image_size, self.grid**2
        check_int(layers, "layers", minimum=1)
        feedforward = 2 * dim if feedforward is None else check_int(feedforward, "feedforward",
                                                                     minimum=1)
        self.patch_embedding = PatchEmbedding(patch_size, in_channels, dim)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim)) if class_token else None
        tokens = self.num_patches + (1 if class_token else 0)
        # Learned, not sinusoidal: the model finds out for itself which patches are near.
        self.position = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.layers = nn.ModuleList(TransformerLayer(dim, heads, feedforward)
                                    for _ in range(layers))
        self.out_dim = dim

    @property
    def last_attention(self) -> list:
        """Per layer, the attention weights of the last forward pass (B, heads, T, T)."""
        return [layer.self_attn.last_weights for layer in self.layers]

    def padding(self, images: torch.Tensor) -> None:
        """None: every token is real (for models that read ``tokens``)."""
        return None

    def tokens(self, images: torch.Tensor) -> torch.Tensor:
        """Every token after the last layer, (B, T, dim): the class token first (if any),
        then the N patch tokens row by row."""
        _check_images(images, self.patch_embedding.in_channels, self.patch_embedding.patch_size)
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            raise ValueError(f"images must be {self.image_size}x{self.image_size} (the size "
                             f"this ViT's position embeddings were made for), got "
                             f"{images.shape[-2]}x{images.shape[-1]}")
        x = self.patch_embedding(images)
        if self.class_token is not None:
            x = torch.cat([self.class_token.expand(len(x), -1, -1), x], dim=1)
        x = x + self.position
        for layer in self.layers:
            x = layer(x)
        return x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.tokens(images)
        return x[:, 0] if self.class_token is not None else x.mean(dim=1)


class PatchTokens(nn.Module):
    """Images (B, C, S, S) -> patch tokens (B, N, dim) that know their own patch and where
    it is, and nothing about the other patches.

    patch embedding + learned position embedding, then a small MLP applied to each token on
    its own (with a residual and a LayerNorm, as in a Transformer block without the
    attention). Other tokens - the words of a question - can then attend to these patches,
    and what a patch token holds comes from that patch alone, so an attention map over
    them can be read as a map over the image.
    ``tokens(images)`` is the same as calling it; ``padding(images)`` is None: every
    patch is real.
    """

    def __init__(self, image_size: int = 32, patch_size: int = 8, in_channels: int = 3,
                 dim: int = 32, hidden: int | None = None):
        super().__init__()
        self.grid = _grid(image_size, patch_size)
        self.image_size, self.num_patches = image_size, self.grid**2
        hidden = 2 * dim if hidden is None else check_int(hidden, "hidden", minimum=1)
        self.patch_embedding = PatchEmbedding(patch_size, in_channels, dim)
        self.position = nn.Parameter(torch.randn(1, self.num_patches, dim) * 0.02)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.norm = nn.LayerNorm(dim)
        self.out_dim = dim

    @property
    def last_attention(self) -> list:
        """No attention between patches: an empty list (a ViT lists one map per layer)."""
        return []

    def padding(self, images: torch.Tensor) -> None:
        return None

    def tokens(self, images: torch.Tensor) -> torch.Tensor:
        return self(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() == 4 and images.shape[-1] != self.image_size:
            raise ValueError(f"images must be {self.image_size}x{self.image_size}, got "
                             f"{images.shape[-2]}x{images.shape[-1]}")
        x = self.patch_embedding(images) + self.position
        return self.norm(x + self.mlp(x))
