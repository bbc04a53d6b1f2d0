"""Shared fixtures. Tests run on ``mmkit.get_device()``: set MMKIT_DEVICE=cuda to prove the
CUDA paths on a GPU machine, MMKIT_DEVICE=cpu (or nothing, here) for the CPU."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

import mmkit  # noqa: E402


@pytest.fixture(scope="session")
def device() -> torch.device:
    return mmkit.get_device()


@pytest.fixture
def rng() -> torch.Generator:
    """A fresh, seeded generator per test, so each test is reproducible on its own."""
    return torch.Generator().manual_seed(1234)
