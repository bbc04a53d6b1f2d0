"""StickFigures: determinism, shapes, drawing on the skeleton, actions that differ."""

from pathlib import Path

import numpy as np
import pytest
import torch

from mmkit.data.collate import collate
from mmkit.data.stick_figures import StickFigures

ROOT = Path(__file__).resolve().parents[1]

HASH_SCRIPT = """
import hashlib
from mmkit.data.stick_figures import StickFigures
for seed in (0, 1):
    ds = StickFigures(n=9, seed=seed, noise=0.1)
    digest = hashlib.sha256()
    for i in range(len(ds)):
        s = ds[i]
        for key in ("video", "joints"):
            digest.update(s[key].numpy().tobytes())
        digest.update(repr((s["label"], s["action"], s["height"])).encode())
    print(seed, digest.hexdigest())
"""


def test_same_seed_gives_identical_bytes_in_two_processes_and_different_seeds_differ(
    same_in_two_processes,
):
    same_in_two_processes(HASH_SCRIPT)


def test_shapes_dtypes_and_joints_inside_the_frame():
    ds = StickFigures(n=90, image_size=32, frames=12, seed=1)
    names, skeleton = StickFigures.joint_names, StickFigures.skeleton
    assert 9 <= len(names) <= 13 and len(set(names)) == len(names)
    assert all(0 <= a < len(names) and 0 <= b < len(names) for a, b in skeleton)
    assert {j for bone in skeleton for j in bone} == set(range(len(names)))  # all connected
    for i in range(len(ds)):
        s = ds[i]
        assert s["video"].shape == (12, 1, 32, 32) and s["video"].dtype == torch.float32
        assert s["joints"].shape == (12, len(names), 2) and s["joints"].dtype == torch.float32
        assert 0 <= s["video"].min() and s["video"].max() <= 1 and s["video"].max() == 1
        assert 0 <= s["joints"].min() and s["joints"].max() <= 31
        assert s["action"] == ds.actions[s["label"]] and 8 < s["height"] < 20
    assert ds.labels.bincount().tolist() == [30, 30, 30]


def _distance_to_skeleton(joints: np.ndarray, size: int) -> np.ndarray:
    """(T, size, size) distance from every pixel centre to the nearest bone, bone by bone."""
    y, x = np.mgrid[0:size, 0:size].astype(float)
    best = np.full((len(joints), size, size), np.inf)
    for t, frame in enumerate(joints):
        for a, b in StickFigures.skeleton:
            start, end = frame[a], frame[b]
            along = end - start
            s = np.clip(((x - start[0]) * along[0] + (y - start[1]) * along[1]) / (along @ along),
                        0, 1)
            d = np.hypot(x - start[0] - s * along[0], y - start[1] - s * along[1])
            best[t] = np.minimum(best[t], d)
    return best


def test_drawn_pixels_lie_on_the_skeleton_lines():
    ds = StickFigures(n=12, seed=2)
    for i in range(len(ds)):
        s = ds[i]
        video, joints = s["video"][:, 0].numpy(), s["joints"].numpy().astype(float)
        distance = _distance_to_skeleton(joints, 32)
        reach = ds.thickness / 2 + 0.5
        assert (video[distance >= reach + 1e-3] == 0).all()  # nothing drawn off the lines
        assert (video[distance <= ds.thickness / 2 - 0.51] > 0.99).all()  # the lines are solid
        columns, rows = np.rint(joints[..., 0]).astype(int), np.rint(joints[..., 1]).astype(int)
        frames = np.arange(len(joints))[:, None]
        assert (video[frames, rows, columns] > 0.5).all()  # every joint sits on ink


def _motion(ds, action: str) -> dict[str, float]:
    """Median over clips of each joint's vertical / total movement, in figure heights."""
    index = {name: k for k, name in enumerate(StickFigures.joint_names)}
    stats = {"hips_y": [], "feet_y": [], "right_hand": [], "left_hand": []}
    for i in np.flatnonzero(ds.labels.numpy() == ds.actions.index(action)):
        s = ds[int(i)]
        joints, height = s["joints"].numpy(), s["height"]
        span = joints.max(axis=0) - joints.min(axis=0)  # (J, 2) range over the clip
        stats["hips_y"].append(span[index["hips"], 1] / height)
        stats["feet_y"].append(span[[index["left_foot"], index["right_foot"]], 1].max() / height)
        for hand in ("right_hand", "left_hand"):
            stats[hand].append(np.linalg.norm(span[index[hand]]) / height)
    return {key: float(np.median(values)) for key, values in stats.items()}


def test_actions_differ_measurably():
    ds = StickFigures(n=150, seed=3)
    wave, jump, squat = (_motion(ds, action) for action in ("wave", "jump", "squat"))
    assert wave["right_hand"] > 0.15 and wave["left_hand"] < 0.01 and wave["hips_y"] < 0.01
    assert jump["hips_y"] > 0.15 and jump["feet_y"] > 0.15  # the whole body leaves the ground
    assert squat["hips_y"] > 0.08 and squat["feet_y"] < 1e-6  # hips go down, feet stay
    for i in range(len(ds)):  # in a squat the hips are never above their standing height
        s = ds[i]
        if s["action"] == "squat":
            hips, feet = s["joints"][:, 2, 1], s["joints"][:, 8, 1]
            assert ((feet - hips) / s["height"]).max() <= 0.5 + 1e-4


def test_actions_subset_noise_and_collate():
    ds = StickFigures(n=10, actions=("squat", "wave"), noise=0.2, frames=6)
    clean = StickFigures(n=10, actions=("squat", "wave"), frames=6)
    assert set(ds.labels.tolist()) == {0, 1} and ds.num_classes == 2
    assert ds[0]["action"] == ("squat", "wave")[ds[0]["label"]]
    assert not torch.equal(ds[0]["video"], clean[0]["video"])
    assert torch.equal(ds[0]["joints"], clean[0]["joints"])
    assert 0 <= ds[0]["video"].min() and ds[0]["video"].max() <= 1
    batch = collate([ds[i] for i in range(4)])
    assert batch["video"].shape == (4, 6, 1, 32, 32) and batch["video_present"].all()
    assert batch["joints"].shape == (4, 6, 11, 2) and batch["height"].dtype == torch.float32
    assert batch["action"] == [ds[i]["action"] for i in range(4)]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"actions": ("wave", "dance")}, ValueError, "actions.* must be one of 'wave'"),
        ({"actions": "wave"}, TypeError, "actions must be a non-empty tuple"),
        ({"actions": ("wave", "wave")}, ValueError, "actions must not repeat"),
        ({"image_size": 8}, ValueError, "image_size must be >= 16, got 8"),
        ({"frames": 1}, ValueError, "frames must be >= 2, got 1"),
        ({"noise": -0.1}, ValueError, "noise must be a finite number >= 0"),
        ({"n": 0}, ValueError, "n must be >= 1"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        StickFigures(**{"n": 3, **kwargs})
