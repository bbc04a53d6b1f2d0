"""Make data/spoken_digits/: the digits 0-9 spoken by the espeak-ng speech synthesiser.

The kit never runs this script: it reads the files it wrote. Run it again only to rebuild
the data, from the repository root:

    apt-get install espeak-ng                      # Debian / Ubuntu; brew install espeak-ng
    .venv/bin/python data/make_spoken_digits.py    # --seed 0 --out data/spoken_digits

It writes two files:
    spoken_digits.npz   int16 waveforms at 8 kHz, one after another, with the offsets and
                        the label, voice, speed and pitch of each clip
    manifest.json       the espeak-ng version, the voices, and the exact command line of
                        every clip, so anyone can hear how a clip was made

Given the same seed and the same espeak-ng, librosa and numpy versions (recorded in the
manifest), the output is the same, byte for byte; it takes about 10 s.
"""

import argparse
import io
import json
import os
import subprocess
import tempfile
import wave
import zipfile
from pathlib import Path

import librosa
import numpy as np

SAMPLE_RATE = 8000  # Hz: telephone quality, like the Free Spoken Digit Dataset
MAX_SECONDS = 0.8  # every digit fits; longer clips (very slow voices) are cut
TRIM_TOP_DB = 35  # samples this far below the peak count as silence at either end
PEAK = 0.9  # each clip is scaled to this peak so the int16 range is used well
TAKES_PER_DIGIT = 2  # each voice says each digit this many times, at random speed/pitch
SPEED_RANGE = (130, 210)  # words per minute (espeak-ng's default is 175)
PITCH_RANGE = (20, 80)  # 0..99 (espeak-ng's default is 50)

ENGLISH = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Mandarin is given as tone-numbered pinyin to the cmn-latn-pinyin voice: in espeak-ng 1.51
# the plain "cmn" voice turns most Han digits (零, 一, ...) into pinyin and then reads that
# pinyin as English ("ling two"), which is not Mandarin.
MANDARIN = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")

# A voice is an accent (espeak-ng language) plus a variant (the speaker: formants, pitch,
# breathiness). The voice id is exactly the -v argument. AVDigits holds six of these out
# for testing (see mmkit/data/avdigits.py); their variants (m6, m7, f4, klatt3) are used by
# no training voice, so a test voice is a new speaker, not a known speaker with an accent.
VOICES = (
    # accent, variant
    ("en-us", "m1"), ("en-us", "f1"), ("en-us", "m3"), ("en-us", "klatt"),
    ("en-gb", "m2"), ("en-gb", "f2"), ("en-gb", "m4"), ("en-gb", "klatt2"),
    ("en-gb-scotland", "m5"), ("en-gb-scotland", "f3"),
    ("en-gb-x-rp", "m1"), ("en-gb-x-rp", "f1"), ("en-gb-x-rp", "klatt2"),
    ("en-gb-x-gbclan", "m3"), ("en-gb-x-gbclan", "f2"),
    ("en-gb-x-gbcwmd", "m4"), ("en-gb-x-gbcwmd", "f3"),
    ("en-029", "m2"), ("en-029", "klatt"),
    ("en-us-nyc", "m5"), ("en-us-nyc", "f1"),
    ("cmn-latn-pinyin", "m1"), ("cmn-latn-pinyin", "f2"), ("cmn-latn-pinyin", "m3"),
    # the voices AVDigits holds out for its test split
    ("en-us", "m6"), ("en-gb", "f4"), ("en-gb-scotland", "m7"), ("en-029", "klatt3"),
    ("en-us-nyc", "f4"), ("cmn-latn-pinyin", "m7"),
)  # fmt: skip


def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    # "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/..." -> keep the part before "Data at"
    return out.stdout.split("Data at")[0].strip()


def speak(command: list[str], wav_path: Path) -> np.ndarray:
    """Run one espeak-ng command that writes wav_path; return the audio as float in [-1, 1]."""
    subprocess.run(command, check=True, capture_output=True)
    with wave.open(str(wav_path), "rb") as f:
        if f.getsampwidth() != 2 or f.getnchannels() != 1:
            raise RuntimeError(f"{command}: expected 16-bit mono audio from espeak-ng")
        rate = f.getframerate()
        audio = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2") / 32768.0
    return librosa.resample(audio, orig_sr=rate, target_sr=SAMPLE_RATE)


