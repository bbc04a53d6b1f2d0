"""ImageCNN and the offline-first pretrained backbones (VGG16 features, ResNet18)."""

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from mmkit.encoders import ImageCNN, PretrainedEncoder, resnet18_features, vgg16_features
from mmkit.encoders import pretrained as pretrained_module

# ---- ImageCNN --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(32, 32), (28, 28), (64, 48), (4, 4), (17, 33)])
def test_image_cnn_maps_any_image_size_to_out_dim(size):
    torch.manual_seed(0)
    encoder = ImageCNN(in_channels=3, channels=(16, 32), out_dim=64)
    out = encoder(torch.rand(2, 3, *size))
    assert encoder.out_dim == 64
    assert out.shape == (2, 64)
    assert (out >= 0).all()  # a ReLU ends the encoder


def test_image_cnn_layers_follow_the_article_conv_relu_pool_twice():
    encoder = ImageCNN(in_channels=1, channels=(8, 4, 2), out_dim=5, pooled_size=3)
    names = [name for name, _ in encoder.features.named_children()]
    assert names == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "pool3"]
    assert isinstance(encoder.pool, nn.AdaptiveAvgPool2d)
    assert encoder.fc.in_features == 2 * 3 * 3
    assert encoder(torch.rand(3, 1, 40, 40)).shape == (3, 5)


def test_image_cnn_supports_torchvision_feature_extraction():
    from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

    encoder = ImageCNN().eval()
    _, nodes = get_graph_node_names(encoder)
    assert {"features.conv1", "features.pool1", "features.conv2", "features.pool2"} <= set(nodes)
    extractor = create_feature_extractor(encoder, ["features.relu1", "features.pool2", "out"])
    x = torch.rand(2, 3, 32, 32)
    maps = extractor(x)
    assert maps["features.relu1"].shape == (2, 16, 32, 32)
    assert maps["features.pool2"].shape == (2, 32, 8, 8)
    torch.testing.assert_close(maps["out"], encoder(x))
    torch.testing.assert_close(maps["features.relu1"], encoder.features[:2](x))


@pytest.mark.parametrize("training", [True, False])
def test_feature_maps_lists_every_map_and_keeps_the_models_mode(training):
    from mmkit.encoders.image import feature_maps

    encoder = ImageCNN(channels=(4, 8)).train(training)
    x = torch.rand(2, 3, 16, 16)
    maps = feature_maps(encoder, x)
    assert list(maps) == ["features.conv1", "features.relu1", "features.pool1", "features.conv2",
                          "features.relu2", "features.pool2", "pool"]
    assert encoder.training is training and encoder.features.conv1.training is training
    torch.testing.assert_close(maps["features.pool1"], encoder.features[:3](x))
    assert list(feature_maps(encoder, x, "features.conv2")) == ["features.conv2"]


def test_image_cnn_passes_gradients_to_every_layer():
    torch.manual_seed(0)
    encoder = ImageCNN(channels=(4, 8), out_dim=16)
    encoder(torch.rand(4, 3, 16, 16)).sum().backward()
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"channels": ()}, TypeError, "channels must be a non-empty tuple"),
    ({"channels": (16, 0)}, ValueError, "each entry of channels must be >= 1"),
    ({"out_dim": 0}, ValueError, "out_dim must be >= 1"),
    ({"in_channels": 2.0}, TypeError, "in_channels must be an int"),
])
def test_image_cnn_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ImageCNN(**kwargs)


@pytest.mark.parametrize(("x", "match"), [
    (torch.rand(2, 1, 32, 32), r"x must have 3 channels, shape \(N, 3, H, W\); got shape \(2, 1, 32, 32\)"),
    (torch.rand(3, 32, 32), "x must have 4 dimensions"),
    (torch.rand(2, 3, 3, 32), "need at least 4 on each side"),
])
def test_image_cnn_rejects_bad_images(x, match):
    with pytest.raises(ValueError, match=match):
        ImageCNN()(x)


# ---- pretrained backbones ---------------------------------------------------------------


