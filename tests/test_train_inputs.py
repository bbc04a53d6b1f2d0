"""fit / evaluate / predict_proba check their inputs once, up front: each bad input fails
with an error that names the argument and the fix, before torch sees it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_train import Flat  # the same minimal encoder as the training tests
from torch import nn

from mmkit.data import ShapesWorld
from mmkit.models import UnimodalClassifier
from mmkit.train import TrainingDiverged, evaluate, fit, predict_proba


def _model(classes=3, seed=0):
    torch.manual_seed(seed)
    return UnimodalClassifier(Flat(in_dim=6, out_dim=4), "x", num_classes=classes)


def _data(n=24, classes=3):
    g = torch.Generator().manual_seed(0)
    return {"x": torch.randn(n, 6, generator=g), "label": torch.arange(n) % classes}


def _fit(model=None, data=None, **kwargs):
    options = {"epochs": 1, "progress": False, "device": "cpu", **kwargs}
    return fit(_model() if model is None else model, _data() if data is None else data, **options)


@pytest.mark.parametrize(("data", "error", "match"), [
    ({"x": torch.randn(4, 6), "label": torch.tensor([0.0, 1.0, 2.0, 1.0])}, TypeError,
     r"train\['label'\] must hold integer class indices, got torch.float32; convert with"),
    ({"x": torch.randn(4, 6), "label": torch.tensor([0, 1, 5, 1])}, ValueError,
     r"train\['label'\] holds class 5, but the model gives scores for 3 classes"),
    ({"x": torch.randn(4, 6), "label": torch.tensor([0, -1, 2, 1])}, ValueError,
     r"train\['label'\] holds -1: class indices start at 0"),
    ({"x": torch.randn(0, 6), "label": torch.zeros(0, dtype=torch.long)}, ValueError,
     "train has no rows"),
    ({}, ValueError, "train is an empty dict"),
    ({"x": torch.randn(5, 6), "label": torch.zeros(4, dtype=torch.long)}, ValueError,
     "every entry of train must have the same number of rows, got {'x': 5, 'label': 4}"),
    ({"x": torch.randn(4, 6)}, ValueError, "train has no 'label' entry"),
    ({"x": torch.randn(4, 6), "label": torch.zeros(4, 1, dtype=torch.long)}, TypeError,
     r"train\['label'\] must be a 1-D tensor of class indices"),
    ({"x": torch.randn(4, 6), "label": torch.tensor(1)}, ValueError,
     r"train\['label'\] is a single number"),
    ({"x": "pixels", "label": torch.zeros(4, dtype=torch.long)}, TypeError,
     r"train\['x'\] must be a tensor or a list"),
    ([{"x": torch.randn(6), "label": 0}], TypeError,
     "train must be a dict of tensors, got a list; a list of samples"),
    (iter([1, 2]), TypeError, "train must yield dict batches .*; its batch 0 is a int"),
])
def test_bad_training_data_is_named_before_the_first_step(data, error, match):
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error, match=match):
        _fit(model, data)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_a_dataset_object_is_refused_with_how_to_convert_it():
    with pytest.raises(TypeError, match=r"train must be a dict of tensors, got the dataset "
                                        r"ShapesWorld; render it once with mmkit.data.to_tensors"):
        _fit(data=ShapesWorld(n=4))


def test_bad_val_data_is_named_as_val():
    with pytest.raises(TypeError, match=r"val\['label'\] must hold integer class indices"):
        _fit(val={"x": torch.randn(3, 6), "label": torch.zeros(3)})


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"class_weights": [1.0, 2.0]}, ValueError,
     "class_weights has 2 entries for a model with 3 classes"),
    ({"class_weights": [1.0, -1.0, 1.0]}, ValueError, "class_weights must be >= 0"),
    ({"class_weights": [1.0, float("nan"), 1.0]}, ValueError, "class_weights contains NaN"),
    ({"class_weights": [1.0, 1.0, 1.0], "loss_fn": F.cross_entropy}, ValueError,
     "pass class_weights or loss_fn, not both"),
    ({"loss_fn": lambda logits, target: F.cross_entropy(logits, target)}, TypeError,
     "loss_fn must accept reduction="),
    ({"loss_fn": nn.CrossEntropyLoss()}, TypeError, "loss_fn must accept reduction="),
    ({"loss_fn": "cross_entropy"}, TypeError, "loss_fn must be a function"),
    ({"objective": lambda m, b: m(b).sum(), "loss_fn": F.cross_entropy}, ValueError,
     "objective computes the whole loss: pass it without loss_fn and class_weights"),
    ({"objective": "mean"}, TypeError, "objective must be a function"),
    ({"objective": lambda m, b: m(b)}, ValueError,
     r"objective must return the loss as a 0-d tensor, got \(8, 3\)"),
    ({"objective": lambda m, b: torch.tensor(1.0)}, ValueError,
     "objective returned a loss that does not depend on the model's weights"),
    ({"seed": 1.5}, TypeError, "seed must be an int, got float 1.5"),
    ({"seed": -3}, ValueError, "seed must be >= 0"),
    ({"epochs": 0}, ValueError, "epochs must be >= 1"),
    ({"max_steps": 0}, ValueError, "max_steps must be >= 1"),
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ({"lr": -0.1}, ValueError, "lr must be a finite number > 0"),
    ({"patience": 2}, ValueError, "patience needs val"),
    ({"device": "tpu"}, ValueError, "device: prefer must name one of cpu, cuda, mps"),
    ({"device": 3}, TypeError, "device: prefer must be a device name"),
    ({"batch_transform": 5}, TypeError, "batch_transform must be a function"),
    ({"optimizer": "adagrad"}, ValueError, "optimizer must be one of 'adam', 'sgd'"),
])
def test_bad_fit_options_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        _fit(batch_size=kwargs.pop("batch_size", 8), **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without CUDA")
def test_asking_for_a_missing_gpu_is_named():
    with pytest.raises(RuntimeError, match="device: prefer='cuda' but PyTorch sees no CUDA"):
        _fit(device="cuda")


def test_the_model_must_be_a_module_with_weights():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got function"):
        fit(lambda batch: batch["x"], _data(), progress=False)
    with pytest.raises(ValueError, match="model has no parameters"):
        fit(nn.Identity(), _data(), progress=False)


def test_numpy_numbers_are_accepted_where_python_numbers_are():
    history = _fit(epochs=np.int64(2), batch_size=np.int32(8), lr=np.float32(0.01),
                   seed=np.uint8(3), max_steps=np.int16(4))
    assert history.steps == 4 and len(history.train_loss) == 2


def test_max_steps_alone_runs_as_many_epochs_as_it_takes():
    history = fit(_model(), _data(n=24), max_steps=7, batch_size=8, progress=False)
    assert history.steps == 7 and len(history.train_loss) == 3  # 3 + 3 + 1 steps


class Exploding(nn.Module):
    """Gives NaN scores once its input holds a NaN: a stand-in for a diverging model."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(6, 3)

    def forward(self, batch):
        return self.linear(batch["x"])


