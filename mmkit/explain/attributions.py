"""Attributions through Captum: which pixels, which words drove a classifier's score.

Nine methods, from four ideas (the names are the ``method`` argument):
  gradients      "saliency"              |d score / d input|: what a tiny change would move
                 "smoothgrad"            saliency averaged over noisy copies of the input
                                         (Captum's NoiseTunnel): less speckle
                 "grad_cam"              the last conv layer's maps, weighted by their
                                         average gradient (images only)
  paths          "integrated_gradients"  gradients averaged along the straight path from a
                                         baseline (black image, no words) to the input,
                                         times (input - baseline)
                 "gradient_shap"         integrated gradients at random points between the
                                         input (with noise) and baselines drawn from a set:
                                         an estimate of Shapley values
                 "deeplift"              each unit's change from its value on the baseline,
                                         passed back layer by layer (the rescale rule)
  perturbations  "feature_ablation"      remove one piece, see how much the score drops
                 "lime"                  score many random removals, fit a linear model
                                         to the scores, nearby subsets weighted more
  Shapley values "kernel_shap"           LIME with the weights that make it estimate Shapley
                                         values

Removing a piece means setting it to the baseline: black pixels for an image (or, with
``baseline="blurred"`` or ``"mean"``, the image blurred or its mean colour), the padding id
(no word) for a caption. What the baseline is decides what an attribution can see: a pixel
that already equals the baseline can never be credited. Captum wants a function of positional tensors; ``CaptumForward``
presents a dict-batch classifier that way. Token ids are integers and carry no gradient,
so gradient methods attribute to the output of the text encoder's embedding layer
(``LayerIntegratedGradients`` does the same for one modality).

Every function explains the class ``target`` (default: the predicted one), runs the model
in eval mode, leaves its mode and the global random state as they were, and returns CPU
tensors.
"""

import warnings

import torch
from torch import nn

from mmkit.checks import check_int
from mmkit.explain.checks import (
    check_method,
    is_token_modality,
    model_inputs,
    padding_index,
    resolve_target,
)

METHODS = ("saliency", "smoothgrad", "integrated_gradients", "gradient_shap", "deeplift",
           "grad_cam", "feature_ablation", "lime", "kernel_shap")
GRADIENT_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "gradient_shap", "deeplift",
                    "grad_cam")
PERTURBATION_METHODS = ("feature_ablation", "lime", "kernel_shap")
BASELINES = ("black", "blurred", "mean")
SMOOTHGRAD_NOISE = 0.15  # the noise's std as a share of each input's range (Smilkov et al.)


class CaptumForward(nn.Module):
    """A dict-batch classifier as a function of positional tensors, as Captum calls it.

    ``forward(*varied, *fixed)``: ``varied`` are the tensors Captum attributes to, one per
    (key, kind) in ``varied``; ``fixed`` the rest of the batch, one per key in ``fixed``
    (Captum passes them as ``additional_forward_args`` and repeats them when it repeats
    the inputs). How a varied tensor enters the model depends on its kind:
      "input"      it is batch[key] itself (an image, token ids left as they are);
      "ids"        token ids sent as floats, so a perturbation can set some to the padding
                   id; rounded back to int64;
      "embedding"  the output of encoders[key].embedding, (B, L, D): a forward hook puts it
                   in place of the layer's own output, so gradients reach the words. The ids
                   themselves come among the fixed tensors (the encoder still needs them to
                   find the padding).
    """

    def __init__(self, model: nn.Module, encoders: dict, varied, fixed):
        super().__init__()
        self.model = model
        self.encoders = encoders
        self.varied = list(varied)
        self.fixed = list(fixed)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        if len(tensors) != len(self.varied) + len(self.fixed):
            raise ValueError(
                f"expected {len(self.varied) + len(self.fixed)} tensors "
                f"({[key for key, _ in self.varied] + self.fixed}), got {len(tensors)}"
            )
        batch = dict(zip(self.fixed, tensors[len(self.varied):], strict=True))
        hooks = []
        for (key, kind), x in zip(self.varied, tensors, strict=False):
            if kind == "input":
                batch[key] = x
            elif kind == "ids":
                batch[key] = x.round().long()
            else:
                layer = self.encoders[key].embedding
                hooks.append(layer.register_forward_hook(lambda module, args, out, x=x: x))
        try:
            return self.model(batch)
        finally:
            for hook in hooks:
                hook.remove()


