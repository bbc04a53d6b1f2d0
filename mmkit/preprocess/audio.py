"""Audio features for models: log-mel spectrograms, MFCCs and their normalisation.

Built on the from-scratch pieces in ``mmkit.scratch.audio`` (pure torch, checked against
librosa), so a batch of waveforms (batch, samples) becomes a batch of features
(batch, n_features, n_frames) in one call, on the waveform's device.

A typical pipeline::

    feats = log_mel(waveforms, sample_rate=8000)          # (N, 64, frames)
    mean, std = fit_normalizer(feats[train_idx])          # statistics of the training set
    x = normalize(feats, mean, std)                       # zero mean, unit variance

Fit the statistics on the training set only: using the test set would leak information.
"""

import torch

from mmkit.checks import check_int, check_positive, check_tensor
from mmkit.scratch.audio import melspectrogram, mfcc, power_to_db


def _check_waveform(waveform: torch.Tensor, sample_rate) -> float:
    check_tensor(waveform, "waveform", floating=True, min_ndim=1)
    return check_positive(sample_rate, "sample_rate")


def log_mel(
    waveform: torch.Tensor,
    sample_rate: float,
    n_mels: int = 64,
    n_fft: int = 512,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """Log-mel spectrogram in dB: (samples,) -> (n_mels, n_frames), (..., samples) -> (..., n_mels, n_frames).

    The usual input of an audio CNN: mel power spectrogram (``scratch.audio.melspectrogram``,
    power 2, Slaney mel) -> ``power_to_db(ref=1.0, amin=1e-10, top_db)``, each item of the
    batch clipped at top_db below its own peak. hop_length defaults to n_fft // 4.
    Equals ``librosa.power_to_db(librosa.feature.melspectrogram(...))`` per item.
    Returns float32 for float32 input.
    """
    sample_rate = _check_waveform(waveform, sample_rate)
    n_fft = check_int(n_fft, "n_fft", minimum=1)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    mel = melspectrogram(
        waveform, sample_rate, n_fft, hop_length, win_length, window, center, pad_mode,
        n_mels=n_mels, fmin=fmin, fmax=fmax,
    )  # fmt: skip
    return power_to_db(mel, ref=1.0, amin=1e-10, top_db=top_db)


def mfcc_features(
    waveform: torch.Tensor,
    sample_rate: float,
    n_mfcc: int = 13,
    n_mels: int = 40,
    n_fft: int = 512,
    hop_length: int | None = None,
    fmin: float = 0.0,
    fmax: float | None = None,
    lifter: float = 0.0,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """MFCCs (..., n_mfcc, n_frames) with speech-sized defaults (13 coefficients, 40 mels).

    A thin wrapper over ``mmkit.scratch.audio.mfcc`` (= ``librosa.feature.mfcc``);
    hop_length defaults to n_fft // 4.
    """
    sample_rate = _check_waveform(waveform, sample_rate)
    n_fft = check_int(n_fft, "n_fft", minimum=1)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    return mfcc(
        waveform, sr=sample_rate, n_mfcc=n_mfcc, lifter=lifter, n_fft=n_fft,
        hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax, top_db=top_db,
    )  # fmt: skip


def fit_normalizer(features) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature mean and standard deviation over a dataset: each (n_features, 1).

    features: a tensor (n_features, n_frames) or (N, n_features, n_frames), or a list of
    (n_features, n_frames_i) tensors of different lengths. Every frame of every item counts
    once; the statistics are per feature row (per mel band or per coefficient).
    """
    if isinstance(features, (list, tuple)):
        if not features:
            raise ValueError("features is an empty list; pass at least one (F, T) tensor")
        for i, item in enumerate(features):
            check_tensor(item, f"features[{i}]", floating=True, ndim=2)
            if item.shape[0] != features[0].shape[0]:
                raise ValueError(
                    f"features[{i}] has {item.shape[0]} feature rows, features[0] has "
                    f"{features[0].shape[0]}; all items need the same n_features"
                )
        frames = torch.cat(list(features), dim=1)  # (F, all frames)
    else:
        check_tensor(features, "features", floating=True, ndim=(2, 3))
        frames = features if features.dim() == 2 else torch.cat(list(features), dim=1)
    dtype = frames.dtype
    # Float64 sums: a dataset has many frames, and float32 sums lose digits.
    frames = frames.to(torch.float64)
    mean = frames.mean(dim=1, keepdim=True)
    std = frames.std(dim=1, keepdim=True, correction=0)
    return mean.to(dtype), std.to(dtype)


def normalize(
    features: torch.Tensor,
    mean: torch.Tensor | None = None,
    std: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """(features - mean) / std, per feature row. Shape (..., n_features, n_frames) is kept.

    With mean and std (from ``fit_normalizer``): dataset normalisation, the same shift and
    scale for every item. Without them: per-utterance normalisation (cepstral mean and
    variance normalisation), each item's rows scaled to zero mean and unit variance over
    its own frames, which removes a recording's overall loudness and channel colouring.
    A row whose std is below eps (a constant row: silence) becomes exactly 0, not NaN and not
    rounding noise blown up by a tiny std: 0 by construction, on any CPU.
    """
    check_tensor(features, "features", floating=True, min_ndim=2)
    eps = check_positive(eps, "eps")
    if (mean is None) != (std is None):
        raise ValueError("pass both mean and std (from fit_normalizer), or neither")
    if mean is None:
        mean = features.mean(dim=-1, keepdim=True)
        std = features.std(dim=-1, keepdim=True, correction=0)
    else:
        n_features = features.shape[-2]
        for name, stat in (("mean", mean), ("std", std)):
            check_tensor(stat, name, floating=True)
            if stat.numel() != n_features:
                raise ValueError(
                    f"{name} has {stat.numel()} values but features has {n_features} feature "
                    f"rows (shape {tuple(features.shape)}); fit it on features like these"
                )
        mean = mean.reshape(n_features, 1).to(features.dtype)
        std = std.reshape(n_features, 1).to(features.dtype)
    constant = std < eps  # no spread: the row carries no information to scale
    scaled = (features - mean) / torch.where(constant, torch.ones_like(std), std)
    return scaled.masked_fill(constant.expand_as(scaled), 0.0)
