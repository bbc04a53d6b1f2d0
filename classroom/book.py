"""Every lesson, with its stored outputs, as one static site: `make book`.

    python -m classroom.book _build/book        -> _build/book/html/index.html

Sphinx with MyST-NB renders the notebooks as they were committed (nothing is executed);
MathJax is bundled and no page loads anything from the network, so the site works from
file:// on a machine without one. Before the build, a copy of each lesson is prepared in
_build/book/src: every explorer keeps the static PNG its output carries (the live widget
needs a kernel) with a line on how to run it live, and solution cells are left out
(classroom/exercises.py finds them). Beside the lessons: the article's errata (from the
README), the glossary (mmkit.glossary) and a page for teachers with each lesson's memory.
"""

import argparse
import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

from classroom import memory
from classroom.exercises import lessons

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

LIVE = (
    "*Above: the default view of the explorer `mmkit.widgets.{name}`. Here it is a picture; "
    "to move its controls and watch it change, run this lesson in JupyterLab or VS Code "
    "(`make lab` in the kit's folder opens the lessons).*"
)

INDEX = """\
# mmkit: multimodal deep learning, piece by piece

These are the kit's lessons as they were last run, to read without Jupyter. Each one
builds a piece of a multimodal model (encoders for text, images, audio and video, fusion,
losses, metrics, explanations) in plain PyTorch, checks it against a library, and then
uses the kit's tested version. The explorers appear as their default figure; to move their
sliders, open the lessons in JupyterLab or VS Code (`make lab` in the kit's folder) and run
them. The lessons follow the article *多模态大模型：技术原理与实战* (multimodal large models:
principles and practice).

```{{toctree}}
:maxdepth: 1
:caption: Lessons

{lessons}
```

```{{toctree}}
:maxdepth: 1
:caption: Reference

errata
glossary
teachers
```
"""

TEACHERS = """\
# For teachers

**Memory.** A classroom pod or a Binder session has 1–2 GB. Each lesson's peak memory,
as the kit's benchmark last measured it on a 2-core CPU (bench/RESULTS.md):

{table}

One lesson at a time fits, two may not: a kernel keeps its memory until it is shut down.
Ask learners to shut down each lesson's kernel when they finish it (Kernel → Shut Down
Kernel) before they open the next.

**Graded assignments.** `make assignments` turns each lesson's exercises into an nbgrader
assignment (in `_build/course`); the README's "For teachers" section walks through release,
collection, autograding and grade export, on one machine and on JupyterHub.
"""


def errata_page(readme: Path = ROOT / "README.md") -> str:
    """The README's errata section (one source for both) as a page."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"^### Errata the notebooks show\n(.*?)(?=^#)", text, re.S | re.M)
    if not match:
        raise ValueError(f"{readme} has no '### Errata the notebooks show' section")
    return ("# Errata in the article\n\nWhere *多模态大模型：技术原理与实战* gives a wrong "
            "value, the lessons compute the right one live.\n" + match.group(1))


def glossary_page() -> str:
    from mmkit import glossary

    return ("# Glossary · 术语表\n\nOne Chinese rendering per English term, used in every "
            "lesson.\n\n" + glossary.as_markdown() + "\n")


def book_notebook(lesson) -> dict:
    """A lesson as the book shows it: solutions out, each explorer as its static PNG."""
    notebook = copy.deepcopy(lesson.notebook)
    notebook["metadata"].pop("widgets", None)
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        if index in lesson.solution_cells:
            continue
        cells.append(cell)
        widget = False
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                if "image/png" not in data:
                    raise ValueError(f"{lesson.path.name}, cell {index}: a widget output "
                                     "without a static image/png to show in its place")
                del data[WIDGET_VIEW]
                widget = True
        if widget:
            source = "".join(cell["source"])
            names = re.findall(r"mmkit\.widgets\.(\w+)", source) or ["explorer"]
            cells.append({"cell_type": "markdown", "metadata": {},
                          "source": LIVE.format(name=names[0])})
    notebook["cells"] = cells
    return notebook


def write_sources(src: Path, notebooks: Path = ROOT / "notebooks") -> list[str]:
    """The Sphinx source folder; the lessons' page names, in teaching order."""
    import json

    if src.exists():
        shutil.rmtree(src)
    (src / "lessons").mkdir(parents=True)
    shutil.copyfile(Path(__file__).with_name("book_conf.py"), src / "conf.py")
    pages = []
    for lesson in lessons(notebooks):
        page = f"lessons/{lesson.path.stem}"
        (src / f"{page}.ipynb").write_text(json.dumps(book_notebook(lesson), indent=1),
                                            encoding="utf-8")
        pages.append(page)
    (src / "index.md").write_text(INDEX.format(lessons="\n".join(pages)), encoding="utf-8")
    (src / "errata.md").write_text(errata_page(), encoding="utf-8")
    (src / "glossary.md").write_text(glossary_page(), encoding="utf-8")
    (src / "teachers.md").write_text(TEACHERS.format(table=memory.table(notebooks)),
                                     encoding="utf-8")
    return pages


def build(out: Path | str, notebooks: Path = ROOT / "notebooks") -> Path:
    """Write the sources and run Sphinx; the site's index.html. A Sphinx warning (a broken
    reference, a missing image) fails the build."""
    out = Path(out)
    write_sources(out / "src", notebooks)
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-E",
         "-d", str(out / "doctrees"), str(out / "src"), str(html)],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sphinx-build failed:\n{result.stdout}\n{result.stderr}")
    return html / "index.html"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to build in")
    args = parser.parse_args(argv)
    index = build(args.out)
    pages = len(list((index.parent / "lessons").glob("*.html")))
    print(f"{pages} lessons -> {index} (open it in a browser; it needs no network)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
