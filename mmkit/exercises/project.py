"""Lesson 07 self-checks: pooling a BERT-like output, a shuffled split, Keras' VGG16 input."""

from collections.abc import Callable

import numpy as np
import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, run


def check_mean_pool(fn: Callable) -> Feedback:
    """Exercise: write ``mean_pool(states, mask)`` -> (N, D), the mean of each row's token
    states over its real tokens (mask True), the padding left out."""

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        states = torch.randn(3, 5, 4, generator=g)
        mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
        out = call(fn, states.clone(), mask.clone())
        if out.shape != (3, 4):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (N, D) = (3, 4): average "
                        "over the tokens (dim=1)")
        expected = torch.stack([states[i, mask[i]].mean(dim=0) for i in range(3)])
        if torch.allclose(out, states.mean(dim=1), atol=1e-5):
            raise Wrong("a plain mean counts the padding: the same caption would get another "
                        "vector in a batch with a longer caption; weigh by the mask")
        if torch.allclose(out, states[:, 0], atol=1e-5):
            raise Wrong("this is the first token's vector (BERT's [CLS] way); here, take the "
                        "mean over the real tokens")
        if torch.allclose(out, (states * mask.unsqueeze(-1)).sum(1) / 5, atol=1e-5):
            raise Wrong("the padding is zeroed but still counted in the division: divide by "
                        "the number of real tokens of each row")
        if not torch.allclose(out, expected, atol=1e-5):
            raise Wrong("differs from the mean over each row's real tokens")
        return "correct: the mean over the real tokens, whatever the padding"

    return run("mean pooling of token states", checks)


def check_shuffled_split(fn: Callable) -> Feedback:
    """Exercise: write ``shuffled_split(n, val, test, seed)`` -> (train, val, test) index
    tensors: every row once, val and test of the sizes asked, drawn at random (seeded)."""

    def checks() -> str:
        parts = call_any(fn, 20, 4, 6, 0)
        if not isinstance(parts, (tuple, list)) or len(parts) != 3:
            raise Wrong("return three index tensors: (train, validation, test)")
        train, val, test = (torch.as_tensor(p).long().flatten() for p in parts)
        if (len(train), len(val), len(test)) != (10, 4, 6):
            raise Wrong(f"sizes {len(train)}, {len(val)}, {len(test)}; expected 10, 4, 6 for "
                        "n=20, val=4, test=6")
        rows = torch.cat([train, val, test])
        if sorted(rows.tolist()) != list(range(20)):
            raise Wrong("the three parts must hold every row 0..n-1 exactly once (no repeats, "
                        "none left out)")
        if test.tolist() == list(range(14, 20)) and val.tolist() == list(range(10, 14)):
            raise Wrong("the last rows, in order: that is Keras' validation_split, which sorted "
                        "data turns into a one-class split; draw a random permutation first")
        again = [torch.as_tensor(p).long().flatten() for p in call_any(fn, 20, 4, 6, 0)]
        if not all(torch.equal(a, b) for a, b in zip(again, (train, val, test), strict=True)):
            raise Wrong("the same seed must give the same split (use a seeded torch.Generator, "
                        "not the global random state)")
        other = [torch.as_tensor(p).long().flatten() for p in call_any(fn, 20, 4, 6, 1)]
        if all(torch.equal(a, b) for a, b in zip(other, (train, val, test), strict=True)):
            raise Wrong("another seed gives the same split: the seed is not used")
        big = [torch.as_tensor(p).long().flatten() for p in call_any(fn, 1000, 100, 200, 0)]
        if big[2].float().mean() > 700 or big[2].float().mean() < 300:
            raise Wrong("the test rows are not spread over the data: shuffle all rows, then cut")
        return "correct: every row once, shuffled, and the same for the same seed"

    return run("a shuffled train / validation / test split", checks)


KERAS_VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def check_keras_vgg_preprocess(fn: Callable) -> Feedback:
    """Exercise: write ``keras_vgg16_preprocess(images)``: (N, H, W, 3) RGB in 0-255 -> BGR,
    each channel minus the ImageNet mean pixel, as Keras' vgg16.preprocess_input ("caffe")."""

    def checks() -> str:
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 255, size=(2, 3, 4, 3))
        out = np.asarray(call_any(fn, images.copy()), dtype=float)
        if out.shape != images.shape:
            raise Wrong(f"output shape {out.shape}, expected {images.shape}: the same layout")
        mean = np.array(KERAS_VGG_MEAN_BGR)
        expected = images[..., ::-1] - mean
        if np.allclose(out, images - mean):
            raise Wrong("the channels are still RGB: Keras' VGG16 was trained on BGR images; "
                        "reverse the last axis first (images[..., ::-1])")
        if np.allclose(out, images[..., ::-1] - mean[::-1]):
            raise Wrong("the channels are BGR but the means are in RGB order: 103.939 belongs "
                        "to blue, 123.68 to red")
        if np.allclose(out, (images / 255)[..., ::-1] - mean / 255) or out.max() <= 1.5:
            raise Wrong("no scaling to [0, 1]: Keras' VGG16 works on 0-255 values")
        if np.allclose(out, (images[..., ::-1] / 255 - [0.406, 0.456, 0.485]) /
                       [0.225, 0.224, 0.229]):
            raise Wrong("that is torchvision's normalisation (mean and std on [0, 1]); Keras' "
                        "VGG16 subtracts the mean pixel only")
        if not np.allclose(out, expected):
            raise Wrong("differs from BGR minus the mean pixel (103.939, 116.779, 123.68)")
        return "correct: BGR, minus the ImageNet mean pixel, no scaling — Keras' 'caffe' mode"

    return run("Keras' VGG16 preprocessing", checks)
