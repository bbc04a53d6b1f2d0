"""Audio and video encoders: output shapes, normalisation fitted on training data, bad inputs."""

import pytest
import torch

from mmkit.encoders import FlowMLP, LogMelCNN, MFCCEncoder, VideoCNN3d
from mmkit.encoders.video import flow_features
from mmkit.models import UnimodalClassifier
from mmkit.preprocess.audio import log_mel, mfcc_features
from mmkit.train import fit


@pytest.fixture
def waves():
    generator = torch.Generator().manual_seed(0)
    t = torch.arange(2400) / 8000
    pitch = torch.tensor([200.0, 400.0, 800.0, 1600.0])[:, None]
    return torch.sin(2 * torch.pi * pitch * t) + 0.01 * torch.randn(4, 2400, generator=generator)


@pytest.mark.parametrize("pooling", ["stats", "flatten"])
def test_mfcc_encoder_shape(waves, pooling):
    feats = mfcc_features(waves, 8000, n_fft=256, hop_length=128)  # (4, 13, frames)
    encoder = MFCCEncoder(13, out_dim=7, pooling=pooling, n_frames=feats.shape[-1])
    encoder.fit_normalizer(feats)
    out = encoder(feats)
    assert out.shape == (4, 7) and encoder.out_dim == 7
    assert torch.isfinite(out).all()


def test_mfcc_encoder_normalises_with_training_statistics(waves):
    feats = mfcc_features(waves, 8000, n_fft=256, hop_length=128)
    encoder = MFCCEncoder(13).fit_normalizer(feats)
    summary = encoder.summarize(feats)  # mean over time of normalised features, then std
    all_frames = torch.cat(list(encoder._normalize(feats)), dim=1)
    assert torch.allclose(all_frames.mean(dim=1), torch.zeros(13), atol=1e-4)
    assert torch.allclose(all_frames.std(dim=1, correction=0), torch.ones(13), atol=1e-4)
    assert summary.shape == (4, 26)
    # the buffers travel with the state dict
    copy = MFCCEncoder(13)
    copy.load_state_dict(encoder.state_dict())
    assert torch.equal(copy.mean, encoder.mean) and torch.equal(copy.std, encoder.std)


def test_log_mel_cnn_shape_any_length(waves):
    encoder = LogMelCNN(24, out_dim=5)
    for length in (2400, 1600):
        feats = log_mel(waves[:, :length], 8000, n_mels=24, n_fft=256, hop_length=128)
        assert encoder(feats).shape == (4, 5)


def test_audio_encoders_train_in_a_classifier(waves):
    feats = mfcc_features(waves, 8000, n_fft=256, hop_length=128)
    data = {"mfcc": feats, "label": torch.arange(4)}
    model = UnimodalClassifier(MFCCEncoder(13, dropout=0.0).fit_normalizer(feats), "mfcc", 4)
    history = fit(model, data, epochs=30, lr=1e-2, progress=False)
    assert history.train_loss[-1] < history.train_loss[0]


def test_audio_bad_inputs(waves):
    feats = mfcc_features(waves, 8000, n_fft=256, hop_length=128)
    with pytest.raises(ValueError, match=r"must be \(batch, 20, frames\)"):
        MFCCEncoder(20)(feats)
    with pytest.raises(ValueError, match="must have 3 dimensions"):
        MFCCEncoder(13)(feats[0])
    with pytest.raises(TypeError, match="floating-point"):
        LogMelCNN(24)(torch.zeros(2, 24, 30, dtype=torch.long))
    with pytest.raises(ValueError, match="needs n_frames"):
        MFCCEncoder(13, pooling="flatten")
    with pytest.raises(ValueError, match="pooling must be one of"):
        MFCCEncoder(13, pooling="max")
    with pytest.raises(ValueError, match="but this encoder flattens 5"):
        MFCCEncoder(13, pooling="flatten", n_frames=5)(feats)
    with pytest.raises(ValueError, match="fewer than the 8"):
        LogMelCNN(24)(torch.zeros(2, 24, 4))
    with pytest.raises(ValueError, match="too small"):
        LogMelCNN(4)


