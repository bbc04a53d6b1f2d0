"""The compute profile: FLOPs equal the hand formulas, parameters and bytes equal what the
model holds, latency is a positive per-sample time, and bad inputs fail clearly."""

import pytest
import torch
from torch import nn

from mmkit.encoders.image import ImageCNN
from mmkit.encoders.text import BagOfEmbeddings, LSTMEncoder
from mmkit.fusion import ConcatFusion
from mmkit.models import MultimodalClassifier
from mmkit.profile import (
    ComputeProfile,
    activation_bytes,
    count_parameters,
    flops_per_sample,
    latency_per_sample,
    parameter_bytes,
    profile_model,
)


@pytest.mark.parametrize(("n_in", "n_out", "batch"), [(3, 5, 1), (16, 7, 4), (64, 32, 9)])
def test_linear_flops_are_two_per_weight(n_in, n_out, batch, device):
    layer = nn.Linear(n_in, n_out).to(device)
    assert flops_per_sample(layer, torch.rand(batch, n_in, device=device)) == 2 * n_in * n_out


@pytest.mark.parametrize(("c_in", "c_out", "k", "size", "stride", "padding"), [
    (3, 8, 3, 16, 1, 1), (1, 4, 5, 12, 2, 0), (6, 2, 1, 9, 1, 0),
])
def test_conv2d_flops_equal_the_hand_formula(c_in, c_out, k, size, stride, padding, device):
    conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding).to(device)
    out = (size + 2 * padding - k) // stride + 1
    expected = 2 * c_in * k * k * c_out * out * out  # a multiply-add per weight per output
    assert flops_per_sample(conv, torch.rand(3, c_in, size, size, device=device)) == expected


@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, True)])
def test_lstm_flops_count_every_weight_matrix_per_token(layers, bidirectional, device):
    i, h, t, b = 8, 16, 7, 4
    lstm = nn.LSTM(i, h, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    directions = 2 if bidirectional else 1
    per_token = sum(directions * 4 * h * ((i if layer == 0 else directions * h) + h)
                    for layer in range(layers))
    flops = flops_per_sample(lstm.to(device), torch.rand(b, t, i, device=device))
    assert flops == 2 * t * per_token  # torch alone would count 0


def test_gru_and_a_packed_lstm_count_only_the_real_tokens(device):
    gru = nn.GRU(5, 6, batch_first=True).to(device)
    assert flops_per_sample(gru, torch.rand(2, 4, 5, device=device)) == 2 * 4 * 3 * 6 * (5 + 6)
    encoder = LSTMEncoder(vocab_size=20, dim=8, hidden=16).to(device)
    ids = torch.randint(1, 20, (4, 7))
    ids[0, 5:] = 0  # 2 padding tokens: the packed LSTM skips them
    ids[1, 3:] = 0  # and 4 more
    expected = 2 * (4 * 7 - 6) * 4 * 16 * (8 + 16) / 4
    assert flops_per_sample(encoder, ids.to(device)) == expected


def test_a_whole_model_sums_its_layers(device):
    encoders = {"image": ImageCNN(3, (4,), out_dim=8, pooled_size=1), "text": BagOfEmbeddings(10, 6)}
    model = MultimodalClassifier(encoders, ConcatFusion({"image": 8, "text": 6}), 3).to(device)
    batch = {"image": torch.rand(5, 3, 8, 8, device=device),
             "text": torch.randint(1, 10, (5, 4), device=device)}
    conv = 2 * 3 * 9 * 4 * 8 * 8
    expected = conv + 2 * 4 * 8 + 2 * 14 * 3  # conv, the encoder's fc, the head; embedding 0
    assert flops_per_sample(model, batch) == expected


def test_parameters_and_parameter_bytes_are_what_the_model_holds(device):
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2)).to(device)
    assert count_parameters(model) == sum(p.numel() for p in model.parameters()) == 15 + 6 + 8
    model[0].weight.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 29 - 12
    buffers = 3 + 3 + 1  # running mean, running var (float32), batches seen (int64)
    assert parameter_bytes(model) == 4 * 29 + 4 * 6 + 8 * (buffers - 6)
    assert parameter_bytes(model.half()) == 2 * 29 + 2 * 6 + 8


