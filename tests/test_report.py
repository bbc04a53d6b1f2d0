"""report: one line per result, the number with its bar; chance computed from labels."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mmkit.report import chance_accuracy, difference, result

SANITIZE = Path(__file__).resolve().parents[1] / "notebooks" / "nbval_sanitize.cfg"


def _masking_regex():
    text = SANITIZE.read_text(encoding="utf-8")
    section = text.split("[results against their bars]")[1]
    pattern = re.search(r"regex: (.+)", section).group(1)
    replacement = re.search(r"replace: (.+)", section).group(1)
    return re.compile(pattern), replacement


@pytest.mark.parametrize(("kwargs", "line", "passed"), [
    ({"value": 0.9417, "at_least": 0.9}, "test accuracy 0.942 (bar ≥ 0.9) ✓", True),
    ({"value": 0.85, "at_least": 0.9}, "test accuracy 0.850 (bar ≥ 0.9) ✗", False),
    ({"value": np.float32(0.5), "at_most": 0.5}, "test accuracy 0.500 (bar ≤ 0.5) ✓", True),
    ({"value": 0.93, "std": 0.012, "at_least": 0.9}, "test accuracy 0.930 ± 0.012 (bar ≥ 0.9) ✓",
     True),
    ({"value": float("nan"), "at_least": 0.0}, "test accuracy nan (bar ≥ 0) ✗", False),
])
def test_result_prints_the_value_the_bar_and_the_verdict(capsys, kwargs, line, passed):
    assert result("test accuracy", **kwargs) is passed
    assert capsys.readouterr().out == line + "\n"


def test_the_sanitizer_masks_the_value_but_keeps_label_bar_and_verdict(capsys):
    regex, replacement = _masking_regex()
    result("acc", 0.93, std=0.01, at_least=0.9)
    result("acc", 0.95, std=0.02, at_least=0.9)
    difference("x vs torch", torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 3e-7]))
    difference("x vs torch", torch.tensor([1.0]), torch.tensor([1.0]))
    lines = [regex.sub(replacement, line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == lines[1] == "acc VALUE (bar ≥ 0.9) ✓"
    assert lines[2] == lines[3] == "x vs torch: max |difference| VALUE (bar ≤ 1e-06) ✓"
    # A failed bar stays visible to nbval.
    result("acc", 0.5, at_least=0.9)
    assert regex.sub(replacement, capsys.readouterr().out.strip()) == "acc VALUE (bar ≥ 0.9) ✗"


def test_difference_returns_the_largest_gap(capsys):
    gap = difference("ours vs theirs", np.array([[1.0, 2.0]]), np.array([[1.5, 2.0]]),
                     tolerance=0.1)
    assert math.isclose(gap, 0.5)
    assert capsys.readouterr().out.endswith("(bar ≤ 0.1) ✗\n")


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: result("a", 0.5), ValueError, "give exactly one of at_least= and at_most="),
    (lambda: result("a", 0.5, at_least=0.1, at_most=0.9), ValueError, "exactly one"),
    (lambda: result("a", "high", at_least=0.5), TypeError, "value must be a number, got str"),
    (lambda: result("", 0.5, at_least=0.5), TypeError, "label must be a non-empty str"),
    (lambda: difference("d", [1, 2], [1]), ValueError, "ours and reference must have the same"),
    (lambda: chance_accuracy([]), ValueError, "labels is empty"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_chance_is_the_majority_share_from_the_labels():
    assert chance_accuracy([0, 1, 1, 1]) == 0.75
    assert chance_accuracy(torch.arange(10)) == 0.1  # ten balanced classes: not 0.5
    assert chance_accuracy(np.array(["a", "b", "a"])) == pytest.approx(2 / 3)
