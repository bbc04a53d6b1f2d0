"""How much each modality drove each prediction: one score per sample and modality.

Two ways, as the methods allow:
- perturbation methods (feature ablation, LIME, KernelSHAP) get a *grouped* feature mask,
  one group per modality: removing a group removes the whole modality (a black image, a
  caption of padding), so LIME and KernelSHAP fit one coefficient per modality. With two
  modalities there are only four subsets, and KernelSHAP's answer is the exact Shapley
  value (lesson 10 checks it by hand);
- gradient methods (saliency, SmoothGrad, integrated gradients, GradientSHAP, DeepLift)
  attribute to every pixel and every embedding entry, and a modality's score is the sum of
  the absolute attributions over its elements.
Grad-CAM explains one convolutional map and has no score for a caption.
"""

import torch

from mmkit.explain.attributions import (
    METHODS,
    PERTURBATION_METHODS,
    Explaining,
    check_options,
    embedding_attribution,
    perturbation_scores,
    rows_per_pass,
)
from mmkit.explain.checks import check_method, is_token_modality, padding_index

MODALITY_METHODS = tuple(m for m in METHODS if m != "grad_cam")


def modality_attribution(model, batch: dict, method: str = "integrated_gradients", target=None,
                         *, n_steps: int = 32, n_samples: int = 64,
                         seed: int = 0) -> torch.Tensor:
    """(B, n_modalities): how much each modality drove the score of ``target`` per sample.

    The columns follow the model's encoders, ``list(model.encoders)`` (e.g. image, text).
    method: one of MODALITY_METHODS (every method but grad_cam).
      saliency, smoothgrad, integrated_gradients, gradient_shap, deeplift: the sum of
          |attribution| over the modality's pixels or embedding entries (>= 0; the path
          methods from a black image and an all-padding caption, ``n_steps`` steps);
      feature_ablation: score(all) - score(this modality removed), signed;
      lime, kernel_shap: the surrogate's coefficient per modality from ``n_samples``
          random subsets of modalities, signed.
    target: the class to explain, None for the predicted class; seed: LIME's and
    KernelSHAP's random subsets (the global random state is left as it was).
    """
    if method == "grad_cam":
        raise ValueError("grad_cam explains one convolutional map and has no score for other "
                         f"modalities; use one of {', '.join(MODALITY_METHODS)}")
    method = check_method(method, MODALITY_METHODS)
    check_options(n_steps, n_samples)
    from captum import attr

    with Explaining(model, batch, target, seed) as run:
        tokens = {m for m, e in run.encoders.items() if is_token_modality(e)}
        if method in PERTURBATION_METHODS:
            varied = [(m, "ids" if m in tokens else "input") for m in run.encoders]
            forward, fixed = run.forward(varied)
            inputs = tuple(run.inputs[m].float() if m in tokens else run.inputs[m]
                           for m in run.encoders)
            baselines = tuple(float(padding_index(run.encoders[m])) if m in tokens else 0.0
                              for m in run.encoders)
            # Group k is modality k: every element of it, in every sample, gets the value k.
            masks = tuple(torch.full((1,) * x.dim(), k, dtype=torch.long, device=x.device)
                          for k, x in enumerate(inputs))
            scores = perturbation_scores(method, forward, inputs, baselines, run.target, fixed,
                                   masks, n_samples)
            # Every element of a group holds the group's value: read one per sample.
            columns = [s.flatten(1)[:, 0] for s in scores]
        else:
            varied = [(m, "embedding" if m in tokens else "input") for m in run.encoders]
            fixed_keys = [key for key in run.inputs if key in tokens or key not in run.encoders]
            forward, fixed = run.forward(varied, fixed_keys)
            with torch.no_grad():
                inputs = tuple(run.encoders[m].embedding(run.inputs[m]) if m in tokens
                               else run.inputs[m] for m in run.encoders)
            if method != "integrated_gradients":
                inputs = tuple(x.detach().requires_grad_() for x in inputs)
                grads = embedding_attribution(method, forward, inputs, run.target, fixed,
                                              n_samples)
            else:  # the zero embedding is the padding id's: a caption with no words
                grads = attr.IntegratedGradients(forward).attribute(
                    inputs, baselines=tuple(torch.zeros_like(x) for x in inputs),
                    target=run.target, additional_forward_args=fixed, n_steps=n_steps,
                    internal_batch_size=rows_per_pass(inputs[0]))
            columns = [g.abs().flatten(1).sum(dim=1) for g in grads]
        return torch.stack(columns, dim=1).detach().cpu()
