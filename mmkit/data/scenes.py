"""Scenes: ShapesWorld pictures with one to three objects, how they lie, and the whole truth.

Each scene holds 1-3 objects. An object is a ShapesWorld shape (circle, square, triangle)
of a colour (red, yellow, green, blue) and a size (small, large) at a position; no two
objects of a scene share both shape and colour, so "the red circle" names exactly one.
Objects never overlap, and any two centres are at least ``margin`` apart both across and
down, so "left of" and "above" are defined for every pair with no near-tie.

    >>> scenes = Scenes(n=1000, image_size=32, seed=0, n_objects=(1, 3))
    >>> sample = scenes[0]
    >>> sample["text"]
    'a small blue triangle left of a small blue circle and a large green circle'
    >>> sample["objects"][0]
    {'shape': 'triangle', 'colour': 'blue', 'size': 'small', 'x': 4.25..., 'y': 27.85...,
     'box': (0.18..., 23.14..., 8.32..., 30.20...), 'radius': 3.36}
    >>> sample["mentioned"], sample["relations"][:2]
    ((0, 'left of', 2), [(0, 'left of', 1), (0, 'left of', 2)])

A sample is a dict:
    "image"      float32 (3, H, W) in [0, 1]: anti-aliased shapes on a black background
    "text"       str, the caption: every object, and one relation between two of them
    "audio"      float32 (L,) in [-1, 1], only if asked for in ``modalities``: the mean of
                 each object's steady ShapesWorld tone (pitch = colour, waveform = shape,
                 loudness = size)
    "masks"      bool (max_objects, H, W): pixels whose centre lies inside object k; rows
                 beyond the scene's objects are all False (so batches stack)
    "mask"       bool (H, W): inside any object
    "n_objects"  int
    "objects"    list of dicts, ordered left to right: {"shape", "colour", "size",
                 "x", "y" (the centre, pixels), "box" (x0, y0, x1, y1, the shape's extent),
                 "radius" (pixels)}; pixel (row i, column j) is centred at (x=j, y=i)
    "relations"  list of (i, relation, j) triples that are true, relation "left of" or
                 "above": for every pair, one of each (x_i < x_j means i is left of j;
                 y grows downwards, so y_i < y_j means i is above j)
    "mentioned"  (i, relation, j), the relation the caption states, or None (one object)
    "caption"    the caption, as ground truth (there even when "text" is not rendered)
The truth without pixels: ``truth(index)``; every caption true of a scene:
``true_captions(index)``; a caption from any objects and relation: ``caption()``; the
hard negatives of lesson 11: ``swapped_caption(objects, mentioned, "relation" |
"attributes")``.

Held-out combinations, for compositional zero-shot tests: ``HELD_OUT`` lists (colour,
shape) pairs - green triangle, blue circle, yellow square - that a training set should never
show. ``combinations="seen"`` draws objects from the other nine pairs only (use it for
training: no held-out pair appears anywhere, in any image or caption); ``"held_out"`` puts
at least one held-out pair in every scene (the test of composition); ``"any"`` draws from
all twelve. Every colour and every shape still occurs in the seen pairs.

Determinism: every random number of scene i is a hash of (seed, i, what it is for), so
scene i is the same in any process, whatever ``n`` is (``Scenes(n=10)`` is the start of
``Scenes(n=1000)``), and whichever order the samples are read in. Objects and captions are
drawn for all scenes at once when the dataset is built (vectorised); pixels and sounds are
rendered in ``__getitem__``.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from mmkit.checks import check_choice, check_int, check_positive
from mmkit.data.shapes_world import _RGB, COLOURS, SHAPES, SIZES, _signed_distance, _sound

RELATIONS = ("left of", "above")
COMBINATIONS = tuple((colour, shape) for colour in COLOURS for shape in SHAPES)
HELD_OUT = (("green", "triangle"), ("blue", "circle"), ("yellow", "square"))
MODALITIES = ("image", "text", "audio")
MAX_OBJECTS = 3

_RADIUS = (0.105, 0.145)  # circle radius / image size, per size (smaller than ShapesWorld's)
_SQUARE_HALF, _TRIANGLE_R = 0.886, 1.4  # as ShapesWorld draws them (same area as the circle)
_GAP = 1.0  # pixels between the boxes of two objects, at least
_ATTEMPTS = 5000  # placements tried per scene (3 large triangles in 32 px: 1 in 220 fits)


# ---- random numbers that depend only on (seed, scene index, purpose) ----------------------

def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: scrambles a uint64 so that nearby inputs look unrelated."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _uniform(seed: int, index: np.ndarray, purpose: int, count: int) -> np.ndarray:
    """(len(index), count) numbers in [0, 1): a hash of (seed, index, purpose, column).

    A counter-based generator: no state is carried from scene to scene, so a scene's numbers
    do not depend on how many scenes came before it. uint64 arithmetic wraps around, which
    is what the hash wants.
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    z = _mix(np.full((len(index), count), seed, dtype=np.uint64) + golden)
    z = _mix(z ^ (np.asarray(index, dtype=np.uint64)[:, None] + golden))
    z = _mix(z ^ np.full(1, purpose + 1, dtype=np.uint64) * golden)
    z = _mix(z ^ (np.arange(count, dtype=np.uint64)[None, :] + golden))
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53


