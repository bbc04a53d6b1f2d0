"""Questions and answers about Scenes, written from their truth: the data of lesson 13.

A vision-language model is taught with (image, prompt, answer) triples. Scenes keep every
object, so every answer below is a fact, and so is every mistake:

    >>> scenes = Scenes(n=100, seed=0)
    >>> qa_rows(scenes, seed=0)[:3]
    [{'scene': 0, 'type': 'caption', 'prompt': 'describe the scene', 'answer': 'a large ...'},
     {'scene': 0, 'type': 'colour', 'prompt': 'what colour is the triangle', 'answer': 'blue'},
     {'scene': 0, 'type': 'shape', 'prompt': 'what shape is the green object', ...}]

Question types (one of each that applies, per scene and repeat):
    colour     "what colour is the <shape>"            asked only if one object has that shape
    shape      "what shape is the <colour> object"     only if one object has that colour
    count      "how many objects are there" or "how many <colour> objects are there"
               -> "zero" .. "three"
    position   "where is the <colour shape>" -> "top left", "top right", "bottom left" or
               "bottom right": the quarter of the image its centre is in; asked only if the
               centre is at least 1/16 of the image from both middle lines (no near-ties)
    existence  "is there a <colour shape>" -> yes / no, half about an object in the scene,
               half about a random (colour, shape) that is not
and, not asked by default (it takes two look-ups and a comparison, which a decoder trained
for seconds does not learn):
    relation   "is the <colour shape> left of / above the <colour shape>" -> yes / no,
               half true and half false (two objects or more)
Objects are named by colour and shape, which no two objects of a scene share.

For hallucination, ``pope_probes`` writes POPE's yes/no probes with three kinds of absent
objects; ``cell_labels`` gives the per-cell truth a patch encoder can be pretrained on.
Every random choice for scene i is drawn from a generator seeded with (seed, i, purpose):
the same rows in any process, whatever else is asked for.
"""

from collections import Counter

import numpy as np
import torch

from mmkit.checks import check_choice, check_int
from mmkit.data.shapes_world import COLOURS, SHAPES, SIZES

CAPTION_PROMPT = "describe the scene"
QUESTION_TYPES = ("colour", "shape", "count", "position", "existence")
ALL_QUESTION_TYPES = (*QUESTION_TYPES, "relation")
NUMBERS = ("zero", "one", "two", "three")
POPE_KINDS = ("random", "popular", "adversarial")
PAIRS = tuple((colour, shape) for colour in COLOURS for shape in SHAPES)


def _truths(scenes) -> list[dict]:
    """The truth of every scene: a Scenes dataset (read without rendering) or a list of
    truth dicts with "objects" and "relations"."""
    if hasattr(scenes, "truth") and hasattr(scenes, "__len__"):
        return [scenes.truth(i) for i in range(len(scenes))]
    if isinstance(scenes, (list, tuple)) and all(isinstance(t, dict) and "objects" in t
                                                 for t in scenes):
        return list(scenes)
    raise TypeError("scenes must be a mmkit.data.Scenes dataset or a list of its truth dicts "
                    f"(Scenes.truth(i)), got {type(scenes).__name__}")


def _name(obj: dict) -> str:
    return f"{obj['colour']} {obj['shape']}"


def _quarter(obj: dict, image_size: int) -> str | None:
    """ "top left" .. "bottom right" for the object's centre, or None near a middle line.
    Pixel (row i, column j) is centred at (x=j, y=i): the middle lines lie at size/2 - 0.5."""
    middle, margin = image_size / 2 - 0.5, image_size / 16
    if abs(obj["x"] - middle) < margin or abs(obj["y"] - middle) < margin:
        return None
    return f"{'top' if obj['y'] < middle else 'bottom'} {'left' if obj['x'] < middle else 'right'}"


