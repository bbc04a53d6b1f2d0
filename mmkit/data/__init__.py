"""Datasets of dict samples: {"image", "text", "audio", "video", "label", ...}.

Synthetic, with known ground truth: ShapesWorld (four modalities), Scenes (1-3 objects,
their relations and captions), StickFigures (pose).
Real: AVDigits (handwritten + spoken digits). Loaders for data you bring: CocoCaptions,
Flickr8kCaptions, SpokenDigitFolder, VideoFrames, read_video_file. For training: class
weights, oversampling and minority augmentation (rebalance), modality dropout.
"""

from mmkit.data.avdigits import AVDigits
from mmkit.data.collate import collate
from mmkit.data.corrupt import corrupt
from mmkit.data.loaders import (
    CocoCaptions,
    Flickr8kCaptions,
    SpokenDigitFolder,
    VideoFrames,
    read_video_file,
)
from mmkit.data.modality_dropout import ModalityDropout, drop_modalities
from mmkit.data.rebalance import augment_minority, class_weights, oversample, oversample_indices
from mmkit.data.scenes import Scenes
from mmkit.data.shapes_world import ShapesWorld
from mmkit.data.stick_figures import StickFigures
from mmkit.data.tensors import count_rows, take_rows, to_tensors

__all__ = [
    "AVDigits",
    "CocoCaptions",
    "Flickr8kCaptions",
    "ModalityDropout",
    "Scenes",
    "ShapesWorld",
    "SpokenDigitFolder",
    "StickFigures",
    "VideoFrames",
    "augment_minority",
    "class_weights",
    "collate",
    "corrupt",
    "count_rows",
    "drop_modalities",
    "oversample",
    "oversample_indices",
    "read_video_file",
    "take_rows",
    "to_tensors",
]
