"""mmkit.explain: shapes and order of every output, each method against a hand computation,
the ground-truth checks on hand-made maps, and clear errors for bad inputs."""

import numpy as np
import pytest
import scipy.stats
import torch

from mmkit import explain
from mmkit.encoders.image import ImageCNN
from mmkit.encoders.text import BagOfEmbeddings, TransformerTextEncoder
from mmkit.fusion import AttentionFusion, ConcatFusion
from mmkit.models import MultimodalClassifier, UnimodalClassifier

VOCAB, CLASSES = 12, 3
FAST = {"n_samples": 24, "n_steps": 8}


def tiny_model(device, order=("image", "text"), hidden=8, text="bag", fusion="concat"):
    torch.manual_seed(0)
    makers = {"image": lambda: ImageCNN(3, (4,), out_dim=6, pooled_size=1),
              "text": (lambda: BagOfEmbeddings(VOCAB, 6)) if text == "bag" else
              (lambda: TransformerTextEncoder(VOCAB, dim=6, heads=2, layers=2, max_len=8))}
    dims = {m: 6 for m in order}
    fuse = ConcatFusion(dims) if fusion == "concat" else AttentionFusion(dims, dim=6, hidden=4)
    model = MultimodalClassifier({m: makers[m]() for m in order}, fuse, CLASSES, hidden=hidden)
    return model.to(device).eval()


def tiny_batch(device, size=4):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(2, VOCAB, (size, 5), generator=g)
    ids[0, 3:] = 0  # padding at the end of two captions
    ids[1, 4:] = 0
    return {"image": torch.rand(size, 3, 8, 8, generator=g).to(device), "text": ids.to(device)}


def ignoring(device, ignored: str, order=("image", "text")):
    """A model with a linear head whose weights on one modality's features are zero."""
    model = tiny_model(device, order, hidden=None)
    start = 6 * order.index(ignored)
    with torch.no_grad():
        model.head.weight[:, start:start + 6] = 0
    return model


def score(model, batch, target):
    with torch.no_grad():
        return model(batch).gather(1, target[:, None])[:, 0]


# ---- shapes and order ----------------------------------------------------------------------

@pytest.mark.parametrize("method", explain.METHODS)
def test_every_method_gives_one_map_per_image_and_one_score_per_token(device, method):
    model, batch = tiny_model(device), tiny_batch(device)
    maps = explain.image_attribution(model, batch, method, **FAST)
    assert maps.shape == (4, 8, 8) and maps.device.type == "cpu"
    assert torch.isfinite(maps).all() and maps.abs().sum() > 0
    if method != "grad_cam":
        tokens = explain.token_attribution(model, batch, method, **FAST)
        assert tokens.shape == (4, 5)
        assert (tokens[batch["text"].cpu() == 0] == 0).all()  # nothing on the padding
        assert tokens.abs().sum() > 0


@pytest.mark.parametrize("method", explain.MODALITY_METHODS)
@pytest.mark.parametrize("order", [("image", "text"), ("text", "image")])
def test_modality_columns_follow_the_encoders_and_an_ignored_modality_gets_zero(device, method,
                                                                             order):
    model, batch = ignoring(device, "text", order), tiny_batch(device)
    scores = explain.modality_attribution(model, batch, method, **FAST)
    assert scores.shape == (4, 2)
    text, image = order.index("text"), order.index("image")
    assert scores[:, text].abs().max() < 1e-5
    assert scores[:, image].abs().sum() > 1e-4


def test_a_unimodal_classifier_has_one_column(device):
    torch.manual_seed(0)
    model = UnimodalClassifier(ImageCNN(3, (4,), out_dim=6), "image", CLASSES).to(device)
    batch = {"image": tiny_batch(device)["image"]}
    assert explain.modality_attribution(model, batch, "saliency").shape == (4, 1)
    assert explain.image_attribution(model, batch, "grad_cam").shape == (4, 8, 8)


# ---- against hand computations -------------------------------------------------------------

