"""The glossary: one rendering per term, every term complete, the lessons' terms present."""

import pytest

from mmkit.glossary import TERMS, as_markdown


def test_every_term_is_complete_and_unique():
    english = [t.english for t in TERMS]
    assert len(english) == len(set(english))
    for term in TERMS:
        assert term.english and term.chinese and term.meaning
        assert term.lesson.isdigit() and len(term.lesson) == 2


def test_the_terms_lessons_00_to_05_use_are_there():
    english = {t.english for t in TERMS}
    for needed in ("pooling", "fully connected layer", "multi-head attention", "feed-forward network",
                   "data augmentation", "normalisation", "data cleaning", "gate", "mel scale",
                   "aperture problem", "vanishing gradient", "residual connection"):
        assert needed in english, needed


def test_markdown_has_one_row_per_term():
    rows = as_markdown().splitlines()
    assert rows[0] == "| English | 中文 | in one line |"
    assert len(rows) == 2 + len(TERMS)
    assert "| pooling | 池化 |" in as_markdown()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_row_has_three_cells_even_when_a_meaning_holds_a_bar(language):
    import re

    assert any("|" in t.meaning for t in TERMS)  # e.g. saliency map's |gradient|
    for row in as_markdown(language=language).splitlines():
        assert len(re.split(r"(?<!\\)\|", row)) == 5, row  # '', three cells, ''
    first = as_markdown(language=language).splitlines()[2].split(" | ")[0].lstrip("| ")
    assert first == (TERMS[0].english if language == "en" else TERMS[0].chinese)


def test_the_terms_lessons_06_to_10_use_are_there():
    english = {t.english for t in TERMS}
    for needed in ("late fusion", "product of experts", "tensor fusion", "transfer learning",
                   "fine-tuning", "calibration", "temperature scaling", "Cohen's kappa",
                   "McNemar's test", "threshold moving", "knowledge distillation",
                   "cross-modal attention", "pointing game", "randomisation test",
                   "noise ceiling", "attribution baseline"):
        assert needed in english, needed
