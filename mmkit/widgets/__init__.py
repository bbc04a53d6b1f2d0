"""ipywidgets front ends: thin wrappers that wire controls to a compute function and a plot.

Every front end returns an ``Explorer`` (explorer.py); one module per lesson holds its
explorers. Tests and the benchmark find them all here.
"""

from mmkit.widgets.align import retrieval_explorer, similarity_explorer
from mmkit.widgets.audio_video import keypoint_explorer
from mmkit.widgets.data import data_browser
from mmkit.widgets.evaluation import feedback_explorer, roc_explorer
from mmkit.widgets.explain import explanation_explorer
from mmkit.widgets.explorer import Explorer
from mmkit.widgets.fusion import fusion_explorer
from mmkit.widgets.images import feature_map_explorer
from mmkit.widgets.math import gradient_descent_explorer, softmax_explorer
from mmkit.widgets.text import attention_explorer
from mmkit.widgets.vit import vit_attention_explorer
from mmkit.widgets.vlm import decoding_stepper

__all__ = [
    "Explorer",
    "attention_explorer",
    "data_browser",
    "decoding_stepper",
    "explanation_explorer",
    "feature_map_explorer",
    "feedback_explorer",
    "fusion_explorer",
    "gradient_descent_explorer",
    "keypoint_explorer",
    "retrieval_explorer",
    "roc_explorer",
    "similarity_explorer",
    "softmax_explorer",
    "vit_attention_explorer",
]
