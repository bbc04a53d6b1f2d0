"""Scenes: determinism, geometry against the masks, relations, captions, held-out pairs, knobs."""

import itertools
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from mmkit.data import Scenes, to_tensors
from mmkit.data.scenes import (
    COMBINATIONS,
    HELD_OUT,
    _uniform,
    caption,
    swapped_caption,
)

RGB = {"red": (0.90, 0.15, 0.15), "yellow": (0.95, 0.85, 0.10), "green": (0.15, 0.80, 0.20),
       "blue": (0.20, 0.35, 0.95)}  # ShapesWorld's colours, written out
PITCH = {"red": 220.0, "yellow": 330.0, "green": 495.0, "blue": 742.5}

HASH_SCRIPT = """
import hashlib

from mmkit.data import Scenes
for seed in (0, 1):
    ds = Scenes(n=12, seed=seed, modalities=("image", "text", "audio"), image_size=24)
    digest = hashlib.sha256()
    for i in range(len(ds)):
        sample = ds[i]
        for key in sorted(sample):
            value = sample[key]
            digest.update(key.encode())
            digest.update(value.numpy().tobytes() if hasattr(value, "numpy") else repr(value).encode())
    print(seed, digest.hexdigest())
"""


def test_same_seed_gives_identical_bytes_in_two_processes(same_in_two_processes):
    same_in_two_processes(HASH_SCRIPT)


def test_scene_i_does_not_depend_on_n_or_reading_order():
    small, large = Scenes(n=7, seed=4), Scenes(n=300, seed=4)
    for i in reversed(range(7)):
        a, b = small[i], large[i]
        assert a["text"] == b["text"] and a["objects"] == b["objects"]
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["masks"], b["masks"])
    assert Scenes(n=7, seed=5).captions != small.captions


def test_every_key_has_the_documented_type_shape_and_range():
    ds = Scenes(n=30, image_size=24, seed=1, modalities=("image", "text", "audio"),
                sample_rate=4000, duration=0.25)
    for i in range(len(ds)):
        s = ds[i]
        k = s["n_objects"]
        assert s["image"].shape == (3, 24, 24) and s["image"].dtype == torch.float32
        assert 0 <= s["image"].min() and s["image"].max() <= 1
        assert s["masks"].shape == (3, 24, 24) and s["masks"].dtype == torch.bool
        assert s["masks"][:k].flatten(1).any(dim=1).all() and not s["masks"][k:].any()
        assert torch.equal(s["mask"], s["masks"].any(dim=0))
        assert s["audio"].shape == (1000,) and s["audio"].abs().max() <= 1
        assert isinstance(s["text"], str) and set(s["text"].split()) <= set(Scenes.words)
        assert len(s["objects"]) == k and 1 <= k <= 3
    batch = to_tensors(ds, keys=("image", "masks", "n_objects", "objects"))
    assert batch["masks"].shape == (30, 3, 24, 24) and batch["n_objects"].dtype == torch.int64
    assert batch["n_objects"].tolist() == ds.counts.tolist()


def test_masks_match_the_objects_position_size_colour_and_nothing_else_is_drawn():
    ds = Scenes(n=80, seed=2)
    grid = torch.arange(32.0)
    for i in range(len(ds)):
        s = ds[i]
        assert int(s["masks"].sum(dim=0).max()) <= 1  # no pixel belongs to two objects
        for k, obj in enumerate(s["objects"]):
            mask = s["masks"][k]
            area = mask.sum()
            cx, cy = (mask.sum(0) * grid).sum() / area, (mask.sum(1) * grid).sum() / area
            # the mask's centroid is the centre (a triangle is centred on its centroid)
            assert abs(cx - obj["x"]) < 0.6 and abs(cy - obj["y"]) < 0.6, (i, k, obj)
            rows, cols = torch.nonzero(mask, as_tuple=True)
            x0, y0, x1, y1 = obj["box"]
            assert x0 - 1e-9 <= cols.min() and cols.max() <= x1 + 1e-9
            assert y0 - 1e-9 <= rows.min() and rows.max() <= y1 + 1e-9
            assert 0 <= x0 and x1 <= 31 and 0 <= y0 and y1 <= 31
            # inside: the object's colour, at least half covered (coverage scales the RGB)
            inside, colour = s["image"][:, mask], torch.tensor(RGB[obj["colour"]])
            coverage = inside.amax(dim=0) / colour.max()
            assert coverage.min() >= 0.5 and coverage.max() == pytest.approx(1.0)
            torch.testing.assert_close(inside, coverage * colour[:, None])
        near = F.max_pool2d(s["mask"][None].float(), 5, stride=1, padding=2)[0].bool()
        assert s["image"][:, ~near].abs().max() == 0
    areas = {size: [] for size in Scenes.sizes}
    for i in range(len(ds)):
        for k, obj in enumerate(ds[i]["objects"]):
            areas[obj["size"]].append(int(ds[i]["masks"][k].sum()))
    assert min(areas["large"]) > max(areas["small"])


