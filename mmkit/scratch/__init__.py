"""From-scratch building blocks, each equal to a library counterpart within a stated tolerance.

A notebook builds each of these live; the versions here are the tested ones that later
lessons use. Lesson 01: the math (functional.py). Lesson 02: audio features (audio.py,
checked against librosa) and optical flow (flow.py).
"""

from mmkit.scratch.audio import mel_filterbank, mfcc, stft
from mmkit.scratch.flow import optical_flow, optical_flow_batch
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
    "mel_filterbank",
    "mfcc",
    "mse",
    "optical_flow",
    "optical_flow_batch",
    "relu",
    "softmax",
    "stft",
]
