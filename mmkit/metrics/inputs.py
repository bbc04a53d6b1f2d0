"""Turning what a learner passes (lists, numpy arrays, tensors) into checked numpy arrays.

Every metric starts here, so that a wrong input fails the same way everywhere: the error
names the argument, says what was expected and shows what came. The rules follow
scikit-learn's, so the same call works in both libraries.
"""

import numpy as np

from mmkit.checks import _describe


class UndefinedMetricWarning(UserWarning):
    """A metric was asked for where it is undefined (e.g. precision with no predicted
    positives); the warning says which value was used instead. scikit-learn warns with a
    class of the same name, also a UserWarning."""


def to_numpy(x, name: str) -> np.ndarray:
    """A numpy array from a list, tuple, numpy array or torch tensor (moved to the CPU)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple, range)):
        return np.asarray(x)
    raise TypeError(
        f"{name} must be a list, a numpy array or a torch tensor, got {_describe(x)}"
    )


def _check_length(n: int, expected: int, name: str, reference: str) -> None:
    if n != expected:
        raise ValueError(
            f"{name} has {n} values but {reference} has {expected}: "
            "they must hold one value per sample, in the same order"
        )


def as_labels(y, name: str, n: int | None = None, reference: str = "y_true") -> np.ndarray:
    """Class labels: 1-D, not empty, ints, bools, strings or whole-number floats."""
    y = to_numpy(y, name)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one class label per sample), got shape {y.shape}"
            + ("; flatten it with .ravel()" if y.ndim == 2 and 1 in y.shape else "")
        )
    if y.size == 0:
        raise ValueError(f"{name} is empty; pass at least one sample")
    if n is not None:
        _check_length(y.size, n, name, reference)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if np.any(y != np.round(y)):
            example = y[y != np.round(y)][0]
            raise ValueError(
                f"{name} must hold class labels, got a continuous value ({example}); "
                "for scores or probabilities use a curve (roc_curve) or threshold them first"
            )
    elif y.dtype.kind == "O":
        kinds = {isinstance(v, str) for v in y}
        if len(kinds) > 1:
            raise ValueError(f"{name} mixes strings and numbers; use one kind of label")
    elif y.dtype.kind not in "biuU":
        raise TypeError(f"{name} must hold class labels, got dtype {y.dtype}")
    return y


def as_scores(y, name: str, n: int, ndim=(1,), reference: str = "y_true") -> np.ndarray:
    """Scores as float64, finite, one row per sample."""
    y = to_numpy(y, name)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (scores or probabilities), got {y.dtype}")
    if y.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {want}, got shape {y.shape}")
    _check_length(y.shape[0], n, name, reference)
    y = y.astype(np.float64, copy=False)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return y


def as_weights(sample_weight, n: int) -> np.ndarray | None:
    """None, or non-negative finite weights, one per sample."""
    if sample_weight is None:
        return None
    w = to_numpy(sample_weight, "sample_weight")
    if w.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D, got shape {w.shape}")
    _check_length(w.size, n, "sample_weight", "y_true")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got {w.dtype}")
    if w.dtype.kind == "f" and not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinite values")
    if np.any(w < 0):
        raise ValueError("sample_weight must be >= 0; got a negative weight")
    if not np.any(w):
        raise ValueError("sample_weight is all zeros: at least one sample must count")
    return w


def unique_labels(*ys: np.ndarray) -> np.ndarray:
    """The sorted labels found in any of ``ys``, fast for small integer labels (bincount
    instead of a sort: this is most of the cost of a metric on a million samples)."""
    if all(y.dtype.kind in "biu" for y in ys):
        low = min(int(y.min()) for y in ys)
        high = max(int(y.max()) for y in ys)
        if high - low < 1_000_000:
            seen = np.zeros(high - low + 1, dtype=bool)
            for y in ys:
                seen[np.asarray(y, dtype=np.int64) - low] = True
            return np.flatnonzero(seen) + low
    kinds = {y.dtype.kind in "U" or y.dtype.kind == "O" and isinstance(y[0], str) for y in ys}
    if len(kinds) > 1:
        raise ValueError("y_true and y_pred mix string and number labels; use one kind")
    return np.unique(np.concatenate(ys))


def encode(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each label's index in the sorted ``classes``; len(classes) for a label not in it."""
    index = np.searchsorted(classes, y)
    index = np.minimum(index, len(classes) - 1) if len(classes) else index
    found = classes[index] == y if len(classes) else np.zeros(len(y), bool)
    return np.where(found, index, len(classes))


def zero_division_value(zero_division) -> float:
    """The value a 0/0 metric takes: "warn" (0.0, with a warning), 0.0, 1.0 or np.nan."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, (int, float)) and not isinstance(zero_division, bool):
        if zero_division in (0, 1) or np.isnan(zero_division):
            return float(zero_division)
    raise ValueError(
        f'zero_division must be "warn", 0.0, 1.0 or np.nan, got {zero_division!r}'
    )
