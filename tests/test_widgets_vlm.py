"""The decoding stepper, driven as a learner drives it: each control changes what it should,
and the bars are the filtered next-token probabilities of the recorded greedy trace."""

import html

import numpy as np
import pytest
import torch

from mmkit import widgets
from mmkit.vlm import TinyVLM, next_token_probabilities
from mmkit.widgets.vlm import BARS, PROMPTS


@pytest.fixture(scope="module")
def stepper():
    return widgets.decoding_stepper()  # trains the default model once (demo_vlm, seeded)


def _expected_bars(stepper, temperature=1.0, top_k=None, top_p=1.0):
    values = stepper.values()
    trace = stepper.traces[values["prompt"], values["blind"]]
    logits = trace["logits"][values["scene"], values["step"]]
    p = next_token_probabilities(logits, temperature, top_k, top_p)
    top = p.topk(BARS).values
    return np.pad(top[top > 0].cpu().numpy(), (0, BARS - int((top > 0).sum())))


def _reset(stepper):
    for name, value in {"scene": 0, "prompt": PROMPTS[0], "step": 0, "temperature": 1.0,
                        "top_k": 0, "top_p": 1.0, "blind": False}.items():
        stepper.controls[name].value = value


def test_the_default_state_shows_the_first_step_and_a_static_png(stepper):
    _reset(stepper)
    assert isinstance(stepper.model, TinyVLM)
    np.testing.assert_allclose(stepper.plots["bars"].widths(), _expected_bars(stepper), atol=1e-6)
    assert bytes(stepper.image.value).startswith(b"\x89PNG")
    assert "step 1 of" in stepper.status.value and "greedy took" in stepper.status.value
    frames = stepper.plots["image"].weights()
    assert frames.max() == pytest.approx(1.0) and len(frames) == stepper.model.n_visual
    attention = stepper.traces[PROMPTS[0], False]["attention"][0, 0]
    np.testing.assert_allclose(frames, (attention / attention.max()).cpu().numpy(), atol=1e-6)


def test_temperature_flattens_the_bars(stepper):
    _reset(stepper)
    stepper.controls["temperature"].value = 0.3
    sharp = stepper.plots["bars"].widths()
    np.testing.assert_allclose(sharp, _expected_bars(stepper, 0.3), atol=1e-6)
    stepper.controls["temperature"].value = 3.0
    flat = stepper.plots["bars"].widths()
    np.testing.assert_allclose(flat, _expected_bars(stepper, 3.0), atol=1e-6)
    assert flat.max() < sharp.max()


def test_top_k_and_top_p_remove_bars(stepper):
    _reset(stepper)
    stepper.controls["temperature"].value = 3.0  # flat enough that several words remain
    stepper.controls["top_k"].value = 2
    widths = stepper.plots["bars"].widths()
    assert (widths > 0).sum() == 2 and widths.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(widths, _expected_bars(stepper, 3.0, top_k=2), atol=1e-6)
    stepper.controls["top_k"].value = 0
    stepper.controls["top_p"].value = 0.05
    assert (stepper.plots["bars"].widths() > 0).sum() == 1


def test_stepping_moves_through_the_greedy_answer(stepper):
    _reset(stepper)
    trace = stepper.traces[PROMPTS[0], False]
    words = [stepper.model.vocab.index_to_token(int(i)) for i in trace["ids"][0]]
    titles, heats = [], []
    for step in range(3):
        stepper.controls["step"].value = step
        titles.append(stepper.plots["image"].title.get_text())
        heats.append(stepper.plots["image"].weights())
        assert f"[{words[step]}]" in titles[-1]
        assert f"greedy took '{words[step]}'" in html.unescape(stepper.status.value)
    assert len(set(titles)) == 3
    # Past the end of the answer the last step stays on show, and the status says so.
    stepper.controls["step"].value = stepper.controls["step"].max
    assert "the answer ended here" in stepper.status.value


def test_blind_and_scene_and_prompt_change_what_is_shown(stepper):
    _reset(stepper)
    before = stepper.plots["bars"].widths()
    stepper.controls["blind"].value = True
    assert "image blinded" in stepper.status.value
    np.testing.assert_allclose(stepper.plots["bars"].widths(), _expected_bars(stepper), atol=1e-6)
    stepper.controls["blind"].value = False
    picture = np.array(stepper.plots["image"].image.get_array())
    stepper.controls["scene"].value = 5
    assert not np.allclose(np.array(stepper.plots["image"].image.get_array()), picture)
    np.testing.assert_allclose(np.array(stepper.plots["image"].image.get_array()),
                               stepper.images[5].permute(1, 2, 0).numpy(), atol=1e-6)
    stepper.controls["prompt"].value = "how many objects are there"
    assert "how many objects are there" in stepper.plots["image"].title.get_text()
    assert not np.allclose(stepper.plots["bars"].widths(), before)


def test_bad_arguments(stepper):
    model, images = stepper.model, stepper.images
    with pytest.raises(ValueError, match="pass at most 16"):
        widgets.decoding_stepper(model, torch.zeros(17, 3, 32, 32))
    with pytest.raises(ValueError, match="scene must be in \\[0, 15\\]"):
        widgets.decoding_stepper(model, images, scene=16)
    with pytest.raises(TypeError, match="model must be a mmkit.vlm.TinyVLM"):
        widgets.decoding_stepper(torch.nn.Linear(2, 2), images)
    with pytest.raises(TypeError, match="images must be a \\(B, 3, H, W\\) tensor"):
        widgets.decoding_stepper(model, images[0])
    with pytest.raises(ValueError, match="never learned"):
        widgets.decoding_stepper(model, images, prompts=["describe the purple scene"])
