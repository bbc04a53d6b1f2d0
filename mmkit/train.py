"""Training on dict batches: fit, evaluate, predict_proba, and the History of a fit.

The loop is the plain PyTorch one — forward, loss, backward, step — plus what a learner
would otherwise write by hand each time: shuffled minibatches from tensors in memory, a
progress bar, validation each epoch, keeping the best weights, early stopping, class
weights, atomic checkpoints, and a clean stop on Ctrl-C / "interrupt kernel".
"""

import copy
import inspect
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from mmkit.checks import check_choice, check_int, check_positive, check_tensor
from mmkit.core import get_device
from mmkit.data.tensors import count_rows, take_rows
from mmkit.files import write_atomically


@dataclass
class History:
    """Per-epoch numbers of a fit. ``best_epoch`` is 0-based; None without validation."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    best_epoch: int | None = None
    interrupted: bool = False
    steps: int = 0  # optimiser steps taken

    def plot(self, ax=None):
        """Loss curves (and validation accuracy on a second axis); returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 3))
        epochs = range(1, len(self.train_loss) + 1)
        lines = ax.plot(epochs, self.train_loss, label="training loss")
        if self.val_loss:
            lines += ax.plot(epochs, self.val_loss, label="validation loss")
        if self.val_accuracy:
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


def iterate_batches(data, batch_size: int, shuffle: bool = False, generator=None,
                    name: str = "data"):
    """Yield dict batches: slices of a dict of tensors, or the items of a DataLoader."""
    if not isinstance(data, dict):
        for index, batch in enumerate(data):
            if not isinstance(batch, dict):
                raise TypeError(f"{name} must yield dict batches (e.g. a DataLoader with "
                                f"collate_fn=mmkit.data.collate); its batch {index} is a "
                                f"{type(batch).__name__}")
            yield batch
        return
    n = len(next(iter(data.values())))
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield take_rows(data, order[start:start + batch_size])


def _check_data(data, name: str, *, labels: bool) -> None:
    """A dict of tensors is checked whole, once; a DataLoader or other iterable of dict
    batches is taken as it is (its batches are checked as they come)."""
    if isinstance(data, dict) or isinstance(data, torch.utils.data.Dataset):
        count_rows(data, name, labels=labels)
    elif isinstance(data, (list, tuple)):
        raise TypeError(f"{name} must be a dict of tensors, got a {type(data).__name__}; a list "
                        f"of samples? stack it with mmkit.data.collate({name})")
    elif not hasattr(data, "__iter__") or isinstance(data, (str, torch.Tensor)):
        raise TypeError(f"{name} must be a dict of tensors or an iterable of dict batches "
                        f"(a DataLoader), got {type(data).__name__}")


def _check_outputs(logits, batch: dict, name: str, class_weights, all_labels=None) -> None:
    """Labels against the model's classes, checked on the first batch, before any update."""
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"the model must return class scores (batch, classes), got {got}; "
                         "for another kind of output pass objective=(model, batch) -> loss")
    if "label" not in batch:
        raise ValueError(f"the batches of {name} have no 'label' entry (they have "
                         f"{sorted(batch)})")
    label = batch["label"]
    if label.is_floating_point():
        raise TypeError(f"{name}['label'] must hold integer class indices, got {label.dtype}; "
                        "convert with .long()")
    classes = logits.shape[1]
    top = int((label if all_labels is None else all_labels).max())
    if top >= classes:
        raise ValueError(f"{name}['label'] holds class {top}, but the model gives scores for "
                         f"{classes} classes (0 to {classes - 1}); build it with "
                         f"num_classes={top + 1} or more")
    if class_weights is not None and len(class_weights) != classes:
        raise ValueError(f"class_weights has {len(class_weights)} entries for a model with "
                         f"{classes} classes: give one weight per class")


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


def _check_loss_fn(loss_fn) -> None:
    """evaluate() sums the loss over a batch, so a custom loss_fn must take reduction=."""
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function (logits, target, reduction='mean') -> "
                        f"loss, got {type(loss_fn).__name__}")
    # A module's __call__ takes **kwargs and passes them to forward: look at forward.
    function = loss_fn.forward if isinstance(loss_fn, torch.nn.Module) else loss_fn
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return
    if not any(p.name == "reduction" or p.kind is p.VAR_KEYWORD for p in parameters):
        raise TypeError(
            "loss_fn must accept reduction= ('mean' to train, 'sum' to evaluate), like "
            "torch.nn.functional.cross_entropy; add reduction='mean' to its signature and "
            "pass it on (an nn.Module loss such as nn.CrossEntropyLoss() cannot: use "
            "F.cross_entropy)"
        )


