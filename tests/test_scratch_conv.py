"""scratch.conv2d and scratch.max_pool2d against torch.nn.functional, and their input checks."""

import pytest
import torch
import torch.nn.functional as F

from mmkit import scratch
from mmkit.scratch.conv import conv_output_size

CONV_CASES = [
    # (N, C_in, H, W), (C_out, kH, kW), stride, padding, bias
    ((1, 1, 5, 5), (1, 3, 3), 1, 0, False),
    ((2, 3, 8, 8), (4, 3, 3), 1, 1, True),
    ((2, 3, 9, 11), (5, 3, 2), (2, 1), (1, 2), True),
    ((3, 2, 7, 7), (2, 1, 1), 2, 0, False),
    ((1, 4, 6, 10), (3, 2, 5), (1, 3), 0, True),
    ((2, 1, 4, 4), (6, 4, 4), 1, 0, True),  # kernel as big as the input: one position
    ((1, 2, 3, 3), (2, 5, 5), 1, 1, False),  # kernel bigger than the input, padding saves it
    ((2, 8, 16, 16), (16, 3, 3), 2, 1, True),
    ((1, 3, 32, 20), (8, 5, 3), (3, 2), (2, 0), True),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding", "with_bias"), CONV_CASES)
def test_conv2d_equals_torch(x_shape, w_shape, stride, padding, with_bias):
    g = torch.Generator().manual_seed(sum(x_shape) + sum(w_shape))
    x = torch.randn(x_shape, generator=g)
    weight = torch.randn(w_shape[0], x_shape[1], *w_shape[1:], generator=g)
    bias = torch.randn(w_shape[0], generator=g) if with_bias else None
    ours = scratch.conv2d(x, weight, bias, stride=stride, padding=padding)
    ref = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_equals_torch_on_random_shapes(seed):
    g = torch.Generator().manual_seed(seed)

    def rand(low, high):
        return int(torch.randint(low, high + 1, (1,), generator=g))

    kh, kw = rand(1, 5), rand(1, 5)
    stride, padding = (rand(1, 3), rand(1, 3)), (rand(0, 2), rand(0, 2))
    h, w = rand(max(kh - 2 * padding[0], 1), 14), rand(max(kw - 2 * padding[1], 1), 14)
    x = torch.randn(rand(1, 3), rand(1, 4), h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(rand(1, 5), x.shape[1], kh, kw, generator=g, dtype=torch.float64)
    bias = torch.randn(weight.shape[0], generator=g, dtype=torch.float64)
    ours = scratch.conv2d(x, weight, bias, stride, padding)
    torch.testing.assert_close(ours, F.conv2d(x, weight, bias, stride, padding), atol=1e-12, rtol=0)


def test_conv2d_gradients_equal_torchs():
    x = torch.randn(2, 3, 7, 6, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(4, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    grads = []
    for conv in (scratch.conv2d, F.conv2d):
        out = conv(x, weight, None, 2, 1)
        grads.append(torch.autograd.grad(out.square().sum(), (x, weight)))
    for ours, ref in zip(*grads, strict=True):
        torch.testing.assert_close(ours, ref)


def test_sobel_kernel_finds_a_vertical_edge():
    image = torch.zeros(1, 1, 5, 6)
    image[..., 3:] = 1.0  # dark on the left, bright from column 3
    sobel_x = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3)
    response = scratch.conv2d(image, sobel_x)[0, 0]
    assert response.shape == (3, 4)
    # Output column j sees input columns j..j+2: the edge lies under columns 1 and 2.
    torch.testing.assert_close(response, torch.tensor([[0.0, 4, 4, 0]]).expand(3, 4))


MAX_POOL_CASES = [
    ((1, 1, 4, 4), 2, None),
    ((2, 3, 7, 9), 2, None),  # odd sizes: the last row and column are dropped (floor)
    ((2, 3, 8, 8), 3, 1),  # overlapping windows
    ((1, 2, 9, 10), (3, 2), (2, 3)),
    ((3, 4, 5, 5), 5, None),
    ((1, 1, 6, 7), (1, 3), None),
]


@pytest.mark.parametrize(("shape", "kernel_size", "stride"), MAX_POOL_CASES)
def test_max_pool2d_equals_torch(shape, kernel_size, stride):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(sum(shape)))
    ours = scratch.max_pool2d(x, kernel_size, stride)
    torch.testing.assert_close(ours, F.max_pool2d(x, kernel_size, stride), atol=0, rtol=0)


def test_max_pool2d_stride_defaults_to_the_kernel_size():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert scratch.max_pool2d(x, 2).tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]


@pytest.mark.parametrize(("size", "kernel", "stride", "padding"), [
    (32, 3, 1, 1), (32, 3, 1, 0), (28, 5, 2, 0), (7, 2, 2, 0), (224, 7, 2, 3), (5, 5, 3, 0),
])
def test_conv_output_size_matches_what_torch_produces(size, kernel, stride, padding):
    out = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                   stride=stride, padding=padding)
    assert conv_output_size(size, kernel, stride, padding) == out.shape[-1]


