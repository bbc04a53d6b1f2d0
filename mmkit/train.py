"""Training on dict batches: fit, evaluate, predict_proba, and the History of a fit.

The loop is the plain PyTorch one — forward, loss, backward, step — plus what a learner
would otherwise write by hand each time: shuffled minibatches from tensors in memory, a
progress bar, validation each epoch, keeping the best weights, early stopping, class
weights, atomic checkpoints, and a clean stop on Ctrl-C / "interrupt kernel".
"""

import copy
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from mmkit.checks import check_choice, check_int, check_positive, check_tensor
from mmkit.core import get_device
from mmkit.files import write_atomically


@dataclass
class History:
    """Per-epoch numbers of a fit. ``best_epoch`` is 0-based; None without validation."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    best_epoch: int | None = None
    interrupted: bool = False

    def plot(self, ax=None):
        """Loss curves (and validation accuracy on a second axis); returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 3))
        epochs = range(1, len(self.train_loss) + 1)
        lines = ax.plot(epochs, self.train_loss, label="training loss")
        if self.val_loss:
            lines += ax.plot(epochs, self.val_loss, label="validation loss")
            accuracy_ax = ax.twinx()
            lines += accuracy_ax.plot(epochs, self.val_accuracy, color="tab:green",
                                      linestyle="--", label="validation accuracy")
            accuracy_ax.set_ylim(0, 1.02)
            accuracy_ax.set_ylabel("accuracy")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        # One legend for both axes, below the plot, where no curve can hide it.
        ax.legend(handles=lines, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=len(lines),
                  frameon=False, fontsize=8)
        return ax


def _size(data: dict) -> int:
    sizes = {key: len(value) for key, value in data.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every entry of the data must have the same number of rows, got {sizes}")
    if "label" not in data:
        raise ValueError(f"the data has no 'label' entry (it has {sorted(data)})")
    return next(iter(sizes.values()))


def _take(data: dict, index: torch.Tensor) -> dict:
    return {
        key: value[index] if isinstance(value, torch.Tensor) else [value[i] for i in index]
        for key, value in data.items()
    }


def iterate_batches(data, batch_size: int, shuffle: bool = False, generator=None):
    """Yield dict batches: slices of a dict of tensors, or the items of a DataLoader."""
    if not isinstance(data, dict):
        yield from data
        return
    n = _size(data)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield _take(data, order[start:start + batch_size])


def _to_device(batch: dict, device) -> dict:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
            for k, v in batch.items()}


def _make_optimizer(optimizer, model, lr):
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    check_choice(optimizer, "optimizer", ("adam", "sgd"))
    if optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    return torch.optim.SGD(model.parameters(), lr=lr)


def save_checkpoint(model, path, **extra) -> None:
    """Save the model's weights (and any extra numbers) atomically: a crash mid-write can
    never leave a half-written file where a good checkpoint was."""
    state = {"model": model.state_dict(), **extra}
    write_atomically(path, lambda file: torch.save(state, file))


