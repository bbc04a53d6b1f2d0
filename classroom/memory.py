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
LIMITS_MB = (1024, 2048)  # a Binder session or a classroom pod: 1-2 GB

_ROW = re.compile(r"^\|\s*(\d\d_[\w-]+)\.ipynb\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|")


def measured(results: Path = RESULTS) -> dict[str, tuple[float, float]]:
    """{lesson stem: (wall seconds, peak MB)} from the notebook table of RESULTS.md."""
    found = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        if match := _ROW.match(line):
            found[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    return found


def table(notebooks: Path = ROOT / "notebooks", results: Path = RESULTS) -> str:
    """A Markdown table: every lesson's peak memory beside Binder's 1 GB and 2 GB."""
    numbers = measured(results)
    rows = ["| notebook | peak memory (MB) | within 1 GB | within 2 GB |", "|---|---|---|---|"]
    for path in sorted(Path(notebooks).glob("[0-9]*.ipynb")):
        if path.stem in numbers:
            peak = numbers[path.stem][1]
            fits = ["yes" if peak <= limit else "**no**" for limit in LIMITS_MB]
            rows.append(f"| {path.stem} | {peak:.0f} | {fits[0]} | {fits[1]} |")
        else:
            rows.append(f"| {path.stem} | not measured yet (`make bench`) | | |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
    sys.exit(0)
