"""nbgrader assignments from the lessons (`make assignments`, classroom/assignments.py).

The first tests check the exercise convention on small made-up lessons (fast). The tests
marked `classroom` run nbgrader's real pipeline offline in a temporary course folder:
`generate_assignment` for every lesson with exercises, then `autograde` and `export` on the
lightest one with three submissions (the reference solutions, the untouched student copy,
and one wrong answer).
"""

import ast
import copy
import csv
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbgrader.preprocessors import ClearSolutions
from traitlets.config import Config

from classroom import memory
from classroom.assignments import BEGIN, END, nbgrader, source_notebook, write_course
from classroom.exercises import ExerciseError, cell_source, lessons, read_lesson

ROOT = Path(__file__).resolve().parents[1]
GRADED = [lesson for lesson in lessons(ROOT / "notebooks") if lesson.exercises]


# --- the convention, on made-up lessons -------------------------------------------------

def _lesson(*cells, name="99_made_up.ipynb"):
    """A notebook from cells: a str is a code cell; (source, tags) a tagged code cell;
    ("md", text) a Markdown cell."""
    notebook = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, tuple) and cell[0] == "md":
            notebook.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
            continue
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        new = nbformat.v4.new_code_cell(source)
        new.metadata["tags"] = list(tags)
        notebook.cells.append(new)
    return read_lesson(Path(name), json.loads(nbformat.writes(notebook)))


IMPORTS = "import torch\nimport mmkit.exercises"
STEP_EXERCISE = (
    "def my_step(theta, grad, lr):\n"
    "    raise NotImplementedError  # your code here\n\n\n"
    "print(mmkit.exercises.check_gradient_step(my_step))"
)
STEP_SOLUTION = (
    "def my_step_solution(theta, grad, lr):\n"
    "    # against the gradient, one step of size lr\n"
    "    return theta - lr * grad\n\n\n"
    "print(mmkit.exercises.check_gradient_step(my_step_solution))"
)


def _released(notebook):
    """What nbgrader's generate_assignment does to solutions, with the course's stub."""
    config = Config()
    config.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
    released, _ = ClearSolutions(config=config).preprocess(copy.deepcopy(notebook), {})
    return released


def _score(notebook) -> tuple[int, str]:
    """Run every code cell in one namespace; the last test cell's value and its print."""
    namespace, printed = {}, []
    namespace["print"] = lambda *args: printed.append(" ".join(map(str, args)))
    value = None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
    return value, printed[-1]


def _cells(notebook, kind):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get(kind)]


def test_an_untagged_exercise_with_a_solution_named_apart_is_inferred():
    lesson = _lesson(IMPORTS, ("md", "**Exercise.**"), STEP_EXERCISE, STEP_SOLUTION)
    assert "inferred" in lesson.tags
    [exercise] = lesson.exercises
    assert (exercise.learner, exercise.solution) == (2, 3)
    assert [(a.name, a.solution, a.is_function) for a in exercise.answers] == \
        [("my_step", "my_step_solution", True)]

    source = source_notebook(lesson)
    [answer] = _cells(source, "solution")
    assert answer.source == (
        "def my_step(theta, grad, lr):\n"
        f"    {BEGIN}\n"
        "    # against the gradient, one step of size lr\n"
        "    return theta - lr * grad\n"
        f"    {END}\n"
        "    raise NotImplementedError  # your code here"
    )
    assert "my_step_solution" not in nbformat.writes(source)
    # the header, the imports, the Markdown, the answer and its test; no solution cell
    assert len(source.cells) == 5
    assert _score(source)[0] == 1

    released = _released(source)
    [answer] = _cells(released, "solution")
    assert "theta - lr * grad" not in answer.source
    assert "raise NotImplementedError" in answer.source
    score, printed = _score(released)
    assert score == 0 and "not implemented yet" in printed


def test_a_value_exercise_gets_its_solution_as_an_assignment():
    lesson = _lesson(
        IMPORTS,
        "my_lr = 0.01  # change me\nprint(mmkit.exercises.check_learning_rate(my_lr))",
        ("# the best single rate\nprint(mmkit.exercises.check_learning_rate(0.4))",
         ["solution"]),
    )
    assert lesson.tags == "tags: solution; exercise cells inferred from the check calls"
    source = source_notebook(lesson)
    [answer] = _cells(source, "solution")
    assert answer.source == (
        f"my_lr = 0.01  # change me\n\n{BEGIN}\n# the best single rate\nmy_lr = 0.4\n{END}")
    assert _score(source)[0] == 1
    score, printed = _score(_released(source))
    assert score == 0 and "too small" in printed


def test_points_tag_sets_each_checks_points():
    lesson = _lesson(IMPORTS, (STEP_EXERCISE, ["exercise", "points-3"]),
                     (STEP_SOLUTION, ["solution"]))
    [test] = _cells(source_notebook(lesson), "grade")
    assert test.metadata["nbgrader"]["points"] == 3
    assert test.source.endswith("3 if feedback else 0")


