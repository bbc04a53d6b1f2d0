"""Each lesson with exercises as an nbgrader assignment: `make assignments`.

    python -m classroom.assignments _build/course [01_math_foundations ...]

writes an nbgrader course folder (nbgrader_config.py, source/<lesson>/<lesson>.ipynb) and
runs nbgrader's own `generate_assignment` to make release/<lesson>/<lesson>.ipynb, the
student's copy. In the source notebook (classroom/exercises.py says how exercises are found):

- each exercise's learner cell becomes an nbgrader "autograded answer" cell: the solution
  between `### BEGIN SOLUTION` and `### END SOLUTION`, the learner's stub after it (nbgrader
  keeps only the stub in the student's copy);
- each self-check it called becomes a locked "autograder tests" cell worth the exercise's
  points: it runs the kit's own check and shows the score as its last output (nbgrader
  reads a number there as the points earned), so a wrong answer never stops "Run all";
- the solution cell is dropped; every other cell is read-only.
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

from classroom.exercises import (
    Exercise,
    ExerciseError,
    Lesson,
    cell_source,
    check_calls,
    lessons,
    top_level_names,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).with_name("nbgrader_config.py")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

HEADER = """\
**Graded version of lesson {number}.** Write your answers in the cells that say
`YOUR CODE HERE`: each one is followed by a read-only cell that runs the lesson's own
self-check on your answer and shows your score for that exercise (0 until it passes).
The other cells are read-only. Before you submit, run every cell (Run → Run All Cells);
when you are done, shut down the kernel (Kernel → Shut Down Kernel) so that its memory is
free for the rest of the class."""


def _nbgrader(cell, grade_id: str, *, solution=False, grade=False, locked=False, points=0):
    cell.metadata["nbgrader"] = {
        "grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
        "solution": solution, "task": False, **({"points": points} if grade else {}),
    }
    return cell


def _body_start(lines: list[str], function: ast.FunctionDef) -> int:
    """The first line (1-based) of a function's body, with the comments above it; after
    the docstring if there is one."""
    first = function.body[0]
    if first.lineno == function.lineno:
        raise ExerciseError(f"{function.name}: write its body on its own lines, not after "
                            "`def ...:`")
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str) and len(function.body) > 1:
        return first.end_lineno + 1  # keep the docstring above the solution
    start = first.lineno
    while start - 1 > function.lineno and lines[start - 2].strip().startswith("#"):
        start -= 1
    return start


def _rename(text: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return text


def answer_source(learner_src: str, solution_src: str, exercise: Exercise) -> str:
    """The learner's cell with the solution filled in between nbgrader's markers and its
    check calls taken out (they become the test cells)."""
    lines, solution_lines = learner_src.split("\n"), solution_src.split("\n")
    learner_tree, solution_tree = ast.parse(learner_src), ast.parse(solution_src)
    learner_defs, solution_defs = top_level_names(learner_tree), top_level_names(solution_tree)
    renames = {a.solution: a.name for a in exercise.answers
               if a.solution.isidentifier() and a.solution != a.name}

    edits = []  # (first line, last line, replacement lines), 1-based, on the learner's cell
    for statement, _ in check_calls(learner_tree):
        edits.append((statement.lineno, statement.end_lineno, []))
    used = set()  # lines of the solution cell that end up somewhere
    for statement, _ in check_calls(solution_tree):
        used |= set(range(statement.lineno, statement.end_lineno + 1))
    for answer in (a for a in exercise.answers if a.is_function):
        mine, theirs = learner_defs[answer.name], solution_defs[answer.solution]
        first = min([theirs.lineno] + [d.lineno for d in theirs.decorator_list])
        used |= set(range(first, theirs.end_lineno + 1))
        solution_body = textwrap.dedent("\n".join(
            solution_lines[_body_start(solution_lines, theirs) - 1:theirs.end_lineno]))
        start = _body_start(lines, mine)
        indent = re.match(r"\s*", lines[start - 1]).group(0)
        region = [indent + BEGIN] + [
            (indent + line if line.strip() else "") for line in
            _rename(solution_body, renames).split("\n")] + [indent + END]
        edits.append((start, start - 1, region))  # inserted before the learner's stub

    # What else the solution cell holds (comments, imports, a value): a top-level region.
    extra = [line for n, line in enumerate(solution_lines, 1) if n not in used]
    for answer in (a for a in exercise.answers if not a.is_function):
        if _rename(answer.solution, renames) != answer.name:
            extra.append(f"{answer.name} = {_rename(answer.solution, renames)}")
    extra = "\n".join(extra).strip("\n")

    for first, last, replacement in sorted(edits, key=lambda e: -e[0]):
        lines[first - 1:last] = replacement
    source = "\n".join(lines).rstrip()
    if extra.strip():
        source += f"\n\n{BEGIN}\n{_rename(extra, renames)}\n{END}"
    return source


def test_source(function: str, arguments: str, points: int) -> str:
    """An autograder cell: the kit's check on the answer, the score as the last output."""
    plural = "s" if points != 1 else ""
    return (
        f"# Autograded, {points} point{plural}: the lesson's own self-check runs on your "
        "answer;\n# the number below is your score for this exercise.\n"
        "import warnings\n\n"
        "import mmkit.exercises\n\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter(\"ignore\")  # a warning is not a wrong answer\n"
        f"    feedback = mmkit.exercises.{function}({arguments})\n"
        "print(feedback)\n"
        f"{points} if feedback else 0"
    )


