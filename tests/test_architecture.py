"""The house rules of docs/ARCHITECTURE.md, checked: which room may import which, no import
cycle between modules, no module past ~300 lines, tests that do not import each other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "venvsyncd"
TESTS = Path(__file__).resolve().parent
TOP = {"errors", "config", "configcheck", "configedit", "paths", "project", "doctor"}
# room -> the rooms (and top-level modules) it may import; itself always
ALLOWED = {
    "system": set(),
    "requirements": {"errors", "env.dists"},  # env.dists: the installed-distribution value
    "wire": {"system", "errors"},
    "env": {"system", "errors"},
    "engine": {"requirements", "env", "system", "errors", "config", "configcheck", "project"},
    "service": {"system", "env", "errors", "paths"},
    "daemon": {"engine", "env", "requirements", "wire", "system", "service", "errors"}
    | {"config", "configcheck", "project", "paths"},
}
MAX_LINES = 310


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(p for p in parts if p != "__init__")
        yield name or "__init__", path


def imported(path: Path, package: str) -> set[str]:
    """venvsyncd modules `path` imports, anywhere in it (lazy imports too), as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "venvsyncd":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("venvsyncd."):
                base = node.module.removeprefix("venvsyncd.")
                found.add(base)
                found |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("venvsyncd.")
                for a in node.names
                if a.name.startswith("venvsyncd.")
            }
    known = {name for name, _ in modules()}
    return {name for name in found if name in known and name != package}


def room(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize(("module", "path"), list(modules()), ids=[m for m, _ in modules()])
def test_a_room_imports_only_what_it_may(module: str, path: Path) -> None:
    own = room(module)
    if own not in ALLOWED:
        return  # cli and the top-level modules
    allowed = ALLOWED[own]
    wrong = {
        m for m in imported(path, module) if room(m) not in {own, *allowed} and m not in allowed
    }
    assert not wrong, f"{module} imports {sorted(wrong)}; {own}/ may import {sorted(ALLOWED[own])}"


def test_no_import_cycle() -> None:
    graph = {name: imported(path, name) for name, path in modules()}
    graph = {name: {m for m in deps if not graph_is_package(m)} for name, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] if nxt in trail else trail
                raise AssertionError(f"import cycle: {' -> '.join([*cycle, nxt])}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def graph_is_package(name: str) -> bool:
    return (SRC / name.replace(".", "/") / "__init__.py").exists()


@pytest.mark.parametrize(("module", "path"), list(modules()), ids=[m for m, _ in modules()])
def test_modules_stay_small(module: str, path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by responsibility"


def test_no_test_module_imports_another() -> None:
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests"):
                raise AssertionError(
                    f"{path.relative_to(TESTS)} imports {node.module}: use testing/"
                )


def test_every_room_says_what_it_holds_and_may_import() -> None:
    for package in sorted(p.parent for p in SRC.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc, f"{package.name}/__init__.py has no docstring"
        if package.name in ALLOWED:
            assert "import" in doc.lower(), f"{package.name}/__init__.py: what may it import?"
