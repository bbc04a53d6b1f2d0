"""The Chinese edition cannot drift: every English markdown cell has an up-to-date
translation, `make zh` would change nothing, code and outputs are the English ones, and
every translated cell renders the glossary's terms as the glossary says and keeps the
English cell's inline code and formulas exactly."""

import importlib.util
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from mmkit.glossary import TERMS

ROOT = Path(__file__).resolve().parents[1]
ZH = ROOT / "notebooks" / "zh"


def _make_zh():
    spec = importlib.util.spec_from_file_location("make_zh", ZH / "make_zh.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_zh = _make_zh()


def test_every_lesson_is_translated_and_make_zh_changes_nothing():
    problems = make_zh.build(check=True)
    assert not problems, "\n".join(problems)


def test_code_cells_and_their_outputs_are_the_english_ones():
    for english in make_zh.english_notebooks():
        chinese = nbformat.read(ZH / english.name, as_version=4)
        source = nbformat.read(english, as_version=4)
        assert [c.cell_type for c in chinese.cells] == [c.cell_type for c in source.cells]
        for ours, theirs in zip(chinese.cells, source.cells, strict=True):
            if theirs.cell_type == "code":
                assert ours.source == theirs.source and ours.outputs == theirs.outputs


def test_a_changed_english_sentence_is_named_until_it_is_translated_again(tmp_path):
    english, chinese, translations = (tmp_path / name for name in ("en", "zh", "translations"))
    for folder in (english, chinese, translations):
        folder.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 99 · A lesson", id="title"),
                      nbformat.v4.new_code_cell("print(1)", id="code"),
                      nbformat.v4.new_markdown_cell("Fusion joins two modalities.", id="intro")]
    path = english / "99_lesson.ipynb"
    nbformat.write(notebook, path)
    cells = {cell.id: {"en_sha256": make_zh.english_hash(cell.source), "zh": zh}
             for cell, zh in ((notebook.cells[0], "# 99 · 一课"),
                              (notebook.cells[2], "融合把两个模态结合起来。"))}
    (translations / "99.json").write_text(json.dumps({"notebook": path.name, "cells": cells}))
    folders = {"english": english, "chinese": chinese, "translations": translations}
    assert make_zh.build(**folders) == []
    assert "融合" in (chinese / "99_lesson.ipynb").read_text(encoding="utf-8")

    notebook.cells[2].source = "Fusion joins two or more modalities."  # one sentence changes
    nbformat.write(notebook, path)
    problems = make_zh.build(check=True, **folders)
    assert len(problems) == 1
    assert problems[0].startswith("99_lesson.ipynb, markdown cell intro: the English changed")

    cells["intro"] = {"en_sha256": make_zh.english_hash(notebook.cells[2].source),
                      "zh": "融合把两个或更多模态结合起来。"}
    (translations / "99.json").write_text(json.dumps({"notebook": path.name, "cells": cells}))
    assert make_zh.build(**folders) == []
    assert make_zh.build(check=True, **folders) == []


def test_a_missing_translation_and_a_stale_chinese_notebook_are_named(tmp_path):
    english = tmp_path / "en"
    english.mkdir()
    shutil.copy(make_zh.english_notebooks()[0], english)
    problems = make_zh.build(check=True, english=english, chinese=tmp_path,
                             translations=tmp_path)
    assert problems and all(": no translation (" in p for p in problems)


# ---- terms ------------------------------------------------------------------------------

def _forms(text: str) -> list[tuple[str, bool]]:
    """'convolutional neural network (CNN)' -> [('convolutional neural network', False),
    ('CNN', True)]: the phrase, matched in any case, and its abbreviation, matched as
    written (so 'SHAP' is not found in 'shapes')."""
    inner = re.findall(r"\(([^)]*)\)", text)
    outer = re.sub(r"\([^)]*\)", "", text).strip()
    return [(outer, False)] * bool(outer) + [(f, True) for f in inner if f]


def term_pairs() -> list[tuple[str, str, bool]]:
    """(English form, Chinese rendering, case-sensitive) from the glossary; an entry that
    lists several terms ('accuracy / precision / recall') pairs them up one to one."""
    pairs = []
    for term in TERMS:
        english = [e.strip() for e in term.english.split(" / ")]
        chinese = [c.strip() for c in term.chinese.split(" / ")]
        if len(english) != len(chinese):
            english, chinese = [term.english], [term.chinese]
        for e, c in zip(english, chinese, strict=True):
            rendering = re.sub(r"\s*[(（][^)）]*[)）]", "", c).strip()  # '变换器 (转换器)' -> '变换器'
            pairs += [(form if exact else form.lower(), rendering, exact)
                      for form, exact in _forms(e)]
    return pairs


