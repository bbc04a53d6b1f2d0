"""Lesson 10 self-checks: gradient × input, VarGrad, and the pointing game's hit test."""

from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, run


def _classifier():
    """A tiny image classifier with fixed random weights, and 3 images it explains."""
    from mmkit.encoders.image import ImageCNN
    from mmkit.models import UnimodalClassifier

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = UnimodalClassifier(ImageCNN(3, (4,), out_dim=8, pooled_size=2), "image", 3)
        images = torch.rand(3, 3, 8, 8)
    return model.eval(), images


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=1e-6, rtol=1e-4)


def _gradients(f, images, target):
    """d f(images)[i, target[i]] / d images, (B, C, H, W)."""
    x = images.clone().requires_grad_()
    return torch.autograd.grad(f(x).gather(1, target[:, None]).sum(), x)[0]


def check_gradient_times_input(fn: Callable) -> Feedback:
    """Exercise: write ``gradient_times_input(f, images, target)`` -> (B, H, W).

    f maps images (B, C, H, W) to class scores (B, K); target (B,) is the class to explain
    per image. Gradient × input (Shrikumar et al., 2016): each pixel's value times
    d f(images)[i, target[i]] / d pixel, summed over the colour channels; signed. Checked
    against Captum's ``InputXGradient``.
    """
    from captum.attr import InputXGradient

    def checks() -> str:
        model, images = _classifier()

        def f(x):
            return model({"image": x})

        with torch.no_grad():
            predicted = f(images).argmax(dim=1)
        target = (predicted + 1) % 3  # not the predicted class: the target must be used
        expected = InputXGradient(f).attribute(images.clone().requires_grad_(), target=target)
        expected = expected.sum(dim=1).detach()
        out = call(fn, f, images.clone(), target.clone()).detach().float()
        if out.shape == images.shape:
            raise Wrong(f"returned shape {tuple(out.shape)}: one value per pixel is wanted, "
                        "(B, H, W) — sum over the colour channels (dim=1)")
        if out.shape != expected.shape:
            raise Wrong(f"returned shape {tuple(out.shape)}, expected {tuple(expected.shape)}")
        grad = _gradients(f, images, target)
        product = images * grad
        if _close(out, grad.sum(dim=1)) or _close(out, grad.abs().amax(dim=1)):
            raise Wrong("that is the gradient alone: multiply it by the input, pixel by pixel "
                        "and channel by channel, before summing the channels")
        if _close(out, product.abs().sum(dim=1)) or _close(out, product.sum(dim=1).abs()):
            raise Wrong("takes |.|: gradient × input keeps its sign (> 0: the pixel raised "
                        "the score)")
        if _close(out, product.amax(dim=1)) or _close(out, product.mean(dim=1)):
            raise Wrong("sum the channels: each channel's contribution adds to the score")
        x = images.clone().requires_grad_()
        all_classes = x * torch.autograd.grad(f(x).sum(), x)[0]
        if _close(out, all_classes.sum(dim=1)):
            raise Wrong("differentiates the sum of all class scores: take the score of the "
                        "target class only, scores[i, target[i]] (scores.gather(1, ...))")
        if _close(out, (images * _gradients(f, images, predicted)).sum(dim=1)):
            raise Wrong("explains the predicted class, not the target: use target[i]")
        if not _close(out, expected):
            raise Wrong(f"differs from Captum's InputXGradient by up to "
                        f"{float((out - expected).abs().max()):.2e}")
        return "correct: the same map as Captum's InputXGradient, summed over the channels"

    return run("gradient × input", checks)


def _as_bool(out) -> bool:
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            raise Wrong(f"returned a tensor of shape {tuple(out.shape)}: return one True or False")
        return bool(out)
    if out is None:
        raise Wrong("returned nothing: did you forget `return`?")
    if type(out).__name__ not in ("bool", "bool_"):
        raise Wrong(f"must return True or False, got {type(out).__name__} {out!r}")
    return bool(out)


