"""The thread policy: torch uses as many threads as the process may really use."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import mmkit
from mmkit import core

ROOT = Path(__file__).resolve().parents[1]
OTHER_RUNNING_TASKS = core._other_running_tasks  # the fixture below replaces it per test


@pytest.fixture(autouse=True)
def keep_threads(monkeypatch):
    monkeypatch.setattr(core, "_other_running_tasks", lambda: 0)  # a quiet machine
    monkeypatch.delenv("MMKIT_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _quota_files(tmp_path, v2=None, v1=None):
    if v2 is not None:
        (tmp_path / "cpu.max").write_text(v2)
    if v1 is not None:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(v1[0])
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(v1[1])
    return tmp_path


@pytest.mark.parametrize(("v2", "v1", "expected"), [
    ("150000 100000\n", None, 1.5),
    ("max 100000\n", None, None),
    (None, ("200000\n", "100000\n"), 2.0),
    (None, ("-1\n", "100000\n"), None),
    (None, None, None),
    ("garbage\n", None, None),
])
def test_cgroup_quota_is_read_from_v2_and_v1_files(tmp_path, v2, v1, expected):
    assert core._cgroup_quota(_quota_files(tmp_path, v2, v1)) == expected


def test_a_quota_below_the_cores_lowers_the_thread_count(monkeypatch):
    monkeypatch.setattr(core, "_cgroup_quota", lambda: 1.5)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    count, reason = core.usable_cpus()
    assert count == 2  # 1.5 CPUs of time: 2 threads keep it busy, 4 would fight
    assert "4 core(s)" in reason and "quota of 1.5 CPU(s)" in reason
    monkeypatch.setattr(core, "_cgroup_quota", lambda: 0.25)
    assert core.usable_cpus()[0] == 1


def test_busy_cores_lower_the_thread_count(monkeypatch):
    monkeypatch.setattr(core, "_cgroup_quota", lambda: None)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(core, "_other_running_tasks", lambda: 3)
    count, reason = core.usable_cpus()
    assert count == 1 and "3 other task(s) running on the machine's 4 core(s)" in reason
    monkeypatch.setattr(core, "_other_running_tasks", lambda: 9)  # overloaded: still one
    assert core.usable_cpus()[0] == 1
    monkeypatch.setattr(core, "_other_running_tasks", lambda: None)  # no /proc: no say
    assert core.usable_cpus()[0] == 4


@pytest.mark.parametrize(("text", "expected"), [
    ("cpu  1 2 3\nprocs_running 3\nprocs_blocked 0\n", 2),
    ("procs_running 1\n", 0),
    ("no such line\n", None),
])
def test_other_running_tasks_are_read_from_proc_stat(tmp_path, text, expected):
    stat = tmp_path / "stat"
    stat.write_text(text)
    assert OTHER_RUNNING_TASKS(stat, samples=3) == expected


def test_the_affinity_mask_bounds_the_thread_count(monkeypatch):
    monkeypatch.setattr(core, "_cgroup_quota", lambda: None)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert core.set_threads() == 1 and torch.get_num_threads() == 1
    assert "1 core(s) in this process's affinity mask" in mmkit.thread_policy()


def test_the_environment_and_an_explicit_call_override(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert core.set_threads() == 2 and "OMP_NUM_THREADS=2" in mmkit.thread_policy()
    monkeypatch.setenv("MMKIT_NUM_THREADS", "1")  # mmkit's own variable wins
    assert core.set_threads() == 1
    assert mmkit.thread_policy() == "PyTorch uses 1 thread(s), chosen by mmkit: MMKIT_NUM_THREADS=1"
    assert core.set_threads(2) == 2 and torch.get_num_threads() == 2
    torch.set_num_threads(1)
    assert "changed by torch.set_num_threads after mmkit chose 2" in mmkit.thread_policy()


@pytest.mark.parametrize(("value", "error", "match"), [
    (0, ValueError, "threads must be >= 1, got 0"),
    (1.5, TypeError, "threads must be an int, got float"),
    (True, TypeError, "threads must be an int, got bool"),
])
def test_bad_thread_counts_are_named(value, error, match):
    with pytest.raises(error, match=match):
        core.set_threads(value)


def test_a_bad_environment_value_is_named(monkeypatch):
    monkeypatch.setenv("MMKIT_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="MMKIT_NUM_THREADS must be a whole number >= 1, got 'two'"):
        core.set_threads()


def test_importing_mmkit_sets_the_threads_once_from_what_the_process_may_use():
    # A fresh process pinned to one core (taskset), as a 1-CPU classroom pod runs it.
    code = "import torch, mmkit; print(torch.get_num_threads()); print(mmkit.thread_policy())"
    env = {k: v for k, v in os.environ.items() if k not in ("MMKIT_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "1" and "1 core(s) in this process's affinity mask" in out[1]
