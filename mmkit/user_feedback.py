"""User feedback (基于用户反馈的评估): a learner's verdicts on a model's predictions, kept in a
JSON file that a crash can never leave half-written.

A rating is one verdict — "agree" or "disagree" — on one sample's prediction, with the
prediction, the model's confidence (optional) and the time. Rating a sample again replaces
its earlier verdict. The file is the learner's work, so it is treated with care:

- every save is atomic: the JSON goes to a temporary file in the same folder, is flushed and
  fsync'ed to the disk, and only then replaces the old file (``os.replace``). A crash or a
  power cut mid-write leaves the old file whole;
- a file that is missing is created only when the caller asks (``create=True``);
- a file that is corrupt, or not a feedback file, is reported (FeedbackFileError, naming
  the path and what is wrong) and never written over — not even by a later save.

The summary sets the agreement rate beside its Wilson confidence interval (see
``wilson_interval`` for why Wilson and not the bootstrap).
"""

import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mmkit.files import write_atomically
from mmkit.metrics.bootstrap import wilson_interval  # noqa: F401 (part of this module's API)

FORMAT = "mmkit-feedback"
VERSION = 1
VERDICTS = ("agree", "disagree")
_FIELDS = ("sample_id", "verdict", "prediction", "confidence", "time")


class FeedbackFileError(ValueError):
    """A feedback file that cannot be read as one: corrupt JSON, the wrong format, bad
    records. The message names the file and what is wrong, and how to start afresh."""


def _fresh_start_hint(path: Path) -> str:
    return (f"it was left untouched; to start afresh, move it aside (e.g. rename it to "
            f"{path.name}.broken) or pass another path, with create=True")


def _check_sample_id(sample_id):
    if isinstance(sample_id, bool) or not isinstance(sample_id, (int, str)):
        raise TypeError(f"sample_id must be an int or a str, got {type(sample_id).__name__} "
                        f"{sample_id!r}")
    if isinstance(sample_id, str) and not sample_id:
        raise ValueError("sample_id must not be an empty string")
    return sample_id


def _check_prediction(prediction):
    if isinstance(prediction, bool) or not isinstance(prediction, (int, str)):
        raise TypeError(f"prediction must be an int (a class index) or a str (a class name), "
                        f"got {type(prediction).__name__} {prediction!r}")
    return prediction


def _check_confidence(confidence):
    if confidence is None:
        return None
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise TypeError(f"confidence must be None or a number in [0, 1], got "
                        f"{type(confidence).__name__} {confidence!r}")
    if not 0 <= confidence <= 1:
        raise ValueError(f"confidence must be in [0, 1], got {confidence}")
    return float(confidence)


