"""Channel statistics, the image transform, denormalize and the left/right caption flip."""

import pytest
import torch
from torchvision.transforms import v2

from mmkit.preprocess.image import channel_stats, denormalize, hflip_caption, make_image_transform


@pytest.fixture
def images(rng) -> torch.Tensor:
    """A small "training set": channels with different brightness and spread."""
    x = torch.rand(20, 3, 12, 10, generator=rng)
    return (
        x * torch.tensor([1.0, 0.5, 0.2])[:, None, None]
        + torch.tensor([0.0, 0.3, 0.7])[:, None, None]
    )


# --- channel_stats ------------------------------------------------------------------------


def test_channel_stats_equal_torch_mean_std(images):
    mean, std = channel_stats(images)
    assert mean.shape == std.shape == (3,) and mean.dtype == torch.float32
    torch.testing.assert_close(mean, images.mean(dim=(0, 2, 3)), atol=1e-6, rtol=0)
    torch.testing.assert_close(std, images.std(dim=(0, 2, 3)), atol=1e-6, rtol=0)


def test_channel_stats_iterable_equals_tensor(images):
    from_tensor = channel_stats(images)
    from_list = channel_stats(list(images))
    from_generator = channel_stats(image for image in images)
    for got in (from_list, from_generator):
        torch.testing.assert_close(got[0], from_tensor[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(got[1], from_tensor[1], atol=1e-6, rtol=0)


def test_channel_stats_of_a_constant_channel_is_zero_std():
    mean, std = channel_stats(torch.full((2, 1, 4, 4), 0.25))
    assert mean.tolist() == [0.25] and std.tolist() == [0.0]


def test_normalize_with_training_stats_gives_zero_mean_unit_std(images):
    mean, std = channel_stats(images)
    normalized = torch.stack([make_image_transform(mean=mean, std=std)(x) for x in images])
    torch.testing.assert_close(normalized.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(normalized.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5, rtol=0)


# --- make_image_transform -------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, expected", [(None, (3, 12, 10)), (8, (3, 8, 8)), ((6, 9), (3, 6, 9))]
)
def test_transform_shape_and_dtype(images, size, expected):
    out = make_image_transform(size)(images[0])
    assert out.shape == expected and out.dtype == torch.float32
    assert type(out) is torch.Tensor  # a plain tensor, not a tv_tensors.Image


def test_transform_scales_uint8_to_unit_range():
    image = torch.tensor([0, 51, 255], dtype=torch.uint8).reshape(3, 1, 1)
    out = make_image_transform()(image)
    torch.testing.assert_close(out.flatten(), torch.tensor([0.0, 0.2, 1.0]))


def test_augment_keeps_shape_and_is_reproducible(images):
    mean, std = channel_stats(images)
    augment = make_image_transform(8, mean, std, augment=True)
    torch.manual_seed(0)
    first = [augment(x) for x in images[:4]]
    torch.manual_seed(0)
    second = [augment(x) for x in images[:4]]
    for a, b in zip(first, second, strict=True):
        assert a.shape == (3, 8, 8)
        assert torch.equal(a, b)
    plain = make_image_transform(8, mean, std)(images[0])
    assert not torch.equal(first[0], plain)  # it did change the image


def test_hflip_is_off_by_default_and_on_when_asked():
    def names(transform):
        return [type(step).__name__ for step in transform.transforms]

    assert "RandomHorizontalFlip" not in names(make_image_transform(augment=True))
    assert "RandomHorizontalFlip" in names(make_image_transform(augment=True, hflip=True))
    assert "ColorJitter" in names(make_image_transform(augment=True))
    jitter = [
        t for t in make_image_transform(augment=True).transforms if isinstance(t, v2.ColorJitter)
    ]
    assert jitter[0].hue is None  # no hue shift: a red shape stays red


# --- denormalize -----------------------------------------------------------------------------


def test_denormalize_inverts_normalize(images):
    mean, std = channel_stats(images)
    normalized = v2.Normalize(mean.tolist(), std.tolist())(images)
    torch.testing.assert_close(denormalize(normalized, mean, std), images, atol=1e-6, rtol=0)
    one = denormalize(normalized[0], mean.tolist(), tuple(std.tolist()))  # (C, H, W), lists
    torch.testing.assert_close(one, images[0], atol=1e-6, rtol=0)


# --- hflip_caption -----------------------------------------------------------------------------


def test_hflip_caption_swaps_both_ways_and_leaves_other_words():
    assert hflip_caption("a red circle moving left") == "a red circle moving right"
    assert hflip_caption("a red circle moving right") == "a red circle moving left"
    assert (
        hflip_caption("Left of the box, moving RIGHTWARDS") == "Right of the box, moving LEFTWARDS"
    )
    unchanged = "a bright square moves up; leftover paint is upright"
    assert hflip_caption(unchanged) == unchanged
    caption = "the ball on the left moves leftwards"
    assert hflip_caption(hflip_caption(caption)) == caption


# --- bad inputs ---------------------------------------------------------------------------------

RGB = ([0.5, 0.5, 0.5], [0.2, 0.2, 0.2])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: channel_stats(torch.rand(3, 8, 8)), ValueError, "images must have 4 dimensions"),
        (
            lambda: channel_stats(torch.ones(2, 3, 4, 4, dtype=torch.uint8)),
            TypeError,
            "images must be a floating-point tensor",
        ),
        (
            lambda: channel_stats(torch.full((1, 1, 2, 2), float("nan"))),
            ValueError,
            "images contains NaN",
        ),
        (lambda: channel_stats(torch.full((1, 3, 2, 2), 255.0)), ValueError, "divide by 255"),
        (lambda: channel_stats([]), ValueError, "images is empty"),
        (
            lambda: channel_stats([torch.rand(3, 4, 4), torch.rand(1, 4, 4)]),
            ValueError,
            r"images\[1\] has 1 channels but images\[0\] has 3",
        ),
        (lambda: channel_stats("cat.png"), TypeError, "images must be a tensor"),
        (lambda: make_image_transform(0), ValueError, "size must be >= 1, got 0"),
        (lambda: make_image_transform((8, -1)), ValueError, "size must be >= 1, got -1"),
        (lambda: make_image_transform(2.5), TypeError, "size must be an int or a"),
        (lambda: make_image_transform(mean=[0.5]), ValueError, "both mean and std"),
        (
            lambda: make_image_transform(mean=[0.5, 0.5], std=[0.2]),
            ValueError,
            "one value per channel each, got 2 and 1",
        ),
        (lambda: make_image_transform(mean=[0.5], std=[0.0]), ValueError, "std must be > 0"),
        (
            lambda: make_image_transform(mean=[float("nan")], std=[1.0]),
            ValueError,
            "mean contains NaN",
        ),
        (lambda: make_image_transform(hflip=True), ValueError, "needs augment=True"),
        (
            lambda: make_image_transform(*(None, *RGB))(torch.rand(1, 4, 4)),
            ValueError,
            r"image has 1 channels .* but mean and std have 3 values",
        ),
        (lambda: make_image_transform()(torch.rand(3, 4, 4) * 255), ValueError, "divide by 255"),
        (
            lambda: make_image_transform()(torch.full((3, 2, 2), float("nan"))),
            ValueError,
            "image contains NaN",
        ),
        (lambda: denormalize(torch.rand(4, 4), *RGB), ValueError, "x must have 3 or 4 dimensions"),
        (
            lambda: denormalize(torch.ones(3, 2, 2, dtype=torch.long), *RGB),
            TypeError,
            "x must be a floating-point tensor",
        ),
        (
            lambda: denormalize(torch.rand(2, 1, 4, 4), *RGB),
            ValueError,
            r"x has 1 channels .* mean and std have 3 values",
        ),
        (
            lambda: denormalize(torch.rand(3, 4, 4), RGB[0], [0.2, 0.0, 0.2]),
            ValueError,
            "std must be > 0",
        ),
        (
            lambda: denormalize(torch.rand(3, 4, 4), "0.5", RGB[1]),
            TypeError,
            "mean must be a sequence of numbers",
        ),
        (lambda: hflip_caption(None), TypeError, "caption must be a str"),
    ],
)
def test_bad_inputs_give_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