def test_file_names_are_torchvisions():
    from torchvision.models import ResNet18_Weights, VGG16_Weights

    assert pretrained_module.VGG16_FILE == Path(VGG16_Weights.IMAGENET1K_V1.url).name
    assert pretrained_module.RESNET18_FILE == Path(ResNet18_Weights.IMAGENET1K_V1.url).name
    assert pretrained_module.IMAGENET_MEAN == tuple(VGG16_Weights.IMAGENET1K_V1.transforms().mean)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """An empty torch hub cache, so "auto" never sees a real file on this machine."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    return tmp_path / "hub" / "checkpoints"


def test_vgg16_features_shapes_and_size_without_the_classifier(hub_dir):
    encoder = vgg16_features(weights=None)
    assert isinstance(encoder, PretrainedEncoder) and encoder.pretrained is False
    n_params = sum(p.numel() for p in encoder.parameters())
    assert n_params == 14_714_688  # the 13 conv layers; the classifier's 124 M are not built
    x = torch.rand(2, 3, 64, 64)
    assert encoder.feature_map(x).shape == (2, 512, 2, 2)
    assert encoder(x).shape == (2, encoder.out_dim) == (2, 512)
    flat = vgg16_features(weights=None, pooled=False, input_size=64)
    assert flat.out_dim == 512 * 2 * 2
    assert flat(x).shape == (2, 2048)
    assert vgg16_features(pooled=False).out_dim == 512 * 7 * 7
    with pytest.raises(ValueError, match="flattened features have 512 numbers but out_dim is 2048"):
        flat(torch.rand(1, 3, 32, 32))


def test_vgg16_auto_loads_only_the_features_from_the_hub_cache(hub_dir):
    torch.manual_seed(1)
    source = vgg16_features(weights=None).backbone.state_dict()
    hub_dir.mkdir(parents=True)
    state = {f"features.{k}": v for k, v in source.items()}
    state["classifier.0.weight"] = torch.zeros(3, 3)  # must be ignored, not loaded
    torch.save(state, hub_dir / "vgg16-397923af.pth")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file that is there gives no warning
        torch.manual_seed(2)
        encoder = vgg16_features(weights="auto")
    assert encoder.pretrained is True
    assert encoder.weights_path == hub_dir / "vgg16-397923af.pth"
    loaded = encoder.backbone.state_dict()
    assert loaded.keys() == source.keys()
    for key, value in source.items():
        assert torch.equal(loaded[key], value), key


def test_resnet18_loads_a_state_dict_file(tmp_path):
    from torchvision.models import resnet18

    torch.manual_seed(3)
    source = resnet18(weights=None)
    with torch.no_grad():
        source.bn1.running_mean.uniform_()  # buffers must be loaded too
    path = tmp_path / "my_resnet18.pth"
    torch.save(source.state_dict(), path)
    torch.manual_seed(4)
    encoder = resnet18_features(weights=path)
    assert encoder.pretrained is True and encoder.weights_path == path
    for key, value in encoder.backbone.state_dict().items():
        assert torch.equal(value, source.state_dict()[key]), key
    x = torch.rand(2, 3, 64, 64)
    source.fc = nn.Identity()
    source.eval()
    assert not encoder.training  # returned ready to extract features
    expected = source((x - encoder.mean) / encoder.std)
    torch.testing.assert_close(encoder(x), expected)
    assert encoder.out_dim == 512


@pytest.mark.parametrize("builder", [vgg16_features, resnet18_features])
def test_a_missing_file_warns_with_the_path_and_goes_on_with_random_weights(builder, hub_dir):
    filename = "vgg16-397923af.pth" if builder is vgg16_features else "resnet18-f37072fd.pth"
    with pytest.warns(UserWarning, match="RANDOM weights") as record:
        encoder = builder(weights="auto")
    message = str(record[0].message)
    assert str(hub_dir / filename) in message
    assert "weights='IMAGENET1K_V1'" in message and "copy that file" in message
    assert encoder.pretrained is False and encoder.weights_path is None
    assert encoder(torch.rand(1, 3, 32, 32)).shape == (1, 512)

    missing = hub_dir.parent / "elsewhere.pth"
    with pytest.warns(UserWarning, match=str(missing)):
        builder(weights=missing)


def test_no_weights_means_no_warning(hub_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resnet18_features(weights=None).pretrained is False


def test_a_wrong_file_names_the_file(tmp_path):
    path = tmp_path / "not_resnet.pth"
    torch.save({"conv1.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="not_resnet.pth does not hold the expected weights"):
        resnet18_features(weights=path)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"weights": 3}, TypeError, "weights must be None, 'auto' or a path"),
    ({"weights": None, "input_size": 16}, ValueError, "input_size must be >= 32"),
])
def test_vgg16_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        vgg16_features(**kwargs)


def test_pretrained_encoder_rejects_grey_images():
    with pytest.raises(ValueError, match=r"RGB images of shape \(N, 3, H, W\), got \(1, 1, 32, 32\)"):
        resnet18_features()(torch.rand(1, 1, 32, 32))