def _check_record(record, where: str) -> dict:
    """One record read from a file: the same checks as ``rate``, worded for a file."""
    if not isinstance(record, dict):
        raise ValueError(f"{where} is a {type(record).__name__}, not an object")
    missing = [name for name in _FIELDS if name not in record]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    if record["verdict"] not in VERDICTS:
        raise ValueError(f"{where} has verdict {record['verdict']!r}, not 'agree' or 'disagree'")
    try:
        _check_sample_id(record["sample_id"])
        _check_prediction(record["prediction"])
        _check_confidence(record["confidence"])
        datetime.fromisoformat(record["time"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None
    return {name: record[name] for name in _FIELDS}


def read_feedback_file(path) -> list[dict]:
    """The ratings in a feedback file, checked; FeedbackFileError if it is not a good one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise FeedbackFileError(f"feedback file {path} is not UTF-8 text ({error}); "
                                f"{_fresh_start_hint(path)}") from None
    except OSError as error:  # a folder, no permission, ...
        raise FeedbackFileError(f"feedback file {path} cannot be read "
                                f"({type(error).__name__}: {error.strerror or error})") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise FeedbackFileError(f"feedback file {path} is not valid JSON (line {error.lineno}, "
                                f"column {error.colno}: {error.msg}); "
                                f"{_fresh_start_hint(path)}") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise FeedbackFileError(f"{path} is JSON but not an mmkit feedback file (no "
                                f'"format": "{FORMAT}"); {_fresh_start_hint(path)}')
    if content.get("version") != VERSION:
        raise FeedbackFileError(f"feedback file {path} has version {content.get('version')!r}; "
                                f"this mmkit reads version {VERSION}; {_fresh_start_hint(path)}")
    ratings = content.get("ratings")
    if not isinstance(ratings, list):
        raise FeedbackFileError(f'feedback file {path} has no "ratings" list; '
                                f"{_fresh_start_hint(path)}")
    checked, seen = [], set()
    for i, record in enumerate(ratings):
        try:
            record = _check_record(record, f"rating {i}")
        except ValueError as error:
            raise FeedbackFileError(f"feedback file {path}: {error}; "
                                    f"{_fresh_start_hint(path)}") from None
        key = _key(record["sample_id"])
        if key in seen:
            raise FeedbackFileError(f"feedback file {path}: sample {record['sample_id']!r} is "
                                    f"rated twice; {_fresh_start_hint(path)}")
        seen.add(key)
        checked.append(record)
    return checked


def _key(sample_id) -> tuple:
    return (type(sample_id).__name__, sample_id)  # 3 and "3" are different samples


@dataclass(frozen=True)
class FeedbackSummary:
    """Counts, the agreement rate (NaN before the first rating) and its Wilson interval."""

    n_rated: int
    n_agree: int
    n_disagree: int
    agreement: float
    low: float
    high: float
    confidence: float

    def __str__(self) -> str:
        if self.n_rated == 0:
            return "no ratings yet"
        return (f"agreement {self.agreement:.2f} [{self.low:.2f}, {self.high:.2f}] "
                f"({self.confidence:.0%} Wilson) from {self.n_rated} ratings "
                f"({self.n_agree} agree, {self.n_disagree} disagree)")


class FeedbackStore:
    """The ratings kept in one JSON file; every ``rate`` saves at once (atomically).

    Args:
        path: the JSON file. Its folder must exist.
        create: if the file does not exist, start with no ratings (the file is written on
            the first rating). Without it a missing file is an error, so a typo in the path
            cannot silently start a new, empty store.

    Raises FileNotFoundError (missing file, create=False) and FeedbackFileError (a file that
    is not a good feedback file; it is left untouched).
    """

    def __init__(self, path, *, create: bool = False):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or a pathlib.Path, got {type(path).__name__}")
        if not isinstance(create, bool):
            raise TypeError(f"create must be True or False, got {create!r}")
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"the folder {self.path.parent} of the feedback file does "
                                    "not exist; create it first")
        if self.path.exists():
            self._ratings = read_feedback_file(self.path)
        elif create:
            self._ratings = []
        else:
            raise FileNotFoundError(f"no feedback file at {self.path}; pass create=True to "
                                    "start a new, empty one there")

    def __len__(self) -> int:
        return len(self._ratings)

    def __repr__(self) -> str:
        return f"FeedbackStore({str(self.path)!r}, {len(self)} ratings)"

    @property
    def ratings(self) -> list[dict]:
        """A copy of the ratings, oldest first: dicts with sample_id, verdict, prediction,
        confidence and time (ISO 8601, UTC)."""
        return [dict(record) for record in self._ratings]

    def verdict(self, sample_id):
        """This sample's verdict ("agree" / "disagree"), or None if it is not rated."""
        key = _key(_check_sample_id(sample_id))
        found = [r["verdict"] for r in self._ratings if _key(r["sample_id"]) == key]
        return found[0] if found else None

    def rate(self, sample_id, verdict: str, prediction, confidence=None, *, when=None) -> dict:
        """Record a verdict on one sample's prediction and save the file; returns the record.

        sample_id: int or str; rating a sample again replaces its verdict. verdict: "agree"
        or "disagree" (True / False are taken as agree / disagree). prediction: the class
        (index or name) the model predicted. confidence: the model's probability for it, or
        None. when: a timezone-aware datetime (default: now, UTC).
        """
        if isinstance(verdict, bool):
            verdict = "agree" if verdict else "disagree"
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be 'agree' or 'disagree', got {verdict!r}")
        if when is None:
            when = datetime.now(UTC)
        if not isinstance(when, datetime) or when.tzinfo is None:
            raise TypeError(f"when must be a timezone-aware datetime, got {when!r}")
        record = {"sample_id": _check_sample_id(sample_id), "verdict": verdict,
                  "prediction": _check_prediction(prediction),
                  "confidence": _check_confidence(confidence), "time": when.isoformat()}
        key = _key(record["sample_id"])
        kept = [r for r in self._ratings if _key(r["sample_id"]) != key]
        self.save(kept + [record])
        return dict(record)

    def save(self, ratings=None) -> None:
        """Write the ratings (by default the store's own) to the file, atomically.

        Refuses to replace a file that is not a good feedback file (someone may have edited
        it, or it was damaged since it was read): FeedbackFileError, the file untouched.
        """
        ratings = self._ratings if ratings is None else ratings
        if self.path.exists():
            read_feedback_file(self.path)  # raises, naming what is wrong, before any write
        content = {"format": FORMAT, "version": VERSION, "ratings": ratings}
        write_atomically(self.path, json.dumps(content, indent=1, ensure_ascii=False) + "\n")
        self._ratings = list(ratings)  # only once the file holds them

    def summary(self, confidence: float = 0.95) -> FeedbackSummary:
        """Agreement = share of "agree" verdicts, with its Wilson interval."""
        n = len(self._ratings)
        agree = sum(r["verdict"] == "agree" for r in self._ratings)
        low, high = wilson_interval(agree, n, confidence)
        return FeedbackSummary(n, agree, n - agree, agree / n if n else math.nan, low, high,
                               float(confidence))
