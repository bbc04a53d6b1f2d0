"""Datasets of dict samples: {"image", "text", "audio", "video", "label", ...}.

Synthetic, with known ground truth: ShapesWorld (four modalities), StickFigures (pose).
Real: AVDigits (handwritten + spoken digits). Loaders for data you bring: CocoCaptions,
Flickr8kCaptions, SpokenDigitFolder, VideoFrames, read_video_file.
"""

from mmkit.data.avdigits import AVDigits
from mmkit.data.collate import build_vocab, collate
from mmkit.data.loaders import (
    CocoCaptions,
    Flickr8kCaptions,
    SpokenDigitFolder,
    VideoFrames,
    read_video_file,
)
from mmkit.data.shapes_world import ShapesWorld
from mmkit.data.stick_figures import StickFigures
from mmkit.data.tensors import to_tensors

__all__ = [
    "AVDigits",
    "CocoCaptions",
    "Flickr8kCaptions",
    "ShapesWorld",
    "SpokenDigitFolder",
    "StickFigures",
    "VideoFrames",
    "build_vocab",
    "collate",
    "read_video_file",
    "to_tensors",
]
