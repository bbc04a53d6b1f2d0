"""Questions, answers and probes about Scenes: every answer agrees with the truth (recomputed
here from the rendered masks and the objects, not from the generator's own code), the rows are
reproducible, and POPE's negatives are of the kind asked for."""

import numpy as np
import pytest
import torch

from mmkit.data import Scenes
from mmkit.data.scene_qa import (
    CAPTION_PROMPT,
    NUMBERS,
    PAIRS,
    QUESTION_TYPES,
    cell_labels,
    object_frequencies,
    pope_probes,
    qa_rows,
    scene_questions,
)


@pytest.fixture(scope="module")
def scenes():
    return Scenes(n=300, seed=4)


def _object(truth, colour, shape):
    found = [o for o in truth["objects"] if o["colour"] == colour and o["shape"] == shape]
    return found[0] if found else None


def test_every_answer_agrees_with_the_truth(scenes):
    rows = qa_rows(scenes, seed=2, repeats=2, types=(*QUESTION_TYPES, "relation"))
    seen = set()
    for row in rows:
        truth = scenes.truth(row["scene"])
        objects = truth["objects"]
        words = row["prompt"].split()
        kind, answer = row["type"], row["answer"]
        seen.add(kind)
        if kind == "caption":
            assert row["prompt"] == CAPTION_PROMPT and answer == truth["caption"]
        elif kind == "colour":  # "what colour is the <shape>"
            same = [o for o in objects if o["shape"] == words[-1]]
            assert len(same) == 1 and answer == same[0]["colour"]
        elif kind == "shape":  # "what shape is the <colour> object"
            same = [o for o in objects if o["colour"] == words[-2]]
            assert len(same) == 1 and answer == same[0]["shape"]
        elif kind == "count":
            counted = objects if len(words) == 5 else [o for o in objects if o["colour"] == words[2]]
            assert answer == NUMBERS[len(counted)]
        elif kind == "position":  # "where is the <colour> <shape>"
            obj = _object(truth, words[-2], words[-1])
            vertical, horizontal = answer.split()
            assert (obj["y"] < 15.5) == (vertical == "top") and (obj["x"] < 15.5) == (horizontal == "left")
            assert abs(obj["x"] - 15.5) >= 2 and abs(obj["y"] - 15.5) >= 2  # no near-ties
        elif kind == "existence":
            assert (answer == "yes") == (_object(truth, words[-2], words[-1]) is not None)
        elif kind == "relation":  # "is the c s left of / above the c s"
            a, b = _object(truth, words[2], words[3]), _object(truth, words[-2], words[-1])
            above = words[4] == "above"
            is_true = a["y"] < b["y"] if above else a["x"] < b["x"]
            assert (answer == "yes") == is_true
    assert seen == {"caption", *QUESTION_TYPES, "relation"}


def test_yes_and_no_are_balanced(scenes):
    rows = qa_rows(scenes, seed=0, repeats=3, captions=False, types=("existence", "relation"))
    for kind in ("existence", "relation"):
        answers = [r["answer"] for r in rows if r["type"] == kind]
        assert 0.4 < answers.count("yes") / len(answers) < 0.6


def test_rows_are_reproducible_and_depend_on_the_seed(scenes):
    assert qa_rows(scenes, seed=1) == qa_rows(scenes, seed=1)
    assert qa_rows(scenes, seed=1) != qa_rows(scenes, seed=2)
    # Scene i's questions do not depend on how many scenes there are.
    short = qa_rows(Scenes(n=20, seed=4), seed=1)
    assert short == [r for r in qa_rows(scenes, seed=1) if r["scene"] < 20]


def test_truth_dicts_work_as_well_as_a_dataset(scenes):
    truths = [scenes.truth(i) for i in range(30)]
    assert qa_rows(truths, seed=3) == [r for r in qa_rows(scenes, seed=3) if r["scene"] < 30]


