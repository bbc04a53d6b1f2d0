"""ShapesWorld and the dict-batch collate: determinism, every modality, the tasks, the knobs."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from mmkit.data.collate import collate
from mmkit.data.shapes_world import ShapesWorld
from mmkit.preprocess.text import Vocabulary, encode_batch

ROOT = Path(__file__).resolve().parents[1]

# Hashes every byte a few datasets produce; run in fresh processes and compared.
HASH_SCRIPT = """
import hashlib

from mmkit.data.shapes_world import ShapesWorld
for seed in (0, 1):
    ds = ShapesWorld(n=12, seed=seed, task="xor", noise={"image": 0.1, "audio": 0.05,
                     "video": 0.1, "text": 0.1}, missing_prob=0.2,
                     caption_variation={"synonyms": 0.5, "word_order": 0.5, "wrong_word": 0.2})
    digest = hashlib.sha256()
    for i in range(len(ds)):
        sample = ds[i]
        for key in sorted(sample):
            value = sample[key]
            digest.update(key.encode())
            digest.update(value.numpy().tobytes() if hasattr(value, "numpy") else repr(value).encode())
    print(seed, digest.hexdigest())
"""


def test_same_seed_gives_identical_bytes_in_two_processes_and_different_seeds_differ(
    same_in_two_processes,
):
    same_in_two_processes(HASH_SCRIPT)


def test_every_modality_has_the_documented_shape_dtype_and_range():
    ds = ShapesWorld(n=20, image_size=24, frames=5, sample_rate=4000, duration=0.25,
                     noise={"image": 0.2, "audio": 0.3, "video": 0.2})
    for i in range(len(ds)):
        s = ds[i]
        assert s["image"].shape == (3, 24, 24) and s["image"].dtype == torch.float32
        assert s["video"].shape == (5, 3, 24, 24) and s["video"].dtype == torch.float32
        assert s["audio"].shape == (1000,) and s["audio"].dtype == torch.float32
        assert s["mask"].shape == (24, 24) and s["mask"].dtype == torch.bool
        assert s["video_mask"].shape == (5, 24, 24) and s["video_mask"].dtype == torch.bool
        for key, low, high in (("image", 0, 1), ("video", 0, 1), ("audio", -1, 1)):
            assert low <= s[key].min() and s[key].max() <= high, key
        assert isinstance(s["text"], str) and set(s["text"].split()) <= set(ShapesWorld.words)
        assert isinstance(s["label"], int) and s["label_modalities"] == ds.label_modalities
    assert ds[-1]["attributes"] == ds[len(ds) - 1]["attributes"]
    with pytest.raises(IndexError, match="out of range"):
        ds[20]


def test_mask_covers_the_drawn_shape_and_the_rest_is_background():
    ds = ShapesWorld(n=60, seed=3)
    areas = {"small": [], "large": []}
    for i in range(len(ds)):
        s = ds[i]
        image, mask = s["image"], s["mask"]
        brightest = {"red": 0.9, "yellow": 0.95, "green": 0.8, "blue": 0.95}
        colour = brightest[s["attributes"]["colour"]]
        assert image.amax(dim=0)[mask].min() >= 0.5 * colour  # inside: at least half covered
        # Anti-aliasing inks a pixel-wide rim (a bit more beyond a triangle's sharp apex).
        near = F.max_pool2d(mask[None].float(), 5, stride=1, padding=2)[0].bool()
        assert image[:, ~near].abs().max() == 0  # beyond two pixels from the shape: black
        assert image.amax(dim=0)[near & ~mask].max() < colour  # the rim is partly covered
        assert torch.equal(s["video"][0], image) and torch.equal(s["video_mask"][0], mask)
        areas[s["attributes"]["size"]].append(mask.sum().item())
    assert min(areas["large"]) > max(areas["small"])


def test_video_moves_the_shape_in_its_direction():
    ds = ShapesWorld(n=40, seed=5, frames=8, modalities=("video",))
    expected = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
    grid = torch.arange(32.0)
    for i in range(len(ds)):
        s = ds[i]
        mask = s["video_mask"].float()
        area = mask.sum(dim=(1, 2))
        cx, cy = (mask.sum(1) * grid).sum(1) / area, (mask.sum(2) * grid).sum(1) / area
        moved = torch.stack([cx[-1] - cx[0], cy[-1] - cy[0]])
        travel = s["attributes"]["step"] * 7
        want = torch.tensor(expected[s["attributes"]["direction"]], dtype=torch.float32)
        assert torch.allclose(moved, want * travel, atol=1.0), (moved, want, travel)


def _features(ds) -> dict[str, np.ndarray]:
    """Simple per-modality features: mean colour, bag of words, colour + motion, spectrum."""
    index = {w: k for k, w in enumerate(ShapesWorld.words)}
    out = {"image": [], "text": [], "video": [], "audio": [], "label": []}
    grid = torch.arange(float(ds.image_size))
    for i in range(len(ds)):
        s = ds[i]
        mean = s["image"].mean(dim=(1, 2)).numpy()
        out["image"].append(mean / mean.sum())  # chromaticity: colour regardless of area
        words = np.zeros(len(index))
        for word in s["text"].split():
            words[index[word]] += 1
        out["text"].append(words)
        ink = s["video"].sum(1)
        cx = (ink.sum(1) * grid).sum(1) / ink.sum((1, 2))
        cy = (ink.sum(2) * grid).sum(1) / ink.sum((1, 2))
        colour = s["video"].mean(dim=(0, 2, 3)).numpy()
        out["video"].append(np.r_[colour / colour.sum(), cx[-1] - cx[0], cy[-1] - cy[0]])
        spectrum = np.abs(np.fft.rfft(s["audio"].numpy()))[:1200].reshape(24, 50).mean(1)
        envelope = np.abs(s["audio"].numpy()).reshape(10, -1).max(1)
        out["audio"].append(np.r_[np.log(spectrum + 1e-6), envelope])
        out["label"].append(s["label"])
    return {key: np.array(value) for key, value in out.items()}


def test_xor_task_needs_both_image_and_text():
    train = _features(ShapesWorld(n=1000, seed=0, task="xor"))
    test = _features(ShapesWorld(n=500, seed=1, task="xor"))
    for modality in ("image", "text", "video", "audio"):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(train[modality], train["label"])
        assert model.score(test[modality], test["label"]) < 0.62, modality
    for pair in (("image", "text"), ("video", "text")):
        # XOR is not linear: give the model the products of image and text features.
        model = make_pipeline(PolynomialFeatures(2, interaction_only=True), StandardScaler(),
                              LogisticRegression(C=10, max_iter=5000))
        model.fit(np.hstack([train[m] for m in pair]), train["label"])
        assert model.score(np.hstack([test[m] for m in pair]), test["label"]) > 0.9, pair


def test_xor_label_is_warm_colour_xor_horizontal_caption_direction():
    ds = ShapesWorld(n=200, task="xor", modalities=("text",))
    for i in range(len(ds)):
        a = ds.attributes(i)
        warm = a["colour"] in ("red", "yellow")
        horizontal = a["caption_direction"] in ("left", "right")
        assert ds[i]["label"] == int(warm != horizontal)
        assert a["caption_colour"] is None
        assert not set(ds[i]["text"].split()) & set(ShapesWorld.colours)
        assert a["caption_direction"] in ds[i]["text"].split()


def test_match_is_balanced_and_negatives_differ_in_exactly_one_visible_attribute():
    ds = ShapesWorld(n=400, seed=2, task="match", modalities=("text",))
    assert ds.labels.bincount().tolist() == [200, 200]
    assert ds.label_modalities == ("image", "text")
    for i in range(len(ds)):
        a, text = ds.attributes(i), ds[i]["text"].split()
        differ = [name for name in ("shape", "colour", "size", "direction")
                  if a[name] != a[f"caption_{name}"]]
        assert differ == ([] if ds[i]["label"] == 1 else [a["changed"]])
        assert all(a[f"caption_{name}"] in text for name in ("shape", "colour", "size"))


@pytest.mark.parametrize("task", ["shape", "colour", "size", "direction"])
def test_single_attribute_tasks_label_that_attribute(task):
    ds = ShapesWorld(n=100, task=task, modalities=("text",))
    values = getattr(ShapesWorld, {"colour": "colours"}.get(task, task + "s"))
    assert [values[ds[i]["label"]] for i in range(100)] == [
        ds.attributes(i)[task] for i in range(100)
    ]
    assert ("image" in ds.label_modalities) == (task != "direction")
    assert task in ds.describe() and ds.classes == values


def test_imbalance_gives_the_requested_class_ratio():
    counts = ShapesWorld(n=1100, task="match", imbalance=0.1, modalities=("text",)).labels.bincount()
    assert counts.tolist() == [1000, 100]
    counts = ShapesWorld(n=1000, task="shape", imbalance=[0.5, 0.3, 0.2]).labels.bincount()
    assert counts.tolist() == [500, 300, 200]
    counts = ShapesWorld(n=2000, task="colour", imbalance=0.2).labels.bincount()
    assert counts[-1] / counts[0] == pytest.approx(0.2, abs=0.01)
    assert (counts[:-1] > counts[1:]).all()


def test_missing_prob_gives_that_rate_and_collate_fills_and_flags_the_gaps():
    ds = ShapesWorld(n=400, seed=4, missing_prob=0.3, frames=3)
    samples = [ds[i] for i in range(len(ds))]
    for m in ("image", "text", "audio", "video"):
        rate = np.mean([m not in s for s in samples])
        assert 0.23 < rate < 0.37, (m, rate)
    assert all(any(m in s for m in ds.modalities) for s in samples)
    batch = collate(samples[:32])
    for m in ("image", "audio", "video"):
        present = torch.tensor([m in s for s in samples[:32]])
        assert torch.equal(batch[f"{m}_present"], present)
        assert batch[m][~present].abs().sum() == 0 and batch[m][present].abs().sum() > 0
    assert [t == "" for t in batch["text"]] == (~batch["text_present"]).tolist()
    only_audio_gone = ShapesWorld(n=50, missing_prob={"audio": 1.0}, modalities=("image", "audio"))
    assert all("audio" not in only_audio_gone[i] for i in range(50))


def test_collate_pads_text_and_reports_lengths_and_mask():
    samples = [{"text": "a red ball", "label": 1}, {"text": "a box", "label": 0},
               {"text": "zebra a", "label": 2}]
    vocab = Vocabulary(["<pad>", "<unk>", "a", "red", "ball", "box"])
    batch = collate(samples, vocab=vocab)
    assert batch["text"].tolist() == [[2, 3, 4], [2, 5, 0], [1, 2, 0]]
    assert batch["text_lengths"].tolist() == [3, 2, 2]
    assert batch["text_mask"].tolist() == [[True] * 3, [True, True, False], [True, True, False]]
    assert batch["label"].dtype == torch.long and batch["label"].tolist() == [1, 0, 2]
    assert collate(samples)["text"] == ["a red ball", "a box", "zebra a"]


def test_collate_and_encode_batch_are_one_text_pipeline():
    # The same tokenizer and vocabulary both ways: punctuation and case included.
    captions = ["A red circle, moving left", "the BLUE square moves up.", ""]
    vocab = Vocabulary.build(captions[:2])
    batch = collate([{"text": c, "label": 0} for c in captions], vocab=vocab)
    ids, lengths, mask = encode_batch(vocab, captions)
    assert torch.equal(batch["text"], ids)
    assert torch.equal(batch["text_lengths"], lengths) and torch.equal(batch["text_mask"], mask)
    assert vocab.decode(batch["text"][0]) == "a red circle , moving left"


def test_collate_stacks_a_shapes_world_batch():
    ds = ShapesWorld(n=8, frames=4)
    vocab = Vocabulary(["<pad>", "<unk>", *ShapesWorld.words])
    batch = collate([ds[i] for i in range(8)], vocab=vocab)
    assert batch["image"].shape == (8, 3, 32, 32) and batch["video"].shape == (8, 4, 3, 32, 32)
    assert batch["audio"].shape == (8, 4000) and batch["mask"].shape == (8, 32, 32)
    assert batch["text"].dtype == torch.long and batch["text_mask"].all()
    assert batch["image_present"].all() and isinstance(batch["attributes"], list)
    assert torch.equal(batch["label"], ds.labels[:8])


def test_caption_variation_knobs():
    plain = ShapesWorld(n=200, modalities=("text",))
    assert all(plain[i]["text"].startswith("a ") and " moving " in plain[i]["text"]
               for i in range(200))
    canonical = {*ShapesWorld.shapes, *ShapesWorld.colours, *ShapesWorld.sizes,
                 *ShapesWorld.directions}
    synonyms = ShapesWorld(n=200, modalities=("text",), caption_variation={"synonyms": 1.0})
    assert not any(set(synonyms[i]["text"].split()) & canonical for i in range(200))
    reordered = ShapesWorld(n=200, modalities=("text",), caption_variation={"word_order": 1.0})
    assert not any(reordered[i]["text"] == plain[i]["text"] for i in range(200))
    wrong = ShapesWorld(n=200, modalities=("text",), caption_variation={"wrong_word": 1.0})
    for i in range(200):
        a, words = wrong.attributes(i), wrong[i]["text"].split()
        differ = [n for n in ("shape", "colour", "size", "direction") if a[n] not in words]
        assert differ == [a["wrong_word"]]
    dropped = ShapesWorld(n=200, modalities=("text",), noise={"text": 0.5})
    lengths = [len(dropped[i]["text"].split()) for i in range(200)]
    assert min(lengths) >= 1 and 2 < np.mean(lengths) < 4.5  # plain captions have 6 words


def test_audio_encodes_colour_shape_size_and_direction():
    ds = ShapesWorld(n=300, seed=6, modalities=("audio",))

    def crossings(x):  # zero crossings per sample: twice the frequency of the fundamental
        return np.mean(np.diff(np.sign(x)) != 0)

    rates = {}
    for i in range(len(ds)):
        a, wave = ds.attributes(i), ds[i]["audio"].numpy()
        loudness = {"small": 0.35, "large": 0.8}[a["size"]]
        assert np.abs(wave).max() == pytest.approx(loudness, rel=0.03)
        early, late = crossings(wave[200:1400]), crossings(wave[2600:3800])
        if a["direction"] == "up":
            assert late > 1.15 * early
        elif a["direction"] == "down":
            assert early > 1.15 * late
        elif a["shape"] == "circle":  # a steady sine: pitch readable from its crossings
            rates.setdefault(a["colour"], []).append(crossings(wave) * 8000 / 2)
        spectrum = np.abs(np.fft.rfft(wave))
        if a["shape"] == "circle" and a["direction"] in ("left", "right"):
            assert spectrum[1500:].max() < 0.01 * spectrum.max()  # a sine has no overtones
    for colour, hz in zip(ShapesWorld.colours, (220, 330, 495, 742.5), strict=True):
        assert np.mean(rates[colour]) == pytest.approx(hz, rel=0.05), colour


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"task": "colour_xor"}, ValueError, "task must be one of 'shape'"),
        ({"n": 0}, ValueError, "n must be >= 1, got 0"),
        ({"n": "10"}, TypeError, "n must be an int, got str"),
        ({"image_size": 4}, ValueError, "image_size must be >= 8, got 4"),
        ({"missing_prob": 1.5}, ValueError, r"missing_prob\['image'\] must be a probability"),
        ({"missing_prob": 1.0}, ValueError, "missing_prob is 1 for every modality"),
        ({"noise": {"image": -0.1}}, ValueError, r"noise\['image'\] must be a finite number >= 0"),
        ({"noise": {"smell": 0.1}}, ValueError, "a key of noise must be one of 'image'"),
        ({"noise": 0.1}, TypeError, "noise must be None or a dict"),
        ({"imbalance": [0.5, 0.5]}, ValueError, "imbalance as a list needs one proportion per"),
        ({"imbalance": 2.0}, ValueError, r"imbalance must be a probability in \[0, 1\]"),
        ({"caption_variation": {"typos": 0.1}}, ValueError, "a key of caption_variation"),
        ({"frames": 1}, ValueError, "frames must be >= 2"),
        ({"modalities": ("image", "smell")}, ValueError, "modalities.* must be one of"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        ShapesWorld(**{"n": 4, **kwargs})


def test_collate_rejects_bad_input():
    with pytest.raises(ValueError, match="samples is empty"):
        collate([])
    with pytest.raises(TypeError, match=r"samples\[1\] must be a dict"):
        collate([{"label": 0}, 3])
    with pytest.raises(TypeError, match="vocab must be None or a mmkit.preprocess.text.Vocabulary"):
        collate([{"text": "a", "label": 0}], vocab={"a": 0})
    with pytest.raises(ValueError, match=r"samples\[1\]\['image'\] must be a tensor of shape"):
        collate([{"image": torch.zeros(3, 4, 4)}, {"image": torch.zeros(3, 5, 5)}])
    with pytest.raises(TypeError, match=r"samples\[0\]\['label'\] must be an int"):
        collate([{"label": 0.5}])
    with pytest.raises(ValueError, match=r"samples\[1\] has no 'label'"):
        collate([{"label": 0}, {"image": torch.zeros(1)}])


def test_describe_and_repr_summarise_the_knobs():
    ds = ShapesWorld(n=10, task="xor", imbalance=0.5, missing_prob={"audio": 0.5})
    text = ds.describe()
    assert "XOR" in text and "image, text" in text and "audio" in text
    assert "task='xor'" in repr(ds) and "imbalance=0.5" in repr(ds)
    assert list(ShapesWorld.words) == sorted(set(ShapesWorld.words))


# ---- backgrounds and distractors (lesson 10) -------------------------------------------------

def test_backgrounds_and_distractors_are_off_by_default_and_change_nothing_else():
    plain = ShapesWorld(n=6, seed=4, modalities=("image", "text", "video"))
    busy = ShapesWorld(n=6, seed=4, modalities=("image", "text", "video"), background="texture",
                       distractors=2)
    for i in range(6):
        a, b = plain[i], busy[i]
        assert "distractor_mask" not in a and "distractors" not in a["attributes"]
        assert a["text"] == b["text"] and a["label"] == b["label"]
        assert torch.equal(a["mask"], b["mask"])  # the target is where it was
        on_target = a["mask"] & (a["image"].sum(0) > 0)
        assert torch.allclose(a["image"][:, on_target], b["image"][:, on_target], atol=0.51)
        assert torch.equal(b["video"][0], b["image"])  # frame 0 is still the image


def test_distractors_lie_beside_the_target_and_match_its_brightness():
    world = ShapesWorld(n=30, seed=1, modalities=("image",), distractors=2)
    touching = 0
    for i in range(30):
        s = world[i]
        assert s["distractor_mask"].any()
        if (s["distractor_mask"] & s["mask"]).any():  # only when there is no room
            touching += 1
            continue
        assert len(s["attributes"]["distractors"]) == 2
        near = F.max_pool2d(s["mask"][None, None].float(), 5, stride=1, padding=2)[0, 0] > 0
        grey = s["image"][:, s["distractor_mask"] & ~near]  # clear of the target's edge
        assert torch.allclose(grey[0], grey[1]) and torch.allclose(grey[1], grey[2])  # grey
        inside = s["distractor_mask"] & ~near & (s["image"][0] > 0)
        colour = s["image"][:, s["mask"]].max(dim=1).values  # the target's colour at full cover
        assert s["image"][0, inside].max() == pytest.approx(float(colour.mean()), abs=1e-5)
    assert touching <= 1
    one = ShapesWorld(n=30, seed=1, modalities=("image",), distractors=1)
    assert not any((one[i]["distractor_mask"] & one[i]["mask"]).any() for i in range(30))


def test_other_coloured_distractors_never_share_the_targets_colour():
    world = ShapesWorld(n=40, seed=2, modalities=("image",), distractors=1,
                        distractor_colour="other")
    for i in range(40):
        s = world[i]
        (d,) = s["attributes"]["distractors"]
        assert d["colour"] in ShapesWorld.colours and d["colour"] != s["attributes"]["colour"]


@pytest.mark.parametrize("background", ["noise", "texture"])
def test_backgrounds_fill_the_picture_below_their_level(background):
    world = ShapesWorld(n=8, seed=0, modalities=("image",), background=background,
                        background_level=0.3)
    for i in range(8):
        s = world[i]
        near = F.max_pool2d(s["mask"][None, None].float(), 5, stride=1, padding=2)[0, 0] > 0
        off = s["image"][:, ~near]  # away from the shape's anti-aliased edge
        assert off.max() <= 0.3 + 1e-6 and off.mean() > 0.05
        if background == "noise":
            assert torch.allclose(off[0], off[1])  # grey noise
    assert torch.equal(world[3]["image"], world[3]["image"])  # the same every read


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"background": "stripes"}, ValueError, "background"),
    ({"background": "noise", "background_level": 1.5}, ValueError, "background_level"),
    ({"distractors": -1}, ValueError, "distractors must be >= 0"),
    ({"distractors": 1.5}, TypeError, "distractors"),
    ({"distractor_colour": "pink"}, ValueError, "distractor_colour"),
])
def test_bad_scenery_knobs_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        ShapesWorld(n=2, **kwargs)
