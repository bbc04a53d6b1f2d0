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


@pytest.fixture(scope="session", autouse=True)
def explorers_raise_their_errors():
    """An explorer shows a failed refresh in its status line; in the tests it must fail the
    test too (DESIGN.md, Widgets). Session-wide, so it holds for explorers built by
    module-scoped fixtures as well."""
    from mmkit.widgets.explorer import Explorer

    Explorer.raise_errors = True
    yield
    Explorer.raise_errors = False


@pytest.fixture(scope="session", autouse=True)
def full_precision_on_gpus():
    """cuDNN may run convolutions and LSTMs in TensorFloat-32 (10-bit mantissas) by default;
    the tests compare float32 with float32, so they ask for full precision."""
    allowed = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = allowed


@pytest.fixture(scope="session")
def device() -> torch.device:
    return mmkit.get_device()


@pytest.fixture
def rng() -> torch.Generator:
    """A fresh, seeded generator per test, so each test is reproducible on its own."""
    return torch.Generator().manual_seed(1234)


@pytest.fixture
def same_in_two_processes():
    """Check that a script prints the same lines in two fresh Python processes, run at once
    with different PYTHONHASHSEED (so set and dict order must not matter). The script
    prints "<seed> <hash>" for two seeds; those two hashes must differ. For checking that
    the same seed gives the same data in any process."""

    def check(script: str) -> None:
        root = Path(__file__).resolve().parents[1]
        runs = [
            subprocess.Popen([sys.executable, "-c", script], cwd=root, text=True,
                             stdout=subprocess.PIPE, env={**os.environ, "PYTHONHASHSEED": seed})
            for seed in ("1", "987")
        ]
        outputs = [process.communicate(timeout=120)[0] for process in runs]
        assert all(process.returncode == 0 for process in runs)
        first, second = (output.strip().split("\n") for output in outputs)
        assert first == second
        assert first[0].split()[1] != first[1].split()[1]

    return check