def clean(audio: np.ndarray, what: str) -> np.ndarray:
    """Trim the silence at both ends, cut to MAX_SECONDS, scale to PEAK, check it is speech."""
    # Short frames (32 ms, hop 8 ms) so the cut lands close to where the word starts and ends.
    audio, _ = librosa.effects.trim(audio, top_db=TRIM_TOP_DB, frame_length=256, hop_length=64)
    audio = audio[: int(MAX_SECONDS * SAMPLE_RATE)]
    peak = np.abs(audio).max() if audio.size else 0.0
    duration = audio.size / SAMPLE_RATE
    # A word is at least ~0.15 s long; less (or a silent clip) means the voice failed.
    if peak < 1e-3 or duration < 0.15:
        raise RuntimeError(f"{what}: espeak-ng gave silence or a too-short clip ({duration:.2f} s)")
    return audio * (PEAK / peak)


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an .npz like np.savez_compressed, but byte-for-byte reproducible and atomically.

    np.savez stamps each member with the current time; a fixed date keeps a rerun from
    changing the file. Writing to a temporary file and renaming it means a crash never
    leaves half a file behind.
    """
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())
    os.chmod(tmp.name, 0o644)  # temporary files are private (0600); data files are not
    os.replace(tmp.name, path)


def save_json(path: Path, obj) -> None:
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8"
    ) as tmp:
        json.dump(obj, tmp, indent=1, ensure_ascii=False)
        tmp.write("\n")
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "spoken_digits")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(args.seed)
    voice_ids = [f"{accent}+{variant}" for accent, variant in VOICES]
    languages = ["cmn" if accent.startswith("cmn") else "en" for accent, _ in VOICES]
    clips, labels, voices, speeds, pitches, commands = [], [], [], [], [], []

    with tempfile.TemporaryDirectory() as workdir:
        wav_path = Path(workdir) / "clip.wav"
        for v, voice in enumerate(voice_ids):
            words = MANDARIN if languages[v] == "cmn" else ENGLISH
            for digit, word in enumerate(words):
                for _ in range(TAKES_PER_DIGIT):
                    speed = int(rng.integers(*SPEED_RANGE, endpoint=True))
                    pitch = int(rng.integers(*PITCH_RANGE, endpoint=True))
                    command = [
                        "espeak-ng",
                        "-v",
                        voice,
                        "-s",
                        str(speed),
                        "-p",
                        str(pitch),
                        "-w",
                        str(wav_path),
                        word,
                    ]
                    audio = clean(speak(command, wav_path), f"{voice} saying {word!r}")
                    clips.append(np.round(audio * 32767).astype(np.int16))
                    labels.append(digit)
                    voices.append(v)
                    speeds.append(speed)
                    pitches.append(pitch)
                    # Record the command with a neutral file name: the temp folder varies.
                    commands.append(" ".join(command).replace(str(wav_path), "clip.wav"))
            print(f"{voice:24s} {len(clips):4d} clips so far")

    # Clips differ in length, so they are stored end to end: clip i is
    # audio[offsets[i]:offsets[i + 1]]. This is half the size of padding all to 0.8 s.
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in clips])]).astype(np.int64)
    save_npz(args.out / "spoken_digits.npz", {
        "audio": np.concatenate(clips),
        "offsets": offsets,
        "label": np.array(labels, dtype=np.int8),
        "voice": np.array(voices, dtype=np.int16),
        "speed": np.array(speeds, dtype=np.int16),
        "pitch": np.array(pitches, dtype=np.int16),
        "voice_names": np.array(voice_ids),
        "voice_languages": np.array(languages),
        "sample_rate": np.array(SAMPLE_RATE),
    })  # fmt: skip
    save_json(args.out / "manifest.json", {
        "made_by": "data/make_spoken_digits.py",
        "seed": args.seed,
        "espeak_ng_version": espeak_version(),
        # The resampler can change a sample's last bit between versions; record them.
        "librosa_version": librosa.__version__,
        "numpy_version": np.__version__,
        "sample_rate": SAMPLE_RATE,
        "processing": (
            f"espeak-ng WAV -> librosa.resample to {SAMPLE_RATE} Hz -> librosa.effects.trim "
            f"(top_db={TRIM_TOP_DB}) -> cut to {MAX_SECONDS} s -> peak {PEAK} -> int16"
        ),
        "n_clips": len(clips),
        "words": {"en": list(ENGLISH), "cmn": list(MANDARIN)},
        "voices": [
            {"id": name, "language": lang}
            for name, lang in zip(voice_ids, languages, strict=True)
        ],
        "clips": [
            {"index": i, "label": labels[i], "voice": voice_ids[voices[i]], "command": commands[i]}
            for i in range(len(clips))
        ],
    })  # fmt: skip
    size = (args.out / "spoken_digits.npz").stat().st_size / 1e6
    print(f"wrote {len(clips)} clips from {len(voice_ids)} voices to {args.out} ({size:.2f} MB)")


if __name__ == "__main__":
    main()
