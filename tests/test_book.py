"""The lessons as a static book (`make book`, classroom/book.py).

The book is built once, with the network cut (a network namespace with no interface up),
in English (html/) and in Chinese (html/zh/), and then checked in both languages: every
lesson has a page, every figure stored in a lesson is on its page, every page links to the
same page in the other language, no link inside the site is broken, nothing is loaded from
the network, and a page opened in Chromium from file:// shows its figures and its math, its
Chinese twin too (screenshots in test-artifacts/book/).
"""

import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from classroom import book, memory
from classroom.exercises import lessons

ROOT = Path(__file__).resolve().parents[1]
LESSONS = lessons(ROOT / "notebooks")
ZH_LESSONS = lessons(ROOT / "notebooks" / "zh")
EDITIONS = {"en": LESSONS, "zh": ZH_LESSONS}
SWITCH = {"en": "中文", "zh": "English"}  # the switch link's text on each site's pages
LIVE = {"en": "Here it is a picture; to move its controls", "zh": "这里它只是一张图片"}
CJK = re.compile(r"[\u4e00-\u9fff]")
FIGURES = ("image/png", "image/jpeg", "image/svg+xml")
ARTIFACTS = ROOT / "test-artifacts" / "book"
CHROMIUM = Path(os.environ.get("MMKIT_CHROMIUM", "/usr/bin/chromium"))

pytestmark = pytest.mark.classroom

OFFLINE_BUILD = """\
import socket, sys
try:
    socket.create_connection(("1.1.1.1", 80), timeout=3).close()
except OSError:
    pass
else:
    sys.exit("the network is reachable: this build must run with it cut")
from classroom.book import build
build(sys.argv[1])
"""


def _network_cut_command() -> tuple[list[str], dict]:
    """How to run a command with the network cut: a network namespace of its own where one
    may be made (root, as in CI; or a user namespace), else Python's sockets refused
    (tests/no_network, for unprivileged containers such as Binder)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)}
    for unshare in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
                return unshare, env
        except FileNotFoundError:
            break
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "no_network"), env["PYTHONPATH"]])
    return [], env


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The book, built with the network cut: nothing can be fetched."""
    out = tmp_path_factory.mktemp("book")
    prefix, env = _network_cut_command()
    result = subprocess.run([*prefix, sys.executable, "-c", OFFLINE_BUILD, str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"offline build failed:\n{result.stdout}\n{result.stderr}"
    return out / "html"


def _site_of(site: Path, language: str) -> Path:
    return site / "zh" if language == "zh" else site


def _heading(lesson) -> str:
    """A lesson's first heading as a page shows it (without the Markdown marks)."""
    heading = next("".join(c["source"]).split("\n")[0].lstrip("# ").strip()
                   for c in lesson.notebook["cells"] if c["cell_type"] == "markdown")
    return heading.replace("*", "").replace("`", "")


def test_the_python_level_network_cut_refuses_outside_connections():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "no_network")}
    script = OFFLINE_BUILD.split("from classroom")[0]  # only the reachability check
    assert subprocess.run([sys.executable, "-c", script], env=env).returncode == 0
    blocked = subprocess.run(
        [sys.executable, "-c", "import socket; socket.getaddrinfo('example.org', 80)"],
        env=env, capture_output=True, text=True)
    assert "network cut" in blocked.stderr


