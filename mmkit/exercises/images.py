"""Lesson 03 self-checks: the output size of a convolution, and max pooling with unfold."""

from collections.abc import Callable

import torch
import torch.nn.functional as F

from mmkit.exercises.feedback import Feedback, Wrong, call, run
from mmkit.scratch.conv import conv_output_size

# (size, kernel_size, stride, padding): each case catches a different slip.
_SIZE_CASES = [
    (32, 3, 1, 1),
    (28, 5, 1, 0),
    (32, 3, 2, 1),
    (7, 3, 2, 0),
    (10, 4, 3, 1),
    (224, 7, 2, 3),
    (5, 5, 1, 0),
]


def _call_int(fn: Callable, *args) -> int:
    try:
        out = fn(*args)
    except NotImplementedError:
        raise Wrong("not implemented yet: replace `raise NotImplementedError` with your code") from None
    except Exception as error:
        raise Wrong(f"raised {type(error).__name__}: {error}") from error
    if out is None:
        raise Wrong("returned nothing: did you forget `return`?")
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        out = out.item()
    if isinstance(out, float) and out.is_integer():
        raise Wrong(f"returned the float {out}: a number of positions is an int (use //)")
    if isinstance(out, bool) or not isinstance(out, int):
        raise Wrong(f"must return an int, got {type(out).__name__} {out!r}")
    return out


# Typical slips, each as the formula a learner who makes it would write.
_SIZE_SLIPS = [
    (lambda n, k, s, p: (n - k) // s + 1, "forgets the padding: the input grows by 2*padding"),
    (lambda n, k, s, p: (n + p - k) // s + 1,
     "pads one side only: padding adds zeros on BOTH sides (2*padding)"),
    (lambda n, k, s, p: n + 2 * p - k + 1, "ignores the stride: divide the room by the stride"),
    (lambda n, k, s, p: (n + 2 * p - k) // s, "forgets the + 1: the first position counts too"),
    (lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1,
     "rounds up: a position where the kernel does not fit whole is dropped (floor, //)"),
    (lambda n, k, s, p: round((n + 2 * p - k) / s) + 1, "rounds to nearest: use floor (//)"),
    (lambda n, k, s, p: (n + 2 * p) // s, "forgets the kernel: it must fit inside the padded input"),
]


def check_conv_output_size(fn: Callable) -> Feedback:
    """Exercise: write ``output_size(size, kernel_size, stride, padding)`` for one axis."""

    def checks() -> str:
        got = [_call_int(fn, *case) for case in _SIZE_CASES]
        want = [conv_output_size(*case) for case in _SIZE_CASES]
        if got == want:
            return "correct: floor((size + 2·padding - kernel_size) / stride) + 1"
        # Name a slip only when it explains every answer, not one lucky coincidence.
        why = next(
            (why for slip, why in _SIZE_SLIPS if got == [slip(*case) for case in _SIZE_CASES]),
            "the rule is floor((size + 2·padding - kernel_size) / stride) + 1",
        )
        i = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        size, k, s, p = _SIZE_CASES[i]
        raise Wrong(f"gives {got[i]} for size={size}, kernel_size={k}, stride={s}, padding={p}, "
                    f"expected {want[i]}: {why}")

    return run("convolution output size", checks)


def check_max_pool(fn: Callable) -> Feedback:
    """Exercise: write ``max_pool(x, k)``, k x k max pooling with stride k, using unfold."""

    def checks() -> str:
        x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        out = call(fn, x, 2)
        want = F.max_pool2d(x, 2)
        if out.shape != want.shape:
            if out.shape[-2:] == (7, 7):
                raise Wrong("gives 7x7 for an 8x8 input: the windows overlap; step by k "
                            "(x.unfold(2, k, k)), not by 1")
            if out.shape[:2] != want.shape[:2]:
                raise Wrong(f"gives shape {tuple(out.shape)}, expected {tuple(want.shape)}: pool "
                            "each channel on its own, over H and W only (dims 2 and 3)")
            raise Wrong(f"gives shape {tuple(out.shape)}, expected {tuple(want.shape)}")
        if torch.allclose(out, F.avg_pool2d(x, 2), atol=1e-6):
            raise Wrong("averages the windows: max pooling keeps the LARGEST value (amax)")
        if not torch.allclose(out, want, atol=1e-6):
            raise Wrong("has the right shape but different values from F.max_pool2d: take the "
                        "max over both window dimensions (the last two after two unfolds)")
        odd = torch.randn(1, 2, 7, 9, generator=torch.Generator().manual_seed(1))
        out = call(fn, odd, 3)
        want = F.max_pool2d(odd, 3)
        if out.shape != want.shape or not torch.allclose(out, want, atol=1e-6):
            raise Wrong(f"is wrong for k=3 on a 7x9 input (expected shape {tuple(want.shape)}): "
                        "use k for both the window size and the step, in both directions")
        return "correct, equal to F.max_pool2d for k = 2 and k = 3"

    return run("max pooling", checks)