def _resolve_device(device, model=None) -> torch.device:
    """``device`` through get_device (so "cuda" on a machine without one is a clear error);
    None: where the model's weights are, or get_device()'s choice for a new model."""
    if device is not None:
        try:
            return get_device(device)
        except (TypeError, ValueError, RuntimeError) as error:  # say which argument
            raise type(error)(f"device: {error}") from None
    weights = next(model.parameters(), None) if model is not None else None
    return weights.device if weights is not None else get_device()


def _rows(batch: dict) -> int:
    return len(next(iter(batch.values())))


@torch.no_grad()
def evaluate(model, data, batch_size: int = 256, loss_fn=None, device=None,
             objective=None) -> dict:
    """Mean loss and accuracy of ``model`` on ``data`` (a dict of tensors or a DataLoader).

    With ``objective`` ((model, batch) -> mean loss, as given to ``fit``) there are no class
    labels: only the mean loss is returned.
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if objective is not None and loss_fn is not None:
        raise ValueError("pass loss_fn or objective, not both")
    _check_data(data, "data", labels=objective is None)
    if loss_fn is not None:
        _check_loss_fn(loss_fn)
    device = _resolve_device(device, model)
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for batch in iterate_batches(data, batch_size):
        batch = _to_device(batch, device)
        if objective is not None:
            rows = _rows(batch)
            total_loss += float(objective(model, batch)) * rows
            count += rows
            continue
        logits = model(batch)
        total_loss += float(loss_fn(logits, batch["label"], reduction="sum"))
        correct += int((logits.argmax(1) == batch["label"]).sum())
        count += len(batch["label"])
    if count == 0:
        raise ValueError("data is empty: nothing to evaluate")
    if objective is not None:
        return {"loss": total_loss / count}
    return {"loss": total_loss / count, "accuracy": correct / count}


@torch.no_grad()
def predict_proba(model, data, batch_size: int = 256, device=None) -> torch.Tensor:
    """Class probabilities (N, C) on the CPU, in the order of ``data``. No labels needed:
    ``data`` holds the inputs only (a "label" entry, if there, is ignored)."""
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    _check_data(data, "data", labels=False)
    device = _resolve_device(device, model)
    model.eval()
    parts = []
    for batch in iterate_batches(data, batch_size):
        logits = model(_to_device(batch, device))
        if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
            raise ValueError("the model must return class scores (batch, classes) for "
                             "predict_proba")
        parts.append(torch.softmax(logits, dim=1).cpu())
    if not parts:
        raise ValueError("data is empty: nothing to predict")
    return torch.cat(parts)


def _transformed(batch_transform, batch: dict, labels: bool) -> dict:
    out = batch_transform(batch)
    if not isinstance(out, dict) or (labels and "label" not in out):
        need = "a dict with a 'label' entry" if labels else "a dict"
        raise TypeError(f"batch_transform must return the batch, {need}; got "
                        f"{type(out).__name__}")
    return out


def _check_fit_options(loss_fn, class_weights, objective, batch_transform):
    if objective is not None:
        if not callable(objective):
            raise TypeError(f"objective must be a function (model, batch) -> loss, got "
                            f"{type(objective).__name__}")
        if loss_fn is not None or class_weights is not None:
            raise ValueError("objective computes the whole loss: pass it without loss_fn "
                             "and class_weights")
    if loss_fn is not None and class_weights is not None:
        raise ValueError("pass class_weights or loss_fn, not both: a custom loss_fn would "
                         "ignore the weights; weigh the classes inside it instead "
                         "(F.cross_entropy(logits, target, weight=w, reduction=reduction))")
    if loss_fn is not None:
        _check_loss_fn(loss_fn)
    if batch_transform is not None and not callable(batch_transform):
        raise TypeError(f"batch_transform must be a function batch -> batch, "
                        f"got {type(batch_transform).__name__}")
    if class_weights is None:
        return None
    weight = check_tensor(torch.as_tensor(class_weights, dtype=torch.float32),
                          "class_weights", floating=True, ndim=1)
    if (weight < 0).any():
        raise ValueError(f"class_weights must be >= 0, got {weight.tolist()}")
    return weight


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the message says where and what the model kept."""