X, W = torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    ((X, torch.randn(4, 2, 3, 3)), {}, ValueError, "x has 3 channels but weight expects C_in = 2"),
    ((X[0], W), {}, ValueError, r"x must have 4 dimensions, got shape \(3, 8, 8\)"),
    ((X, W[0]), {}, ValueError, "weight must have 4 dimensions"),
    ((torch.randn(1, 3, 2, 8), W), {}, ValueError, r"kernel \(3, 3\) is bigger than the padded"),
    ((X, torch.randn(4, 3, 11, 3)), {"padding": 1}, ValueError, "bigger than the padded input"),
    ((X, W), {"stride": 0}, ValueError, "stride must be >= 1"),
    ((X, W), {"stride": (1, -2)}, ValueError, "stride must be >= 1"),
    ((X, W), {"padding": -1}, ValueError, "padding must be >= 0"),
    ((X, W), {"stride": 1.5}, TypeError, "stride must be an int or a pair of ints"),
    ((X, W), {"padding": (1, 2, 3)}, TypeError, "padding must be an int or a pair"),
    ((X, W, torch.randn(3)), {}, ValueError, "bias must have one entry per output channel"),
    ((X.masked_fill(X > 1, float("nan")), W), {}, ValueError, "x contains NaN"),
    ((X.long(), W), {}, TypeError, "x must be a floating-point tensor"),
    ((X.double(), W), {}, TypeError, "x and weight must have the same dtype"),
    ((X.numpy(), W), {}, TypeError, "x must be a torch.Tensor, got ndarray"),
])
def test_conv2d_rejects_bad_inputs(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        scratch.conv2d(*args, **kwargs)


@pytest.mark.parametrize(("x", "kernel_size", "stride", "error", "match"), [
    (torch.randn(1, 1, 3, 3), 4, None, ValueError, r"kernel \(4, 4\) is bigger than the input"),
    (torch.randn(1, 1, 8, 8), (2, 9), None, ValueError, "bigger than the input"),
    (torch.randn(3, 8, 8), 2, None, ValueError, "x must have 4 dimensions"),
    (torch.randn(1, 1, 8, 8), 0, None, ValueError, "kernel_size must be >= 1"),
    (torch.randn(1, 1, 8, 8), 2, 0, ValueError, "stride must be >= 1"),
    (torch.full((1, 1, 4, 4), float("nan")), 2, None, ValueError, "x contains NaN"),
    (torch.randn(1, 1, 8, 8), "2", None, TypeError, "kernel_size must be an int or a pair"),
])
def test_max_pool2d_rejects_bad_inputs(x, kernel_size, stride, error, match):
    with pytest.raises(error, match=match):
        scratch.max_pool2d(x, kernel_size, stride)


# ---- the lesson's exercise checks ----------------------------------------------------------

def _not_done(*args):
    raise NotImplementedError


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (conv_output_size, True, "correct"),
    (lambda n, k, s, p: int((n + 2 * p - k) / s) + 1, True, "correct"),  # int() floors here
    (_not_done, False, "not implemented yet"),
    (lambda n, k, s, p: None, False, "returned nothing"),
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1, False, "(use //)"),
    (lambda n, k, s, p: "32", False, "must return an int, got str"),
    (lambda n, k, s, p: (n - k) // s + 1, False, "forgets the padding"),
    (lambda n, k, s, p: (n + p - k) // s + 1, False, "pads one side only"),
    (lambda n, k, s, p: n + 2 * p - k + 1, False, "ignores the stride"),
    (lambda n, k, s, p: (n + 2 * p - k) // s, False, "forgets the + 1"),
    (lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1, False, "rounds up"),
    (lambda n, k, s, p: (n + 2 * p) // s, False, "forgets the kernel"),
    (lambda n, k, s, p: (n + 2 * p - k) // s + 2, False, "expected"),
])
def test_check_conv_output_size(fn, passed, words):
    from mmkit import exercises

    feedback = exercises.check_conv_output_size(fn)
    assert feedback.passed is passed
    assert words in feedback.message
    assert str(feedback).startswith("✅" if passed else "❌")


def _unfold_max(x, k):
    return x.unfold(2, k, k).unfold(3, k, k).amax(dim=(-2, -1))


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_unfold_max, True, "correct"),
    (lambda x, k: scratch.max_pool2d(x, k), True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda x, k: x.unfold(2, k, 1).unfold(3, k, 1).amax(dim=(-2, -1)), False, "windows overlap"),
    (lambda x, k: x.unfold(2, k, k).unfold(3, k, k).mean(dim=(-2, -1)), False, "averages"),
    (lambda x, k: x.unfold(2, k, k).unfold(3, k, k).amax(dim=(1, -1)), False, "each channel on its own"),
    (lambda x, k: x.unfold(2, k, k).unfold(3, k, k).amax(dim=-1)[..., 0], False, "different values"),
    (lambda x, k: x.unfold(2, 2, 2).unfold(3, 2, 2).amax(dim=(-2, -1)), False, "k=3 on a 7x9"),
])
def test_check_max_pool(fn, passed, words):
    from mmkit import exercises

    feedback = exercises.check_max_pool(fn)
    assert feedback.passed is passed
    assert words in feedback.message