def test_relations_hold_for_every_pair_with_a_margin_and_objects_run_left_to_right():
    ds = Scenes(n=200, seed=3, margin=0.12)
    for i in range(len(ds)):
        truth = ds.truth(i)
        objects, relations = truth["objects"], set(truth["relations"])
        xs = [obj["x"] for obj in objects]
        assert xs == sorted(xs)
        for a, b in itertools.combinations(range(len(objects)), 2):
            dx = objects[b]["x"] - objects[a]["x"]
            dy = objects[b]["y"] - objects[a]["y"]
            assert abs(dx) >= 0.12 * 32 and abs(dy) >= 0.12 * 32
            # exactly one direction of each relation, the one the centres say
            assert ((a, "left of", b) in relations) == (dx > 0) != ((b, "left of", a) in relations)
            assert ((a, "above", b) in relations) == (dy > 0) != ((b, "above", a) in relations)
            boxes = objects[a]["box"], objects[b]["box"]
            gap = max(boxes[1][0] - boxes[0][2], boxes[0][0] - boxes[1][2],
                      boxes[1][1] - boxes[0][3], boxes[0][1] - boxes[1][3])
            assert gap >= 1.0
        assert len(relations) == len(objects) * (len(objects) - 1)
        pairs = [(obj["colour"], obj["shape"]) for obj in objects]
        assert len(set(pairs)) == len(pairs)  # "the red circle" names one object


def test_captions_name_every_object_and_a_true_relation():
    ds = Scenes(n=200, seed=4)
    for i in range(len(ds)):
        truth = ds.truth(i)
        objects, mentioned = truth["objects"], truth["mentioned"]
        words = truth["caption"].split()
        assert Counter(words)["a"] == len(objects)
        for obj in objects:
            assert f"a {obj['size']} {obj['colour']} {obj['shape']}" in truth["caption"]
        if len(objects) == 1:
            assert mentioned is None
        else:
            assert mentioned in truth["relations"]
            first = f"a {objects[mentioned[0]]['size']} {objects[mentioned[0]]['colour']}"
            assert truth["caption"].startswith(first)
            assert f" {mentioned[1]} a " in truth["caption"]


def test_true_captions_are_distinct_and_every_swapped_caption_is_false():
    ds = Scenes(n=150, seed=5)
    for i in range(len(ds)):
        truth = ds.truth(i)
        true = ds.true_captions(i)
        k = len(truth["objects"])
        assert len(true) == {1: 1, 2: 2, 3: 6}[k] == len(set(true))
        assert true[0] == truth["caption"]
        if k == 1:
            with pytest.raises(ValueError, match="nothing to swap"):
                swapped_caption(truth["objects"], truth["mentioned"], "relation")
            continue
        for kind in ("relation", "attributes"):
            negative = swapped_caption(truth["objects"], truth["mentioned"], kind)
            assert negative not in true
            assert Counter(negative.split()) == Counter(truth["caption"].split())


