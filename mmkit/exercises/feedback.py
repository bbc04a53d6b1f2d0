"""What every self-check shares: the Feedback it returns and how it calls the learner's code.

The checks themselves live one module per lesson (math.py, data.py, ...).

Each ``check_*`` runs the learner's function on a few chosen inputs and answers with the
*first* thing that is wrong, in words that point at the fix ("does not sum to 1 along
dim=0"), or with a pass. It never raises on a wrong answer: a notebook full of exercises
still runs top to bottom.
"""

from collections.abc import Callable
from dataclasses import dataclass

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


def call(fn: Callable, *args, **kwargs) -> torch.Tensor:
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
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"must return a torch.Tensor, got {type(out).__name__}")
    return out


def run(exercise: str, checks: Callable[[], str]) -> Feedback:
    try:
        return Feedback(exercise, True, checks())
    except Wrong as wrong:
        return Feedback(exercise, False, str(wrong))
