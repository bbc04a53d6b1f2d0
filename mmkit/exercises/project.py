"""Lesson 07 self-checks: max pooling a BERT-like output, a stratified split, Keras' VGG16 input."""

from collections.abc import Callable

import numpy as np
import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, run


def check_token_max_pool(fn: Callable) -> Feedback:
    """Exercise: write ``max_pool(states, mask)`` -> (N, D): for each caption and feature, the
    largest value over its real tokens (mask True); a padding position must never win, even
    where its state is larger than every real one."""

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        states = torch.randn(3, 5, 4, generator=g) - 3  # real tokens mostly negative...
        mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
        states[~mask] = 5.0  # ...and the padding positions larger than any of them
        out = call(fn, states.clone(), mask.clone())
        if out.shape != (3, 4):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (N, D) = (3, 4): take the "
                        "maximum over the tokens (dim=1), one value per feature")
        expected = torch.stack([states[i, mask[i]].max(dim=0).values for i in range(3)])
        if torch.allclose(out, states.max(dim=1).values):
            raise Wrong("a plain max lets the padding win: here the padding states are larger "
                        "than every real one; set them to -inf first (masked_fill)")
        if torch.allclose(out, (states * mask.unsqueeze(-1)).max(dim=1).values):
            raise Wrong("zeroing the padding is not enough: where every real value of a "
                        "feature is negative, a padding 0 still wins; fill it with -inf")
        masked_mean = (states * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        if torch.allclose(out, masked_mean, atol=1e-5):
            raise Wrong("this is the mean over the real tokens (section 4's pooling); here, "
                        "take the largest value of each feature")
        if torch.allclose(out, states[:, 0]):
            raise Wrong("this is the first token's vector (BERT's [CLS] way); take the "
                        "maximum over the real tokens")
        if not torch.allclose(out, expected):
            raise Wrong("differs from each feature's maximum over the real tokens")
        return "correct: each feature's largest value over the real tokens; padding never wins"

    return run("max pooling of token states", checks)


def _within_one(parts, labels) -> tuple[bool, str]:
    """Whether every class count in each part is within 1 of its proportional share."""
    n = len(labels)
    for name, rows in parts.items():
        for c in labels.unique():
            share = float((labels == c).sum()) / n
            count = int((labels[rows] == c).sum())
            if abs(count - share * len(rows)) >= 1:
                return False, (f"the {name} part has {count} rows of class {int(c)}, but that "
                               f"class is {share:.0%} of the data: {share * len(rows):.1f} "
                               "expected")
    return True, ""


def check_stratified_split(fn: Callable) -> Feedback:
    """Exercise: write ``stratified_split(labels, val, test, seed)`` -> (train, val, test)
    index tensors: every row once, val and test of the sizes asked, drawn at random with a
    seeded generator, and each part keeping the classes' shares: a class that is a share q
    of the data has within one row of q * (the part's size) in the validation and test parts."""

    def checks() -> str:
        labels = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)  # sorted, and imbalanced
        for seed in range(5):
            parts = call_any(fn, labels.clone(), 20, 20, seed)
            if not isinstance(parts, (tuple, list)) or len(parts) != 3:
                raise Wrong("return three index tensors: (train, validation, test)")
            train, val, test = (torch.as_tensor(p).long().flatten() for p in parts)
            if (len(train), len(val), len(test)) != (60, 20, 20):
                raise Wrong(f"sizes {len(train)}, {len(val)}, {len(test)}; expected 60, 20, 20 "
                            "for 100 labels, val=20, test=20")
            if sorted(torch.cat([train, val, test]).tolist()) != list(range(100)):
                raise Wrong("the three parts must hold every row 0..n-1 exactly once (no "
                            "repeats, none left out)")
            if test.tolist() == list(range(80, 100)):
                raise Wrong("the last rows, in order: that is Keras' validation_split; on "
                            "sorted labels the test part is all one class")
            ok, why = _within_one({"validation": val, "test": test}, labels)
            if not ok:
                raise Wrong(f"seed {seed}: {why}. A random split is not stratified: shuffle "
                            "within each class, then share every class out in proportion")
            again = [torch.as_tensor(p).long().flatten() for p in call_any(fn, labels.clone(), 20, 20, seed)]
            if not all(torch.equal(a, b) for a, b in zip(again, (train, val, test), strict=True)):
                raise Wrong("the same seed must give the same split (use a seeded "
                            "torch.Generator, not the global random state)")
        first = call_any(fn, labels.clone(), 20, 20, 0)
        other = call_any(fn, labels.clone(), 20, 20, 1)
        if all(torch.equal(torch.as_tensor(a).long().flatten(), torch.as_tensor(b).long().flatten())
               for a, b in zip(first, other, strict=True)):
            raise Wrong("another seed gives the same split: the seed is not used")
        picked = torch.as_tensor(first[2]).long()
        zeros = picked[labels[picked] == 0]
        if zeros.max() - zeros.min() < 30:
            raise Wrong("within a class, the test rows are bunched together: shuffle the rows "
                        "of each class before sharing them out")
        return "correct: every row once, each class in proportion, seeded"

    return run("a stratified train / validation / test split", checks)


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
