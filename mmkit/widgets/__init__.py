"""ipywidgets front ends: thin wrappers that wire controls to a compute function and a plot.

Every front end returns an ``Explorer`` (explorer.py); one module per lesson holds its
explorers. Tests and the benchmark find them all here.

The modules load on first use (``mmkit.widgets.softmax_explorer`` imports
``mmkit.widgets.math``): ipywidgets and matplotlib's pyplot take about 0.4 s to import, and
a script that only imports the package should not pay for them.
"""

import importlib

_WHERE = {
    "Explorer": "explorer",
    "attention_explorer": "text",
    "data_browser": "data",
    "decoding_stepper": "vlm",
    "explanation_explorer": "explain",
    "feature_map_explorer": "images",
    "feedback_explorer": "evaluation",
    "fusion_explorer": "fusion",
    "gradient_descent_explorer": "math",
    "keypoint_explorer": "audio_video",
    "retrieval_explorer": "align",
    "roc_explorer": "evaluation",
    "similarity_explorer": "align",
    "softmax_explorer": "math",
    "vit_attention_explorer": "vit",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'mmkit.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mmkit.widgets.{_WHERE[name]}"), name)
    globals()[name] = value  # found once; later lookups do not come back here
    return value


def __dir__():
    return sorted([*globals(), *__all__])
