"""The Chinese edition (中文版): each lesson's notebook with its markdown in Chinese, made from
the English notebook and a translation file, so the two can never drift apart.

    python notebooks/zh/make_zh.py            write notebooks/zh/NN_*.ipynb (what `make zh` runs)
    python notebooks/zh/make_zh.py --check    fail if a translation is missing or stale, or if
                                              a committed Chinese notebook differs from what
                                              would be written
    python notebooks/zh/make_zh.py --stub     add every untranslated markdown cell to the
                                              translation files (zh: null), for a translator

The English notebooks stay the source. ``translations/NN.json`` maps each markdown cell, by
its cell id, to its Chinese text and to the SHA-256 of the English text it translates:

    {"notebook": "01_math_foundations.ipynb",
     "cells": {"<cell id>": {"en_sha256": "...", "en": "<the English, for reference>",
                             "zh": "<the Chinese markdown>",
                             "terms_not_meant": ["precision"]}}}

("terms_not_meant", optional: glossary terms the English uses in another sense, e.g. the
precision of floating point, which the terminology test then does not ask for.)

A Chinese notebook is the English one with each markdown cell's source replaced by its
translation: code cells, their stored outputs and the notebook's metadata are copied as
they are. When an English cell changes, its hash no longer matches and the build stops,
naming the lesson and the cell, until the translation is brought up to date.
"""

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ENGLISH = HERE.parent
TRANSLATIONS = HERE / "translations"


def english_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@dataclass
class Problem:
    notebook: str
    cell_id: str
    what: str

    def __str__(self) -> str:
        return f"{self.notebook}, markdown cell {self.cell_id}: {self.what}"


def translation_file(notebook: Path, translations: Path = TRANSLATIONS) -> Path:
    return translations / f"{notebook.name[:2]}.json"


def load_translations(notebook: Path, translations: Path = TRANSLATIONS) -> dict:
    path = translation_file(notebook, translations)
    if not path.is_file():
        return {}
    content = json.loads(path.read_text(encoding="utf-8"))
    if content.get("notebook") != notebook.name:
        raise ValueError(f"{path} translates {content.get('notebook')!r}, not {notebook.name!r}")
    return content["cells"]


def _first_words(text: str, n: int = 8) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def chinese_notebook(notebook: Path, translations: Path = TRANSLATIONS
                     ) -> tuple[nbformat.NotebookNode, list[Problem]]:
    """The Chinese notebook for ``notebook``, and every problem found on the way."""
    nb = nbformat.read(notebook, as_version=4)
    cells = load_translations(notebook, translations)
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        entry = cells.get(cell.id)
        start = f"“{_first_words(cell.source)}”"
        if entry is None or not entry.get("zh"):
            problems.append(Problem(notebook.name, cell.id, f"no translation ({start})"))
            continue
        if entry.get("en_sha256") != english_hash(cell.source):
            problems.append(Problem(notebook.name, cell.id,
                                    f"the English changed since it was translated ({start}); "
                                    "update its zh and en_sha256"))
            continue
        cell.source = entry["zh"]
    known = {cell.id for cell in nb.cells if cell.cell_type == "markdown"}
    for cell_id in sorted(set(cells) - known):
        problems.append(Problem(notebook.name, cell_id,
                                "translated, but the English notebook has no such markdown "
                                "cell any more; remove it from the translation file"))
    nb.metadata["mmkit"] = {"language": "zh", "translated_from": notebook.name}
    return nb, problems


def english_notebooks(english: Path = ENGLISH) -> list[Path]:
    return sorted(english.glob("[0-9][0-9]_*.ipynb"))


def build(check: bool = False, english: Path = ENGLISH, chinese: Path = HERE,
          translations: Path = TRANSLATIONS) -> list[str]:
    """Write (or, with check, compare) every Chinese notebook; return the problems."""
    from mmkit.files import write_atomically

    problems: list[str] = []
    for notebook in english_notebooks(english):
        nb, found = chinese_notebook(notebook, translations)
        problems += [str(p) for p in found]
        if found:
            continue
        text = nbformat.writes(nb) + "\n"
        target = chinese / notebook.name
        if check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                problems.append(f"zh/{target.name} is not what `make zh` writes: run "
                                "`make zh` and commit the result")
        else:
            write_atomically(target, text)
    expected = {n.name for n in english_notebooks(english)}
    for stray in sorted(chinese.glob("[0-9][0-9]_*.ipynb")):
        if stray.name not in expected:
            problems.append(f"zh/{stray.name} has no English notebook: remove it")
    return problems


def stub() -> int:
    """Add every untranslated or stale markdown cell to the translation files (zh: null),
    with its English text, so a translator sees what to do; drop cells that are gone."""
    from mmkit.files import write_atomically

    added = 0
    for notebook in english_notebooks():
        nb = nbformat.read(notebook, as_version=4)
        cells = load_translations(notebook)
        kept = {}
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            entry = cells.get(cell.id)
            if entry is None or entry.get("en_sha256") != english_hash(cell.source):
                old_zh = entry.get("zh") if entry else None
                entry = {"en_sha256": english_hash(cell.source), "en": cell.source,
                         "zh": None, **({"previous_zh": old_zh} if old_zh else {})}
                added += 1
            kept[cell.id] = entry
        TRANSLATIONS.mkdir(parents=True, exist_ok=True)
        content = {"notebook": notebook.name, "cells": kept}
        write_atomically(translation_file(notebook),
                         json.dumps(content, ensure_ascii=False, indent=1) + "\n")
    return added


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; fail on a missing or stale translation, or a "
                             "committed Chinese notebook that differs")
    parser.add_argument("--stub", action="store_true",
                        help="add untranslated cells to the translation files")
    args = parser.parse_args(argv)
    if args.stub:
        print(f"{stub()} markdown cell(s) to translate")
        return 0
    problems = build(check=args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("the Chinese notebooks are up to date" if args.check else
              f"wrote {len(english_notebooks())} Chinese notebooks to notebooks/zh/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
