"""mmkit.scratch.flow.optical_flow on synthetic clips that look like ShapesWorld's videos.

A clip: T = 8 RGB frames of 32 x 32 in [0, 1]; an anti-aliased circle, square or triangle
(4 x 4 supersampling) of random size, position and colour, with a faint texture that moves
with it, on a dark background, moving 0.5-2 px per frame in one of the four directions,
plus Gaussian noise (sigma 0.01) drawn afresh in every frame.

Targets: the direction from ``direction_of_motion`` is right in >= 95 % of 200 random clips
(measured: 200 / 200 with Lucas-Kanade); the mean flow over the shape is within 30 % of
the true shift for 0.5-2 px; identical frames give (near) zero flow.
"""

import pytest
import torch

from mmkit.preprocess.video import direction_of_motion, mean_motion
from mmkit.scratch.flow import optical_flow, optical_flow_batch

STEPS = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}
SIZE = 32


def render(shape, cx, cy, radius, colour, background, texture, supersample=4):
    """One RGB frame (3, SIZE, SIZE): the shape centred at (cx, cy) in pixel coordinates."""
    n = SIZE * supersample
    coords = (torch.arange(n, dtype=torch.float64) + 0.5) / supersample - 0.5
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    u, v = x - cx, y - cy
    if shape == "circle":
        inside = u**2 + v**2 <= radius**2
    elif shape == "square":
        inside = (u.abs() <= radius) & (v.abs() <= radius)
    else:  # a triangle pointing up
        inside = (v <= 0.8 * radius) & (v >= -radius) & (u.abs() <= 0.6 * (v + radius))

    def pool(a):  # average each supersample x supersample block: anti-aliasing
        return a.reshape(SIZE, supersample, SIZE, supersample).mean(dim=(1, 3))

    cover = pool(inside.double())
    fx, fy, phase = texture
    pattern = pool(1 + 0.2 * torch.sin(fx * u + fy * v + phase))  # moves with the shape
    colour = torch.tensor(colour, dtype=torch.float64).view(3, 1, 1)
    background = torch.tensor(background, dtype=torch.float64).view(3, 1, 1)
    return (background * (1 - cover) + (colour * pattern).clamp(0, 1) * cover).float()


def luma(rgb) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def random_clip(gen, direction=None, speed=None, frames=8, noise=0.01, min_contrast=0.0):
    """(video (T, 3, H, W), direction, (dx, dy) per frame) for a random shape.

    min_contrast: redraw the colour until the shape's brightness differs from the
    background's by at least this much (a grey-level method cannot see a red shape on a
    green background of the same brightness).
    """

    def uniform(a, b):
        return a + (b - a) * torch.rand((), generator=gen).item()

    if direction is None:
        direction = list(STEPS)[torch.randint(4, (), generator=gen).item()]
    speed = uniform(0.5, 2.0) if speed is None else speed
    shape = ("circle", "square", "triangle")[torch.randint(3, (), generator=gen).item()]
    radius = uniform(3.0, 6.0)
    sx, sy = STEPS[direction]
    # Start where the whole path stays on the canvas.
    travel, margin = speed * (frames - 1), radius + 1
    cx = uniform(margin + travel * (sx < 0), SIZE - 1 - margin - travel * (sx > 0))
    cy = uniform(margin + travel * (sy < 0), SIZE - 1 - margin - travel * (sy > 0))
    background = (0.3 * torch.rand(3, generator=gen)).tolist()
    colour = torch.rand(3, generator=gen).tolist()
    while abs(luma(colour) - luma(background)) < min_contrast:
        colour = torch.rand(3, generator=gen).tolist()
    texture = (uniform(0.5, 1.5), uniform(0.5, 1.5), uniform(0.0, 6.3))
    video = torch.stack(
        [
            render(shape, cx + sx * speed * t, cy + sy * speed * t, radius, colour, background,
                   texture)
            for t in range(frames)
        ]
    )  # fmt: skip
    video = (video + noise * torch.randn(video.shape, generator=gen)).clamp(0, 1)
    return video, direction, (sx * speed, sy * speed)


