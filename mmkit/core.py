"""Reproducibility and device choice: the two things every notebook does first."""

import os
import random

import numpy as np
import torch

_DEVICE_NAMES = ("cpu", "cuda", "mps")


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and PyTorch so that a notebook run twice prints the same numbers.

    Returns the seed, so a notebook can write ``seed = seed_everything(0)``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed


def get_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: CUDA, then Apple's MPS, then the CPU.

    ``prefer`` (or the environment variable ``MMKIT_DEVICE``) forces a choice, e.g.
    ``MMKIT_DEVICE=cpu`` on a machine with a GPU, to compare timings. A forced device that
    is not available is an error rather than a silent fall-back, so a test run that asks
    for CUDA really runs on CUDA.
    """
    choice = prefer if prefer is not None else os.environ.get("MMKIT_DEVICE", "").strip()
    if not choice:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")

    kind = choice.split(":")[0].lower()
    source = "prefer" if prefer is not None else "MMKIT_DEVICE"
    if kind not in _DEVICE_NAMES:
        raise ValueError(f"{source} must name one of {', '.join(_DEVICE_NAMES)}, got {choice!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{source}={choice!r} but PyTorch sees no CUDA device here")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"{source}={choice!r} but PyTorch sees no MPS device here")
    return torch.device(choice.lower())