def test_a_nan_loss_stops_training_naming_epoch_and_batch_and_keeps_the_best_weights():
    torch.manual_seed(0)
    model = Exploding()
    train = _data(n=24)
    train["x"][20] = float("nan")  # the third batch of 8 in the second epoch, once shuffled
    val = _data(n=12)
    with pytest.raises(TrainingDiverged, match=r"the training loss became nan at epoch 1, "
                                               r"batch \d; training stopped and the model keeps"):
        fit(model, train, val, epochs=3, batch_size=8, progress=False, seed=0)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_nan_loss_with_validation_restores_the_best_epoch():
    torch.manual_seed(0)
    model = Exploding()
    train, val = _data(n=24), _data(n=12)
    fit(model, train, val, epochs=2, batch_size=8, progress=False)
    kept = [p.detach().clone() for p in model.parameters()]
    train["x"][0] = float("inf")
    with pytest.raises(TrainingDiverged, match="epoch 1"):
        fit(model, train, val, epochs=2, batch_size=24, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(kept, model.parameters(), strict=True))


def test_predict_proba_needs_no_labels():
    model = _model()
    inputs = {"x": _data()["x"]}
    probabilities = predict_proba(model, inputs, device="cpu")
    assert probabilities.shape == (24, 3)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(24))
    torch.testing.assert_close(probabilities, predict_proba(model, _data(), device="cpu"))


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda m: predict_proba(m, ShapesWorld(n=2)), TypeError,
     "data must be a dict of tensors, got the dataset ShapesWorld"),
    (lambda m: predict_proba(m, {"x": torch.randn(0, 6)}), ValueError, "data has no rows"),
    (lambda m: evaluate(m, {"x": torch.randn(4, 6), "label": torch.zeros(4)}), TypeError,
     r"data\['label'\] must hold integer class indices"),
    (lambda m: evaluate(m, {"x": torch.randn(4, 6)}), ValueError, "data has no 'label' entry"),
    (lambda m: evaluate(m, _data(), loss_fn=lambda a, b: 0), TypeError,
     "loss_fn must accept reduction="),
    (lambda m: evaluate(m, _data(), batch_size=0), ValueError, "batch_size must be >= 1"),
])
def test_evaluate_and_predict_proba_name_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call(_model())


def test_an_objective_trains_without_labels_and_evaluates_to_a_loss():
    model = _model()

    def objective(model, batch):  # pull every score towards 1: no labels needed
        return ((model(batch) - 1) ** 2).mean()

    inputs = {"x": _data()["x"]}
    before = evaluate(model, inputs, objective=objective)["loss"]
    history = fit(model, inputs, inputs, objective=objective, epochs=20, lr=0.05,
                  progress=False)
    after = evaluate(model, inputs, objective=objective)
    assert set(after) == {"loss"} and after["loss"] < before / 4
    assert history.val_accuracy == [] and len(history.val_loss) == 20
