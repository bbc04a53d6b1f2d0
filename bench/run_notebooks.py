"""Execute notebooks top to bottom in a fresh kernel; optionally write them back in place.

    python bench/run_notebooks.py --inplace notebooks/*.ipynb   (what `make notebooks` runs)
    python bench/run_notebooks.py --offline-check notebooks/*.ipynb

Used by the benchmark too: `run_notebook` returns the wall time and the kernel's peak
memory. Widget state is never stored (GitHub will not render a notebook whose
`metadata.widgets` is partial), and files are written atomically so an interrupted run
cannot leave a half-written notebook behind.
"""

import argparse
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from mmkit.files import write_atomically

# Appended for measuring only, never saved: the kernel reports its own peak memory.
_PEAK_MEMORY_CELL = (
    "import resource as _r\n"
    "print('MMKIT_PEAK_KB', max(_r.getrusage(_r.RUSAGE_SELF).ru_maxrss,"
    " _r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss))"
)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def drop_progress_bars(nb) -> None:
    """Remove the outputs of widgets that carry no static picture: progress bars. Their
    state is not stored, so a saved notebook (or the book) could only show their first
    frame, "training: 0epoch", which misleads. Explorers keep theirs: each carries a PNG."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (WIDGET_VIEW in o.get("data", {})
                                    and "image/png" not in o.get("data", {}))]


@dataclass
class NotebookRun:
    path: Path
    seconds: float
    peak_mb: float | None


def run_notebook(path, inplace: bool = False, measure: bool = False, timeout: int = 600):
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if measure:
        nb.cells.append(nbformat.v4.new_code_cell(_PEAK_MEMORY_CELL))
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=False,
        record_timing=False,  # timestamps would make every re-run a noisy diff
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start

    peak_mb = None
    if measure:
        cell = nb.cells.pop()
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        peak_mb = int(text.split("MMKIT_PEAK_KB")[1].split()[0]) / 1024
    if inplace:
        nb.metadata.pop("widgets", None)
        drop_progress_bars(nb)
        write_atomically(path, nbformat.writes(nb) + "\n")
    return NotebookRun(path, seconds, peak_mb)


def network_is_cut() -> bool:
    """True when no outside address can be reached (the offline check must be real)."""
    try:
        socket.create_connection(("1.1.1.1", 80), timeout=2).close()
    except OSError:
        return True
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--inplace", action="store_true", help="write the outputs back")
    parser.add_argument(
        "--offline-check", action="store_true",
        help="fail unless the network is really cut (then run the notebooks given, if any)"
    )
    args = parser.parse_args(argv)
    if args.offline_check and not network_is_cut():
        print("the network is reachable: run this inside `unshare -n`", file=sys.stderr)
        return 2
    for path in args.notebooks:
        print(f"{path} ...", end=" ", flush=True)
        result = run_notebook(path, inplace=args.inplace, measure=True)
        print(f"{result.seconds:.1f} s, peak {result.peak_mb:.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