class Page(HTMLParser):
    """The links, images, scripts and element ids of one HTML page."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self.ids, self.links, self.images, self.scripts = path, set(), [], [], []
        self.text = []
        self.switches = []  # [href, text] of each language-switch link
        self._in_switch = False
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "language-switch" in (attrs.get("class") or "").split():
            self.switches.append([attrs.get("href"), ""])
            self._in_switch = True
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag in ("img", "source", "iframe", "audio", "video") and attrs.get("src"):
            self.images.append(attrs["src"]) if tag == "img" else self.links.append(attrs["src"])
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.scripts.append(attrs["href"])  # stylesheets, icons: loaded like scripts

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_switch = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_switch:
            self.switches[-1][1] += data


def _pages(site: Path) -> dict[Path, Page]:
    return {path: Page(path) for path in sorted(site.rglob("*.html"))}


def _is_external(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") or url.startswith("//")


@pytest.mark.parametrize("language", EDITIONS)
def test_every_lesson_has_a_page_in_teaching_order(site, language):
    site = _site_of(site, language)
    index = Page(site / "index.html")
    order = [link for link in index.links if link.startswith("lessons/")]
    expected = [f"lessons/{lesson.path.stem}.html" for lesson in EDITIONS[language]]
    assert len(expected) == len(list((ROOT / "notebooks").glob("[0-9]*.ipynb")))
    assert list(dict.fromkeys(order)) == expected
    for lesson in EDITIONS[language]:
        heading = _heading(lesson)
        page = Page(site / "lessons" / f"{lesson.path.stem}.html")
        text = " ".join("".join(page.text).split())
        assert heading in text, lesson.path.name
        if language == "zh":  # the Chinese lesson's own text, not the English one's
            assert CJK.search(heading), lesson.path.name
            chinese = [" ".join("".join(c["source"]).split()) for c in lesson.notebook["cells"]
                       if c["cell_type"] == "markdown" and CJK.search("".join(c["source"]))]
            english = _heading(next(e for e in LESSONS if e.path.name == lesson.path.name))
            assert len(chinese) > 3 and english not in text, lesson.path.name
    for page in ("errata", "glossary", "teachers"):
        assert f"{page}.html" in index.links


@pytest.mark.parametrize("language,lesson",
                         [(language, lesson) for language in EDITIONS for lesson in EDITIONS[language]],
                         ids=lambda x: x if isinstance(x, str) else x.path.stem)
def test_every_stored_figure_is_on_its_page(site, language, lesson):
    cells = [c for i, c in enumerate(lesson.notebook["cells"]) if i not in lesson.solution_cells]
    outputs = [o for c in cells for o in c.get("outputs", [])]
    figures = sum(any(m in o.get("data", {}) for m in FIGURES) for o in outputs)
    explorers = sum(book.WIDGET_VIEW in o.get("data", {}) for o in outputs)
    path = _site_of(site, language) / "lessons" / f"{lesson.path.stem}.html"
    page = Page(path)
    shown = [src for src in page.images if "_images/" in src]
    assert len(shown) == figures
    for src in shown:
        assert (path.parent / unquote(src)).is_file(), src
    # each explorer: its static figure, and how to run it live
    text = " ".join("".join(page.text).split())
    assert text.count(LIVE[language]) == explorers


def test_every_page_links_to_the_same_page_in_the_other_language(site):
    """The switch: one link near the top of every page, to its twin in the other site,
    which links back; a lesson's twin is the same lesson (its heading in that language)."""
    pages = _pages(site)
    assert len(pages) > 2 * len(LESSONS)
    headings = {language: {lesson.path.stem: _heading(lesson) for lesson in EDITIONS[language]}
                for language in EDITIONS}
    for path, page in pages.items():
        name = path.relative_to(site)
        language, other = ("zh", "en") if name.parts[0] == "zh" else ("en", "zh")
        assert len(page.switches) == 1, name
        href, text = page.switches[0]
        assert text.strip() == SWITCH[language], name
        assert not urlsplit(href).scheme and not href.startswith("/"), f"{name}: {href}"
        twin = (path.parent / unquote(href)).resolve()
        own_path = path.relative_to(_site_of(site, language))
        assert twin == (_site_of(site, other) / own_path).resolve(), f"{name}: {href}"
        assert twin.is_file(), f"{name}: {href}"
        back = pages[twin].switches[0][0]
        assert (twin.parent / unquote(back)).resolve() == path.resolve(), f"{name} <- {twin}"
        if own_path.parts[0] == "lessons":
            twin_text = " ".join("".join(pages[twin].text).split())
            assert headings[other][own_path.stem] in twin_text, f"{name} -> {twin}"
        # near the top: the announcement bar, before the page's own content
        source = path.read_text(encoding="utf-8")
        assert source.index("language-switch") < source.index('id="furo-main-content"'), name


