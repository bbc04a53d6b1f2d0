"""Shared fixtures. Tests run on ``mmkit.get_device()``: set MMKIT_DEVICE=cuda to prove the
CUDA paths on a GPU machine, MMKIT_DEVICE=cpu (or nothing, here) for the CPU."""

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture
def run_in_two_processes():
    """Run a script in two fresh Python processes at once, with different PYTHONHASHSEED (so
    set and dict order must not matter); returns the two outputs' lines. For checking that
    the same seed gives the same data in any process."""

    def run(script: str) -> tuple[list[str], list[str]]:
        root = Path(__file__).resolve().parents[1]
        runs = [
            subprocess.Popen([sys.executable, "-c", script], cwd=root, text=True,
                             stdout=subprocess.PIPE, env={**os.environ, "PYTHONHASHSEED": seed})
            for seed in ("1", "987")
        ]
        outputs = [process.communicate(timeout=120)[0] for process in runs]
        assert all(process.returncode == 0 for process in runs)
        return tuple(output.strip().split("\n") for output in outputs)

    return run
