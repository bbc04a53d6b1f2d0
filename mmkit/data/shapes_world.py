"""ShapesWorld: one synthetic scene seen through four modalities, with the truth kept.

A scene is a shape (circle, square, triangle) of a colour (red, yellow, green, blue) and a
size (small, large), at a position, moving in a direction (left, right, up, down). A sample
is a dict:
    "image"  float32 (3, H, W) in [0, 1]: the shape, anti-aliased, on a black background
    "text"   str, the caption, e.g. "a small red circle moving left"
    "audio"  float32 (L,) in [-1, 1], L = round(duration * sample_rate). Pitch = colour,
             waveform = shape (sine, square, sawtooth), loudness = size, direction = a
             rising (up) or falling (down) glide, a tone fading out (left) or in (right)
    "video"  float32 (T, 3, H, W) in [0, 1]: the shape moving; without noise frame 0 == image
and the ground truth: "label" (int), "attributes" (dict), "mask" (bool (H, W): pixels whose
centre lies inside the shape), "video_mask" (bool (T, H, W)) and "label_modalities".
Pixel (row i, column j) is centred at (x=j, y=i), as matplotlib's imshow draws it.

Two knobs make the picture harder to explain away, both off by default (lesson 10):
``background`` ("noise" or "texture") puts the shape on a grey pixel-noise or a smooth
coloured texture instead of black, and ``distractors`` adds that many other shapes that
the label is not about — grey ones as bright as the target by default, or of other colours
(``distractor_colour="other"``). The caption and the sound still describe the target only;
"mask" is the target's pixels, "distractor_mask" the distractors'.

A missing modality (see ``missing_prob``) is left out of the sample: its key is absent, so a
model cannot use it by accident. ``mmkit.data.collate.collate`` fills in zeros and adds a
``f"{m}_present"`` flag. Every sample keeps at least one modality.

Speed: scenes, captions, labels and missingness are drawn when the dataset is built (cheap,
vectorised); pixels and waveforms are rendered in ``__getitem__`` from a generator seeded by
(seed, index, modality), so memory stays small and a sample is the same whatever order or
process reads it.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from mmkit.checks import check_choice, check_int, check_positive

SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "yellow", "green", "blue")  # red, yellow are warm; green, blue are cool
SIZES = ("small", "large")
DIRECTIONS = ("left", "right", "up", "down")  # left, right are horizontal
MODALITIES = ("image", "text", "audio", "video")
ATTRIBUTES = {"shape": SHAPES, "colour": COLOURS, "size": SIZES, "direction": DIRECTIONS}

_RGB = np.array([[0.90, 0.15, 0.15], [0.95, 0.85, 0.10], [0.15, 0.80, 0.20], [0.20, 0.35, 0.95]])
_RADIUS = (0.11, 0.18)  # circle radius as a fraction of the image size, per size
_SQUARE_HALF = 0.886  # half-side / radius: the square has the circle's area
_TRIANGLE_R = 1.4  # circumradius / radius (equilateral, apex up)
_PITCH_HZ = (220.0, 330.0, 495.0, 742.5)  # per colour, a fifth apart
_LOUDNESS = (0.35, 0.8)  # peak amplitude per size
_GLIDE = 1.5  # up/down sounds glide by this frequency ratio
_STEP_XY = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])  # image y grows downwards

_SYNONYMS = {
    "circle": ("ball", "disc"), "square": ("box", "block"), "triangle": ("wedge",),
    "red": ("scarlet",), "yellow": ("golden",), "green": ("lime",), "blue": ("navy",),
    "small": ("tiny", "little"), "large": ("big", "huge"),
    "left": ("leftwards",), "right": ("rightwards",), "up": ("upwards",), "down": ("downwards",),
}
_TEMPLATE_WORDS = ("a", "the", "moving", "moves", "that", "is", "and")
_CAPTION_KNOBS = ("synonyms", "word_order", "wrong_word")
BACKGROUNDS = (None, "noise", "texture")
DISTRACTOR_COLOURS = ("grey", "other")

TASKS = {  # task -> (class names, modalities that carry the label, how it is defined)
    "shape": (SHAPES, MODALITIES, "the shape (image, video, caption, waveform)"),
    "colour": (COLOURS, MODALITIES, "the colour (image, video, caption, pitch)"),
    "size": (SIZES, MODALITIES, "the size (image, video, caption, loudness)"),
    "direction": (
        DIRECTIONS, ("text", "audio", "video"),
        "the direction of motion (video, caption, glide/fade); a still image cannot show it",
    ),
    "xor": (
        ("warm+horizontal or cool+vertical", "warm+vertical or cool+horizontal"),
        ("image", "text"),
        "(colour is warm) XOR (the caption's direction is horizontal). The caption names no "
        "colour and its direction is drawn apart from the motion, so no modality alone beats "
        "chance; image + text give the label exactly (video or audio can stand in for the "
        "image: they show the colour too)",
    ),
    "match": (
        ("mismatch", "match"), ("image", "text"),
        "1 if the caption describes the scene, 0 if it gets exactly one of shape, colour, "
        "size wrong (a hard negative)",
    ),
}


def _check_probability(value, name: str) -> float:
    value = check_positive(value, name, allow_zero=True)
    if value > 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
    return value


def _per_modality(value, name: str, modalities, *, probability: bool) -> dict[str, float]:
    """A number for every modality, from None (0), one number, or a dict per modality."""
    if value is None:
        value = 0.0
    if not isinstance(value, dict):
        value = dict.fromkeys(modalities, value)
    out = dict.fromkeys(modalities, 0.0)
    for m, v in value.items():
        check_choice(m, f"a key of {name}", MODALITIES)
        if probability or m == "text":  # text noise is a word-dropout rate
            v = _check_probability(v, f"{name}[{m!r}]")
        else:
            v = check_positive(v, f"{name}[{m!r}]", allow_zero=True)
        if m in out:  # a knob for a modality that is not rendered is ignored
            out[m] = v
    return out


def _class_proportions(imbalance, num_classes: int) -> np.ndarray:
    """None: balanced. r in (0, 1]: class k gets weight r**(k / (K - 1)), so the last class
    is r times the first (for two classes, minority:majority = r). A list: the proportions."""
    if imbalance is None:
        return np.full(num_classes, 1.0 / num_classes)
    if isinstance(imbalance, (list, tuple)):
        if len(imbalance) != num_classes:
            raise ValueError(
                f"imbalance as a list needs one proportion per class ({num_classes}), "
                f"got {len(imbalance)}"
            )
        weights = np.array([check_positive(w, "imbalance[i]", allow_zero=True) for w in imbalance])
        if weights.sum() == 0:
            raise ValueError("imbalance proportions must not all be 0")
        return weights / weights.sum()
    ratio = _check_probability(imbalance, "imbalance")
    if ratio == 0:
        raise ValueError("imbalance must be in (0, 1] (minority:majority ratio), got 0")
    weights = ratio ** (np.arange(num_classes) / max(num_classes - 1, 1))
    return weights / weights.sum()


def _draw_labels(n: int, proportions: np.ndarray, rng) -> np.ndarray:
    """Exactly round(p * n) labels of each class (largest remainder), shuffled."""
    raw = proportions * n
    counts = np.floor(raw).astype(int)
    extra = np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]
    counts[extra] += 1
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def _draw_scenes(task: str, labels: np.ndarray, rng) -> tuple[dict, dict, np.ndarray]:
    """Scene attributes, the attributes the caption states (-1: not stated), and for match
    negatives which attribute the caption changed (index into shape, colour, size; -1)."""
    n = len(labels)
    scene = {name: rng.integers(len(values), size=n) for name, values in ATTRIBUTES.items()}
    if task in ATTRIBUTES:
        scene[task] = labels.copy()
    said = {name: values.copy() for name, values in scene.items()}
    changed = np.full(n, -1)
    if task == "xor":
        warm = rng.integers(2, size=n)
        scene["colour"] = (1 - warm) * 2 + rng.integers(2, size=n)
        horizontal = labels ^ warm  # so that label = warm XOR horizontal
        said["direction"] = (1 - horizontal) * 2 + rng.integers(2, size=n)
        said["colour"][:] = -1  # naming the colour would give the image's half away
    elif task == "match":
        changed = np.where(labels == 1, -1, rng.integers(3, size=n))
        for k, name in enumerate(("shape", "colour", "size")):
            count = len(ATTRIBUTES[name])
            wrong = (said[name] + rng.integers(1, count, size=n)) % count  # never the same
            said[name] = np.where(changed == k, wrong, said[name])
    return scene, said, changed


def _caption_words(template: int, shape, colour, size, direction) -> list[str]:
    """Four word orders; ``colour`` may be None (the xor task names no colour)."""
    adjectives = [size] + ([colour] if colour else [])
    if template == 0:
        return ["a", *adjectives, shape, "moving", direction]
    if template == 1:
        return ["a", *adjectives, shape, "that", "moves", direction]
    if template == 2:
        return ["the", shape, "is", size, *(["and", colour] if colour else []), "and", "moves",
                direction]
    return ["moving", direction, "is", "a", *adjectives, shape]


def _signed_distance(shape: str, radius: float, cx, cy, size: int) -> np.ndarray:
    """Distance in pixels from each pixel centre to the shape's edge, negative inside.

    cx, cy: (T,) centres; returns (T, size, size). Polygons use the largest distance to
    their edge lines, exact inside and along edges (corners are slightly sharp outside).
    """
    grid = np.arange(size, dtype=np.float64)
    dx = grid[None, None, :] - cx[:, None, None]
    dy = grid[None, :, None] - cy[:, None, None]
    if shape == "circle":
        return np.sqrt(dx**2 + dy**2) - radius
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) - _SQUARE_HALF * radius
    s = np.sqrt(3) / 2  # triangle: outward normals of its edges point down, down-left...
    edges = np.maximum(dy, np.maximum(-s * dx - 0.5 * dy, s * dx - 0.5 * dy))
    return edges - _TRIANGLE_R * radius / 2  # ...and the inradius is half the circumradius


def _sound(shape: int, colour: int, size: int, direction: int, sample_rate: int, n: int):
    """The scene's sound, (n,) float64 in [-1, 1]; band-limited so nothing aliases."""
    t = np.arange(n) / sample_rate
    progress = np.arange(n) / max(n - 1, 1)
    glide = {2: progress - 0.5, 3: 0.5 - progress}.get(direction, np.zeros(n))
    frequency = _PITCH_HZ[colour] * _GLIDE**glide
    phase = 2 * np.pi * np.cumsum(frequency) / sample_rate  # phase = running sum of frequency
    top = int(0.45 * sample_rate / (_PITCH_HZ[colour] * _GLIDE**0.5))  # highest harmonic
    k = np.arange(1, max(min(top, 15), 1) + 1)
    if shape == 0:  # circle: a pure sine
        k, weight = k[:1], np.ones(1)
    elif shape == 1:  # square: odd harmonics 1/k
        k = k[k % 2 == 1]
        weight = 1.0 / k
    else:  # triangle: sawtooth, every harmonic (-1)^(k+1)/k
        weight = (-1.0) ** (k + 1) / k
    wave = weight @ np.sin(k[:, None] * phase[None, :])
    envelope = {0: 1 - 0.75 * progress, 1: 0.25 + 0.75 * progress}.get(direction, 1.0)
    fade = np.clip(np.minimum(t, t[-1] - t) / 0.01, 0, 1)  # 10 ms fades avoid clicks
    return _LOUDNESS[size] * envelope * fade * wave / np.abs(wave).max()