class Explaining:
    """Evaluation mode, the target classes, and a private random state, for one explanation."""

    def __init__(self, model, batch, target, seed: int):
        self.inputs, self.encoders, self.size = model_inputs(model, batch)
        self.model = model
        self.seed = check_int(seed, "seed")
        self.target = target

    def __enter__(self):
        self.was_training = self.model.training
        self.model.eval()
        self.rng = torch.random.fork_rng(devices=[])
        self.rng.__enter__()
        torch.manual_seed(self.seed)  # LIME and KernelSHAP draw random subsets
        try:
            with torch.no_grad():
                logits = self.model(self.inputs)
            self.target = resolve_target(logits, self.target)
        except Exception as error:  # a bad target: put the mode and the random state back
            self.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def __exit__(self, *exc):
        self.rng.__exit__(*exc)
        self.model.train(self.was_training)
        return False

    def forward(self, varied, fixed=None) -> tuple[CaptumForward, tuple]:
        """The Captum function for these varied (key, kind) pairs, and the fixed tensors."""
        varied_keys = {key for key, kind in varied if kind != "embedding"}
        if fixed is None:
            fixed = [key for key in self.inputs if key not in varied_keys]
        function = CaptumForward(self.model, self.encoders, varied, fixed)
        return function, tuple(self.inputs[key] for key in fixed)


def rows_per_pass(x: torch.Tensor) -> int:
    """Integrated gradients runs n_steps copies of the batch; in passes of about 512 rows
    (at least one whole batch) the memory stays small and the speed the same."""
    return max(512, x.shape[0])


