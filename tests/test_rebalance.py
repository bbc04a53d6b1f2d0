"""Class weights against scikit-learn; oversampling and minority augmentation balance the
classes, keep every original row, and repeat with the same seed."""

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from mmkit.data.rebalance import (
    augment_minority,
    class_weights,
    oversample,
    oversample_indices,
)


@pytest.mark.parametrize("case", range(200))
def test_class_weights_equal_sklearn_balanced(case):
    rng = np.random.default_rng(case)
    num_classes = int(rng.integers(1, 7))
    n = int(rng.integers(num_classes, 60))
    labels = np.concatenate([np.arange(num_classes), rng.integers(num_classes, size=n)])
    rng.shuffle(labels)
    ours = class_weights(torch.from_numpy(labels), num_classes)
    theirs = compute_class_weight("balanced", classes=np.arange(num_classes), y=labels)
    assert ours.dtype == torch.float32 and ours.shape == (num_classes,)
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-6)


def test_class_weights_take_lists_and_arrays_and_weigh_each_class_equally():
    labels = [0] * 90 + [1] * 10
    weights = class_weights(labels)
    np.testing.assert_allclose(weights.numpy(), [100 / 180, 100 / 20], rtol=1e-6)
    # every class contributes N / C in total: 90 * w0 == 10 * w1 == 50
    np.testing.assert_allclose([90 * weights[0], 10 * weights[1]], [50, 50], rtol=1e-6)
    assert torch.equal(class_weights(np.array(labels)), weights)
    assert torch.equal(class_weights(torch.tensor([2, 0, 1, 1, 0, 2])), torch.ones(3))  # balanced


@pytest.mark.parametrize(("labels", "kwargs", "error", "match"), [
    ([0, 0, 2], {}, ValueError, r"class\(es\) \[1\] have no sample"),
    ([0, 1], {"num_classes": 3}, ValueError, r"class\(es\) \[2\] have no sample"),
    ([0, 3], {"num_classes": 3}, ValueError, "labels holds class 3, but num_classes=3"),
    ([0.5, 1.0], {}, TypeError, "integer class indices"),
    (torch.tensor([0.0, 1.0]), {}, TypeError, "integer class indices"),
    ([[0, 1]], {}, ValueError, "must be 1-D"),
    ([], {}, ValueError, "labels is empty"),
    ([-1, 0], {}, ValueError, "class indices >= 0"),
    ("01", {}, TypeError, "tensor, list or numpy array"),
])
def test_class_weights_reject_bad_labels(labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        class_weights(labels, **kwargs)


@pytest.mark.parametrize("seed", range(20))
def test_oversample_indices_balance_and_keep_every_row(seed):
    rng = np.random.default_rng(seed)
    labels = torch.from_numpy(rng.choice(3, size=int(rng.integers(5, 80)), p=[0.7, 0.2, 0.1]))
    index = oversample_indices(labels, seed=seed)
    counts = torch.bincount(labels)
    n = len(labels)
    assert torch.equal(index[:n], torch.arange(n))  # every original row once, in order
    new_counts = torch.bincount(labels[index], minlength=len(counts))
    present = counts > 0
    assert (new_counts[present] == counts.max()).all()
    assert (new_counts[~present] == 0).all()
    assert torch.equal(oversample_indices(labels, seed=seed), index)


def test_oversample_draws_at_random_and_depends_on_the_seed():
    labels = torch.tensor([0] * 50 + [1] * 5)
    a, b = oversample_indices(labels, seed=0), oversample_indices(labels, seed=1)
    assert len(a) == 100 and not torch.equal(a, b)
    extra = a[55:]
    assert set(extra.tolist()) <= set(range(50, 55))
    assert len(set(extra.tolist())) == 5  # 45 draws from 5 rows hit every one
    assert torch.equal(oversample_indices(torch.tensor([1, 0, 1, 0])), torch.arange(4))


def _data(n_major=40, n_minor=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = n_major + n_minor
    return {"image": torch.rand(n, 3, 6, 6, generator=g),
            "text": torch.randint(1, 9, (n, 5), generator=g),
            "label": torch.tensor([0] * n_major + [1] * n_minor),
            "caption": [f"caption {i}" for i in range(n)]}


def test_oversample_takes_the_same_rows_of_every_entry():
    data = _data()
    out = oversample(data, seed=3)
    index = oversample_indices(data["label"], seed=3)
    for key in ("image", "text", "label"):
        assert torch.equal(out[key], data[key][index])
    assert out["caption"] == [data["caption"][i] for i in index]
    assert torch.bincount(out["label"]).tolist() == [40, 40]


def test_augment_minority_changes_only_the_added_images():
    data = _data()
    out = augment_minority(data, noise=0.1, seed=3)
    index = oversample_indices(data["label"], seed=3)
    n = len(data["label"])
    assert torch.bincount(out["label"]).tolist() == [40, 40]
    assert torch.equal(out["image"][:n], data["image"])  # the originals are untouched
    assert torch.equal(out["text"], data["text"][index])
    added, source = out["image"][n:], data["image"][index[n:]]
    assert added.min() >= 0 and added.max() <= 1
    # each added image is its source, perhaps mirrored, plus noise of std ~0.1
    distance = torch.minimum((added - source).flatten(1).std(1),
                             (added - source.flip(-1)).flatten(1).std(1))
    assert (distance > 0.03).all() and (distance < 0.15).all()
    mirrored = (added - source.flip(-1)).abs().mean((1, 2, 3)) < (added - source).abs().mean((1, 2, 3))
    assert 0 < int(mirrored.sum()) < len(added)
    assert torch.equal(augment_minority(data, noise=0.1, seed=3)["image"], out["image"])


def test_augment_minority_without_noise_or_flip_is_oversampling():
    data = _data()
    plain = oversample(data, seed=2)
    same = augment_minority(data, noise=0.0, flip=False, seed=2)
    for key in ("image", "text", "label"):
        assert torch.equal(same[key], plain[key])


@pytest.mark.parametrize(("data", "kwargs", "error", "match"), [
    ([1, 2], {}, TypeError, "must be a dict of tensors"),
    ({"image": torch.rand(2, 3, 4, 4)}, {}, ValueError, "has no 'label' entry"),
    ({"image": torch.rand(3, 3, 4, 4), "label": torch.tensor([0, 1])}, {}, ValueError,
     "same number of rows"),
    ({"x": torch.rand(2, 3, 4, 4), "label": torch.tensor([0, 1])}, {}, ValueError,
     "modality 'image' is not in data"),
    ({"image": torch.rand(2, 5), "label": torch.tensor([0, 1])}, {}, ValueError,
     r"must be float images \(N, C, H, W\)"),
    ({"image": torch.rand(2, 3, 4, 4), "label": torch.tensor([0, 1])}, {"noise": -1}, ValueError,
     "noise must be a finite number >= 0"),
])
def test_augment_minority_rejects_bad_inputs(data, kwargs, error, match):
    with pytest.raises(error, match=match):
        augment_minority(data, **kwargs)
