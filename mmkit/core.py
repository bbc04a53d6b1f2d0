"""Reproducibility, device choice and thread count: what every notebook does first.

The thread policy: PyTorch starts as many threads as the machine has cores, but a
JupyterHub pod or a Binder session may use only one or two of them (a CPU quota, or an
affinity mask), and on a laptop other programs may be busy on some. Threads beyond the
cores that are free fight over the same core, and PyTorch's worker threads wait for each
other by spinning: a small model can then train a hundred times slower on two threads than
on one. ``set_threads()`` picks the number the process may really use, once, when mmkit is
imported; ``thread_policy()`` says what it chose and why (notebook 00 prints it).
"""

import math
import numbers
import os
import random
import time
from pathlib import Path

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
    if isinstance(prefer, torch.device):
        prefer = str(prefer)
    if prefer is not None and not isinstance(prefer, str):
        raise TypeError(f"prefer must be a device name such as 'cpu' or 'cuda', or a "
                        f"torch.device, got {type(prefer).__name__} {prefer!r}")
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


THREADS_ENV = "MMKIT_NUM_THREADS"
_chosen = {"threads": None, "reason": "not set yet"}


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup's quota (cgroup v2 ``cpu.max`` or v1 ``cfs_quota_us``), or
    None when there is no quota. A pod limited to 1.5 CPUs gives 1.5."""
    candidates = [(root / "cpu.max", None),
                  (root / "cpu" / "cpu.cfs_quota_us", root / "cpu" / "cpu.cfs_period_us"),
                  (root / "cpu,cpuacct" / "cpu.cfs_quota_us",
                   root / "cpu,cpuacct" / "cpu.cfs_period_us")]
    for quota_file, period_file in candidates:
        try:
            if period_file is None:  # v2: "max 100000" or "150000 100000"
                quota, period = quota_file.read_text().split()[:2]
            else:
                quota, period = quota_file.read_text().strip(), period_file.read_text().strip()
        except (OSError, ValueError):
            continue
        if quota in ("max", "-1"):
            return None
        try:
            quota, period = float(quota), float(period)
        except ValueError:
            continue
        if quota > 0 and period > 0:
            return quota / period
    return None


def _other_running_tasks(stat: Path = Path("/proc/stat"), samples: int = 5) -> int | None:
    """How many other tasks are running on the machine right now: the median of a few
    readings of ``procs_running`` (which counts this process too); None without /proc."""
    readings = []
    for i in range(samples):
        try:
            lines = stat.read_text().splitlines()
            line = next(row for row in lines if row.startswith("procs_running"))
            readings.append(int(line.split()[1]))
        except (OSError, StopIteration, ValueError, IndexError):
            return None
        if i + 1 < samples:
            time.sleep(0.002)
    return max(0, sorted(readings)[len(readings) // 2] - 1)


def usable_cpus() -> tuple[int, str]:
    """How many CPUs this process may really use, and why: the smallest of the cores it
    may run on (``os.sched_getaffinity``), the cgroup's CPU quota (rounded up), and the
    machine's cores that other running programs leave free right now."""
    try:
        affinity = len(os.sched_getaffinity(0))
        reasons = [f"{affinity} core(s) in this process's affinity mask"]
    except AttributeError:  # macOS and Windows have no affinity call
        affinity = os.cpu_count() or 1
        reasons = [f"{affinity} core(s) on this machine"]
    count = affinity
    quota = _cgroup_quota()
    if quota is not None:
        reasons.append(f"a cgroup CPU quota of {quota:g} CPU(s)")
        count = min(count, max(1, math.ceil(quota)))
    others = _other_running_tasks()
    cores = os.cpu_count() or 1
    if others is not None and cores - others < count:
        reasons.append(f"{others} other task(s) running on the machine's {cores} core(s)")
        count = cores - others
    return max(1, count), " and ".join(reasons)


def _env_threads(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:  # a typo should not go unnoticed
        raise ValueError(f"{name} must be a whole number >= 1, got {raw!r}")
    return int(raw)


def set_threads(threads: int | None = None) -> int:
    """Set PyTorch's thread count: ``threads`` if given, else ``$MMKIT_NUM_THREADS``, else
    ``$OMP_NUM_THREADS`` (the usual way to ask for fewer), else what ``usable_cpus()``
    finds. Returns the number set. mmkit calls it once on import."""
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
            raise TypeError(f"threads must be an int, got {type(threads).__name__} {threads!r}")
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        chosen, reason = int(threads), "asked for by set_threads(threads)"
    elif _env_threads(THREADS_ENV) is not None:
        chosen = _env_threads(THREADS_ENV)
        reason = f"{THREADS_ENV}={chosen}"
    elif _env_threads("OMP_NUM_THREADS") is not None:
        chosen = _env_threads("OMP_NUM_THREADS")
        reason = f"OMP_NUM_THREADS={chosen}"
    else:
        chosen, found = usable_cpus()
        reason = f"the process may use {found}"
    torch.set_num_threads(chosen)
    _chosen.update(threads=chosen, reason=reason)
    return chosen


def thread_policy() -> str:
    """One sentence: how many threads PyTorch uses, and why."""
    now = torch.get_num_threads()
    if now != _chosen["threads"]:
        return (f"PyTorch uses {now} thread(s), changed by torch.set_num_threads after mmkit "
                f"chose {_chosen['threads']} ({_chosen['reason']})")
    return f"PyTorch uses {now} thread(s), chosen by mmkit: {_chosen['reason']}"
