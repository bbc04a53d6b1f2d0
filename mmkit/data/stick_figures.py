"""StickFigures: short synthetic videos of a stick figure doing an action, with its joints.

The data for action recognition and pose estimation. A sample is a dict:
    "video"   float32 (T, 1, H, W) in [0, 1]: the skeleton drawn with anti-aliased lines
    "joints"  float32 (T, J, 2): (x, y) of every joint in pixels; pixel (row i, column j) is
              centred at (x=j, y=i), as matplotlib's imshow draws it, so
              ``plt.scatter(*joints[t].T)`` lands on the drawing
    "label"   int, the action's index in ``actions``; "action" its name
    "height"  float, the standing figure's height in pixels (PCK@0.1 counts a joint as
              found when it is within 0.1 * height of the truth)

Each sample varies the position, the size, the speed and the phase of the action. The
joints are computed when the dataset is built (small); the frames are drawn in
``__getitem__``, the same for the same (seed, index) in any process.

The figure faces the viewer; "left" and "right" in joint names mean as seen in the image.
Actions: "wave" (the right hand waves above the head, the rest stands still), "jump" (the
whole body, feet included, bounces up and down, arms swinging up), "squat" (the hips go
down and up while the feet stay on the ground and the knees bend outwards).
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from mmkit.checks import check_choice, check_int, check_positive

JOINT_NAMES = (
    "head", "neck", "hips", "left_elbow", "left_hand", "right_elbow", "right_hand",
    "left_knee", "left_foot", "right_knee", "right_foot",
)
SKELETON = ((0, 1), (1, 2), (1, 3), (3, 4), (1, 5), (5, 6), (2, 7), (7, 8), (2, 9), (9, 10))
ACTIONS = ("wave", "jump", "squat")

# Bone lengths and offsets in units of the standing height (feet at y=0, head at y=1, y up).
_UPPER_ARM, _FOREARM, _LEG_BONE = 0.2, 0.18, 0.26
_HIPS_Y, _SPINE, _NECK, _FEET_X = 0.5, 0.32, 0.18, 0.1
_HANG = 0.5  # resting arm angle, radians out from straight down


def _bone(start, angle, length, side):
    """The end of a bone ``length`` long at ``angle`` out from straight down (side -1/+1)."""
    return start + length * np.stack([side * np.sin(angle), -np.cos(angle)], axis=-1)


def _knee(hip, foot, side):
    """Two-bone inverse kinematics: the knee that keeps thigh and shin _LEG_BONE long.

    It lies on the perpendicular bisector of hip-foot, bent outwards (to the figure's side).
    """
    along = foot - hip
    length = np.linalg.norm(along, axis=-1, keepdims=True)
    bend = np.sqrt(np.clip(_LEG_BONE**2 - (length / 2) ** 2, 0, None))
    normal = np.stack([-along[..., 1], along[..., 0]], axis=-1) / length
    return (hip + foot) / 2 + side * bend * normal


def pose(action: str, theta: np.ndarray) -> np.ndarray:
    """Joints (..., J, 2) in body units (y up) for the action at phase ``theta`` (any shape)."""
    theta = np.asarray(theta, dtype=np.float64)
    zero = np.zeros_like(theta)
    lift, drop, arms_up = zero, zero, zero
    if action == "jump":
        lift = 0.2 * np.abs(np.sin(theta))  # one bounce per half turn
        arms_up = 2.2 * np.abs(np.sin(theta))
    elif action == "squat":
        depth = (1 - np.cos(theta)) / 2  # 0 standing, 1 lowest
        drop, arms_up = 0.2 * depth, 1.3 * depth  # arms come up for balance

    def point(x, y):
        return np.stack([x + zero, y + zero], axis=-1)

    hips = point(0.0, _HIPS_Y + lift - drop)
    neck = hips + point(0.0, _SPINE)
    head = neck + point(0.0, _NECK)
    left_foot, right_foot = point(-_FEET_X, lift), point(_FEET_X, lift)
    upper = _HANG + arms_up
    left_elbow = _bone(neck, upper, _UPPER_ARM, -1)
    left_hand = _bone(left_elbow, upper - 0.15, _FOREARM, -1)
    if action == "wave":  # upper arm raised, forearm swinging about the vertical
        right_elbow = _bone(neck, 2.3 + zero, _UPPER_ARM, 1)
        right_hand = _bone(right_elbow, 2.8 + 0.7 * np.sin(theta), _FOREARM, 1)
    else:
        right_elbow = _bone(neck, upper, _UPPER_ARM, 1)
        right_hand = _bone(right_elbow, upper - 0.15, _FOREARM, 1)
    left_knee, right_knee = _knee(hips, left_foot, -1), _knee(hips, right_foot, 1)
    joints = (head, neck, hips, left_elbow, left_hand, right_elbow, right_hand,
              left_knee, left_foot, right_knee, right_foot)
    return np.stack(joints, axis=-2)


def draw_skeleton(joints: np.ndarray, size: int, thickness: float) -> np.ndarray:
    """Anti-aliased lines: (T, J, 2) pixel joints -> (T, size, size) float64 in [0, 1].

    A pixel's brightness falls from 1 to 0 over the last pixel of distance from the bone,
    so the line edges are smooth rather than jagged.
    """
    # Only pixels near the figure can be inked: work in its bounding box, to save time.
    reach = thickness / 2 + 1
    low = np.clip(np.floor(joints.min(axis=(0, 1)) - reach), 0, size - 1).astype(int)
    high = np.clip(np.ceil(joints.max(axis=(0, 1)) + reach), 0, size - 1).astype(int)
    x, y = np.meshgrid(np.arange(low[0], high[0] + 1.0), np.arange(low[1], high[1] + 1.0))
    bones = np.array(SKELETON)
    start, end = joints[:, bones[:, 0]], joints[:, bones[:, 1]]  # (T, K, 2)
    ax, ay = start[..., 0, None], start[..., 1, None]  # (T, K, 1) bone starts
    bx, by = end[..., 0, None] - ax, end[..., 1, None] - ay  # (T, K, 1) bone vectors
    vx, vy = x.reshape(-1) - ax, y.reshape(-1) - ay  # (T, K, P) bone start -> pixel
    # The nearest point of each bone: project onto it, clamped to the bone's two ends.
    t = np.clip((vx * bx + vy * by) / np.maximum(bx**2 + by**2, 1e-12), 0, 1)
    squared = ((vx - t * bx) ** 2 + (vy - t * by) ** 2).min(axis=1)  # (T, P), nearest bone
    ink = np.clip(thickness / 2 + 0.5 - np.sqrt(squared), 0, 1)
    frames = np.zeros((len(joints), size, size))
    frames[:, low[1] : high[1] + 1, low[0] : high[0] + 1] = ink.reshape(len(joints), *x.shape)
    return frames


class StickFigures(Dataset):
    """Stick-figure action clips as dict samples (see the module docstring for every key).

    Args:
        n: number of samples; the actions are balanced (counts differ by at most one).
        image_size: H = W in pixels (>= 16).
        frames: T, frames per clip (>= 2).
        seed: same seed, same samples, bit for bit, in any process.
        actions: which actions to use, in label order (a subset of StickFigures.all_actions).
        noise: std of gaussian noise added to the frames (then clipped to [0, 1]).
    """

    joint_names = JOINT_NAMES
    skeleton = SKELETON
    all_actions = ACTIONS

    def __init__(self, n=600, image_size=32, frames=12, seed=0, actions=ACTIONS, noise=0.0):
        self.n = check_int(n, "n", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=16)
        self.frames = check_int(frames, "frames", minimum=2)
        self.seed = check_int(seed, "seed", minimum=0)
        if isinstance(actions, str) or not isinstance(actions, (list, tuple)) or not actions:
            raise TypeError(f"actions must be a non-empty tuple of action names, got {actions!r}")
        for action in actions:
            check_choice(action, "actions[i]", ACTIONS)
        if len(set(actions)) != len(actions):
            raise ValueError(f"actions must not repeat a name, got {actions!r}")
        self.actions = tuple(actions)
        self.noise = check_positive(noise, "noise", allow_zero=True)
        self.thickness = float(np.clip(image_size / 20, 1.0, 2.0))

        rng = np.random.default_rng([self.seed, 0])
        self._labels = rng.permutation(np.arange(self.n) % len(self.actions))
        cycles = rng.uniform(0.75, 1.5, self.n)  # speed: action cycles per clip
        phase = rng.uniform(0, 2 * np.pi, self.n)
        theta = phase[:, None] + 2 * np.pi * cycles[:, None] * np.arange(self.frames) / self.frames
        body = np.empty((self.n, self.frames, len(JOINT_NAMES), 2))
        for k, action in enumerate(self.actions):
            chosen = self._labels == k
            body[chosen] = pose(action, theta[chosen])
        self._joints, self._height = self._place(body, rng)

    def _place(self, body: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Scale and move each clip to pixels so every joint and line stays in the frame."""
        size, margin = self.image_size, self.thickness / 2 + 0.5
        low, high = body.min(axis=(1, 2)), body.max(axis=(1, 2))  # (n, 2) body-unit extent
        extent = (high - low).max(axis=1)
        height = rng.uniform(0.4, 0.6, self.n) * size
        height = np.minimum(height, (size - 1 - 2 * margin) / extent)  # tall poses: shrink
        pixels = body * height[:, None, None, None] * np.array([1.0, -1.0])  # y now down
        low, high = pixels.min(axis=(1, 2)), pixels.max(axis=(1, 2))
        room = size - 1 - 2 * margin - (high - low)  # (n, 2) free pixels along x and y
        origin = margin - low + rng.random((self.n, 2)) * room
        return pixels + origin[:, None, None, :], height

    def __len__(self) -> int:
        return self.n

    @property
    def labels(self) -> torch.Tensor:
        """All labels, (n,) int64, without drawing anything."""
        return torch.from_numpy(self._labels.astype(np.int64))

    @property
    def num_classes(self) -> int:
        return len(self.actions)

    def __getitem__(self, index: int) -> dict:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an int, got {type(index).__name__}")
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} is out of range for StickFigures of {self.n}")
        i = int(index) % self.n
        joints = self._joints[i]
        video = draw_skeleton(joints, self.image_size, self.thickness)
        if self.noise > 0:
            rng = np.random.default_rng([self.seed, 1, i])
            video = np.clip(video + self.noise * rng.standard_normal(video.shape), 0, 1)
        label = int(self._labels[i])
        return {
            "video": torch.from_numpy(video[:, None].astype(np.float32)),
            "joints": torch.from_numpy(joints.astype(np.float32)),
            "label": label,
            "action": self.actions[label],
            "height": float(self._height[i]),
        }

    def __repr__(self) -> str:
        return (
            f"StickFigures(n={self.n}, image_size={self.image_size}, frames={self.frames}, "
            f"seed={self.seed}, actions={self.actions}, noise={self.noise})"
        )
