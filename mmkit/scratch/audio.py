"""Audio features from scratch: STFT, mel filter bank, mel spectrogram, dB, MFCC.

Lesson 02 builds these live, one step at a time::

    waveform --frame--> frames --window--> --FFT--> spectrum --|.|^2--> power spectrogram
        --mel matrix--> mel spectrogram --log (dB)--> log-mel --DCT-II--> MFCC

Every function mirrors a librosa function with the same argument names and defaults, and
returns the same numbers (tested; the tolerances are in each docstring and in ``TOLERANCES``).
The maths runs in float64 inside, so a float32 result is rounded once, at the end.

Shapes: a waveform is (samples,) or a batch (..., samples); a spectrogram is
(..., n_freq, n_frames) with n_freq = 1 + n_fft // 2, like librosa.
"""

import math
import warnings

import torch
import torch.nn.functional as F

from mmkit.checks import check_choice, check_int, check_positive, check_tensor

# Measured agreement with librosa 0.11 (see tests/test_scratch_audio.py), quoted by the notebook.
TOLERANCES = {
    "stft": "max |ours - librosa.stft| <= 1e-6 * max |librosa.stft| (float32), 1e-12 (float64)",
    "mel_filterbank": "max |ours - librosa.filters.mel| <= 1e-6 (slaney and htk)",
    "mfcc": "max |ours - librosa.feature.mfcc| <= 1e-5 * max |librosa| (float32), 1e-12 (float64)",
}

WINDOWS = ("hann", "hamming", "blackman", "boxcar")
PAD_MODES = ("constant", "reflect", "edge")


# ---------------------------------------------------------------------------------------
# 1. Short-time Fourier transform
# ---------------------------------------------------------------------------------------


def get_window(window, win_length: int, dtype=torch.float64) -> torch.Tensor:
    """The analysis window, periodic like ``scipy.signal.get_window(window, N, fftbins=True)``.

    "Periodic" means the window is one sample of a period longer than its length, so that
    overlapping windows add up to a constant: what an FFT-based analysis wants.
    ``window`` is a name ("hann", "hamming", "blackman", "boxcar") or a 1-D tensor.
    """
    if isinstance(window, torch.Tensor):
        check_tensor(window, "window", floating=True, ndim=1)
        if window.shape[0] != win_length:
            raise ValueError(
                f"window must have win_length={win_length} samples, got {window.shape[0]}"
            )
        return window.to(dtype)
    check_choice(window, "window", WINDOWS)
    if window == "boxcar":
        return torch.ones(win_length, dtype=dtype)
    make = {
        "hann": torch.hann_window,
        "hamming": torch.hamming_window,
        "blackman": torch.blackman_window,
    }[window]
    return make(win_length, periodic=True, dtype=dtype)


def _pad_edges(x: torch.Tensor, pad: int, mode: str) -> torch.Tensor:
    """Pad ``pad`` samples at both ends of the last axis (numpy names: constant/reflect/edge)."""
    if mode == "constant":
        return F.pad(x, (pad, pad))  # zeros
    if mode == "reflect" and pad >= x.shape[-1]:
        raise ValueError(
            f"pad_mode='reflect' needs a signal longer than n_fft // 2 = {pad} samples, "
            f"got {x.shape[-1]}; use pad_mode='constant'"
        )
    # torch pads in 'reflect'/'replicate' mode only (batch, channel, time) tensors.
    flat = x.reshape(-1, 1, x.shape[-1])
    flat = F.pad(flat, (pad, pad), mode="reflect" if mode == "reflect" else "replicate")
    return flat.reshape(*x.shape[:-1], flat.shape[-1])