def load_checkpoint(model, path, device=None) -> dict:
    """Load weights saved by save_checkpoint into ``model``; returns the whole checkpoint.

    ``weights_only=True``: a checkpoint is data, never code to run. ``map_location`` lets a
    GPU-trained checkpoint load on a laptop.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    device = get_device() if device is None else torch.device(device)
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # truncated, corrupt, or not a torch file at all
        raise ValueError(
            f"{path} is not a readable checkpoint ({type(error).__name__}: {error}); "
            "was it cut short while copying? save it again with save_checkpoint"
        ) from error
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(f"{path} holds no 'model' weights: not made by save_checkpoint")
    model.load_state_dict(checkpoint["model"])
    return checkpoint


@torch.no_grad()
def evaluate(model, data, batch_size: int = 256, loss_fn=None, device=None) -> dict:
    """Mean loss and accuracy of ``model`` on ``data`` (a dict of tensors or a DataLoader)."""
    device = next(model.parameters()).device if device is None else torch.device(device)
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for batch in iterate_batches(data, batch_size):
        batch = _to_device(batch, device)
        logits = model(batch)
        total_loss += float(loss_fn(logits, batch["label"], reduction="sum"))
        correct += int((logits.argmax(1) == batch["label"]).sum())
        count += len(batch["label"])
    if count == 0:
        raise ValueError("data is empty: nothing to evaluate")
    return {"loss": total_loss / count, "accuracy": correct / count}


@torch.no_grad()
def predict_proba(model, data, batch_size: int = 256, device=None) -> torch.Tensor:
    """Class probabilities (N, C) on the CPU, in the order of ``data``."""
    device = next(model.parameters()).device if device is None else torch.device(device)
    model.eval()
    parts = [torch.softmax(model(_to_device(batch, device)), dim=1).cpu()
             for batch in iterate_batches(data, batch_size)]
    return torch.cat(parts)


def _transformed(batch_transform, batch: dict) -> dict:
    out = batch_transform(batch)
    if not isinstance(out, dict) or "label" not in out:
        raise TypeError(f"batch_transform must return the batch, a dict with a 'label' entry; "
                        f"got {type(out).__name__}")
    return out


def fit(model, train, val=None, *, epochs: int = 10, lr: float = 1e-3, optimizer="adam",
        batch_size: int = 64, loss_fn=None, class_weights=None, patience: int | None = None,
        device=None, seed: int = 0, progress: bool = True, checkpoint=None,
        batch_transform=None) -> History:
    """Train ``model`` (forward(batch dict) -> logits) on ``train``; return its History.

    train, val: a dict of tensors with a "label" entry (mmkit.data.to_tensors), shuffled
    each epoch with a generator seeded by ``seed``, or any iterable of dict batches.
    With ``val``, the weights of the epoch with the lowest validation loss are restored at
    the end, ``patience`` stops after that many epochs without improvement, and
    ``checkpoint`` (a path) keeps the best weights on disk. ``class_weights`` (C,) weighs
    the cross-entropy of each class, for imbalanced data. ``batch_transform`` (batch ->
    batch) changes every training batch before the forward pass, never the validation
    data: e.g. ``mmkit.data.ModalityDropout``. Interrupting the kernel stops
    training cleanly: the model keeps its best weights so far, and History says so.
    """
    epochs = check_int(epochs, "epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    lr = check_positive(lr, "lr")
    if patience is not None:
        check_int(patience, "patience", minimum=1)
        if val is None:
            raise ValueError("patience needs val: early stopping watches the validation loss")
    if batch_transform is not None and not callable(batch_transform):
        raise TypeError(f"batch_transform must be a function batch -> batch, "
                        f"got {type(batch_transform).__name__}")
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    optimizer = _make_optimizer(optimizer, model, lr)
    if loss_fn is None:
        weight = None
        if class_weights is not None:
            weight = check_tensor(torch.as_tensor(class_weights, dtype=torch.float32),
                                  "class_weights", floating=True, ndim=1).to(device)
        def loss_fn(logits, target, reduction="mean"):
            return F.cross_entropy(logits, target, weight=weight, reduction=reduction)
    generator = torch.Generator().manual_seed(seed)
    history, best_loss, best_state, waited = History(), float("inf"), None, 0

    epoch_range = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc="training", unit="epoch")
    try:
        for epoch in epoch_range:
            model.train()
            total, count = torch.zeros((), device=device), 0
            for batch in iterate_batches(train, batch_size, shuffle=True, generator=generator):
                if batch_transform is not None:
                    batch = _transformed(batch_transform, batch)
                batch = _to_device(batch, device)
                optimizer.zero_grad()
                loss = loss_fn(model(batch), batch["label"])
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(batch["label"])
                count += len(batch["label"])
            history.train_loss.append(float(total) / max(count, 1))
            if val is None:
                continue
            scores = evaluate(model, val, loss_fn=loss_fn, device=device)
            history.val_loss.append(scores["loss"])
            history.val_accuracy.append(scores["accuracy"])
            if progress:
                epoch_range.set_postfix(loss=f"{history.train_loss[-1]:.3f}",
                                        val_acc=f"{scores['accuracy']:.3f}")
            if scores["loss"] < best_loss:
                best_loss, history.best_epoch, waited = scores["loss"], epoch, 0
                best_state = copy.deepcopy(model.state_dict())
                if checkpoint is not None:
                    save_checkpoint(model, checkpoint, epoch=epoch, val_loss=scores["loss"])
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        if progress:
            epoch_range.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    if history.interrupted:
        kept = (f"the weights of epoch {history.best_epoch + 1} (lowest validation loss)"
                if best_state is not None else "its latest weights")
        print(f"training interrupted after {len(history.train_loss)} epoch(s); "
              f"the model keeps {kept}")
    return history