def copies_per_pass(x: torch.Tensor) -> int:
    """SmoothGrad runs n_samples noisy copies of the batch: as many copies per pass as keep
    a pass near 512 rows (at least one), so the memory stays small for a large batch."""
    return max(1, 512 // x.shape[0])


def gradient_shap(forward, inputs: tuple, baselines: tuple, target, fixed, n_samples, stdevs):
    """Captum's GradientShap, a few rows of ``inputs`` at a time: it runs n_samples copies of
    every row at once, and passes of about 512 rows keep the memory small. Each pass draws
    its baselines from all of ``baselines``, as one call for the whole batch would."""
    from captum import attr

    rows = max(1, 512 // n_samples)
    parts = []
    for start in range(0, inputs[0].shape[0], rows):
        part = slice(start, start + rows)
        parts.append(attr.GradientShap(forward).attribute(
            tuple(x[part] for x in inputs), baselines=baselines, target=target[part],
            additional_forward_args=tuple(f[part] for f in fixed), n_samples=n_samples,
            stdevs=stdevs))
    return tuple(torch.cat(chunks) for chunks in zip(*parts, strict=True))


def check_options(n_steps, n_samples):
    check_int(n_steps, "n_steps", minimum=2)
    check_int(n_samples, "n_samples", minimum=2)


def perturbation_scores(method, forward, inputs, baselines, target, fixed, masks, n_samples):
    """Feature ablation for the whole batch; LIME and KernelSHAP fit one surrogate model per
    sample, so they loop over the samples (each sample's perturbations in one forward pass)."""
    from captum import attr
    from threadpoolctl import threadpool_limits  # comes with scikit-learn, which LIME uses

    if method == "feature_ablation":
        return attr.FeatureAblation(forward).attribute(
            inputs, baselines=baselines, target=target, additional_forward_args=fixed,
            feature_mask=masks, perturbations_per_eval=8)
    if method == "lime":
        from captum._utils.models.linear_model import SkLearnLinearRegression

        # The surrogate is a weighted least-squares fit, as in the LIME paper once it has
        # picked its features. Captum's default, a Lasso with a fixed penalty, sets every
        # coefficient below that penalty to 0: where the scores move little, the whole map
        # comes out blank. Least squares wants more random subsets than features.
        explainer = attr.Lime(forward, interpretable_model=SkLearnLinearRegression())
    else:
        explainer = attr.KernelShap(forward)
    rows = []
    # One BLAS thread for the surrogate fits: a least-squares problem of a few hundred rows
    # gains nothing from threads, and on a busy machine BLAS threads that wait for a core
    # made each fit a hundred times slower.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        # Captum repeats a warning about one example at a time, which is what we do.
        warnings.filterwarnings("ignore", message=".*batch size")
        for i in range(len(target)):
            one = slice(i, i + 1)
            mask_i = tuple(m[one] if m.shape[0] > 1 else m for m in masks)
            base_i = tuple(b[one] if isinstance(b, torch.Tensor) and b.dim() and b.shape[0] > 1
                           else b for b in baselines)
            rows.append(explainer.attribute(
                tuple(x[one] for x in inputs), baselines=base_i, target=int(target[i]),
                additional_forward_args=tuple(x[one] for x in fixed), feature_mask=mask_i,
                n_samples=n_samples, perturbations_per_eval=n_samples))
    return tuple(torch.cat(parts) for parts in zip(*rows, strict=True))


# ---- images --------------------------------------------------------------------------------

def patch_mask(height: int, width: int, patch: int) -> torch.Tensor:
    """(1, 1, H, W) int64: the index of the patch x patch square each pixel lies in, row by row.
    Perturbation methods remove whole squares: single pixels barely move a CNN's score, and
    H*W of them would need H*W forward passes."""
    check_int(patch, "patch", minimum=1)
    rows = torch.arange(height) // patch
    cols = torch.arange(width) // patch
    per_row = (width + patch - 1) // patch
    return (rows[:, None] * per_row + cols[None, :])[None, None]


def image_baseline(images: torch.Tensor, baseline="black") -> torch.Tensor:
    """The reference image each attribution compares with, the same shape as ``images``.

    "black": zeros. "blurred": each image blurred by a Gaussian of std H / 8 (Sundararajan et
    al.'s suggestion: it keeps the colours but removes the shapes). "mean": each image's mean
    colour, per channel. A tensor: used as it is (broadcast to the images' shape).
    """
    if isinstance(baseline, torch.Tensor):
        try:
            return baseline.to(images).expand_as(images).clone()
        except RuntimeError:
            raise ValueError(f"baseline of shape {tuple(baseline.shape)} cannot stand for images "
                             f"of shape {tuple(images.shape)}") from None
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {', '.join(BASELINES)} or a tensor, "
                         f"got {baseline!r}")
    if baseline == "black":
        return torch.zeros_like(images)
    if baseline == "mean":
        return images.mean(dim=(2, 3), keepdim=True).expand_as(images).clone()
    sigma = images.shape[-1] / 8
    radius = int(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-x**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    flat = images.reshape(-1, channels, *images.shape[-2:])
    padded = nn.functional.pad(flat, (radius, radius, radius, radius), mode="replicate")
    rows = nn.functional.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1),
                                groups=channels)
    return nn.functional.conv2d(rows, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1),
                                groups=channels).reshape(images.shape)


def _noise_std(x: torch.Tensor) -> float:
    x = x.detach()
    return float(SMOOTHGRAD_NOISE * (x.max() - x.min()).clamp_min(1e-6))


def _last_conv_activation(encoder: nn.Module) -> nn.Module:
    """Grad-CAM's layer: the last ReLU (or else conv) of the encoder's convolutional part."""
    part = getattr(encoder, "features", encoder)
    for kinds in ((nn.ReLU,), (nn.Conv2d,)):
        found = [module for module in part.modules() if isinstance(module, kinds)]
        if found:
            return found[-1]
    raise ValueError(f"found no ReLU or Conv2d layer in {type(encoder).__name__} for Grad-CAM; "
                     "pass layer=")


