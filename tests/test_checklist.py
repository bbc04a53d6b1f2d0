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
    table = checks.markdown(["", "def tokenize(t): ..."]).splitlines()
    assert table[2] == "| tokenize | [1] | str.split | captions that differ: 0 | ≤ 0 ✓ |"  # a count, not 0.0e+00


def test_the_table_says_what_an_added_check_measured():
    checks = Checklist()
    checks.add("flow", "true motion", 0.214, tolerance=0.3, what="mean endpoint error (px)", fmt=".2f")
    checks.add("flow pairs", "skimage", 8.1e-08, tolerance=1e-6)  # a difference: shown as one
    rows = checks.markdown([]).splitlines()
    assert rows[2] == "| flow | — | true motion | mean endpoint error (px): 0.21 | ≤ 0.3 ✓ |"
    assert rows[3] == "| flow pairs | — | skimage | 8.1e-08 | ≤ 1e-06 ✓ |"
    checks.add("encode (rare word → <unk>)", "counts < min_freq", 0, tolerance=0, what="tokens that differ")
    assert checks.markdown([]).splitlines()[4].startswith("| encode (rare word → &lt;unk&gt;) |")  # not an HTML tag
    with pytest.raises(TypeError, match="what must be a non-empty string"):
        checks.add("x", "y", 0, tolerance=0, what="")
