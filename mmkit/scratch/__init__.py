"""From-scratch building blocks, each equal to a library counterpart within a stated tolerance.

A notebook builds each of these live; the versions here are the tested ones that later
lessons use. Lesson 01: the math (functional.py). Lesson 02: audio features (audio.py,
checked against librosa) and optical flow (flow.py).
"""

from mmkit.scratch.attention import (
    multi_head_attention,
    positional_encoding,
    scaled_dot_product_attention,
)
from mmkit.scratch.audio import mel_filterbank, mfcc, stft
from mmkit.scratch.conv import conv2d, max_pool2d
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
from mmkit.scratch.recurrent import lstm, lstm_cell, rnn_cell

__all__ = [
    "binary_cross_entropy",
    "conv2d",
    "cross_entropy",
    "gradient_descent",
    "log_softmax",
    "max_pool2d",
    "lstm",
    "lstm_cell",
    "mel_filterbank",
    "mfcc",
    "mse",
    "multi_head_attention",
    "optical_flow",
    "optical_flow_batch",
    "positional_encoding",
    "relu",
    "rnn_cell",
    "scaled_dot_product_attention",
    "softmax",
    "stft",
]