def image_attribution(model, batch: dict, method: str = "integrated_gradients", target=None, *,
                      modality: str = "image", n_steps: int = 32, n_samples: int = 64,
                      patch: int | None = None, layer: nn.Module | None = None,
                      seed: int = 0, baseline="black") -> torch.Tensor:
    """A heat map per image, (B, H, W): how much each pixel drove the score of ``target``.

    method: one of METHODS. How each becomes one map (the other modalities stay as they are):
      saliency              max over the colour channels of |d score / d pixel| (Simonyan
                            et al., 2014); >= 0
      smoothgrad            the same, averaged over ``n_samples`` copies of the image with
                            Gaussian noise (std 15 % of its range; Smilkov et al., 2017); >= 0
      integrated_gradients  summed over the channels, from the baseline, ``n_steps`` steps;
                            signed, > 0 supports the target
      gradient_shap         summed over the channels; ``n_samples`` random points between
                            the noisy input and the baselines of the batch; signed
      deeplift              summed over the channels, from the baseline; signed
      grad_cam              Captum's LayerGradCam on the last conv ReLU (or ``layer``), the
                            negative part cut off, upsampled (bilinear) to H x W; >= 0
      feature_ablation, lime, kernel_shap
                            one value per ``patch`` x ``patch`` square (default H // 8),
                            removed by blacking it out; LIME and KernelSHAP score
                            ``n_samples`` random subsets; signed
    baseline: "black", "blurred", "mean" or a tensor (``image_baseline``): the reference of
    the path, DeepLift and perturbation methods (a removed square takes its pixels).
    """
    method = check_method(method, METHODS)
    check_options(n_steps, n_samples)
    if layer is not None and not isinstance(layer, nn.Module):
        raise TypeError(f"layer must be a layer (nn.Module) of the image encoder for Grad-CAM, "
                        f"got {type(layer).__name__}")
    with Explaining(model, batch, target, seed) as run:
        if modality not in run.encoders or is_token_modality(run.encoders[modality]):
            images = [m for m, e in run.encoders.items() if not is_token_modality(e)]
            raise ValueError(f"modality must be an image modality of the model, one of "
                             f"{images}; got {modality!r}")
        image = run.inputs[modality]
        if image.dim() != 4:
            raise ValueError(f"batch[{modality!r}] must be images (B, C, H, W), got shape "
                             f"{tuple(image.shape)}")
        if method == "grad_cam" and layer is None:
            layer = _last_conv_activation(run.encoders[modality])
        forward, fixed = run.forward([(modality, "input")])
        reference = image_baseline(image, baseline)
        return _image_map(method, run, forward, image, fixed, n_steps, n_samples, patch,
                          layer, reference).detach().cpu()


