"""DESIGN.md, Widgets: a front end wires controls to package functions and viz. No module
under mmkit/widgets/ builds a dataset, trains a model or calls an optimiser itself."""

import ast
from pathlib import Path

import pytest

WIDGETS = Path(__file__).resolve().parents[1] / "mmkit" / "widgets"
# Calls that would mean a widget does the pipeline's work itself.
FORBIDDEN_CALLS = {
    "fit", "quick_fit", "backward", "step", "zero_grad", "Adam", "SGD", "AdamW",
    "ShapesWorld", "StickFigures", "AVDigits", "Scenes", "to_tensors", "shapes_world_splits",
    "Vocabulary", "build", "cross_entropy",
}
FORBIDDEN_NAMES = {"torch.optim", "torch.autograd"}


def _called_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            yield function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


@pytest.mark.parametrize("path", sorted(WIDGETS.glob("*.py")), ids=lambda p: p.name)
def test_no_widget_module_trains_or_builds_data(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    called = set(_called_names(tree)) & FORBIDDEN_CALLS
    assert not called, f"{path.name} calls {sorted(called)}: move that into the pipeline stage"
    used = {_dotted(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names} | {node.module or "" for node in ast.walk(tree)
                                             if isinstance(node, ast.ImportFrom)}
    for name in FORBIDDEN_NAMES:
        assert not any(u.startswith(name) for u in used | imported), f"{path.name} uses {name}"


def test_the_checker_would_catch_a_widget_that_trains(tmp_path):
    bad = "import torch\ndef explorer(model, data):\n    torch.optim.Adam(model.parameters()).step()\n"
    tree = ast.parse(bad)
    assert {"Adam", "step"} <= set(_called_names(tree))
