"""AVDigits: a handwritten digit paired with a spoken digit of the same label.

A small, offline analogue of the AV-MNIST benchmark. The images are scikit-learn's
handwritten digits (8×8, shipped with scikit-learn); the sounds are the clips in
data/spoken_digits/, made once by data/make_spoken_digits.py with the espeak-ng speech
synthesiser over 30 voices (English accents and Mandarin), speeds and pitches.

Both modalities are split so that the test set measures generalisation, not memory:
- audio by *voice*: the six voices in TEST_VOICES are never heard in training; or, with
  held_out="accents", by *accent*: every voice of the accents in TEST_ACCENTS (Scottish
  and Caribbean English) is held out, so no voice with those accents is heard in training;
- images by *index*: the last 360 images (TEST_IMAGE_START onwards) are test images.
  The file is believed to be ordered by writer, so this block probably holds writers the
  training block lacks too, but scikit-learn ships no writer ids to prove it.

Example:
    >>> train = AVDigits("train", seed=0)
    >>> sample = train[0]
    >>> sample["image"].shape, sample["audio"].shape, sample["label"]
    (torch.Size([1, 8, 8]), torch.Size([6400]), 0)
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from mmkit.checks import check_choice, check_int, check_positive

DATA_FILE = "spoken_digits.npz"
MAKE_SCRIPT = "data/make_spoken_digits.py"

# The held-out voices. Their variants (m6, m7, f4, klatt3) belong to no training voice, and
# they cover American, British, Scottish, Caribbean and New York English and Mandarin.
TEST_VOICES = (
    "en-us+m6",
    "en-gb+f4",
    "en-gb-scotland+m7",
    "en-029+klatt3",
    "en-us-nyc+f4",
    "cmn-latn-pinyin+m7",
)
# The held-out accents (held_out="accents"): all 3 Scottish and all 3 Caribbean English voices.
# Mandarin stays in training: its digits are other words, which no English voice teaches.
TEST_ACCENTS = ("en-gb-scotland", "en-029")
HELD_OUT = ("voices", "accents")
TEST_IMAGE_START = 1437  # images 0..1436 train, 1437..1796 test (an 80/20 split)
CLIP_SECONDS = 0.8  # every clip is padded with silence to this length, so batches stack


def default_root() -> Path:
    """data/spoken_digits in the kit's data folder (found from the package, any cwd)."""
    from mmkit.files import data_dir

    return data_dir() / "spoken_digits"


# The accents of the data file, by their espeak-ng codes (see data/README.md), in words.
ACCENT_NAMES = {
    "en-us": "American English",
    "en-us-nyc": "New York English",
    "en-gb": "British English",
    "en-gb-x-rp": "Received Pronunciation",
    "en-gb-x-gbclan": "Lancaster English",
    "en-gb-x-gbcwmd": "West Midlands English",
    "en-gb-scotland": "Scottish English",
    "en-029": "Caribbean English",
    "cmn-latn-pinyin": "Mandarin",
}


def accent(voice: str) -> str:
    """The accent (espeak-ng language) of a voice id: "en-gb-scotland+m5" -> "en-gb-scotland"."""
    return voice.split("+")[0]


def accent_name(code: str) -> str:
    """An accent's code in words: "en-029" -> "Caribbean English" (a voice id works too)."""
    if not isinstance(code, str):
        raise TypeError(f"code must be an accent code (str) such as 'en-029', got {type(code).__name__}")
    code = accent(code)
    if code not in ACCENT_NAMES:
        raise ValueError(f"unknown accent {code!r}; the data has {sorted(ACCENT_NAMES)}")
    return ACCENT_NAMES[code]


def is_test_voice(voice: str, held_out: str = "voices") -> bool:
    """Whether a voice belongs to the test split: one of TEST_VOICES (held_out="voices"),
    or any voice of an accent in TEST_ACCENTS (held_out="accents")."""
    check_choice(held_out, "held_out", HELD_OUT)
    return voice in TEST_VOICES if held_out == "voices" else accent(voice) in TEST_ACCENTS


def _padded_clip(data: dict, c: int, n_audio: int) -> torch.Tensor:
    """Clip c of the data file as float32 in [-1, 1], padded with silence (or cut) to n_audio."""
    out = torch.zeros(n_audio)
    clip = data["audio"][data["offsets"][c] : data["offsets"][c + 1]][:n_audio]
    out[: len(clip)] = torch.from_numpy(clip / 32768.0)
    return out


