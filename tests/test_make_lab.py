"""`make lab LAB_ARGS=--no-browser` must serve JupyterLab on notebooks/ (HTTP 200 on /lab),
and `make lab LANG=zh` on the Chinese edition, notebooks/zh/."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("language", ["", "zh"])
def test_make_lab_serves_the_notebooks(language):
    port = _free_port()
    args = f"--no-browser --port={port} --ip=127.0.0.1 --ServerApp.token="
    # VENV points make at the environment running these tests, so nothing is reinstalled.
    lab = subprocess.Popen(
        ["make", "-s", "lab", f"VENV={sys.prefix}", f"LAB_ARGS={args}",
         *([f"LANG={language}"] if language else [])],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline, status, tree = time.time() + 90, None, ""
        while time.time() < deadline and lab.poll() is None:
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2).status
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5) as r:
                    tree = r.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, lab.stdout.read().decode() if lab.poll() is not None else "no answer"
        assert "01_math_foundations.ipynb" in tree  # the server's root is notebooks/ ...
        assert ("make_zh.py" in tree) == (language == "zh")  # ... or notebooks/zh/
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
