"""Every lesson, with its stored outputs, as one static site in two languages: `make book`.

    python -m classroom.book _build/book  -> _build/book/html/index.html     (English)
                                          -> _build/book/html/zh/index.html  (中文)

Sphinx with MyST-NB renders the notebooks as they were committed (nothing is executed):
the English lessons (notebooks/NN_*.ipynb) at html/, the Chinese edition
(notebooks/zh/NN_*.ipynb, written by `make zh`) at html/zh/ with the same page names and
Sphinx's language set to zh_CN, so the theme's own words (search, navigation) are Chinese
too. Every page of both sites links, at its top, to the same page in the other language
(a relative link, so it works from file://; book_conf.py adds it). MathJax is bundled and
no page loads anything from the network, so the site works from file:// on a machine
without one. Before the build, a copy of each lesson is prepared in _build/book/src/<lang>:
every explorer keeps the static PNG its output carries (the live widget needs a kernel)
with a line on how to run it live, and solution cells are left out (classroom/exercises.py
finds them). Beside the lessons: the article's errata (from the README), the glossary
(mmkit.glossary) and a page for teachers with each lesson's memory.
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

LIVE = {
    "en": ("*Above: the default view of the explorer `mmkit.widgets.{name}`. Here it is a "
           "picture; to move its controls and watch it change, run this lesson in JupyterLab "
           "or VS Code (`make lab` in the kit's folder opens the lessons).*"),
    "zh": ("*上图是探索器 `mmkit.widgets.{name}` 的默认视图。这里它只是一张图片；若要拖动"
           "控件、观察它的变化，请在 JupyterLab 或 VS Code 中运行本课（在套件目录下执行 "
           "`make lab LANG=zh` 即可打开中文课程）。*"),
}

# Each edition: where its notebooks are, where its site goes (inside html/), Sphinx's
# language and the site's title.
EDITIONS = {
    "en": {"notebooks": "", "html": "", "language": "en",
           "title": "mmkit: multimodal deep learning, piece by piece"},
    "zh": {"notebooks": "zh", "html": "zh", "language": "zh_CN",
           "title": "mmkit：一步一步搭建多模态深度学习模型"},
}

INDEX = {"en": """\
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
""", "zh": """\
# mmkit：一步一步搭建多模态深度学习模型

这里是本套件各课最近一次运行的结果，不用 Jupyter 也能阅读。每一课都用朴素的 PyTorch
现场搭建多模态模型的一个部件（文本、图像、音频和视频的编码器，特征融合，损失函数，评估指标，
可解释性方法），先与一个独立的库对照检验，再换用本套件中经过测试的版本。交互式探索器在这里
显示为它默认状态的静态图；若要拖动滑块、观察变化，请在 JupyterLab 或 VS Code 中打开课程并
运行（在套件目录下执行 `make lab LANG=zh` 即可打开中文课程）。课程依照文章
《多模态大模型：技术原理与实战》的提纲和内容编排；文中数值有误之处，课程会现场算出正确结果。

```{{toctree}}
:maxdepth: 1
:caption: 课程

{lessons}
```

```{{toctree}}
:maxdepth: 1
:caption: 参考

errata
glossary
teachers
```
"""}

TEACHERS = {"en": """\
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
""", "zh": """\
# 致教师

**内存。** 课堂上的容器（pod）或 Binder 会话只有 1–2 GB 内存。下表是本套件的基准测试在
2 核 CPU 上最近一次测得的每课峰值内存（bench/RESULTS.md）：

{table}

一次运行一课没有问题，同时运行两课就可能超出：内核在关闭之前一直占着它的内存。请学生学完
一课就关闭这一课的内核（Kernel → Shut Down Kernel），再打开下一课。

**计分作业。** `make assignments` 把每一课的练习转换成 nbgrader 作业（放在
`_build/course`，由英文课程生成）；README 的 “For teachers” 一节逐步说明如何在一台机器上
和在 JupyterHub 上发布作业、收取作业、自动评分和导出成绩。
"""}

# The memory table's words in Chinese (classroom/memory.py writes it in English), each a
# whole cell: "| yes | yes |" has two.
MEMORY_ZH = {
    "notebook": "课程", "peak memory (MB)": "峰值内存 (MB)", "within 1 GB": "不超过 1 GB",
    "within 2 GB": "不超过 2 GB", "yes": "是", "**no**": "**否**",
    "not measured yet (`make bench`)": "尚未测量（`make bench`）",
}

# The errata table's words in Chinese; the numbers and formulas stay as the README has them.
ERRATA_ZH = {
    "| the article says | correct | where |": "| 文章的说法 | 正确结果 | 所在课程 |",
    "(sums to ": "（总和为 ",
    "1.17)": "1.17）",
    "cross-entropy of ": "交叉熵，",
    "mean binary cross-entropy": "二元交叉熵的平均值",
    "gradient descent on ": "对 ",
    ", θ₀ = 2, α = 0.1:": " 做梯度下降，θ₀ = 2，α = 0.1：",
}
# English words a Chinese errata row may keep: function names in formulas.
FORMULA_WORDS = {"softmax", "ln"}


def errata_page(readme: Path = ROOT / "README.md", language: str = "en") -> str:
    """The README's errata section (one source for both) as a page. In Chinese, an English
    word left untranslated (a row added to the README) stops the build, naming it."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"^### Errata the notebooks show\n(.*?)(?=^#)", text, re.S | re.M)
    if not match:
        raise ValueError(f"{readme} has no '### Errata the notebooks show' section")
    if language == "en":
        return ("# Errata in the article\n\nWhere *多模态大模型：技术原理与实战* gives a wrong "
                "value, the lessons compute the right one live.\n" + match.group(1))
    table = match.group(1)
    for english, chinese in ERRATA_ZH.items():
        table = table.replace(english, chinese)
    left = sorted(set(re.findall(r"[A-Za-z]{2,}", table)) - FORMULA_WORDS)
    if left:
        raise ValueError(f"{readme}, errata: no Chinese for {left}; add it to "
                         "classroom/book.py's ERRATA_ZH")
    return ("# 文章中的勘误\n\n凡是《多模态大模型：技术原理与实战》给出错误数值的地方，"
            "课程都会现场算出正确的结果：\n" + table)