@pytest.mark.parametrize("kind", ["random", "popular", "adversarial"])
def test_pope_probes_are_balanced_and_their_negatives_absent(scenes, kind):
    rows = pope_probes(scenes, kind, seed=0)
    for index in range(len(scenes)):
        mine = [r for r in rows if r["scene"] == index]
        present = {(o["colour"], o["shape"]) for o in scenes.truth(index)["objects"]}
        yes = [r["object"] for r in mine if r["answer"] == "yes"]
        no = [r["object"] for r in mine if r["answer"] == "no"]
        assert set(yes) == present and len(no) == len(yes)
        assert not set(no) & present and len(set(no)) == len(no)
        for r in mine:
            assert r["prompt"] == f"is there a {r['object'][0]} {r['object'][1]}"
        if kind == "adversarial":  # near misses: a colour or a shape of the scene
            assert all(any(c == pc or s == ps for pc, ps in present) for c, s in no)


def test_popular_negatives_are_the_most_frequent_absent_objects(scenes):
    frequencies = object_frequencies(scenes)
    assert sum(frequencies.values()) == sum(len(scenes.truth(i)["objects"]) for i in range(300))
    rows = pope_probes(scenes, "popular", frequencies=frequencies)
    ranking = sorted(PAIRS, key=lambda p: (-frequencies[p], PAIRS.index(p)))
    for index in range(20):
        present = {(o["colour"], o["shape"]) for o in scenes.truth(index)["objects"]}
        absent = [p for p in ranking if p not in present]
        no = [r["object"] for r in rows if r["scene"] == index and r["answer"] == "no"]
        assert no == absent[:len(present)]


def test_cell_labels_put_each_object_in_the_cell_of_its_centre():
    scenes = Scenes(n=50, seed=1)
    labels = cell_labels(scenes, grid=4)
    for index in range(50):
        sample = scenes[index]
        filled = int((labels["colour"][index] > 0).sum())
        assert filled == sample["n_objects"]  # no two centres share a cell here
        for k, obj in enumerate(sample["objects"]):
            # The cell holding the centre, found from the rendered mask's pixels.
            rows, cols = np.nonzero(sample["masks"][k].numpy())
            row, col = int(obj["y"] + 0.5) // 8, int(obj["x"] + 0.5) // 8
            assert rows.min() // 8 <= row <= rows.max() // 8 and cols.min() // 8 <= col <= cols.max() // 8
            assert scenes.colours[labels["colour"][index, row, col] - 1] == obj["colour"]
            assert scenes.shapes[labels["shape"][index, row, col] - 1] == obj["shape"]
            offset = labels["offset"][index, row, col]
            torch.testing.assert_close(offset, torch.tensor(
                [(obj["x"] + 0.5) / 8 - col, (obj["y"] + 0.5) / 8 - row]))


def test_scene_questions_skip_what_a_scene_cannot_ask():
    one = {"objects": [{"colour": "red", "shape": "circle", "size": "small", "x": 15.6,
                        "y": 3.0}], "relations": [], "caption": "a small red circle"}
    rows = scene_questions(one, np.random.default_rng(0), (*QUESTION_TYPES, "relation"))
    kinds = {r["type"] for r in rows}
    assert "relation" not in kinds  # one object: no pair
    assert "position" not in kinds  # x = 15.6 is on the middle line: a near-tie


@pytest.mark.parametrize("call,error,match", [
    (lambda s: qa_rows(s, types=("colour", "weather")), ValueError, "types\\[i\\] must be one of"),
    (lambda s: qa_rows(s, types="colour"), TypeError, "types must be a tuple"),
    (lambda s: qa_rows("scenes"), TypeError, "scenes must be a mmkit.data.Scenes"),
    (lambda s: pope_probes(s, "rare"), ValueError, "kind must be one of"),
    (lambda s: pope_probes(s, "popular", frequencies=[1]), TypeError, "frequencies must be"),
    (lambda s: cell_labels(s, grid=0), ValueError, "grid must be >= 1"),
])
def test_bad_input(scenes, call, error, match):
    with pytest.raises(error, match=match):
        call(scenes)