def shape_mask(frame: torch.Tensor) -> torch.Tensor:
    """The shape's pixels: those that differ from the background (the corner pixel)."""
    return (frame - frame[:, :1, :1]).abs().amax(dim=0) > 0.05


def test_direction_of_200_random_clips_lucas_kanade():
    gen = torch.Generator().manual_seed(0)
    wrong = []
    for _ in range(200):
        video, direction, _ = random_clip(gen)
        got = direction_of_motion(video, method="lucas_kanade")
        if got != direction:
            wrong.append((direction, got))
    accuracy = 1 - len(wrong) / 200
    print(f"Lucas-Kanade direction accuracy: {accuracy:.1%}")
    assert accuracy >= 0.95, wrong


def test_direction_of_random_clips_horn_schunck():
    # Horn-Schunck iterates 20 times per warp: 40 shorter clips keep the test quick.
    gen = torch.Generator().manual_seed(1)
    clips = [random_clip(gen, frames=4) for _ in range(40)]
    results = [direction_of_motion(video, method="horn_schunck") == d for video, d, _ in clips]
    assert sum(results) / len(results) >= 0.95


@pytest.mark.parametrize("direction", list(STEPS))
@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
def test_mean_flow_over_the_shape_has_the_right_direction_and_size(direction, speed):
    gen = torch.Generator().manual_seed(2)
    ratios = []
    for _ in range(12):
        video, _, (true_dx, true_dy) = random_clip(gen, direction, speed, 2, min_contrast=0.15)
        flow = optical_flow(video[0], video[1])
        assert flow.shape == (2, SIZE, SIZE) and flow.dtype == torch.float32
        dx, dy = mean_motion(flow, shape_mask(video[0]))
        # The component along the true motion, as a fraction of it (1 = exact) ...
        ratios.append((dx * true_dx + dy * true_dy) / speed**2)
        # ... and the one across it is small (measured: < 0.35 px).
        assert abs(dx * true_dy - dy * true_dx) / speed < 0.5
    ratios = torch.tensor(ratios)
    # Measured over these clips: mean 0.97-0.99, 98-100 % within 30 %.
    assert (ratios > 0).all()
    assert 0.85 <= ratios.mean() <= 1.15, ratios
    assert ((ratios - 1).abs() <= 0.3).float().mean() >= 0.9, ratios


@pytest.mark.parametrize("method", ["lucas_kanade", "horn_schunck"])
def test_zero_motion_gives_zero_flow(method):
    gen = torch.Generator().manual_seed(3)
    video, _, _ = random_clip(gen, speed=0.0, frames=2, noise=0.0)
    flow = optical_flow(video[0], video[0], method=method)
    assert flow.abs().max() < 1e-5
    # With fresh noise in each frame the flow is noise too, but it averages out.
    noisy, _, _ = random_clip(gen, speed=0.0, frames=2, noise=0.01)
    dx, dy = mean_motion(optical_flow(noisy[0], noisy[1], method=method))
    assert abs(dx) < 0.15 and abs(dy) < 0.15


def test_grey_and_rgb_frames_agree():
    gen = torch.Generator().manual_seed(4)
    video, _, _ = random_clip(gen, "right", 1.0, frames=2)
    grey = 0.299 * video[:, 0] + 0.587 * video[:, 1] + 0.114 * video[:, 2]
    rgb_flow = optical_flow(video[0], video[1])
    torch.testing.assert_close(optical_flow(grey[0], grey[1]), rgb_flow)
    torch.testing.assert_close(optical_flow(grey[0:1], grey[1:2]), rgb_flow)


def test_a_whole_pixel_shift_of_a_smooth_blob_is_recovered():
    # Gaussian blob, shifted exactly 1 px right and 2 px up, no noise.
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")

    def blob(cx, cy):
        return torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 3.0**2))

    flow = optical_flow(blob(14.0, 16.0), blob(15.0, 14.0), window=7)
    dx, dy = mean_motion(flow, blob(14.0, 16.0) > 0.3)
    assert abs(dx - 1.0) < 0.15 and abs(dy + 2.0) < 0.3


