"""What every self-check shares: the Feedback it returns and how it calls the learner's code.

The checks themselves live one module per lesson (math.py, data.py, ...).

Each ``check_*`` runs the learner's function on a few chosen inputs and answers with the
*first* thing that is wrong, in words that point at the fix ("does not sum to 1 along
dim=0"), or with a pass. It never raises on a wrong answer: a notebook full of exercises
still runs top to bottom.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Feedback:
    """The verdict of a check: ``passed`` and a message meant for the learner."""

    exercise: str
    passed: bool
    message: str

    def __str__(self) -> str:
        mark = "✅" if self.passed else "❌"
        return f"{mark} {self.exercise}: {self.message}"

    __repr__ = __str__

    def __bool__(self) -> bool:
        return self.passed


class Wrong(Exception):
    """Raised inside a check to stop at the first problem found."""


def call_any(fn: Callable, *args, **kwargs):
    """Call the learner's function; turn a crash or a missing result into a Wrong.

    The original exception stays as the Wrong's ``__cause__``, so a check can word a hint
    for one kind of mistake (a ZeroDivisionError, say).
    """
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise Wrong(
            "not implemented yet: replace `raise NotImplementedError` with your code"
        ) from None
    except Exception as error:
        raise Wrong(f"raised {type(error).__name__}: {error}") from error
    if out is None or out is Ellipsis:
        raise Wrong("returned nothing: did you forget `return`?")
    return out


def call(fn: Callable, *args, **kwargs) -> torch.Tensor:
    """call_any for functions that must return a tensor."""
    out = call_any(fn, *args, **kwargs)
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"must return a torch.Tensor, got {type(out).__name__}")
    return out


def number(value, what: str = "the result") -> float:
    """One float from a Python number, a numpy number or a one-element tensor or array."""
    if hasattr(value, "item") and not isinstance(value, bool):  # numpy or torch
        size = value.numel() if isinstance(value, torch.Tensor) else np.size(value)
        if size != 1:
            raise Wrong(f"{what} must be one number, got {size} of them")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Wrong(f"{what} must be one number, got {type(value).__name__}")
    return float(value)


def run(exercise: str, checks: Callable[[], str]) -> Feedback:
    try:
        return Feedback(exercise, True, checks())
    except Wrong as wrong:
        return Feedback(exercise, False, str(wrong))
