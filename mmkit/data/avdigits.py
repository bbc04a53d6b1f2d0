"""AVDigits: a handwritten digit paired with a spoken digit of the same label.

A small, offline analogue of the AV-MNIST benchmark. The images are scikit-learn's
handwritten digits (8×8, shipped with scikit-learn); the sounds are the clips in
data/spoken_digits/, made once by data/make_spoken_digits.py with the espeak-ng speech
synthesiser over 30 voices (English accents and Mandarin), speeds and pitches.

Both modalities are split so that the test set measures generalisation, not memory:
- audio by *voice*: the six voices in TEST_VOICES are never heard in training;
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
TEST_IMAGE_START = 1437  # images 0..1436 train, 1437..1796 test (an 80/20 split)
CLIP_SECONDS = 0.8  # every clip is padded with silence to this length, so batches stack


def default_root() -> Path:
    """data/spoken_digits in the kit's data folder (found from the package, any cwd)."""
    from mmkit.files import data_dir

    return data_dir() / "spoken_digits"


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
    ):
        self.split = check_choice(split, "split", ("train", "test"))
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
        is_test_voice = np.array([name in TEST_VOICES for name in names])
        in_split = is_test_voice if split == "test" else ~is_test_voice
        self.voices = [name for name, keep in zip(names, in_split, strict=True) if keep]

        # Audio: this split's clips, padded with silence (or cut) to n_audio samples.
        clip_ids = np.flatnonzero(in_split[data["voice"]])
        self._clips = torch.zeros(len(clip_ids), self.n_audio)
        for row, c in enumerate(clip_ids):
            clip = data["audio"][data["offsets"][c] : data["offsets"][c + 1]][: self.n_audio]
            self._clips[row, : len(clip)] = torch.from_numpy(clip / 32768.0)
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
            f"AVDigits(split={self.split!r}, {len(self)} samples, {len(self.voices)} voices, "
            f"image 1×{s}×{s}, audio {self.n_audio} samples at {self.sample_rate} Hz)"
        )
