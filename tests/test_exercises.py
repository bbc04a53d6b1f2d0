"""The self-checks must pass right answers and name the specific mistake in wrong ones."""

import pytest
import torch

from mmkit import exercises, scratch


def _not_done(*args, **kwargs):
    raise NotImplementedError


SOFTMAX_CASES = [
    (scratch.softmax, True, "correct"),
    (_not_done, False, "not implemented yet"),
    (lambda x, dim=-1: None, False, "returned nothing"),
    (lambda x, dim=-1: x.tolist(), False, "must return a torch.Tensor, got list"),
    (lambda x, dim=-1: torch.exp(x) / torch.exp(x).sum(), False, "does not sum to 1 along dim=0"),
    (lambda x, dim=-1: torch.exp(x) / torch.exp(x).sum(dim, keepdim=True), False, "overflows for large logits"),
    (lambda x, dim=-1: x - x, False, "does not sum to 1"),
    (lambda x, dim=-1: torch.softmax(x * 2, dim), False, "values differ from torch.softmax"),
]


@pytest.mark.parametrize(("fn", "passed", "words"), SOFTMAX_CASES)
def test_check_softmax(fn, passed, words):
    feedback = exercises.check_softmax(fn)
    assert feedback.passed is passed
    assert words in feedback.message
    assert str(feedback).startswith("✅" if passed else "❌")


CROSS_ENTROPY_CASES = [
    (scratch.cross_entropy, True, "correct"),
    (lambda z, t: -scratch.cross_entropy(z, t), False, "wrong sign"),
    (lambda z, t: scratch.cross_entropy(z, t, reduction="sum"), False, "returns the sum"),
    (lambda z, t: scratch.cross_entropy(z, t, reduction="none"), False, "one number"),
    (lambda z, t: -torch.log(torch.softmax(z, 1)).gather(1, t[:, None]).mean(), False, "log-sum-exp"),
    (lambda z, t: -torch.log_softmax(z, 0).gather(1, t[:, None]).mean(), False, "expected"),
]


@pytest.mark.parametrize(("fn", "passed", "words"), CROSS_ENTROPY_CASES)
def test_check_cross_entropy(fn, passed, words):
    feedback = exercises.check_cross_entropy(fn)
    assert feedback.passed is passed
    assert words in feedback.message


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda theta, grad, lr: theta - lr * grad, True, "correct"),
    (lambda theta, grad, lr: theta + lr * grad, False, "moves uphill"),
    (lambda theta, grad, lr: theta - grad, False, "ignores the learning rate"),
    (lambda theta, grad, lr: theta - lr * grad * 2, False, "expected"),
])
def test_check_gradient_step(fn, passed, words):
    feedback = exercises.check_gradient_step(fn)
    assert feedback.passed is passed
    assert words in feedback.message


@pytest.mark.parametrize(("lr", "passed", "words"), [
    (0.4, True, "reaches the minimum"),
    (0.01, False, "too small"),
    (0.47, False, "close to the limit"),
    (0.6, False, "too large"),
    (-1, False, "must be a number > 0"),
])
def test_check_learning_rate(lr, passed, words):
    feedback = exercises.check_learning_rate(lr)
    assert bool(feedback) is passed
    assert words in feedback.message


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda x, m, s: (x - m.view(1, -1, 1, 1)) / s.view(1, -1, 1, 1), True, "correct"),
    (lambda x, m, s: x * s.view(1, -1, 1, 1) + m.view(1, -1, 1, 1), False, "undoes"),
    (lambda x, m, s: (x - m.mean()) / s.mean(), False, "one mean and std for all channels"),
    (lambda x, m, s: x - m.view(1, -1, 1, 1), False, "forgets to divide"),
    (lambda x, m, s: (x - m.view(1, -1, 1, 1)) / s.view(1, -1, 1, 1)[:, :, :1].mean(), False, "differ"),
    (lambda x, m, s: x.mean(0), False, "reshape mean and std"),
])
def test_check_normalize(fn, passed, words):
    feedback = exercises.check_normalize(fn)
    assert feedback.passed is passed
    assert words in feedback.message


