"""Audio encoders: MFCC statistics -> MLP, and log-mel spectrogram -> small 2-D CNN.

Both take *features*, not waveforms: computing MFCCs or a log-mel spectrogram costs far more
than the network that reads them, and the features of a dataset never change between
epochs, so they are computed once (``mmkit.preprocess.audio.mfcc_features`` / ``log_mel``
on the stacked waveforms) and the encoders train on the stored tensors::

    waves = to_tensors(train, keys=("audio", "label"))["audio"]     # (N, samples)
    feats = mfcc_features(waves, sample_rate=8000)                  # (N, 13, frames)
    encoder = MFCCEncoder(n_mfcc=13).fit_normalizer(feats)          # training statistics
    encoder(feats[:4]).shape                                        # (4, encoder.out_dim)

Each encoder keeps the per-feature mean and std fitted on the *training* features as
buffers, so the normalisation travels with the model (state_dict, .to(device)) and the
test set is scaled with the training statistics, never its own.
"""

import torch
from torch import nn

from mmkit.checks import check_choice, check_int
from mmkit.encoders.inputs import check_float_input
from mmkit.preprocess.audio import fit_normalizer, normalize


class _Normalized(nn.Module):
    """Holds per-feature-row mean and std (buffers) and checks (B, n_features, frames) input."""

    def __init__(self, n_features: int):
        super().__init__()
        self.n_features = check_int(n_features, "n_features", minimum=1)
        self.register_buffer("mean", torch.zeros(n_features, 1))
        self.register_buffer("std", torch.ones(n_features, 1))

    def fit_normalizer(self, features: torch.Tensor):
        """Fit mean and std per feature row on training features (N, n_features, frames)."""
        self._check(features, "features")
        mean, std = fit_normalizer(features.detach().float().cpu())
        self.mean.copy_(mean)
        self.std.copy_(std)
        return self

    def _check(self, x: torch.Tensor, name: str = "features") -> torch.Tensor:
        check_float_input(x, name, ndim=3)
        if x.shape[1] != self.n_features:
            raise ValueError(
                f"{name} must be (batch, {self.n_features}, frames) features, got shape "
                f"{tuple(x.shape)}: compute them with the same n_mfcc / n_mels as the encoder"
            )
        return x

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        return normalize(self._check(x), self.mean, self.std)


class MFCCEncoder(_Normalized):
    """MFCCs (B, n_mfcc, frames) -> normalise -> summarise over time -> MLP -> (B, out_dim).

    pooling="stats": the mean and the std of each coefficient over time (2 * n_mfcc
    numbers, any clip length) — a bag-of-frames summary that forgets the order of sounds;
    pooling="flatten": the whole normalised map (n_mfcc * n_frames numbers, fixed length),
    which keeps the order but needs every clip to have n_frames frames.
    """

    def __init__(
        self,
        n_mfcc: int = 13,
        out_dim: int = 64,
        hidden: int = 128,
        pooling: str = "stats",
        n_frames: int | None = None,
        dropout: float = 0.1,
    ):
        super().__init__(n_mfcc)
        self.pooling = check_choice(pooling, "pooling", ("stats", "flatten"))
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        check_int(hidden, "hidden", minimum=1)
        if pooling == "flatten":
            if n_frames is None:
                raise ValueError("pooling='flatten' needs n_frames, the frames of every clip")
            self.n_frames = check_int(n_frames, "n_frames", minimum=1)
            in_features = n_mfcc * n_frames
        else:
            self.n_frames = None
            in_features = 2 * n_mfcc
        self.mlp = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
            nn.ReLU(),
        )

    def summarize(self, features: torch.Tensor) -> torch.Tensor:
        """The MLP's input: (B, n_mfcc, frames) -> (B, 2 * n_mfcc) or (B, n_mfcc * n_frames)."""
        x = self._normalize(features)
        if self.pooling == "stats":
            return torch.cat([x.mean(dim=-1), x.std(dim=-1, correction=0)], dim=1)
        if x.shape[-1] != self.n_frames:
            raise ValueError(
                f"features has {x.shape[-1]} frames, but this encoder flattens {self.n_frames}"
            )
        return x.flatten(1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.summarize(features))


def _conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)
    )


class LogMelCNN(_Normalized):
    """Log-mel spectrogram (B, n_mels, frames) -> small 2-D CNN -> (B, out_dim).

    The spectrogram is treated as a one-channel image (frequency x time): convolution
    blocks (3x3 conv, batch norm, ReLU, 2x2 max-pool) find local time-frequency patterns —
    formant shapes, onsets — wherever they occur, then a global average pool makes the
    output independent of the clip length.
    """

    def __init__(self, n_mels: int = 24, out_dim: int = 64, channels=(8, 16, 32)):
        super().__init__(n_mels)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        if not isinstance(channels, (list, tuple)) or not channels:
            raise TypeError(f"channels must be a non-empty tuple of ints, got {channels!r}")
        if n_mels < 2 ** len(channels):
            raise ValueError(
                f"n_mels={n_mels} is too small for {len(channels)} pooling blocks "
                f"(needs >= {2 ** len(channels)})"
            )
        sizes = [1, *(check_int(c, "channels[i]", minimum=1) for c in channels)]
        self.features = nn.Sequential(
            *(_conv_block(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Linear(sizes[-1], out_dim), nn.ReLU())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self._normalize(features).unsqueeze(1)  # (B, 1, n_mels, frames)
        if x.shape[-1] < 2 ** len(self.features):
            raise ValueError(
                f"features has {x.shape[-1]} frames, fewer than the {2 ** len(self.features)} "
                "the pooling blocks need"
            )
        return self.head(self.pool(self.features(x)).flatten(1))
