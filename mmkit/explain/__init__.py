"""Explanations (可解释性): what a multimodal classifier looked at, and whether that is true.

    maps.py          feature_maps, attention_maps: what the model computed on the way
    attributions.py  image_attribution, token_attribution: Captum's saliency, SmoothGrad,
                     integrated gradients, GradientSHAP, DeepLift, Grad-CAM, feature
                     ablation, LIME and KernelSHAP; image_baseline (black, blurred, mean)
    modality.py      modality_attribution: one score per sample and modality
    all_methods.py   explain_all: every method on every sample, once (for the explorer)
    ground_truth.py  the pointing game, modality ranking and the randomisation test on
                     ShapesWorld, whose truth is known
    sanity.py        the maps a method must beat (random, brightness, edges) and Adebayo et
                     al.'s cascading and independent randomisation; SSIM
    checks.py        the input checks they share

Captum is imported inside the functions that use it, so ``import mmkit`` stays light.
"""

from mmkit.explain.all_methods import explain_all
from mmkit.explain.attributions import (
    BASELINES,
    GRADIENT_METHODS,
    METHODS,
    PERTURBATION_METHODS,
    CaptumForward,
    image_attribution,
    image_baseline,
    patch_mask,
    token_attribution,
)
from mmkit.explain.ground_truth import (
    peak_positions,
    pointing_game,
    randomisation_test,
    randomised_copy,
    rank_correlation,
    ranks_first,
    shapes_world_truth,
)
from mmkit.explain.maps import attention_maps, feature_maps
from mmkit.explain.modality import MODALITY_METHODS, modality_attribution
from mmkit.explain.rollout import attention_rollout
from mmkit.explain.sanity import (
    brightness_map,
    cascading_randomisation,
    edge_map,
    independent_randomisation,
    parameter_layers,
    random_maps,
    randomise_layers,
    ssim,
)

__all__ = [
    "BASELINES",
    "GRADIENT_METHODS",
    "METHODS",
    "MODALITY_METHODS",
    "PERTURBATION_METHODS",
    "CaptumForward",
    "attention_maps",
    "attention_rollout",
    "brightness_map",
    "cascading_randomisation",
    "edge_map",
    "independent_randomisation",
    "parameter_layers",
    "random_maps",
    "randomise_layers",
    "ssim",
    "explain_all",
    "feature_maps",
    "image_attribution",
    "image_baseline",
    "modality_attribution",
    "patch_mask",
    "peak_positions",
    "pointing_game",
    "randomisation_test",
    "randomised_copy",
    "rank_correlation",
    "ranks_first",
    "shapes_world_truth",
    "token_attribution",
]
