"""Loaders for real data you bring: image captions, spoken digits, video frames.

Each loader is a torch Dataset of dict samples, like the kit's own datasets:
    CocoCaptions       images + a COCO-captions JSON file   -> {"image", "captions", ...}
    Flickr8kCaptions   images + the Flickr8k token file     -> {"image", "captions", ...}
    SpokenDigitFolder  WAVs named {digit}_{speaker}_{index}.wav (Free Spoken Digit Dataset)
                                                            -> {"audio", "label", ...}
    VideoFrames        one folder of frame images per clip  -> {"video", ...}
    read_video_file    a video file (.mp4, .avi, ...) via PyAV, an optional extra

Every file is checked when the dataset is built, not in the middle of a training run: a
missing or unreadable file stops you at once with an error that names it. With
on_error="skip" the bad items are left out instead; `.skipped` lists them with the reason,
and a warning says how many there were.

Images come back as float32 tensors (3, H, W) in [0, 1]; audio as float32 (n,) in [-1, 1].
"""

import json
import os
import re
import warnings
import wave
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from mmkit.checks import check_choice, check_int

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
ON_ERROR = ("raise", "skip")


# ---------------------------------------------------------------------------------------
# Reading one file. Each reader names the file in its error: "could not read image X".


def read_image(path) -> torch.Tensor:
    """Read an image file as a float32 tensor (3, H, W) in [0, 1] (grey and RGBA -> RGB)."""
    from PIL import Image  # Pillow comes with matplotlib and torchvision

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
    except Exception as err:  # Pillow raises many kinds for a broken file
        raise ValueError(f"could not read image {path}: {err}") from err
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255.0


def check_image(path) -> tuple[int, int]:
    """Check that an image file exists and is intact without decoding it; return (W, H)."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    try:
        with Image.open(path) as image:
            size = image.size
            image.verify()  # reads the whole file and checks its structure, fast
    except Exception as err:
        raise ValueError(f"could not read image {path}: {err}") from err
    return size


def read_wav(path) -> tuple[np.ndarray, int]:
    """Read a PCM WAV file (8, 16, 24 or 32 bit) with the standard library.

    Returns (audio, sample_rate): audio is float32 (n,) in [-1, 1], channels averaged.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file {path} does not exist")
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            raw = f.readframes(f.getnframes())
    except (wave.Error, EOFError, OSError) as err:
        raise ValueError(
            f"could not read audio {path}: {err} (mmkit reads PCM WAV files; convert others "
            "with e.g. `ffmpeg -i in.flac out.wav`)"
        ) from err
    if width == 1:  # 8-bit WAV is unsigned: silence is 128
        audio = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        audio = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 2**15
    elif width == 3:  # 24-bit: put each 3-byte sample in the top of an int32
        bytes3 = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        padded = np.zeros((len(bytes3), 4), dtype=np.uint8)
        padded[:, 1:] = bytes3
        audio = padded.view("<i4").ravel().astype(np.float32) / 2**31
    elif width == 4:
        audio = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2**31
    else:
        raise ValueError(f"could not read audio {path}: {8 * width}-bit samples are not supported")
    if audio.size == 0:
        raise ValueError(f"audio file {path} holds no samples")
    return audio.reshape(-1, channels).mean(axis=1), rate


def read_video_file(path, max_frames: int | None = None) -> tuple[torch.Tensor, float]:
    """Read a video file with PyAV; return (frames, fps).

    frames is float32 (T, 3, H, W) in [0, 1]; max_frames stops after that many frames
    (a minute of video at 25 fps and 224×224 is already 1.1 GB as float32).
    PyAV is an optional extra: pip install "mmkit[video]".
    """
    try:
        import av  # imported here: it is optional, and only this function needs it
    except ImportError as err:
        raise ImportError(
            "read_video_file needs PyAV, an optional extra; install it with: "
            'pip install "mmkit[video]"'
        ) from err
    if max_frames is not None:
        check_int(max_frames, "max_frames", minimum=1)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video file {path} does not exist")
    frames = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"video file {path} has no video stream")
            stream = container.streams.video[0]
            fps = float(stream.average_rate) if stream.average_rate else float("nan")
            for frame in container.decode(stream):
                frames.append(torch.from_numpy(frame.to_ndarray(format="rgb24")))
                if max_frames is not None and len(frames) == max_frames:
                    break
    except av.error.FFmpegError as err:
        raise ValueError(f"could not read video {path}: {err}") from err
    if not frames:
        raise ValueError(f"video file {path} holds no frames")
    return torch.stack(frames).permute(0, 3, 1, 2).float() / 255.0, fps


