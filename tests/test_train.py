"""fit / evaluate / predict_proba against a hand-written PyTorch loop, and their guard rails."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmkit.data import ShapesWorld, to_tensors
from mmkit.models import UnimodalClassifier
from mmkit.train import (
    History,
    evaluate,
    fit,
    iterate_batches,
    load_checkpoint,
    predict_proba,
    save_checkpoint,
)


class Flat(nn.Module):
    """A minimal encoder: flatten and project."""

    def __init__(self, in_dim=12, out_dim=8):
        super().__init__()
        self.out_dim = out_dim
        self.linear = nn.Linear(in_dim, out_dim)

    def forward(self, x):
        return torch.relu(self.linear(x.flatten(1)))


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 12, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()  # learnable from the features
    return {"x": x, "label": y}


def _model(seed=0):
    torch.manual_seed(seed)
    return UnimodalClassifier(Flat(), "x", num_classes=2)


def test_fit_equals_a_plain_pytorch_loop(device):
    data = _data()
    ours = _model()
    fit(ours, data, epochs=3, lr=0.05, optimizer="sgd", batch_size=16, seed=7, progress=False,
        device=device)

    plain = _model().to(device)
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.05)
    generator = torch.Generator().manual_seed(7)
    for _ in range(3):
        order = torch.randperm(96, generator=generator)
        for start in range(0, 96, 16):
            index = order[start:start + 16]
            batch = {k: v[index].to(device) for k, v in data.items()}
            optimizer.zero_grad()
            F.cross_entropy(plain(batch), batch["label"]).backward()
            optimizer.step()
    for a, b in zip(ours.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_fit_learns_and_keeps_the_best_epoch(device):
    train, val = _data(seed=0), _data(seed=1)
    model = _model()
    history = fit(model, train, val, epochs=8, lr=0.05, progress=False, device=device)
    assert len(history.train_loss) == len(history.val_loss) == 8
    assert history.val_accuracy[history.best_epoch] > 0.8
    assert history.best_epoch == min(range(8), key=history.val_loss.__getitem__)
    restored = evaluate(model, val)
    assert restored["loss"] == pytest.approx(history.val_loss[history.best_epoch], rel=1e-5)


def test_early_stopping_stops_after_patience(device):
    train = _data()
    val = {"x": train["x"], "label": 1 - train["label"]}  # gets worse as training improves
    history = fit(_model(), train, val, epochs=30, lr=0.05, patience=2, progress=False,
                  device=device)
    assert len(history.train_loss) < 30
    assert len(history.train_loss) - 1 - history.best_epoch == 2


def test_class_weights_change_the_loss(device):
    data = _data()
    plain = fit(_model(), data, epochs=1, progress=False, device=device)
    weighted = fit(_model(), data, epochs=1, class_weights=[1.0, 10.0], progress=False,
                   device=device)
    assert plain.train_loss != weighted.train_loss


def test_keyboard_interrupt_keeps_the_best_weights(device, capsys):
    class Interrupting(UnimodalClassifier):
        calls = 0

        def forward(self, batch):
            if self.training:
                Interrupting.calls += 1
                if Interrupting.calls > 12:  # during the third epoch
                    raise KeyboardInterrupt
            return super().forward(batch)

    torch.manual_seed(0)
    model = Interrupting(Flat(), "x", 2)
    history = fit(model, _data(), _data(seed=1), epochs=10, batch_size=16, progress=False,
                  device=device)
    assert history.interrupted
    assert len(history.val_loss) == 2
    assert "training interrupted after 2 epoch(s)" in capsys.readouterr().out
    best = evaluate(model, _data(seed=1))["loss"]
    assert best == pytest.approx(min(history.val_loss), rel=1e-5)


def test_checkpoint_round_trip(tmp_path, device):
    model = _model()
    fit(model, _data(), _data(seed=1), epochs=2, progress=False, checkpoint=tmp_path / "best.pt",
        device=device)
    fresh = _model(seed=99)
    saved = load_checkpoint(fresh, tmp_path / "best.pt", device="cpu")
    assert saved["epoch"] in (0, 1)
    for a, b in zip(fresh.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b.cpu())
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]  # no temp files left behind


def test_save_checkpoint_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    model = _model()
    save_checkpoint(model, path)
    before = path.read_bytes()
    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(_model(seed=5), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_predict_proba_rows_sum_to_one_and_match_evaluate():
    model, data = _model(), _data()
    probs = predict_proba(model, data, batch_size=10)
    assert probs.shape == (96, 2)
    torch.testing.assert_close(probs.sum(1), torch.ones(96))
    accuracy = (probs.argmax(1) == data["label"]).float().mean().item()
    assert evaluate(model, data)["accuracy"] == pytest.approx(accuracy)


def test_iterate_batches_covers_every_row_once():
    data = _data(n=50)
    seen = torch.cat([b["label"].new_tensor(range(len(b["label"])))
                      for b in iterate_batches(data, 16)])
    assert len(seen) == 50
    rows = torch.cat([b["x"] for b in iterate_batches(data, 16, shuffle=True,
                                                       generator=torch.Generator().manual_seed(0))])
    assert torch.equal(rows.sort(0).values, data["x"].sort(0).values)


def test_history_plot_draws_the_curves():
    history = History(train_loss=[1.0, 0.5], val_loss=[1.1, 0.7], val_accuracy=[0.4, 0.8])
    ax = history.plot()
    assert [list(line.get_ydata()) for line in ax.get_lines()] == [[1.0, 0.5], [1.1, 0.7]]


def test_to_tensors_stacks_a_dataset():
    world = ShapesWorld(n=10, seed=0, modalities=("image", "text"))
    data = to_tensors(world, keys=("image", "text", "label"))
    assert data["image"].shape == (10, 3, 32, 32) and data["label"].dtype == torch.int64
    assert torch.equal(data["image"][4], world[4]["image"])
    assert data["text"][4] == world[4]["text"]
    assert torch.equal(data["label"], world.labels)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: fit(_model(), _data(), epochs=0), ValueError, "epochs must be >= 1"),
    (lambda: fit(_model(), _data(), lr=-1), ValueError, "lr must be a finite number > 0"),
    (lambda: fit(_model(), _data(), optimizer="adamw"), ValueError, "optimizer must be one of"),
    (lambda: fit(_model(), _data(), patience=2), ValueError, "patience needs val"),
    (lambda: fit(_model(), {"x": torch.ones(3, 12)}), ValueError, "no 'label' entry"),
    (lambda: fit(_model(), {"x": torch.ones(3, 12), "label": torch.ones(2).long()}), ValueError,
     "same number of rows"),
    (lambda: _model()({"image": torch.ones(1)}), ValueError, "the batch has no 'x'"),
    (lambda: UnimodalClassifier(nn.Linear(2, 2), "x", 2), ValueError, "out_dim"),
    (lambda: UnimodalClassifier(Flat(), "x", 1), ValueError, "num_classes must be >= 2"),
    (lambda: load_checkpoint(_model(), "/nonexistent/model.pt"), FileNotFoundError, "no checkpoint"),
    (lambda: to_tensors(ShapesWorld(n=3, modalities=("image",)), keys=("audio",)), ValueError,
     "has no 'audio'"),
])
def test_bad_inputs_give_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    model, data = _model(), _data()
    save_checkpoint(model, tmp_path / "m.pt")
    fresh = _model(seed=3)
    load_checkpoint(fresh, tmp_path / "m.pt", device="cpu")
    assert torch.equal(predict_proba(model, data), predict_proba(fresh, data))


def test_a_truncated_checkpoint_gives_a_clear_error(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(_model(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="m.pt is not a readable checkpoint.*cut short"):
        load_checkpoint(_model(), path, device="cpu")
