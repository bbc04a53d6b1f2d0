"""Fusion modules and the multimodal classifier: shapes, weights, missing modalities, and a
reference computation for each method."""

import numpy as np
import pytest
import torch
from torch import nn

from mmkit.fusion import (
    AttentionFusion,
    ConcatFusion,
    GatedFusion,
    LateFusion,
    TensorFusion,
    WeightedFusion,
)
from mmkit.models import MultimodalClassifier, PositionalInputs

DIMS = {"image": 6, "text": 4, "audio": 5}


def _features(batch=7, seed=0, dims=DIMS):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(batch, d, generator=g) for m, d in dims.items()}


FUSIONS = [
    lambda: ConcatFusion(DIMS),
    lambda: ConcatFusion(DIMS, out_dim=8),
    lambda: WeightedFusion(DIMS, dim=8),
    lambda: AttentionFusion(DIMS, dim=8),
    lambda: LateFusion(DIMS, num_classes=3),
    lambda: GatedFusion(DIMS, dim=8),
    lambda: TensorFusion(DIMS, out_dim=8, small=3),
    lambda: TensorFusion(DIMS, out_dim=8, small=3, rank=4),
]
WEIGHING = [f for f in FUSIONS[2:6]]


@pytest.mark.parametrize("make", FUSIONS)
def test_output_shape_and_gradients(make):
    torch.manual_seed(0)
    fusion = make()
    features = {m: f.requires_grad_() for m, f in _features().items()}
    out = fusion(features)
    assert out.shape == (7, fusion.out_dim)
    out.sum().backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in features.values())


@pytest.mark.parametrize("make", WEIGHING)
def test_weights_are_per_sample_rows_summing_to_one(make):
    torch.manual_seed(0)
    fusion = make()
    fusion(_features())
    assert fusion.last_weights.shape == (7, 3)
    torch.testing.assert_close(fusion.last_weights.sum(1), torch.ones(7))


@pytest.mark.parametrize("make", WEIGHING)
def test_a_missing_modality_gets_weight_zero(make):
    torch.manual_seed(0)
    fusion = make()
    features = _features()
    del features["audio"]
    present = {"text": torch.tensor([True, False, True, True, True, True, True])}
    fusion(features, present)
    weights = fusion.last_weights
    assert (weights[:, 2] == 0).all()  # audio absent everywhere
    assert weights[1, 1] == 0  # text flagged absent in sample 1
    torch.testing.assert_close(weights.sum(1), torch.ones(7))


def test_attention_fusion_scores_are_v_tanh_of_W_h_plus_b():
    # The documented formula, s_m = v^T tanh(W h_m + b), in numpy from the raw matrices.
    torch.manual_seed(0)
    fusion = AttentionFusion(DIMS, dim=8, hidden=5)
    features = _features()
    out = fusion(features).detach().numpy()
    W, b = fusion.score[0].weight.detach().numpy(), fusion.score[0].bias.detach().numpy()
    v = fusion.score[2].weight.detach().numpy()[0]
    assert fusion.score[2].bias is None  # a bias common to all modalities cancels anyway
    h = np.stack([(features[m] @ fusion.project[m].weight.T + fusion.project[m].bias)
                  .detach().numpy() for m in DIMS], 1)  # (B, M, D)
    s = np.tanh(h @ W.T + b) @ v  # (B, M)
    alpha = np.exp(s - s.max(1, keepdims=True))
    alpha /= alpha.sum(1, keepdims=True)
    np.testing.assert_allclose(fusion.last_weights.numpy(), alpha, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, (alpha[..., None] * h).sum(1), rtol=1e-5, atol=1e-6)


def test_with_one_modality_left_attention_passes_it_through():
    torch.manual_seed(0)
    fusion = AttentionFusion(DIMS, dim=8)
    features = {"text": _features()["text"]}
    torch.testing.assert_close(fusion(features), fusion.project["text"](features["text"]))


def test_concat_fills_a_missing_modality_with_zeros():
    fusion = ConcatFusion(DIMS)
    features = _features()
    audio = features.pop("audio")
    out = fusion(features)
    torch.testing.assert_close(out[:, :10], torch.cat([features["image"], features["text"]], 1))
    assert (out[:, 10:] == 0).all() and audio.abs().sum() > 0