def test_caption_writes_what_it_is_told_and_checks_its_arguments():
    red = {"size": "small", "colour": "red", "shape": "circle"}
    blue = {"size": "large", "colour": "blue", "shape": "square"}
    green = {"size": "small", "colour": "green", "shape": "triangle"}
    assert caption([red]) == "a small red circle"
    assert caption([red, blue], (1, "above", 0)) == "a large blue square above a small red circle"
    assert (caption([red, blue, green], (2, "left of", 0))
            == "a small green triangle left of a small red circle and a large blue square")
    assert (swapped_caption([red, blue], (0, "left of", 1), "attributes")
            == "a small blue circle left of a large red square")
    same_colour = [red, {**blue, "colour": "red"}]
    assert (swapped_caption(same_colour, (0, "above", 1), "attributes")
            == "a small red square above a large red circle")
    with pytest.raises(ValueError, match="mentioned's relation must be one of"):
        caption([red, blue], (0, "below", 1))
    with pytest.raises(ValueError, match="mentioned's j=2 is not an index"):
        caption([red, blue], (0, "above", 2))
    with pytest.raises(ValueError, match="relates object 1 to itself"):
        caption([red, blue], (1, "above", 1))
    with pytest.raises(TypeError, match="objects must be a non-empty list"):
        caption([])
    with pytest.raises(ValueError, match="kind must be one of"):
        swapped_caption([red, blue], (0, "above", 1), "colour")


def _pairs(ds) -> list[set]:
    return [{(o["colour"], o["shape"]) for o in ds.truth(i)["objects"]} for i in range(len(ds))]


def test_seen_scenes_never_show_a_held_out_pair_but_show_every_colour_and_shape():
    ds = Scenes(n=600, seed=6, combinations="seen")
    pairs = _pairs(ds)
    assert not any(p & set(HELD_OUT) for p in pairs)
    assert not ds.has_held_out().any()
    seen = set().union(*pairs)
    assert seen == set(COMBINATIONS) - set(HELD_OUT)
    assert {c for c, _ in seen} == set(Scenes.colours) and {s for _, s in seen} == set(Scenes.shapes)
    assert not any(w in ds.captions[i] for i in range(len(ds))
                   for w in ("green triangle", "blue circle", "yellow square"))


def test_held_out_scenes_always_hold_one_and_any_mixes_both():
    ds = Scenes(n=300, seed=7, combinations="held_out", n_objects=1)
    pairs = _pairs(ds)
    assert all(p & set(HELD_OUT) for p in pairs) and ds.has_held_out().all()
    assert Counter(next(iter(p)) for p in pairs).keys() == set(HELD_OUT)
    multi = Scenes(n=300, seed=7, combinations="held_out")
    assert multi.has_held_out().all()
    mixed = Scenes(n=300, seed=7).has_held_out()
    assert 0 < mixed.float().mean() < 1
    custom = Scenes(n=200, seed=1, combinations="seen", held_out=[("red", "circle")])
    assert not any(("red", "circle") in p for p in _pairs(custom))
    assert any(("green", "triangle") in p for p in _pairs(custom))


def test_the_count_knob():
    assert Scenes(n=50, n_objects=2).counts.unique().tolist() == [2]
    counts = Scenes(n=3000, n_objects=(1, 3)).counts
    share = torch.bincount(counts, minlength=4)[1:] / 3000
    assert (share - 1 / 3).abs().max() < 0.04
    ds = Scenes(n=20, n_objects=(1, 2))
    assert ds[0]["masks"].shape[0] == 2 and ds.max_objects == 2


def test_larger_images_keep_every_object_inside_and_scale_the_objects():
    small, large = Scenes(n=60, image_size=32, seed=8), Scenes(n=60, image_size=48, seed=8)
    def key(obj):
        return obj["colour"], obj["shape"], obj["size"]

    for i in range(60):  # the same objects (placed anew), 1.5 times as large
        a_objects, b_objects = (sorted(ds.truth(i)["objects"], key=key) for ds in (small, large))
        for a, b in zip(a_objects, b_objects, strict=True):
            assert key(a) == key(b) and b["radius"] == pytest.approx(1.5 * a["radius"])
            assert all(0 <= v <= 47 for v in b["box"])
    assert large[0]["image"].shape == (3, 48, 48)


