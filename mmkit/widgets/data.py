"""Lesson 02 explorer: one ShapesWorld scene in all four modalities."""

import ipywidgets as widgets

from mmkit import viz
from mmkit.widgets.explorer import SLIDER_STYLE, Explorer


def data_browser(seed: int = 0, n: int = 64, image_size: int = 32) -> Explorer:
    """One ShapesWorld scene in all four modalities at once; pick a sample and a noise level.

    The image, the video frames, the waveform with its log-mel spectrogram, and the caption
    all describe the same scene; the noise slider corrupts every modality at once (pixel
    noise, waveform noise, dropped words), which is what the fusion lessons fight against.
    An audio player plays the scene's sound.
    """
    from mmkit.demo_models import shapes_world_scene
    from mmkit.preprocess.audio import log_mel

    def scene(index: int, noise: float) -> dict:
        return shapes_world_scene(index, noise, n=n, image_size=image_size, seed=seed)

    first = scene(0, 0.0)
    frames = first["video"].shape[0]
    controls = {
        "index": widgets.IntSlider(value=0, min=0, max=n - 1, description="sample", style=SLIDER_STYLE),
        "noise": widgets.FloatSlider(
            value=0.0, min=0.0, max=0.5, step=0.05, description="noise", style=SLIDER_STYLE
        ),
    }
    fig, _ = viz.new_figure(9, 4.4, ncols=0)
    grid = fig.add_gridspec(2, 3)
    ax_image, ax_video = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1:])
    ax_wave, ax_mel = fig.add_subplot(grid[1, :2]), fig.add_subplot(grid[1, 2])
    sample_rate = 8000
    plots = {
        "image": viz.ImagePanel(ax_image, first["image"], "image"),
        "video": viz.ImagePanel(ax_video, viz.frame_strip(first["video"]), f"video: {frames} frames"),
        "waveform": viz.Waveform(ax_wave, first["audio"], sample_rate),
        "spectrogram": viz.ImagePanel(
            ax_mel, log_mel(first["audio"], sample_rate, n_mels=32, n_fft=256), "log-mel (dB)",
            cmap="magma", origin="lower", vmin=-80, vmax=0, aspect="auto",
        ),
    }
    player = widgets.Audio(format="wav", autoplay=False, loop=False)
    # Every scene has the same size and length, so the axes never change: draw them once,
    # then only the pictures (with the frames they cover), the waveform and the caption.
    caption = fig.suptitle(" ")
    images = [plots[name] for name in ("image", "video", "spectrogram")]
    viz.redraw_only(fig, [*(panel.artist for panel in images),
                          *(spine for panel in images for spine in panel.ax.spines.values()),
                          plots["waveform"].line, caption])

    def draw(index, noise):
        sample = scene(index, noise)
        plots["image"].update(sample["image"])
        plots["video"].update(viz.frame_strip(sample["video"]))
        plots["waveform"].update(sample["audio"])
        plots["spectrogram"].update(log_mel(sample["audio"], sample_rate, n_mels=32, n_fft=256))
        fig.suptitle(f"caption: \u201c{sample['text']}\u201d")
        player.value = viz.wav_bytes(sample["audio"], sample_rate)
        truth = ", ".join(f"{k}={v}" for k, v in sample["attributes"].items()
                          if k in ("shape", "colour", "size", "direction"))
        return f"sample {index}: {truth}"

    return Explorer(controls, fig, plots, draw, extras=(player,))
