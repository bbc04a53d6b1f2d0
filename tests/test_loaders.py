"""Loaders for user data, on tiny fixtures written into tmp_path: each format loads, a
missing or corrupt file is named in the error, and on_error="skip" counts what it skips."""

import json
import os
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmkit.data.loaders import (
    CocoCaptions,
    Flickr8kCaptions,
    SpokenDigitFolder,
    VideoFrames,
    natural_key,
    read_image,
    read_video_file,
    read_wav,
)

# ------------------------------------------------------------------ fixtures' helpers


def write_png(path, color=(255, 0, 0), size=(5, 4)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)


def write_garbage(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8).tobytes())


def write_wav(path, seconds=0.25, rate=8000, width=2, channels=1, freq=440.0):
    """A sine at half scale, written with the standard library."""
    t = np.arange(int(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    x = np.repeat(x[:, None], channels, axis=1)
    if width == 1:
        raw = np.round(x * 127 + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = np.round(x * 32767).astype("<i2").tobytes()
    elif width == 3:
        raw = np.round(x * 2**23).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = np.round(x * (2**31 - 1)).astype("<i4").tobytes()
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(raw)
    return x[:, 0]


@pytest.fixture
def coco(tmp_path):
    """Two good images, one missing, one corrupt, and their captions."""
    write_png(tmp_path / "img" / "a.png", (255, 0, 0))
    write_png(tmp_path / "img" / "b.png", (0, 0, 255), size=(6, 3))
    write_garbage(tmp_path / "img" / "corrupt.png")
    spec = {
        "images": [
            {"id": 1, "file_name": "a.png"},
            {"id": 2, "file_name": "b.png"},
            {"id": 3, "file_name": "missing.png"},
            {"id": 4, "file_name": "corrupt.png"},
        ],
        "annotations": [
            {"image_id": 1, "caption": "a red square"},
            {"image_id": 2, "caption": "a blue box"},
            {"image_id": 1, "caption": "red all over"},
            {"image_id": 3, "caption": "nothing"},
        ],
    }
    (tmp_path / "captions.json").write_text(json.dumps(spec))
    return tmp_path, spec


def good_only(tmp_path, spec):
    spec = {**spec, "images": spec["images"][:2]}
    spec["annotations"] = [a for a in spec["annotations"] if a["image_id"] <= 2]
    path = tmp_path / "good.json"
    path.write_text(json.dumps(spec))
    return path


# ------------------------------------------------------------------ readers


def test_read_image_gives_float_rgb_in_0_1(tmp_path):
    write_png(tmp_path / "x.png", (255, 128, 0), size=(5, 4))
    image = read_image(tmp_path / "x.png")
    assert image.dtype == torch.float32 and image.shape == (3, 4, 5)
    assert torch.allclose(image[:, 0, 0], torch.tensor([1.0, 128 / 255, 0.0]))
    Image.new("L", (3, 2), 51).save(tmp_path / "grey.png")
    assert torch.allclose(read_image(tmp_path / "grey.png"), torch.full((3, 2, 3), 0.2))


def test_read_image_names_the_missing_or_corrupt_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.png"):
        read_image(tmp_path / "nothing.png")
    write_garbage(tmp_path / "noise.jpg")
    with pytest.raises(ValueError, match=r"could not read image .*noise\.jpg"):
        read_image(tmp_path / "noise.jpg")


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_read_wav_every_pcm_width(tmp_path, width):
    expected = write_wav(tmp_path / "x.wav", width=width, channels=2)
    audio, rate = read_wav(tmp_path / "x.wav")
    assert rate == 8000 and audio.dtype == np.float32 and audio.shape == expected.shape
    assert np.abs(audio - expected).max() < 0.01


def test_read_video_file_without_pyav_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "av", None)  # makes `import av` fail, as if not installed
    with pytest.raises(ImportError, match=r'pip install "mmkit\[video\]"'):
        read_video_file(tmp_path / "clip.mp4")


def test_natural_key_puts_9_before_10():
    names = ["frame10.png", "frame9.png", "frame1.png"]
    assert sorted(names, key=natural_key) == ["frame1.png", "frame9.png", "frame10.png"]


# ------------------------------------------------------------------ captions


def test_coco_captions_load(coco):
    root, spec = coco
    ds = CocoCaptions(root / "img", good_only(root, spec))
    assert len(ds) == 2 and ds.skipped == []
    first = ds[0]
    assert first["image_id"] == 1
    assert first["captions"] == ["a red square", "red all over"]
    assert first["image"].shape == (3, 4, 5)
    assert torch.allclose(first["image"][:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert ds[1]["image"].shape == (3, 3, 6)
    assert first["path"].endswith("a.png")


def test_coco_transform_is_applied_to_the_image(coco):
    root, spec = coco
    ds = CocoCaptions(root / "img", good_only(root, spec), transform=lambda x: x[:, :2, :2])
    assert ds[1]["image"].shape == (3, 2, 2)


def test_coco_missing_file_is_named(coco):
    root, spec = coco
    spec = {**spec, "images": spec["images"][:3]}  # a.png, b.png, missing.png
    (root / "c.json").write_text(json.dumps(spec))
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        CocoCaptions(root / "img", root / "c.json")


def test_coco_corrupt_file_is_named(coco):
    root, spec = coco
    spec = {**spec, "images": [spec["images"][0], spec["images"][3]], "annotations": []}
    (root / "c.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=r"could not read image .*corrupt\.png"):
        CocoCaptions(root / "img", root / "c.json")


def test_coco_skip_mode_counts_bad_files(coco):
    root, _ = coco
    with pytest.warns(UserWarning, match="skipped 2 of 4"):
        ds = CocoCaptions(root / "img", root / "captions.json", on_error="skip")
    assert len(ds) == 2
    assert sorted(os.path.basename(path) for path, _ in ds.skipped) == [
        "corrupt.png",
        "missing.png",
    ]


def test_coco_caption_of_an_unknown_image(coco):
    root, spec = coco
    spec = good_only(root, spec)
    data = json.loads(spec.read_text())
    data["annotations"].append({"image_id": 99, "caption": "lost"})
    spec.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"image_id 99"):
        CocoCaptions(root / "img", spec)
    with pytest.warns(UserWarning, match="skipped 1 captions"):
        ds = CocoCaptions(root / "img", spec, on_error="skip")
    assert len(ds) == 2 and len(ds.skipped) == 1


def test_coco_bad_json_is_named(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json is not a COCO-captions file"):
        CocoCaptions(tmp_path, tmp_path / "broken.json")
    (tmp_path / "nokeys.json").write_text(json.dumps({"images": []}))
    with pytest.raises(ValueError, match=r"nokeys\.json is not a COCO-captions file"):
        CocoCaptions(tmp_path, tmp_path / "nokeys.json")


def test_flickr8k_captions_load_and_group(tmp_path):
    write_png(tmp_path / "1000_a.jpg", (0, 255, 0))
    write_png(tmp_path / "2000_b.jpg", (0, 0, 0))
    (tmp_path / "Flickr8k.token.txt").write_text(
        "1000_a.jpg#0\tA green field .\n"
        "1000_a.jpg#1\tGrass everywhere .\n"
        "\n"
        "2000_b.jpg#0\tA dark night .\n"
    )
    ds = Flickr8kCaptions(tmp_path, tmp_path / "Flickr8k.token.txt")
    assert len(ds) == 2
    assert ds[0]["captions"] == ["A green field .", "Grass everywhere ."]
    assert ds[0]["file_name"] == "1000_a.jpg"
    green = torch.tensor([0.0, 1.0, 0.0])
    assert torch.allclose(ds[0]["image"][:, 0, 0], green, atol=0.02)  # JPEG is lossy
    assert ds[1]["captions"] == ["A dark night ."]


def test_flickr8k_bad_line_and_skip_mode(tmp_path):
    write_png(tmp_path / "ok.jpg")
    write_garbage(tmp_path / "bad.jpg")
    token = tmp_path / "tokens.txt"
    token.write_text("ok.jpg#0\tfine\nbad.jpg#0\tbroken\ngone.jpg#0\tmissing\n")
    with pytest.raises(ValueError, match=r"bad\.jpg"):
        Flickr8kCaptions(tmp_path, token)
    with pytest.warns(UserWarning, match="skipped 2 of 3"):
        ds = Flickr8kCaptions(tmp_path, token, on_error="skip")
    assert len(ds) == 1 and len(ds.skipped) == 2
    token.write_text("ok.jpg#0\tfine\nok.jpg a caption without a tab\n")
    with pytest.raises(ValueError, match=r"tokens\.txt, line 2"):
        Flickr8kCaptions(tmp_path, token)


def test_the_kit_photographs_load_as_coco_captions():
    images = Path(__file__).resolve().parents[1] / "data" / "images"
    ds = CocoCaptions(images, images / "captions.json")
    assert len(ds) >= 3 and ds.skipped == []
    for i in range(len(ds)):
        sample = ds[i]
        assert sample["image"].shape[0] == 3 and max(sample["image"].shape[1:]) <= 256
        assert len(sample["captions"]) >= 2


# ------------------------------------------------------------------ spoken digits


def test_spoken_digit_folder_loads_fsdd_names(tmp_path):
    write_wav(tmp_path / "7_jackson_0.wav")
    write_wav(tmp_path / "3_theo_12.wav", seconds=0.1)
    write_wav(tmp_path / "3_theo_2.wav", seconds=0.5, rate=16000)  # resampled to 8 kHz
    (tmp_path / "README.txt").write_text("not audio, ignored")
    ds = SpokenDigitFolder(tmp_path)
    assert len(ds) == 3
    assert ds.labels == [3, 3, 7] and ds.speakers == ["jackson", "theo"]
    first = ds[0]
    assert first["path"].endswith("3_theo_2.wav")  # natural order: 2 before 12
    assert first["audio"].dtype == torch.float32 and first["audio"].shape == (4000,)
    assert first["label"] == 3 and first["speaker"] == "theo" and first["sample_rate"] == 8000
    assert ds[1]["audio"].shape == (800,)
    fixed = SpokenDigitFolder(tmp_path, num_samples=1000)
    assert [fixed[i]["audio"].shape[0] for i in range(3)] == [1000] * 3
    assert torch.all(fixed[1]["audio"][800:] == 0)


def test_spoken_digit_folder_bad_files(tmp_path):
    write_wav(tmp_path / "1_ann_0.wav")
    write_garbage(tmp_path / "2_ann_0.wav")
    write_wav(tmp_path / "hello.wav")
    with pytest.raises(ValueError, match=r"could not read audio .*2_ann_0\.wav"):
        SpokenDigitFolder(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 of 3"):
        ds = SpokenDigitFolder(tmp_path, on_error="skip")
    assert len(ds) == 1
    reasons = dict(ds.skipped)
    assert "is not named {digit}_{speaker}_{index}.wav" in reasons[str(tmp_path / "hello.wav")]
    (tmp_path / "1_ann_0.wav").unlink()
    with pytest.raises(FileNotFoundError, match=r"audio file .*1_ann_0\.wav does not exist"):
        ds[0]


# ------------------------------------------------------------------ video frames


def write_clip(folder, n, size=(4, 3)):
    for i in range(1, n + 1):
        write_png(folder / f"frame{i}.png", (10 * i, 0, 0), size=size)


def test_video_frames_load_in_natural_order(tmp_path):
    write_clip(tmp_path / "clip2", 3)
    write_clip(tmp_path / "clip10", 12)
    ds = VideoFrames(tmp_path)
    assert [ds[i]["clip"] for i in range(2)] == ["clip2", "clip10"]
    video = ds[1]["video"]
    assert video.dtype == torch.float32 and video.shape == (12, 3, 3, 4)
    red = (video[:, 0, 0, 0] * 255).round().tolist()
    assert red == [10.0 * i for i in range(1, 13)]  # frame9 before frame10
    short = VideoFrames(tmp_path, num_frames=5)
    assert short[0]["video"].shape == (5, 3, 3, 4)  # 3 frames, some repeated
    assert (short[1]["video"][:, 0, 0, 0] * 255).round().tolist() == [10, 40, 70, 90, 120]


def test_video_frames_bad_clips(tmp_path):
    write_clip(tmp_path / "good", 2)
    (tmp_path / "empty").mkdir()
    write_clip(tmp_path / "mixed", 2)
    write_png(tmp_path / "mixed" / "frame3.png", size=(8, 8))
    write_clip(tmp_path / "rotten", 2)
    write_garbage(tmp_path / "rotten" / "frame2.png")
    with pytest.raises(ValueError, match=r"empty holds no frame images"):
        VideoFrames(tmp_path)
    with pytest.warns(UserWarning, match="skipped 3 of 4"):
        ds = VideoFrames(tmp_path, on_error="skip")
    assert [clip.name for clip in ds.clips] == ["good"]
    reasons = " ".join(reason for _, reason in ds.skipped)
    assert "frame3.png is 8×8" in reasons and str(Path("rotten") / "frame2.png") in reasons


# ------------------------------------------------------------------ arguments


def test_bad_arguments_are_named(tmp_path, coco):
    root, _ = coco
    with pytest.raises(ValueError, match=r"on_error must be one of 'raise', 'skip', got 'ignore'"):
        CocoCaptions(root / "img", root / "captions.json", on_error="ignore")
    with pytest.raises(FileNotFoundError, match=r"root='.*nowhere' is not an existing folder"):
        SpokenDigitFolder(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"annotations_json='.*none\.json'"):
        CocoCaptions(root, root / "none.json")
    with pytest.raises(FileNotFoundError, match=r"token_file="):
        Flickr8kCaptions(root, root / "none.txt")
    with pytest.raises(TypeError, match=r"root must be a path"):
        VideoFrames(42)
    with pytest.raises(TypeError, match=r"transform must be callable"):
        CocoCaptions(root / "img", root / "captions.json", transform="resize")
    with pytest.raises(ValueError, match=r"sample_rate must be >= 1"):
        SpokenDigitFolder(root, sample_rate=0)
    with pytest.raises(ValueError, match=r"holds no \.wav files"):
        SpokenDigitFolder(root)
    with pytest.raises(ValueError, match=r"num_frames must be >= 1"):
        VideoFrames(root, num_frames=0)
