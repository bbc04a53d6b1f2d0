"""Lesson 03 self-checks: the output size of a convolution and the padding that gives a
wanted size, max pooling with unfold, the parameters of a CNN, and the receptive field of a
stack of layers."""

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
        raise Wrong(f"returned the float {out}: a count is a whole number (use //)")
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


# (size, kernel_size, stride, target): each case catches a different slip.
_PADDING_CASES = [
    (32, 3, 1, 32),    # "same" padding: 1
    (28, 5, 1, 28),    # 2
    (32, 3, 2, 16),    # 1: half a pixel missing on each side rounds UP
    (224, 7, 2, 112),  # 3: ResNet's first layer
    (10, 3, 2, 4),     # 0: already there without padding
    (7, 3, 3, 4),      # 3
    (10, 3, 1, 5),     # None: padding cannot shrink the output
    (8, 3, 1, 7),      # None: with stride 1 each step of padding adds two outputs
]


def _output_with_padding(size: int, kernel_size: int, stride: int, padding: int) -> int | None:
    """How many outputs PyTorch's own convolution gives (None: the kernel does not fit)."""
    if size + 2 * padding < kernel_size:
        return None
    x, w = torch.zeros(1, 1, 1, size), torch.zeros(1, 1, 1, kernel_size)
    return F.conv2d(x, w, stride=stride, padding=(0, padding)).shape[-1]


def _smallest_padding(size: int, kernel_size: int, stride: int, target: int) -> int | None:
    """The reference: try paddings 0, 1, 2, ... and let F.conv2d say the size."""
    for padding in range(target * stride + kernel_size + 1):
        out = _output_with_padding(size, kernel_size, stride, padding)
        if out is None:
            continue
        if out == target:
            return padding
        if out > target:
            return None
    return None


def check_padding_for(fn: Callable) -> Feedback:
    """Exercise: ``padding_for(size, kernel_size, stride, target)``, the smallest padding
    that gives ``target`` outputs along one axis, or None; checked against F.conv2d."""

    def checks() -> str:
        for size, k, s, target in _PADDING_CASES:
            case = f"size={size}, kernel_size={k}, stride={s}, target={target}"
            want = _smallest_padding(size, k, s, target)
            try:
                got = fn(size, k, s, target)
            except NotImplementedError:
                raise Wrong("not implemented yet: replace `raise NotImplementedError` with your "
                            "code") from None
            except Exception as error:
                raise Wrong(f"raised {type(error).__name__} for {case}: {error}") from error
            if isinstance(got, torch.Tensor) and got.numel() == 1:
                got = got.item()
            if isinstance(got, float) and got.is_integer():
                raise Wrong(f"returned the float {got} for {case}: a padding is a whole number "
                            "of pixels (use // and round up with -(-a // b))")
            if got is not None and (isinstance(got, bool) or not isinstance(got, int)):
                raise Wrong(f"must return an int or None, got {type(got).__name__} {got!r}")
            if got == want:
                continue
            if got is None:
                raise Wrong(f"returns None for {case}, but padding {want} gives exactly {target} "
                            "outputs (None is only for a size no padding reaches; did you forget "
                            "`return`?)")
            if got < 0:
                raise Wrong(f"gives a negative padding ({got}) for {case}: padding only adds "
                            "pixels; when even padding 0 gives too many outputs, return None")
            reached = _output_with_padding(size, k, s, got)
            if want is None:
                raise Wrong(f"gives {got} for {case}, but padding {got} gives {reached} outputs: "
                            f"no padding gives exactly {target} here, so return None (check "
                            "your answer with section 2's rule before returning it)")
            missing = (target - 1) * s + k - size
            if got == missing:
                raise Wrong(f"gives {got} for {case}, expected {want}: padding goes on BOTH "
                            "sides, so each step of padding adds 2 pixels: halve what is missing")
            if reached is not None and reached < target:
                raise Wrong(f"gives {got} for {case}: that gives only {reached} outputs, "
                            f"expected padding {want}: round the half of what is missing UP")
            raise Wrong(f"gives {got} for {case}, expected {want}: padding p gives "
                        "floor((size + 2p - kernel_size) / stride) + 1 outputs; find the "
                        "smallest p that gives target")
        return ("correct: ResNet's 7 × 7, stride-2 first layer needs padding 3 to turn 224 "
                "pixels into 112, as F.conv2d says")

    return run("padding for a target size", checks)


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