def _bce_naive(z, y):
    p = torch.sigmoid(z)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def _bce_clamped(z, y):
    p = torch.sigmoid(z).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def _bce_stable(z, y):
    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_bce_stable, True, "correct"),
    (lambda z, y: -_bce_stable(z, y), False, "wrong sign"),
    (lambda z, y: _bce_stable(z, y) * len(z), False, "returns the sum"),
    (lambda z, y: _bce_stable(-z, y), False, "swaps the two terms"),
    (_bce_naive, False, "not finite for large |z|"),
    (_bce_clamped, False, "clamping probabilities is not enough"),
    (lambda z, y: (z - y).abs().mean(), False, "expected"),
    (lambda z, y: _bce_stable(z, y)[None], False, "one number"),
])
def test_check_bce_with_logits(fn, passed, words):
    feedback = exercises.check_bce_with_logits(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (lambda X, w, y: 2 * X.T @ (X @ w - y) / len(y), True, "correct"),
    (lambda X, w, y: -2 * X.T @ (X @ w - y) / len(y), False, "wrong sign"),
    (lambda X, w, y: X.T @ (X @ w - y) / len(y), False, "factor 2"),
    (lambda X, w, y: 2 * X.T @ (X @ w - y), False, "1/N"),
    (lambda X, w, y: 2 * X.T @ (X @ w - y) / X.shape[1], False, "number of features"),
    (lambda X, w, y: 2 * (X @ w - y) / len(y), False, "X.T @"),
    (lambda X, w, y: 2 * X.T @ (X @ w + y) / len(y), False, "differs from autograd"),
])
def test_check_mse_gradient(fn, passed, words):
    feedback = exercises.check_mse_gradient(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _frames(n, n_fft, hop, center=True):
    return 1 + (n + (2 * (n_fft // 2) if center else 0) - n_fft) // hop


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_frames, True, "correct"),
    (lambda n, n_fft, hop, center=True: 1 + (n - n_fft) // hop, False, "padded by n_fft // 2"),
    (lambda n, n_fft, hop, center=True: _frames(n, n_fft, hop, center) - 1, False, "(+ 1)"),
    (lambda n, n_fft, hop, center=True: n // hop, False, "must fit whole"),
    (lambda n, n_fft, hop, center=True: _frames(n, n_fft, hop, center) + 2, False, "expected"),
    (lambda n, n_fft, hop, center=True: "many", False, "one number"),
])
def test_check_stft_frames(fn, passed, words):
    feedback = exercises.check_stft_frames(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _mel(f):
    return 2595 * torch.log10(1 + torch.as_tensor(f, dtype=torch.float64) / 700)


def _hz(m):
    return 700 * (10 ** (torch.as_tensor(m, dtype=torch.float64) / 2595) - 1)


@pytest.mark.parametrize(("to_mel", "to_hz", "passed", "words"), [
    (_mel, _hz, True, "correct"),
    (lambda f: 2595 * torch.log(1 + f / 700), _hz, False, "natural log"),
    (lambda f: 2595 * torch.log10(f / 700), _hz, False, "forgets the 1 +"),
    (lambda f: 1000 * torch.log10(1 + f / 700), _hz, False, "expected"),
    (_mel, lambda m: 700 * 10 ** (m / 2595), False, "does not undo"),
])
def test_check_htk_mel(to_mel, to_hz, passed, words):
    feedback = exercises.check_htk_mel(to_mel, to_hz)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _noisy(wave, snr_db, generator):
    noise = torch.randn(wave.shape, generator=generator, dtype=wave.dtype)
    return wave + noise * (wave.pow(2).mean() / 10 ** (snr_db / 10) / noise.pow(2).mean()).sqrt()


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_noisy, True, "correct"),
    (lambda w, snr, g: _noisy(w, snr / 2, g), False, "20 log10"),
    (lambda w, snr, g: w + torch.randn(w.shape, generator=g, dtype=w.dtype)
     * (w.pow(2).mean() / 10 ** (snr / 10)).sqrt(), False, "measure the noise you drew"),
    (lambda w, snr, g: w.clone(), False, "adds no noise"),
    (lambda w, snr, g: _noisy(w, snr, torch.Generator().manual_seed(0)), False, "ignores the generator"),
])
def test_check_add_noise(fn, passed, words):
    feedback = exercises.check_add_noise(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _cnn_params(image_size, pool):
    side = image_size - 2
    side = side // 2 if pool else side
    side -= 2
    side = side // 2 if pool else side
    return 32 * 10 + 64 * (32 * 9 + 1) + 10 * (64 * side * side + 1)


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_cnn_params, True, "correct"),
    (lambda s, pool: 32 * 10 + 64 * (32 * 9 + 1), False, "convolutions only"),
    (lambda s, pool: _cnn_params(s, not pool), False, "the count with pool="),
    (lambda s, pool: 32 * 9 + 64 * 32 * 9 + 10 * 64 * ((((s - 2) // 2 - 2) // 2) if pool else s - 4) ** 2,
     False, "add the biases"),
    (lambda s, pool: _cnn_params(s, pool) + 1, False, "expected"),
    (lambda s, pool: float(_cnn_params(s, pool)), False, "a count is a whole number"),
])
def test_check_cnn_params(fn, passed, words):
    feedback = exercises.check_cnn_params(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _field(layers):
    field, jump = 1, 1
    for k, s in layers:
        field += (k - 1) * jump
        jump *= s
    return field


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_field, True, "correct"),
    (lambda layers: 1 + sum(k - 1 for k, _ in layers), False, "ignores the strides"),
    (lambda layers: sum(k for k, _ in layers), False, "adds the kernel sizes"),
    (lambda layers: _field(layers) + 2, False, "field += (k - 1) * jump"),
])
def test_check_receptive_field(fn, passed, words):
    feedback = exercises.check_receptive_field(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _gru(x, h, w_ih, w_hh, b_ih, b_hh, *, swap=False, reset=True, flip=False):
    i_r, i_z, i_n = (x @ w_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    if swap:
        i_r, i_z, h_r, h_z = i_z, i_r, h_z, h_r
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + (r if reset else 1) * h_n)
    return z * n + (1 - z) * h if flip else (1 - z) * n + z * h


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_gru, True, "correct"),
    (lambda *a: _gru(*a, flip=True), False, "wrong way round"),
    (lambda *a: _gru(*a, reset=False), False, "forgets the reset gate"),
    (lambda *a: _gru(*a, swap=True), False, "swaps r and z"),
    (lambda *a: _gru(*a) + 0.1, False, "differs from nn.GRUCell"),
    (lambda *a: _gru(*a)[:, :2], False, "returns shape"),
])
def test_check_gru_step(fn, passed, words):
    feedback = exercises.check_gru_step(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _tparams(e, h, f):
    return 4 * e * e + 4 * e + 2 * e * f + f + e + 4 * e


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_tparams, True, "correct"),
    (lambda e, h, f: _tparams(e, h, f) - 4 * e, False, "LayerNorms"),
    (lambda e, h, f: 4 * e * e + 2 * e * f + 4 * e, False, "biases"),
    (lambda e, h, f: _tparams(e, h, f) + 3 * e * e * (h - 1), False, "heads split"),
    (lambda e, h, f: _tparams(e, h, f) + 1, False, "expected"),
])
def test_check_transformer_params(fn, passed, words):
    feedback = exercises.check_transformer_params(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _mask(lengths, max_len, causal):
    allowed = (torch.arange(max_len)[None, None, :] < lengths[:, None, None]).expand(-1, max_len, -1)
    return allowed & torch.ones(max_len, max_len, dtype=torch.bool).tril() if causal else allowed


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_mask, True, "correct"),
    (lambda lengths, n, causal: ~_mask(lengths, n, causal), False, "inverted"),
    (lambda lengths, n, causal: _mask(lengths, n, False) & torch.ones(n, n, dtype=torch.bool).triu()
     if causal else _mask(lengths, n, False), False, "FUTURE"),
    (lambda lengths, n, causal: _mask(lengths, n, causal).transpose(1, 2), False, "padded queries"),
    (lambda lengths, n, causal: _mask(lengths, n, causal).int(), False, "a mask is bool"),
    (lambda lengths, n, causal: _mask(lengths, n, False), False, "differs with causal"),
])
def test_check_attention_mask(fn, passed, words):
    feedback = exercises.check_attention_mask(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _local(maps, radius, *, window=True, swap=False, renormalise=True):
    h, w = maps.shape[-2:]
    peak = maps.flatten(-2).argmax(dim=-1)
    py, px = peak // w, peak % w
    ys, xs = torch.arange(h)[:, None], torch.arange(w)[None, :]
    near = ((ys - py[..., None, None]).abs() <= radius) & ((xs - px[..., None, None]).abs() <= radius)
    weight = maps * near if window else maps
    if renormalise:
        weight = weight / weight.sum(dim=(-2, -1), keepdim=True)
    x = (weight.sum(dim=-2) * torch.arange(w)).sum(-1)
    y = (weight.sum(dim=-1) * torch.arange(h)).sum(-1)
    out = torch.stack([x, y], dim=-1)
    return out.flip(-1) if swap else out


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_local, True, "correct"),
    (lambda m, r: _local(m, r, swap=True), False, "returns (y, x)"),
    (lambda m, r: _local(m, r, window=False), False, "whole map"),
    (lambda m, r: _local(m, r, renormalise=False), False, "window's own sum"),
    (lambda m, r: _local(m, r)[..., 0], False, "returns shape"),
])
def test_check_local_soft_argmax(fn, passed, words):
    feedback = exercises.check_local_soft_argmax(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _deltas(x):
    padded = torch.cat([x[:, :1], x, x[:, -1:]], dim=1)
    return (padded[:, 2:] - padded[:, :-2]) / 2


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_deltas, True, "correct"),
    (lambda x: torch.cat([x[:, 1:] - x[:, :-1], torch.zeros(len(x), 1, dtype=x.dtype)], 1), False, "x[t + 1] - x[t]"),
    (lambda x: 2 * _deltas(x), False, "forgets the / 2"),
    (lambda x: torch.cat([torch.zeros(len(x), 1, dtype=x.dtype), (x[:, 2:] - x[:, :-2]) / 2,
                          torch.zeros(len(x), 1, dtype=x.dtype)], 1), False, "first and last frames"),
    (lambda x: (x[:, 2:] - x[:, :-2]) / 2, False, "returns shape"),
])
def test_check_deltas(fn, passed, words):
    feedback = exercises.check_deltas(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message


def _padding_for(size, kernel_size, stride, target):
    missing = (target - 1) * stride + kernel_size - size
    padding = max(0, -(-missing // 2))
    return padding if (size + 2 * padding - kernel_size) // stride + 1 == target else None


def _padding_unchecked(size, kernel_size, stride, target):  # never says None
    return max(0, -(-((target - 1) * stride + kernel_size - size) // 2))


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_padding_for, True, "padding 3 to turn 224"),
    (lambda n, k, s, t: None if _padding_for(n, k, s, t) is None else torch.tensor(_padding_for(n, k, s, t)),
     True, "correct"),  # a 0-dim tensor counts as its number
    (_padding_unchecked, False, "return None"),
    (lambda n, k, s, t: -(-((t - 1) * s + k - n) // 2), False, "negative padding"),
    (lambda n, k, s, t: max(0, (t - 1) * s + k - n), False, "BOTH sides"),
    (lambda n, k, s, t: max(0, ((t - 1) * s + k - n) // 2), False, "round the half of what is missing UP"),
    (lambda n, k, s, t: None, False, "returns None for size=32"),
    (lambda n, k, s, t: 1.0, False, "a padding is a whole number"),
    (lambda n, k, s, t: "1", False, "must return an int or None"),
    (_not_done, False, "not implemented yet"),
    (lambda n, k, s, t: 1 / 0, False, "raised ZeroDivisionError"),
])
def test_check_padding_for(fn, passed, words):
    feedback = exercises.check_padding_for(fn)
    assert feedback.passed is passed, feedback
    assert words in feedback.message, feedback


def test_the_padding_reference_is_pytorchs_size():
    from mmkit.exercises.images import _PADDING_CASES, _smallest_padding

    answers = [_smallest_padding(*case) for case in _PADDING_CASES]
    assert answers == [1, 2, 1, 3, 0, 3, None, None]
