"""Drive each explorer as a learner would, without a browser: move a control, then check
that the plotted data (and the image sent to the browser) changed as it should."""

import base64

import numpy as np
import pytest
import torch

from mmkit import toy_problems, widgets


def _probabilities(logits, temperature):
    return torch.softmax(torch.tensor(logits, dtype=torch.float64) / temperature, -1).numpy()


def test_softmax_explorer_default_state_shows_the_articles_example():
    explorer = widgets.softmax_explorer()
    np.testing.assert_allclose(explorer.plots["logits"].heights(), [2, -1, 3, 0])
    np.testing.assert_allclose(
        explorer.plots["probabilities"].heights(), [0.2562, 0.0128, 0.6964, 0.0347], atol=5e-5
    )
    assert "sum of probabilities = 1.0000" in explorer.status.value


@pytest.mark.parametrize("name", ["z1", "z2", "z3", "z4"])
def test_moving_a_logit_moves_its_bar_and_all_probabilities(name):
    explorer = widgets.softmax_explorer()
    before = explorer.image.value
    explorer.controls[name].value = 5.0
    logits = [explorer.controls[f"z{i}"].value for i in range(1, 5)]
    assert logits[int(name[1]) - 1] == 5.0
    np.testing.assert_allclose(explorer.plots["logits"].heights(), logits)
    np.testing.assert_allclose(explorer.plots["probabilities"].heights(), _probabilities(logits, 1.0))
    assert explorer.image.value != before


def test_temperature_flattens_and_sharpens():
    explorer = widgets.softmax_explorer()
    explorer.controls["temperature"].value = 10.0
    hot = explorer.plots["probabilities"].heights()
    np.testing.assert_allclose(hot, _probabilities([2, -1, 3, 0], 10.0))
    explorer.controls["temperature"].value = 0.1
    cold = explorer.plots["probabilities"].heights()
    np.testing.assert_allclose(cold, _probabilities([2, -1, 3, 0], 0.1))
    assert hot.max() < 0.4 and cold.max() > 0.99


def test_gradient_descent_explorer_plots_the_trajectory():
    explorer = widgets.gradient_descent_explorer(lr=0.1, steps=2)
    xs, ys = explorer.plots["curve"].path.get_data()
    np.testing.assert_allclose(xs, [2.0, 1.8, 1.64])
    np.testing.assert_allclose(ys, [1.0, 0.64, 0.4096])
    assert explorer.plots["bowl"].path.get_data()[0].shape == (3,)


def test_steps_slider_changes_the_number_of_points():
    explorer = widgets.gradient_descent_explorer()
    explorer.controls["steps"].value = 25
    assert len(explorer.plots["curve"].path.get_data()[0]) == 26
    assert len(explorer.plots["bowl"].path.get_data()[0]) == 26


def test_learning_rate_slider_turns_convergence_into_divergence():
    explorer = widgets.gradient_descent_explorer(lr=0.1, steps=20)
    xs, _ = explorer.plots["curve"].path.get_data()
    assert abs(xs[-1] - 1) < 0.05
    assert "curve converges" in explorer.status.value
    before = explorer.image.value
    explorer.controls["lr"].value = 1.2
    xs, _ = explorer.plots["curve"].path.get_data()
    assert abs(xs[-1] - 1) > 100
    assert "curve does not converge" in explorer.status.value
    assert explorer.image.value != before


def test_bowl_diverges_before_the_curve_does():
    bowl = toy_problems.QuadraticBowl()
    explorer = widgets.gradient_descent_explorer(lr=0.7, steps=30)
    path = np.stack(explorer.plots["bowl"].path.get_data(), axis=1)
    assert np.abs(path[-1] - bowl.minimum.numpy()).max() > 1e3
    assert "curve converges" in explorer.status.value
    assert "bowl does not converge" in explorer.status.value


def test_explorer_carries_a_static_png_for_viewers_without_a_kernel():
    explorer = widgets.softmax_explorer()
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")


def test_an_error_in_a_callback_is_shown_in_the_status_line_and_fails_a_test(monkeypatch):
    explorer = widgets.softmax_explorer()
    explorer._draw = lambda **values: 1 / 0
    # Under the tests and the benchmark (raise_errors) the error propagates ...
    with pytest.raises(ZeroDivisionError):
        explorer.controls["z1"].value = 1.5
    assert "Error: division by zero" in explorer.status.value
    assert isinstance(explorer.error, ZeroDivisionError)
    # ... while a learner (the default) sees it in the status line and nothing raises.
    monkeypatch.setattr(widgets.Explorer, "raise_errors", False)
    explorer.controls["z1"].value = 2.5
    assert "Error: division by zero" in explorer.status.value
    explorer._draw = lambda **values: "fine"
    explorer.refresh()
    assert explorer.error is None and explorer.status.value == "fine"


@pytest.mark.parametrize(("factory", "kwargs", "match"), [
    (widgets.softmax_explorer, {"logits": [1.0]}, "logits must hold 2 to 8 numbers, got 1"),
    (widgets.softmax_explorer, {"temperature": 0}, "temperature must be a finite number > 0"),
    (widgets.gradient_descent_explorer, {"lr": -1}, "lr must be a finite number > 0"),
])
def test_explorers_reject_bad_arguments(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_data_browser_shows_one_scene_in_all_four_modalities():
    from mmkit.data import ShapesWorld
    from mmkit.viz import frame_strip

    browser = widgets.data_browser(seed=3, n=16)
    browser.controls["index"].value = 5
    sample = ShapesWorld(n=16, seed=3)[5]
    shown = browser.plots["image"].artist.get_array()
    np.testing.assert_allclose(shown, sample["image"].permute(1, 2, 0).numpy(), atol=1e-6)
    np.testing.assert_allclose(
        browser.plots["video"].artist.get_array(),
        np.moveaxis(frame_strip(sample["video"]), 0, -1), atol=1e-6,
    )
    np.testing.assert_allclose(browser.plots["waveform"].line.get_ydata(), sample["audio"].numpy())
    assert sample["text"] in browser.figure.get_suptitle()
    assert f"direction={sample['attributes']['direction']}" in browser.status.value


def test_data_browser_noise_slider_corrupts_the_scene():
    browser = widgets.data_browser(seed=1, n=8)
    clean_image = np.array(browser.plots["image"].artist.get_array())
    clean_sound = browser.children[1].children[2].value
    browser.controls["noise"].value = 0.3
    noisy_image = np.array(browser.plots["image"].artist.get_array())
    assert np.abs(noisy_image - clean_image).mean() > 0.05
    assert browser.children[1].children[2].value != clean_sound  # the audio player
    browser.controls["noise"].value = 0.0
    np.testing.assert_allclose(browser.plots["image"].artist.get_array(), clean_image)