def stft(
    waveform: torch.Tensor,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Short-time Fourier transform. Mirrors ``librosa.stft`` (and ``torch.stft``).

    waveform: (samples,) or (..., samples), float. Returns a complex tensor
    (..., 1 + n_fft // 2, n_frames): complex64 for float32 input, complex128 for float64.
    Frame t covers samples [t * hop_length, t * hop_length + n_fft) of the (padded) signal.

    Defaults as in librosa 0.11: win_length = n_fft, hop_length = win_length // 4,
    a periodic Hann window, center=True with zero ("constant") padding.

    Tolerance: max |ours - librosa.stft| <= 1e-6 * max |librosa.stft| in float32
    (1e-12 in float64); the same against ``torch.stft`` with the same window and padding.
    """
    check_tensor(waveform, "waveform", floating=True, min_ndim=1)
    n_fft = check_int(n_fft, "n_fft", minimum=1)
    win_length = n_fft if win_length is None else check_int(win_length, "win_length", minimum=1)
    if win_length > n_fft:
        raise ValueError(f"win_length must be <= n_fft={n_fft}, got {win_length}")
    hop_length = win_length // 4 if hop_length is None else hop_length
    hop_length = check_int(hop_length, "hop_length", minimum=1)
    check_choice(pad_mode, "pad_mode", PAD_MODES)
    n_samples = waveform.shape[-1]

    x = waveform.to(torch.float64)

    # Step 0 - centre: pad n_fft // 2 samples at each end so that frame t is centred on
    # sample t * hop_length (and the first frame on sample 0).
    if center:
        x = _pad_edges(x, n_fft // 2, pad_mode)
        if n_fft > n_samples:
            warnings.warn(
                f"n_fft={n_fft} is too large for input signal of length={n_samples}",
                stacklevel=2,
            )
    elif n_fft > n_samples:
        raise ValueError(
            f"n_fft={n_fft} is longer than the signal ({n_samples} samples) and center=False, "
            "so not even one frame fits; use a smaller n_fft or center=True"
        )

    # Step 1 - frame: cut overlapping slices of n_fft samples, hop_length apart.
    frames = x.unfold(-1, n_fft, hop_length)  # (..., n_frames, n_fft)

    # Step 2 - window: taper each frame to zero at its edges, so the FFT does not see the
    # jump between its two ends (spectral leakage). A window shorter than n_fft is
    # centred and padded with zeros, as librosa.util.pad_center does.
    w = get_window(window, win_length).to(x.device)
    left = (n_fft - win_length) // 2
    w = F.pad(w, (left, n_fft - win_length - left))
    frames = frames * w

    # Step 3 - FFT: the DFT of each frame, X[k] = sum_n x[n] exp(-2 pi i k n / n_fft).
    # A real signal has a mirror-symmetric spectrum, so rfft keeps only k = 0 .. n_fft // 2.
    spectrum = torch.fft.rfft(frames, n=n_fft, dim=-1)  # (..., n_frames, n_freq)

    # librosa puts frequency before time: (..., n_freq, n_frames).
    spectrum = spectrum.transpose(-1, -2)
    out_dtype = torch.complex128 if waveform.dtype == torch.float64 else torch.complex64
    return spectrum.to(out_dtype)


# ---------------------------------------------------------------------------------------
# 2. The mel scale and the mel filter bank
# ---------------------------------------------------------------------------------------

# Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3  # Hz per mel in the linear part
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # = 15 mel
_LOGSTEP = math.log(6.4) / 27.0  # mel step in the log part


def hz_to_mel(frequencies, htk: bool = False) -> torch.Tensor:
    """Hz -> mel. Mirrors ``librosa.hz_to_mel`` (Slaney by default, HTK if htk=True)."""
    f = torch.as_tensor(frequencies, dtype=torch.float64)
    if htk:
        return 2595.0 * torch.log10(1.0 + f / 700.0)
    linear = f / _F_SP
    log = _MIN_LOG_MEL + torch.log(f.clamp(min=_MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return torch.where(f >= _MIN_LOG_HZ, log, linear)


def mel_to_hz(mels, htk: bool = False) -> torch.Tensor:
    """mel -> Hz, the inverse of ``hz_to_mel``. Mirrors ``librosa.mel_to_hz``."""
    m = torch.as_tensor(mels, dtype=torch.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    linear = _F_SP * m
    log = _MIN_LOG_HZ * torch.exp(_LOGSTEP * (m - _MIN_LOG_MEL))
    return torch.where(m >= _MIN_LOG_MEL, log, linear)


def mel_filterbank(
    sr: float,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm="slaney",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Triangular mel filters, shape (n_mels, 1 + n_fft // 2). Mirrors ``librosa.filters.mel``.

    Row m is a triangle over the FFT bins that rises from mel point m to m + 1 and falls
    to m + 2, the n_mels + 2 points being equally spaced on the mel scale between fmin and
    fmax (default sr / 2). ``mel_filterbank(...) @ power_spectrogram`` is the mel spectrogram.

    norm="slaney" scales each triangle to unit area (about equal energy per band);
    norm=None leaves peaks at 1; a number p scales each row to unit l_p norm.

    Tolerance: max |ours - librosa.filters.mel| <= 1e-6 for slaney and htk scales.
    """
    sr = check_positive(sr, "sr")
    n_fft = check_int(n_fft, "n_fft", minimum=1)
    n_mels = check_int(n_mels, "n_mels", minimum=1)
    fmin = check_positive(fmin, "fmin", allow_zero=True)
    nyquist = sr / 2
    fmax = nyquist if fmax is None else check_positive(fmax, "fmax")
    if fmax > nyquist:
        raise ValueError(
            f"fmax must be <= sr / 2 = {nyquist:g} Hz (the highest frequency a signal sampled "
            f"at sr={sr:g} can hold), got {fmax:g}"
        )
    if fmin >= fmax:
        raise ValueError(f"fmin must be < fmax={fmax:g}, got {fmin:g}")
    if not (norm is None or norm == "slaney" or isinstance(norm, (int, float))):
        raise ValueError(f"norm must be 'slaney', None or a number (l_p norm), got {norm!r}")

    # The centre frequency of each FFT bin: 0, sr / n_fft, 2 sr / n_fft, ..., sr / 2.
    fft_freqs = torch.arange(1 + n_fft // 2, dtype=torch.float64) * sr / n_fft

    # n_mels + 2 points equally spaced in mel, converted back to Hz: the triangles' corners.
    mel_points = torch.linspace(
        hz_to_mel(fmin, htk).item(), hz_to_mel(fmax, htk).item(), n_mels + 2, dtype=torch.float64
    )
    hz_points = mel_to_hz(mel_points, htk)

    # Each triangle is the smaller of a rising and a falling line, clipped at zero.
    lower, centre, upper = hz_points[:-2, None], hz_points[1:-1, None], hz_points[2:, None]
    rising = (fft_freqs - lower) / (centre - lower)
    falling = (upper - fft_freqs) / (upper - centre)
    weights = torch.clamp(torch.minimum(rising, falling), min=0.0)  # (n_mels, n_freq)

    if norm == "slaney":
        # Divide by half the triangle's base width: each filter then has unit area in Hz.
        weights = weights * (2.0 / (hz_points[2:] - hz_points[:-2]))[:, None]
    elif norm is not None:
        row_norms = torch.linalg.vector_norm(weights, ord=float(norm), dim=1, keepdim=True)
        weights = weights / torch.where(row_norms > 0, row_norms, torch.ones_like(row_norms))

    # A filter narrower than one FFT bin catches no bin at all: say so, as librosa does.
    if not torch.all((mel_points[:-2] == 0) | (weights.amax(dim=1) > 0)):
        warnings.warn(
            "Empty filters detected in mel frequency basis. Some channels will produce empty "
            "responses. Try increasing your sampling rate (and fmax) or reducing n_mels.",
            stacklevel=2,
        )
    return weights.to(dtype)


# ---------------------------------------------------------------------------------------
# 3. Mel spectrogram, decibels, MFCC
# ---------------------------------------------------------------------------------------


def melspectrogram(
    waveform: torch.Tensor,
    sr: float = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm="slaney",
) -> torch.Tensor:
    """Mel spectrogram (..., n_mels, n_frames). Mirrors ``librosa.feature.melspectrogram``.

    |STFT| ** power (power=2: energy), then each frame's spectrum times the mel matrix.
    """
    power = check_positive(power, "power")
    spectrum = stft(waveform, n_fft, hop_length, win_length, window, center, pad_mode)
    magnitude = spectrum.to(torch.complex128).abs() ** power  # (..., n_freq, n_frames)
    mel = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm, dtype=torch.float64)
    mel = mel.to(magnitude.device)
    return (mel @ magnitude).to(waveform.dtype)


def power_to_db(
    S: torch.Tensor, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> torch.Tensor:
    """10 log10(max(S, amin) / ref), floored at top_db below the peak. Mirrors ``librosa.power_to_db``.

    ``amin`` keeps log(0) away: silence becomes 10 log10(1e-10) = -100 dB, not -inf.
    ``top_db`` clips everything more than top_db below the loudest value, so a few
    near-silent bins do not dominate. The peak is taken per spectrogram (over the last two
    axes), so each item of a batch is treated alone; for one spectrogram this is librosa's
    behaviour (librosa takes the peak over the whole array, batch included).
    """
    check_tensor(S, "S", floating=True, min_ndim=1)
    amin = check_positive(amin, "amin")
    ref = check_positive(abs(ref), "ref")
    x = S.to(torch.float64)
    db = 10.0 * torch.log10(torch.clamp(x, min=amin)) - 10.0 * math.log10(max(amin, ref))
    if top_db is not None:
        top_db = check_positive(top_db, "top_db", allow_zero=True)
        peak_axes = tuple(range(-min(db.dim(), 2), 0))
        peak = db.amax(dim=peak_axes, keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db.to(S.dtype)


def dct_matrix(n_out: int, n_in: int, dtype=torch.float64) -> torch.Tensor:
    """The orthonormal DCT-II as a matrix (n_out, n_in), like ``scipy.fft.dct(norm='ortho')``.

    Row k is the cosine cos(pi k (n + 1/2) / N) over n = 0 .. N - 1, scaled to unit length:
    sqrt(1 / N) for k = 0 (the constant row), sqrt(2 / N) otherwise.
    """
    n = torch.arange(n_in, dtype=torch.float64)
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    basis = torch.cos(math.pi * k * (n + 0.5) / n_in) * math.sqrt(2.0 / n_in)
    basis[0] /= math.sqrt(2.0)
    return basis.to(dtype)


def mfcc(
    waveform: torch.Tensor,
    sr: float = 22050,
    n_mfcc: int = 20,
    dct_type: int = 2,
    norm: str = "ortho",
    lifter: float = 0.0,
    mel_norm="slaney",
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """Mel-frequency cepstral coefficients (..., n_mfcc, n_frames). Mirrors ``librosa.feature.mfcc``.

    mel power spectrogram -> power_to_db(ref=1.0, amin=1e-10, top_db=80) -> DCT-II (ortho)
    along the mel axis, keeping the first n_mfcc coefficients. The DCT decorrelates the
    mel bands: coefficient 0 is the overall loudness, the next ones the spectral envelope.
    lifter > 0 boosts the higher coefficients by 1 + (lifter / 2) sin(pi k / lifter).

    Tolerance: max |ours - librosa.feature.mfcc| <= 1e-5 * max |librosa.feature.mfcc| in
    float32, 1e-12 * max |...| in float64 (with librosa's mel basis in float64 too).
    """
    check_tensor(waveform, "waveform", floating=True, min_ndim=1)
    n_mfcc = check_int(n_mfcc, "n_mfcc", minimum=1)
    check_choice(dct_type, "dct_type", (2,))
    check_choice(norm, "norm", ("ortho",))
    lifter = check_positive(lifter, "lifter", allow_zero=True)
    n_mels = check_int(n_mels, "n_mels", minimum=1)
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc must be <= n_mels={n_mels}, got {n_mfcc}")

    mel = melspectrogram(
        waveform.to(torch.float64),
        sr, n_fft, hop_length, win_length, window, center, pad_mode,
        n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=mel_norm,
    )  # fmt: skip
    log_mel = power_to_db(mel, ref=1.0, amin=1e-10, top_db=top_db)

    # DCT-II along the mel axis: (n_mfcc, n_mels) @ (..., n_mels, n_frames).
    coefficients = dct_matrix(n_mfcc, n_mels).to(log_mel.device) @ log_mel

    if lifter > 0:
        k = torch.arange(1, n_mfcc + 1, dtype=torch.float64, device=log_mel.device)
        coefficients = coefficients * (1 + (lifter / 2) * torch.sin(math.pi * k / lifter))[:, None]
    return coefficients.to(waveform.dtype)
