"""The lessons as a static book (`make book`, classroom/book.py).

The book is built once, with the network cut (a network namespace with no interface up),
and then checked: every lesson has a page, every figure stored in a lesson is on its page,
no link inside the site is broken, nothing is loaded from the network, and a page opened in
Chromium from file:// shows its figures and its math (screenshots in test-artifacts/book/).
"""

import html
import json
import os
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
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag in ("img", "source", "iframe", "audio", "video") and attrs.get("src"):
            self.images.append(attrs["src"]) if tag == "img" else self.links.append(attrs["src"])
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.scripts.append(attrs["href"])  # stylesheets, icons: loaded like scripts

    def handle_data(self, data):
        self.text.append(data)


def _pages(site: Path) -> dict[Path, Page]:
    return {path: Page(path) for path in sorted(site.rglob("*.html"))}


def _is_external(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") or url.startswith("//")


def test_every_lesson_has_a_page_in_teaching_order(site):
    index = Page(site / "index.html")
    order = [link for link in index.links if link.startswith("lessons/")]
    expected = [f"lessons/{lesson.path.stem}.html" for lesson in LESSONS]
    assert len(expected) == len(list((ROOT / "notebooks").glob("[0-9]*.ipynb")))
    assert list(dict.fromkeys(order)) == expected
    for lesson in LESSONS:
        heading = next("".join(c["source"]).split("\n")[0].lstrip("# ").strip()
                       for c in lesson.notebook["cells"] if c["cell_type"] == "markdown")
        heading = heading.replace("*", "").replace("`", "")  # the Markdown marks
        page = Page(site / "lessons" / f"{lesson.path.stem}.html")
        assert heading in " ".join("".join(page.text).split()), lesson.path.name
    for page in ("errata", "glossary", "teachers"):
        assert f"{page}.html" in index.links


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.path.stem)
def test_every_stored_figure_is_on_its_page(site, lesson):
    cells = [c for i, c in enumerate(lesson.notebook["cells"]) if i not in lesson.solution_cells]
    outputs = [o for c in cells for o in c.get("outputs", [])]
    figures = sum(any(m in o.get("data", {}) for m in FIGURES) for o in outputs)
    explorers = sum(book.WIDGET_VIEW in o.get("data", {}) for o in outputs)
    path = site / "lessons" / f"{lesson.path.stem}.html"
    page = Page(path)
    shown = [src for src in page.images if "_images/" in src]
    assert len(shown) == figures
    for src in shown:
        assert (path.parent / unquote(src)).is_file(), src
    # each explorer: its static figure, and how to run it live
    text = " ".join("".join(page.text).split())
    assert text.count("Here it is a picture; to move its controls") == explorers


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
    for path, page in _pages(site).items():
        loaded = page.scripts + page.images
        assert [u for u in loaded if _is_external(u)] == [], path
    # math is typeset by the MathJax shipped with the site
    math_page = Page(site / "lessons" / f"{_math_lesson()}.html")
    assert any(s.endswith("_static/mathjax/tex-chtml.js") for s in math_page.scripts)
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_errata_glossary_and_memory_pages(site):
    from mmkit.glossary import TERMS

    # as a browser shows it: Sphinx writes "@" as "&#64;"
    glossary = html.unescape((site / "glossary.html").read_text(encoding="utf-8"))
    for term in TERMS:
        assert term.chinese in glossary
    errata = " ".join("".join(Page(site / "errata.html").text).split())
    assert "[0.2562, 0.0128, 0.6964, 0.0347]" in errata
    teachers = " ".join("".join(Page(site / "teachers.html").text).split())
    for stem, (_, peak) in memory.measured().items():
        if (ROOT / "notebooks" / f"{stem}.ipynb").exists():
            assert f"{stem} {peak:.0f}" in teachers


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
                                    ("glossary", site / "glossary.html")]:
                page = browser.new_page(viewport={"width": 1300, "height": 1000})
                requests = []
                page.on("request", lambda request, seen=requests: seen.append(request.url))
                page.goto(page_path.as_uri())
                page.wait_for_load_state("load")
                images = page.evaluate(
                    "() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
                assert all(images), f"{name}: an image did not load"
                if name == stem:
                    assert images, f"{name}: no figure"
                    page.wait_for_function("() => window.MathJax && MathJax.startup"
                                           " && MathJax.startup.promise")
                    page.evaluate("() => MathJax.startup.promise")
                    assert page.locator("mjx-container").count() > 0  # typeset
                    assert page.locator("mjx-merror").count() == 0  # and no TeX error
                    page.locator("mjx-container").nth(3).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
                assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
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