def test_late_fusion_is_a_product_of_experts():
    # softmax(mean of logits) is the renormalised geometric mean of the per-modality softmaxes
    torch.manual_seed(0)
    fusion = LateFusion(DIMS, num_classes=4, hidden=6)
    features = _features()
    fused = torch.softmax(fusion(features), dim=1).double()
    experts = [torch.softmax(fusion.heads[m](features[m]), 1).double() for m in DIMS]
    geometric = torch.stack(experts).prod(0) ** (1 / 3)
    torch.testing.assert_close(fused, geometric / geometric.sum(1, keepdim=True))
    assert isinstance(fusion.heads["image"], nn.Sequential)  # hidden=6: an MLP per modality


def test_late_fusion_averages_the_heads_of_present_modalities():
    torch.manual_seed(0)
    fusion = LateFusion(DIMS, num_classes=3)
    features = _features()
    expected = (fusion.heads["image"](features["image"]) + fusion.heads["text"](features["text"])) / 2
    torch.testing.assert_close(fusion({"image": features["image"], "text": features["text"]}), expected)


def test_weighted_fusion_weights_are_the_same_for_every_sample():
    torch.manual_seed(0)
    fusion = WeightedFusion(DIMS, dim=8)
    with torch.no_grad():
        fusion.logits.copy_(torch.tensor([1.0, 0.0, -1.0]))
    fusion(_features())
    torch.testing.assert_close(fusion.last_weights, torch.softmax(fusion.logits, 0).expand(7, 3))


def test_full_tensor_fusion_is_a_linear_map_of_the_outer_product():
    torch.manual_seed(0)
    dims = {"image": 3, "text": 2}
    fusion = TensorFusion(dims, out_dim=4, small=2)
    features = _features(dims=dims)
    z = [torch.cat([fusion.project[m](features[m]), torch.ones(7, 1)], 1) for m in dims]
    outer = torch.einsum("bi,bj->bij", z[0], z[1]).flatten(1)
    torch.testing.assert_close(fusion(features), fusion.output(outer))


def test_two_modality_tensor_fusion_equals_torch_bilinear():
    torch.manual_seed(0)
    dims = {"image": 3, "text": 2}
    fusion = TensorFusion(dims, out_dim=4, small=2)
    features = _features(dims=dims)
    z = [torch.cat([fusion.project[m](features[m]), torch.ones(7, 1)], 1) for m in dims]
    bilinear = nn.Bilinear(3, 3, 4)
    with torch.no_grad():
        bilinear.weight.copy_(fusion.output.weight.view(4, 3, 3))
        bilinear.bias.copy_(fusion.output.bias)
    torch.testing.assert_close(fusion(features), bilinear(z[0], z[1]))


def test_tensor_fusion_refuses_an_output_layer_too_large_for_memory():
    dims = {m: 8 for m in ("image", "text", "audio", "video")}
    # The layer it would build, counted without allocating it (the meta device).
    layer = nn.Linear(65**4, 64, device="meta")
    megabytes = sum(p.numel() for p in layer.parameters()) * 4 / 2**20
    with pytest.raises(ValueError, match=rf"{megabytes:,.1f} MB, above max_mb=256; pass rank="):
        TensorFusion(dims, out_dim=64, small=64)
    with pytest.raises(ValueError, match=r"above max_mb=0\.01"):
        TensorFusion(dims, out_dim=8, small=4, max_mb=0.01)
    assert TensorFusion(dims, out_dim=64, small=64, rank=4).rank == 4  # low rank: no product


def test_low_rank_tensor_fusion_equals_its_full_weight_tensor():
    torch.manual_seed(0)
    dims = {"image": 3, "text": 2}
    fusion = TensorFusion(dims, out_dim=4, small=2, rank=3)
    features = _features(dims=dims)
    z = [torch.cat([fusion.project[m](features[m]), torch.ones(7, 1)], 1) for m in dims]
    a, b = fusion.factors["image"], fusion.factors["text"]  # (r, 3, out)
    full_weight = torch.einsum("rio,rjo->ijo", a, b)  # the rank-3 weight tensor, built out
    expected = torch.einsum("bi,bj,ijo->bo", z[0], z[1], full_weight) + fusion.bias
    torch.testing.assert_close(fusion(features), expected)