def scene_questions(truth: dict, rng: np.random.Generator, types=QUESTION_TYPES,
                    image_size: int = 32) -> list[dict]:
    """One question of each type in ``types`` that the scene allows, with its answer:
    [{"type", "prompt", "answer"}]. ``truth`` is ``Scenes.truth(i)``; ``image_size`` that
    of the scenes (for the position questions)."""
    objects = truth["objects"]
    shapes = [o["shape"] for o in objects]
    colours = [o["colour"] for o in objects]
    rows = []
    if "colour" in types:
        unique = [o for o in objects if shapes.count(o["shape"]) == 1]
        if unique:
            obj = unique[rng.integers(len(unique))]
            rows.append(("colour", f"what colour is the {obj['shape']}", obj["colour"]))
    if "shape" in types:
        unique = [o for o in objects if colours.count(o["colour"]) == 1]
        if unique:
            obj = unique[rng.integers(len(unique))]
            rows.append(("shape", f"what shape is the {obj['colour']} object", obj["shape"]))
    if "count" in types:
        if rng.random() < 0.5:
            rows.append(("count", "how many objects are there", NUMBERS[len(objects)]))
        else:
            colour = COLOURS[rng.integers(len(COLOURS))]
            rows.append(("count", f"how many {colour} objects are there",
                         NUMBERS[colours.count(colour)]))
    if "position" in types:
        obj = objects[rng.integers(len(objects))]
        quarter = _quarter(obj, image_size)
        if quarter is not None:
            rows.append(("position", f"where is the {_name(obj)}", quarter))
    if "relation" in types and len(objects) > 1:
        true_relations = {tuple(r) for r in truth["relations"]}
        i, j = (int(k) for k in rng.choice(len(objects), size=2, replace=False))
        relation = ("left of", "above")[rng.integers(2)]
        if (rng.random() < 0.5) != ((i, relation, j) in true_relations):
            i, j = j, i  # ask the pair in the order that gives the answer drawn (yes or no)
        answer = "yes" if (i, relation, j) in true_relations else "no"
        rows.append(("relation", f"is the {_name(objects[i])} {relation} the "
                                 f"{_name(objects[j])}", answer))
    if "existence" in types:
        present = {(o["colour"], o["shape"]) for o in objects}
        if rng.random() < 0.5:
            obj = objects[rng.integers(len(objects))]
            rows.append(("existence", f"is there a {_name(obj)}", "yes"))
        else:
            absent = [p for p in PAIRS if p not in present]
            colour, shape = absent[rng.integers(len(absent))]
            rows.append(("existence", f"is there a {colour} {shape}", "no"))
    return [{"type": t, "prompt": p, "answer": a} for t, p, a in rows]


def qa_rows(scenes, seed: int = 0, repeats: int = 1, captions: bool = True,
            types=QUESTION_TYPES) -> list[dict]:
    """Training or test rows for every scene: its caption (prompt CAPTION_PROMPT) if
    ``captions``, then ``repeats`` rounds of ``scene_questions``. Each row is
    {"scene": index, "type", "prompt", "answer"}. scenes: a Scenes dataset (its image size
    decides the quarters of "position") or a list of its truth dicts (32 pixels assumed)."""
    seed = check_int(seed, "seed")
    repeats = check_int(repeats, "repeats")
    if isinstance(types, str) or not isinstance(types, (list, tuple)):
        raise TypeError(f"types must be a tuple of question types, got {types!r}")
    for t in types:
        check_choice(t, "types[i]", ALL_QUESTION_TYPES)
    size = getattr(scenes, "image_size", 32)
    rows = []
    for index, truth in enumerate(_truths(scenes)):
        if captions:
            rows.append({"scene": index, "type": "caption", "prompt": CAPTION_PROMPT,
                         "answer": truth["caption"]})
        rng = np.random.default_rng([seed, index, 1])
        for _ in range(repeats):
            rows += [{"scene": index, **row}
                     for row in scene_questions(truth, rng, types, size)]
    return rows


def object_frequencies(scenes) -> Counter:
    """How many scenes hold each (colour, shape): what "popular" means for POPE."""
    counts = Counter({pair: 0 for pair in PAIRS})
    for truth in _truths(scenes):
        counts.update({(o["colour"], o["shape"]) for o in truth["objects"]})
    return counts


def _negatives(kind: str, present: set, count: int, rng, ranking) -> list[tuple]:
    absent = [p for p in PAIRS if p not in present]
    if kind == "popular":  # the most frequent objects that are not there
        return sorted(absent, key=ranking.index)[:count]
    if kind == "adversarial":  # near misses: share a colour or a shape with one that is there
        near = [p for p in absent if any(p[0] == c or p[1] == s for c, s in present)]
        absent = near if len(near) >= count else absent
    picked = rng.choice(len(absent), size=min(count, len(absent)), replace=False)
    return [absent[k] for k in sorted(picked)]