# ---- geometry -------------------------------------------------------------------------------

def _extent(shape: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """(..., 4) offsets of the shape's box from its centre: left, top, right, bottom (pixels).

    A circle reaches r each way, a square 0.886 r; the triangle (apex up, circumradius
    R = 1.4 r, centred on its centroid) reaches R up, R / 2 down and R * sqrt(3) / 2 sideways.
    """
    half = np.where(shape == 1, _SQUARE_HALF, 1.0) * radius
    side = np.where(shape == 2, _TRIANGLE_R * np.sqrt(3) / 2 * radius, half)
    up = np.where(shape == 2, _TRIANGLE_R * radius, half)
    down = np.where(shape == 2, _TRIANGLE_R * radius / 2, half)
    return np.stack([-side, -up, side, down], axis=-1)


def _acceptable(x, y, box, present, margin: float) -> np.ndarray:
    """(n,) True where every pair of present objects is apart by ``margin`` in x and in y
    and their boxes are at least _GAP apart (across or down)."""
    ok = np.ones(len(x), dtype=bool)
    for i in range(MAX_OBJECTS):
        for j in range(i + 1, MAX_OBJECTS):
            apart = (np.abs(x[:, i] - x[:, j]) >= margin) & (np.abs(y[:, i] - y[:, j]) >= margin)
            separated = ((box[:, j, 0] - box[:, i, 2] >= _GAP) | (box[:, i, 0] - box[:, j, 2] >= _GAP)
                         | (box[:, j, 1] - box[:, i, 3] >= _GAP)
                         | (box[:, i, 1] - box[:, j, 3] >= _GAP))
            both = present[:, i] & present[:, j]
            ok &= ~both | (apart & separated)
    return ok


# ---- captions -------------------------------------------------------------------------------

def _phrase(obj: dict) -> str:
    return f"a {obj['size']} {obj['colour']} {obj['shape']}"


def caption(objects, mentioned=None) -> str:
    """The caption of a scene: ``mentioned`` = (i, relation, j) first, as "<object i>
    <relation> <object j>", then every other object, joined by "and".

    It writes what it is told, true or not (that is how hard negatives are made).
    objects: a list of dicts with "size", "colour" and "shape"; mentioned: None, or indices
    into ``objects`` and one of RELATIONS.

    >>> caption([{"size": "small", "colour": "red", "shape": "circle"},
    ...          {"size": "large", "colour": "blue", "shape": "square"}], (0, "left of", 1))
    'a small red circle left of a large blue square'
    """
    if not isinstance(objects, (list, tuple)) or not objects:
        raise TypeError(f"objects must be a non-empty list of object dicts, got {objects!r}")
    order = list(range(len(objects)))
    words = []
    if mentioned is not None:
        if not isinstance(mentioned, (list, tuple)) or len(mentioned) != 3:
            raise TypeError(f"mentioned must be None or (i, relation, j), got {mentioned!r}")
        i, relation, j = mentioned
        check_choice(relation, "mentioned's relation", RELATIONS)
        for name, k in (("i", i), ("j", j)):
            check_int(k, f"mentioned's {name}")
            if k >= len(objects):
                raise ValueError(f"mentioned's {name}={k} is not an index into the "
                                 f"{len(objects)} objects")
        if i == j:
            raise ValueError(f"mentioned relates object {i} to itself")
        words.append(f"{_phrase(objects[i])} {relation} {_phrase(objects[j])}")
        order = [k for k in order if k not in (i, j)]
    words += [_phrase(objects[k]) for k in order]
    return " and ".join(words)


def swapped_caption(objects, mentioned, kind: str) -> str:
    """A hard negative: the caption with the same words in a false order.

    kind="relation": the two related objects change places ("a red circle left of a blue
    square" -> "a blue square left of a red circle"); kind="attributes": they swap colours
    (or shapes, where their colours are the same). Both are false for a scene with no
    near-ties and no two objects of the same shape and colour, and both use exactly the
    caption's words, so a model that reads a caption as a bag of words cannot tell them apart.
    """
    check_choice(kind, "kind", ("relation", "attributes"))
    if mentioned is None:
        raise ValueError("the caption states no relation (a scene of one object): there is "
                         "nothing to swap")
    i, relation, j = mentioned
    if kind == "relation":
        return caption(objects, (j, relation, i))
    key = "colour" if objects[i]["colour"] != objects[j]["colour"] else "shape"
    swapped = [dict(obj) for obj in objects]
    swapped[i][key], swapped[j][key] = objects[j][key], objects[i][key]
    return caption(swapped, mentioned)


# ---- the dataset ----------------------------------------------------------------------------

def _count_range(n_objects) -> tuple[int, int]:
    if isinstance(n_objects, (tuple, list)):
        if len(n_objects) != 2:
            raise ValueError(f"n_objects must be an int or (fewest, most), got {n_objects!r}")
        low, high = (check_int(k, "n_objects[i]", minimum=1) for k in n_objects)
    else:
        low = high = check_int(n_objects, "n_objects", minimum=1)
    if high > MAX_OBJECTS or low > high:
        raise ValueError(f"n_objects must lie in 1..{MAX_OBJECTS} with fewest <= most, got "
                         f"{n_objects!r}")
    return low, high


def _check_pairs(held_out) -> tuple:
    if not isinstance(held_out, (list, tuple)):
        raise TypeError(f"held_out must be a tuple of (colour, shape) pairs, got {held_out!r}")
    pairs = []
    for pair in held_out:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"each entry of held_out must be a (colour, shape) pair, got {pair!r}")
        pairs.append((check_choice(pair[0], "a held-out colour", COLOURS),
                      check_choice(pair[1], "a held-out shape", SHAPES)))
    if len(COMBINATIONS) - len(set(pairs)) < MAX_OBJECTS:
        raise ValueError(f"held_out leaves fewer than {MAX_OBJECTS} seen pairs: a scene "
                         "could not be filled")
    return tuple(dict.fromkeys(pairs))