def spoken_digit_clips(split: str = "train", held_out: str = "voices", root=None) -> dict:
    """Every clip of a split exactly once, for audio-only tasks (no images, no repeats).

    AVDigits pairs each *image* with a clip, so its 360 test samples reuse the 120 test
    clips about three times each; a test of an audio model should count each clip once.
    Returns {"audio": float32 (n, n_audio) at 8 kHz, 0.8 s, padded with silence,
    "label": int64 (n,), "voice": list of n voice ids, "accent": list of n accents}.
    held_out: "voices" (TEST_VOICES) or "accents" (every voice of TEST_ACCENTS).
    """
    check_choice(split, "split", ("train", "test"))
    check_choice(held_out, "held_out", HELD_OUT)
    data = load_spoken_digits(root)
    names = [str(name) for name in data["voice_names"]]
    n_audio = int(round(CLIP_SECONDS * int(data["sample_rate"])))
    voices = [names[v] for v in data["voice"]]
    rows = [c for c, voice in enumerate(voices) if is_test_voice(voice, held_out) == (split == "test")]
    return {
        "audio": torch.stack([_padded_clip(data, c, n_audio) for c in rows]),
        "label": torch.from_numpy(data["label"][rows].astype(np.int64)),
        "voice": [voices[c] for c in rows],
        "accent": [accent(voices[c]) for c in rows],
    }


def load_spoken_digits(root=None) -> dict[str, np.ndarray]:
    """Read data/spoken_digits/spoken_digits.npz into a dict of numpy arrays.

    Clip i is ``audio[offsets[i]:offsets[i + 1]]`` (int16), spoken by
    ``voice_names[voice[i]]``; see data/README.md for every array.
    """
    folder = default_root() if root is None else Path(root)
    path = folder / DATA_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"the spoken digits file {path} does not exist; make it with "
            f"`python {MAKE_SCRIPT}` (needs espeak-ng), or pass root= the folder that holds "
            f"{DATA_FILE}"
        )
    with np.load(path, allow_pickle=False) as npz:
        data = {name: npz[name] for name in npz.files}
    needed = {"audio", "offsets", "label", "voice", "voice_names", "sample_rate"}
    if not needed <= data.keys():
        raise ValueError(
            f"{path} lacks the arrays {sorted(needed - data.keys())}; rebuild it with "
            f"`python {MAKE_SCRIPT}`"
        )
    return data


