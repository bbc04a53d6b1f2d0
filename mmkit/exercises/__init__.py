"""Self-checks for the notebook exercises, one module per lesson.

Each ``check_*`` runs the learner's function on chosen inputs and answers with the *first*
thing that is wrong, in words that point at the fix, or with a pass. It never raises on a
wrong answer, so a notebook full of exercises still runs top to bottom.
"""

from mmkit.exercises.audio_video import check_pck
from mmkit.exercises.challenges import check_balanced_accuracy, check_class_weights
from mmkit.exercises.data import check_normalize
from mmkit.exercises.evaluation import check_cost_threshold, check_macro_f1
from mmkit.exercises.explain import check_pointing_hit, check_saliency
from mmkit.exercises.feedback import Feedback
from mmkit.exercises.fusion import check_fusion_weights
from mmkit.exercises.images import check_conv_output_size, check_max_pool
from mmkit.exercises.math import (
    check_cross_entropy,
    check_gradient_step,
    check_learning_rate,
    check_softmax,
)
from mmkit.exercises.text import check_attention, check_lstm_step
from mmkit.exercises.vlm import check_causal_mask, check_chair, check_top_p

__all__ = [
    "Feedback",
    "check_attention",
    "check_balanced_accuracy",
    "check_causal_mask",
    "check_chair",
    "check_class_weights",
    "check_conv_output_size",
    "check_cost_threshold",
    "check_cross_entropy",
    "check_fusion_weights",
    "check_gradient_step",
    "check_learning_rate",
    "check_lstm_step",
    "check_macro_f1",
    "check_max_pool",
    "check_normalize",
    "check_pck",
    "check_pointing_hit",
    "check_saliency",
    "check_softmax",
    "check_top_p",
]
