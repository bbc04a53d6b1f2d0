"""AVDigits: voice- and image-disjoint splits, matching labels, seeded pairing and noise."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader

from mmkit.data.avdigits import (
    TEST_ACCENTS,
    TEST_IMAGE_START,
    TEST_VOICES,
    AVDigits,
    accent,
    accent_name,
    default_root,
    is_test_voice,
    load_spoken_digits,
    spoken_digit_clips,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def train():
    return AVDigits("train", seed=0)


@pytest.fixture(scope="module")
def test():
    return AVDigits("test", seed=0)


@pytest.fixture(scope="module")
def raw():
    return load_spoken_digits()


def clip_voices(dataset, raw):
    """The voice of every sample's clip, read from the data file, not from the dataset."""
    return {str(raw["voice_names"][v]) for v in raw["voice"][dataset.clip_indices]}


def test_no_test_voice_is_heard_in_training(train, test, raw):
    assert set(train.voices).isdisjoint(test.voices)
    assert set(test.voices) == set(TEST_VOICES)
    assert clip_voices(train, raw).isdisjoint(TEST_VOICES)
    assert clip_voices(test, raw) <= set(TEST_VOICES)
    assert {train[i]["voice"] for i in range(len(train))}.isdisjoint(TEST_VOICES)


def test_enough_voices_in_both_languages(raw, train, test):
    names = [str(n) for n in raw["voice_names"]]
    assert len(set(names)) >= 20
    for voices in (train.voices, test.voices):
        assert any(v.startswith("en") for v in voices)
        assert any(v.startswith("cmn") for v in voices)


def test_no_handwritten_image_is_shared_between_splits(train, test):
    assert set(train.image_indices.tolist()).isdisjoint(test.image_indices.tolist())
    assert train.image_indices.max() < TEST_IMAGE_START <= test.image_indices.min()
    assert len(train) + len(test) == 1797
    # Other seeds and subsets stay inside their own block.
    small = AVDigits("test", seed=5, n_per_class=10)
    assert set(small.image_indices.tolist()) <= set(test.image_indices.tolist())


def test_image_and_audio_labels_agree(train, test, raw):
    digits = load_digits()
    for dataset in (train, test):
        labels = dataset.labels.numpy()
        assert np.array_equal(digits.target[dataset.image_indices], labels)
        assert np.array_equal(raw["label"][dataset.clip_indices], labels)
        assert [dataset[i]["label"] for i in range(0, len(dataset), 37)] == labels[::37].tolist()


def test_samples_hold_the_real_data(test, raw):
    sample = test[5]
    assert set(sample) == {"image", "audio", "label", "voice", "sample_rate"}
    assert sample["image"].dtype == sample["audio"].dtype == torch.float32
    assert sample["image"].shape == (1, 8, 8)
    assert sample["audio"].shape == (test.n_audio,) == (6400,)
    assert sample["sample_rate"] == test.sample_rate == 8000
    digits = load_digits()
    expected = digits.images[test.image_indices[5]] / 16.0
    assert torch.allclose(sample["image"][0], torch.from_numpy(expected).float())
    c = test.clip_indices[5]
    clip = raw["audio"][raw["offsets"][c] : raw["offsets"][c + 1]] / 32768.0
    assert torch.allclose(sample["audio"][: len(clip)], torch.from_numpy(clip).float())
    assert torch.all(sample["audio"][len(clip) :] == 0)  # padded with silence


def test_batches_stack_and_upsampling(test):
    big = AVDigits("test", image_size=28)
    batch = next(iter(DataLoader(big, batch_size=4)))
    assert batch["image"].shape == (4, 1, 28, 28)
    assert batch["audio"].shape == (4, 6400)
    assert batch["label"].tolist() == test.labels[:4].tolist()
    assert float(big[0]["image"].min()) >= 0 and float(big[0]["image"].max()) <= 1


def test_same_seed_same_data_other_seed_other_pairing():
    a = AVDigits("train", seed=3, n_per_class=20, image_noise=0.1, audio_noise=0.1)
    b = AVDigits("train", seed=3, n_per_class=20, image_noise=0.1, audio_noise=0.1)
    c = AVDigits("train", seed=4, n_per_class=20, image_noise=0.1, audio_noise=0.1)
    assert np.array_equal(a.clip_indices, b.clip_indices)
    assert np.array_equal(a.image_indices, b.image_indices)
    for i in (0, 7, 199):
        assert torch.equal(a[i]["image"], b[i]["image"])
        assert torch.equal(a[i]["audio"], b[i]["audio"])
    assert not np.array_equal(a.clip_indices, c.clip_indices)
    assert not np.array_equal(a.image_indices, c.image_indices)


def test_n_per_class():
    ds = AVDigits("train", n_per_class=7)
    assert len(ds) == 70
    assert torch.bincount(ds.labels).tolist() == [7] * 10


@pytest.mark.parametrize(("image_std", "audio_std"), [(0.2, 0.0), (0.0, 0.05), (0.3, 0.1)])
def test_noise_has_the_requested_std(image_std, audio_std):
    clean = AVDigits("test", image_size=32)
    noisy = AVDigits("test", image_size=32, image_noise=image_std, audio_noise=audio_std)
    idx = range(0, 360, 9)  # 40 samples: 40 * 1024 pixels, 40 * 6400 audio samples
    d_image = torch.stack([noisy[i]["image"] - clean[i]["image"] for i in idx])
    d_audio = torch.stack([noisy[i]["audio"] - clean[i]["audio"] for i in idx])
    assert float(d_image.std()) == pytest.approx(image_std, rel=0.03, abs=1e-7)
    assert float(d_audio.std()) == pytest.approx(audio_std, rel=0.03, abs=1e-7)
    assert float(d_image.mean()) == pytest.approx(0.0, abs=0.01)
    # The noise of a sample is fixed: reading it again gives the same values.
    assert torch.equal(noisy[4]["audio"], noisy[4]["audio"])


