"""Which cells of a lesson are exercises: the convention `make assignments` and `make book` read.

An exercise is two code cells, the learner's cell and, below it, its solution:

    def my_softmax(x, dim=-1):                          # learner's cell, tag `exercise`
        raise NotImplementedError  # your code here

    print(mmkit.exercises.check_softmax(my_softmax))

    def softmax_solution(x, dim=-1):                    # solution cell, tag `solution`
        e = torch.exp(x - x.amax(dim=dim, keepdim=True))
        return e / e.sum(dim=dim, keepdim=True)

    print(mmkit.exercises.check_softmax(softmax_solution))

- The learner's cell defines the answer (a function whose body raises NotImplementedError,
  or a value such as `my_lr = 0.01  # change me`) and calls a `check_*` self-check from
  `mmkit.exercises` on it. The solution cell calls the same check on its own answer: a
  function under the learner's name or its own (`softmax_solution`, so that "Run all" never
  overwrites the learner's answer), or a value (`check_learning_rate(0.4)`).
- Tags (JupyterLab: the property inspector, "Common Tools"): `exercise` on the learner's
  cell, `solution` on the solution cell, and optionally `points-N` on the learner's cell
  (each check is worth 1 point unless it says otherwise).
- A lesson without tags has them inferred: a code cell that calls a check is a learner's
  cell when the next code cell that calls a check calls the same one; that next cell is its
  solution. `Lesson.tags` says what was tagged and what inferred.

A lesson that breaks the convention raises ExerciseError naming the notebook and the cell.
"""

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
POINTS_TAG = re.compile(r"^points-(\d+)$")


class ExerciseError(ValueError):
    """A lesson's exercise cells do not follow the convention (the message says where)."""


@dataclass
class Check:
    """One call of a self-check in the learner's cell, e.g. check_softmax(my_softmax)."""

    function: str  # "check_softmax"
    arguments: str  # the learner's arguments as written: "my_softmax"
    lines: tuple[int, int]  # the statement holding the call, 1-based lines of the cell


@dataclass
class Answer:
    """A name the learner must define, and what the solution gives for it."""

    name: str  # the learner's name: "my_softmax", "my_lr"
    solution: str  # the solution's expression for it: "softmax_solution", "0.4"
    is_function: bool  # both cells define it with `def`


@dataclass
class Exercise:
    learner: int  # index of the learner's cell in the notebook
    solution: int  # index of the solution cell
    checks: list[Check]
    answers: list[Answer]
    points: int  # per check


@dataclass
class Lesson:
    path: Path
    notebook: dict  # the notebook as JSON
    exercises: list[Exercise]
    tags: str  # what was tagged and what inferred, in words
    warnings: list[str] = field(default_factory=list)

    @property
    def solution_cells(self) -> set[int]:
        return {e.solution for e in self.exercises}


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def cell_tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def check_calls(tree: ast.Module) -> list[tuple[ast.stmt, ast.Call]]:
    """Top-level statements that call a check_* function, with the (first) call."""
    found = []
    for statement in tree.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name.startswith("check_"):
                    found.append((statement, node))
                    break
    return found


def _function_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        raise ExerciseError(f"{where}: cannot parse it as Python ({error.msg}, line "
                            f"{error.lineno})") from None


