"""Input checks shared by every public function.

Each check names the argument, says what was expected and shows what came, so that a
learner who passes the wrong thing reads the fix in the error itself. They raise TypeError
for the wrong kind of object and ValueError for a wrong value, like the standard library.
"""

import math
import numbers

import torch


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a {x.dtype} tensor of shape {tuple(x.shape)}"
    if isinstance(x, (numbers.Number, str)):
        return f"{type(x).__name__} {x!r}"
    return type(x).__name__


def check_tensor(
    x,
    name: str,
    *,
    floating: bool | None = None,
    ndim: int | tuple[int, ...] | None = None,
    min_ndim: int = 0,
    allow_empty: bool = False,
    finite: bool = True,
) -> torch.Tensor:
    """Check that ``x`` is a tensor of the wanted kind; return it unchanged.

    floating=True wants a floating-point dtype, floating=False an integer one (class
    indices); ndim is the exact number of dimensions (or a tuple of allowed ones).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(x)}")
    if floating is True and not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got {x.dtype} "
            f"(convert with {name}.float())"
        )
    if floating is False and (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool):
        raise TypeError(f"{name} must hold integer class indices, got {x.dtype} (use .long())")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and x.dim() not in allowed:
        want = " or ".join(str(n) for n in allowed)
        raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)}")
    if x.dim() < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
        )
    if not allow_empty and x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); pass at least one value")
    if finite and x.is_floating_point() and x.numel() and not torch.isfinite(x).all():
        bad = "NaN" if torch.isnan(x).any() else "infinite values"
        raise ValueError(f"{name} contains {bad}")
    return x


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_dim(x: torch.Tensor, dim: int, name: str = "dim") -> int:
    """Check that ``dim`` indexes a dimension of ``x``; return it as a non-negative int."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(dim)}")
    dim = int(dim)
    n = max(x.dim(), 1)
    if not -n <= dim < n:
        raise ValueError(f"{name}={dim} is out of range for a tensor with {x.dim()} dimensions")
    return dim % n


def check_real(value, name: str) -> float:
    """Check that ``value`` is a finite real number (Python, NumPy or a one-element tensor);
    return it as a float."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 (or >= 0); return it as a float.
    Python, NumPy and one-element torch numbers are all accepted."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        else:
            raise TypeError(f"{name} must be a number, got {_describe(value)}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        want = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {want}, got {value}")
    return float(value)


def check_int(value, name: str, *, minimum: int = 0) -> int:
    """Check that ``value`` is a whole number (Python or NumPy) >= minimum; return an int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_choice(value, name: str, choices):
    """Check that ``value`` is one of ``choices``; return it."""
    try:
        found = value in choices
    except TypeError:  # an unhashable value (a list, a dict) against a set of names
        found = False
    if not found:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value