def test_saliency_is_the_largest_absolute_gradient_over_the_channels(device):
    model, batch = tiny_model(device), tiny_batch(device)
    target = torch.tensor([0, 1, 2, 1], device=device)
    image = batch["image"].clone().requires_grad_()
    chosen = model({"image": image, "text": batch["text"]}).gather(1, target[:, None]).sum()
    grad = torch.autograd.grad(chosen, image)[0]
    ours = explain.image_attribution(model, batch, "saliency", target=target)
    torch.testing.assert_close(ours, grad.abs().amax(dim=1).cpu())


def test_token_saliency_is_the_summed_absolute_gradient_at_the_embedding(device):
    model, batch = tiny_model(device, text="transformer"), tiny_batch(device)
    embedding = model.encoders["text"].embedding
    target = torch.tensor([2, 0, 1, 1], device=device)
    kept = {}
    hook = embedding.register_forward_hook(
        lambda module, args, out: kept.setdefault("e", out.detach().requires_grad_()))
    chosen = model(batch).gather(1, target[:, None]).sum()  # the hook returns the kept copy
    hook.remove()
    grad = torch.autograd.grad(chosen, kept["e"])[0]
    expected = grad.abs().sum(-1) * (batch["text"] != 0)
    ours = explain.token_attribution(model, batch, "saliency", target=target)
    torch.testing.assert_close(ours, expected.cpu())


def test_integrated_gradients_are_complete(device):
    # Completeness: the attributions add up to score(input) - score(baseline).
    model, batch = tiny_model(device), tiny_batch(device)
    target = explain.checks.resolve_target(model(batch), None)
    black = {**batch, "image": torch.zeros_like(batch["image"])}
    no_words = {**batch, "text": torch.zeros_like(batch["text"])}
    image = explain.image_attribution(model, batch, "integrated_gradients", n_steps=200)
    torch.testing.assert_close(image.sum(dim=(1, 2)),
                               (score(model, batch, target) - score(model, black, target)).cpu(),
                               atol=2e-3, rtol=1e-2)
    tokens = explain.token_attribution(model, batch, "integrated_gradients", n_steps=200)
    torch.testing.assert_close(tokens.sum(dim=1),
                               (score(model, batch, target) - score(model, no_words, target)).cpu(),
                               atol=2e-3, rtol=1e-2)


def test_grad_cam_weights_the_maps_by_their_mean_gradient(device):
    model, batch = tiny_model(device), tiny_batch(device)
    target = torch.tensor([1, 1, 0, 2], device=device)
    layer = model.encoders["image"].features.relu1
    kept = {}
    hook = layer.register_forward_hook(lambda module, args, out: kept.setdefault("a", out))
    chosen = model(batch).gather(1, target[:, None]).sum()
    hook.remove()
    maps = kept["a"]
    weights = torch.autograd.grad(chosen, maps)[0].mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * maps).sum(dim=1, keepdim=True))
    expected = torch.nn.functional.interpolate(cam, size=(8, 8), mode="bilinear")[:, 0]
    ours = explain.image_attribution(model, batch, "grad_cam", target=target)
    torch.testing.assert_close(ours, expected.detach().cpu())


def test_feature_ablation_per_modality_is_the_drop_when_it_is_removed(device):
    model, batch = tiny_model(device), tiny_batch(device)
    target = explain.checks.resolve_target(model(batch), None)
    full = score(model, batch, target)
    no_image = score(model, {**batch, "image": torch.zeros_like(batch["image"])}, target)
    no_text = score(model, {**batch, "text": torch.zeros_like(batch["text"])}, target)
    ours = explain.modality_attribution(model, batch, "feature_ablation")
    torch.testing.assert_close(ours, torch.stack([full - no_image, full - no_text], 1).cpu())


