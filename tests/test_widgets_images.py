"""The feature-map explorer, driven without a browser and compared with the extractor itself."""

import numpy as np
import pytest
import torch
from torchvision.models.feature_extraction import create_feature_extractor

from mmkit import widgets
from mmkit.encoders import ImageCNN
from mmkit.viz.feature_maps import channel_mosaic


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(5)
    model = ImageCNN(channels=(6, 10), out_dim=8).eval()
    images = torch.rand(5, 3, 24, 24)
    extractor = create_feature_extractor(model, ["features.relu1", "features.conv2", "features.pool2"])
    with torch.no_grad():
        truth = extractor(images)
    return model, images, truth


def _shown(explorer, name):
    return np.asarray(explorer.plots[name].artist.get_array(), dtype=float)


def test_default_explorer_builds_without_arguments():
    explorer = widgets.feature_map_explorer()
    assert explorer.controls["layer"].value == "features.conv1"
    assert set(explorer.controls["layer"].options) >= {"features.conv1", "features.pool2"}
    assert explorer.controls["channel"].max == 15  # ImageCNN's first layer has 16 channels
    assert explorer.controls["sample"].max == 15
    assert "features.conv1: 16 channels of 32×32" in explorer.status.value
    assert bytes(explorer.image.value[:4]) == b"\x89PNG"


def test_default_model_is_the_same_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = widgets.feature_map_explorer()
    assert torch.equal(torch.rand(1), expected_next)
    second = widgets.feature_map_explorer()
    np.testing.assert_array_equal(_shown(first, "map"), _shown(second, "map"))


def test_the_shown_map_is_the_extractors_output(setup):
    model, images, truth = setup
    explorer = widgets.feature_map_explorer(model, images)
    for sample, layer, channel in [(0, "features.relu1", 0), (3, "features.relu1", 4),
                                   (3, "features.conv2", 9), (1, "features.pool2", 2)]:
        before = explorer.image.value
        explorer.controls["sample"].value = sample
        explorer.controls["layer"].value = layer
        explorer.controls["channel"].value = channel
        expected = truth[layer][sample, channel].numpy()
        np.testing.assert_allclose(_shown(explorer, "map"), expected, atol=1e-6)
        np.testing.assert_allclose(_shown(explorer, "input"),
                                   images[sample].permute(1, 2, 0).numpy(), atol=1e-6)
        mosaic, _ = channel_mosaic(truth[layer][sample])
        np.testing.assert_allclose(_shown(explorer, "grid"), mosaic, atol=1e-6)
        assert f"{layer}, channel {channel}" in explorer.plots["map"].ax.get_title()
        assert explorer.image.value != before


def test_changing_only_the_channel_changes_only_the_channel_map(setup):
    model, images, truth = setup
    explorer = widgets.feature_map_explorer(model, images, layers=["features.conv2"])
    grid = _shown(explorer, "grid")
    frame = explorer.plots["grid"].frame.get_xy()
    explorer.controls["channel"].value = 7
    np.testing.assert_allclose(_shown(explorer, "map"), truth["features.conv2"][0, 7].numpy(), atol=1e-6)
    np.testing.assert_allclose(_shown(explorer, "grid"), grid)  # same layer, same mosaic
    assert explorer.plots["grid"].frame.get_xy() != frame  # but the red frame moved


def test_the_channel_slider_follows_the_layers_channel_count(setup):
    model, images, truth = setup
    explorer = widgets.feature_map_explorer(model, images)
    explorer.controls["layer"].value = "features.conv2"
    assert explorer.controls["channel"].max == 9
    explorer.controls["channel"].value = 9
    explorer.controls["layer"].value = "features.relu1"  # 6 channels: 9 is clamped to 5
    assert explorer.controls["channel"].max == 5
    assert explorer.controls["channel"].value == 5
    np.testing.assert_allclose(_shown(explorer, "map"), truth["features.relu1"][0, 5].numpy(), atol=1e-6)
    assert "features.relu1: 6 channels of 24×24; channel 5" in explorer.status.value


def test_the_mosaic_scales_each_channel_and_places_it_in_order():
    maps = torch.stack([torch.zeros(2, 3), torch.arange(6.0).view(2, 3), -torch.ones(2, 3)])
    mosaic, cols = channel_mosaic(maps)
    assert cols == 2 and mosaic.shape == (2 * 2 + 1, 2 * 3 + 1)
    np.testing.assert_allclose(mosaic[:2, :3], 0.0)  # a flat channel is 0
    np.testing.assert_allclose(mosaic[:2, 4:], np.arange(6).reshape(2, 3) / 5)
    np.testing.assert_allclose(mosaic[3:, :3], 0.0)
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[3:, 4:]).all()  # gap and empty tile


def test_explorer_works_with_a_pretrained_backbone():
    from mmkit.encoders import vgg16_features

    torch.manual_seed(0)
    explorer = widgets.feature_map_explorer(vgg16_features(), torch.rand(1, 3, 32, 32),
                                            layers=["backbone.0", "backbone.30"])
    explorer.controls["layer"].value = "backbone.30"  # block5_pool
    assert "backbone.30: 512 channels of 1×1" in explorer.status.value


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"model": "vgg"}, TypeError, "model must be a torch.nn.Module"),
    ({"images": torch.rand(3, 32, 32)}, ValueError, "images must have 4 dimensions"),
    ({"images": torch.rand(65, 3, 8, 8)}, ValueError, "pass at most 64"),
    ({"layers": ["features.conv9"]}, ValueError, r"unknown layer\(s\) \['features.conv9'\]"),
    ({"layers": ["fc"]}, ValueError, "gives a 4-D"),
])
def test_explorer_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        widgets.feature_map_explorer(**kwargs)