def test_stored_bytes_see_the_weights_of_a_quantised_model():
    import warnings

    from mmkit.profile import stored_bytes

    model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 10))
    dense = stored_bytes(model)
    weights = sum(p.numel() * 4 for p in model.parameters())
    assert weights < dense < weights + 4096  # the weights, plus a small file overhead
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization may warn that it is deprecated
        quantised = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    assert parameter_bytes(quantised) < weights / 10  # the int8 weights are not parameters...
    assert weights / 4 < stored_bytes(quantised) < weights / 3  # ...but they are stored


def test_activation_bytes_count_each_new_block_of_memory_once(device):
    model = nn.Sequential(nn.Linear(4, 10), nn.ReLU(inplace=True), nn.Linear(10, 2)).to(device)
    # Linear 10, in-place ReLU (the same memory), Linear 2: (10 + 2) floats of 4 bytes.
    assert activation_bytes(model, torch.rand(8, 4, device=device)) == 4 * 12
    model[1] = nn.ReLU()  # now a new tensor
    assert activation_bytes(model, torch.rand(8, 4, device=device)) == 4 * 22


class _CatFlat(nn.Module):
    """Makes a tensor inside forward (no layer returns it), then a view of it."""

    def forward(self, x):
        return torch.cat([x, x], dim=1).flatten()


def test_activation_bytes_see_tensors_made_inside_forward_but_not_the_inputs(device):
    x = torch.rand(8, 5, device=device)
    assert activation_bytes(_CatFlat(), x) == 4 * 10  # the cat; its flattened view is free
    assert activation_bytes(nn.Identity(), x) == 0  # returns its input: nothing new
    assert activation_bytes(nn.Flatten(), x) == 0  # a view of the input


def test_latency_is_a_positive_time_per_sample_and_modes_are_restored(device):
    model = nn.Sequential(nn.Linear(32, 32), nn.Dropout(0.5)).to(device)
    model.train()
    seconds = latency_per_sample(model, torch.rand(16, 32, device=device), repeats=3, warmup=1)
    assert 0 < seconds < 0.1
    assert model.training  # measured in eval mode, then put back
    model.eval()
    flops_per_sample(model, torch.rand(2, 32, device=device))
    assert not model.training


def test_profile_model_gathers_everything(device):
    model = ImageCNN(3, (4,), out_dim=8).to(device)
    images = torch.rand(4, 3, 16, 16, device=device)
    profile = profile_model(model, images, repeats=2, warmup=0)
    assert isinstance(profile, ComputeProfile)
    assert profile.parameters == count_parameters(model)
    assert profile.flops == flops_per_sample(model, images)
    assert profile.parameter_bytes == parameter_bytes(model)
    assert profile.activation_bytes == activation_bytes(model, images)
    assert profile.latency_s > 0


@pytest.mark.parametrize(("model", "inputs", "kwargs", "error", "match"), [
    ("not a model", torch.rand(2, 3), {}, TypeError, "model must be a torch.nn.Module, got str"),
    (nn.Linear(3, 2), [[1.0, 2.0, 3.0]], {}, TypeError, "inputs must be a tensor or a dict"),
    (nn.Linear(3, 2), torch.rand(0, 3), {}, ValueError, "empty batch"),
    (nn.Linear(3, 2), torch.tensor(1.0), {}, ValueError, "no tensor with a batch dimension"),
    (nn.Linear(3, 2), {"a": torch.rand(2, 3), "b": torch.rand(3, 3)}, {}, ValueError,
     "must share their batch size"),
    (nn.Linear(3, 2), torch.rand(2, 3), {"repeats": 0}, ValueError, "repeats must be >= 1"),
    (nn.Linear(3, 2), torch.rand(2, 3), {"warmup": 1.5}, TypeError, "warmup must be an int"),
])
def test_bad_inputs_raise_clear_errors(model, inputs, kwargs, error, match):
    with pytest.raises(error, match=match):
        profile_model(model, inputs, **kwargs)