def test_kernel_shap_per_modality_is_close_to_the_exact_shapley_values(device):
    # Two modalities, four subsets: the Shapley value of the image averages its effect
    # with and without the caption.
    model, batch = tiny_model(device), tiny_batch(device)
    target = explain.checks.resolve_target(model(batch), None)
    black, no_words = torch.zeros_like(batch["image"]), torch.zeros_like(batch["text"])
    f = {(i, t): score(model, {"image": batch["image"] if i else black,
                               "text": batch["text"] if t else no_words}, target)
         for i in (0, 1) for t in (0, 1)}
    image = 0.5 * ((f[1, 1] - f[0, 1]) + (f[1, 0] - f[0, 0]))
    text = 0.5 * ((f[1, 1] - f[1, 0]) + (f[0, 1] - f[0, 0]))
    exact = torch.stack([image, text], dim=1).cpu()
    ours = explain.modality_attribution(model, batch, "kernel_shap", n_samples=200)
    assert (ours - exact).abs().max() <= 0.1 * exact.abs().max()
    # efficiency: the values add up to score(all) - score(none)
    torch.testing.assert_close(ours.sum(1), (f[1, 1] - f[0, 0]).cpu(), atol=1e-3, rtol=1e-3)


def test_token_ablation_removes_one_word_at_a_time(device):
    model, batch = tiny_model(device, text="transformer"), tiny_batch(device, size=2)
    target = explain.checks.resolve_target(model(batch), None)
    ours = explain.token_attribution(model, batch, "feature_ablation", target=target)
    for k in range(3):  # the first three tokens are real in both captions
        removed = batch["text"].clone()
        removed[:, k] = 0
        drop = score(model, batch, target) - score(model, {**batch, "text": removed}, target)
        torch.testing.assert_close(ours[:, k], drop.cpu())


def test_explaining_leaves_the_model_mode_and_the_random_state_alone(device):
    model, batch = tiny_model(device).train(), tiny_batch(device)
    state = torch.get_rng_state()
    first = explain.image_attribution(model, batch, "lime", n_samples=16)
    assert model.training and torch.equal(state, torch.get_rng_state())
    torch.testing.assert_close(first, explain.image_attribution(model, batch, "lime",
                                                                n_samples=16))


# ---- feature maps and attention ------------------------------------------------------------

def test_attention_maps_hold_the_encoders_and_the_fusions_weights(device):
    model = tiny_model(device, text="transformer", fusion="attention")
    maps = explain.attention_maps(model, tiny_batch(device))
    assert list(maps) == ["text", "fusion"]
    assert len(maps["text"]) == 2 and maps["text"][0].shape == (4, 2, 5, 5)
    torch.testing.assert_close(maps["text"][1].sum(-1), torch.ones(4, 2, 5))
    assert maps["fusion"].shape == (4, 2)
    torch.testing.assert_close(maps["fusion"].sum(1), torch.ones(4))
    assert "fusion" not in explain.attention_maps(tiny_model(device), tiny_batch(device))


def test_feature_maps_of_a_classifier_are_its_image_encoders(device):
    model, batch = tiny_model(device), tiny_batch(device)
    ours = explain.feature_maps(model, batch["image"], ["features.relu1"])
    relu = torch.relu(model.encoders["image"].features.conv1(batch["image"]))
    torch.testing.assert_close(ours["features.relu1"], relu.detach())


# ---- ground truth ---------------------------------------------------------------------------

def _map_with_peak(row, col, size=8):
    heat = torch.zeros(1, size, size)
    heat[0, row, col] = 1.0
    return heat


def test_pointing_game_on_hand_made_maps():
    mask = torch.zeros(1, 8, 8, dtype=torch.bool)
    mask[0, 2:4, 2:4] = True  # rows 2-3, columns 2-3
    assert explain.pointing_game(_map_with_peak(3, 3), mask, 0)
    assert explain.pointing_game(_map_with_peak(4, 4), mask, 1)  # diagonal neighbour
    assert not explain.pointing_game(_map_with_peak(4, 4), mask, 0)
    assert not explain.pointing_game(_map_with_peak(5, 3), mask, 1)  # two rows below
    assert explain.pointing_game(_map_with_peak(5, 3), mask, 2)
    assert not explain.pointing_game(torch.zeros(1, 8, 8), mask, 8)  # flat: points nowhere