class Scenes(Dataset):
    """Scenes of 1-3 objects with captions and their full truth (see the module docstring).

    Args:
        n: number of scenes.
        image_size: H = W in pixels (>= 16); a ViT's patch size must divide it (e.g. 32, 48).
        seed: same seed and index, same scene, bit for bit, in any process and for any n.
        n_objects: objects per scene, an int or (fewest, most), drawn uniformly; at most 3.
        combinations: "any", "seen" (no held-out pair anywhere: for training) or
            "held_out" (at least one held-out pair in every scene).
        held_out: the (colour, shape) pairs held out, HELD_OUT by default.
        margin: the least distance between two centres, across and down, as a fraction of
            the image size: no relation is a near-tie.
        modalities: which of "image", "text", "audio" to give (fewer is faster).
        sample_rate, duration: of the audio (Hz, seconds).
    """

    shapes, colours, sizes, relations = SHAPES, COLOURS, SIZES, RELATIONS
    # Every word a caption can use, for tokenisers; sorted, so the same order in any process.
    words = tuple(sorted({"a", "and", "left", "of", "above", *SHAPES, *COLOURS, *SIZES}))

    def __init__(self, n=1000, image_size=32, seed=0, n_objects=(1, 3), combinations="any",
                 held_out=HELD_OUT, margin=0.12, modalities=("image", "text"),
                 sample_rate=8000, duration=0.5):
        self.n = check_int(n, "n", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=16)
        self.seed = check_int(seed, "seed")
        self.n_objects = _count_range(n_objects)
        self.combinations = check_choice(combinations, "combinations", ("any", "seen", "held_out"))
        self.held_out = _check_pairs(held_out)
        self.margin = check_positive(margin, "margin", allow_zero=True)
        if self.margin >= 0.5:
            raise ValueError(f"margin must be < 0.5 (a fraction of the image size), got {margin}")
        if not isinstance(modalities, (list, tuple)) or not modalities:
            raise TypeError(f"modalities must be a non-empty tuple of names, got {modalities!r}")
        self.modalities = tuple(dict.fromkeys(check_choice(m, "modalities[i]", MODALITIES)
                                              for m in modalities))
        self.sample_rate = check_int(sample_rate, "sample_rate", minimum=2000)
        self.duration = check_positive(duration, "duration")
        if round(self.duration * self.sample_rate) < 64:
            raise ValueError(f"duration * sample_rate must give at least 64 audio samples, "
                             f"got {self.duration} s * {self.sample_rate} Hz")
        self.max_objects = self.n_objects[1]
        self._draw()

    # ---- drawing every scene at once ----------------------------------------------------

    def _draw(self) -> None:
        n, index, seed = self.n, np.arange(self.n), self.seed
        low, high = self.n_objects
        self._count = low + np.floor(_uniform(seed, index, 0, 1)[:, 0] * (high - low + 1)).astype(int)
        present = np.arange(MAX_OBJECTS)[None, :] < self._count[:, None]

        # Which (colour, shape) pairs: the first few of a random order of the allowed pairs.
        keys = _uniform(seed, index, 1, len(COMBINATIONS))
        held = np.array([COMBINATIONS.index(pair) for pair in self.held_out])
        if self.combinations == "seen":
            keys[:, held] += 2.0  # held-out pairs sort after every seen one: never chosen
        elif self.combinations == "held_out":
            chosen = held[np.floor(_uniform(seed, index, 2, 1)[:, 0] * len(held)).astype(int)]
            keys[index, chosen] = -1.0  # one held-out pair sorts first: always chosen
        pair = np.argsort(keys, axis=1, kind="stable")[:, :MAX_OBJECTS]
        colour, shape = pair // len(SHAPES), pair % len(SHAPES)
        size = (_uniform(seed, index, 3, MAX_OBJECTS) < 0.5).astype(int)
        radius = np.array(_RADIUS)[size] * self.image_size
        offsets = _extent(shape, radius)  # (n, 3, 4)

        # Where: rejection sampling, every scene at once; a scene that fails tries again
        # with the next numbers of its own (purpose = 10 + attempt), so the result of scene
        # i never depends on the others.
        x, y = np.zeros((n, MAX_OBJECTS)), np.zeros((n, MAX_OBJECTS))
        margin, last = self.margin * self.image_size, self.image_size - 1
        pending = index
        for attempt in range(_ATTEMPTS):
            u = _uniform(seed, pending, 10 + attempt, 2 * MAX_OBJECTS).reshape(-1, MAX_OBJECTS, 2)
            off = offsets[pending]
            cx = -off[..., 0] + u[..., 0] * np.maximum(last - off[..., 2] + off[..., 0], 0)
            cy = -off[..., 1] + u[..., 1] * np.maximum(last - off[..., 3] + off[..., 1], 0)
            box = off + np.stack([cx, cy, cx, cy], axis=-1)
            ok = _acceptable(cx, cy, box, present[pending], margin)
            x[pending[ok]], y[pending[ok]] = cx[ok], cy[ok]
            pending = pending[~ok]
            if len(pending) == 0:
                break
        else:
            raise ValueError(
                f"could not place {high} objects {margin:.1f} px apart without overlap in "
                f"{self.image_size} px images ({len(pending)} scenes failed): use a larger "
                "image_size, a smaller margin or fewer objects"
            )

        # Objects listed left to right (empty slots last), so that index 0 is the leftmost.
        order = np.argsort(np.where(present, x, np.inf), axis=1, kind="stable")
        take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
        self._shape, self._colour, self._size = take(shape), take(colour), take(size)
        self._x, self._y, self._radius = take(x), take(y), take(radius)
        self._box = np.take_along_axis(offsets, order[..., None], axis=1) + np.stack(
            [self._x, self._y, self._x, self._y], axis=-1)

        # The relation the caption states: a random pair, "left of" or "above", in the
        # order that makes it true.
        u = _uniform(seed, index, 4, 2)
        self._mentioned = []
        for i in range(n):
            k = self._count[i]
            if k == 1:
                self._mentioned.append(None)
                continue
            pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
            a, b = pairs[int(u[i, 0] * len(pairs))]
            relation = RELATIONS[int(u[i, 1] * 2)]
            first = self._x[i, a] < self._x[i, b] if relation == "left of" else \
                self._y[i, a] < self._y[i, b]
            self._mentioned.append((a, relation, b) if first else (b, relation, a))
        self._captions = [caption(self._objects(i), self._mentioned[i]) for i in range(n)]

    # ---- the truth ----------------------------------------------------------------------

    def _objects(self, i: int) -> list[dict]:
        return [{"shape": SHAPES[self._shape[i, k]], "colour": COLOURS[self._colour[i, k]],
                 "size": SIZES[self._size[i, k]], "x": float(self._x[i, k]),
                 "y": float(self._y[i, k]), "box": tuple(float(v) for v in self._box[i, k]),
                 "radius": float(self._radius[i, k])}
                for k in range(self._count[i])]

    def _index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an int, got {type(index).__name__}")
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} is out of range for Scenes of {self.n}")
        return int(index) % self.n

    def truth(self, index: int) -> dict:
        """Scene ``index`` as plain data, without rendering: "objects", "relations",
        "mentioned", "caption" (see the module docstring)."""
        i = self._index(index)
        objects = self._objects(i)
        relations = []
        for a in range(len(objects)):
            for b in range(len(objects)):
                if a != b and objects[a]["x"] < objects[b]["x"]:
                    relations.append((a, "left of", b))
                if a != b and objects[a]["y"] < objects[b]["y"]:
                    relations.append((a, "above", b))
        return {"objects": objects, "relations": relations, "mentioned": self._mentioned[i],
                "caption": self._captions[i]}

    def true_captions(self, index: int) -> list[str]:
        """Every caption true of scene ``index``: one per relation it could state (one for a
        single object, 2 for two objects, 6 for three), its own caption first."""
        truth = self.truth(index)
        others = [caption(truth["objects"], m) for m in truth["relations"]
                  if tuple(m) != truth["mentioned"]]
        return [truth["caption"], *others] if truth["relations"] else [truth["caption"]]

    def gallery(self, size: int | None = None) -> list[int]:
        """Indices of scenes (in order, at most ``size``) whose captions each describe
        exactly one scene of the selection: a retrieval gallery in which every caption has
        one right image and every image one right caption. A scene is skipped when its
        caption is true of a scene already chosen, or a chosen caption is true of it."""
        if size is not None:
            size = check_int(size, "size", minimum=1)
        chosen, claimed, kept = [], set(), set()
        for i in range(self.n):
            true = set(self.true_captions(i))
            if self._captions[i] in claimed or true & kept:
                continue
            chosen.append(i)
            claimed |= true
            kept.add(self._captions[i])
            if len(chosen) == size:
                break
        return chosen

    @property
    def captions(self) -> list[str]:
        """Every scene's caption, without rendering anything (a copy)."""
        return list(self._captions)

    @property
    def counts(self) -> torch.Tensor:
        """Objects per scene, (n,) int64."""
        return torch.from_numpy(self._count.astype(np.int64))

    def has_held_out(self) -> torch.Tensor:
        """(n,) bool: the scene holds at least one held-out (colour, shape) pair."""
        held = {COMBINATIONS.index(pair) for pair in self.held_out}
        pair = self._colour * len(SHAPES) + self._shape
        present = np.arange(MAX_OBJECTS)[None, :] < self._count[:, None]
        return torch.from_numpy((np.isin(pair, list(held)) & present).any(axis=1))

    # ---- reading samples ----------------------------------------------------------------

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        i = self._index(index)
        truth = self.truth(i)
        sample = {}
        size, k = self.image_size, self._count[i]
        if "image" in self.modalities:
            distance = np.stack([
                _signed_distance(SHAPES[self._shape[i, o]], self._radius[i, o],
                                 self._x[i, o:o + 1], self._y[i, o:o + 1], size)[0]
                for o in range(k)])  # (k, H, W)
            coverage = np.clip(0.5 - distance, 0, 1)  # fraction of each pixel inside
            rgb = (coverage[:, None] * _RGB[self._colour[i, :k]][:, :, None, None]).sum(axis=0)
            sample["image"] = torch.from_numpy(np.clip(rgb, 0, 1).astype(np.float32))
            masks = np.zeros((self.max_objects, size, size), dtype=bool)
            masks[:k] = distance <= 0
            sample["masks"] = torch.from_numpy(masks)
            sample["mask"] = torch.from_numpy(masks.any(axis=0))
        if "text" in self.modalities:
            sample["text"] = truth["caption"]
        if "audio" in self.modalities:
            length = round(self.duration * self.sample_rate)
            tones = [_sound(int(self._shape[i, o]), int(self._colour[i, o]),
                            int(self._size[i, o]), -1, self.sample_rate, length)
                     for o in range(k)]  # direction -1: a steady tone, no glide or fade
            sample["audio"] = torch.from_numpy(np.mean(tones, axis=0).astype(np.float32))
        sample.update(n_objects=int(k), **truth)
        return sample

    # ---- summaries ----------------------------------------------------------------------

    def __repr__(self) -> str:
        return (f"Scenes(n={self.n}, image_size={self.image_size}, seed={self.seed}, "
                f"n_objects={self.n_objects}, combinations={self.combinations!r}, "
                f"held_out={self.held_out}, margin={self.margin}, "
                f"modalities={self.modalities})")

    def describe(self) -> str:
        """A few lines for a notebook: counts, the held-out pairs, an example caption."""
        counts = np.bincount(self._count, minlength=MAX_OBJECTS + 1)[1:]
        held = ", ".join(f"{c} {s}" for c, s in self.held_out)
        return "\n".join([
            f"Scenes: {self.n} scenes, {self.image_size}x{self.image_size} px, seed {self.seed}",
            "objects per scene: " + ", ".join(f"{k + 1}: {c}" for k, c in enumerate(counts)
                                              if k + 1 >= self.n_objects[0]),
            f"combinations: {self.combinations} (held out: {held}); scenes with a held-out "
            f"pair: {int(self.has_held_out().sum())}",
            f"distinct captions: {len(set(self._captions))}; e.g. {self._captions[0]!r}",
        ])
