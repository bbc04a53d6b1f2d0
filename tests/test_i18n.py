"""set_language: explorers' titles, axis labels, ticks and controls in Chinese, drawn with a
CJK font, or a clear message naming the font package to install."""

import matplotlib
import pytest

import mmkit
from mmkit import i18n, widgets


@pytest.fixture
def chinese():
    fonts = {key: list(matplotlib.rcParams[key]) for key in ("font.sans-serif", "font.monospace")}
    mmkit.set_language("zh")
    yield
    mmkit.set_language("en")
    matplotlib.rcParams.update(fonts)


def _texts(figure) -> set[str]:
    from matplotlib.text import Text

    figure.canvas.draw()  # tick labels exist only once drawn
    return {t.get_text() for t in figure.findobj(Text) if t.get_text()}


def test_an_explorer_in_chinese_translates_titles_labels_ticks_and_controls(chinese):
    explorer = widgets.roc_explorer()
    explorer.controls["threshold"].value = 0.3  # a redraw sets an English title again
    texts = _texts(explorer.figure)
    assert {"混淆矩阵", "精确率", "召回率", "假阳性率 (FPR)"} <= texts
    assert not {"confusion matrix", "precision", "false positive rate (FPR)"} & texts
    assert any(t.startswith("图像: 分数 ≥ 0.300") for t in texts)  # numbers kept
    assert [c.description for c in explorer.controls.values()] == ["阈值", "模型"]
    assert matplotlib.rcParams["font.sans-serif"][0] == i18n.cjk_font()


def test_english_is_the_default_and_untouched():
    assert i18n.language() == "en"
    explorer = widgets.softmax_explorer()
    assert "logits z" in _texts(explorer.figure)
    assert i18n.tr("test accuracy") == "test accuracy"


def test_tr_replaces_whole_phrases_longest_first(chinese):
    assert i18n.tr("test accuracy") == "测试准确率"
    assert i18n.tr("clip 3, frame 2") == "片段 3, 帧 2"
    assert i18n.tr("headline") == "headline"  # 'head' inside a word is not a phrase


def test_a_missing_cjk_font_names_the_package_to_install(monkeypatch):
    monkeypatch.setattr(i18n, "cjk_font", lambda: None)
    with pytest.raises(RuntimeError, match="fonts-wqy-microhei"):
        mmkit.set_language("zh")
    assert i18n.language() == "en"


def test_an_unknown_language_is_named():
    with pytest.raises(ValueError, match="language must be one of 'en', 'zh', got 'fr'"):
        mmkit.set_language("fr")


def test_mmkit_language_applies_on_import_and_a_missing_font_only_warns(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = ("import mmkit, mmkit.i18n as i; from mmkit import widgets; "
            "e = widgets.softmax_explorer(); print(i.language(), e.controls['temperature'].description)")
    env = {**os.environ, "MMKIT_LANGUAGE": "zh", "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.split()
    assert out == ["zh", "温度系数", "T"]
    env["MMKIT_LANGUAGE"] = "klingon"
    run = subprocess.run([sys.executable, "-c", "import mmkit, mmkit.i18n as i; print(i.language())"],
                         env=env, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert run.stdout.strip() == "en" and "MMKIT_LANGUAGE='klingon' ignored" in run.stderr


# What an explorer shows as data rather than as a label: the shapes world's words (captions,
# classes, the tiny VLM's vocabulary), names from the code (fusions, layers, keypoints) and
# symbols that read the same in both languages.
DATA_WORDS = {
    "large", "small", "red", "green", "blue", "yellow", "circle", "square", "triangle",
    "disc", "left", "right", "above", "below", "moving", "rightwards", "leftwards", "down",
    "yes", "eos", "concat", "late", "hand", "features", "conv", "softmax", "logits", "FPR",
    "TPR", "AUC", "top", "query", "key", "attribution", "mathdefault", "log",
    "SmoothGrad", "GradientSHAP", "DeepLift", "Grad", "CAM", "LIME", "KernelSHAP",
}
EXPLORERS = [name for name in widgets.__all__ if name != "Explorer"]


def _shown_texts(explorer) -> list[str]:
    """The explorer's control labels and every text of its figure, quoted data removed."""
    controls = explorer.controls.values()
    texts = [c.description for c in controls] + sorted(_texts(explorer.figure))
    texts += [str(label) for c in controls for label in getattr(c, "_options_labels", ())
              if any(isinstance(o, tuple) for o in c.options)]  # (label, value) options
    return [i18n._QUOTED.sub("", text) for text in texts]


@pytest.mark.parametrize("name", EXPLORERS)
@pytest.mark.filterwarnings("error:Glyph")  # a CJK character drawn as an empty box
def test_every_explorer_speaks_chinese(name, chinese):
    import re

    explorer = getattr(widgets, name)()
    for text in _shown_texts(explorer):
        english = {word for word in re.findall(r"[A-Za-z]{3,}", text)  # (a cut caption
                   if not any(data.startswith(word) for data in DATA_WORDS)}  # ends "blu…")
        assert not english, f"{name}: {text!r} still says {sorted(english)} in English"