def test_the_peak_of_a_plateau_is_its_centre():
    heat = torch.zeros(2, 8, 8)
    heat[0, 4:8, 0:4] = 2.0  # one 4x4 square on top: centre (5.5, 1.5)
    heat[1, 1, 6] = 1.0
    peaks = explain.peak_positions(heat)
    torch.testing.assert_close(peaks, torch.tensor([[5.5, 1.5], [1.0, 6.0]]))
    assert torch.isnan(explain.peak_positions(torch.ones(1, 3, 3))).all()


def test_ranks_first_counts_no_tie_as_a_win():
    scores = torch.tensor([[0.2, 0.9], [0.5, 0.5], [0.8, 0.1]])
    assert explain.ranks_first(scores, 1).tolist() == [True, False, False]
    assert explain.ranks_first(scores, 0).tolist() == [False, False, True]


@pytest.mark.parametrize("tied", [False, True])
def test_rank_correlation_matches_scipy(tied):
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(5, 4, 4, generator=g), torch.randn(5, 4, 4, generator=g)
    if tied:
        a, b = a.round(), (b * 0.5).round()
    b[0] = a[0] * 2 + 1  # the same order: 1
    ours = explain.rank_correlation(a, b)
    expected = [scipy.stats.spearmanr(x.flatten(), y.flatten()).statistic
                for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-6)
    assert ours[0] == pytest.approx(1.0)
    assert explain.rank_correlation(torch.ones(1, 9), torch.randn(1, 9))[0] == 0


def test_randomised_copy_has_new_weights_and_leaves_the_original(device):
    model = tiny_model(device, fusion="attention")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    copy, again = explain.randomised_copy(model, seed=1), explain.randomised_copy(model, seed=1)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
        if value.dtype.is_floating_point and value.abs().sum() > 0:
            assert not torch.equal(copy.state_dict()[key], value), key
        assert torch.equal(copy.state_dict()[key], again.state_dict()[key])


def test_the_randomisation_test_compares_the_model_with_its_randomised_copy(device):
    model, batch = tiny_model(device), tiny_batch(device)
    rho = explain.randomisation_test(model, batch, "saliency", seed=3)
    target = explain.checks.resolve_target(model(batch), None)
    trained = explain.image_attribution(model, batch, "saliency")
    random = explain.image_attribution(explain.randomised_copy(model, 3), batch, "saliency",
                                       target=target)
    torch.testing.assert_close(rho, explain.rank_correlation(trained.abs(), random.abs()))
    assert (rho < 0.99).all()
    # The model's own initial weights (it was built from seed 0) are no randomisation at all.
    torch.testing.assert_close(explain.randomisation_test(model, batch, "saliency", seed=0),
                               torch.ones(4))


@pytest.mark.parametrize("carrier,task", [("image", "shape"), ("text", "direction")])
def test_shapes_world_truth_puts_the_label_in_one_modality(carrier, task):
    data = explain.shapes_world_truth(carrier, n=40, seed=0, image_size=16)
    assert data["image"].shape == (40, 3, 16, 16) and data["mask"].shape == (40, 16, 16)
    assert data["text"].shape[0] == 40 and data["mask"].dtype == torch.bool
    from mmkit.data import ShapesWorld

    world = ShapesWorld(n=40, seed=0, task=task, image_size=16, modalities=("image", "text"))
    assert torch.equal(data["label"], world.labels)
    own = [world[i]["text"] for i in range(40)]
    matching = sum(a == b for a, b in zip(own, data["captions"], strict=True))
    assert (matching == 40) == (carrier == "text")  # the image task shuffles the captions
    assert (data["mask"].flatten(1).any(1)).all()


# ---- errors ---------------------------------------------------------------------------------

def test_unknown_methods_are_listed(device):
    model, batch = tiny_model(device), tiny_batch(device)
    with pytest.raises(ValueError, match=r"unknown method 'shap'; the known methods are "
                                         r"saliency, smoothgrad, integrated_gradients"):
        explain.image_attribution(model, batch, "shap")
    with pytest.raises(ValueError, match="grad_cam explains one convolutional map"):
        explain.modality_attribution(model, batch, "grad_cam")
    with pytest.raises(ValueError, match="grad_cam needs a convolutional layer"):
        explain.token_attribution(model, batch, "grad_cam")


