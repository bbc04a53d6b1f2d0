"""Encoders: each maps one modality to a (batch, out_dim) feature, one module per modality.

Every encoder is an ``nn.Module`` with an ``out_dim`` attribute, so a fusion module or a
classifier head can be sized from it.
"""

from mmkit.encoders.audio import LogMelCNN, MFCCEncoder
from mmkit.encoders.image import ImageCNN
from mmkit.encoders.pose import ActionClassifier, KeypointNet
from mmkit.encoders.pretrained import (
    PretrainedEncoder,
    TinyBert,
    resnet18_features,
    shapes_image_cnn,
    tiny_bert,
    vgg16_features,
)
from mmkit.encoders.text import (
    BagOfEmbeddings,
    LSTMEncoder,
    TransformerTextEncoder,
)
from mmkit.encoders.text_tokens import TextTokens
from mmkit.encoders.video import FlowMLP, VideoCNN3d
from mmkit.encoders.vit import PatchEmbedding, PatchTokens, ViT, patchify

__all__ = [
    "ActionClassifier",
    "BagOfEmbeddings",
    "FlowMLP",
    "ImageCNN",
    "KeypointNet",
    "LSTMEncoder",
    "LogMelCNN",
    "MFCCEncoder",
    "PatchEmbedding",
    "PatchTokens",
    "PretrainedEncoder",
    "TextTokens",
    "TinyBert",
    "TransformerTextEncoder",
    "ViT",
    "VideoCNN3d",
    "patchify",
    "resnet18_features",
    "shapes_image_cnn",
    "tiny_bert",
    "vgg16_features",
]
