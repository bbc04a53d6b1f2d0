"""Pretrained torchvision backbones as image encoders, offline first: VGG16 and ResNet18.

Nothing here downloads. ``weights="auto"`` looks for torchvision's own file in the torch hub
cache (where ``torchvision.models.vgg16(weights="IMAGENET1K_V1")`` saves it on a machine
with a network); a path loads that file; when the file is not there, a warning says where
to put it and the encoder goes on with random weights (``encoder.pretrained`` is False).

VGG16 is used without its classifier: ``features`` (the 13 conv layers, 14.7 M parameters,
59 MB) ends with the article's "block5_pool" map, (N, 512, H/32, W/32). The classifier
would add 124 M parameters (about 500 MB) that an encoder does not need.
"""

import warnings
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from mmkit.checks import check_int

# torchvision's file names (the last part of the weights' URL), checked against torchvision
# in tests/test_encoders_image.py.
VGG16_FILE = "vgg16-397923af.pth"
RESNET18_FILE = "resnet18-f37072fd.pth"
# Every torchvision ImageNet model expects inputs normalised with these statistics.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def hub_checkpoint_path(filename: str) -> Path:
    """Where torchvision keeps a downloaded weights file: <torch.hub.get_dir()>/checkpoints/."""
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


class PretrainedEncoder(nn.Module):
    """A backbone as an encoder: images (N, 3, H, W) in [0, 1] -> features (N, out_dim).

    Attributes: ``backbone`` (the torchvision layers), ``out_dim``, ``pretrained`` (True
    when weights were loaded from a file), ``weights_path`` (that file, or None).
    normalize=True applies the ImageNet mean and std inside forward(), so inputs are plain
    [0, 1] images. Builders return it in eval mode (BatchNorm uses its stored statistics,
    as a frozen feature extractor should); call ``.train()`` to fine-tune. pooled=True averages each channel over the map (global average pooling);
    pooled=False flattens the map instead, so out_dim depends on the input size.
    """

    def __init__(self, backbone: nn.Module, channels: int, *, pooled: bool = True,
                 map_size: int = 1, normalize: bool = True):
        super().__init__()
        self.backbone = backbone
        self.pooled = pooled
        self.normalize = normalize
        self.out_dim = channels if pooled else channels * map_size * map_size
        self.pretrained = False
        self.weights_path = None
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's last map, (N, channels, h, w), before pooling or flattening."""
        _check_rgb(x)
        if self.normalize:
            x = (x - self.mean) / self.std
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.feature_map(x)
        if self.pooled:
            return maps.mean(dim=(2, 3))
        flat = maps.flatten(1)
        _check_flat_size(flat, maps, x, self.out_dim)
        return flat


def _check_rgb(x: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"x must be RGB images of shape (N, 3, H, W), got {tuple(x.shape)}")


def _check_flat_size(flat, maps, x, out_dim: int) -> None:
    if flat.shape[1] != out_dim:
        raise ValueError(
            f"flattened features have {flat.shape[1]} numbers but out_dim is {out_dim}: "
            f"the map is {tuple(maps.shape[1:])} for input {tuple(x.shape[2:])}; build the "
            "encoder with input_size set to your image size, or use pooled=True"
        )


# Leaves for torch.fx, so that feature extraction can trace forward() (see encoders/image.py).
torch.fx.wrap("_check_rgb")
torch.fx.wrap("_check_flat_size")