@pytest.mark.parametrize("change,error,match", [
    (lambda b: {"image": b["image"]}, ValueError,
     r"the batch has no 'text', which the model needs \(it encodes \['image', 'text'\]\)"),
    (lambda b: {**b, "text": b["text"][:3]}, ValueError,
     r"the batch sizes differ: \{'image': 4, 'text': 3\}"),
    (lambda b: {**b, "text": ["a red ball"] * 4}, TypeError, "encode the captions first"),
    (lambda b: {**b, "image": b["image"].long()}, TypeError, r"batch\['image'\] must be a "
     "floating-point tensor"),
    (lambda b: [b["image"]], TypeError, "batch must be a dict"),
])
def test_bad_batches_are_named(device, change, error, match):
    model, batch = tiny_model(device), tiny_batch(device)
    for fn in (explain.image_attribution, explain.modality_attribution):
        with pytest.raises(error, match=match):
            fn(model, change(batch), "saliency")


@pytest.mark.parametrize("target,error,match", [
    (3, ValueError, r"target must be a class index in \[0, 3\)"),
    (-1, ValueError, r"target must be a class index in \[0, 3\)"),
    ([0, 1], ValueError, r"target must be one class or one per sample \(4\), got 2"),
    (1.5, TypeError, "target must be None, an int"),
])
def test_bad_targets_are_named(device, target, error, match):
    model, state = tiny_model(device).train(), torch.get_rng_state()
    with pytest.raises(error, match=match):
        explain.modality_attribution(model, tiny_batch(device), "saliency", target=target)
    assert model.training and torch.equal(state, torch.get_rng_state())  # both put back