def pope_probes(scenes, kind: str = "random", seed: int = 0, frequencies=None) -> list[dict]:
    """POPE's yes/no probes "is there a <colour shape>", balanced: for each scene one probe
    per object in it (answer "yes") and as many about objects that are not (answer "no").

    kind picks the absent objects:
      "random"       any (colour, shape) not in the scene;
      "popular"      the most frequent ones in ``frequencies`` (a Counter of (colour, shape),
                     e.g. ``object_frequencies(train_scenes)``; default: these scenes);
      "adversarial"  near misses that share a colour or a shape with an object in the scene.
                     POPE's adversarial negatives co-occur often with the objects present;
                     in Scenes objects are drawn independently, so nothing co-occurs more
                     than chance, and the hardest absent objects are near misses instead.
    Each row: {"scene", "type": "existence", "prompt", "answer", "kind", "object"}.
    """
    check_choice(kind, "kind", POPE_KINDS)
    seed = check_int(seed, "seed")
    truths = _truths(scenes)
    if frequencies is None:
        frequencies = object_frequencies(truths)
    if not isinstance(frequencies, dict):
        raise TypeError("frequencies must be a Counter of (colour, shape) -> count, got "
                        f"{type(frequencies).__name__}")
    # Most frequent first; ties in the fixed order of PAIRS, so the ranking is reproducible.
    ranking = sorted(PAIRS, key=lambda p: (-frequencies.get(p, 0), PAIRS.index(p)))
    rows = []
    for index, truth in enumerate(truths):
        present = [(o["colour"], o["shape"]) for o in truth["objects"]]
        rng = np.random.default_rng([seed, index, 2 + POPE_KINDS.index(kind)])
        negatives = _negatives(kind, set(present), len(present), rng, ranking)
        for pair, answer in [*((p, "yes") for p in present), *((p, "no") for p in negatives)]:
            rows.append({"scene": index, "type": "existence",
                         "prompt": f"is there a {pair[0]} {pair[1]}", "answer": answer,
                         "kind": kind, "object": pair})
    return rows


def cell_labels(scenes, grid: int = 4, image_size: int = 32) -> dict:
    """Per-cell truth for pretraining a patch encoder: the image cut into grid x grid cells;
    a cell holding an object's centre gets that object's colour, shape and size (1-based:
    COLOURS, SHAPES, SIZES) and where in the cell the centre lies ("offset", x and y in
    [0, 1)); every other cell gets 0, "nothing here", and offset 0.

    Returns {"colour", "shape", "size"}: (n, grid, grid) int64, and "offset" (n, grid, grid,
    2) float32. Scene objects' centres are at least Scenes' margin apart across and down, so
    with cells of 8 pixels (grid 4 on 32 pixels) two centres almost never share a cell; if
    they do, the object listed later wins. Pixel (row i, column j) is centred at (x=j, y=i),
    so the image spans -0.5 .. size - 0.5 and cell c spans c * size / grid - 0.5 onwards.
    """
    grid = check_int(grid, "grid", minimum=1)
    image_size = check_int(image_size, "image_size", minimum=grid)
    truths = _truths(scenes)
    labels = {key: torch.zeros(len(truths), grid, grid, dtype=torch.long)
              for key in ("colour", "shape", "size")}
    labels["offset"] = torch.zeros(len(truths), grid, grid, 2)
    for index, truth in enumerate(truths):
        for obj in truth["objects"]:
            x, y = ((obj[k] + 0.5) * grid / image_size for k in ("x", "y"))
            row, col = min(int(y), grid - 1), min(int(x), grid - 1)
            labels["colour"][index, row, col] = COLOURS.index(obj["colour"]) + 1
            labels["shape"][index, row, col] = SHAPES.index(obj["shape"]) + 1
            labels["size"][index, row, col] = SIZES.index(obj["size"]) + 1
            labels["offset"][index, row, col] = torch.tensor([x - col, y - row])
    return labels


def vocabulary_words() -> tuple:
    """Every word a prompt or an answer here can use (captions included), sorted."""
    from mmkit.data.scenes import Scenes

    words = set(Scenes.words) | set(NUMBERS) | {"yes", "no"}
    words |= set(CAPTION_PROMPT.split())
    words |= set("what colour is the shape object how many objects are there where top bottom "
                 "left right".split())
    return tuple(sorted(words))
