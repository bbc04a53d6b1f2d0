"""Reference checks: mmkit.scratch.audio against librosa 0.11 (and torch.stft).

Tolerances (also in the docstrings and mmkit.scratch.audio.TOLERANCES):
- stft: max |ours - librosa| <= 1e-6 * max |librosa| in float32, 1e-12 in float64
- mel_filterbank: max |ours - librosa| <= 1e-6 (absolute; the weights are ~1e-2)
- mfcc: max |ours - librosa| <= 1e-5 * max |librosa| in float32, 1e-12 in float64
"""

import librosa  # a hard dependency of the kit: if it is missing these tests fail, never skip
import numpy as np
import pytest
import torch

from mmkit.scratch.audio import (
    TOLERANCES,
    dct_matrix,
    hz_to_mel,
    mel_filterbank,
    mel_to_hz,
    melspectrogram,
    mfcc,
    power_to_db,
    stft,
)

STFT_TOL = {np.float32: 1e-6, np.float64: 1e-12}
MFCC_TOL = {np.float32: 1e-5, np.float64: 1e-12}
MEL_TOL = 1e-6


@pytest.fixture(scope="module", autouse=True)
def warm_librosa():
    """librosa compiles parts of itself with numba on first use: pay that once, here."""
    y = np.zeros(1024, dtype=np.float32)
    librosa.stft(y, n_fft=256)
    librosa.feature.mfcc(y=y, sr=8000, n_fft=256, n_mels=20)


def make_signal(kind: str, length: int = 4000, sr: int = 8000, dtype=np.float32) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(length) / sr
    signals = {
        "random": rng.standard_normal(length),
        "tone": 0.5 * np.sin(2 * np.pi * 440.0 * t),
        "silence": np.zeros(length),
        "chirp": np.sin(2 * np.pi * (200 + 1500 * t) * t) * np.exp(-3 * t),
    }
    return signals[kind].astype(dtype)


def relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """max |ours - ref| divided by max |ref| (by 1 when ref is all zeros)."""
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    scale = float(np.abs(ref).max()) or 1.0
    return float(np.abs(ours - ref).max() / scale)


# --- STFT --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["random", "tone", "silence", "chirp"])
@pytest.mark.parametrize(
    "n_fft, hop_length, win_length, window, center",
    [
        (512, None, None, "hann", True),  # librosa's defaults (hop = n_fft // 4)
        (511, 100, None, "hann", True),  # odd n_fft
        (400, 160, 320, "hamming", True),  # window shorter than n_fft: centred, zero-padded
        (256, 64, None, "blackman", False),  # no centring
    ],
)
def test_stft_matches_librosa(kind, dtype, n_fft, hop_length, win_length, window, center):
    y = make_signal(kind, dtype=dtype)
    ref = librosa.stft(
        y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center
    )
    ours = stft(torch.from_numpy(y), n_fft, hop_length, win_length, window, center).numpy()
    assert ours.dtype == ref.dtype  # complex64 from float32, complex128 from float64
    assert relative_error(ours, ref) <= STFT_TOL[dtype]


@pytest.mark.parametrize("pad_mode", ["constant", "reflect", "edge"])
def test_stft_pad_modes_match_librosa(pad_mode):
    y = make_signal("chirp", length=3000)
    ref = librosa.stft(y, n_fft=512, hop_length=128, pad_mode=pad_mode)
    ours = stft(torch.from_numpy(y), n_fft=512, hop_length=128, pad_mode=pad_mode).numpy()
    assert relative_error(ours, ref) <= STFT_TOL[np.float32]


def test_stft_default_pad_mode_is_librosa_default():
    import inspect

    librosa_default = inspect.signature(librosa.stft).parameters["pad_mode"].default
    assert inspect.signature(stft).parameters["pad_mode"].default == librosa_default == "constant"


@pytest.mark.parametrize("n_fft", [256, 255])
@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
def test_stft_matches_torch_stft(n_fft, pad_mode):
    y = torch.from_numpy(make_signal("random", length=2000))
    window = torch.hann_window(n_fft)  # torch's default is periodic, like librosa's
    ref = torch.stft(
        y, n_fft, hop_length=64, window=window, center=True, pad_mode=pad_mode, return_complex=True
    )
    ours = stft(y, n_fft, hop_length=64, window=window, pad_mode=pad_mode)
    assert ours.shape == ref.shape
    assert relative_error(ours.abs().numpy(), ref.abs().numpy()) <= 1e-5
    assert relative_error(ours.numpy(), ref.numpy()) <= 1e-5


def test_stft_very_short_signal_is_centred_like_librosa():
    y = make_signal("random", length=100)
    with pytest.warns(UserWarning, match="n_fft=512 is too large"):
        ref = librosa.stft(y, n_fft=512)
    with pytest.warns(UserWarning, match="n_fft=512 is too large"):
        ours = stft(torch.from_numpy(y), n_fft=512).numpy()
    assert ours.shape == ref.shape == (257, 1)  # 1 + (100 + 2 * 256 - 512) // 128
    assert relative_error(ours, ref) <= STFT_TOL[np.float32]


