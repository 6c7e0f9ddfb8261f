"""The package's layering, read from the source with `ast` (module-level AND function-level imports).

Imports point only down: base (errors, values, internals) < config < {search, training, results}
(these three never import each other) < inspection < execution < cli and `autolearn/__init__`.
A package may import itself. No production module imports `autolearn.testing` (test-only hooks).
The CLI is the only place that prints or parses arguments.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "autolearn"

# Layer of each part of the package (the first name under `autolearn`); equal ranks may not mix
# unless it is the same part.
LAYERS: dict[str, int] = {
    "errors": 0, "values": 0, "internals": 0,
    "config": 1,
    "search": 2, "training": 2, "results": 2,
    "inspection": 3,
    "execution": 4,
    "cli": 5, "__init__": 5,
}
BASE = {"errors", "values", "internals"}  # one layer of single modules: they may import each other
TEST_ONLY = "testing"  # may import anything; nothing in production may import it
PRINTS_AND_PARSES = {"cli.py"}  # relative to PACKAGE


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(file: Path, root: Path = PACKAGE) -> str:
    parts = file.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    """`autolearn.search.strategies.tpe` → `search`; `autolearn` → `__init__`."""
    names = module.split(".")
    return names[1] if len(names) > 1 else "__init__"


def _imports(file: Path, root: Path = PACKAGE) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every import of autolearn anywhere in the file."""
    tree = ast.parse(file.read_text(), str(file))
    name = _name(file, root)
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "autolearn")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "autolearn":
                continue
            if module == "autolearn":  # `from autolearn import config` names a part, not the root
                for alias in node.names:
                    yield node.lineno, f"autolearn.{alias.name}" if alias.name in LAYERS else "autolearn"
            else:
                yield node.lineno, module


def _where(file: Path, line: int) -> str:
    return f"{file.relative_to(PACKAGE.parent)}:{line}"


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(_name(f)) for f in _modules()} - {TEST_ONLY}
    assert parts <= set(LAYERS), f"no layer for {sorted(parts - set(LAYERS))}: add it to LAYERS"


def test_imports_point_only_down():
    bad = []
    for file in _modules():
        source = _part(_name(file))
        if source == TEST_ONLY:
            continue
        for line, target_module in _imports(file):
            target = _part(target_module)
            if target == TEST_ONLY:
                bad.append(f"{_where(file, line)}: imports {target_module} (test-only; never from production)")
            elif target == source or (source in BASE and target in BASE):
                continue
            elif LAYERS[target] >= LAYERS[source]:
                how = "sideways" if LAYERS[target] == LAYERS[source] else "up"
                bad.append(f"{_where(file, line)}: {_name(file)} imports {target_module} "
                           f"({how}: {source} is layer {LAYERS[source]}, {target} layer {LAYERS[target]})")
    assert not bad, "imports that break the layering:\n" + "\n".join(bad)


def _prints_or_parses(file: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(file.read_text(), str(file))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "print":
                yield node.lineno, "print(...)"
            elif isinstance(func, ast.Attribute) and func.attr in ("write", "writelines") and \
                    ast.unparse(func.value) in ("sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"):
                yield node.lineno, f"{ast.unparse(func)}(...)"
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, f"import {a.name}") for a in node.names if a.name == "argparse")
        elif isinstance(node, ast.ImportFrom) and node.module == "argparse":
            yield node.lineno, "from argparse import ..."


def test_only_the_cli_prints_or_parses_arguments():
    bad = [f"{_where(file, line)}: {_name(file)} uses {what} (logging instead; output belongs to autolearn/cli.py)"
           for file in _modules() if str(file.relative_to(PACKAGE)) not in PRINTS_AND_PARSES
           for line, what in _prints_or_parses(file)]
    assert not bad, "printing or argument parsing outside the CLI:\n" + "\n".join(bad)


@pytest.mark.parametrize("snippet, found", [
    ("def f():\n    from autolearn.execution import runner\n", ["autolearn.execution"]),
    ("from ..training import models\n", ["autolearn.training"]),
    ("from . import checks\n", ["autolearn.search"]),
    ("import autolearn.testing.faults as f\n", ["autolearn.testing.faults"]),
    ("from autolearn import cli, Experiment\n", ["autolearn.cli", "autolearn"]),
])
def test_the_import_reader_sees_every_form(tmp_path, snippet, found):
    """The checker itself: function-level, relative and `from autolearn import` forms are all read."""
    package = tmp_path / "autolearn"
    (package / "search").mkdir(parents=True)
    file = package / "search" / "x.py"
    file.write_text(snippet)
    assert [m for _, m in _imports(file, package)] == found


def test_the_print_reader_sees_every_form(tmp_path):
    file = tmp_path / "x.py"
    file.write_text("import sys\ndef f():\n    import argparse\n    print(1)\n    sys.stdout.write('x')\n")
    assert [w for _, w in _prints_or_parses(file)] == ["import argparse", "print(...)", "sys.stdout.write(...)"]
