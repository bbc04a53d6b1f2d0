"""Self-checks for the notebook exercises, one module per lesson.

Each ``check_*`` runs the learner's function on chosen inputs and answers with the *first*
thing that is wrong, in words that point at the fix, or with a pass. It never raises on a
wrong answer, so a notebook full of exercises still runs top to bottom.
"""

from mmkit.exercises.data import check_normalize
from mmkit.exercises.feedback import Feedback
from mmkit.exercises.math import (
    check_cross_entropy,
    check_gradient_step,
    check_learning_rate,
    check_softmax,
)

__all__ = [
    "Feedback",
    "check_cross_entropy",
    "check_gradient_step",
    "check_learning_rate",
    "check_normalize",
    "check_softmax",
]
