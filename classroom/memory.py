"""Each lesson's peak memory from bench/RESULTS.md, beside a classroom pod's limit.

    python -m classroom.memory      prints the README's memory table (paste it there)

The README's table, the book's "For teachers" page and the tests read the same numbers:
what `make bench` last measured. A lesson it has not measured yet shows as "not measured".
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
BINDER_LIMIT_MB = 2048  # mybinder.org gives 1-2 GB: plan for the top of that range
BUDGET_MB = 1536  # the kit's own budget per notebook (DESIGN.md)

_ROW = re.compile(r"^\|\s*(\d\d_[\w-]+)\.ipynb\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|")


def measured(results: Path = RESULTS) -> dict[str, tuple[float, float]]:
    """{lesson stem: (wall seconds, peak MB)} from the notebook table of RESULTS.md."""
    found = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        if match := _ROW.match(line):
            found[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    return found


def table(notebooks: Path = ROOT / "notebooks", results: Path = RESULTS) -> str:
    """A Markdown table: every lesson, its peak memory, and its share of Binder's 2 GB."""
    numbers = measured(results)
    rows = ["| notebook | peak memory (MB) | share of 2 GB (Binder's upper limit) |",
            "|---|---|---|"]
    for path in sorted(Path(notebooks).glob("[0-9]*.ipynb")):
        if path.stem in numbers:
            peak = numbers[path.stem][1]
            rows.append(f"| {path.stem} | {peak:.0f} | {peak / BINDER_LIMIT_MB:.0%} |")
        else:
            rows.append(f"| {path.stem} | not measured yet (run `make bench`) | |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
    sys.exit(0)
