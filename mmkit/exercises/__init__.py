"""Self-checks for the notebook exercises, one module per lesson.

Each ``check_*`` runs the learner's function on chosen inputs and answers with the *first*
thing that is wrong, in words that point at the fix, or with a pass. It never raises on a
wrong answer, so a notebook full of exercises still runs top to bottom.
"""

from mmkit.exercises.align import (
    check_hard_negative_loss,
    check_perfect_batch_loss,
    check_recall_at_k,
)
from mmkit.exercises.audio_video import check_deltas, check_local_soft_argmax, check_pck
from mmkit.exercises.challenges import (
    check_balanced_accuracy,
    check_effective_number_weights,
    check_logit_matching,
)
from mmkit.exercises.data import check_add_noise, check_htk_mel, check_normalize, check_stft_frames
from mmkit.exercises.evaluation import check_adaptive_ece, check_cost_decision, check_macro_fbeta
from mmkit.exercises.explain import check_gradient_times_input, check_pointing_hit, check_vargrad
from mmkit.exercises.feedback import Feedback
from mmkit.exercises.fusion import (
    check_fusion_weights,
    check_late_fusion_present,
    check_tensor_fusion_parameters,
)
from mmkit.exercises.images import (
    check_cnn_params,
    check_conv_output_size,
    check_max_pool,
    check_padding_for,
    check_receptive_field,
)
from mmkit.exercises.math import (
    check_bce_with_logits,
    check_cross_entropy,
    check_gradient_step,
    check_learning_rate,
    check_mse_gradient,
    check_softmax,
)
from mmkit.exercises.project import (
    check_keras_vgg_preprocess,
    check_stratified_split,
    check_token_max_pool,
)
from mmkit.exercises.text import (
    check_attention,
    check_attention_mask,
    check_gru_step,
    check_lstm_step,
    check_transformer_params,
)
from mmkit.exercises.vit import check_cross_attention, check_patchify, check_tokens_and_flops
from mmkit.exercises.vlm import check_causal_mask, check_chair, check_top_p

__all__ = [
    "Feedback",
    "check_adaptive_ece",
    "check_add_noise",
    "check_attention",
    "check_attention_mask",
    "check_balanced_accuracy",
    "check_bce_with_logits",
    "check_causal_mask",
    "check_chair",
    "check_cnn_params",
    "check_conv_output_size",
    "check_cost_decision",
    "check_cross_attention",
    "check_cross_entropy",
    "check_deltas",
    "check_effective_number_weights",
    "check_fusion_weights",
    "check_gradient_step",
    "check_gradient_times_input",
    "check_gru_step",
    "check_hard_negative_loss",
    "check_htk_mel",
    "check_keras_vgg_preprocess",
    "check_late_fusion_present",
    "check_learning_rate",
    "check_local_soft_argmax",
    "check_logit_matching",
    "check_lstm_step",
    "check_macro_fbeta",
    "check_max_pool",
    "check_mse_gradient",
    "check_normalize",
    "check_padding_for",
    "check_patchify",
    "check_pck",
    "check_perfect_batch_loss",
    "check_pointing_hit",
    "check_recall_at_k",
    "check_receptive_field",
    "check_softmax",
    "check_stft_frames",
    "check_stratified_split",
    "check_tensor_fusion_parameters",
    "check_token_max_pool",
    "check_tokens_and_flops",
    "check_top_p",
    "check_transformer_params",
    "check_vargrad",
]
