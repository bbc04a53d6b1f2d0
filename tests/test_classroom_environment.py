"""environment.yml, which Binder and JupyterHub images are built from, checked offline; the
VS Code exclusion; the README's memory table.

No conda-forge channel can be reached from the machines the kit is tested on (only PyPI), so
no conda solver can dry-run environment.yml here. What can be checked offline is checked:
every name it gives is spelled as conda-forge spells it (classroom/conda_forge_names.tsv,
each line checked against conda-forge's feedstock for it), it names exactly the packages of
pyproject.toml, and everything `make test` imports comes from a package it lists (or one
those depend on), so an image built from it runs `make test` with nothing added.
"""

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from classroom import memory

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
LOCAL_MODULES = {"mmkit", "classroom", "bench", "tests", "conftest", "sitecustomize"}


def _spec(requirement: str) -> tuple[str, str]:
    """("ipywidgets", ">=8,!=8.1.9") from a requirement or a conda match spec."""
    requirement = requirement.split("#")[0].strip()
    name = re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]
    return name.lower(), requirement[len(name):].strip()


def _conda_names() -> list[str]:
    return [_spec(d)[0] for d in ENVIRONMENT["dependencies"] if isinstance(d, str)]


def _pip_names() -> list[str]:
    pip = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    return [_spec(r)[0] for r in pip if not r.startswith("-e")]


def _vendored() -> list[tuple[str, str, str]]:
    lines = (ROOT / "classroom" / "conda_forge_names.tsv").read_text(encoding="utf-8")
    return [tuple(line.split("\t")) for line in lines.splitlines()
            if line and not line.startswith("#")]


def test_every_conda_name_is_spelled_as_conda_forge_spells_it():
    conda_forge = {conda for conda, _, _ in _vendored() if conda != "-"}
    unknown = [name for name in _conda_names() if name not in conda_forge]
    assert unknown == [], (
        f"{unknown} not in classroom/conda_forge_names.tsv: look up each one's conda-forge "
        "feedstock and add its conda-forge name there")
    pip_only = {pypi for conda, pypi, why in _vendored() if why.startswith("pip:")}
    assert set(_pip_names()) == pip_only, "each pip-only package says why it is not conda's"


def test_environment_yml_installs_exactly_what_pyproject_asks_for():
    to_pypi = {conda: pypi for conda, pypi, _ in _vendored() if conda != "-"}
    installed = {to_pypi[name] for name in _conda_names()} | set(_pip_names())
    wanted = {_spec(r)[0] for r in PYPROJECT["dependencies"]
              + PYPROJECT["optional-dependencies"]["dev"]}
    assert {canonicalize_name(n) for n in installed - {"python", "pip"}} == \
        {canonicalize_name(n) for n in wanted}


def _imports(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Top-level modules a file imports, and those it imports only under
    `try: ... except ImportError` (optional)."""
    found, optional = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError",
                                                              "ModuleNotFoundError")
                for h in node.handlers):
            optional |= _imports(ast.Module(body=node.body, type_ignores=[]))[0]
    return found, optional


def _what_make_test_imports() -> dict[str, str]:
    """{module: the first file that imports it} over the package, the tests, the benchmark,
    the classroom tooling and the notebooks' code."""
    from IPython.core.inputtransformer2 import TransformerManager

    sources = {}
    for folder in ("mmkit", "tests", "bench", "classroom"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            sources[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        import json

        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [TransformerManager().transform_cell("".join(c["source"]))
                for c in cells if c["cell_type"] == "code"]
        sources[str(path.relative_to(ROOT))] = "\n".join(code)
    needed = {}
    for where, source in sources.items():
        found, optional = _imports(ast.parse(source))
        # and what it runs as `python -m module` (sphinx, nbgrader) or loads as a Sphinx
        # extension or theme (the book's conf.py)
        found |= set(re.findall(r'"-m",\s*"(\w+)"', source))
        if where.endswith("book_conf.py"):
            conf = {}
            exec(source, conf)
            found |= set(conf["extensions"])
            found.add(conf["html_theme"])
        for module in sorted(found - optional):
            needed.setdefault(module, where)
    local = LOCAL_MODULES | {p.stem for folder in ("mmkit", "tests", "bench", "classroom")
                             for p in (ROOT / folder).rglob("*.py")}
    return {m: w for m, w in needed.items()
            if m not in sys.stdlib_module_names and m not in local and not m.startswith("_")}


def _closure(names: set[str]) -> set[str]:
    """The distributions these install: themselves and what they require, recursively
    (as installed here; extras not followed)."""
    seen, todo = set(), [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requirements:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def test_make_test_needs_nothing_environment_yml_lacks():
    to_pypi = {conda: pypi for conda, pypi, _ in _vendored() if conda != "-"}
    provided = _closure({to_pypi[n] for n in _conda_names()} | set(_pip_names()))
    distributions = metadata.packages_distributions()
    missing, imported = [], _what_make_test_imports()
    assert {"torch", "nbgrader", "sphinx", "myst_nb", "furo", "playwright"} <= set(imported)
    for module, where in imported.items():
        owners = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not owners & provided:
            missing.append(f"{module} (imported in {where}; installed by "
                           f"{sorted(owners) or 'nothing here'})")
    assert missing == [], "environment.yml lacks what provides: " + "; ".join(missing)


def test_the_requirements_exclude_the_ipywidgets_that_breaks_vs_code():
    # microsoft/vscode-jupyter#17504: ipywidgets 8.1.9 renders nothing in VS Code; 8.1.8 works.
    from_pyproject = next(r for r in PYPROJECT["dependencies"] if _spec(r)[0] == "ipywidgets")
    from_environment = next(d for d in ENVIRONMENT["dependencies"]
                            if isinstance(d, str) and _spec(d)[0] == "ipywidgets")
    for spec in (_spec(from_pyproject)[1], _spec(from_environment)[1]):
        allowed = SpecifierSet(spec)
        assert "8.1.9" not in allowed and "8.1.8" in allowed, spec
    assert metadata.version("ipywidgets") in SpecifierSet(_spec(from_pyproject)[1])


def test_the_readme_memory_table_is_the_benchmarks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert memory.table() in readme, (
        "README's memory table differs from bench/RESULTS.md: paste the output of "
        "`python -m classroom.memory` into README.md, section 'For teachers'")


def test_every_lesson_ends_by_asking_to_shut_down_its_kernel():
    """A kernel keeps its memory until it is shut down: in a 1-2 GB pod, two open lessons may
    not fit. The last words a learner reads in each lesson ask them to shut it down."""
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        last_markdown = max(i for i, cell in enumerate(cells) if cell.cell_type == "markdown")
        cell = cells[last_markdown]
        assert cell.get("id") == "shut-down-kernel" and "Shut Down Kernel" in cell.source, (
            f"{path.name}: the last markdown cell should ask to shut down the kernel "
            "(id 'shut-down-kernel')")
        assert all(c.cell_type == "code" for c in cells[last_markdown + 1:]), path.name
