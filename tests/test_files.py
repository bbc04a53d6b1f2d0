"""data_path finds the kit's data from the package, from any working directory; and
write_atomically leaves the old file or the whole new one, never half a file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mmkit
from mmkit.files import data_dir, data_path, write_atomically

ROOT = Path(__file__).resolve().parents[1]


def test_data_is_found_from_the_package_in_any_working_directory(tmp_path):
    code = "import mmkit; print(mmkit.data_path('images', 'chelsea.jpg'))"
    env = {k: v for k, v in os.environ.items() if k != "MMKIT_DATA"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out) == ROOT / "data" / "images" / "chelsea.jpg"


def test_mmkit_data_points_elsewhere(tmp_path, monkeypatch):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "x.jpg").write_bytes(b"1")
    monkeypatch.setenv("MMKIT_DATA", str(tmp_path))
    assert data_dir() == tmp_path.resolve()
    assert mmkit.data_path("images", "x.jpg") == tmp_path.resolve() / "images" / "x.jpg"
    monkeypatch.setenv("MMKIT_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="MMKIT_DATA=.*nowhere' is not a folder"):
        data_dir()


def test_missing_data_and_bad_names_are_named():
    with pytest.raises(FileNotFoundError, match="no-such.jpg does not exist in the kit's data"):
        data_path("images", "no-such.jpg")
    with pytest.raises(TypeError, match="data_path takes folder and file names"):
        data_path("images", 3)


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x00bytes", b"\x00bytes"),
    ("text – ünïcode", "text – ünïcode".encode()),
    (lambda file: file.write(b"through a function"), b"through a function"),
])
def test_write_atomically_writes_bytes_text_or_through_a_function(tmp_path, content, expected):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    assert write_atomically(path, content) == path
    assert path.read_bytes() == expected
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temporary file left


def test_a_failing_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path):
    path = tmp_path / "keep.json"
    path.write_text("old, whole")

    def half_then_crash(file):
        file.write(b"half")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        write_atomically(path, half_then_crash)
    assert path.read_text() == "old, whole"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


@pytest.mark.parametrize(("path", "content", "error", "match"), [
    ("missing-folder/x.txt", b"", FileNotFoundError, "the folder of path does not exist"),
    (".", b"", IsADirectoryError, "path is a folder"),
    ("x.txt", 3, TypeError, "content must be bytes, a str or a function"),
    (3, b"", TypeError, "path must be a file path"),
])
def test_write_atomically_names_bad_arguments(tmp_path, path, content, error, match):
    target = tmp_path / path if isinstance(path, str) else path
    with pytest.raises(error, match=match):
        write_atomically(target, content)
