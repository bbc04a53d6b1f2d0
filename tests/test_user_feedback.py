"""The feedback store: round trip, missing and corrupt files, bad arguments, the Wilson
interval, and a feedback file that survives a crash in the middle of a write."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mmkit.user_feedback import (
    FeedbackFileError,
    FeedbackStore,
    read_feedback_file,
    wilson_interval,
)

ROOT = Path(__file__).resolve().parents[1]
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _store_with_three(path) -> FeedbackStore:
    store = FeedbackStore(path, create=True)
    store.rate(0, "agree", "circle", 0.9, when=WHEN)
    store.rate(1, "disagree", "square", 0.55, when=WHEN)
    store.rate("scene-7", "agree", 2, when=WHEN)
    return store


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "feedback.json"
    store = _store_with_three(path)
    again = FeedbackStore(path)
    assert again.ratings == store.ratings
    assert again.ratings[0] == {"sample_id": 0, "verdict": "agree", "prediction": "circle",
                                "confidence": 0.9, "time": "2024-05-01T12:00:00+00:00"}
    assert again.verdict("scene-7") == "agree" and again.verdict(7) is None
    content = json.loads(path.read_text())
    assert content["format"] == "mmkit-feedback" and len(content["ratings"]) == 3


def test_rating_again_replaces_the_verdict_and_ints_differ_from_strings(tmp_path):
    path = tmp_path / "f.json"
    store = _store_with_three(path)
    store.rate(1, True, "square", when=WHEN)  # True means agree
    store.rate("1", "disagree", "square", when=WHEN)
    again = FeedbackStore(path)
    assert len(again) == 4
    assert again.verdict(1) == "agree" and again.verdict("1") == "disagree"


def test_summary_counts_and_wilson_interval(tmp_path):
    store = _store_with_three(tmp_path / "f.json")
    summary = store.summary()
    assert (summary.n_rated, summary.n_agree, summary.n_disagree) == (3, 2, 1)
    assert summary.agreement == pytest.approx(2 / 3)
    assert (summary.low, summary.high) == pytest.approx(wilson_interval(2, 3))
    assert "agreement 0.67" in str(summary)
    empty = FeedbackStore(tmp_path / "new.json", create=True).summary()
    assert math.isnan(empty.agreement) and (empty.low, empty.high) == (0.0, 1.0)
    assert str(empty) == "no ratings yet"


def test_wilson_interval_equals_scipys_on_many_cases():
    from scipy.stats import binomtest

    cases = [(k, n, c) for n in (1, 2, 5, 13, 100, 1000) for k in sorted({0, 1, n // 3, n - 1, n})
             for c in (0.8, 0.95, 0.99)]
    for k, n, c in cases:
        ci = binomtest(k, n).proportion_ci(confidence_level=c, method="wilson")
        assert wilson_interval(k, n, c) == pytest.approx((ci.low, ci.high), abs=1e-12), (k, n, c)
    assert wilson_interval(0, 0) == (0.0, 1.0)  # no ratings: we know nothing


@pytest.mark.parametrize("args,match", [
    ((3, 2), r"successes must be an int in \[0, n=2\]"),
    ((-1, 2), "successes"),
    ((1, -2), "n must be an int >= 0"),
    ((1, 2, 1.5), r"confidence must be a number in \(0, 1\)"),
])
def test_wilson_interval_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        wilson_interval(*args)


def test_missing_file_needs_create(tmp_path):
    path = tmp_path / "nothing-here.json"
    with pytest.raises(FileNotFoundError, match="no feedback file at .*pass create=True"):
        FeedbackStore(path)
    store = FeedbackStore(path, create=True)
    assert len(store) == 0 and not path.exists()  # written on the first rating only
    store.rate(4, "agree", 1, when=WHEN)
    assert FeedbackStore(path).verdict(4) == "agree"
    with pytest.raises(FileNotFoundError, match="folder .* does not exist"):
        FeedbackStore(tmp_path / "no-folder" / "f.json", create=True)


CORRUPT = {
    "truncated JSON": (b'{"format": "mmkit-feedback", "version": 1, "ratings": [{"sampl',
                       "not valid JSON"),
    "not UTF-8": (b"\xff\xfe\x00garbage", "not UTF-8"),
    "another JSON file": (b'{"name": "my notes"}', "not an mmkit feedback file"),
    "a list": (b"[1, 2, 3]", "not an mmkit feedback file"),
    "a future version": (b'{"format": "mmkit-feedback", "version": 9, "ratings": []}',
                         "version 9"),
    "a bad verdict": (b'{"format": "mmkit-feedback", "version": 1, "ratings": [{"sample_id": 1,'
                      b' "verdict": "maybe", "prediction": 0, "confidence": null,'
                      b' "time": "2024-05-01T12:00:00+00:00"}]}', "rating 0 has verdict 'maybe'"),
    "a missing field": (b'{"format": "mmkit-feedback", "version": 1, "ratings": [{"sample_id":'
                        b' 1, "verdict": "agree"}]}', "rating 0 lacks prediction, confidence"),
    "a bad time": (b'{"format": "mmkit-feedback", "version": 1, "ratings": [{"sample_id": 1,'
                   b' "verdict": "agree", "prediction": 0, "confidence": null, "time": "noon"}]}',
                   "rating 0: Invalid isoformat"),
}


@pytest.mark.parametrize("kind", CORRUPT)
def test_corrupt_file_is_reported_and_left_byte_identical(tmp_path, kind):
    content, match = CORRUPT[kind]
    path = tmp_path / "feedback.json"
    path.write_bytes(content)
    for create in (False, True):  # create=True must not mean "replace whatever is there"
        with pytest.raises(FeedbackFileError, match=match) as error:
            FeedbackStore(path, create=create)
        assert str(path) in str(error.value) and "create=True" in str(error.value)
    assert path.read_bytes() == content


def test_a_store_never_saves_over_a_file_damaged_after_it_was_read(tmp_path):
    path = tmp_path / "feedback.json"
    store = _store_with_three(path)
    damaged = path.read_bytes()[:40]
    path.write_bytes(damaged)  # e.g. a hand edit gone wrong while the notebook is open
    with pytest.raises(FeedbackFileError, match="not valid JSON"):
        store.rate(9, "agree", "circle", when=WHEN)
    assert path.read_bytes() == damaged
    assert store.verdict(9) is None and len(store) == 3  # the store did not pretend either


def test_unreadable_path_is_reported(tmp_path):
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    with pytest.raises(FeedbackFileError, match="cannot be read"):
        FeedbackStore(folder)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"sample_id": 1.5}, TypeError, "sample_id must be an int or a str"),
    ({"sample_id": True}, TypeError, "sample_id must be an int or a str"),
    ({"sample_id": ""}, ValueError, "sample_id must not be an empty string"),
    ({"verdict": "yes"}, ValueError, "verdict must be 'agree' or 'disagree'"),
    ({"prediction": [0]}, TypeError, "prediction must be an int"),
    ({"confidence": 1.5}, ValueError, r"confidence must be in \[0, 1\]"),
    ({"confidence": "high"}, TypeError, "confidence must be None or a number"),
    ({"when": datetime(2024, 1, 1)}, TypeError, "timezone-aware"),
])
def test_bad_arguments_are_named_and_nothing_is_written(tmp_path, kwargs, error, match):
    path = tmp_path / "f.json"
    store = FeedbackStore(path, create=True)
    arguments = {"sample_id": 0, "verdict": "agree", "prediction": 0, "confidence": None,
                 "when": WHEN, **kwargs}
    with pytest.raises(error, match=match):
        store.rate(**arguments)
    assert not path.exists() and len(store) == 0


def test_bad_constructor_arguments(tmp_path):
    with pytest.raises(TypeError, match="path must be a str or a pathlib.Path"):
        FeedbackStore(3)
    with pytest.raises(TypeError, match="create must be True or False"):
        FeedbackStore(tmp_path / "f.json", create="yes")


def test_a_write_failing_half_way_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "feedback.json"
    store = _store_with_three(path)
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class HalfThenFail:
        def __init__(self, file):
            self.file = file

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, text):
            self.file.write(text[: len(text) // 2])
            self.file.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfThenFail(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left"):
        store.rate(5, "disagree", "triangle", when=WHEN)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["feedback.json"]
    assert len(FeedbackStore(path)) == 3 and store.verdict(5) is None


# The child process saves 300 ratings, then is killed (SIGKILL: no cleanup, no finally) in the
# middle of writing the next save: half the bytes are in the temporary file.
_KILLED_MID_WRITE = """
import os, signal, sys
from mmkit.user_feedback import FeedbackStore
store = FeedbackStore(sys.argv[1], create=True)
store.save([{"sample_id": i, "verdict": "agree", "prediction": 0, "confidence": 0.5,
             "time": "2024-05-01T12:00:00+00:00"} for i in range(300)])