def source_notebook(lesson: Lesson):
    """The instructor's version of a lesson for nbgrader (solutions in, cells marked)."""
    import mmkit.exercises

    notebook = nbformat.from_dict(lesson.notebook)
    stem = lesson.path.stem
    learners = {e.learner: e for e in lesson.exercises}
    cells = [_nbgrader(nbformat.v4.new_markdown_cell(HEADER.format(number=stem[:2])),
                       "header", locked=True)]
    for index, cell in enumerate(notebook.cells):
        cell = nbformat.from_dict(dict(cell))
        cell.metadata = nbformat.from_dict(dict(cell.get("metadata", {})))
        cell.source = cell_source(cell)
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("jupyter", None)  # e.g. source_hidden: nothing is hidden here
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if index in lesson.solution_cells:
            continue
        if index not in learners:
            cells.append(_nbgrader(cell, f"cell-{index}", locked=True))
            continue
        exercise = learners[index]
        number = len([e for e in lesson.exercises if e.learner <= index])
        name = exercise.answers[0].name
        solution = cell_source(lesson.notebook["cells"][exercise.solution])
        cell.source = answer_source(cell_source(cell), solution, exercise)
        cells.append(_nbgrader(cell, f"exercise-{number}-{name}", solution=True))
        for k, check in enumerate(exercise.checks, 1):
            if not hasattr(mmkit.exercises, check.function):
                raise ExerciseError(f"{lesson.path.name}, cell {index}: {check.function} is "
                                    "not in mmkit.exercises")
            suffix = f"-{k}" if len(exercise.checks) > 1 else ""
            test = nbformat.v4.new_code_cell(
                test_source(check.function, check.arguments, exercise.points))
            cells.append(_nbgrader(test, f"exercise-{number}-{name}-test{suffix}", grade=True,
                                   locked=True, points=exercise.points))
    notebook.cells = cells
    notebook.metadata.pop("widgets", None)
    return notebook


def nbgrader(course: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one of nbgrader's own commands in the course folder; fail with its output."""
    env = dict(os.environ if env is None else env)
    # nbgrader runs `alembic` (its database migrations) from PATH: this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n"
                           f"{result.stderr}")
    return result


def write_course(course: Path | str, notebooks: Path | str = ROOT / "notebooks",
                 only: list[str] | None = None, env: dict | None = None) -> list[Lesson]:
    """Write the course folder and generate every assignment; the lessons with exercises."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFIG, course / "nbgrader_config.py")
    every = lessons(notebooks)
    unknown = set(only or []) - {lesson.path.stem for lesson in every}
    if unknown:
        raise ValueError(f"only: no lesson named {sorted(unknown)} in {notebooks}")
    graded = [lesson for lesson in every if lesson.exercises
              and (not only or lesson.path.stem in only)]
    if not graded:
        return graded
    names = [lesson.path.stem for lesson in graded]
    for lesson, stem in zip(graded, names, strict=True):
        folder = course / "source" / stem
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(lesson), folder / f"{stem}.ipynb")
    in_source = {p.name for p in (course / "source").iterdir() if p.is_dir()}
    if in_source == set(names):  # one nbgrader run for them all (it takes a glob)
        nbgrader(course, "generate_assignment", "*", "--force", env=env)
    else:  # the course folder holds other assignments too: leave those alone
        for stem in names:
            nbgrader(course, "generate_assignment", stem, "--force", env=env)
    return graded


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("course", type=Path, help="the course folder to write")
    parser.add_argument("lessons", nargs="*", help="only these lessons (e.g. 01_math_foundations)")
    args = parser.parse_args(argv)
    for lesson in lessons(ROOT / "notebooks"):
        for warning in lesson.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    graded = write_course(args.course, only=args.lessons)
    for lesson in graded:
        stem = lesson.path.stem
        checks = sum(len(e.checks) for e in lesson.exercises)
        points = sum(len(e.checks) * e.points for e in lesson.exercises)
        print(f"{stem}: {_count(len(lesson.exercises), 'exercise')}, "
              f"{_count(checks, 'autograded test')}, {_count(points, 'point')} "
              f"({lesson.tags}) -> release/{stem}/{stem}.ipynb")
    print(f"{len(graded)} assignments in {args.course}/source and {args.course}/release")
    return 0


if __name__ == "__main__":
    sys.exit(main())