def _resolve(weights, filename: str, builder: str) -> Path | None:
    """None (random weights), "auto" (the hub cache) or a path -> an existing file or None."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "auto":
        path = hub_checkpoint_path(filename)
    elif isinstance(weights, (str, Path)):
        path = Path(weights)
    else:
        raise TypeError(f"weights must be None, 'auto' or a path to a .pth file, got {weights!r}")
    if path.is_file():
        return path
    torchvision_name = builder.split("_")[0]
    warnings.warn(
        f"{builder}: no pretrained weights at {path}; going on with RANDOM weights "
        f"(encoder.pretrained is False). To use ImageNet weights, on a machine with a "
        f"network run `torchvision.models.{torchvision_name}(weights='IMAGENET1K_V1')`, which "
        f"saves {filename} in <torch.hub.get_dir()>/checkpoints/, and copy that file to "
        f"{hub_checkpoint_path(filename)} here (or pass weights='/path/to/{filename}').",
        UserWarning,
        stacklevel=3,
    )
    return None


def _load_state_dict(path: Path) -> dict:
    # mmap: the full VGG16 file is 528 MB; only the tensors we copy are read from disk.
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:  # files in the legacy (non-zip) format cannot be memory-mapped
        return torch.load(path, map_location="cpu", weights_only=True)


def _load_into(module: nn.Module, state: dict, path: Path) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ValueError(f"{path} does not hold the expected weights: {error}") from None


def vgg16_features(weights=None, pooled: bool = True, input_size: int = 224,
                   normalize: bool = True) -> PretrainedEncoder:
    """VGG16's conv blocks (``features``, ending at block5_pool) as an image encoder.

    weights: None (random), "auto" (torchvision's vgg16-397923af.pth in the torch hub
    cache) or a path to that file; only its ``features.*`` tensors are read. The map after
    block5_pool is (N, 512, H/32, W/32): (N, 512, 7, 7) for 224x224 input.
    pooled=True: global average pooling -> (N, 512), any input size.
    pooled=False: flattened -> (N, 512 * s * s), s = input_size // 32 (25088 for 224x224);
    inputs must then be input_size x input_size.
    """
    # Imported here, not at the top: `import mmkit.encoders` stays light.
    from torchvision.models.vgg import cfgs, make_layers

    check_int(input_size, "input_size", minimum=32)
    backbone = make_layers(cfgs["D"], batch_norm=False)  # "D" is VGG16's layer list
    encoder = PretrainedEncoder(backbone, 512, pooled=pooled, map_size=input_size // 32,
                                normalize=normalize)
    path = _resolve(weights, VGG16_FILE, "vgg16_features")
    if path is not None:
        state = _load_state_dict(path)
        features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        if not features:  # a file saved from `.features` alone has no prefix
            features = state
        _load_into(backbone, features, path)
        encoder.pretrained, encoder.weights_path = True, path
    return encoder.eval()


def resnet18_features(weights=None, normalize: bool = True) -> PretrainedEncoder:
    """ResNet18 without its last linear layer: images -> (N, 512), global average pooled.

    weights: None (random), "auto" (torchvision's resnet18-f37072fd.pth in the torch hub
    cache) or a path to a ResNet18 state_dict (its ``fc.*`` tensors are not used).
    ``backbone`` keeps torchvision's layer names (conv1, bn1, ..., layer4) and returns the
    last map, (N, 512, H/32, W/32).
    """
    from torchvision.models import resnet18

    resnet = resnet18(weights=None)
    backbone = nn.Sequential(OrderedDict(
        (name, module) for name, module in resnet.named_children() if name not in ("avgpool", "fc")
    ))
    encoder = PretrainedEncoder(backbone, 512, pooled=True, normalize=normalize)
    path = _resolve(weights, RESNET18_FILE, "resnet18_features")
    if path is not None:
        state = {k: v for k, v in _load_state_dict(path).items() if not k.startswith("fc.")}
        _load_into(backbone, state, path)
        encoder.pretrained, encoder.weights_path = True, path
    return encoder.eval()


# ---- small encoders pretrained by the kit, shipped in data/pretrained/ -------------------------
#
# VGG16's and BERT's weights are hundreds of megabytes and need a network to fetch. So that
# transfer learning can be shown on every machine, the kit ships two small encoders that
# data/make_pretrained_encoders.py pretrained on *other* ShapesWorld tasks than the ones the
# lessons use them for: an image CNN trained to name a scene's shape, colour and size, and a
# tiny BERT-like text encoder trained by masked-language modelling on captions.

SHAPES_CNN_FILE = "shapes_cnn.pt"
TINY_BERT_FILE = "tiny_bert.pt"


class TinyBert(nn.Module):
    """A BERT-like text encoder, small: ids (B, L) -> token states (B, L, dim).

    As in BERT: a token embedding plus a *learned* position embedding, then ``layers``
    Transformer encoder blocks; every token's output depends on the whole caption. It has
    its own vocabulary (``vocab``, with a "<mask>" token for its pretraining): ids from any
    other tokenizer point at the wrong rows of its embedding table.

    ``token_states(ids)`` is BERT's last hidden state, one vector per token (B, L, dim);
    ``forward(ids)`` pools it to one vector per caption, the mean over the real tokens
    (B, dim), so that it can stand beside the kit's other encoders (``out_dim`` = dim).
    ``mlm_head`` predicts a masked token from its state (used only in pretraining).
    """

    def __init__(self, vocab_size: int, dim: int = 48, heads: int = 2, layers: int = 2,
                 feedforward: int = 96, max_len: int = 16, padding_idx: int = 0):
        super().__init__()
        from mmkit.encoders.text import TransformerLayer, _embedding

        self.embedding = _embedding(vocab_size, dim, padding_idx)
        self.position = nn.Embedding(check_int(max_len, "max_len", minimum=1), dim)
        self.layers = nn.ModuleList(TransformerLayer(dim, heads, feedforward)
                                    for _ in range(check_int(layers, "layers", minimum=1)))
        self.mlm_head = nn.Linear(dim, vocab_size)
        self.padding_idx, self.max_len, self.out_dim = padding_idx, max_len, dim
        self.config = {"vocab_size": vocab_size, "dim": dim, "heads": heads, "layers": layers,
                       "feedforward": feedforward, "max_len": max_len,
                       "padding_idx": padding_idx}
        self.vocab = None
        self.pretrained, self.weights_path = False, None

    def token_states(self, ids: torch.Tensor) -> torch.Tensor:
        from mmkit.encoders.text import _check_ids

        _check_ids(ids, self.embedding.num_embeddings)
        if ids.shape[1] > self.max_len:
            raise ValueError(f"ids has {ids.shape[1]} tokens per row, more than max_len="
                             f"{self.max_len}; truncate the captions")
        real = ids != self.padding_idx
        x = self.embedding(ids) + self.position.weight[: ids.shape[1]]
        padding = ~real & real.any(dim=1, keepdim=True)  # an empty caption attends to padding
        for layer in self.layers:
            x = layer(x, padding)
        return x

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        from mmkit.encoders.text import masked_mean

        return masked_mean(self.token_states(ids), ids != self.padding_idx)


def _kit_weights(weights, filename: str, builder: str) -> Path | None:
    """None (random weights), "auto" (data/pretrained/<filename>) or a path -> a file or None."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "auto":
        from mmkit.files import data_dir

        path = data_dir() / "pretrained" / filename
    elif isinstance(weights, (str, Path)):
        path = Path(weights)
    else:
        raise TypeError(f"weights must be None, 'auto' or a path to a .pt file, got {weights!r}")
    if path.is_file():
        return path
    warnings.warn(f"{builder}: no weights file at {path}; going on with RANDOM weights "
                  f"(encoder.pretrained is False). data/make_pretrained_encoders.py makes it.",
                  UserWarning, stacklevel=3)
    return None