def test_audio_sounds_each_objects_pitch():
    ds = Scenes(n=40, seed=9, modalities=("audio",), n_objects=(1, 2))
    for i in range(len(ds)):
        s = ds[i]
        spectrum = np.abs(np.fft.rfft(s["audio"].numpy()))
        hz = np.fft.rfftfreq(len(s["audio"]), 1 / 8000)
        for obj in s["objects"]:  # a strong peak at each object's pitch
            near = np.abs(hz - PITCH[obj["colour"]]) <= 4
            assert spectrum[near].max() > 0.2 * spectrum.max(), (i, obj)
        silent = [c for c in PITCH if c not in {o["colour"] for o in s["objects"]}]
        for colour in silent:
            if all(abs(PITCH[colour] - k * PITCH[o["colour"]]) > 20 for o in s["objects"]
                   for k in range(1, 16)):  # not a harmonic of a sounding object
                near = np.abs(hz - PITCH[colour]) <= 4
                assert spectrum[near].max() < 0.05 * spectrum.max()
    assert "audio" not in Scenes(n=2)[0] and "image" not in ds[0]


def test_the_hash_generator_is_uniform_and_its_streams_are_unrelated():
    u = _uniform(0, np.arange(20000), 3, 2)
    for column in u.T:
        assert stats.kstest(column, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.03
    v = _uniform(0, np.arange(20000), 4, 1)[:, 0]
    assert abs(np.corrcoef(u[:, 0], v)[0, 1]) < 0.03
    w = _uniform(1, np.arange(20000), 3, 1)[:, 0]
    assert abs(np.corrcoef(u[:, 0], w)[0, 1]) < 0.03
    assert np.array_equal(_uniform(0, np.arange(5, 10), 3, 2), u[5:10])


def test_describe_and_repr():
    ds = Scenes(n=40, seed=1, combinations="seen")
    text = ds.describe()
    assert "40 scenes" in text and "held out: green triangle" in text and "seen" in text
    assert "combinations='seen'" in repr(ds)
    assert list(Scenes.words) == sorted(set(Scenes.words))


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"n": 0}, ValueError, "n must be >= 1"),
    ({"n": 2.5}, TypeError, "n must be an int"),
    ({"image_size": 8}, ValueError, "image_size must be >= 16"),
    ({"n_objects": 4}, ValueError, "n_objects must lie in 1..3"),
    ({"n_objects": (3, 1)}, ValueError, "n_objects must lie in 1..3"),
    ({"n_objects": (1, 2, 3)}, ValueError, r"n_objects must be an int or \(fewest, most\)"),
    ({"combinations": "unseen"}, ValueError, "combinations must be one of"),
    ({"held_out": [("purple", "circle")]}, ValueError, "a held-out colour must be one of"),
    ({"held_out": ["green triangle"]}, TypeError, r"a \(colour, shape\) pair"),
    ({"held_out": COMBINATIONS[:10]}, ValueError, "fewer than 3 seen pairs"),
    ({"margin": 0.6}, ValueError, "margin must be < 0.5"),
    ({"modalities": ("image", "video")}, ValueError, r"modalities\[i\] must be one of"),
    ({"margin": 0.4, "image_size": 16}, ValueError, "could not place 3 objects"),
])
def test_bad_arguments_name_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        Scenes(**{"n": 4, **kwargs})


def test_bad_indices():
    ds = Scenes(n=3)
    assert ds[-1]["text"] == ds[2]["text"]
    with pytest.raises(IndexError, match="out of range"):
        ds[3]
    with pytest.raises(TypeError, match="index must be an int"):
        ds[1.0]
    assert ds[np.int64(1)]["text"] == ds.captions[1]


def test_gallery_captions_each_fit_exactly_one_chosen_scene():
    ds = Scenes(n=600, seed=10, n_objects=(1, 3))
    chosen = ds.gallery(150)
    assert len(chosen) == 150 and chosen == sorted(chosen)
    true = {i: set(ds.true_captions(i)) for i in chosen}
    for i in chosen:
        fits = [j for j in chosen if ds.captions[i] in true[j]]
        assert fits == [i], (ds.captions[i], fits)
    everything = ds.gallery()  # as many as the rule allows
    assert len(everything) > 150 and everything[:150] == chosen
    one_object = Scenes(n=300, seed=1, n_objects=1).gallery()
    assert len(one_object) <= 24  # one caption per (size, colour, shape) at most
    with pytest.raises(ValueError, match="size must be >= 1"):
        ds.gallery(0)
