"""Lesson 02 self-checks: per-channel normalisation, STFT frames, the HTK mel scale, noise at an SNR."""

from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, run


def check_normalize(fn: Callable) -> Feedback:
    """Exercise: write ``normalize(images, mean, std)``, per channel, for (N, C, H, W) images."""

    def checks() -> str:
        generator = torch.Generator().manual_seed(0)
        images = torch.rand(4, 3, 5, 6, generator=generator)
        mean, std = torch.tensor([0.2, 0.5, 0.8]), torch.tensor([0.1, 0.2, 0.4])
        out = call(fn, images, mean, std)
        if out.shape != images.shape:
            raise Wrong(
                f"output shape {tuple(out.shape)} differs from the input's {tuple(images.shape)}: "
                "reshape mean and std to (1, C, 1, 1) so they broadcast over the channels"
            )
        expected = (images - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
        if torch.allclose(out, images * std.view(1, 3, 1, 1) + mean.view(1, 3, 1, 1)):
            raise Wrong("undoes a normalisation instead: subtract the mean, then divide by std")
        if torch.allclose(out, (images - mean.mean()) / std.mean()):
            raise Wrong("uses one mean and std for all channels: use each channel's own")
        if torch.allclose(out, images - mean.view(1, 3, 1, 1)):
            raise Wrong("subtracts the mean but forgets to divide by std")
        if not torch.allclose(out, expected, atol=1e-6):
            raise Wrong("values differ from (x - mean_c) / std_c for channel c")
        return "correct: every channel centred on its own mean and scaled by its own std"

    return run("normalize", checks)


def check_stft_frames(fn: Callable) -> Feedback:
    """Exercise: ``n_frames(n_samples, n_fft, hop, center=True)``, the number of STFT frames;
    checked against the shapes ``torch.stft`` really returns."""
    from mmkit.exercises.feedback import call_any, number

    cases = [(6400, 256, 64, True), (6400, 256, 64, False), (4000, 512, 128, True),
             (1000, 256, 100, False), (300, 256, 256, True), (256, 256, 64, False),
             (8000, 400, 160, True), (999, 128, 50, True)]

    def reference(n, n_fft, hop, center):
        frames = torch.stft(torch.zeros(n), n_fft, hop, window=torch.ones(n_fft), center=center,
                            pad_mode="constant", return_complex=True)
        return frames.shape[-1]

    slips = [  # typical mistakes, as the formula a learner who makes them would write
        (lambda n, k, h, c: 1 + (n - k) // h,
         "with center=True the signal is first padded by n_fft // 2 at each end"),
        (lambda n, k, h, c: (n + (2 * (k // 2) if c else 0) - k) // h,
         "count the first frame too (+ 1)"),
        (lambda n, k, h, c: n // h,
         "a frame is n_fft samples long, so it must fit whole; only its start moves by hop"),
    ]

    def checks() -> str:
        got = [number(call_any(fn, *case), "the number of frames") for case in cases]
        want = [reference(*case) for case in cases]
        if got == want:
            return "correct: 1 + (n_samples + padding - n_fft) // hop, as torch.stft gives"
        # Name a slip only when it explains every answer, not one lucky coincidence.
        why = next((why for slip, why in slips if got == [slip(*case) for case in cases]),
                   "1 + (length - n_fft) // hop, the length counting the padding")
        i = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        n, n_fft, hop, center = cases[i]
        raise Wrong(f"gives {got[i]:g} for {n} samples, n_fft={n_fft}, hop={hop}, "
                    f"center={center}, expected {want[i]}: {why}")

    return run("STFT frames", checks)


def check_htk_mel(to_mel: Callable, to_hz: Callable) -> Feedback:
    """Exercise: the HTK mel scale m = 2595 log10(1 + f / 700) and its inverse; checked
    against ``mmkit.scratch.audio.hz_to_mel(..., htk=True)`` (equal to librosa's)."""
    from mmkit.scratch.audio import hz_to_mel

    def checks() -> str:
        f = torch.tensor([0.0, 100.0, 700.0, 1000.0, 4000.0, 11025.0], dtype=torch.float64)
        mel = call(to_mel, f)
        want = hz_to_mel(f, htk=True)
        if mel.shape != f.shape:
            raise Wrong(f"hz_to_mel returns shape {tuple(mel.shape)} for {tuple(f.shape)} "
                        "frequencies: one mel value per frequency")
        if torch.allclose(mel, 2595 * torch.log(1 + f / 700), rtol=1e-6):
            raise Wrong("hz_to_mel uses the natural log; the formula has log10 (or 1127 * ln)")
        if abs(mel[2].item()) < 1e-6 or not torch.isfinite(mel[0]):
            raise Wrong("hz_to_mel forgets the 1 +: 0 Hz must be 0 mel, and 700 Hz is not 0 mel")
        if not torch.allclose(mel, want, rtol=1e-6, atol=1e-9):
            raise Wrong(f"hz_to_mel gives {[round(v, 1) for v in mel.tolist()]}, expected "
                        f"{[round(v, 1) for v in want.tolist()]}")
        back = call(to_hz, want)
        if not torch.allclose(back, f, rtol=1e-6, atol=1e-6):
            raise Wrong("mel_to_hz does not undo hz_to_mel: solve m = 2595 log10(1 + f/700) for "
                        "f: f = 700 (10^(m / 2595) - 1)")
        return "correct: 1000 Hz is about 1000 mel, and mel_to_hz undoes hz_to_mel"

    return run("HTK mel scale", checks)


def check_add_noise(fn: Callable) -> Feedback:
    """Exercise: ``add_noise(wave, snr_db, generator)``: Gaussian noise at an exact
    signal-to-noise ratio, 10 log10(P_signal / P_noise) = snr_db."""

    def checks() -> str:
        t = torch.arange(8000, dtype=torch.float64) / 8000
        wave = 0.5 * torch.sin(2 * torch.pi * 220 * t)
        for snr in (20.0, 0.0, -5.0):
            out = call(fn, wave.clone(), snr, torch.Generator().manual_seed(0))
            if out.shape != wave.shape:
                raise Wrong(f"returns shape {tuple(out.shape)}, expected {tuple(wave.shape)}")
            noise = out - wave
            if noise.abs().max() == 0:
                raise Wrong("adds no noise")
            got = 10 * torch.log10(wave.pow(2).mean() / noise.pow(2).mean()).item()
            if abs(got - snr) < 1e-6:
                continue
            if abs(got - 2 * snr) < 1e-6 or abs(got - snr / 2) < 1e-6:
                raise Wrong(f"gives an SNR of {got:.2f} dB for {snr:g} dB: powers use 10 log10, "
                            "amplitudes 20 log10; scale the noise's amplitude by the square "
                            "root of the power ratio")
            raise Wrong(f"gives an SNR of {got:.2f} dB, expected {snr:g} dB: P_noise = "
                        "P_signal / 10^(snr_db / 10), with P the mean of the squared samples "
                        "(measure the noise you drew, not its nominal std)")
        again = call(fn, wave.clone(), 10.0, torch.Generator().manual_seed(1))
        if torch.equal(again, call(fn, wave.clone(), 10.0, torch.Generator().manual_seed(2))):
            raise Wrong("ignores the generator: draw the noise with torch.randn(..., generator=generator)")
        return "correct: the SNR is exactly what was asked, at 20, 0 and -5 dB"

    return run("add_noise", checks)
