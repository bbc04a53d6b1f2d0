"""One line per result: the number a learner reads and the bar CI checks, printed together.

    >>> result("test accuracy", 0.9417, at_least=0.9)
    test accuracy 0.942 (bar ≥ 0.9) ✓

A notebook prints each teaching-critical number once, in a ``# NBVAL_CHECK_OUTPUT`` cell,
with the bar it must clear. The digits of a trained result differ from one CPU to another,
so ``notebooks/nbval_sanitize.cfg`` masks the value in front of ``(bar``: CI compares the
label, the bar and the verdict (✓ or ✗), and the learner still sees the number.
A value that is exact by construction (a count, a shape) is printed plainly instead.
"""

import math
import numbers

import numpy as np


def _number(value, name: str) -> float:
    if hasattr(value, "item") and not isinstance(value, bool):  # a numpy or torch scalar
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def result(label: str, value, *, at_least=None, at_most=None, std=None, fmt: str = ".3f",
           show: bool = True) -> bool:
    """Print ``label value (bar ≥ at_least) ✓`` (or ✗) and return whether the bar is met.

    Give exactly one of at_least (higher is better: an accuracy) and at_most (lower is
    better: an error, a difference from a reference). std: printed as ``value ± std``
    (a mean over seeds). fmt: the format of value and std (".1e" for tiny differences).
    """
    if not isinstance(label, str) or not label:
        raise TypeError(f"label must be a non-empty str, got {label!r}")
    if (at_least is None) == (at_most is None):
        raise ValueError("give exactly one of at_least= and at_most= (the bar)")
    value = _number(value, "value")
    bar = _number(at_least if at_most is None else at_most, "at_least" if at_most is None
                  else "at_most")
    passed = (value >= bar if at_most is None else value <= bar) and not math.isnan(value)
    shown = format(value, fmt) + ("" if std is None else f" ± {_number(std, 'std'):{fmt}}")
    sign = "≥" if at_most is None else "≤"
    if show:
        print(f"{label} {shown} (bar {sign} {bar:g}) {'✓' if passed else '✗'}")
    return passed


def difference(label: str, ours, reference, *, tolerance: float = 1e-6) -> float:
    """Print the largest |ours - reference| against ``tolerance``; return it.

    For a piece built live, checked against an independent reference (a library, an
    analytic result). Tensors and arrays of the same shape, or numbers.
    """
    ours, reference = (np.asarray(x.detach().cpu() if hasattr(x, "detach") else x,
                                  dtype=np.float64) for x in (ours, reference))
    if ours.shape != reference.shape:
        raise ValueError(f"ours and reference must have the same shape, got {ours.shape} "
                         f"and {reference.shape}")
    gap = float(np.max(np.abs(ours - reference))) if ours.size else 0.0
    result(f"{label}: max |difference|", gap, at_most=tolerance, fmt=".1e")
    return gap


def chance_accuracy(labels) -> float:
    """The accuracy of always answering the most frequent class: the level a model must beat.
    Computed from the labels, never typed in (a 10-class task is not at 0.5)."""
    labels = np.asarray(labels.detach().cpu() if hasattr(labels, "detach") else labels)
    if labels.size == 0:
        raise ValueError("labels is empty: chance needs at least one label")
    _, counts = np.unique(labels, return_counts=True)
    return float(counts.max() / counts.sum())