def fit(model, train, val=None, *, epochs: int | None = None, lr: float = 1e-3,
        optimizer="adam", batch_size: int = 64, loss_fn=None, class_weights=None,
        objective=None, max_steps: int | None = None, patience: int | None = None,
        device=None, seed: int = 0, progress: bool = True, checkpoint=None,
        batch_transform=None) -> History:
    """Train ``model`` on ``train``; return its History.

    train, val: a dict of tensors (mmkit.data.to_tensors), one row per sample, shuffled
    each epoch with a generator seeded by ``seed``; or any iterable of dict batches (a
    DataLoader). Checked once, up front: a wrong input fails before the first step, with
    an error that names it.

    What is minimised:
      - by default, the cross-entropy of ``model(batch)`` (logits (B, C)) against
        ``batch["label"]``; ``class_weights`` (C,) weighs each class, for imbalanced data;
      - ``loss_fn(logits, target, reduction="mean")``, a loss of the same form;
      - ``objective(model, batch) -> loss``, for anything that is not a classifier (a
        contrastive loss, next-token prediction): the data then needs no "label".
    epochs: passes over ``train`` (default 10). max_steps: stop after that many optimiser
        steps, whichever comes first (without ``epochs``: as many epochs as that takes) —
        e.g. a quick first fit of an explorer's default model.
    With ``val``, the weights of the epoch with the lowest validation loss are restored at
    the end, ``patience`` stops after that many epochs without improvement, and
    ``checkpoint`` (a path) keeps the best weights on disk. ``batch_transform`` (batch ->
    batch) changes every training batch before the forward pass, never the validation
    data: e.g. ``mmkit.data.ModalityDropout``.

    A NaN or infinite loss stops training with TrainingDiverged, naming the epoch and the
    batch; the model keeps its best weights so far. Interrupting the kernel stops training
    cleanly: the model keeps its best weights so far, and History says so.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if next(model.parameters(), None) is None:
        raise ValueError("model has no parameters: there is nothing to train")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    lr = check_positive(lr, "lr")
    seed = check_int(seed, "seed")
    if max_steps is not None:
        max_steps = check_int(max_steps, "max_steps", minimum=1)
    if epochs is None and max_steps is None:
        epochs = 10
    if epochs is not None:  # None: as many epochs as max_steps takes
        epochs = check_int(epochs, "epochs", minimum=1)
    if patience is not None:
        check_int(patience, "patience", minimum=1)
        if val is None:
            raise ValueError("patience needs val: early stopping watches the validation loss")
    weight = _check_fit_options(loss_fn, class_weights, objective, batch_transform)
    labelled = objective is None
    _check_data(train, "train", labels=labelled)
    if val is not None:
        _check_data(val, "val", labels=labelled)
    device = _resolve_device(device)
    model.to(device)
    optimizer = _make_optimizer(optimizer, model, lr)
    if weight is not None:
        weight = weight.to(device)
    if labelled and loss_fn is None:
        def loss_fn(logits, target, reduction="mean"):
            return F.cross_entropy(logits, target, weight=weight, reduction=reduction)
    generator = torch.Generator().manual_seed(seed)
    history, best_loss, best_state, waited = History(), float("inf"), None, 0
    steps, checked, diverged = 0, False, None

    epoch_range = range(epochs) if epochs is not None else itertools.count()
    if progress:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc="training", unit="epoch", total=epochs)
    try:
        for epoch in epoch_range:
            model.train()
            total_loss, count = torch.zeros((), device=device), 0
            batches = iterate_batches(train, batch_size, shuffle=True, generator=generator,
                                      name="train")
            for index, batch in enumerate(batches):
                if batch_transform is not None:
                    batch = _transformed(batch_transform, batch, labelled)
                batch = _to_device(batch, device)
                optimizer.zero_grad()
                if labelled:
                    logits = model(batch)
                    if not checked:  # once, before the first update
                        _check_outputs(logits, batch, "train", weight,
                                       train["label"] if isinstance(train, dict) else None)
                        checked = True
                    loss = loss_fn(logits, batch["label"])
                else:
                    loss = objective(model, batch)
                    if not checked:
                        _check_objective_loss(loss)
                        checked = True
                if not torch.isfinite(loss):  # stop before the bad value reaches the weights
                    diverged = (epoch, index, float(loss.detach()))
                    break
                loss.backward()
                optimizer.step()
                rows = _rows(batch)
                total_loss += loss.detach() * rows
                count += rows
                steps += 1
                if max_steps is not None and steps >= max_steps:
                    break
            if diverged is not None:
                break
            history.train_loss.append(float(total_loss) / max(count, 1))
            stop = max_steps is not None and steps >= max_steps
            if val is not None:
                scores = evaluate(model, val, loss_fn=loss_fn, device=device,
                                  objective=objective)
                history.val_loss.append(scores["loss"])
                if "accuracy" in scores:
                    history.val_accuracy.append(scores["accuracy"])
                if progress:
                    shown = {"loss": f"{history.train_loss[-1]:.3f}",
                             "val_loss": f"{scores['loss']:.3f}"}
                    if "accuracy" in scores:
                        shown["val_acc"] = f"{scores['accuracy']:.3f}"
                    epoch_range.set_postfix(shown)
                if scores["loss"] < best_loss:
                    best_loss, history.best_epoch, waited = scores["loss"], epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                    if checkpoint is not None:
                        save_checkpoint(model, checkpoint, epoch=epoch, val_loss=scores["loss"])
                else:
                    waited += 1
                    stop = stop or (patience is not None and waited >= patience)
            elif progress:
                epoch_range.set_postfix(loss=f"{history.train_loss[-1]:.3f}")
            if stop:
                break
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        if progress:
            epoch_range.close()
    history.steps = steps
    if best_state is not None:
        model.load_state_dict(best_state)
    kept = (f"the weights of epoch {history.best_epoch + 1} (lowest validation loss)"
            if best_state is not None else "its weights from the last finite step")
    if diverged is not None:
        epoch, index, value = diverged
        raise TrainingDiverged(
            f"the training loss became {value} at epoch {epoch + 1}, batch {index + 1}; "
            f"training stopped and the model keeps {kept}. Try a smaller lr (it is {lr:g}), "
            "or look for NaN or infinite values in the inputs"
        )
    if history.interrupted:
        print(f"training interrupted after {len(history.train_loss)} epoch(s); "
              f"the model keeps {kept}")
    return history


def _check_objective_loss(loss) -> None:
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"objective must return the loss as a 0-d tensor, got {got}")
    if not loss.requires_grad:
        raise ValueError("objective returned a loss that does not depend on the model's "
                         "weights (requires_grad is False): was it computed under no_grad?")


@torch.no_grad()
def evaluate_corrupted(models: dict, data: dict, modality: str, level: float,
                       seed: int = 0, weights_of: str | None = None) -> tuple[dict, torch.Tensor | None]:
    """Accuracy of each model on ``data`` with ``modality`` corrupted at ``level``
    (``mmkit.data.corrupt``), and the per-sample fusion weights (N, M) of model
    ``weights_of`` (default: the first whose fusion keeps ``last_weights``, e.g. attention
    fusion), or None when there are none."""
    from mmkit.data.corrupt import corrupt

    if not isinstance(models, dict) or not models:
        raise TypeError(f"models must be a non-empty dict {{name: model}}, got "
                        f"{type(models).__name__}")
    if weights_of is not None:
        check_choice(weights_of, "weights_of", list(models))
    count_rows(data, "data", labels=True)
    noisy = corrupt(data, modality, level, seed)
    accuracy, weights = {}, None
    for name, model in models.items():
        model.eval()
        device = _resolve_device(None, model)
        logits = model(_to_device(noisy, device))
        accuracy[name] = float((logits.argmax(1).cpu() == noisy["label"]).float().mean())
        last = getattr(getattr(model, "fusion", None), "last_weights", None)
        if last is not None and name == (weights_of or name) and weights is None:
            weights = last.detach().cpu().clone()
    return accuracy, weights