def test_bad_inputs_raise_clear_errors():
    a = torch.rand(3, 32, 32)
    with pytest.raises(
        ValueError,
        match=r"frame1 and frame2 must have the same shape, got \(3, 32, 32\) and \(3, 16, 16\)",
    ):  # noqa: E501
        optical_flow(a, torch.rand(3, 16, 16))
    with pytest.raises(
        ValueError, match=r"frame1 must have 2 or 3 dimensions, got shape \(1, 3, 32, 32\)"
    ):  # noqa: E501
        optical_flow(a[None], a[None])
    with pytest.raises(ValueError, match=r"frame1 must be \(H, W\), \(1, H, W\) or RGB"):
        optical_flow(a[:2], a[:2])
    nan = a.clone()
    nan[0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match="frame2 contains NaN"):
        optical_flow(a, nan)
    with pytest.raises(TypeError, match="frame1 must be a floating-point tensor, got torch.uint8"):
        optical_flow((a * 255).to(torch.uint8), (a * 255).to(torch.uint8))
    with pytest.raises(ValueError, match="window must be odd .* got 4"):
        optical_flow(a, a, window=4)
    with pytest.raises(ValueError, match="window must be >= 3, got 1"):
        optical_flow(a, a, window=1)
    with pytest.raises(ValueError, match="method must be one of 'lucas_kanade', 'horn_schunck'"):
        optical_flow(a, a, method="farneback")
    with pytest.raises(ValueError, match="frames must be at least 3 x 3 pixels, got 2 x 32"):
        optical_flow(a[:, :2], a[:, :2])
    with pytest.raises(ValueError, match=r"frames1 must be \(N, H, W\), \(N, 1, H, W\) or RGB"):
        optical_flow_batch(torch.rand(4, 2, 8, 8), torch.rand(4, 2, 8, 8))
    with pytest.raises(ValueError, match="frames1 and frames2 must have the same shape"):
        optical_flow_batch(torch.rand(4, 8, 8), torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="levels=6 is too many for 32 x 32 frames"):
        optical_flow(a, a, levels=6)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0, got 0"):
        optical_flow(a, a, method="horn_schunck", alpha=0.0)


@pytest.mark.parametrize(("radius", "warps"), [(1, 1), (2, 3), (3, 10)])
def test_one_level_lucas_kanade_equals_scikit_image(radius, warps):
    """On one pyramid level with eps=0 the flow is scikit-image's iterative Lucas-Kanade."""
    import numpy as np
    from skimage.registration import optical_flow_ilk

    gen = torch.Generator().manual_seed(5)
    cases = [random_clip(gen, frames=2, noise=noise)[0].double() for noise in (0.0, 0.01, 0.05)]
    bar = torch.zeros(2, 32, 32, dtype=torch.float64)  # the aperture problem: a vertical bar
    bar[0, :, 10:14], bar[1, :, 11:15] = 1.0, 1.0
    cases.append(bar)
    for video in cases:
        ours = optical_flow(video[0], video[1], window=2 * radius + 1, levels=1, warps=warps,
                            eps=0.0)
        grey = [(luma(frame) if frame.dim() == 3 else frame).numpy() for frame in video]
        reference = optical_flow_ilk(grey[0], grey[1], radius=radius, num_warp=warps,
                                     dtype=np.float64)
        assert ours.dtype == torch.float64
        np.testing.assert_allclose(ours.numpy(), reference[::-1], rtol=0, atol=1e-8)
    # The bar moved 1 px right. Its windows hold no vertical gradient, so the 2 x 2 system
    # is singular (the aperture problem): with eps = 0 there is no answer (0, as in
    # scikit-image); the ridge eps > 0 gives the motion across the bar and none along it.
    on_edges = bar[0].bool() ^ bar[1].bool()
    singular = optical_flow(bar[0], bar[1], window=5, levels=1, warps=3, eps=0.0)
    assert singular.abs().max() == 0
    ridge = optical_flow(bar[0], bar[1], window=5, levels=1, warps=3)
    assert ridge[1].abs().max() < 1e-9
    assert 0.5 < ridge[0][on_edges].mean() < 1.5
