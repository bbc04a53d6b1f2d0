"""Tag each lesson's exercise cells as they are inferred: a tool for the lessons' authors.

    python -m classroom.tag_exercises notebooks/[0-9]*.ipynb           # what it would tag
    python -m classroom.tag_exercises --write notebooks/[0-9]*.ipynb   # and write it

Adds the tag `exercise` to each learner's cell and `solution` to each solution cell (whose
code it also hides, as the lessons do), as classroom/exercises.py finds them, so that
`make assignments` reads the tags instead of inferring them. Nothing else in the notebook
changes: no cell is executed and every output stays.
"""

import argparse
import sys
from pathlib import Path

import nbformat

from classroom.exercises import EXERCISE_TAG, SOLUTION_TAG, read_lesson
from mmkit.files import write_atomically


def tag(path: Path, write: bool = False) -> list[str]:
    """What tagging the lesson at `path` adds (and writes, if asked), one line per cell."""
    notebook = nbformat.read(path, as_version=4)
    lesson = read_lesson(path)
    added = []
    wanted = [(e.learner, EXERCISE_TAG) for e in lesson.exercises] + \
             [(e.solution, SOLUTION_TAG) for e in lesson.exercises]
    for index, tag_name in sorted(wanted):
        metadata = notebook.cells[index].metadata
        tags = metadata.setdefault("tags", [])
        if tag_name not in tags:
            tags.append(tag_name)
            added.append(f"{path.name}, cell {index}: + {tag_name}")
        if tag_name == SOLUTION_TAG and not metadata.get("jupyter", {}).get("source_hidden"):
            metadata.setdefault("jupyter", {})["source_hidden"] = True
            added.append(f"{path.name}, cell {index}: code hidden")
    if write and added:
        write_atomically(path, nbformat.writes(notebook) + "\n")
    return added


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--write", action="store_true", help="write the tags into the files")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        for line in tag(path, write=args.write):
            print(line)
    if not args.write:
        print("(nothing written: add --write to write these)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