class Enc(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.out_dim = out_dim
        self.linear = nn.Linear(in_dim, out_dim)

    def forward(self, x):
        return self.linear(x)


def _classifier(fusion_cls=AttentionFusion, **kwargs):
    torch.manual_seed(0)
    encoders = {"image": Enc(6, 5), "text": Enc(4, 3)}
    fusion = fusion_cls({"image": 5, "text": 3}, **kwargs)
    return MultimodalClassifier(encoders, fusion, num_classes=3)


def test_multimodal_classifier_uses_present_flags():
    model = _classifier(dim=8)
    x = _features()
    batch = {"image": x["image"], "text": x["text"], "text_present": torch.zeros(7, dtype=torch.bool)}
    logits = model(batch)
    assert logits.shape == (7, 3)
    assert (model.fusion.last_weights[:, 1] == 0).all()
    torch.testing.assert_close(logits, model({"image": x["image"]}))


def test_late_fusion_classifier_has_no_extra_head():
    model = _classifier(LateFusion, num_classes=3)
    assert isinstance(model.head, nn.Identity)


def test_positional_inputs_for_captum():
    from captum.attr import IntegratedGradients

    model = _classifier(ConcatFusion).eval()
    x = _features()
    wrapped = PositionalInputs(model, ["image", "text"])
    torch.testing.assert_close(wrapped(x["image"], x["text"]), model({"image": x["image"], "text": x["text"]}))
    ig = IntegratedGradients(wrapped)
    inputs = (x["image"], x["text"])
    attributions, delta = ig.attribute(inputs, target=0, return_convergence_delta=True)
    assert [a.shape for a in attributions] == [(7, 6), (7, 4)]
    assert delta.abs().max() < 1e-4  # completeness: attributions sum to f(x) - f(baseline)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: ConcatFusion({}), TypeError, "in_dims must be a non-empty dict"),
    (lambda: ConcatFusion({"image": 0}), ValueError, r"in_dims\['image'\] must be >= 1"),
    (lambda: ConcatFusion(DIMS)({"video": torch.ones(2, 3)}), ValueError, "unknown modality 'video'"),
    (lambda: ConcatFusion(DIMS)({}), ValueError, "features is empty"),
    (lambda: ConcatFusion(DIMS)({"image": torch.ones(2, 6), "text": torch.ones(3, 4)}), ValueError,
     "batch sizes differ"),
    (lambda: ConcatFusion(DIMS)({"image": torch.ones(2, 5)}), ValueError,
     r"features\['image'\] must have shape \(B, 6\)"),
    (lambda: ConcatFusion(DIMS)({"image": torch.ones(2, 6), "text": [[1.0] * 4] * 2}), TypeError,
     r"features\['text'\] must be a \(B, 4\) tensor, got list"),
    (lambda: AttentionFusion(DIMS)({"image": torch.ones(2, 6)}, {"image": torch.ones(3, dtype=torch.bool)}),
     ValueError, r"present\['image'\] must hold one flag per sample, shape \(2,\), got \(3,\)"),
    (lambda: AttentionFusion(DIMS)({"image": torch.ones(2, 6)}, {"pose": torch.ones(2, dtype=torch.bool)}),
     ValueError, "present names unknown modality 'pose'"),
    (lambda: AttentionFusion(DIMS)({"image": torch.ones(2, 6)}, {"image": [True, True]}),
     TypeError, r"present\['image'\] must be a \(B,\) bool tensor, got list"),
    (lambda: AttentionFusion(DIMS)({"image": torch.ones(2, 6)}, [True, True]),
     TypeError, "present must be None or a dict"),
    (lambda: LateFusion(DIMS, 3, hidden=0), ValueError, "hidden must be >= 1"),
    (lambda: AttentionFusion(DIMS)({"image": torch.ones(2, 6)}, {"image": torch.tensor([True, False])}),
     ValueError, "every modality missing"),
    (lambda: _classifier()({"audio": torch.ones(2, 3)}), ValueError, "holds none of the modalities"),
    (lambda: MultimodalClassifier({"image": Enc(6, 5)}, ConcatFusion({"image": 4}), 3), ValueError,
     "the fusion expects features"),
    (lambda: PositionalInputs(_classifier(), ["image", "text"])(torch.ones(2, 6)), ValueError,
     "expected 2 inputs"),
])
def test_bad_inputs_give_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
