"""What a model costs (计算资源): parameters, FLOPs, latency and memory per sample.

    count_parameters(model)            numbers the model learns: sum(p.numel())
    flops_per_sample(model, inputs)    floating-point operations of one forward pass
    latency_per_sample(model, inputs)  seconds of one forward pass, per sample
    parameter_bytes(model)             bytes of the parameters and buffers
    stored_bytes(model)                bytes of its saved weights (torch.save of the
                                       state_dict): what a quantised model really saves
    activation_bytes(model, inputs)    bytes of the tensors a forward pass creates, per sample
    profile_model(model, inputs)       all of them, as a ComputeProfile

``inputs`` is what the model's forward takes: a tensor (an encoder), or a dict (a fusion's
features, a MultimodalClassifier's batch). Its first dimension is the batch; the numbers
are divided by the batch size. Every measurement runs in eval mode without gradients (the
cost of answering, not of training) and leaves the model's mode as it was.

What is counted, exactly:
- FLOPs come from ``torch.utils.flop_counter.FlopCounterMode``: matrix products and
  convolutions, a multiply-add counted as 2 FLOPs. Element-wise work (ReLU, softmax,
  LayerNorm, pooling) and lookups (embeddings) count 0: on small layers they are far from
  free, which is one reason latency does not follow FLOPs. torch counts nothing for
  recurrent layers (LSTM, GRU, RNN); here their matrix products are added:
  2 x (tokens read) x (weights of every matrix), per layer and direction.
- Latency is the median of ``repeats`` timed passes after ``warmup`` untimed ones, on the
  model's device, divided by the batch size. It depends on the machine, the batch size,
  the number of threads and whatever else runs: compare models timed together, never a
  number with one from another machine.
- Activation memory: the bytes of every block of memory that the forward pass's operations
  create, per sample — each block once (a view or an in-place result shares its input's
  memory), the inputs, parameters and buffers not at all. It is an upper bound on what a
  training step keeps for the backward pass; an inference pass frees most of it as it goes
  and needs less at any one time.
"""

import contextlib
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from mmkit.checks import check_int


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _batch_size(inputs) -> int:
    """The batch size of a tensor, or of the tensors of a dict (which must agree)."""
    if isinstance(inputs, torch.Tensor):
        sizes = {"inputs": inputs.shape[0]} if inputs.dim() else {}
    elif isinstance(inputs, dict):
        sizes = {k: v.shape[0] for k, v in inputs.items()
                 if isinstance(v, torch.Tensor) and v.dim()}
    else:
        raise TypeError(
            f"inputs must be a tensor or a dict of tensors (what the model's forward takes), "
            f"got {type(inputs).__name__}"
        )
    if not sizes:
        raise ValueError("inputs holds no tensor with a batch dimension")
    if len(set(sizes.values())) != 1:
        raise ValueError(f"the tensors of inputs must share their batch size, got {sizes}")
    size = next(iter(sizes.values()))
    if size == 0:
        raise ValueError("inputs is an empty batch; pass at least one sample")
    return size