def _moving_square(direction: str, frames: int = 4, size: int = 16) -> torch.Tensor:
    """(T, 3, size, size): a bright textured square moving 1 px per frame."""
    step = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}[direction]
    video = torch.zeros(frames, 3, size, size)
    pattern = torch.tensor([[1.0, 0.6, 0.8, 0.7], [0.7, 1.0, 0.5, 0.9]]).repeat(3, 2)[:5, :5]
    for t in range(frames):
        x, y = 5 + t * step[0], 5 + t * step[1]
        video[t, :, y : y + 5, x : x + 5] = pattern
    return video


def test_flow_features_point_the_right_way():
    videos = torch.stack([_moving_square(d) for d in ("right", "left", "down", "up")])
    feats = flow_features(videos)  # (4, T - 1, 2, 1, 1)
    assert feats.shape == (4, 3, 2, 1, 1)
    mean = feats.mean(dim=(1, 3, 4))  # (4, 2) mean (dx, dy) per clip
    assert mean[0, 0] > 0.5 and mean[1, 0] < -0.5 and mean[2, 1] > 0.5 and mean[3, 1] < -0.5
    assert flow_features(videos, grid=2).shape == (4, 3, 2, 2, 2)


def test_video_encoder_shapes():
    videos = torch.rand(2, 4, 3, 16, 16)
    assert VideoCNN3d(3, out_dim=6)(videos).shape == (2, 6)
    assert VideoCNN3d(1, channels=(4,))(videos[:, :, :1]).shape == (2, 32)
    flow = flow_features(videos)
    encoder = FlowMLP(flow[0].numel(), out_dim=9)
    assert encoder(flow).shape == (2, 9) and encoder.out_dim == 9


def test_video_bad_inputs():
    with pytest.raises(ValueError, match="must have 5 dimensions"):
        VideoCNN3d()(torch.rand(4, 3, 16, 16))
    with pytest.raises(ValueError, match="expects in_channels=3"):
        VideoCNN3d()(torch.rand(1, 4, 1, 16, 16))
    with pytest.raises(ValueError, match="at least 2 frames"):
        flow_features(torch.rand(1, 1, 3, 16, 16))
    with pytest.raises(ValueError, match="built for in_features=6"):
        FlowMLP(6)(torch.rand(2, 3, 2, 2))
    with pytest.raises(ValueError, match="grid=20 is larger"):
        flow_features(torch.rand(1, 2, 1, 16, 16), grid=20)


def test_flow_features_on_noisy_clips_match_the_true_motion():
    """ShapesWorld's 16 x 16 clips with noise 0.1 move exactly 1 px per frame: with the
    still background's noise left out (min_change=0.3) the feature is close to it; keeping
    every pixel (min_change=0) lets the noise pull it towards 0."""
    from mmkit.data import ShapesWorld, to_tensors

    world = ShapesWorld(n=60, image_size=16, frames=4, seed=0, task="direction",
                        modalities=("video",), noise={"video": 0.1})
    videos = to_tensors(world, keys=("video",))["video"]
    true = torch.tensor(world._step, dtype=torch.float32)[:, None]  # (N, 1, 2), 1 px per frame
    assert torch.allclose(true.norm(dim=-1), torch.ones(60, 1))
    along = {m: (flow_features(videos, min_change=m)[..., 0, 0] * true).sum(-1).mean().item()
             for m in (0.0, 0.3)}
    assert 0.85 <= along[0.3] <= 1.1  # measured 0.95
    assert along[0.0] < along[0.3] - 0.05  # measured 0.82
    with pytest.raises(ValueError, match="min_change must be < 1"):
        flow_features(videos[:1], min_change=1.0)
