"""The baselines a heat map must beat and the randomisation test's parts, against
scikit-image, SciPy and what re-initialising a layer must do."""

import numpy as np
import pytest
import scipy.ndimage
import scipy.stats
import torch
from skimage.metrics import structural_similarity

from mmkit import explain
from mmkit.encoders.image import ImageCNN
from mmkit.encoders.text import BagOfEmbeddings
from mmkit.fusion import ConcatFusion
from mmkit.models import MultimodalClassifier


def _model():
    torch.manual_seed(0)
    encoders = {"image": ImageCNN(3, (4, 6), out_dim=6, pooled_size=1), "text": BagOfEmbeddings(10, 6)}
    return MultimodalClassifier(encoders, ConcatFusion({"image": 6, "text": 6}), 3, hidden=8).eval()


def _batch():
    g = torch.Generator().manual_seed(1)
    return {"image": torch.rand(3, 3, 8, 8, generator=g), "text": torch.randint(1, 10, (3, 4), generator=g)}


@pytest.mark.parametrize("seed", range(6))
def test_ssim_equals_scikit_image(seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(4, 20, 24, generator=g)
    b = 0.6 * a + 0.4 * torch.rand(4, 20, 24, generator=g) if seed % 2 else torch.rand(4, 20, 24, generator=g)
    ours = explain.ssim(a * 5 - 2, b * 3, win_size=7)  # any range: each map is scaled to [0, 1]
    for i in range(4):
        x, y = (m[i].double().numpy() for m in (a, b))
        x = (x - x.min()) / (x.max() - x.min())
        y = (y - y.min()) / (y.max() - y.min())
        theirs = structural_similarity(x, y, data_range=1.0, win_size=7)
        assert float(ours[i]) == pytest.approx(theirs, abs=1e-5)
    assert torch.allclose(explain.ssim(a, a), torch.ones(4))


def test_masked_rank_correlation_equals_scipy_on_the_mask():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 6, 6, generator=g), torch.rand(3, 6, 6, generator=g)
    mask = torch.rand(3, 6, 6, generator=g) > 0.5
    ours = explain.rank_correlation(a, b, mask=mask)
    for i in range(3):
        expected = scipy.stats.spearmanr(a[i][mask[i]].numpy(), b[i][mask[i]].numpy()).statistic
        assert float(ours[i]) == pytest.approx(expected, abs=1e-6)
    # Two maps equal on a shared black background and unrelated on the object: correlated on
    # all pixels, not on the object's.
    background = torch.zeros(1, 10, 10)
    obj = torch.zeros(1, 10, 10, dtype=torch.bool)
    obj[0, 3:7, 3:7] = True
    x, y = background.clone(), background.clone()
    x[obj], y[obj] = torch.rand(16, generator=g) + 1, torch.rand(16, generator=g) + 1
    assert float(explain.rank_correlation(x, y)) > 0.6
    assert abs(float(explain.rank_correlation(x, y, mask=obj))) < 0.6


def test_edge_and_brightness_maps_equal_scipy():
    images = torch.rand(2, 3, 9, 9, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    grey = images.mean(dim=1).numpy()
    torch.testing.assert_close(explain.brightness_map(images), torch.from_numpy(grey))
    for i in range(2):
        gx = scipy.ndimage.sobel(grey[i], axis=1, mode="nearest")
        gy = scipy.ndimage.sobel(grey[i], axis=0, mode="nearest")
        np.testing.assert_allclose(explain.edge_map(images)[i].numpy(), np.hypot(gx, gy), rtol=1e-5,
                                   atol=1e-6)
    r = explain.random_maps((2, 5, 5), seed=3)
    assert torch.equal(r, explain.random_maps((2, 5, 5), seed=3)) and r.min() >= 0 and r.max() < 1


def test_parameter_layers_follow_the_forward_pass():
    layers = explain.parameter_layers(_model(), _batch())
    assert layers == ["encoders.image.features.conv1", "encoders.image.features.conv2",
                      "encoders.image.fc", "encoders.text.embedding", "head.0", "head.3"]


def test_randomising_layers_changes_those_and_keeps_the_rest():
    model = _model()
    copy = explain.randomise_layers(model, ["head.3", "encoders.image.fc"], seed=5)
    for (name, p), (_, q) in zip(model.named_parameters(), copy.named_parameters(), strict=True):
        changed = not torch.equal(p, q)
        assert changed == (name.startswith("head.3") or name.startswith("encoders.image.fc")), name
    assert torch.equal(next(model.parameters()), next(_model().parameters()))  # original untouched
    with pytest.raises(ValueError, match="has no layer 'head.9'"):
        explain.randomise_layers(model, ["head.9"])


def test_cascading_and_independent_randomisation():
    model, batch = _model(), _batch()
    cascade = explain.cascading_randomisation(model, batch, seed=2)
    single = explain.independent_randomisation(model, batch, seed=2)
    names = [name for name, _ in cascade]
    assert names == explain.parameter_layers(model, batch)[::-1] == [n for n, _ in single]
    trained = dict(model.named_parameters())
    for k, (_, randomised) in enumerate(cascade):
        redrawn = {n.rsplit(".", 1)[0] for n, p in randomised.named_parameters()
                   if not torch.equal(p, trained[n])}
        assert redrawn == set(names[: k + 1])  # the top k + 1 layers, and only those
    for name, randomised in single:
        redrawn = {n.rsplit(".", 1)[0] for n, p in randomised.named_parameters()
                   if not torch.equal(p, trained[n])}
        assert redrawn == {name}


def test_ssim_and_masks_name_bad_inputs():
    with pytest.raises(ValueError, match="larger than the maps"):
        explain.ssim(torch.rand(1, 5, 5), torch.rand(1, 5, 5), win_size=7)
    with pytest.raises(ValueError, match="same shape"):
        explain.ssim(torch.rand(1, 8, 8), torch.rand(1, 8, 9))
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        explain.rank_correlation(torch.rand(2, 4), torch.rand(2, 4), mask=torch.ones(2, 4))
