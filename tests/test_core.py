import subprocess
import sys

import numpy as np
import pytest
import torch

import mmkit


def test_seed_everything_makes_runs_repeat():
    mmkit.seed_everything(7)
    first = (torch.rand(3), np.random.rand(3))
    mmkit.seed_everything(7)
    second = (torch.rand(3), np.random.rand(3))
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    mmkit.seed_everything(8)
    assert not torch.equal(first[0], torch.rand(3))


@pytest.mark.parametrize(("seed", "error", "match"), [
    (1.5, TypeError, "seed must be an int"),
    (-1, ValueError, r"seed must be in \[0, 2\*\*32\)"),
    (True, TypeError, "seed must be an int"),
])
def test_seed_everything_rejects_bad_seeds(seed, error, match):
    with pytest.raises(error, match=match):
        mmkit.seed_everything(seed)


def test_get_device_defaults_to_what_is_available(monkeypatch):
    monkeypatch.delenv("MMKIT_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert mmkit.get_device().type == expected


def test_mmkit_device_overrides(monkeypatch):
    monkeypatch.setenv("MMKIT_DEVICE", "cpu")
    assert mmkit.get_device() == torch.device("cpu")
    monkeypatch.setenv("MMKIT_DEVICE", "tpu")
    with pytest.raises(ValueError, match="MMKIT_DEVICE must name one of cpu, cuda, mps, got 'tpu'"):
        mmkit.get_device()


def test_forcing_a_missing_device_is_an_error_not_a_fallback():
    if torch.cuda.is_available():
        assert mmkit.get_device("cuda").type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="sees no CUDA device"):
            mmkit.get_device("cuda")


def test_import_mmkit_stays_light():
    # Import time is measured by the benchmark; here we check *what* gets imported.
    code = (
        "import sys, mmkit; heavy = ['librosa', 'captum', 'torchvision', 'ipywidgets', "
        "'matplotlib', 'sklearn']; print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_submodules_load_on_first_use():
    assert mmkit.scratch.softmax is not None
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        mmkit.nonsense  # noqa: B018
