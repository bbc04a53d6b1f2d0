"""Two small text tasks in which the order of the words is the whole point (lesson 04).

- ``word_order_captions``: "a small red circle is left of a large blue square". The label
  says on which side the *warmer* colour is (red, then yellow, green, blue: warmest first).
  Swapping the two colours keeps every word and flips the label, so a model that sees only
  which words occur (a bag of embeddings) cannot beat chance; one that reads the order
  (an LSTM, a Transformer with positions) can.
- ``remember_first``: a key token (A or B) followed by length - 1 random distractor tokens;
  the label is the key. The answer sits at the far end of the sequence from where a
  recurrent network reads out its state: a long-range dependency, where a plain RNN's
  gradient vanishes.

Both are seeded: the same seed gives the same data in any process.
"""

import numpy as np
import torch

from mmkit.checks import check_int

WARMTH = ("red", "yellow", "green", "blue")  # warmest first
SHAPES = ("circle", "square", "triangle")
SIZES = ("small", "large")
RELATIONS = ("left", "right")
WORD_ORDER_CLASSES = ("the warmer colour is on the right", "the warmer colour is on the left")

# remember_first's token ids: 0 is padding (unused: every sequence is full), 1 and 2 the keys.
KEYS = (1, 2)
FIRST_DISTRACTOR = 3


def word_order_captions(n: int, seed: int = 0) -> dict:
    """n captions "a {size} {colour} {shape} is {left|right} of a {size} {colour} {shape}".

    Returns {"text": list of n str, "label": int64 (n,)}: label 1 when the warmer of the
    two colours (WARMTH order) is on the left, 0 when it is on the right. The two colours
    always differ. Classes are balanced on average (each caption's label is a fair coin).
    """
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed")
    rng = np.random.default_rng([seed, 4])
    first = rng.integers(len(WARMTH), size=n)
    second = (first + rng.integers(1, len(WARMTH), size=n)) % len(WARMTH)  # never the same
    relation = rng.integers(len(RELATIONS), size=n)  # 0: "left of", 1: "right of"
    shapes = rng.integers(len(SHAPES), size=(n, 2))
    sizes = rng.integers(len(SIZES), size=(n, 2))
    texts = [
        f"a {SIZES[sizes[i, 0]]} {WARMTH[first[i]]} {SHAPES[shapes[i, 0]]} is "
        f"{RELATIONS[relation[i]]} of a {SIZES[sizes[i, 1]]} {WARMTH[second[i]]} "
        f"{SHAPES[shapes[i, 1]]}"
        for i in range(n)
    ]
    first_is_left = relation == 0
    first_is_warmer = first < second
    labels = (first_is_left == first_is_warmer).astype(np.int64)
    return {"text": texts, "label": torch.from_numpy(labels)}


def word_order_label(caption: str) -> int:
    """The label ``word_order_captions`` gives a caption of its form: 1 when the warmer
    colour is on the left, 0 when it is on the right.

    "a small red circle is left of a large blue square" -> 1 (red, the warmer, is left).
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    words = caption.split()
    colours = [w for w in words if w in WARMTH]
    relations = [w for w in words if w in RELATIONS]
    if len(colours) != 2 or colours[0] == colours[1] or len(relations) != 1:
        raise ValueError(
            "caption must name two different colours of "
            f"{WARMTH} and one relation of {RELATIONS}, like 'a small red circle is left of a "
            f"large blue square'; got {caption!r}"
        )
    first_is_warmer = WARMTH.index(colours[0]) < WARMTH.index(colours[1])
    return int((relations[0] == "left") == first_is_warmer)


def remember_first(n: int, length: int, seed: int = 0, distractors: int = 10) -> dict:
    """n sequences of ``length`` token ids: a key (1 or 2) first, then random distractors.

    Returns {"text": int64 (n, length), "label": int64 (n,)}: label = key - 1. Distractor
    ids are 3 .. 2 + distractors, so the vocabulary has 3 + distractors ids (0 = padding).
    """
    n = check_int(n, "n", minimum=1)
    length = check_int(length, "length", minimum=2)
    seed = check_int(seed, "seed")
    distractors = check_int(distractors, "distractors", minimum=1)
    rng = np.random.default_rng([seed, 5])
    labels = rng.integers(2, size=n)
    ids = rng.integers(FIRST_DISTRACTOR, FIRST_DISTRACTOR + distractors, size=(n, length))
    ids[:, 0] = np.array(KEYS)[labels]
    return {"text": torch.from_numpy(ids.astype(np.int64)),
            "label": torch.from_numpy(labels.astype(np.int64))}