real_fdopen = os.fdopen
class HalfThenDie:
    def __init__(self, file): self.file = file
    def __enter__(self): return self
    def __exit__(self, *exc): pass
    def write(self, text):
        self.file.write(text[: len(text) // 2]); self.file.flush()
        os.kill(os.getpid(), signal.SIGKILL)
os.fdopen = lambda *a, **k: HalfThenDie(real_fdopen(*a, **k))
store.rate(999, "disagree", 1)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_the_feedback_file_survives_a_process_killed_mid_write(tmp_path):
    path = tmp_path / "feedback.json"
    child = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    leftovers = [p for p in tmp_path.iterdir() if p.name != "feedback.json"]
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")  # the half-written one
    assert 0 < leftovers[0].stat().st_size < path.stat().st_size
    ratings = FeedbackStore(path).ratings  # the old file: whole and loadable
    assert [r["sample_id"] for r in ratings] == list(range(300))


_SAVING_IN_A_LOOP = """
import sys
from mmkit.user_feedback import FeedbackStore
store = FeedbackStore(sys.argv[1], create=True)
print("ready", flush=True)
i = 0
while True:
    store.save([{"sample_id": k, "verdict": "agree", "prediction": i % 7, "confidence": None,
                 "time": "2024-05-01T12:00:00+00:00"} for k in range(200 + i % 2 * 300)])
    i += 1
"""


def test_the_feedback_file_survives_a_kill_at_a_random_moment(tmp_path):
    path = tmp_path / "feedback.json"
    child = subprocess.Popen([sys.executable, "-c", _SAVING_IN_A_LOOP, str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # hundreds of saves, of two different sizes
    finally:
        child.kill()
        child.wait(timeout=30)
    ratings = read_feedback_file(path)
    assert len(ratings) in (200, 500)
    assert len({r["prediction"] for r in ratings}) == 1  # one save's content, not a mix