class AVDigits(Dataset):
    """Handwritten digit + spoken digit of the same label, as dict samples.

    Args:
        split: "train" or "test" (disjoint voices and disjoint images).
        held_out: which voices the test split holds: "voices" (the six TEST_VOICES,
            accents also heard in training) or "accents" (every Scottish and Caribbean
            English voice, TEST_ACCENTS: accents never heard in training).
        seed: chooses which clip goes with which image, the n_per_class subset and the
            noise. Same seed, same dataset.
        n_per_class: keep only this many images of each digit (None: all of the split's).
        image_noise, audio_noise: std of Gaussian noise added to the image (values in [0, 1]
            before noise) and to the waveform (in [-1, 1] before noise). The noise of
            sample i is fixed by (seed, i): reading a sample twice gives the same values.
            Values are not clipped, so the noise has exactly the std you asked for.
        root: the folder holding spoken_digits.npz (default: the kit's data/spoken_digits).
        image_size: side of the returned image; 8 is the original, larger is upsampled
            (bilinear), e.g. 28 to look like MNIST.

    Each sample is a dict:
        "image": float32 (1, image_size, image_size) in [0, 1] (plus noise)
        "audio": float32 (n_audio,) waveform at sample_rate Hz, n_audio = 0.8 s worth
        "label": int, the digit 0..9 (both modalities say it)
        "voice": str, the espeak-ng voice that spoke it, e.g. "en-gb-scotland+m5"
        "sample_rate": int, 8000

    Attributes: sample_rate, voices (this split's voices), labels (n,) int64,
    image_indices and clip_indices (n,) — which scikit-learn image and which clip each
    sample uses.
    """

    def __init__(
        self,
        split: str = "train",
        seed: int = 0,
        n_per_class: int | None = None,
        image_noise: float = 0.0,
        audio_noise: float = 0.0,
        root=None,
        image_size: int = 8,
        held_out: str = "voices",
    ):
        self.split = check_choice(split, "split", ("train", "test"))
        self.held_out = check_choice(held_out, "held_out", HELD_OUT)
        self.seed = check_int(seed, "seed")
        if n_per_class is not None:
            check_int(n_per_class, "n_per_class", minimum=1)
        self.image_noise = check_positive(image_noise, "image_noise", allow_zero=True)
        self.audio_noise = check_positive(audio_noise, "audio_noise", allow_zero=True)
        self.image_size = check_int(image_size, "image_size", minimum=8)

        data = load_spoken_digits(root)
        self.sample_rate = int(data["sample_rate"])
        self.n_audio = int(round(CLIP_SECONDS * self.sample_rate))
        names = [str(name) for name in data["voice_names"]]
        unknown = sorted(set(TEST_VOICES) - set(names))
        if unknown:
            raise ValueError(
                f"the spoken digits file lacks the test voices {unknown}; rebuild it with "
                f"`python {MAKE_SCRIPT}`"
            )
        test_voice = np.array([is_test_voice(name, held_out) for name in names])
        in_split = test_voice if split == "test" else ~test_voice
        self.voices = [name for name, keep in zip(names, in_split, strict=True) if keep]

        # Audio: this split's clips, padded with silence (or cut) to n_audio samples.
        clip_ids = np.flatnonzero(in_split[data["voice"]])
        self._clips = torch.stack([_padded_clip(data, c, self.n_audio) for c in clip_ids])
        clip_labels = data["label"][clip_ids].astype(np.int64)
        self._clip_voices = [names[v] for v in data["voice"][clip_ids]]

        # Images: this split's block of scikit-learn's digits, optionally fewer per class.
        from sklearn.datasets import load_digits  # imported here: sklearn is slow to import

        digits = load_digits()
        all_indices = np.arange(len(digits.target))
        block = (
            all_indices >= TEST_IMAGE_START if split == "test" else all_indices < TEST_IMAGE_START
        )
        rng = np.random.default_rng(self.seed)
        image_indices = []
        for digit in range(10):
            candidates = all_indices[block & (digits.target == digit)]
            if n_per_class is not None:
                if n_per_class > len(candidates):
                    raise ValueError(
                        f"n_per_class={n_per_class}, but the {split} split has only "
                        f"{len(candidates)} images of the digit {digit}"
                    )
                candidates = np.sort(rng.choice(candidates, size=n_per_class, replace=False))
            image_indices.append(candidates)
        self.image_indices = np.sort(np.concatenate(image_indices))
        self.labels = torch.from_numpy(digits.target[self.image_indices].astype(np.int64))

        # Pairing: each image gets a clip of the same digit, drawn at random from the split.
        clips_of = {digit: np.flatnonzero(clip_labels == digit) for digit in range(10)}
        rows = np.array([rng.choice(clips_of[int(y)]) for y in self.labels])
        self._clip_rows = rows
        self.clip_indices = clip_ids[rows]

        images = torch.from_numpy(digits.images[self.image_indices] / 16.0).float().unsqueeze(1)
        if self.image_size != 8:
            images = F.interpolate(
                images, size=self.image_size, mode="bilinear", align_corners=False
            )
        self._images = images

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for AVDigits of length {len(self)}")
        index = index % len(self)
        image = self._images[index].clone()
        audio = self._clips[self._clip_rows[index]].clone()
        # Noise drawn from (seed, index, modality): fixed per sample, and changing one
        # modality's noise level leaves the other modality's noise unchanged.
        if self.image_noise > 0:
            rng = np.random.default_rng([self.seed, index, 0])
            image += torch.from_numpy(rng.normal(0.0, self.image_noise, image.shape)).float()
        if self.audio_noise > 0:
            rng = np.random.default_rng([self.seed, index, 1])
            audio += torch.from_numpy(rng.normal(0.0, self.audio_noise, audio.shape)).float()
        return {
            "image": image,
            "audio": audio,
            "label": int(self.labels[index]),
            "voice": self._clip_voices[self._clip_rows[index]],
            "sample_rate": self.sample_rate,
        }

    def __repr__(self) -> str:
        s = self.image_size
        return (
            f"AVDigits(split={self.split!r}, "
            + ("" if self.held_out == "voices" else f"held_out={self.held_out!r}, ")
            + f"{len(self)} samples, {len(self.voices)} voices, "
            f"image 1×{s}×{s}, audio {self.n_audio} samples at {self.sample_rate} Hz)"
        )