def _load_kit_file(path: Path, kind: str) -> dict:
    content = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(content, dict) or content.get("kind") != kind:
        raise ValueError(f"{path} is not a kit file of kind {kind!r} (made by "
                         "data/make_pretrained_encoders.py)")
    return content


SHAPES_CNN_CONFIG = {"in_channels": 3, "channels": (8, 16), "out_dim": 64, "pooled_size": 2}


def shapes_image_cnn(weights="auto"):
    """The kit's image encoder pretrained on ShapesWorld: an ``ImageCNN`` (two conv blocks,
    64 features) trained to name the shape, colour and size of 32x32 scenes. Images
    (N, 3, H, W) in [0, 1] -> (N, 64).

    weights: "auto" (data/pretrained/shapes_cnn.pt), a path, or None for the same
    architecture with random weights (training from scratch). ``.pretrained`` says which,
    ``.pretraining`` what it was trained on and its held-out scores; returned in eval mode,
    like the torchvision backbones above.
    """
    from mmkit.encoders.image import ImageCNN

    encoder = ImageCNN(**SHAPES_CNN_CONFIG)
    encoder.pretrained, encoder.weights_path, encoder.pretraining = False, None, None
    path = _kit_weights(weights, SHAPES_CNN_FILE, "shapes_image_cnn")
    if path is not None:
        content = _load_kit_file(path, "shapes_cnn")
        _load_into(encoder, content["state_dict"], path)
        encoder.pretrained, encoder.weights_path = True, path
        encoder.pretraining = {"trained_on": content["trained_on"],
                               "held_out_accuracy": dict(content["held_out_accuracy"])}
    return encoder.eval()


def tiny_bert(weights="auto") -> TinyBert:
    """The kit's BERT-like text encoder, pretrained by masked-language modelling on
    ShapesWorld captions; ``.vocab`` is its own vocabulary (encode captions with it).

    weights: "auto" (data/pretrained/tiny_bert.pt), a path, or None for the same
    architecture and vocabulary with random weights (training from scratch).
    """
    from mmkit.preprocess.text import Vocabulary

    path = _kit_weights(weights, TINY_BERT_FILE, "tiny_bert")
    content = None
    if path is not None:
        content = _load_kit_file(path, "tiny_bert")
        tokens = list(content["vocab"])
        config = dict(content["config"])
    else:
        tokens = tiny_bert_vocabulary().tokens
        config = {"vocab_size": len(tokens)}
    encoder = TinyBert(**config)
    encoder.vocab = Vocabulary(tokens, num_specials=3)
    encoder.pretraining = None
    if content is not None:
        _load_into(encoder, content["state_dict"], path)
        encoder.pretrained, encoder.weights_path = True, path
        encoder.pretraining = {"trained_on": content["trained_on"],
                               "held_out_masked_accuracy": content["held_out_masked_accuracy"]}
    return encoder.eval()


def tiny_bert_vocabulary():
    """The tiny BERT's vocabulary: <pad>, <unk>, <mask>, then every word ShapesWorld writes."""
    from mmkit.data.shapes_world import ShapesWorld
    from mmkit.preprocess.text import Vocabulary

    return Vocabulary(["<pad>", "<unk>", "<mask>", *ShapesWorld.words], num_specials=3)