class ShapesWorld(Dataset):
    """Synthetic scenes as dict samples (see the module docstring for every key).

    Args:
        n: number of samples.
        image_size: H = W in pixels (>= 8).
        seed: same seed, same samples, bit for bit, in any process.
        task: one of ShapesWorld.tasks; ``describe()`` says how its label is defined.
        noise: None, or {modality: level}: gaussian std for image, audio and video (then
            clipped to their range), word-dropout probability for text.
        imbalance: None (balanced), r in (0, 1] (last class r times the first; for binary
            tasks minority:majority = r, class 1 the minority), or a list of proportions.
        missing_prob: probability that a modality is absent, one number or a dict.
        frames, sample_rate, duration: video length T; audio rate (Hz) and length (s).
        caption_variation: None, or a dict of probabilities: "synonyms" (each attribute
            word swapped for a synonym, "ball" for "circle"), "word_order" (one of three
            other word orders), "wrong_word" (one attribute word replaced by a wrong one).
        modalities: which modalities to render (all four by default; fewer is faster).
        background: None (black), "noise" (grey pixel noise, uniform in [0, background_level])
            or "texture" (a smooth random colour texture in [0, background_level]); the
            shape is drawn over it. Image and video (the same background in every frame).
        background_level: the brightest a background pixel gets (default 0.4).
        distractors: how many extra shapes to draw (default 0), each of a random shape and
            size, at a random place clear of the target's start and of each other (where the
            image has no room, as close to clear as it gets); they never move, and the label
            is never about them. distractor_colour: "grey" (default; an achromatic grey as bright as
            the target's colour on average) or "other" (a random colour other than the
            target's). Their pixels are "distractor_mask"; "attributes" lists them.
    """

    tasks = tuple(TASKS)
    shapes, colours, sizes, directions = SHAPES, COLOURS, SIZES, DIRECTIONS
    # Every word a caption can use, for tokenisers; sorted, so the same order in any process.
    words = tuple(sorted({*_TEMPLATE_WORDS, *_SYNONYMS, *sum(_SYNONYMS.values(), ())}))

    def __init__(self, n=1000, image_size=32, seed=0, task="shape", noise=None,
                 imbalance=None, missing_prob=0.0, frames=8, sample_rate=8000, duration=0.5,
                 caption_variation=None, modalities=MODALITIES, background=None,
                 background_level=0.4, distractors=0, distractor_colour="grey"):
        self.n = check_int(n, "n", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=8)
        self.seed = check_int(seed, "seed", minimum=0)
        self.task = check_choice(task, "task", self.tasks)
        self.frames = check_int(frames, "frames", minimum=2)
        self.sample_rate = check_int(sample_rate, "sample_rate", minimum=2000)
        self.duration = check_positive(duration, "duration")
        if round(self.duration * self.sample_rate) < 64:
            raise ValueError(
                f"duration * sample_rate must give at least 64 audio samples, got "
                f"{self.duration} s * {self.sample_rate} Hz"
            )
        if not isinstance(modalities, (list, tuple)) or not modalities:
            raise TypeError(f"modalities must be a non-empty tuple of names, got {modalities!r}")
        self.modalities = tuple(
            dict.fromkeys(check_choice(m, "modalities[i]", MODALITIES) for m in modalities)
        )
        if noise is not None and not isinstance(noise, dict):
            raise TypeError(f"noise must be None or a dict {{modality: level}}, got {noise!r}")
        self.noise = _per_modality(noise, "noise", self.modalities, probability=False)
        self.missing_prob = _per_modality(missing_prob, "missing_prob", self.modalities,
                                          probability=True)
        if all(p == 1 for p in self.missing_prob.values()):
            raise ValueError("missing_prob is 1 for every modality: nothing would be left")
        if caption_variation is not None and not isinstance(caption_variation, dict):
            raise TypeError(f"caption_variation must be None or a dict, got {caption_variation!r}")
        variation = caption_variation or {}
        for key in variation:
            check_choice(key, "a key of caption_variation", _CAPTION_KNOBS)
        self.caption_variation = {
            key: _check_probability(variation.get(key, 0.0), f"caption_variation[{key!r}]")
            for key in _CAPTION_KNOBS
        }
        self.imbalance = imbalance
        self.background = check_choice(background, "background", BACKGROUNDS)
        self.background_level = _check_probability(background_level, "background_level")
        self.distractors = check_int(distractors, "distractors", minimum=0)
        self.distractor_colour = check_choice(distractor_colour, "distractor_colour",
                                              DISTRACTOR_COLOURS)
        self.classes, self.label_modalities, self.rule = TASKS[self.task]
        proportions = _class_proportions(imbalance, len(self.classes))

        # Separate streams, so that e.g. changing missing_prob keeps the same scenes.
        scene_rng = np.random.default_rng([self.seed, 0])
        self._labels = _draw_labels(self.n, proportions, scene_rng)
        self._scene, self._said, self._changed = _draw_scenes(self.task, self._labels, scene_rng)
        self._draw_geometry(scene_rng)
        self._captions, self._wrong = self._draw_captions(np.random.default_rng([self.seed, 1]))
        self._present = self._draw_present(np.random.default_rng([self.seed, 2]))

    def _draw_geometry(self, rng) -> None:
        """Radius, start centre and per-frame step: the whole path stays inside the image."""
        size = self.image_size
        self._radius = np.array(_RADIUS)[self._scene["size"]] * size
        extent = _TRIANGLE_R * self._radius  # the farthest any shape reaches from its centre
        travel = min(size / 16 * (self.frames - 1), 0.35 * size)
        self._step = _STEP_XY[self._scene["direction"]] * travel / (self.frames - 1)
        low = extent[:, None] - np.minimum(self._step, 0) * (self.frames - 1)
        high = size - 1 - extent[:, None] - np.maximum(self._step, 0) * (self.frames - 1)
        self._start = low + rng.random((self.n, 2)) * np.maximum(high - low, 0)

    def _draw_captions(self, rng) -> tuple[list[str], np.ndarray]:
        """Captions, and which attribute a wrong word replaced (index into ATTRIBUTES; -1)."""
        n, knobs = self.n, self.caption_variation
        template = np.where(rng.random(n) < knobs["word_order"], rng.integers(1, 4, size=n), 0)
        wrong = rng.random(n) < knobs["wrong_word"]
        wrong_pick, wrong_offset = rng.random(n), rng.random(n)
        synonym, synonym_pick = rng.random((n, 4)) < knobs["synonyms"], rng.random((n, 4))
        dropout = rng.random((n, 12))
        captions, wrong_attribute = [], np.full(n, -1)
        for i in range(n):
            said = {name: self._said[name][i] for name in ATTRIBUTES}
            if wrong[i]:  # one stated attribute word becomes a different value
                stated = [name for name in ATTRIBUTES if said[name] >= 0]
                name = stated[int(wrong_pick[i] * len(stated))]
                count = len(ATTRIBUTES[name])
                said[name] = (said[name] + 1 + int(wrong_offset[i] * (count - 1))) % count
                wrong_attribute[i] = list(ATTRIBUTES).index(name)
            words = {}
            for k, (name, values) in enumerate(ATTRIBUTES.items()):
                word = values[said[name]] if said[name] >= 0 else None
                if word and synonym[i, k]:
                    choices = (word, *_SYNONYMS[word])
                    word = choices[1 + int(synonym_pick[i, k] * (len(choices) - 1))]
                words[name] = word
            tokens = _caption_words(int(template[i]), **words)
            keep = dropout[i, : len(tokens)] >= self.noise.get("text", 0.0)
            keep[np.argmax(dropout[i, : len(tokens)])] = True  # never drop every word
            captions.append(" ".join(t for t, k in zip(tokens, keep, strict=True) if k))
        return captions, wrong_attribute

    def _draw_present(self, rng) -> np.ndarray:
        """(n, modalities) bool; a sample that would lose everything keeps its likeliest one."""
        draws = rng.random((self.n, len(self.modalities)))
        rates = np.array([self.missing_prob[m] for m in self.modalities])
        present = draws >= rates
        keepable = np.where(rates < 1, draws, -1.0)
        empty = ~present.any(axis=1)
        present[empty, np.argmax(keepable[empty], axis=1)] = True
        return present

    # ---- reading samples ----------------------------------------------------------------

    def __len__(self) -> int:
        return self.n

    @property
    def labels(self) -> torch.Tensor:
        """All labels, (n,) int64, without rendering anything (for class weights, splits)."""
        return torch.from_numpy(self._labels.astype(np.int64))

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def _index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an int, got {type(index).__name__}")
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} is out of range for a ShapesWorld of {self.n}")
        return int(index) % self.n

    def attributes(self, index: int) -> dict:
        """The ground truth of one scene: names, and the start centre x, y, the radius and the
        step per frame in pixels; what the caption states; for match negatives, what changed."""
        i = self._index(index)
        said = {f"caption_{name}": values[self._said[name][i]] if self._said[name][i] >= 0
                else None for name, values in ATTRIBUTES.items()}
        names = ("shape", "colour", "size")
        return {
            **{name: values[self._scene[name][i]] for name, values in ATTRIBUTES.items()},
            "x": float(self._start[i, 0]), "y": float(self._start[i, 1]),
            "radius": float(self._radius[i]), "step": float(np.abs(self._step[i]).sum()),
            **said,
            "changed": names[self._changed[i]] if self._changed[i] >= 0 else None,
            "wrong_word": list(ATTRIBUTES)[self._wrong[i]] if self._wrong[i] >= 0 else None,
        }

    def __getitem__(self, index: int) -> dict:
        i = self._index(index)
        attributes = self.attributes(i)
        sample = {}
        wanted = set(self.modalities)
        if wanted & {"image", "video"}:
            frames = self.frames if "video" in wanted else 1
            t = np.arange(frames)
            cx = self._start[i, 0] + t * self._step[i, 0]
            cy = self._start[i, 1] + t * self._step[i, 1]
            distance = _signed_distance(attributes["shape"], self._radius[i], cx, cy,
                                        self.image_size)
            coverage = np.clip(0.5 - distance, 0, 1)  # fraction of the pixel inside the edge
            rgb = coverage[:, None] * _RGB[self._scene["colour"][i]][None, :, None, None]
            if self.background is not None or self.distractors:
                scene, extra = self._scenery(i, attributes)
                # the shape over the scenery, as paint over paper: coverage decides the mix
                rgb = rgb + (1 - coverage[:, None]) * scene[None]
                sample["distractor_mask"] = torch.from_numpy(extra["mask"])
                attributes["distractors"] = extra["shapes"]
            if "image" in wanted:
                sample["image"] = self._noisy(rgb[0], i, "image", 0, 1)
                sample["mask"] = torch.from_numpy(distance[0] <= 0)
            if "video" in wanted:
                sample["video"] = self._noisy(rgb, i, "video", 0, 1)
                sample["video_mask"] = torch.from_numpy(distance <= 0)
        if "text" in wanted:
            sample["text"] = self._captions[i]
        if "audio" in wanted:
            codes = [int(self._scene[name][i]) for name in ATTRIBUTES]
            wave = _sound(*codes, self.sample_rate, round(self.duration * self.sample_rate))
            sample["audio"] = self._noisy(wave, i, "audio", -1, 1)
        for m, present in zip(self.modalities, self._present[i], strict=True):
            if not present:
                del sample[m]  # ground-truth masks stay: they describe the scene
        sample.update(label=int(self._labels[i]), attributes=attributes,
                      label_modalities=self.label_modalities)
        return sample

    def _scenery(self, index: int, attributes: dict) -> tuple[np.ndarray, dict]:
        """What lies behind the target: the background with the distractors painted on it,
        (3, H, W) in [0, 1], and the distractors' mask and attributes. Drawn from its own
        random stream, so switching the knobs on changes nothing else about a scene."""
        size = self.image_size
        rng = np.random.default_rng([self.seed, 4, index])
        if self.background == "noise":
            scene = np.repeat(rng.uniform(0, self.background_level, (1, size, size)), 3, axis=0)
        elif self.background == "texture":
            coarse = torch.from_numpy(rng.uniform(0, 1, (1, 3, 5, 5)))
            smooth = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic",
                                                     align_corners=True)[0].numpy()
            scene = self.background_level * np.clip(smooth, 0, 1)
        else:
            scene = np.zeros((3, size, size))
        mask = np.zeros((size, size), dtype=bool)
        shapes = []
        target = np.array([attributes["x"], attributes["y"]])
        reach = _TRIANGLE_R * attributes["radius"]
        target_colour = COLOURS.index(attributes["colour"])
        for _ in range(self.distractors):
            shape = SHAPES[rng.integers(len(SHAPES))]
            radius = _RADIUS[rng.integers(len(_RADIUS))] * size
            extent = _TRIANGLE_R * radius
            # a place clear of the target and of the distractors so far, at random among
            # the pixel centres that are; if none is, the one farthest from them all
            axis = np.arange(np.ceil(extent), np.floor(size - 1 - extent) + 1)
            centres = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
            others = [(target, reach)] + [(np.array([d["x"], d["y"]]), _TRIANGLE_R * d["radius"])
                                          for d in shapes]
            gap = np.min([np.linalg.norm(centres - c, axis=1) - r - extent - 1
                          for c, r in others], axis=0)
            clear = np.flatnonzero(gap > 0)
            best = centres[rng.choice(clear)] if len(clear) else centres[np.argmax(gap)]
            if self.distractor_colour == "grey":
                colour = np.full(3, _RGB[target_colour].mean())
                name = "grey"
            else:
                pick = (target_colour + 1 + rng.integers(len(COLOURS) - 1)) % len(COLOURS)
                colour, name = _RGB[pick], COLOURS[pick]
            distance = _signed_distance(shape, radius, best[:1], best[1:], size)[0]
            coverage = np.clip(0.5 - distance, 0, 1)
            scene = coverage * colour[:, None, None] + (1 - coverage) * scene
            mask |= distance <= 0
            shapes.append({"shape": shape, "colour": name, "x": float(best[0]),
                           "y": float(best[1]), "radius": float(radius)})
        return scene, {"mask": mask, "shapes": shapes}

    def _noisy(self, clean: np.ndarray, index: int, modality: str, low, high) -> torch.Tensor:
        std = self.noise[modality]
        if std > 0:
            rng = np.random.default_rng([self.seed, 3, index, MODALITIES.index(modality)])
            clean = np.clip(clean + std * rng.standard_normal(clean.shape), low, high)
        return torch.from_numpy(clean.astype(np.float32))

    # ---- summaries ----------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"ShapesWorld(n={self.n}, image_size={self.image_size}, seed={self.seed}, "
            f"task={self.task!r}, noise={self.noise}, imbalance={self.imbalance}, "
            f"missing_prob={self.missing_prob}, frames={self.frames}, "
            f"sample_rate={self.sample_rate}, duration={self.duration}, "
            f"caption_variation={self.caption_variation}, modalities={self.modalities}"
            + (f", background={self.background!r}, background_level={self.background_level}"
               if self.background is not None else "")
            + (f", distractors={self.distractors}, distractor_colour={self.distractor_colour!r}"
               if self.distractors else "")
            + ")"
        )

    def describe(self) -> str:
        """A few lines for a notebook: the task, its label, the classes and the knobs."""
        counts = np.bincount(self._labels, minlength=self.num_classes)
        classes = ", ".join(f"{k}={name!r} ({c})" for k, (name, c) in
                            enumerate(zip(self.classes, counts, strict=True)))
        missing = (~self._present).mean(axis=0)
        return "\n".join([
            f"ShapesWorld: {self.n} scenes, {self.image_size}x{self.image_size} px, "
            f"seed {self.seed}",
            f"task {self.task!r}: label = {self.rule}",
            f"label carried by: {', '.join(self.label_modalities)}",
            f"classes: {classes}",
            f"modalities: {', '.join(self.modalities)} (video {self.frames} frames, audio "
            f"{self.duration} s at {self.sample_rate} Hz)",
            f"noise: {self.noise}",
            "missing: " + ", ".join(f"{m} {r:.1%}" for m, r in
                                    zip(self.modalities, missing, strict=True)),
            f"caption variation: {self.caption_variation}",
            *([f"background: {self.background} (up to {self.background_level})"]
              if self.background is not None else []),
            *([f"distractors: {self.distractors} per image ({self.distractor_colour}), never "
               "the label's object"] if self.distractors else []),
        ])
