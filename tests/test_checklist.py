"""The closing table of a lesson: checks printed as they happen, then tabled with cell numbers."""

import pytest
import torch

from mmkit.checklist import Checklist, cell_number


def test_checks_print_one_line_each_and_make_a_table(capsys):
    checks = Checklist()
    x = torch.randn(100)
    gap = checks.difference("relu", "torch.relu", torch.where(x > 0, x, 0.0), torch.relu(x),
                            tolerance=0, built="def relu(")
    assert gap == 0.0
    off = checks.difference("softmax", "torch.softmax", torch.tensor([0.5, 0.5]),
                            torch.tensor([0.5, 0.6]), tolerance=1e-6, built="def softmax(")
    assert off == pytest.approx(0.1, abs=1e-6)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "relu vs torch.relu: max |difference| 0.0e+00 (bar ≤ 0) ✓"
    assert out[1].startswith("softmax vs torch.softmax: max |difference| 1.0e-01 (bar ≤ 1e-06) ✗")
    history = ["", "import torch", "def relu(x):\n    return x", "x = 1", "def softmax(z): ..."]
    table = checks.markdown(history).splitlines()
    assert table[2] == "| relu | [2] | torch.relu | 0.0e+00 | ≤ 0 ✓ |"
    assert table[3] == "| softmax | [4] | torch.softmax | 1.0e-01 | ≤ 1e-06 ✗ |"
    assert "| relu | — |" in checks.markdown([])  # outside a notebook: no cell numbers


def test_cell_number_finds_the_first_cell_with_the_code():
    history = ["", "a = 1", "def f():\n    pass", "f()", "def f():  # again"]
    assert cell_number("def f(", history) == 2
    assert cell_number("def g(", history) is None


def test_bad_labels_are_refused():
    with pytest.raises(TypeError, match="piece and reference must be non-empty strings"):
        Checklist().difference("", "torch.relu", 1.0, 1.0, tolerance=0)


def test_add_keeps_a_gap_measured_elsewhere(capsys):
    checks = Checklist()
    assert checks.add("tokenize", "str.split", 0, tolerance=0, what="captions that differ",
                      fmt=".0f", built="def tokenize(") == 0.0
    assert capsys.readouterr().out == "tokenize vs str.split: captions that differ 0 (bar ≤ 0) ✓\n"
    assert checks.markdown(["", "def tokenize(t): ..."]).splitlines()[2] == (
        "| tokenize | [1] | str.split | 0.0e+00 | ≤ 0 ✓ |")