def test_one_modality_noise_leaves_the_other_alone():
    both = AVDigits("test", image_noise=0.2, audio_noise=0.1)
    audio_only = AVDigits("test", audio_noise=0.1)
    assert torch.equal(both[3]["audio"], audio_only[3]["audio"])
    assert not torch.equal(both[3]["image"], audio_only[3]["image"])


def test_missing_data_file_names_the_path_and_the_script(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"spoken_digits\.npz.*make_spoken_digits\.py"):
        AVDigits(root=tmp_path)


def test_data_file_without_the_test_voices_is_refused(tmp_path, raw):
    keep = dict(raw)
    keep["voice_names"] = np.array([f"voice{i}" for i in range(len(raw["voice_names"]))])
    np.savez(tmp_path / "spoken_digits.npz", **keep)
    with pytest.raises(ValueError, match="lacks the test voices"):
        AVDigits(root=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"split": "valid"}, ValueError, r"split must be one of 'train', 'test', got 'valid'"),
        ({"image_noise": -0.1}, ValueError, r"image_noise must be a finite number >= 0"),
        ({"audio_noise": float("nan")}, ValueError, r"audio_noise must be a finite number"),
        ({"audio_noise": "loud"}, TypeError, r"audio_noise must be a number"),
        ({"seed": 1.5}, TypeError, r"seed must be an int"),
        ({"n_per_class": 0}, ValueError, r"n_per_class must be >= 1"),
        ({"split": "test", "n_per_class": 50}, ValueError, r"only \d+ images of the digit"),
        ({"image_size": 4}, ValueError, r"image_size must be >= 8"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        AVDigits(**kwargs)


def test_index_out_of_range(test):
    with pytest.raises(IndexError, match="out of range"):
        test[len(test)]


def test_shipped_data_size_and_manifest(raw):
    folder = DATA / "spoken_digits"
    assert folder == default_root()
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    print(f"data/spoken_digits: {size:.2f} MB")
    assert size <= 8.0
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["espeak_ng_version"].startswith("eSpeak NG")
    assert manifest["n_clips"] == len(raw["label"]) == len(raw["offsets"]) - 1
    for clip in manifest["clips"][::50]:
        assert clip["command"].startswith(f"espeak-ng -v {clip['voice']} -s ")
    for image in (DATA / "images").glob("*.jpg"):
        assert image.stat().st_size <= 100_000, image


def test_held_out_accents_are_never_heard_in_training(raw):
    train_set, test_set = AVDigits("train", held_out="accents"), AVDigits("test", held_out="accents")
    train_accents = {accent(v) for v in train_set.voices}
    assert {accent(v) for v in test_set.voices} == set(TEST_ACCENTS)
    assert train_accents.isdisjoint(TEST_ACCENTS)
    assert "cmn-latn-pinyin" in train_accents  # Mandarin's digits are other words: trained on
    assert {accent(test_set[i]["voice"]) for i in range(len(test_set))} <= set(TEST_ACCENTS)
    # Every voice of a held-out accent in the data file is in the test split.
    names = [str(n) for n in raw["voice_names"]]
    assert set(test_set.voices) == {n for n in names if accent(n) in TEST_ACCENTS}
    assert "held_out='accents'" in repr(test_set) and "held_out" not in repr(AVDigits("test"))


@pytest.mark.parametrize("held_out", ["voices", "accents"])
def test_spoken_digit_clips_hold_every_clip_of_a_split_once(raw, held_out):
    train_clips = spoken_digit_clips("train", held_out=held_out)
    test_clips = spoken_digit_clips("test", held_out=held_out)
    n_train, n_test = len(train_clips["label"]), len(test_clips["label"])
    assert n_train + n_test == len(raw["label"]) == 600
    assert train_clips["audio"].shape == (n_train, 6400)
    assert set(train_clips["voice"]).isdisjoint(test_clips["voice"])
    assert all(is_test_voice(v, held_out) for v in test_clips["voice"])
    # Each clip once: no two rows of a split hold the same waveform.
    for clips in (train_clips, test_clips):
        assert len({row.numpy().tobytes() for row in clips["audio"]}) == len(clips["label"])
        assert torch.bincount(clips["label"], minlength=10).tolist() == [len(clips["label"]) // 10] * 10
    # The rows are the data file's clips, in its order, with its labels.
    names = [str(n) for n in raw["voice_names"]]
    rows = [c for c in range(len(raw["label"]))
            if is_test_voice(names[raw["voice"][c]], held_out)]
    first = raw["audio"][raw["offsets"][rows[0]]:raw["offsets"][rows[0] + 1]] / 32768.0
    np.testing.assert_allclose(test_clips["audio"][0, :len(first)].numpy(), first, atol=1e-7)
    assert test_clips["label"].tolist() == raw["label"][rows].tolist()
    with pytest.raises(ValueError, match="held_out must be one of 'voices', 'accents', got 'speakers'"):
        spoken_digit_clips("test", held_out="speakers")


def test_every_accent_of_the_data_has_a_name(raw):
    names = {accent_name(str(voice)) for voice in raw["voice_names"]}  # raises on an unknown accent
    assert len(names) == 9  # 8 English accents and Mandarin
    assert accent_name("en-029") == "Caribbean English"
    assert accent_name("en-gb-scotland+m7") == "Scottish English"
    with pytest.raises(ValueError, match="unknown accent 'fr-fr'"):
        accent_name("fr-fr")
    with pytest.raises(TypeError, match="code must be an accent code"):
        accent_name(3)
