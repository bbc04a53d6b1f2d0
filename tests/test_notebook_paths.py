"""Notebooks find data/ from the package, not from the working directory: one that reads
the kit's data runs with the repository root as its working directory (as VS Code and
papermill start it), and no notebook names ../data."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def _code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_reads_data_relative_to_its_folder(path):
    code = _code(path)
    assert "../data" not in code and "..\\\\data" not in code, (
        f"{path.name} reads ../data: use mmkit.data_path(...), which works from any cwd")
    assert "set_num_threads" not in code, (
        f"{path.name} sets torch's threads: the kit's thread policy does that on import")


def test_a_notebook_that_reads_data_runs_from_the_repository_root():
    # The smallest notebook that reads files from data/ through mmkit.data_path.
    readers = [p for p in NOTEBOOKS if "data_path(" in _code(p)]
    assert readers, "no notebook reads the kit's data through mmkit.data_path"
    path = min(readers, key=lambda p: p.stat().st_size)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in notebook.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
