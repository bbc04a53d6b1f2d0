"""mmkit.align against open_clip's ClipLoss, brute force and analytic results."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss

from mmkit import align
from mmkit.encoders import BagOfEmbeddings, ImageCNN
from mmkit.preprocess.text import Vocabulary, encode_batch
from mmkit.train import fit


def _unit(*shape, generator, dtype=torch.float64):
    return F.normalize(torch.randn(*shape, generator=generator, dtype=dtype), dim=-1)


@pytest.mark.parametrize("scale", [1e-3, 0.5, 1.0, 14.3, 100.0, 1e3, 1e4])
@pytest.mark.parametrize(("batch", "dim"), [(1, 4), (2, 3), (7, 16), (64, 32)])
def test_contrastive_loss_equals_open_clips_clip_loss(rng, scale, batch, dim):
    image, text = _unit(batch, dim, generator=rng), _unit(batch, dim, generator=rng)
    ours = align.contrastive_loss(image, text, scale)
    theirs = ClipLoss()(image, text, torch.tensor(scale, dtype=torch.float64))
    assert abs(float(ours) - float(theirs)) <= 1e-6 * max(1.0, abs(float(theirs)))
    image32, text32 = image.float(), text.float()
    ours32 = align.contrastive_loss(image32, text32, torch.tensor(scale))
    theirs32 = ClipLoss()(image32, text32, torch.tensor(scale))
    assert abs(float(ours32) - float(theirs32)) <= 1e-5 * max(1.0, abs(float(theirs32)))


def test_the_gradients_equal_open_clips_too(rng):
    image, text = _unit(16, 8, generator=rng), _unit(16, 8, generator=rng)
    grads = []
    for loss_fn in (align.contrastive_loss, ClipLoss()):
        a, b = image.clone().requires_grad_(), text.clone().requires_grad_()
        log_scale = torch.tensor(math.log(1 / 0.07), dtype=torch.float64, requires_grad=True)
        loss_fn(a, b, log_scale.exp()).backward()
        grads.append((a.grad, b.grad, log_scale.grad))
    for ours, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


def test_the_loss_of_a_perfect_batch_is_analytic():
    # cosine 1 with the partner and 0 with the others: every row's cross-entropy is
    # log(1 + (B - 1) exp(-scale))
    for batch, scale in ((4, 1.0), (32, 1 / 0.07), (32, 100.0)):
        eye = torch.eye(batch, dtype=torch.float64)
        expected = math.log1p((batch - 1) * math.exp(-scale))
        assert float(align.contrastive_loss(eye, eye, scale)) == pytest.approx(expected, rel=1e-9)


def test_hard_negatives_are_extra_columns_of_the_image_side_only(rng):
    image, text = _unit(6, 5, generator=rng), _unit(6, 5, generator=rng)
    negatives = _unit(4, 5, generator=rng)
    scale = 10.0
    loss = float(align.contrastive_loss(image, text, scale, negatives))
    rows, cols = 0.0, 0.0  # brute force, one row and one column at a time
    for i in range(6):
        logits = [scale * float(image[i] @ t) for t in (*text, *negatives)]
        rows += -logits[i] + math.log(sum(math.exp(v) for v in logits))
        logits = [scale * float(text[i] @ m) for m in image]
        cols += -logits[i] + math.log(sum(math.exp(v) for v in logits))
    assert loss == pytest.approx((rows + cols) / 12, rel=1e-10)
    assert loss > float(align.contrastive_loss(image, text, scale))  # more to beat, more loss


@pytest.mark.parametrize(("args", "error", "message"), [
    ((torch.zeros(3, 4), torch.zeros(2, 4), 1.0), ValueError, "one row per pair"),
    ((torch.zeros(3, 4), torch.zeros(3, 5), 1.0), ValueError, "same embedding size"),
    ((torch.zeros(3), torch.zeros(3), 1.0), ValueError, "image_features must have 2 dimensions"),
    ((torch.zeros(3, 4), torch.zeros(3, 4), 0.0), ValueError, "logit_scale must be a finite"),
    ((torch.zeros(3, 4), torch.zeros(3, 4), torch.tensor([1.0, 2.0])), ValueError, "one number"),
    ((torch.zeros(3, 4), torch.zeros(3, 4), "hot"), TypeError, "logit_scale must be a number"),
    ((torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, 4), 1.0), TypeError, "floating-point"),
])
def test_contrastive_loss_rejects_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        align.contrastive_loss(*args)


def _tiny_model(vocab_size=12, **kwargs):
    torch.manual_seed(0)
    return align.DualEncoder(ImageCNN(3, (4,), out_dim=8, pooled_size=2),
                             BagOfEmbeddings(vocab_size, 8), dim=6, **kwargs)


def test_dual_encoder_gives_unit_vectors_and_clamps_its_temperature_as_clip_does(rng):
    model = _tiny_model()
    images, ids = torch.rand(5, 3, 8, 8, generator=rng), torch.randint(1, 12, (5, 4), generator=rng)
    a, b = model({"image": images, "text": ids})
    assert a.shape == b.shape == (5, 6)
    torch.testing.assert_close(a.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(b.norm(dim=1), torch.ones(5))
    assert model.logit_scale.item() == pytest.approx(1 / 0.07, rel=1e-6)
    assert model.temperature == pytest.approx(0.07, rel=1e-6)
    with torch.no_grad():
        model.log_scale.fill_(10.0)  # exp(10) > 100: clamped to 100, and no gradient
    assert model.logit_scale.item() == pytest.approx(100.0)
    model.logit_scale.backward()
    assert model.log_scale.grad.item() == 0.0
    frozen = _tiny_model(temperature=0.5, learn_temperature=False)
    assert not frozen.log_scale.requires_grad and frozen.temperature == pytest.approx(0.5)


def test_encode_text_takes_strings_through_the_vocabulary():
    vocab = Vocabulary.build(["a red circle", "a blue square"])
    model = _tiny_model(len(vocab), vocab=vocab).eval()
    texts = ["a red circle", "a blue square left of a red circle"]
    torch.testing.assert_close(model.encode_text(texts),
                               model.encode_text(encode_batch(vocab, texts)[0]))
    torch.testing.assert_close(model.embed("text", texts, batch_size=1), model.encode_text(texts))
    assert torch.equal(model.encode("text", texts), model.encode_text(texts))
    with pytest.raises(ValueError, match="has no vocab"):
        _tiny_model().encode_text(["a red circle"])
    with pytest.raises(ValueError, match="modality must be one of"):
        model.embed("audio", torch.zeros(2, 3))


def test_other_modalities_use_their_own_batch_keys(rng):
    model = _tiny_model(modalities=("image", "sound"))
    batch = {"image": torch.rand(4, 3, 8, 8, generator=rng),
             "sound": torch.randint(1, 12, (4, 3), generator=rng)}
    a, b = model(batch)
    torch.testing.assert_close(b, model.encode("sound", batch["sound"]))
    with pytest.raises(ValueError, match="the batch has no 'sound'"):
        model({"image": batch["image"], "text": batch["sound"]})
    with pytest.raises(TypeError, match="two different batch keys"):
        _tiny_model(modalities=("image", "image"))


def test_clip_objective_trains_a_dual_encoder_with_fit(rng):
    # three plain colours, a one-word caption each: after training, each image finds its word
    colours = torch.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]
    images = colours[:, :, None, None].expand(8, 3, 8, 8).clone()
    vocab = Vocabulary.build(["red", "green", "blue"])
    words = ["red", "green", "blue"]
    captions = [words[int(c.argmax())] for c in colours]
    data = {"image": images[:3], "text": encode_batch(vocab, captions[:3])[0]}
    model = _tiny_model(len(vocab), vocab=vocab)
    before = float(align.clip_objective(model, data).detach())
    fit(model, data, objective=align.clip_objective, epochs=150, lr=1e-2, batch_size=3,
        progress=False)
    after = float(align.clip_objective(model, data).detach())
    assert after < 0.1 < before
    similarity = model.embed("image", images) @ model.embed("text", words).T
    assert similarity.argmax(dim=1).tolist() == colours.argmax(dim=1).tolist()
    # a "negative_text" entry (for another second side: "negative_" + its key) is used
    negative = {**data, "negative_text": encode_batch(vocab, ["blue", "red", "green"])[0]}
    assert float(align.clip_objective(model, negative).detach()) > after


def test_zero_shot_classifier_averages_normalised_prompts_and_normalises_again():
    vocab = Vocabulary.build(["a photo of a red circle", "a small blue square"])
    model = _tiny_model(len(vocab), vocab=vocab)
    templates = ("a photo of a {}", "a small {}")
    classes = ["red circle", "blue square", "green triangle"]
    weights = align.zero_shot_classifier(model, classes, templates)
    for k, name in enumerate(classes):
        prompts = model.encode_text([t.format(name) for t in templates])
        torch.testing.assert_close(weights[k], F.normalize(prompts.mean(dim=0), dim=0))
    images = F.normalize(torch.randn(5, 6), dim=1)
    np.testing.assert_array_equal(align.zero_shot_predict(images, weights),
                                  (images @ weights.T).argmax(dim=1))
    with pytest.raises(ValueError, match="needs a '{}'"):
        align.zero_shot_classifier(model, classes, ("a photo",))
    with pytest.raises(TypeError, match="classnames must be a non-empty list"):
        align.zero_shot_classifier(model, "red circle")


def test_modality_gap_and_the_shift_along_it(rng):
    a = torch.randn(50, 8, generator=rng, dtype=torch.float64) + 3 * torch.eye(8)[0]
    b = torch.randn(40, 8, generator=rng, dtype=torch.float64) - 3 * torch.eye(8)[0]
    unit_a, unit_b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    expected = np.linalg.norm(unit_a.numpy().mean(0) - unit_b.numpy().mean(0))
    assert align.modality_gap(a, b) == pytest.approx(expected)
    assert align.modality_gap(5 * a, b) == pytest.approx(expected)  # normalised first
    assert align.modality_gap(a, a) == 0.0
    assert align.modality_gap(unit_a, -unit_a) == pytest.approx(2 * unit_a.mean(0).norm().item())
    torch.testing.assert_close(align.shift_along_gap(a, b, 0.0), unit_a)
    shifted = align.shift_along_gap(a, b, 1.0)
    torch.testing.assert_close(shifted.norm(dim=1), torch.ones(50, dtype=torch.float64))
    assert align.modality_gap(shifted, b) < 0.3 * expected
    assert align.modality_gap(align.shift_along_gap(a, b, -0.5), b) > expected
    with pytest.raises(TypeError, match="amount must be a finite number"):
        align.shift_along_gap(a, b, "half")


def test_swap_accuracy_counts_images_that_prefer_their_caption():
    image = torch.eye(4)
    text = torch.eye(4)
    negative = F.normalize(torch.eye(4) + torch.tensor([[0, 2.0, 0, 0]] * 4), dim=1)
    # rows 0, 2, 3 prefer the caption; row 1's negative is closer to it
    assert align.swap_accuracy(image, text, negative) == 0.75
    with pytest.raises(ValueError, match="one row per pair"):
        align.swap_accuracy(image, text, negative[:3])