@contextlib.contextmanager
def _eval_no_grad(model: nn.Module):
    """Eval mode and no gradients inside; the model's own mode restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def count_parameters(model, trainable_only: bool = False) -> int:
    """Numbers the model holds as parameters: sum(p.numel()) (buffers excluded)."""
    _check_model(model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _tokens(shape) -> int:
    """Positions a recurrent layer reads: T * B for (T, B, I) or (B, T, I), N for packed (N, I)."""
    return shape[0] * shape[1] if len(shape) == 3 else shape[0]


def _matrix_flops(tokens: int, weights) -> int:
    """2 FLOPs per token for every entry of every weight matrix (1-D biases left out)."""
    return sum(2 * tokens * w[0] * w[1] for w in weights if len(w) == 2)


# Recurrent layers run as fused ops (one per call, or per layer, depending on the backend),
# which torch's counter skips. The formulas get shapes where the op got tensors.
def _rnn_flops(*args, out_shape=None, **kwargs) -> int:
    """aten.lstm / gru / rnn_*: (input, hx, params, ...) or packed (data, batch_sizes, hx,
    params, ...), where batch_sizes, a tensor, arrives as a torch.Size."""
    if isinstance(args[1], torch.Size):
        return _matrix_flops(args[0][0], args[3])
    return _matrix_flops(_tokens(args[0]), args[2])


def _mkldnn_rnn_layer_flops(*args, out_shape=None, **kwargs) -> int:
    """CPU LSTM (oneDNN), one layer and direction: (input, w_ih, w_hh, b_ih, b_hh, ...)."""
    return _matrix_flops(_tokens(args[0]), args[1:3])


def _cudnn_rnn_flops(*args, out_shape=None, **kwargs) -> int:
    """CUDA (cuDNN): (input, weights, ...), every layer and direction reading every token."""
    return _matrix_flops(_tokens(args[0]), args[1])


def _recurrent_formulas() -> dict:
    aten = torch.ops.aten
    formulas = {getattr(aten, name): _rnn_flops for name in ("lstm", "gru", "rnn_tanh", "rnn_relu")}
    for name, formula in (("mkldnn_rnn_layer", _mkldnn_rnn_layer_flops),
                          ("_cudnn_rnn", _cudnn_rnn_flops)):
        if hasattr(aten, name):
            formulas[getattr(aten, name)] = formula
    return formulas


def flops_per_sample(model, inputs) -> float:
    """FLOPs of one forward pass per sample (see the module docstring for what counts)."""
    _check_model(model)
    size = _batch_size(inputs)
    from torch.utils.flop_counter import FlopCounterMode

    formulas = _recurrent_formulas()
    with _eval_no_grad(model), FlopCounterMode(display=False, custom_mapping=formulas) as counter:
        model(inputs)
    return counter.get_total_flops() / size


def latency_per_sample(model, inputs, repeats: int = 10, warmup: int = 2) -> float:
    """Median seconds of one forward pass over ``repeats`` timed runs, per sample."""
    _check_model(model)
    size = _batch_size(inputs)
    repeats = check_int(repeats, "repeats", minimum=1)
    warmup = check_int(warmup, "warmup", minimum=0)
    device = next(model.parameters(), torch.empty(0)).device
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    with _eval_no_grad(model):
        for run in range(warmup + repeats):
            synchronize()
            start = time.perf_counter()
            model(inputs)
            synchronize()  # a GPU runs asynchronously: wait for it before reading the clock
            if run >= warmup:
                times.append(time.perf_counter() - start)
    return statistics.median(times) / size


def parameter_bytes(model) -> int:
    """Bytes of the model's parameters and buffers (e.g. batch-norm statistics)."""
    _check_model(model)
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def stored_bytes(model) -> int:
    """Bytes of ``torch.save(model.state_dict())``: what the weights take on disk, or to send.

    Unlike ``parameter_bytes`` it sees weights that are not parameters — the int8 weights of
    a dynamically quantised layer are packed inside it — and it includes the file's small
    overhead (names, a zip directory), the same for every model of the same layers.
    """
    import io

    _check_model(model)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def _tensors_in(value) -> list:
    """Every tensor inside a (nested) tuple, list or dict, or the value itself."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors_in(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors_in(item)]
    return []


def activation_bytes(model, inputs) -> float:
    """Bytes per sample of the memory that one forward pass's operations create (see the
    module docstring): each distinct block once, the inputs and parameters not at all."""
    _check_model(model)
    size = _batch_size(inputs)
    from torch.utils._python_dispatch import TorchDispatchMode

    class CreatedTensors(TorchDispatchMode):
        """Sees every operation; keeps its outputs alive so no memory is reused and missed."""

        def __init__(self):
            super().__init__()
            self.outputs = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            self.outputs.extend(_tensors_in(out))
            return out

    existing = {t.untyped_storage().data_ptr()
                for t in (*model.parameters(), *model.buffers(), *_tensors_in(inputs))}
    with _eval_no_grad(model), CreatedTensors() as created:
        model(inputs)
    blocks = {}
    for t in created.outputs:
        storage = t.untyped_storage()
        if storage.data_ptr() not in existing:
            blocks[storage.data_ptr()] = storage.nbytes()
    return sum(blocks.values()) / size


@dataclass(frozen=True)
class ComputeProfile:
    """The cost of one forward pass; all but ``parameters`` and ``parameter_bytes`` are
    per sample."""

    parameters: int
    flops: float
    latency_s: float
    parameter_bytes: int
    activation_bytes: float


def profile_model(model, inputs, repeats: int = 10, warmup: int = 2) -> ComputeProfile:
    """Parameters, FLOPs, latency and memory of ``model`` on ``inputs`` (a batch)."""
    return ComputeProfile(
        parameters=count_parameters(model),
        flops=flops_per_sample(model, inputs),
        latency_s=latency_per_sample(model, inputs, repeats, warmup),
        parameter_bytes=parameter_bytes(model),
        activation_bytes=activation_bytes(model, inputs),
    )
