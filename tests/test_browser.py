"""JupyterLab in a real browser: every notebook with widgets runs, renders its explorers
without errors, and a slider moved with the mouse really changes the picture.

Needs Debian's Chromium at /usr/bin/chromium (never a downloaded browser). Without it these
tests skip and say how to enable them, except where MMKIT_REQUIRE_BROWSER=1 (CI), where a
missing browser fails.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("MMKIT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# Chromium must not try to reach Google's servers from a machine with no network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _widget_notebooks() -> list[Path]:
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any("mmkit.widgets." in "".join(c["source"]) for c in cells if c["cell_type"] == "code"):
            found.append(path)
    return found


def _explorer_count(path: Path) -> int:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum("mmkit.widgets." in "".join(c["source"]) for c in cells if c["cell_type"] == "code")


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = (
            f"no Chromium at {CHROMIUM}: install it (Debian/Ubuntu: `sudo apt-get install "
            "chromium`) or set MMKIT_CHROMIUM to its path to run the browser tests"
        )
        if os.environ.get("MMKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_lab(work: Path, env: dict):
    """JupyterLab on a loopback port, token off, serving a *copy* of the notebooks (running
    them in the browser must not rewrite the committed files). Yields its URL."""
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    (work / "data").symlink_to(ROOT / "data")
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell, so the last cell's marker and every widget are in the page.
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    # No news pop-up: it would cover the page and try to reach the internet.
    news = work / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = _free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={work / 'notebooks'}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={work / 'settings'}",
        f"--LabApp.workspaces_dir={work / 'workspaces'}", "--allow-root",
    ]
    log = open(work / "lab.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=work, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    log_text = (work / "lab.log").read_text()
                    raise RuntimeError(f"JupyterLab did not start:\n{log_text}") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory, browser):
    env = {k: v for k, v in os.environ.items() if k != "MMKIT_LANGUAGE"}
    yield from _serve_lab(tmp_path_factory.mktemp("lab"), env)


@pytest.fixture(scope="module")
def lab_url_zh(tmp_path_factory, browser):
    """The same, as `make lab LANG=zh` starts it: its kernels' explorers speak Chinese."""
    yield from _serve_lab(tmp_path_factory.mktemp("lab_zh"), {**os.environ, "MMKIT_LANGUAGE": "zh"})


ERRORS_IN_NOTEBOOK = """() => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  const errors = [];
  for (const cell of notebook.model.cells) {
    if (cell.type !== 'code') continue;
    for (let i = 0; i < cell.outputs.length; i++) {
      const out = cell.outputs.get(i).toJSON();
      if (out.output_type === 'error') errors.push(out.ename + ': ' + out.evalue);
    }
  }
  return errors;
}"""


def _open_and_run(page, lab_url: str, path: str, workspace: str, marker: str) -> None:
    """Open a notebook in its own workspace, run every cell, wait for its last line."""
    page.goto(f"{lab_url}/lab/workspaces/{workspace}/tree/{path}?reset")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=60_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator(".jp-OutputArea-output").get_by_text(marker, exact=True).wait_for(
        state="attached", timeout=180_000
    )


def test_a_chinese_notebook_and_its_chinese_explorer(browser, lab_url_zh):
    """The Chinese edition in JupyterLab: Chinese prose, and an explorer whose controls and
    plot speak Chinese (MMKIT_LANGUAGE=zh), in a legible CJK font. Screenshot saved."""
    notebook = next(p for p in _widget_notebooks() if p.name.startswith("01_"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _open_and_run(page, lab_url_zh, f"zh/{notebook.name}", f"zh-{notebook.stem}",
                      f"notebook {notebook.name[:2]} ran to the end")
        assert page.evaluate(ERRORS_IN_NOTEBOOK) == []
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        assert panel.locator(".jp-RenderedMarkdown").get_by_text("梯度下降").count() >= 1
        explorer = panel.locator(".mmkit-explorer").first
        explorer.wait_for(timeout=30_000)
        explorer.scroll_into_view_if_needed()
        assert explorer.get_by_text("温度系数 T").count() == 1  # the control, in Chinese
        page.screenshot(path=str(ARTIFACTS / f"zh-{notebook.stem}.png"))
        # The gradient-descent explorer: its plot's titles are Chinese too (碗形函数, 最小值),
        # drawn by matplotlib in the CJK font set_language found.
        descent = panel.locator(".mmkit-explorer").nth(1)
        descent.scroll_into_view_if_needed()
        assert descent.get_by_text("学习率 α").count() == 1
        assert bytes(descent.locator("img").first.screenshot()).startswith(b"\x89PNG")
    finally:
        page.screenshot(path=str(ARTIFACTS / f"zh-{notebook.stem}-explorer.png"))
        page.close()


@pytest.mark.parametrize("notebook", _widget_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_and_its_widgets_respond(notebook, browser, lab_url):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # A workspace of its own, so no tab of another notebook is restored beside it.
        _open_and_run(page, lab_url, notebook.name, notebook.stem,
                      f"notebook {notebook.name[:2]} ran to the end")
        assert page.evaluate(ERRORS_IN_NOTEBOOK) == []
        assert page.get_by_text("Error displaying widget").count() == 0

        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        explorers = panel.locator(".mmkit-explorer")
        explorers.first.wait_for(timeout=30_000)
        assert explorers.count() == _explorer_count(notebook)
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            assert explorer.locator(".widget-slider").count() >= 1
            assert explorer.locator("img").count() == 1

        # Move the first slider with the mouse, as a learner would, and watch the image.
        first = explorers.first
        first.scroll_into_view_if_needed()
        image = first.locator("img")
        before = image.get_attribute("src")
        handle = first.locator(".noUi-handle").first
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
        page.wait_for_function(
            "([img, before]) => img.getAttribute('src') !== before",
            arg=[image.element_handle(), before],
            timeout=15_000,
        )
    finally:
        # Also on failure: the picture usually says what went wrong.
        page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}.png"))
        page.close()
