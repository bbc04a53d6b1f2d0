"""Referring questions: "what size is the red circle?" about a scene of two or three objects.

Each question names one object of a ``Scenes`` scene by its colour and shape and asks its
size; the answer is "small" or "large". The object is chosen among those whose colour no
other object of the scene has, so the colour alone already picks it out (the shape word is
there as people say it). To answer, a model must find *that* object among the others and
read its size: a different object of the same picture gives a different answer, so the
picture alone says nothing, and neither does the question alone.

    >>> questions = ReferringQuestions(n=500, seed=0)
    >>> sample = questions[0]
    >>> sample["text"], questions.classes[sample["label"]]
    ('what size is the green circle', 'large')
    >>> sample["mask"].shape, sample["target"]          # the named object's pixels
    (torch.Size([32, 32]), 0)

A sample is a dict:
    "image"      float32 (3, H, W), the scene
    "text"       str, the question (always six words: "what size is the <colour> <shape>")
    "label"      int, 0 = small, 1 = large (``classes``)
    "mask"       bool (H, W), the named object's pixels
    "masks"      bool (3, H, W), every object's pixels (rows past the scene's objects False)
    "target"     int, the named object's index in the scene (objects run left to right)
    "n_objects"  int
    "scene"      int, the index of the scene in the underlying ``Scenes``
and, as plain data without rendering, ``truth(index)``.

Determinism: question i is the same for any n (``ReferringQuestions(n=10)`` is the start of
``ReferringQuestions(n=1000)``), as the scenes are.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from mmkit.checks import check_int
from mmkit.data.scenes import COLOURS, SHAPES, Scenes

CLASSES = ("small", "large")
TEMPLATE = "what size is the {colour} {shape}"


def _unique_colour_objects(objects) -> list[int]:
    colours = [obj["colour"] for obj in objects]
    return [k for k, colour in enumerate(colours) if colours.count(colour) == 1]


class ReferringQuestions(Dataset):
    """Questions about one object of a multi-object scene (see the module docstring).

    Args:
        n: number of questions (one per scene; scenes with no object of a unique colour
            are skipped).
        image_size: H = W of the scenes, in pixels.
        seed: the scenes' seed and the choice of the object asked about.
        n_objects: objects per scene, an int or (fewest, most), at least 2.
        combinations: as ``Scenes`` ("any", "seen", "held_out").
    """

    classes = CLASSES
    # Every word a question can use, in a fixed order (for a Vocabulary).
    words = ("what", "size", "is", "the", *COLOURS, *SHAPES)

    def __init__(self, n=1000, image_size=32, seed=0, n_objects=(2, 3), combinations="any"):
        self.n = check_int(n, "n", minimum=1)
        self.seed = check_int(seed, "seed")
        fewest = n_objects[0] if isinstance(n_objects, (tuple, list)) else n_objects
        if check_int(fewest, "n_objects (fewest)", minimum=1) < 2:
            raise ValueError(f"n_objects must be at least 2 (a question must pick one object "
                             f"among others), got {n_objects!r}")
        # Draw enough scenes for n questions: about 90 % of scenes have an object of a
        # colour of its own; draw more until there are n.
        count = n + n // 4 + 16
        while True:
            self.scenes = Scenes(n=count, image_size=image_size, seed=seed, n_objects=n_objects,
                                 combinations=combinations, modalities=("image",))
            self._choose()
            if len(self._scene) >= n:
                break
            count *= 2
        self._scene, self._target = self._scene[:n], self._target[:n]
        self.image_size = self.scenes.image_size

    def _choose(self) -> None:
        """Which scenes, and which object of each: one random draw per usable scene, in
        order, so question i does not depend on n."""
        rng = np.random.default_rng([self.seed, 12])
        self._scene, self._target = [], []
        for index in range(len(self.scenes)):
            candidates = _unique_colour_objects(self.scenes.truth(index)["objects"])
            if candidates:
                self._scene.append(index)
                self._target.append(candidates[int(rng.integers(len(candidates)))])

    def __len__(self) -> int:
        return self.n

    def _index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an int, got {type(index).__name__}")
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} is out of range for {self.n} questions")
        return int(index) % self.n

    def truth(self, index: int) -> dict:
        """Question ``index`` without pixels: "text", "label", "target", "scene", "objects"."""
        i = self._index(index)
        objects = self.scenes.truth(self._scene[i])["objects"]
        target = objects[self._target[i]]
        return {"text": TEMPLATE.format(colour=target["colour"], shape=target["shape"]),
                "label": CLASSES.index(target["size"]), "target": self._target[i],
                "scene": self._scene[i], "objects": objects}

    @property
    def labels(self) -> torch.Tensor:
        """Every answer, (n,) int64, without rendering."""
        return torch.tensor([self.truth(i)["label"] for i in range(self.n)])

    def __getitem__(self, index: int) -> dict:
        truth = self.truth(index)
        scene = self.scenes[truth["scene"]]
        return {"image": scene["image"], "text": truth["text"], "label": truth["label"],
                "mask": scene["masks"][truth["target"]], "masks": scene["masks"],
                "target": truth["target"], "n_objects": scene["n_objects"],
                "scene": truth["scene"]}

    def __repr__(self) -> str:
        return f"ReferringQuestions(n={self.n}, seed={self.seed}, scenes={self.scenes!r})"

    def describe(self) -> str:
        """A few lines for a notebook: counts, answers, an example."""
        labels = self.labels
        counts = self.scenes.counts[self._scene]
        return "\n".join([
            f"ReferringQuestions: {self.n} questions on {self.image_size}x{self.image_size} "
            f"scenes, seed {self.seed}",
            "objects per scene: " + ", ".join(f"{k}: {int((counts == k).sum())}"
                                              for k in range(2, 4) if (counts == k).any()),
            "answers: " + ", ".join(f"{name}: {int((labels == k).sum())}"
                                    for k, name in enumerate(CLASSES)),
            f"e.g. {self.truth(0)['text']!r} -> {CLASSES[self.truth(0)['label']]}",
        ])
