"""From-scratch building blocks, each equal to a library counterpart within a stated tolerance.

A notebook builds each of these live; the versions here are the tested ones that later
lessons use.
"""

from mmkit.scratch.functional import (
    binary_cross_entropy,
    cross_entropy,
    gradient_descent,
    log_softmax,
    mse,
    relu,
    softmax,
)

__all__ = [
    "binary_cross_entropy",
    "cross_entropy",
    "gradient_descent",
    "log_softmax",
    "mse",
    "relu",
    "softmax",
]