def glossary_page(language: str = "en") -> str:
    """The glossary as a page; in Chinese the 中文 column comes first."""
    from mmkit import glossary

    table = glossary.as_markdown(language=language)
    if language == "en":
        return ("# Glossary · 术语表\n\nOne Chinese rendering per English term, used in every "
                "lesson.\n\n" + table + "\n")
    return ("# 术语表 · Glossary\n\n每个英文术语只有一个中文译法，所有课程（中文版也一样）"
            "都用它。\n\n" + table + "\n")


def teachers_page(notebooks: Path, language: str = "en") -> str:
    table = memory.table(notebooks)
    if language != "en":
        for english, chinese in MEMORY_ZH.items():
            table = re.sub(rf"(?<=\| ){re.escape(english)}(?= \|)", chinese, table)
    return TEACHERS[language].format(table=table)


def book_notebook(lesson, language: str = "en") -> dict:
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
                          "source": LIVE[language].format(name=names[0])})
    notebook["cells"] = cells
    return notebook


def write_sources(src: Path, notebooks: Path = ROOT / "notebooks",
                  language: str = "en") -> list[str]:
    """The Sphinx source folder of one language; the lessons' page names, in teaching order."""
    import json

    if src.exists():
        shutil.rmtree(src)
    (src / "lessons").mkdir(parents=True)
    shutil.copyfile(Path(__file__).with_name("book_conf.py"), src / "conf.py")
    pages = []
    for lesson in lessons(notebooks):
        page = f"lessons/{lesson.path.stem}"
        (src / f"{page}.ipynb").write_text(json.dumps(book_notebook(lesson, language), indent=1),
                                            encoding="utf-8")
        pages.append(page)
    (src / "index.md").write_text(INDEX[language].format(lessons="\n".join(pages)),
                                  encoding="utf-8")
    (src / "errata.md").write_text(errata_page(language=language), encoding="utf-8")
    (src / "glossary.md").write_text(glossary_page(language), encoding="utf-8")
    (src / "teachers.md").write_text(teachers_page(notebooks, language), encoding="utf-8")
    return pages


def build(out: Path | str, notebooks: Path = ROOT / "notebooks") -> dict[str, Path]:
    """Write the sources and run Sphinx, once per language; each site's index.html. A Sphinx
    warning (a broken reference, a missing image) fails the build. The Chinese lessons must
    be the English ones, page for page: each page links to its twin."""
    out = Path(out)
    stems = {language: [p.stem for p in sorted((notebooks / e["notebooks"]).glob("[0-9]*.ipynb"))]
             for language, e in EDITIONS.items()}
    if stems["zh"] != stems["en"]:
        raise ValueError(f"{notebooks / 'zh'} does not hold the same lessons as {notebooks} "
                         f"(missing: {sorted(set(stems['en']) - set(stems['zh']))}, extra: "
                         f"{sorted(set(stems['zh']) - set(stems['en']))}); run `make zh`")
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    indexes = {}
    for language, edition in EDITIONS.items():  # English first: its html/ holds html/zh/
        src, site = out / "src" / language, html / edition["html"]
        write_sources(src, notebooks / edition["notebooks"], language)
        result = subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-E",
             "-D", f"language={edition['language']}", "-D", f"html_title={edition['title']}",
             "-d", str(out / "doctrees" / language), str(src), str(site)],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"sphinx-build ({language}) failed:\n{result.stdout}\n"
                               f"{result.stderr}")
        indexes[language] = site / "index.html"
    return indexes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to build in")
    args = parser.parse_args(argv)
    indexes = build(args.out)
    for language, index in indexes.items():
        pages = len(list((index.parent / "lessons").glob("*.html")))
        print(f"{language}: {pages} lessons -> {index}")
    print("Open either in a browser; they need no network, and each page links to its twin "
          "in the other language.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