def test_no_link_inside_the_site_is_broken(site):
    pages = _pages(site)
    checked, broken = 0, []
    for path, page in pages.items():
        for url in page.links + page.images + page.scripts:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue  # outside the site (a footer link): not loaded by the page
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            checked += 1
            if not target.exists():
                broken.append(f"{path.relative_to(site)}: {url}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else Page(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(site)}: {url} (no such anchor)")
    assert checked > 100
    assert broken == []


def test_no_page_loads_anything_from_the_network(site):
    pages = _pages(site)
    assert any(path.is_relative_to(site / "zh") for path in pages)  # both sites
    for path, page in pages.items():
        loaded = page.scripts + page.images
        assert [u for u in loaded if _is_external(u)] == [], path
    # math is typeset by the MathJax shipped with each site
    for language in EDITIONS:
        root = _site_of(site, language)
        math_page = Page(root / "lessons" / f"{_math_lesson()}.html")
        assert any(s.endswith("_static/mathjax/tex-chtml.js") for s in math_page.scripts)
        assert (root / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the first table on a page, as a browser shows their text
    (Sphinx writes "@" as "&#64;")."""
    page = path.read_text(encoding="utf-8")
    table = page[page.index("<table"):page.index("</table>")]

    def cells(row, tag):
        return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", cell)).split())
                for cell in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", row, re.S)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return cells(rows[0], "th"), [cells(row, "td") for row in rows[1:]]


def test_errata_glossary_and_memory_pages(site):
    from mmkit.glossary import TERMS

    # every term in its own row, as written (a "|" inside a cell must not split it)
    header, rows = _table(site / "glossary.html")
    assert header == ["English", "中文", "in one line"]
    assert rows == [[t.english, t.chinese, t.meaning] for t in TERMS]
    errata = " ".join("".join(Page(site / "errata.html").text).split())
    assert "[0.2562, 0.0128, 0.6964, 0.0347]" in errata
    teachers = " ".join("".join(Page(site / "teachers.html").text).split())
    for stem, (_, peak) in memory.measured().items():
        if (ROOT / "notebooks" / f"{stem}.ipynb").exists():
            assert f"{stem} {peak:.0f}" in teachers


def test_the_chinese_errata_glossary_and_teachers_pages(site):
    from mmkit.glossary import TERMS

    zh = site / "zh"
    header, rows = _table(zh / "glossary.html")
    assert header == ["中文", "English", "一句话说明（英文）"]  # 中文 first
    assert rows == [[t.chinese, t.english, t.meaning] for t in TERMS]
    errata = " ".join("".join(Page(zh / "errata.html").text).split())
    assert "文章中的勘误" in errata and "正确结果" in errata
    for value in ("[0.2562, 0.0128, 0.6964, 0.0347]", "0.8675", "0.4338", "2 → 1.8 → 1.64"):
        assert value in errata
    teachers = " ".join("".join(Page(zh / "teachers.html").text).split())
    assert "致教师" in teachers
    header, rows = _table(zh / "teachers.html")
    assert header == ["课程", "峰值内存 (MB)", "不超过 1 GB", "不超过 2 GB"]
    measured = memory.measured()
    assert [row[0] for row in rows] == [lesson.path.stem for lesson in ZH_LESSONS]
    for stem, peak, *fits in rows:
        if stem in measured:
            assert peak == f"{measured[stem][1]:.0f}"
            assert fits == [("是" if measured[stem][1] <= limit else "否")
                            for limit in memory.LIMITS_MB]
        else:
            assert peak.startswith("尚未测量")
    index = " ".join("".join(Page(zh / "index.html").text).split())
    assert "多模态大模型：技术原理与实战" in index and "课程" in index and "参考" in index
    # furo's own words in Chinese, from Sphinx's catalog and book_conf's additions
    page = " ".join("".join(Page(zh / "lessons" / f"{ZH_LESSONS[1].path.stem}.html").text).split())
    for word in ("跳到正文", "回到顶部", "下一页", "上一页"):
        assert word in page
    assert 'placeholder="搜索"' in (zh / "index.html").read_text(encoding="utf-8")


def test_a_chinese_errata_row_without_a_translation_stops_the_build(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("### Errata the notebooks show\n\n| the article says | correct | where |\n"
                      "|---|---|---|\n| dropout of 0.5 halves it | 0.5 | 04 |\n\n## Next\n",
                      encoding="utf-8")
    assert "| 0.5 | 04 |" in book.errata_page(readme)
    with pytest.raises(ValueError, match=r"no Chinese for \['dropout', 'halves', 'it', 'of'\]"):
        book.errata_page(readme, language="zh")


def _math_lesson() -> str:
    """The first lesson with math in its text and figures in its outputs."""
    for lesson in LESSONS:
        cells = lesson.notebook["cells"]
        text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        figures = any(m in o.get("data", {}) for c in cells for o in c.get("outputs", [])
                      for m in FIGURES)
        if "$" in text and figures:
            return lesson.path.stem
    raise AssertionError("no lesson has both math and figures")


@pytest.mark.browser
def test_a_page_opened_from_file_shows_its_figures_and_math(site):
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM}: install it (`sudo apt-get install chromium`)"
        if os.environ.get("MMKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM_ARGS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = _math_lesson()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, page_path in [(stem, site / "lessons" / f"{stem}.html"),
                                    (f"zh_{stem}", site / "zh" / "lessons" / f"{stem}.html"),
                                    ("glossary", site / "glossary.html")]:
                page = browser.new_page(viewport={"width": 1300, "height": 1000})
                requests = []
                page.on("request", lambda request, seen=requests: seen.append(request.url))
                page.goto(page_path.as_uri())
                page.wait_for_load_state("load")
                images = page.evaluate(
                    "() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
                assert all(images), f"{name}: an image did not load"
                if name.endswith(stem):
                    assert images, f"{name}: no figure"
                    page.wait_for_function("() => window.MathJax && MathJax.startup"
                                           " && MathJax.startup.promise")
                    page.evaluate("() => MathJax.startup.promise")
                    assert page.locator("mjx-container").count() > 0  # typeset
                    assert page.locator("mjx-merror").count() == 0  # and no TeX error
                    # the top of the page: the language switch, the title, the first text
                    page.screenshot(path=str(ARTIFACTS / f"{name}_top.png"))
                    page.locator("mjx-container").nth(3).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
                assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
                if name.endswith(stem):  # the switch, clicked, opens the twin page
                    zh = name.startswith("zh_")
                    switch = page.locator("a.language-switch")
                    assert switch.is_visible() and switch.inner_text() == SWITCH["zh" if zh else "en"]
                    switch.click()
                    page.wait_for_load_state("load")
                    twin = site / ("" if zh else "zh") / "lessons" / f"{stem}.html"
                    assert page.url == twin.resolve().as_uri()
                    assert page.evaluate("document.documentElement.lang") == ("en" if zh else "zh-CN")
                page.close()
        finally:
            browser.close()


def test_the_book_drops_solutions_and_keeps_each_explorers_picture():
    lesson = next(lesson for lesson in LESSONS if lesson.exercises)
    shown = book.book_notebook(lesson)
    sources = ["".join(c["source"]) for c in shown["cells"]]
    for index in lesson.solution_cells:
        assert "".join(lesson.notebook["cells"][index]["source"]) not in sources
    for cell in shown["cells"]:
        for output in cell.get("outputs", []):
            assert book.WIDGET_VIEW not in output.get("data", {})
    assert json.dumps(shown)  # still plain JSON for Sphinx