def test_a_docstring_stays_above_the_solution():
    exercise = STEP_EXERCISE.replace("lr):\n", 'lr):\n    """One step."""\n')
    lesson = _lesson(IMPORTS, exercise, STEP_SOLUTION)
    [answer] = _cells(source_notebook(lesson), "solution")
    assert answer.source.split("\n")[1:3] == ['    """One step."""', f"    {BEGIN}"]


def test_teaching_cells_are_read_only_and_answers_editable():
    lesson = _lesson(IMPORTS, ("md", "text"), STEP_EXERCISE, STEP_SOLUTION, "x = 1")
    for cell in source_notebook(lesson).cells:
        grading = cell.metadata["nbgrader"]
        assert grading["locked"] is not grading["solution"]


def test_a_tagged_exercise_without_its_solution_is_refused():
    with pytest.raises(ExerciseError, match=r"cell 1 is an exercise without a solution"):
        _lesson(IMPORTS, (STEP_EXERCISE, ["exercise"]), "x = 1")


def test_a_check_call_outside_the_tagged_pairs_is_refused():
    with pytest.raises(ExerciseError, match=r"cell 3 calls check_gradient_step but is neither"):
        _lesson(IMPORTS, (STEP_EXERCISE, ["exercise"]), (STEP_SOLUTION, ["solution"]),
                STEP_EXERCISE)


def test_a_solution_must_call_the_same_check():
    other = STEP_SOLUTION.replace("check_gradient_step", "check_softmax")
    with pytest.raises(ExerciseError, match=r"calls \['check_gradient_step'\] but its solution"):
        _lesson(IMPORTS, (STEP_EXERCISE, ["exercise"]), (other, ["solution"]))


def test_a_later_cell_that_needs_the_solution_is_refused():
    with pytest.raises(ExerciseError, match=r"cell 3 uses my_step_solution"):
        _lesson(IMPORTS, STEP_EXERCISE, STEP_SOLUTION, "my_step_solution(1.0, 1.0, 0.1)")


def test_a_check_the_kit_does_not_have_is_refused():
    lesson = _lesson(IMPORTS, STEP_EXERCISE.replace("check_gradient_step", "check_nothing"),
                     STEP_SOLUTION.replace("check_gradient_step", "check_nothing"))
    with pytest.raises(ExerciseError, match=r"check_nothing is not in mmkit.exercises"):
        source_notebook(lesson)


def test_a_lone_check_call_without_tags_is_reported_not_graded():
    lesson = _lesson(IMPORTS, STEP_EXERCISE, "x = 1")
    assert lesson.exercises == []
    assert lesson.warnings == ["99_made_up.ipynb, cell 1 calls check_gradient_step with no "
                               "solution cell after it: not graded"]


def test_tagging_writes_the_inferred_tags_and_changes_nothing_else(tmp_path):
    from classroom.tag_exercises import tag

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(IMPORTS),
        nbformat.v4.new_code_cell(STEP_EXERCISE, outputs=[
            nbformat.v4.new_output("stream", text="❌ gradient step: not implemented yet\n")]),
        nbformat.v4.new_code_cell(STEP_SOLUTION),
    ])
    path = tmp_path / "99_made_up.ipynb"
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    before = path.read_bytes()
    assert tag(path) == ["99_made_up.ipynb, cell 1: + exercise",
                         "99_made_up.ipynb, cell 2: + solution",
                         "99_made_up.ipynb, cell 2: code hidden"]
    assert path.read_bytes() == before  # not without write=True
    tag(path, write=True)
    assert read_lesson(path).tags == "tags: exercise and solution"
    tagged = nbformat.read(path, as_version=4)
    assert tagged.cells[2].metadata["jupyter"]["source_hidden"] is True
    assert tagged.cells[1].outputs == notebook.cells[1].outputs
    assert [c.source for c in tagged.cells] == [c.source for c in notebook.cells]
    assert tag(path, write=True) == []  # a second run has nothing to add


def test_every_lesson_follows_the_convention():
    assert GRADED, "no lesson has exercises"
    for lesson in GRADED:
        assert not lesson.warnings, lesson.warnings
        assert all(e.checks and e.answers for e in lesson.exercises)


# --- nbgrader's real pipeline --------------------------------------------------------------

def _env() -> dict:
    # The kernels nbgrader starts must import this checkout's mmkit.
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    write_course(course, ROOT / "notebooks", env=_env())
    return course


def _read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.mark.classroom
def test_every_lesson_with_exercises_is_released(course):
    released = sorted(p.name for p in (course / "release").iterdir())
    assert released == [lesson.path.stem for lesson in GRADED]


