"""The tiny vision-language model: a frozen vision encoder, a projector, a causal decoder.

    image -> vision encoder (frozen) -> patch features (B, N, d_vision)
          -> projector (MLP) + patch positions -> N visual tokens (B, N, dim)
    [visual tokens] [<bos> prompt <sep>] [answer <eos>] -> causal decoder -> next-token logits

This is the shape of LLaVA, BLIP-2's decoder side and nanoVLM: the language model reads
the image as N extra tokens placed before the text, and a causal mask lets every position
see only what came before it. The vision encoder is any module mapping images (B, C, H, W)
to patch features (B, N, d_vision): here ``PatchEncoder`` over lesson 03's CNN; a CLIP or
ViT encoder (lessons 11, 12) fits the same slot.

The decoder is GPT's: pre-norm blocks of causal self-attention and an MLP, each added back
to its input (the residual stream). A block computes what PyTorch's
``nn.TransformerEncoderLayer(norm_first=True, activation="gelu")`` computes with a causal
mask; ``to_torch_layer`` copies a block's weights into one. (PyTorch's
``nn.TransformerDecoderLayer`` is the encoder-decoder kind, with cross-attention to a
second sequence; a decoder-only model has none.)
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from mmkit.checks import check_int, check_tensor

# What the cell head predicts: colour (4 + "nothing"), shape (3 + 1), size (2 + 1), and
# where the centre lies inside the cell (x, y offsets in [0, 1]).
CELL_OUTPUTS = 5 + 4 + 3 + 2


class SceneEncoder(nn.Module):
    """Images -> patch tokens: lesson 03's CNN, read as a grid of cells, each cell one token.

    images (B, 3, H, W) -> conv-ReLU-pool blocks (``ImageCNN(3, channels).features``; three
    blocks turn 32 pixels into a 4x4 grid of 8x8-pixel cells) -> (B, grid * grid, channels),
    row by row, each token with the normalised (x, y) of its cell in [-1, 1] appended:
    ``out_dim`` = channels + 2.

    ``cells`` is a linear head that says what is in each cell (colour, shape and size of
    an object centred there, or nothing) and where in the cell the centre lies: the task
    the encoder is pretrained on (``mmkit.vlm.training.cell_objective``). keep=k: only the
    k cells the head finds most object-like are passed on, in grid order (token pruning,
    as FastV or LLaVA-PruMerge do to save a language model's time); None: every cell.
    """

    def __init__(self, channels=(16, 32, 32), image_size: int = 32, keep: int | None = None,
                 seed: int = 0, position_scale: float = 10.0):
        super().__init__()
        from mmkit.encoders.image import ImageCNN

        self.image_size = check_int(image_size, "image_size", minimum=1)
        if not isinstance(channels, (tuple, list)) or not channels:
            raise TypeError(f"channels must be a non-empty tuple of ints, got {channels!r}")
        self.grid = image_size // 2 ** len(channels)
        if self.grid < 1 or image_size % 2 ** len(channels):
            raise ValueError(f"{len(channels)} pools of 2 must divide image_size={image_size}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(check_int(seed, "seed"))
            self.cnn = ImageCNN(3, channels).features
            self.cells = nn.Linear(channels[-1], CELL_OUTPUTS)
        side = torch.linspace(-1, 1, self.grid) if self.grid > 1 else torch.zeros(1)
        y, x = torch.meshgrid(side, side, indexing="ij")
        self.register_buffer("where", torch.stack([x, y], dim=-1).reshape(-1, 2), persistent=False)
        # The CNN's features are about 4 in size: coordinates scaled to [-10, 10] stand out as
        # much, so the projector sees *where* as readily as *what* from the first step.
        self.position_scale = float(position_scale)
        self.out_dim = channels[-1] + 2
        self.keep = None
        self.set_keep(keep)

    def set_keep(self, keep: int | None) -> None:
        """How many tokens to pass on: the k most object-like cells, or None for all."""
        cells = self.grid * self.grid
        if keep is not None:
            check_int(keep, "keep", minimum=1)
            if keep > cells:
                raise ValueError(f"keep must be at most the {cells} cells, got {keep}")
        self.keep = keep
        self.n_tokens = cells if keep is None else keep

    def cell_features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, grid * grid, channels): the CNN's last map, one row per cell."""
        check_tensor(images, "images", floating=True, ndim=4)
        if images.shape[1:] != (3, self.image_size, self.image_size):
            raise ValueError(f"images must be (B, 3, {self.image_size}, {self.image_size}), "
                             f"got {tuple(images.shape)}")
        return self.cnn(images).flatten(2).transpose(1, 2)

    def cell_logits(self, images: torch.Tensor) -> dict:
        """What the head sees in each cell: {"colour" (B, cells, 5), "shape" (B, cells, 4),
        "size" (B, cells, 3)} logits, class 0 meaning "nothing here"; "offset" (B, cells, 2)
        the centre's place inside the cell."""
        out = self.cells(self.cell_features(images))
        return dict(zip(("colour", "shape", "size", "offset"), out.split([5, 4, 3, 2], dim=-1),
                        strict=True))

    def kept_cells(self, images: torch.Tensor) -> torch.Tensor:
        """(B, n_tokens) the cells passed on, in grid order (row * grid + column): all of
        them, or the ``keep`` most object-like (1 - P(colour = nothing))."""
        cells = self.grid * self.grid
        if self.keep is None:
            return torch.arange(cells, device=images.device).expand(len(images), -1)
        objectness = 1 - self.cell_logits(images)["colour"].softmax(dim=-1)[..., 0]
        return objectness.topk(self.keep, dim=1).indices.sort(dim=1).values

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.cell_features(images)
        where = self.where.expand(len(features), -1, -1) * self.position_scale
        tokens = torch.cat([features, where], dim=-1)
        if self.keep is None:
            return tokens
        objectness = 1 - self.cells(features)[..., :5].softmax(dim=-1)[..., 0]
        kept = objectness.topk(self.keep, dim=1).indices.sort(dim=1).values
        return tokens.gather(1, kept[..., None].expand(-1, -1, tokens.shape[-1]))


def causal_mask(queries: int, keys: int | None = None, device=None) -> torch.Tensor:
    """(queries, keys) bool, True where attention is allowed. The queries are the last
    ``queries`` of ``keys`` positions (keys > queries when earlier ones are cached), and
    query i sees keys 0 .. keys - queries + i: itself and everything before it."""
    keys = queries if keys is None else keys
    return torch.ones(queries, keys, dtype=torch.bool, device=device).tril(keys - queries)


class KVCache:
    """The keys and values every attention layer has computed so far, so that each new token
    is the only one the decoder has to process: one step costs O(length) instead of
    O(length^2). ``keys[layer]`` and ``values[layer]`` are (B, heads, length, head_dim)."""

    def __init__(self):
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.text_length = 0  # text tokens seen (positions of the next ones start here)
        self.visual_length = 0

    def __len__(self) -> int:
        return 0 if not self.keys else self.keys[0].shape[2]

    def update(self, layer: int, keys: torch.Tensor, values: torch.Tensor):
        """Append the new positions' keys and values of ``layer``; return all of them."""
        if layer == len(self.keys):
            self.keys.append(keys)
            self.values.append(values)
        else:
            self.keys[layer] = torch.cat([self.keys[layer], keys], dim=2)
            self.values[layer] = torch.cat([self.values[layer], values], dim=2)
        return self.keys[layer], self.values[layer]

    def select(self, rows: torch.Tensor) -> None:
        """Keep only the given batch rows (finished sequences dropped)."""
        self.keys = [k[rows] for k in self.keys]
        self.values = [v[rows] for v in self.values]


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which each position sees only itself and earlier ones."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim must be a multiple of heads, got dim={dim}, heads={heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)  # queries, keys and values in one matrix
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0):
        """x (B, T, dim) -> (out (B, T, dim), weights (B, heads, T, keys))."""
        batch, length, dim = x.shape
        q, k, v = (t.view(batch, length, self.heads, dim // self.heads).transpose(1, 2)
                   for t in self.qkv(x).split(dim, dim=-1))
        if cache is not None:
            k, v = cache.update(layer, k, v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(dim // self.heads)
        scores = scores.masked_fill(~causal_mask(length, k.shape[2], x.device), float("-inf"))
        weights = scores.softmax(dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(batch, length, dim)
        return self.proj(out), weights


class DecoderBlock(nn.Module):
    """Pre-norm: x + attention(norm(x)), then x + MLP(norm(x)); the MLP is 4x as wide."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = CausalSelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0):
        attended, weights = self.attention(self.norm1(x), cache, layer)
        x = x + attended
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x)))), weights


def to_torch_layer(block: DecoderBlock) -> nn.TransformerEncoderLayer:
    """The same computation as PyTorch's own layer, with ``block``'s weights: call it with
    ``mask=nn.Transformer.generate_square_subsequent_mask(T), is_causal=True``."""
    dim = block.fc1.in_features
    layer = nn.TransformerEncoderLayer(dim, block.attention.heads, 4 * dim, dropout=0.0,
                                       activation="gelu", batch_first=True, norm_first=True)
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(block.attention.qkv.weight)
        layer.self_attn.in_proj_bias.copy_(block.attention.qkv.bias)
        layer.self_attn.out_proj.load_state_dict(block.attention.proj.state_dict())
        for ours, theirs in ((block.norm1, layer.norm1), (block.norm2, layer.norm2),
                             (block.fc1, layer.linear1), (block.fc2, layer.linear2)):
            theirs.load_state_dict(ours.state_dict())
    return layer.eval()


class TinyVLM(nn.Module):
    """A frozen vision encoder, an MLP projector and a small causal decoder over words.

    Args:
        vision_encoder: images (B, C, H, W) -> patch features (B, n_tokens, out_dim); it
            needs ``out_dim`` and ``n_tokens`` attributes (SceneEncoder has them; so can a
            CLIP or ViT encoder of lessons 11-12, wrapped). Frozen: its weights never
            change here (requires_grad False), as in LLaVA.
        vocab: the Vocabulary of prompts and answers; its specials must include "<bos>",
            "<sep>" (the prompt ends, the answer starts) and "<eos>".
        dim, heads, layers: the decoder's width, attention heads and blocks.
        max_text_length: the most text tokens (prompt and answer) the decoder can place.
    """

    def __init__(self, vision_encoder: nn.Module, vocab, *, dim: int = 64, heads: int = 4,
                 layers: int = 2, max_text_length: int = 32):
        super().__init__()
        from mmkit.preprocess.text import Vocabulary

        if not isinstance(vision_encoder, nn.Module):
            raise TypeError(f"vision_encoder must be a torch.nn.Module, got "
                            f"{type(vision_encoder).__name__}")
        for attribute in ("out_dim", "n_tokens"):
            if not isinstance(getattr(vision_encoder, attribute, None), int):
                raise TypeError(f"vision_encoder needs an int attribute {attribute!r} (its "
                                "feature size and token count), like SceneEncoder")
        if not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a mmkit.preprocess.text.Vocabulary, got "
                            f"{type(vocab).__name__}")
        for special in ("<bos>", "<sep>", "<eos>"):
            if special not in vocab:
                raise ValueError(f"vocab has no {special!r}: build it with specials "
                                 "('<pad>', '<unk>', '<bos>', '<sep>', '<eos>')")
        self.vocab = vocab
        self.bos, self.sep, self.eos = (vocab.token_to_index(t) for t in ("<bos>", "<sep>", "<eos>"))
        self.dim = check_int(dim, "dim", minimum=1)
        self.max_text_length = check_int(max_text_length, "max_text_length", minimum=2)
        self.n_visual = vision_encoder.n_tokens
        self.vision_dim = vision_encoder.out_dim
        self.vision = vision_encoder.requires_grad_(False)
        self.projector = nn.Sequential(nn.Linear(self.vision_dim, dim), nn.GELU(),
                                       nn.Linear(dim, dim))
        self.patch_position = nn.Parameter(torch.randn(self.n_visual, dim) * 0.02)
        self.embedding = nn.Embedding(len(vocab), dim)
        self.text_position = nn.Embedding(self.max_text_length, dim)
        self.blocks = nn.ModuleList(DecoderBlock(dim, check_int(heads, "heads", minimum=1))
                                    for _ in range(check_int(layers, "layers", minimum=1)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, len(vocab))

    def train(self, mode: bool = True):
        super().train(mode)
        self.vision.eval()  # frozen: its layers always behave as at inference
        return self

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """Patch features (B, N, d_vision) from the frozen vision encoder. Computed once and
        kept, they make training cheaper: the encoder never changes."""
        return self.vision(images)

    def visual_tokens(self, features: torch.Tensor, blind: bool = False) -> torch.Tensor:
        """Project patch features (B, N, d_vision) to visual tokens (B, N, dim): the MLP on
        each patch, plus a learned embedding of its slot. blind=True: all zeros, the image
        taken away (the decoder still sees N tokens, in the same places)."""
        check_tensor(features, "features", floating=True, ndim=3)
        if features.shape[1:] != (self.n_visual, self.vision_dim):
            raise ValueError(f"features must be (B, {self.n_visual}, {self.vision_dim}), got "
                             f"{tuple(features.shape)}")
        tokens = self.projector(features) + self.patch_position
        return torch.zeros_like(tokens) if blind else tokens

    def forward(self, ids: torch.Tensor, images: torch.Tensor | None = None, *,
                features: torch.Tensor | None = None, blind: bool = False,
                cache: KVCache | None = None, return_attention: bool = False):
        """Next-token logits (B, T, vocab) for the text ids (B, T).

        The image comes as ``images`` or as its ``features`` (``encode_images``); with
        neither the decoder reads the text alone (a plain language model). With a
        ``cache``, the visual tokens are read only while the cache is empty, and ``ids``
        continue where the cache left off. return_attention: also the attention weights of
        every layer, (B, heads, T, keys) each, keys = visual + text positions.
        """
        check_tensor(ids, "ids", floating=False, ndim=2)
        if images is not None and features is not None:
            raise ValueError("pass images or features, not both")
        start = 0 if cache is None else cache.text_length
        if start + ids.shape[1] > self.max_text_length:
            raise ValueError(f"{start + ids.shape[1]} text tokens do not fit: the decoder "
                             f"places at most max_text_length={self.max_text_length}")
        if images is not None:
            features = self.encode_images(images)
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        x = self.embedding(ids) + self.text_position(positions)
        visual = 0
        if features is not None and (cache is None or len(cache) == 0):
            if len(features) != len(ids):
                raise ValueError(f"the image batch has {len(features)} rows, ids has {len(ids)}")
            visual = self.n_visual
            x = torch.cat([self.visual_tokens(features, blind), x], dim=1)
            if cache is not None:
                cache.visual_length = visual
        attention = []
        for layer, block in enumerate(self.blocks):
            x, weights = block(x, cache, layer)
            attention.append(weights)
        if cache is not None:
            cache.text_length += ids.shape[1]
        logits = self.head(self.norm(x[:, visual:]))
        return (logits, attention) if return_attention else logits
