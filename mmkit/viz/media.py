"""Pictures, video frames and sound: panels that can be replaced in place, and WAV bytes."""

import io
import wave

import numpy as np

from mmkit.viz.arrays import as_float_array


def _to_numpy_image(x) -> np.ndarray:
    """(C, H, W) or (H, W) tensor/array -> what imshow wants: (H, W, C) or (H, W)."""
    x = as_float_array(x)
    if x.ndim == 3:
        x = x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)
    return x


def frame_strip(video) -> np.ndarray:
    """(T, C, H, W) frames side by side as one (C, H, T*W + gaps) picture."""
    video = as_float_array(video)
    t, c, h, w = video.shape
    gap = np.ones((c, h, 1))  # a white line between frames
    pieces = []
    for i in range(t):
        pieces += [video[i], gap] if i < t - 1 else [video[i]]
    return np.concatenate(pieces, axis=2)


class ImagePanel:
    """An image (C, H, W tensor, or a 2-D map such as a spectrogram) that can be replaced."""

    def __init__(self, ax, image, title: str = "", **imshow_kwargs):
        self.ax = ax
        data = _to_numpy_image(image)
        if data.ndim == 3:
            data = np.clip(data, 0, 1)  # RGB must lie in [0, 1]; noise can push it out
        options = {"interpolation": "nearest", "aspect": "equal", **imshow_kwargs}
        self.artist = ax.imshow(data, **options)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])

    def update(self, image) -> None:
        data = _to_numpy_image(image)
        self.artist.set_data(np.clip(data, 0, 1) if data.ndim == 3 else data)


class Waveform:
    """A waveform against time in seconds, replaceable in place."""

    def __init__(self, ax, audio, sample_rate: int):
        self.ax = ax
        self.sample_rate = sample_rate
        (self.line,) = ax.plot([], [], linewidth=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("time (s)")
        ax.set_title("waveform", fontsize=10)
        self.update(audio)

    def update(self, audio) -> None:
        y = as_float_array(audio)
        t = np.arange(len(y)) / self.sample_rate
        self.line.set_data(t, y)
        self.ax.set_xlim(0, max(t[-1], 1e-3) if len(t) else 1)


def wav_bytes(audio, sample_rate: int) -> bytes:
    """A mono waveform in [-1, 1] as the bytes of a 16-bit WAV file (for ipywidgets.Audio)."""
    y = as_float_array(audio)
    pcm = (np.clip(y, -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