# ---------------------------------------------------------------------------------------
# Helpers shared by the datasets.


def _folder(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got {type(value).__name__}")
    path = Path(value)
    if not path.is_dir():
        raise FileNotFoundError(f"{name}={str(value)!r} is not an existing folder")
    return path


def _file(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got {type(value).__name__}")
    path = Path(value)
    if not path.is_file():
        raise FileNotFoundError(f"{name}={str(value)!r} is not an existing file")
    return path


def _check_transform(transform):
    if transform is not None and not callable(transform):
        raise TypeError(f"transform must be callable or None, got {type(transform).__name__}")
    return transform


def natural_key(name: str) -> list:
    """Sort key that puts "frame9.png" before "frame10.png" (plain sorting does not)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _keep_good(dataset, items: list, check, on_error: str) -> list:
    """Run check(item) on each item; on failure raise, or skip and record why.

    Sets dataset.skipped to a list of (item description, reason) and warns if any.
    """
    kept, dataset.skipped = [], []
    for item in items:
        try:
            check(item)
        except (OSError, ValueError) as err:
            if on_error == "raise":
                raise
            dataset.skipped.append((_item_name(item), str(err)))
        else:
            kept.append(item)
    if dataset.skipped:
        warnings.warn(
            f"{type(dataset).__name__} skipped {len(dataset.skipped)} of {len(items)} items "
            f"that could not be read (listed in .skipped); first: {dataset.skipped[0][1]}",
            stacklevel=3,
        )
    return kept


def _item_name(item) -> str:
    return str(item["path"]) if isinstance(item, dict) else str(item)


# ---------------------------------------------------------------------------------------
# Image-caption datasets.


class _CaptionDataset(Dataset):
    """Shared part of the caption datasets: a list of {"path", "captions", ...} items."""

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        item = self.items[index]
        image = read_image(item["path"])
        if self.transform is not None:
            image = self.transform(image)
        return {
            **item,
            "image": image,
            "captions": list(item["captions"]),
            "path": str(item["path"]),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} images, {len(self.skipped)} skipped)"


class CocoCaptions(_CaptionDataset):
    """Images with their captions, described by a COCO-captions JSON file.

    The JSON file holds {"images": [{"id", "file_name"}, ...],
    "annotations": [{"image_id", "caption"}, ...]}; file names are relative to root.

    Each sample: {"image": float32 (3, H, W) (or what transform returns), "captions": list
    of str (all captions of that image, often 5), "image_id": int, "path": str}.
    Images differ in size, so pass a transform that resizes them before batching.
    A caption whose image_id is not in "images" is an error (on_error="raise") or skipped.
    """

    def __init__(self, root, annotations_json, transform=None, on_error: str = "raise"):
        self.root = _folder(root, "root")
        json_path = _file(annotations_json, "annotations_json")
        self.transform = _check_transform(transform)
        on_error = check_choice(on_error, "on_error", ON_ERROR)
        try:
            spec = json.loads(json_path.read_text(encoding="utf-8"))
            images = {int(im["id"]): str(im["file_name"]) for im in spec["images"]}
            captions = [(int(a["image_id"]), str(a["caption"])) for a in spec["annotations"]]
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"{json_path} is not a COCO-captions file ({type(err).__name__}: {err}); expected "
                '{"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}'
            ) from err

        by_image: dict[int, list[str]] = {image_id: [] for image_id in images}
        orphans = []
        for image_id, caption in captions:
            if image_id in by_image:
                by_image[image_id].append(caption)
            else:
                orphans.append(
                    f"{json_path}: a caption refers to image_id {image_id}, "
                    "which is not in its 'images' list"
                )
        if orphans and on_error == "raise":
            raise ValueError(
                orphans[0] + f' ({len(orphans)} such captions; on_error="skip" leaves them out)'
            )

        items = [
            {"image_id": image_id, "path": self.root / file_name, "captions": by_image[image_id]}
            for image_id, file_name in images.items()
        ]
        self.items = _keep_good(self, items, lambda item: check_image(item["path"]), on_error)
        if orphans:  # on_error == "skip": report them with the bad files
            self.skipped += [(str(json_path), reason) for reason in orphans]
            warnings.warn(
                f"CocoCaptions skipped {len(orphans)} captions of unknown images "
                "(listed in .skipped)",
                stacklevel=2,
            )


class Flickr8kCaptions(_CaptionDataset):
    """Images with their captions, described by the Flickr8k token file.

    Each line of the token file is "<file name>#<caption number>\\t<caption>", e.g.
    "1000268201_693b08cb0e.jpg#0\\tA child in a pink dress is climbing up ...".
    Image files are looked up in root.

    Each sample: {"image": float32 (3, H, W) (or what transform returns), "captions": list
    of str, "file_name": str, "path": str}.
    """

    def __init__(self, root, token_file, transform=None, on_error: str = "raise"):
        self.root = _folder(root, "root")
        token_path = _file(token_file, "token_file")
        self.transform = _check_transform(transform)
        on_error = check_choice(on_error, "on_error", ON_ERROR)

        by_image: dict[str, list[str]] = {}  # dicts keep the file's order
        lines = token_path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            key, tab, caption = line.partition("\t")
            file_name, hash_sign, _ = key.partition("#")
            if not tab or not hash_sign or not file_name:
                raise ValueError(
                    f"{token_path}, line {number}: expected '<file name>#<n>\\t<caption>', "
                    f"got {line[:80]!r}"
                )
            by_image.setdefault(file_name, []).append(caption.strip())

        items = [
            {"file_name": name, "path": self.root / name, "captions": captions}
            for name, captions in by_image.items()
        ]
        self.items = _keep_good(self, items, lambda item: check_image(item["path"]), on_error)


# ---------------------------------------------------------------------------------------
# Audio: the Free Spoken Digit Dataset layout.

FSDD_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[^_]+)_(?P<index>\d+)\.wav$", re.IGNORECASE)


class SpokenDigitFolder(Dataset):
    """A folder of spoken digits named like the Free Spoken Digit Dataset.

    File names are {digit}_{speaker}_{index}.wav, e.g. "7_jackson_32.wav". Clips whose
    rate differs from sample_rate are resampled (librosa). num_samples, if given, pads
    with silence or cuts every clip to that many samples, so that clips can be batched.

    Each sample: {"audio": float32 (n,) (or what transform returns), "label": int,
    "speaker": str, "sample_rate": int, "path": str}.
    Attributes: speakers (sorted names), labels (list of int), skipped.
    """

    def __init__(
        self,
        root,
        sample_rate: int = 8000,
        num_samples: int | None = None,
        transform=None,
        on_error: str = "raise",
    ):
        self.root = _folder(root, "root")
        self.sample_rate = check_int(sample_rate, "sample_rate", minimum=1)
        self.num_samples = (
            None if num_samples is None else check_int(num_samples, "num_samples", minimum=1)
        )
        self.transform = _check_transform(transform)
        on_error = check_choice(on_error, "on_error", ON_ERROR)

        paths = sorted(
            (p for p in self.root.iterdir() if p.suffix.lower() == ".wav"),
            key=lambda p: natural_key(p.name),
        )
        if not paths:
            raise ValueError(f"root={str(root)!r} holds no .wav files")
        self.paths = _keep_good(self, paths, self._check_file, on_error)
        names = [FSDD_NAME.match(p.name) for p in self.paths]
        self.labels = [int(m["digit"]) for m in names]
        self._speakers = [m["speaker"] for m in names]
        self.speakers = sorted(set(self._speakers))

    @staticmethod
    def _check_file(path: Path) -> None:
        if not FSDD_NAME.match(path.name):
            raise ValueError(
                f"{path} is not named {{digit}}_{{speaker}}_{{index}}.wav like 7_jackson_32.wav"
            )
        try:
            with wave.open(str(path), "rb") as f:
                if f.getnframes() == 0:
                    raise ValueError(f"audio file {path} holds no samples")
        except (wave.Error, EOFError) as err:
            raise ValueError(f"could not read audio {path}: {err}") from err

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict:
        audio, rate = read_wav(self.paths[index])
        if rate != self.sample_rate:
            import librosa  # imported here: it is slow to import and only needed here

            audio = librosa.resample(audio, orig_sr=rate, target_sr=self.sample_rate)
        if self.num_samples is not None:
            audio = np.pad(audio[: self.num_samples], (0, max(0, self.num_samples - len(audio))))
        audio = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        if self.transform is not None:
            audio = self.transform(audio)
        return {
            "audio": audio,
            "label": self.labels[index],
            "speaker": self._speakers[index],
            "sample_rate": self.sample_rate,
            "path": str(self.paths[index]),
        }

    def __repr__(self) -> str:
        return (
            f"SpokenDigitFolder({len(self)} clips, {len(self.speakers)} speakers, "
            f"{self.sample_rate} Hz, {len(self.skipped)} skipped)"
        )


# ---------------------------------------------------------------------------------------
# Video: a folder per clip, holding its frames as images.


class VideoFrames(Dataset):
    """Video clips stored as frame images: root/<clip>/<frame>.png, one folder per clip.

    Frames are sorted naturally ("frame9" before "frame10"). num_frames, if given, picks
    that many evenly spaced frames from each clip (repeating frames of a shorter clip), so
    that clips of different lengths can be batched. All frames of a clip must share a size.

    Each sample: {"video": float32 (T, 3, H, W) (or what transform returns), "clip": str
    (the folder name), "path": str}.
    """

    def __init__(
        self, root, num_frames: int | None = None, transform=None, on_error: str = "raise"
    ):
        self.root = _folder(root, "root")
        self.num_frames = (
            None if num_frames is None else check_int(num_frames, "num_frames", minimum=1)
        )
        self.transform = _check_transform(transform)
        on_error = check_choice(on_error, "on_error", ON_ERROR)

        folders = sorted(
            (p for p in self.root.iterdir() if p.is_dir()), key=lambda p: natural_key(p.name)
        )
        if not folders:
            raise ValueError(
                f"root={str(root)!r} holds no clip folders (one folder of frames per clip)"
            )
        self.clips = _keep_good(self, folders, self._check_clip, on_error)
        self._frames = [self._frame_files(folder) for folder in self.clips]

    @staticmethod
    def _frame_files(folder: Path) -> list[Path]:
        files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS]
        return sorted(files, key=lambda p: natural_key(p.name))

    def _check_clip(self, folder: Path) -> None:
        frames = self._frame_files(folder)
        if not frames:
            raise ValueError(
                f"clip folder {folder} holds no frame images ({', '.join(IMAGE_EXTENSIONS)})"
            )
        first = check_image(frames[0])
        for frame in frames[1:]:
            size = check_image(frame)
            if size != first:
                raise ValueError(
                    f"frame {frame} is {size[0]}×{size[1]}, but {frames[0]} is "
                    f"{first[0]}×{first[1]}; all frames of a clip must share a size"
                )

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict:
        frames = self._frames[index]
        if self.num_frames is not None:
            picks = np.linspace(0, len(frames) - 1, self.num_frames).round().astype(int)
            frames = [frames[i] for i in picks]
        video = torch.stack([read_image(frame) for frame in frames])
        if self.transform is not None:
            video = self.transform(video)
        return {"video": video, "clip": self.clips[index].name, "path": str(self.clips[index])}

    def __repr__(self) -> str:
        return f"VideoFrames({len(self)} clips, {len(self.skipped)} skipped)"