def _python_of(source: str) -> str:
    """IPython magics (%time, !pip) as plain Python, so that any cell can be parsed."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def top_level_names(tree: ast.Module) -> dict[str, ast.stmt]:
    """Names a cell defines at its top level (def, class, assignment, import)."""
    names = {}
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[statement.name] = statement
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        names[node.id] = statement
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                names[(alias.asname or alias.name).split(".")[0]] = statement
    return names


def _arguments(call: ast.Call) -> list[tuple[str | None, ast.expr]]:
    return [(None, arg) for arg in call.args] + [(kw.arg, kw.value) for kw in call.keywords]


def _points(cell: dict, where: str) -> int:
    points = [int(m.group(1)) for t in cell_tags(cell) if (m := POINTS_TAG.match(t))]
    if len(points) > 1:
        raise ExerciseError(f"{where}: more than one points-N tag")
    if points and points[0] < 1:
        raise ExerciseError(f"{where}: points-{points[0]} must be at least points-1")
    return points[0] if points else 1


def _pair(learner: int, solution: int, cells: list[dict], name: str) -> Exercise:
    learner_src, solution_src = cell_source(cells[learner]), cell_source(cells[solution])
    learner_tree = _parse(learner_src, f"{name}, cell {learner} (an exercise)")
    solution_tree = _parse(solution_src, f"{name}, cell {solution} (a solution)")
    learner_calls, solution_calls = check_calls(learner_tree), check_calls(solution_tree)
    where = f"{name}, cells {learner} and {solution}"
    if not learner_calls:
        raise ExerciseError(f"{name}, cell {learner} is tagged {EXERCISE_TAG!r} but calls no "
                            "mmkit.exercises.check_* self-check")
    if [_function_name(c) for _, c in learner_calls] != \
            [_function_name(c) for _, c in solution_calls]:
        raise ExerciseError(
            f"{where}: the exercise calls {[_function_name(c) for _, c in learner_calls]} but "
            f"its solution calls {[_function_name(c) for _, c in solution_calls]}; a solution "
            "must call the same checks, in the same order")

    learner_names = top_level_names(learner_tree)
    solution_names = top_level_names(solution_tree)
    checks, answers = [], []
    for (statement, call), (_, solution_call) in zip(learner_calls, solution_calls, strict=True):
        if len(_arguments(call)) != len(_arguments(solution_call)):
            raise ExerciseError(f"{where}: {_function_name(call)} gets "
                                f"{len(_arguments(call))} arguments in the exercise but "
                                f"{len(_arguments(solution_call))} in the solution")
        arguments = []
        for (keyword, arg), (_, solution_arg) in zip(
                _arguments(call), _arguments(solution_call), strict=True):
            text = ast.get_source_segment(learner_src, arg)
            arguments.append(f"{keyword}={text}" if keyword else text)
            if isinstance(arg, ast.Name) and arg.id in learner_names \
                    and arg.id not in {a.name for a in answers}:
                solution_text = ast.get_source_segment(solution_src, solution_arg)
                is_function = (
                    isinstance(learner_names[arg.id], ast.FunctionDef)
                    and isinstance(solution_arg, ast.Name)
                    and isinstance(solution_names.get(solution_arg.id), ast.FunctionDef))
                answers.append(Answer(arg.id, solution_text, is_function))
        checks.append(Check(_function_name(call), ", ".join(arguments),
                            (statement.lineno, statement.end_lineno)))
    if not answers:
        raise ExerciseError(f"{where}: the check's arguments name nothing the exercise cell "
                            "defines (expected e.g. `def my_x(...)` and check_x(my_x))")
    return Exercise(learner, solution, checks, answers, _points(cells[learner], where))


def read_lesson(path: Path | str, notebook: dict | None = None) -> Lesson:
    """The exercises of one lesson notebook, found by their tags or inferred."""
    path = Path(path)
    name = path.name
    if notebook is None:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    calling = {}  # cell index -> the check functions it calls
    for i in code:
        try:
            tree = ast.parse(_python_of(cell_source(cells[i])))
        except SyntaxError:
            continue  # not Python: no exercise here (tagged ones fail in _pair)
        if found := check_calls(tree):
            calling[i] = [_function_name(call) for _, call in found]

    tagged_learners = [i for i in code if EXERCISE_TAG in cell_tags(cells[i])]
    tagged_solutions = [i for i in code if SOLUTION_TAG in cell_tags(cells[i])]
    warnings = []
    pairs = []
    if tagged_learners or tagged_solutions:
        learners = list(tagged_learners)
        if not tagged_learners:  # infer each solution's exercise: the check cell before it
            for s in tagged_solutions:
                before = [i for i in calling if i < s and i not in tagged_solutions]
                if not before:
                    raise ExerciseError(f"{name}, cell {s} is tagged {SOLUTION_TAG!r} but no "
                                        "cell before it calls a check")
                learners.append(before[-1])
        for n, learner in enumerate(learners):
            after = [s for s in tagged_solutions if s > learner]
            limit = learners[n + 1] if n + 1 < len(learners) else len(cells)
            if tagged_solutions:
                solution = after[0] if after and after[0] < limit else None
            else:  # infer each exercise's solution: the next cell calling a check
                later = [i for i in calling if learner < i < limit]
                solution = later[0] if later else None
            if solution is None:
                raise ExerciseError(f"{name}, cell {learner} is an exercise without a solution "
                                    f"cell after it (tag it {SOLUTION_TAG!r})")
            pairs.append((learner, solution))
        paired = {i for pair in pairs for i in pair}
        for i in calling:
            if i not in paired:
                raise ExerciseError(
                    f"{name}, cell {i} calls {', '.join(calling[i])} but is neither an exercise "
                    f"nor a solution: tag it {EXERCISE_TAG!r} and tag its solution "
                    f"{SOLUTION_TAG!r}")
        tagged = [t for t, found in ((EXERCISE_TAG, tagged_learners),
                                     (SOLUTION_TAG, tagged_solutions)) if found]
        inferred = [t for t in (EXERCISE_TAG, SOLUTION_TAG) if t not in tagged]
        tags = f"tags: {' and '.join(tagged)}" + (
            f"; {inferred[0]} cells inferred from the check calls" if inferred else "")
    else:
        ordered = list(calling)
        i = 0
        while i < len(ordered):
            here = ordered[i]
            nxt = ordered[i + 1] if i + 1 < len(ordered) else None
            if nxt is not None and calling[nxt] == calling[here]:
                pairs.append((here, nxt))
                i += 2
            else:
                warnings.append(f"{name}, cell {here} calls {', '.join(calling[here])} with no "
                                "solution cell after it: not graded")
                i += 1
        tags = "no tags: exercise and solution cells inferred from the check calls" if pairs \
            else "no exercises"
    exercises = [_pair(learner, solution, cells, name) for learner, solution in pairs]
    lesson = Lesson(path, notebook, exercises, tags, warnings)
    _check_nothing_uses_solutions(lesson)
    return lesson


def _check_nothing_uses_solutions(lesson: Lesson) -> None:
    """The assignments drop the solution cells: no other cell may need what only they
    define (it would fail with a NameError in the student's copy)."""
    cells = lesson.notebook["cells"]
    only_in_solutions = {}
    for exercise in lesson.exercises:
        solution_defines = top_level_names(ast.parse(cell_source(cells[exercise.solution])))
        learner_defines = top_level_names(ast.parse(cell_source(cells[exercise.learner])))
        for defined in set(solution_defines) - set(learner_defines):
            only_in_solutions[defined] = exercise.solution
    trees = {}
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or i in lesson.solution_cells:
            continue
        try:
            trees[i] = ast.parse(_python_of(cell_source(cell)))
        except SyntaxError:
            continue
    for tree in trees.values():  # a name the other cells define themselves is theirs too
        for defined in top_level_names(tree):
            only_in_solutions.pop(defined, None)
    for i, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                    and node.id in only_in_solutions:
                raise ExerciseError(
                    f"{lesson.path.name}, cell {i} uses {node.id}, which only the solution "
                    f"cell {only_in_solutions[node.id]} defines: a student's copy has no "
                    "solutions, so that cell would fail there")


def lessons(notebooks_dir: Path | str) -> list[Lesson]:
    """Every lesson notebook (NN_*.ipynb) in teaching order."""
    return [read_lesson(p) for p in sorted(Path(notebooks_dir).glob("[0-9]*.ipynb"))]
