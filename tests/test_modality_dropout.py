"""Modality dropout: the drop rate is p, a sample never loses everything, flags combine with
the ones already there, it repeats with a seed, and fit applies it to training batches only."""

import pytest
import torch
import torch.nn.functional as F

from mmkit.data import ModalityDropout, drop_modalities
from mmkit.fusion import ConcatFusion
from mmkit.models import MultimodalClassifier
from mmkit.train import fit


def _batch(n=4000, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"image": torch.rand(n, 5, generator=g), "text": torch.rand(n, 3, generator=g),
            "audio": torch.rand(n, 2, generator=g), "label": torch.randint(2, (n,), generator=g)}


MODALITIES = ("image", "text", "audio")


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.8])
def test_each_modality_is_dropped_at_about_rate_p_and_never_all(p):
    batch = _batch()
    out = drop_modalities(batch, p, MODALITIES, torch.Generator().manual_seed(1))
    kept = torch.stack([out[f"{m}_present"] for m in MODALITIES], dim=1)
    assert kept.dtype == torch.bool and kept.shape == (4000, 3)
    assert kept.any(dim=1).all()  # never every modality of a sample
    # Drawn all three: p**3 of the samples; one of them comes back, so the drop rate per
    # modality is p - p**3 / 3.
    expected = p - p**3 / 3
    assert (1 - kept.float().mean(0) - expected).abs().max() < 0.03
    for m in MODALITIES:  # the data itself is untouched, and shared, not copied
        assert out[m] is batch[m]
    assert "image_present" not in batch


def test_existing_flags_stay_and_one_present_modality_is_never_dropped():
    batch = _batch(n=500)
    batch["image_present"] = torch.arange(500) % 2 == 0  # odd samples have no image
    batch["text_present"] = torch.zeros(500, dtype=torch.bool)  # and no sample has text
    out = drop_modalities(batch, 0.9, ("image", "text"), torch.Generator().manual_seed(0))
    assert not out["text_present"].any()
    assert not out["image_present"][1::2].any()
    # the even samples have only the image: it must stay, whatever the draw
    assert out["image_present"][::2].all()


def test_per_modality_rates_and_an_unlisted_modality_is_never_dropped():
    out = drop_modalities(_batch(), {"image": 0.5}, ("image", "text"),
                          torch.Generator().manual_seed(2))
    assert out["text_present"].all()
    assert abs(1 - out["image_present"].float().mean() - 0.5) < 0.03


def test_modality_dropout_repeats_with_its_seed_and_changes_between_calls():
    batch = _batch(n=64)
    a, b = ModalityDropout(0.4, MODALITIES, seed=5), ModalityDropout(0.4, MODALITIES, seed=5)
    first, again = a(batch), b(batch)
    for m in MODALITIES:
        assert torch.equal(first[f"{m}_present"], again[f"{m}_present"])
    second = a(batch)
    assert any(not torch.equal(first[f"{m}_present"], second[f"{m}_present"]) for m in MODALITIES)
    assert "ModalityDropout(p=0.4" in repr(a)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"p": 1.0}, ValueError, r"must be in \[0, 1\), got 1.0"),
    ({"p": -0.1}, ValueError, "p must be a finite number >= 0"),
    ({"p": "a lot"}, TypeError, "p must be a number"),
    ({"p": {"video": 0.2}}, ValueError, "names modality 'video'"),
    ({"modalities": "image"}, TypeError, "non-empty list of batch keys"),
    ({"modalities": ("image", 3)}, TypeError, "every modality must be a str"),
    ({"modalities": ("image", "video")}, ValueError, "the batch has no 'video'"),
])
def test_drop_modalities_rejects_bad_arguments(kwargs, error, match):
    arguments = {"p": 0.3, "modalities": ("image", "text"), **kwargs}
    with pytest.raises(error, match=match):
        drop_modalities(_batch(n=8), **arguments)


def test_drop_modalities_needs_a_batch():
    with pytest.raises(TypeError, match="dict batch with a 'label' entry"):
        drop_modalities({"image": torch.rand(2, 3)}, 0.3, ("image",))


class _Flat(torch.nn.Module):
    def __init__(self, in_dim, out_dim=4):
        super().__init__()
        self.out_dim = out_dim
        self.linear = torch.nn.Linear(in_dim, out_dim)

    def forward(self, x):
        return self.linear(x)


def _model(seed=0):
    torch.manual_seed(seed)
    encoders = {"image": _Flat(5), "text": _Flat(3)}
    return MultimodalClassifier(encoders, ConcatFusion({"image": 4, "text": 4}), 2)


def test_fit_applies_the_transform_to_training_batches_like_a_plain_loop(device):
    data = {k: v for k, v in _batch(n=96).items() if k != "audio"}
    ours = _model()
    fit(ours, data, epochs=2, lr=0.05, optimizer="sgd", batch_size=32, seed=3, progress=False,
        device=device, batch_transform=ModalityDropout(0.5, ("image", "text"), seed=9))

    plain = _model().to(device)
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.05)
    generator, dropout = torch.Generator().manual_seed(3), ModalityDropout(0.5, ("image", "text"),
                                                                           seed=9)
    for _ in range(2):
        order = torch.randperm(96, generator=generator)
        for start in range(0, 96, 32):
            batch = dropout({k: v[order[start:start + 32]] for k, v in data.items()})
            batch = {k: v.to(device) for k, v in batch.items()}
            optimizer.zero_grad()
            F.cross_entropy(plain(batch), batch["label"]).backward()
            optimizer.step()
    for a, b in zip(ours.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_fit_never_transforms_the_validation_data(device):
    data = {k: v for k, v in _batch(n=64).items() if k != "audio"}
    seen = []

    def spy(batch):
        seen.append(len(batch["label"]))
        return batch

    history = fit(_model(), data, data, epochs=2, batch_size=16, progress=False, device=device,
                  batch_transform=spy)
    assert seen == [16] * 8  # 4 training batches per epoch, none of the validation data
    untouched = fit(_model(), data, data, epochs=2, batch_size=16, progress=False, device=device)
    assert history.val_loss == pytest.approx(untouched.val_loss, rel=1e-6)


@pytest.mark.parametrize(("transform", "error", "match"), [
    ("dropout", TypeError, "batch_transform must be a function"),
    (lambda batch: None, TypeError, "must return the batch, a dict with a 'label' entry"),
    (lambda batch: {"image": batch["image"]}, TypeError, "must return the batch"),
])
def test_fit_rejects_a_bad_batch_transform(transform, error, match, device):
    data = {k: v for k, v in _batch(n=16).items() if k != "audio"}
    with pytest.raises(error, match=match):
        fit(_model(), data, epochs=1, progress=False, device=device, batch_transform=transform)