def _article_cnn(image_size: int, pool: bool) -> torch.nn.Module:
    """The article's Keras CNN in PyTorch, built layer by layer: the reference count."""
    from torch import nn

    pools = [nn.MaxPool2d(2)] if pool else []
    body = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), *pools, nn.Conv2d(32, 64, 3), nn.ReLU(),
                         *pools, nn.Flatten())
    with torch.no_grad():
        flat = body(torch.zeros(1, 1, image_size, image_size)).shape[1]
    return nn.Sequential(body, nn.Linear(flat, 10))


def check_cnn_params(fn: Callable) -> Feedback:
    """Exercise: ``cnn_params(image_size, pool)``, the parameter count of the article's CNN;
    checked against ``sum(p.numel())`` of the network built in PyTorch."""

    def checks() -> str:
        for image_size, pool in [(28, True), (28, False), (32, True), (64, False)]:
            got = _call_int(fn, image_size, pool)
            model = _article_cnn(image_size, pool)
            want = sum(p.numel() for p in model.parameters())
            if got == want:
                continue
            where = f"for {image_size}x{image_size} images, pool={pool}"
            weights_only = sum(p.numel() for name, p in model.named_parameters() if "weight" in name)
            if got == weights_only:
                raise Wrong(f"gives {got:,} {where}, expected {want:,}: add the biases, one per "
                            "filter and one per dense unit")
            conv = 32 * 10 + 64 * (32 * 9 + 1)
            if got == conv:
                raise Wrong(f"gives {got:,} {where}: that is the convolutions only; the dense "
                            "layer has 10 × (flattened size + 1) more")
            other = _article_cnn(image_size, not pool)
            if got == sum(p.numel() for p in other.parameters()):
                raise Wrong(f"gives {got:,} {where}, the count with pool={not pool}: each pool "
                            "halves the side (floor) before the next layer")
            raise Wrong(f"gives {got:,} {where}, expected {want:,}: the convolutions have "
                        "C_out·(C_in·3·3 + 1) each; after them the side is image_size - 2, "
                        "halved by a pool, - 2, halved; the dense layer 10·(64·side² + 1)")
        return "correct: pooling leaves the convolutions alone and shrinks only the dense layer"

    return run("CNN parameters", checks)


def _measured_receptive_field(layers) -> int:
    """The receptive field found with a gradient: which input pixels move one output unit.

    A stack of convolutions with all-one kernels (nothing cancels) and the given kernel
    sizes and strides; the gradient of the centre output with respect to the input is
    non-zero exactly on the pixels that unit sees.
    """
    size = 1 + sum((k - 1) for k, _ in layers) * 2
    for _, s in layers:
        size *= s
    size = max(size, 16) + 1
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s in layers:
        y = F.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
    h, w = y.shape[-2:]
    (grad,) = torch.autograd.grad(y[0, 0, h // 2, w // 2], x)
    rows = grad[0, 0].abs().sum(dim=1).nonzero()
    return int(rows.max() - rows.min() + 1)


def check_receptive_field(fn: Callable) -> Feedback:
    """Exercise: ``receptive_field(layers)`` for (kernel_size, stride) pairs, first layer
    first; checked against the pixels a gradient reaches."""

    cases = [[(3, 1)], [(3, 1), (3, 1)], [(3, 1), (2, 2), (3, 1), (2, 2)],
             [(5, 2), (3, 1)], [(3, 2), (3, 2), (3, 2)], [(7, 2), (3, 2), (3, 1)]]

    def checks() -> str:
        got = [_call_int(fn, list(case)) for case in cases]
        want = [_measured_receptive_field(case) for case in cases]
        if got == want:
            return ("correct: 1 + Σ (k - 1) × (product of the earlier strides): exactly the "
                    "input pixels that can change one output unit")
        slips = [
            (lambda c: 1 + sum(k - 1 for k, _ in c),
             "ignores the strides: after a stride-2 layer, one step is 2 input pixels"),
            (lambda c: sum(k for k, _ in c), "adds the kernel sizes: each layer adds k - 1, and "
             "the field starts at 1"),
        ]
        why = next((why for slip, why in slips if got == [slip(c) for c in cases]),
                   "field = 1, jump = 1; for each layer: field += (k - 1) * jump, jump *= s")
        i = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        raise Wrong(f"gives {got[i]} for {cases[i]}, expected {want[i]}: {why}")

    return run("receptive field", checks)
