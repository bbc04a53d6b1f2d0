"""mmkit.preprocess.audio and mmkit.preprocess.video: model-ready features, checked."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from mmkit.preprocess.audio import fit_normalizer, log_mel, mfcc_features, normalize
from mmkit.preprocess.video import (
    direction_of_motion,
    flow_field,
    flow_to_rgb,
    frame_differences,
    mean_motion,
)
from mmkit.scratch.audio import mfcc
from mmkit.scratch.flow import optical_flow

SR = 8000


def waveforms(n: int = 3, length: int = 4000) -> torch.Tensor:
    """(n, length) float32: tones of different pitch and loudness plus a little noise."""
    gen = torch.Generator().manual_seed(0)
    t = torch.arange(length) / SR
    rows = [
        (0.1 + 0.3 * i) * torch.sin(2 * torch.pi * (300 + 200 * i) * t)
        + 0.01 * torch.randn(length, generator=gen)
        for i in range(n)
    ]
    return torch.stack(rows).float()


def moving_blob(direction: str, frames: int = 8, speed: float = 1.5) -> torch.Tensor:
    """A ShapesWorld-like video (T, 3, 32, 32) in [0, 1]: a textured blob drifting."""
    step = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}[direction]
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    colour = torch.tensor([0.9, 0.5, 0.2]).view(3, 1, 1)
    video = []
    for t in range(frames):
        cx = 16 + step[0] * speed * (t - frames / 2)
        cy = 16 + step[1] * speed * (t - frames / 2)
        blob = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 3.0**2))
        texture = 1 + 0.2 * torch.sin(0.9 * (xs - cx) + 1.3 * (ys - cy))
        video.append(0.1 + 0.8 * colour * blob * texture)
    return torch.stack(video).clamp(0, 1)


# --- audio ---------------------------------------------------------------------------------


def test_log_mel_shapes_and_dtype():
    batch = waveforms()
    feats = log_mel(batch, SR, n_mels=40, n_fft=256)
    assert feats.shape == (3, 40, 1 + 4000 // 64) and feats.dtype == torch.float32
    assert log_mel(batch[0], SR, n_mels=40, n_fft=256).shape == (40, 63)
    # Each item on its own equals the batch row.
    torch.testing.assert_close(log_mel(batch[1], SR, n_mels=40, n_fft=256), feats[1])


def test_log_mel_matches_librosa():
    import librosa  # a hard dependency: missing, this test must fail, not skip

    y = waveforms()[2].numpy()
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=128, n_mels=64)
    ref = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    ours = log_mel(torch.from_numpy(y), SR).numpy()  # defaults: 64 mels, n_fft 512, hop 128
    assert np.abs(ours - ref).max() <= 1e-3  # dB


def test_log_mel_floors_each_item_at_its_own_peak():
    # A silent item in the batch must not change the others: top_db is per item.
    batch = torch.cat([waveforms(2), torch.zeros(1, 4000)])
    feats = log_mel(batch, SR, n_fft=256)
    torch.testing.assert_close(feats[:2], log_mel(batch[:2], SR, n_fft=256))
    assert torch.all(feats[2] == -100.0)  # 10 log10(amin = 1e-10)


def test_mfcc_features_is_scratch_mfcc_with_speech_defaults():
    batch = waveforms()
    feats = mfcc_features(batch, SR)
    assert feats.shape == (3, 13, 1 + 4000 // 128)
    ref = mfcc(batch, sr=SR, n_mfcc=13, n_fft=512, hop_length=128, n_mels=40)
    torch.testing.assert_close(feats, ref)


def test_fit_normalizer_and_normalize_dataset_statistics():
    feats = log_mel(waveforms(), SR, n_mels=20, n_fft=256)  # (3, 20, T)
    mean, std = fit_normalizer(feats)
    assert mean.shape == std.shape == (20, 1)
    all_frames = feats.permute(1, 0, 2).reshape(20, -1)
    torch.testing.assert_close(mean[:, 0], all_frames.mean(dim=1))
    torch.testing.assert_close(std[:, 0], all_frames.std(dim=1, correction=0))
    normed = normalize(feats, mean, std).permute(1, 0, 2).reshape(20, -1)
    torch.testing.assert_close(normed.mean(dim=1), torch.zeros(20), atol=1e-4, rtol=0)
    torch.testing.assert_close(normed.std(dim=1, correction=0), torch.ones(20), atol=1e-3, rtol=0)


def test_fit_normalizer_accepts_items_of_different_lengths():
    feats = [torch.randn(5, n, generator=torch.Generator().manual_seed(n)) for n in (7, 20, 3)]
    mean, std = fit_normalizer(feats)
    joined = torch.cat(feats, dim=1)
    torch.testing.assert_close(mean, joined.mean(dim=1, keepdim=True))
    torch.testing.assert_close(std, joined.std(dim=1, keepdim=True, correction=0))


def test_per_utterance_normalization_and_silence():
    feats = mfcc_features(torch.cat([waveforms(2), torch.zeros(1, 4000)]), SR)
    normed = normalize(feats)
    assert torch.isfinite(normed).all()
    torch.testing.assert_close(normed[:2].mean(dim=-1), torch.zeros(2, 13), atol=1e-4, rtol=0)
    assert torch.all(normed[2] == 0)  # a constant row (silence) becomes zeros, not NaN


def test_audio_bad_inputs():
    x = waveforms(1)
    with pytest.raises(
        TypeError, match="waveform must be a floating-point tensor, got torch.int16"
    ):
        log_mel((x * 32767).to(torch.int16), SR)
    with pytest.raises(ValueError, match="sample_rate must be a finite number > 0, got 0"):
        log_mel(x, 0)
    with pytest.raises(ValueError, match=r"fmax must be <= sr / 2 = 4000 Hz"):
        log_mel(x, SR, fmax=6000.0)
    with pytest.raises(ValueError, match="n_mels must be >= 1, got 0"):
        log_mel(x, SR, n_mels=0)
    with pytest.raises(ValueError, match="waveform is empty"):
        mfcc_features(torch.zeros(2, 0), SR)
    with pytest.raises(ValueError, match="pass both mean and std"):
        normalize(torch.randn(3, 5, 7), mean=torch.zeros(5, 1))
    with pytest.raises(ValueError, match="mean has 4 values but features has 5 feature rows"):
        normalize(torch.randn(3, 5, 7), torch.zeros(4, 1), torch.ones(4, 1))
    with pytest.raises(ValueError, match="features is an empty list"):
        fit_normalizer([])
    with pytest.raises(ValueError, match=r"features\[1\] has 4 feature rows, features\[0\] has 5"):
        fit_normalizer([torch.randn(5, 3), torch.randn(4, 3)])
    with pytest.raises(ValueError, match="features must have 2 or 3 dimensions"):
        fit_normalizer(torch.randn(5))


# --- video ---------------------------------------------------------------------------------


def test_frame_differences_and_flow_field_shapes():
    video = moving_blob("right")
    diffs = frame_differences(video)
    assert diffs.shape == (7, 3, 32, 32)
    torch.testing.assert_close(diffs[2], video[3] - video[2])
    flow = flow_field(video)
    assert flow.shape == (7, 2, 32, 32) and flow.dtype == torch.float32
    # Batched over the pairs, but the same numbers as one optical_flow call per pair.
    for t in (0, 6):
        torch.testing.assert_close(flow[t], optical_flow(video[t], video[t + 1]), rtol=0, atol=1e-6)
    assert flow_field(video[:, 0]).shape == (7, 2, 32, 32)  # grey (T, H, W) works too


@pytest.mark.parametrize("direction", ["left", "right", "up", "down"])
@pytest.mark.parametrize("method", ["lucas_kanade", "horn_schunck"])
def test_direction_of_motion(direction, method):
    assert direction_of_motion(moving_blob(direction, frames=4), method=method) == direction


def test_mean_motion_of_a_moving_blob():
    video = moving_blob("up", frames=2, speed=1.0)
    mask = video[0].amax(dim=0) > 0.3
    dx, dy = mean_motion(flow_field(video), mask)  # mask (H, W) broadcasts over frames
    assert abs(dx) < 0.15 and abs(dy + 1.0) < 0.3
    dx, dy = mean_motion(torch.ones(2, 4, 4) * torch.tensor([0.5, -2.0]).view(2, 1, 1))
    assert (dx, dy) == (0.5, -2.0)


def test_flow_to_rgb_wraps_torchvision():
    from torchvision.utils import flow_to_image

    flow = flow_field(moving_blob("left", frames=3))
    picture = flow_to_rgb(flow[0])
    assert picture.shape == (3, 32, 32) and picture.dtype == torch.uint8
    assert torch.equal(picture, flow_to_image(flow[0]))
    assert flow_to_rgb(flow).shape == (2, 3, 32, 32)


def test_static_video_has_no_direction():
    video = moving_blob("right", frames=4, speed=0.0)
    with pytest.raises(ValueError, match="video shows no motion: all frames are identical"):
        direction_of_motion(video)
    noisy = video + 0.01 * torch.randn(video.shape, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="video shows no clear motion"):
        direction_of_motion(noisy)


def test_video_bad_inputs():
    video = moving_blob("right", frames=3)
    with pytest.raises(ValueError, match=r"video must have 3 or 4 dimensions, got shape \(3, 32\)"):
        frame_differences(torch.rand(3, 32))
    with pytest.raises(ValueError, match="video needs at least 2 frames to show motion, got 1"):
        flow_field(video[:1])
    with pytest.raises(
        ValueError, match=r"video must be \(T, 3, H, W\).* got shape \(3, 2, 32, 32\)"
    ):
        direction_of_motion(video[:, :2])
    with pytest.raises(TypeError, match="video must be a floating-point tensor, got torch.uint8"):
        flow_field((video * 255).to(torch.uint8))
    with pytest.raises(
        ValueError, match=r"flow must be \(\.\.\., 2, H, W\).* got shape \(3, 32, 32\)"
    ):
        flow_to_rgb(torch.rand(3, 32, 32))
    with pytest.raises(TypeError, match="mask must be a bool tensor, got torch.float32"):
        mean_motion(torch.rand(2, 8, 8), torch.ones(8, 8))
    with pytest.raises(ValueError, match="mask selects no pixel"):
        mean_motion(torch.rand(2, 8, 8), torch.zeros(8, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"mask of shape \(4, 4\) does not fit"):
        mean_motion(torch.rand(2, 8, 8), torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="method must be one of 'lucas_kanade', 'horn_schunck'"):
        direction_of_motion(video, method="raft")


def test_importing_the_preprocess_modules_stays_light():
    # torchvision and librosa load only inside the functions that need them.
    code = (
        "import sys, mmkit.preprocess.audio, mmkit.preprocess.video, mmkit.scratch.audio, "
        "mmkit.scratch.flow; print(sorted(m for m in ('torchvision', 'librosa') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_constant_rows_normalise_to_exact_zeros_with_dataset_statistics():
    # Row 1 is the same number in every item: its fitted std is (about) 0, so it must come
    # out as exactly 0 on any CPU, never rounding residue divided by a tiny std.
    feats = torch.randn(3, 4, 50, generator=torch.Generator().manual_seed(0))
    feats[:, 1] = 0.1 + 0.2  # not exactly representable: sums of it round differently
    mean, std = fit_normalizer(list(feats))
    normed = normalize(feats, mean, std)
    assert torch.isfinite(normed).all()
    assert torch.count_nonzero(normed[:, 1]) == 0
    assert torch.count_nonzero(normalize(feats[:, 1:2])) == 0  # per utterance too
    torch.testing.assert_close(normed[:, 0], (feats[:, 0] - mean[0]) / std[0])