def check_pointing_hit(fn: Callable) -> Feedback:
    """Exercise: write ``hit(heatmap, mask, tolerance)`` -> True or False.

    heatmap (H, W) float with one largest value; mask (H, W) bool, True on the object. A
    hit: the largest value's pixel (row r, column c) lies within ``tolerance`` pixels of a
    mask pixel (i, j): |i - r| <= tolerance and |j - c| <= tolerance (a square window).
    Checked against ``mmkit.explain.pointing_game``.
    """
    from mmkit.explain import pointing_game

    def case(peak, tolerance, lowest):
        heatmap = torch.zeros(9, 9)
        heatmap[4:7, 2:4] = 0.5  # a broad low hill on the object...
        heatmap[peak] = 1.0  # ...the single peak...
        heatmap[lowest] = -3.0  # ...and the smallest value
        mask = torch.zeros(9, 9, dtype=torch.bool)
        mask[4:7, 2:4] = True  # rows 4-6, columns 2-3
        return heatmap, mask, tolerance

    cases = {  # name -> (peak, tolerance, where the smallest value is)
        "peak inside": ((5, 3), 1, (0, 8)),
        "one pixel right of the mask": ((5, 4), 1, (0, 8)),
        "one pixel right, tolerance 0": ((5, 4), 0, (0, 8)),
        "diagonal neighbour of a corner": ((7, 4), 1, (0, 8)),
        "two pixels right": ((5, 5), 1, (0, 8)),
        "row and column swapped": ((2, 5), 1, (0, 8)),
        "far away": ((0, 0), 1, (5, 2)),
    }

    def euclidean(heatmap, mask, tol):
        r, c = divmod(int(heatmap.argmax()), heatmap.shape[1])
        rows, cols = torch.nonzero(mask, as_tuple=True)
        return bool((((rows - r) ** 2 + (cols - c) ** 2) <= tol**2).any())

    slips = {  # what a typical slip would answer, and the hint for it
        "argmin": (lambda h, m, t: bool(pointing_game(-h[None], m[None], t)[0]),
                   "use the LARGEST value (argmax), not the smallest"),
        "swap": (lambda h, m, t: bool(pointing_game(h.T[None], m[None], t)[0]),
                 "mixes rows and columns: for a (H, W) map, flat index k is row k // W, "
                 "column k % W"),
        "circle": (euclidean, "the window is a square, |dr| <= tolerance and |dc| <= "
                   "tolerance, not a circle: a diagonal neighbour counts"),
    }

    def checks() -> str:
        answers, expected = {}, {}
        for name, (peak, tolerance, lowest) in cases.items():
            heatmap, mask, tol = case(peak, tolerance, lowest)
            try:
                out = fn(heatmap.clone(), mask.clone(), tol)
            except NotImplementedError:
                raise Wrong("not implemented yet: replace `raise NotImplementedError` with "
                            "your code") from None
            except Exception as error:
                raise Wrong(f"raised {type(error).__name__}: {error}") from error
            answers[name] = _as_bool(out)
            expected[name] = bool(pointing_game(heatmap[None], mask[None], tol)[0])
        if answers == expected:
            return f"correct on all {len(cases)} cases, as mmkit.explain.pointing_game"
        for slip, hint in slips.values():
            if answers == {name: slip(*case(*args)) for name, args in cases.items()}:
                raise Wrong(hint)
        name = next(name for name in cases if answers[name] != expected[name])
        (row, col), tolerance, _ = cases[name]
        raise Wrong(f"case '{name}' (peak at row {row}, column {col}, tolerance {tolerance}): "
                    f"answered {answers[name]}, expected {expected[name]}")

    return run("pointing-game hit", checks)


def check_vargrad(fn: Callable) -> Feedback:
    """Exercise: write ``vargrad(f, images, target, noise)`` -> (B, H, W).

    ``noise`` (N, B, C, H, W) holds N draws of Gaussian noise. VarGrad (Adebayo et al.,
    2018): the variance over the N draws of the gradient d f(images + noise[k])[i,
    target[i]] / d pixel — per pixel and channel, the mean of the squares minus the square
    of the mean (dividing by N, as Captum's NoiseTunnel does) — then the largest over the
    colour channels.
    """

    def checks() -> str:
        model, images = _classifier()

        def f(x):
            return model({"image": x})

        target = torch.tensor([2, 0, 1])
        noise = 0.2 * torch.randn(6, *images.shape, generator=torch.Generator().manual_seed(4))
        out = call(fn, f, images.clone(), target.clone(), noise.clone()).detach().float()
        grads = torch.stack([_gradients(f, images + n, target) for n in noise])  # (N, B, C, H, W)
        expected = grads.var(dim=0, unbiased=False).amax(dim=1)
        scale = float(expected.abs().max())  # variances are small: compare relative to them

        def _close(a, b):
            return a.shape == b.shape and torch.allclose(a, b, atol=1e-5 * scale, rtol=1e-4)

        if out.shape != expected.shape:
            raise Wrong(f"returned shape {tuple(out.shape)}, expected {tuple(expected.shape)}: "
                        "one map per image, (B, H, W)")
        if _close(out, grads.abs().mean(dim=0).amax(dim=1)) or _close(
                out, grads.abs().amax(dim=2).mean(dim=0)):
            raise Wrong("that is SmoothGrad, the mean of |gradient|: VarGrad is the variance "
                        "of the gradient over the draws")
        if _close(out, grads.mean(dim=0).amax(dim=1)) or _close(out, grads.mean(dim=0).abs().amax(dim=1)):
            raise Wrong("that is the mean of the gradients: VarGrad is their variance")
        if _close(out, grads.var(dim=0, unbiased=True).amax(dim=1)):
            raise Wrong("divides by N − 1: take the mean of the squares minus the square of the "
                        "mean, which divides by N (as Captum's NoiseTunnel does)")
        if _close(out, grads.std(dim=0, unbiased=False).amax(dim=1)) or _close(
                out, grads.std(dim=0, unbiased=True).amax(dim=1)):
            raise Wrong("that is the standard deviation: VarGrad is the variance, its square")
        if _close(out, grads.abs().var(dim=0, unbiased=False).amax(dim=1)):
            raise Wrong("takes |gradient| first: the variance is of the gradient itself")
        if _close(out, grads.var(dim=0, unbiased=False).sum(dim=1)) or _close(
                out, grads.var(dim=0, unbiased=False).mean(dim=1)):
            raise Wrong("sums or averages the channels: keep the largest over the channels, "
                        ".amax(dim=1)")
        if torch.allclose(out, torch.zeros_like(out), atol=1e-3 * scale):
            raise Wrong("all zeros: add each noise draw to the images, images + noise[k], and "
                        "take the gradient of each noisy copy")
        if not _close(out, expected):
            raise Wrong(f"differs from the variance of the noisy copies' gradients by up to "
                        f"{float((out - expected).abs().max()):.2e}")
        return "correct: the gradients' variance over the noisy copies, the largest channel"

    return run("VarGrad", checks)