def test_other_bad_arguments_are_named(device):
    model, batch = tiny_model(device), tiny_batch(device)
    with pytest.raises(TypeError, match="model must be a mmkit.models.MultimodalClassifier"):
        explain.modality_attribution(torch.nn.Linear(2, 3), batch, "saliency")
    with pytest.raises(ValueError, match=r"modality must be an image modality of the model, "
                                         r"one of \['image'\]; got 'text'"):
        explain.image_attribution(model, batch, "saliency", modality="text")
    with pytest.raises(TypeError, match=r"layer must be a layer \(nn.Module\)"):
        explain.image_attribution(model, batch, "grad_cam", layer="features.relu1")
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        explain.modality_attribution(model, batch, "lime", n_samples=1)
    with pytest.raises(ValueError, match="carrier must be one of"):
        explain.shapes_world_truth("audio")
    with pytest.raises(ValueError, match=r"maps and masks must have the same shape"):
        explain.pointing_game(torch.zeros(2, 4, 4), torch.zeros(2, 4, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="masks must be a bool tensor"):
        explain.pointing_game(torch.zeros(2, 4, 4), torch.zeros(2, 4, 4))


# ---- SmoothGrad, GradientSHAP, DeepLift and the baselines (lesson 10) -------------------------

class _LinearImage(torch.nn.Module):
    """An image encoder that is linear in its pixels: every gradient method has a closed form."""

    def __init__(self, size=8):
        super().__init__()
        self.flatten = torch.nn.Flatten()
        self.fc = torch.nn.Linear(3 * size * size, 6)
        self.out_dim = 6

    def forward(self, x):
        return self.fc(self.flatten(x))


def _linear_model(device):
    torch.manual_seed(0)
    model = MultimodalClassifier({"image": _LinearImage(), "text": BagOfEmbeddings(VOCAB, 6)},
                                 ConcatFusion({"image": 6, "text": 6}), CLASSES, hidden=None)
    return model.to(device).eval()


def _pixel_weights(model, target):
    """d score_target / d pixel of the linear model, (3, 8, 8)."""
    w = model.head.weight[target, :6] @ model.encoders["image"].fc.weight
    return w.view(3, 8, 8).detach()


def test_on_a_linear_model_every_gradient_method_has_its_closed_form(device):
    model, batch = _linear_model(device), tiny_batch(device)
    target = model(batch).argmax(1)
    w = torch.stack([_pixel_weights(model, int(t)) for t in target]).cpu()
    x = batch["image"].cpu()
    for method in ("saliency", "smoothgrad"):  # noise cannot change a constant gradient
        torch.testing.assert_close(explain.image_attribution(model, batch, method, **FAST),
                                   w.abs().amax(dim=1), rtol=1e-5, atol=1e-6)
    for baseline in ("black", "blurred", "mean"):
        reference = explain.image_baseline(x, baseline)
        expected = (w * (x - reference)).sum(dim=1)  # w . (x - baseline), per pixel
        for method in ("integrated_gradients", "deeplift"):
            torch.testing.assert_close(explain.image_attribution(
                model, batch, method, baseline=baseline, **FAST), expected, rtol=1e-4, atol=1e-5)
    # GradientSHAP adds noise to the input: right on average, so many samples come close
    shap = explain.image_attribution(model, batch, "gradient_shap", n_samples=400)
    expected = (w * x).sum(dim=1)
    assert float((shap - expected).abs().mean()) < 0.1 * float(expected.abs().mean())


def test_deeplift_and_integrated_gradients_add_up_to_the_score_change(device):
    model, batch = tiny_model(device), tiny_batch(device)
    with torch.no_grad():
        logits = model(batch)
    target = logits.argmax(1)
    for baseline in ("black", "blurred"):
        reference = explain.image_baseline(batch["image"], baseline)
        with torch.no_grad():
            base = model({"image": reference, "text": batch["text"]})
        change = (logits - base).gather(1, target[:, None])[:, 0].cpu()
        lift = explain.image_attribution(model, batch, "deeplift", baseline=baseline)
        if baseline == "black":
            torch.testing.assert_close(lift.sum(dim=(1, 2)), change, rtol=1e-4, atol=1e-5)
        else:  # Captum's rule for max-pooling is exact only from a zero baseline
            assert float((lift.sum(dim=(1, 2)) - change).abs().max()) < 0.25 * float(change.abs().max())
        ig = explain.image_attribution(model, batch, "integrated_gradients", baseline=baseline,
                                       n_steps=200)
        assert float((ig.sum(dim=(1, 2)) - change).abs().max()) < 0.02 * float(change.abs().max()) + 1e-4


def test_smoothgrad_is_the_mean_saliency_of_noisy_copies(device):
    model, batch = tiny_model(device), tiny_batch(device, size=2)
    smooth = explain.image_attribution(model, batch, "smoothgrad", n_samples=300)
    target = model(batch).argmax(1)
    std = explain.attributions.SMOOTHGRAD_NOISE * float(batch["image"].max() - batch["image"].min())
    g = torch.Generator(device="cpu").manual_seed(7)
    total = torch.zeros(2, 8, 8)
    for _ in range(300):
        noisy = (batch["image"].cpu() + std * torch.randn(batch["image"].shape, generator=g))
        noisy = noisy.to(device).requires_grad_()
        score = model({"image": noisy, "text": batch["text"]}).gather(1, target[:, None]).sum()
        total += torch.autograd.grad(score, noisy)[0].abs().amax(dim=1).cpu()
    ours = (total / 300).flatten(1)
    for a, b in zip(smooth.flatten(1), ours, strict=True):
        assert scipy.stats.pearsonr(a.numpy(), b.numpy())[0] > 0.95  # two Monte Carlo estimates


def test_image_baselines_equal_scipy_and_the_mean_colour():
    import scipy.ndimage

    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    blurred = explain.image_baseline(images, "blurred")
    expected = np.stack([[scipy.ndimage.gaussian_filter(c, sigma=2.0, mode="nearest", truncate=3.0)
                          for c in image] for image in images.numpy()])
    np.testing.assert_allclose(blurred.numpy(), expected, rtol=1e-10, atol=1e-12)
    mean = explain.image_baseline(images, "mean")
    torch.testing.assert_close(mean[:, :, 5, 7], images.mean(dim=(2, 3)))
    with pytest.raises(ValueError, match="baseline must be one of black, blurred, mean"):
        explain.image_baseline(images, "white")
    with pytest.raises(ValueError, match="cannot stand for images"):
        explain.image_baseline(images, torch.zeros(5, 5))