def _pattern(form: str, exact: bool) -> re.Pattern:
    plural = "s?" if exact else "(e?s)?"
    flags = 0 if exact else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(form)}{plural}(?![\w-])", flags)


def _prose(markdown: str) -> str:
    """The words a reader reads: no code, no formulas, no link targets."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    return re.sub(r"\]\([^)]*\)", "]", text)


def test_every_translated_cell_uses_the_glossarys_renderings(capsys):
    pairs = term_pairs()
    wrong, checked_cells, used = [], 0, set()
    for notebook in make_zh.english_notebooks():
        translations = make_zh.load_translations(notebook)
        for cell in nbformat.read(notebook, as_version=4).cells:
            entry = translations.get(cell.id)
            if cell.cell_type != "markdown" or not entry or not entry.get("zh"):
                continue  # a missing translation fails the test above
            english = _prose(cell.source)
            checked_cells += 1
            # A word the English uses in another sense ('precision' of floating point) is
            # listed by the translator in the entry's "terms_not_meant".
            not_meant = {t.lower() for t in entry.get("terms_not_meant", [])}
            # Longest first, and a matched phrase is blanked out: "batch normalisation"
            # asks for its own rendering, not also for "normalisation"'s.
            for form, rendering, exact in sorted(pairs, key=lambda pair: -len(pair[0])):
                pattern = _pattern(form, exact)
                if pattern.search(english):
                    english = pattern.sub(" ", english)
                    if form.lower() in not_meant:
                        continue
                    used.add(form)
                    if rendering not in entry["zh"]:
                        wrong.append(f"{notebook.name}, cell {cell.id}: '{form}' must be "
                                     f"rendered '{rendering}'")
    with capsys.disabled():
        print(f"\nterminology: {len(pairs)} terms in the glossary, {len(used)} of them used, "
              f"in {checked_cells} translated cells")
    assert checked_cells > 0
    assert not wrong, "\n".join(wrong[:40]) + f"\n({len(wrong)} in all)"


def test_term_pairs_follow_the_glossary():
    pairs = {form: rendering for form, rendering, _ in term_pairs()}
    assert pairs["cross-entropy"] == "交叉熵"
    assert pairs["CNN"] == "卷积神经网络"
    assert pairs["precision"] == "精确率"


@pytest.mark.parametrize(("markdown", "form", "exact", "hit"), [
    ("Fusion of two encoders.", "feature fusion", False, False),
    ("Fusion of two encoders.", "encoder", False, True),
    ("Call `mmkit.encoders` here.", "encoder", False, False),
    ("Two CNNs and their shapes.", "CNN", True, True),
    ("Two CNNs and their shapes.", "SHAP", True, False),
])
def test_terms_are_found_in_prose_only(markdown, form, exact, hit):
    assert (_pattern(form, exact).search(_prose(markdown)) is not None) is hit


# ---- what is not translated --------------------------------------------------------------

_CODE = re.compile(r"`[^`]+`")  # inline code, which may wrap across lines
_FORMULA = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)


def _kept(markdown: str) -> Counter:
    """The inline code and the formulas of a cell, each with its whitespace normalised
    (a translation may wrap a line elsewhere)."""
    code = _CODE.findall(markdown)
    formulas = _FORMULA.findall(_CODE.sub(" ", markdown))
    return Counter(" ".join(piece.split()) for piece in code + formulas)


def test_code_and_formulas_are_kept_as_they_are():
    changed, cells = [], 0
    for notebook in make_zh.english_notebooks():
        translations = make_zh.load_translations(notebook)
        for cell in nbformat.read(notebook, as_version=4).cells:
            entry = translations.get(cell.id)
            if cell.cell_type != "markdown" or not entry or not entry.get("zh"):
                continue
            cells += 1
            english, chinese = _kept(cell.source), _kept(entry["zh"])
            if english != chinese:
                changed.append(f"{notebook.name}, cell {cell.id}: lost "
                               f"{sorted((english - chinese).elements())[:3]}, added "
                               f"{sorted((chinese - english).elements())[:3]}")
    assert cells > 0
    assert not changed, "\n".join(changed)


def test_kept_finds_code_and_formulas_but_not_prose():
    assert _kept("Use `torch.softmax` on $z_i$ and $$\\sum_i p_i = 1$$.") == Counter(
        ["`torch.softmax`", "$z_i$", "$$\\sum_i p_i = 1$$"])
    assert _kept("用 `torch.softmax`\n计算 $z_i$。") == _kept("Use `torch.softmax` on $z_i$.")
    assert _kept("Use `torch.softmax` on $z_i$.") != _kept("用 `torch.nn.softmax` 计算 $z_i$。")
