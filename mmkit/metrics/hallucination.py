"""Hallucination (幻觉) measured against the truth: CHAIR for captions, POPE for yes/no probes.

A vision-language model hallucinates when it names something the image does not show.
Scenes keep every object, so both measures are facts, not opinions:

- CHAIR (Rohrbach et al., 2018), on generated captions: CHAIR-i is the share of object
  mentions that name an object not in the scene; CHAIR-s the share of captions with at
  least one such mention. An object here is a (colour, shape) pair: "a small red circle" is
  a hallucination if the scene has no red circle (a wrong size is an attribute error, not
  an object that is not there).
- POPE (Li et al., 2023), on yes/no questions "is there a <object>?", half of them about
  objects in the scene and half about objects that are not: accuracy, precision, recall
  and F1 with "yes" as the positive class, and the yes-ratio. A model that leans on "yes"
  shows it in the yes-ratio (0.5 is right for balanced probes) and in its precision.
"""

import math

from mmkit.data.shapes_world import COLOURS, SHAPES


def object_mentions(caption: str) -> list[tuple]:
    """The objects a caption names, in order: (colour, shape) for each shape word, its colour
    the word just before it (None when that word is not a colour).

    >>> object_mentions("a small red circle left of a large blue square")
    [('red', 'circle'), ('blue', 'square')]
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    words = caption.lower().split()
    return [(words[i - 1] if i > 0 and words[i - 1] in COLOURS else None, word)
            for i, word in enumerate(words) if word in SHAPES]


def _scene_objects(objects, name: str) -> set:
    """{(colour, shape)} from a scene's objects: dicts with "colour" and "shape" (as
    ``Scenes.truth(i)["objects"]``) or (colour, shape) pairs."""
    if isinstance(objects, (str, dict)) or not hasattr(objects, "__iter__"):
        raise TypeError(f"{name} must be a list of objects (dicts with 'colour' and 'shape', "
                        f"or (colour, shape) pairs), got {type(objects).__name__}")
    pairs = set()
    for obj in objects:
        if isinstance(obj, dict):
            if "colour" not in obj or "shape" not in obj:
                raise ValueError(f"each object of {name} needs 'colour' and 'shape', got "
                                 f"keys {sorted(obj)}")
            pairs.add((obj["colour"], obj["shape"]))
        elif isinstance(obj, (list, tuple)) and len(obj) == 2:
            pairs.add(tuple(obj))
        else:
            raise TypeError(f"each object of {name} must be a dict or a (colour, shape) pair, "
                            f"got {obj!r}")
    return pairs


def is_hallucinated(mention: tuple, present: set) -> bool:
    """A mention (colour, shape) names no object of the scene; a shape with no colour
    before it is a hallucination only if the scene has no object of that shape at all."""
    colour, shape = mention
    if colour is None:
        return not any(s == shape for _, s in present)
    return (colour, shape) not in present


def chair(captions, objects) -> dict:
    """CHAIR of generated captions against the objects of their scenes.

    captions: list[str]; objects: one list per caption of the scene's objects (dicts with
    "colour" and "shape", e.g. ``scenes.truth(i)["objects"]``, or (colour, shape) pairs).
    Returns {"chair_i": hallucinated mentions / mentions, "chair_s": captions with a
    hallucinated mention / captions, "coverage": the share of the scenes' objects that are
    named, "mentions": int, "hallucinated": int}. With no mention at all chair_i is NaN: a
    model that names nothing cannot be scored by it (look at coverage).
    """
    if isinstance(captions, str) or not isinstance(captions, (list, tuple)):
        raise TypeError(f"captions must be a list of str, got {type(captions).__name__}")
    if isinstance(objects, (str, dict)) or not isinstance(objects, (list, tuple)):
        raise TypeError(f"objects must be a list with one list of objects per caption, got "
                        f"{type(objects).__name__}")
    if not captions:
        raise ValueError("captions is empty: score at least one caption")
    if len(objects) != len(captions):
        raise ValueError(f"objects must hold one list per caption: {len(captions)} captions, "
                         f"{len(objects)} lists of objects")
    mentions = hallucinated = bad_captions = named = total_objects = 0
    for i, (text, scene) in enumerate(zip(captions, objects, strict=True)):
        present = _scene_objects(scene, f"objects[{i}]")
        found = object_mentions(text)
        wrong = sum(is_hallucinated(m, present) for m in found)
        mentions += len(found)
        hallucinated += wrong
        bad_captions += wrong > 0
        named += len(present & set(found))
        total_objects += len(present)
    return {"chair_i": hallucinated / mentions if mentions else math.nan,
            "chair_s": bad_captions / len(captions),
            "coverage": named / total_objects if total_objects else math.nan,
            "mentions": mentions, "hallucinated": hallucinated}


def _yes(answer, name: str) -> bool:
    if isinstance(answer, bool):
        return answer
    if not isinstance(answer, str):
        raise TypeError(f"{name} must hold str answers (or bools), got {type(answer).__name__}")
    words = answer.lower().split()
    return bool(words) and words[0] == "yes"


def pope(answers, truth) -> dict:
    """POPE scores of yes/no answers to "is there a ...?" probes.

    answers: the model's answers, list[str] (an answer is a yes if its first word is
    "yes"; anything else counts as no) or list[bool]; truth: whether each object is really
    there, list[bool] or list of "yes"/"no". Returns {"accuracy", "precision", "recall",
    "f1", "yes_ratio"}, "yes" being the positive class; precision (and so F1) is 0 when
    the model never says yes.
    """
    for name, values in (("answers", answers), ("truth", truth)):
        if isinstance(values, str) or not isinstance(values, (list, tuple)):
            raise TypeError(f"{name} must be a list, got {type(values).__name__}")
    if not answers:
        raise ValueError("answers is empty: score at least one probe")
    if len(answers) != len(truth):
        raise ValueError(f"answers and truth must have the same length, got {len(answers)} "
                         f"and {len(truth)}")
    said = [_yes(a, "answers") for a in answers]
    real = [_yes(t, "truth") for t in truth]
    true_yes = sum(s and r for s, r in zip(said, real, strict=True))
    correct = sum(s == r for s, r in zip(said, real, strict=True))
    precision = true_yes / sum(said) if any(said) else 0.0
    recall = true_yes / sum(real) if any(real) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": correct / len(said), "precision": precision, "recall": recall,
            "f1": f1, "yes_ratio": sum(said) / len(said)}