def test_stft_batch_equals_each_item():
    batch = torch.from_numpy(np.stack([make_signal(k) for k in ("random", "tone", "chirp")]))
    out = stft(batch.view(3, 1, -1), n_fft=256)  # any leading shape (..., samples)
    assert out.shape[:2] == (3, 1)
    for i in range(3):
        torch.testing.assert_close(out[i, 0], stft(batch[i], n_fft=256), rtol=0, atol=0)


# --- mel scale and filter bank -------------------------------------------------------------


@pytest.mark.parametrize("htk", [False, True])
def test_hz_mel_conversions_match_librosa(htk):
    freqs = np.array([0.0, 100.0, 999.0, 1000.0, 1001.0, 4000.0, 11025.0])
    np.testing.assert_allclose(hz_to_mel(freqs, htk).numpy(), librosa.hz_to_mel(freqs, htk=htk))
    mels = librosa.hz_to_mel(freqs, htk=htk)
    np.testing.assert_allclose(mel_to_hz(mels, htk).numpy(), freqs, atol=1e-9)


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None, 2.0, np.inf])
@pytest.mark.parametrize(
    "sr, n_fft, n_mels, fmin, fmax",
    [(22050, 2048, 128, 0.0, None), (16000, 511, 40, 20.0, 7600.0), (8000, 256, 20, 0.0, None)],
)
def test_mel_filterbank_matches_librosa(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    ref = librosa.filters.mel(
        sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm
    )
    ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    assert ours.dtype == torch.float32
    assert ours.shape == ref.shape == (n_mels, 1 + n_fft // 2)
    assert np.abs(ours.numpy() - ref).max() <= MEL_TOL


def test_mel_filterbank_warns_about_empty_filters_like_librosa():
    with pytest.warns(UserWarning, match="Empty filters"):
        mel_filterbank(8000, 64, n_mels=64)


# --- dB, DCT, MFCC -------------------------------------------------------------------------


def test_power_to_db_matches_librosa_including_zeros():
    S = np.abs(make_signal("random", length=600)).reshape(20, 30) ** 4
    S[3] = 0.0  # log(0): amin floors it at -100 dB
    for top_db in (80.0, None, 10.0):
        ref = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=top_db)
        ours = power_to_db(torch.from_numpy(S), top_db=top_db).numpy()
        assert np.abs(ours - ref).max() <= 1e-4  # dB, float32


def test_dct_matrix_is_scipy_orthonormal_dct2():
    import scipy.fft

    x = np.random.default_rng(1).standard_normal((40, 7))
    ref = scipy.fft.dct(x, type=2, norm="ortho", axis=0)
    np.testing.assert_allclose((dct_matrix(40, 40) @ torch.from_numpy(x)).numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["random", "tone", "silence", "chirp"])
@pytest.mark.parametrize(
    "n_fft, hop_length, n_mels, n_mfcc", [(512, 128, 40, 13), (511, 160, 64, 20)]
)
def test_mfcc_matches_librosa(kind, dtype, n_fft, hop_length, n_mels, n_mfcc):
    y = make_signal(kind, dtype=dtype)
    kwargs = dict(sr=8000, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    # librosa builds its mel basis in float32 unless told otherwise.
    ref = librosa.feature.mfcc(y=y, **kwargs, dtype=dtype)
    ours = mfcc(torch.from_numpy(y), **kwargs).numpy()
    assert ours.dtype == ref.dtype
    assert relative_error(ours, ref) <= MFCC_TOL[dtype]


def test_mfcc_of_silence_is_the_amin_floor():
    # Silence: power 0 -> 10 log10(1e-10) = -100 dB in every band; only c0 is non-zero.
    y = torch.zeros(2000)
    out = mfcc(y, sr=8000, n_fft=256, n_mels=40, n_mfcc=13)
    assert torch.isfinite(out).all()
    assert out[0].allclose(torch.tensor(float(-100.0 * np.sqrt(40))))
    assert out[1:].abs().max() < 1e-3


@pytest.mark.parametrize("length", [100, 300])
def test_mfcc_very_short_signal_matches_librosa(length):
    y = make_signal("random", length=length)
    with pytest.warns(UserWarning, match="too large"):
        ref = librosa.feature.mfcc(y=y, sr=8000, n_fft=512, hop_length=128, n_mels=40)
    with pytest.warns(UserWarning, match="too large"):
        ours = mfcc(torch.from_numpy(y), sr=8000, n_fft=512, hop_length=128, n_mels=40).numpy()
    assert relative_error(ours, ref) <= MFCC_TOL[np.float32]


def test_mfcc_options_match_librosa():
    y = make_signal("chirp")
    kwargs = dict(sr=8000, n_fft=400, hop_length=100, n_mels=32, fmin=50.0, fmax=3800.0)
    for extra in (dict(lifter=22), dict(htk=True), dict(window="hamming"), dict(center=False)):
        ref = librosa.feature.mfcc(y=y, **kwargs, **extra)
        ours = mfcc(torch.from_numpy(y), **kwargs, **extra).numpy()
        assert relative_error(ours, ref) <= MFCC_TOL[np.float32], extra


def test_mfcc_librosa_defaults():
    # The full default chain: sr=22050, n_fft=2048, hop=512, 128 mels, 20 coefficients.
    y = make_signal("random", length=22050, sr=22050)
    ref = librosa.feature.mfcc(y=y)
    ours = mfcc(torch.from_numpy(y)).numpy()
    assert ours.shape == ref.shape == (20, 44)
    assert relative_error(ours, ref) <= MFCC_TOL[np.float32]


def test_mfcc_batch_matches_librosa_per_item():
    # Each item keeps its own top_db floor (librosa would take the peak over the whole batch).
    batch = np.stack([make_signal(k) for k in ("random", "tone", "silence")])
    ours = mfcc(torch.from_numpy(batch), sr=8000, n_fft=256, n_mels=40).numpy()
    for i in range(3):
        ref = librosa.feature.mfcc(y=batch[i], sr=8000, n_fft=256, n_mels=40)
        assert relative_error(ours[i], ref) <= MFCC_TOL[np.float32]


def test_melspectrogram_matches_librosa():
    y = make_signal("chirp")
    ref = librosa.feature.melspectrogram(y=y, sr=8000, n_fft=512, hop_length=128, n_mels=40)
    ours = melspectrogram(torch.from_numpy(y), 8000, 512, 128, n_mels=40).numpy()
    assert relative_error(ours, ref) <= 1e-5


def test_tolerances_are_stated():
    assert set(TOLERANCES) == {"stft", "mel_filterbank", "mfcc"}
    for fn in (stft, mel_filterbank, mfcc):
        assert "Tolerance" in fn.__doc__


# --- bad inputs ----------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors():
    y = torch.from_numpy(make_signal("random", length=1000))
    with pytest.raises(
        TypeError, match="waveform must be a floating-point tensor, got torch.int64"
    ):
        stft(torch.arange(1000), n_fft=256)
    with pytest.raises(TypeError, match="waveform must be a torch.Tensor, got ndarray"):
        stft(y.numpy(), n_fft=256)
    with pytest.raises(ValueError, match="waveform is empty"):
        stft(torch.zeros(0), n_fft=256)
    with pytest.raises(ValueError, match="waveform contains NaN"):
        mfcc(torch.tensor([0.0, float("nan"), 1.0] * 100), sr=8000, n_fft=64, n_mels=10)
    with pytest.raises(ValueError, match=r"n_fft=2048 is longer than the signal \(1000 samples\)"):
        stft(y, n_fft=2048, center=False)
    with pytest.raises(ValueError, match="hop_length must be >= 1, got 0"):
        stft(y, n_fft=256, hop_length=0)
    with pytest.raises(ValueError, match="hop_length must be >= 1, got -4"):
        mfcc(y, sr=8000, n_fft=256, hop_length=-4, n_mels=20)
    with pytest.raises(ValueError, match="win_length must be <= n_fft=256, got 300"):
        stft(y, n_fft=256, win_length=300)
    with pytest.raises(ValueError, match="window must be one of 'hann'"):
        stft(y, n_fft=256, window="kaiser")
    with pytest.raises(ValueError, match="window must have win_length=256 samples, got 100"):
        stft(y, n_fft=256, window=torch.ones(100))
    with pytest.raises(ValueError, match="pad_mode must be one of 'constant'"):
        stft(y, n_fft=256, pad_mode="wrap")
    with pytest.raises(ValueError, match="pad_mode='reflect' needs a signal longer"):
        stft(y[:50], n_fft=256, pad_mode="reflect")
    with pytest.raises(ValueError, match=r"fmax must be <= sr / 2 = 4000 Hz .* got 5000"):
        mel_filterbank(8000, 256, fmax=5000)
    with pytest.raises(ValueError, match="fmin must be < fmax=1000, got 2000"):
        mel_filterbank(8000, 256, fmin=2000, fmax=1000)
    with pytest.raises(ValueError, match="n_mels must be >= 1, got 0"):
        mel_filterbank(8000, 256, n_mels=0)
    with pytest.raises(ValueError, match="sr must be a finite number > 0, got -8000"):
        mel_filterbank(-8000, 256)
    with pytest.raises(ValueError, match="norm must be 'slaney', None or a number"):
        mel_filterbank(8000, 256, norm="area")
    with pytest.raises(ValueError, match="n_mfcc must be <= n_mels=10, got 13"):
        mfcc(y, sr=8000, n_fft=256, n_mels=10, n_mfcc=13)
    with pytest.raises(ValueError, match="dct_type must be one of 2, got 3"):
        mfcc(y, sr=8000, n_fft=256, n_mels=20, dct_type=3)
    with pytest.raises(ValueError, match="amin must be a finite number > 0, got 0"):
        power_to_db(torch.ones(3, 3), amin=0.0)
    with pytest.raises(TypeError, match="n_fft must be an int, got float 512.0"):
        stft(y, n_fft=512.0)