@pytest.mark.classroom
@pytest.mark.parametrize("lesson", GRADED, ids=lambda lesson: lesson.path.stem)
def test_the_release_has_answers_to_write_and_no_solutions(course, lesson):
    stem = lesson.path.stem
    release = _read(course / "release" / stem / f"{stem}.ipynb")
    source = _read(course / "source" / stem / f"{stem}.ipynb")
    answers, tests = _cells(release, "solution"), _cells(release, "grade")
    assert len(answers) == len(lesson.exercises)
    assert len(tests) == sum(len(e.checks) for e in lesson.exercises)
    # every cell but the answers is locked, and JupyterLab will not let it be edited
    for cell in release.cells:
        grading = cell.metadata["nbgrader"]
        if grading["solution"]:
            assert not grading["locked"]
        else:
            assert grading["locked"] and cell.metadata["editable"] is False
    # no solution code is left in the student's answers, only the learner's stubs
    text = nbformat.writes(release)
    assert BEGIN not in text and END not in text
    for exercise, answer in zip(lesson.exercises, answers, strict=True):
        solution = cell_source(lesson.notebook["cells"][exercise.solution]).split("\n")
        learner = cell_source(lesson.notebook["cells"][exercise.learner])
        own = [line.strip() for line in solution
               if line.strip() and line.strip() not in learner and "check_" not in line
               and not line.lstrip().startswith("def ")]
        assert own, "the solution adds nothing to the exercise"
        for line in own:
            assert line not in answer.source, f"{stem}: the release shows {line!r}"
    # each test is worth its exercise's points and calls the kit's own check
    expected = [e.points for e in lesson.exercises for _ in e.checks]
    assert [t.metadata["nbgrader"]["points"] for t in tests] == expected
    checks = [c.function for e in lesson.exercises for c in e.checks]
    for test, check in zip(tests, checks, strict=True):
        assert f"mmkit.exercises.{check}(" in test.source
    # the instructor's version still holds every solution, between nbgrader's markers
    assert sum(c.source.count(BEGIN) for c in _cells(source, "solution")) >= len(answers)


def _lightest() -> str:
    """The lesson with exercises that ran fastest in the last benchmark."""
    seconds = {stem: wall for stem, (wall, _) in memory.measured().items()}
    return min(GRADED, key=lambda lesson: (seconds.get(lesson.path.stem, float("inf")),
                                           lesson.path.stat().st_size)).path.stem


def _submit(course: Path, student: str, stem: str, notebook) -> None:
    folder = course / "submitted" / student / stem
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{stem}.ipynb")


@pytest.mark.classroom
def test_autograding_gives_full_marks_zero_and_loses_exactly_one_answers_points(course):
    stem = _lightest()
    release = _read(course / "release" / stem / f"{stem}.ipynb")
    source = _read(course / "source" / stem / f"{stem}.ipynb")
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in _cells(source, "solution")}

    answered = copy.deepcopy(release)  # the reference solutions typed into the release
    for cell in _cells(answered, "solution"):
        lines = solutions[cell.metadata["nbgrader"]["grade_id"]].split("\n")
        cell.source = "\n".join(line for line in lines if BEGIN not in line and END not in line)

    one_wrong = copy.deepcopy(answered)  # the first function answered with its input
    wrong = next(c for c in _cells(one_wrong, "solution")
                 if isinstance(ast.parse(c.source).body[0], ast.FunctionDef))
    function = ast.parse(wrong.source).body[0]
    wrong.source = (f"def {function.name}({ast.unparse(function.args)}):\n"
                    f"    return {function.args.args[0].arg}")
    wrong_id = wrong.metadata["nbgrader"]["grade_id"]

    _submit(course, "solutions", stem, answered)
    _submit(course, "blank", stem, release)
    _submit(course, "one-wrong", stem, one_wrong)
    nbgrader(course, "autograde", stem, env=_env())
    nbgrader(course, "export", "--to", "grades.csv", env=_env())

    with open(course / "grades.csv", newline="") as file:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                  for row in csv.DictReader(file) if row["assignment"] == stem}
    max_score = sum(c.metadata["nbgrader"]["points"] for c in _cells(release, "grade"))
    wrong_points = next(c.metadata["nbgrader"]["points"] for c in _cells(release, "grade")
                        if c.metadata["nbgrader"]["grade_id"].startswith(wrong_id + "-test"))
    assert scores["solutions"] == (max_score, max_score)
    assert scores["blank"] == (0, max_score)
    assert scores["one-wrong"] == (max_score - wrong_points, max_score)

    # The untouched student copy ran top to bottom: no cell raised, every test scored 0.
    blank = _read(course / "autograded" / "blank" / stem / f"{stem}.ipynb")
    errors = [o for c in blank.cells for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors == []
    for test in _cells(blank, "grade"):
        assert test.outputs[-1]["data"]["text/plain"] == "0"
        assert test.outputs[0]["text"].startswith("❌")  # the check says what is missing