def _image_map(method, run, forward, image, fixed, n_steps, n_samples, patch, layer, reference):
    from captum import attr

    target = run.target
    if method in ("saliency", "smoothgrad"):
        saliency = attr.Saliency(forward)
        x = image.detach().requires_grad_()
        if method == "saliency":
            grads = saliency.attribute(x, target=target, abs=True, additional_forward_args=fixed)
        else:
            grads = attr.NoiseTunnel(saliency).attribute(
                x, nt_type="smoothgrad", nt_samples=n_samples, stdevs=_noise_std(image),
                nt_samples_batch_size=copies_per_pass(x), target=target, abs=True,
                additional_forward_args=fixed)
        return grads.amax(dim=1)
    if method == "integrated_gradients":
        ig = attr.IntegratedGradients(forward).attribute(
            image, baselines=reference, target=target,
            additional_forward_args=fixed, n_steps=n_steps,
            internal_batch_size=rows_per_pass(image))
        return ig.sum(dim=1)
    if method == "gradient_shap":
        return gradient_shap(forward, (image,), (reference,), target, fixed, n_samples,
                             (_noise_std(image),))[0].sum(dim=1)
    if method == "deeplift":
        with warnings.catch_warnings():  # Captum notes it sets modules' hooks; nothing to act on
            warnings.simplefilter("ignore")
            return attr.DeepLift(forward).attribute(
                image, baselines=reference, target=target,
                additional_forward_args=fixed).sum(dim=1)
    if method == "grad_cam":
        cam = attr.LayerGradCam(forward, layer).attribute(
            image, target=target, additional_forward_args=fixed, relu_attributions=True)
        if cam.dim() != 4:
            raise ValueError(f"Grad-CAM needs a layer whose output is a (B, C, h, w) map; "
                             f"{type(layer).__name__} gives shape {tuple(cam.shape)}")
        return attr.LayerAttribution.interpolate(cam, tuple(image.shape[-2:]), "bilinear")[:, 0]
    height, width = image.shape[-2:]
    patch = max(1, height // 8) if patch is None else patch
    mask = patch_mask(height, width, patch).to(image.device)
    scores = perturbation_scores(method, forward, (image,), (reference,), target, fixed, (mask,),
                                 n_samples)[0]
    return scores[:, 0]  # every channel of a square holds the square's value


# ---- tokens --------------------------------------------------------------------------------

def embedding_attribution(method, forward, inputs, target, fixed, n_samples):
    """The gradient methods on embedded (or any float) inputs — one tensor or a tuple — from
    a zero baseline (the padding id's embedding, a black image). Same shape(s) as inputs."""
    from captum import attr

    single = isinstance(inputs, torch.Tensor)
    xs = (inputs,) if single else tuple(inputs)
    zeros = tuple(torch.zeros_like(x) for x in xs)
    stdevs = tuple(_noise_std(x) for x in xs)
    if method == "saliency":
        out = attr.Saliency(forward).attribute(xs, target=target, abs=True,
                                               additional_forward_args=fixed)
    elif method == "smoothgrad":
        out = attr.NoiseTunnel(attr.Saliency(forward)).attribute(
            xs, nt_type="smoothgrad", nt_samples=n_samples, stdevs=stdevs,
            nt_samples_batch_size=copies_per_pass(xs[0]), target=target, abs=True,
            additional_forward_args=fixed)
    elif method == "gradient_shap":
        out = gradient_shap(forward, xs, zeros, target, fixed, n_samples, stdevs)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = attr.DeepLift(forward).attribute(xs, baselines=zeros, target=target,
                                                   additional_forward_args=fixed)
    return out[0] if single else tuple(out)

def token_attribution(model, batch: dict, method: str = "integrated_gradients", target=None, *,
                      modality: str = "text", n_steps: int = 32, n_samples: int = 64,
                      seed: int = 0) -> torch.Tensor:
    """One score per token, (B, L), 0 at the padding: how much each word drove the score.

      integrated_gradients  Captum's LayerIntegratedGradients on the encoder's embedding
                            layer, from the padding id's embedding (a zero vector), summed
                            over the embedding; signed
      saliency              |d score / d embedding| summed over the embedding; >= 0
      smoothgrad            the same, averaged over noisy copies of the embeddings; >= 0
      gradient_shap, deeplift
                            on the embeddings, from the zero (padding) embedding, summed over
                            the embedding; signed
      feature_ablation, lime, kernel_shap
                            a word removed = replaced by the padding id; signed
    Grad-CAM needs a convolutional map and explains images only.
    """
    method = check_method(method, METHODS)
    check_options(n_steps, n_samples)
    if method == "grad_cam":
        others = [m for m in METHODS if m != "grad_cam"]
        raise ValueError("grad_cam needs a convolutional layer: it explains images only; "
                         f"for tokens use one of {', '.join(others)}")
    from captum import attr

    with Explaining(model, batch, target, seed) as run:
        if modality not in run.encoders or not is_token_modality(run.encoders[modality]):
            texts = [m for m, e in run.encoders.items() if is_token_modality(e)]
            raise ValueError(f"modality must be a text modality of the model (one with an "
                             f"embedding layer), one of {texts}; got {modality!r}")
        encoder, ids = run.encoders[modality], run.inputs[modality]
        pad = padding_index(encoder)
        real = ids != pad
        if method == "integrated_gradients":
            forward, fixed = run.forward([(modality, "input")])
            scores = attr.LayerIntegratedGradients(forward, encoder.embedding).attribute(
                ids, baselines=torch.full_like(ids, pad), target=run.target,
                additional_forward_args=fixed, n_steps=n_steps,
                internal_batch_size=rows_per_pass(ids)).sum(dim=-1)
        elif method in ("saliency", "smoothgrad", "gradient_shap", "deeplift"):
            forward, fixed = run.forward([(modality, "embedding")])
            with torch.no_grad():
                embedded = encoder.embedding(ids)
            embedded.requires_grad_()
            scores = embedding_attribution(method, forward, embedded, run.target, fixed,
                                           n_samples).sum(-1)
        else:
            forward, fixed = run.forward([(modality, "ids")])
            # One feature per position; the padding joins position 0 (removing padding
            # changes nothing) and its scores are zeroed below.
            mask = torch.arange(ids.shape[1], device=ids.device).expand_as(ids) * real
            scores = perturbation_scores(method, forward, (ids.float(),), (float(pad),), run.target,
                                   fixed, (mask,), n_samples)[0]
        return (scores * real).detach().cpu()

