"""Dependencies point one way: scheduler_core imports neither bot nor infra, and no
module of scheduler_core, bot or infra imports itself round a cycle.

Read from the source (every ``import``, including those inside functions), so a
lazy import that would reverse the arrow is caught too.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imports_into(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """Module file -> the forbidden modules it imports."""
    offending = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = sorted(name for name in imported_modules(path) if name.split(".")[0] in forbidden)
        if bad:
            offending[str(path.relative_to(ROOT))] = bad
    return offending


def test_scheduler_core_imports_neither_bot_nor_infra() -> None:
    assert imports_into("scheduler_core", ("bot", "infra")) == {}


def test_bot_does_not_import_the_local_tools() -> None:
    assert imports_into("bot", ("infra",)) == {}


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from infra.demo import run_demo\n    import bot.sync\n")

    assert imported_modules(module) == {"infra.demo", "bot.sync"}


# --- no import cycles ---------------------------------------------------------------
#
# The graph has one node per module (a package is its ``__init__``) and an edge for
# every import statement, wherever it sits (module level or inside a function), except
# under ``if TYPE_CHECKING:``, which never runs. Targets are resolved as Python does:
#
# - ``from . import x`` and other relative imports are made absolute first;
# - ``from p import name`` is an edge to the submodule ``p.name`` when there is one,
#   else to ``p`` itself (the name is read from ``p``'s ``__init__``);
# - ``import a.b.c`` is an edge to ``a.b.c``, and also to each of the packages ``a``
#   and ``a.b`` whose ``__init__`` the import runs first. A package that contains the
#   importing module is left out: it is already imported (or being imported) by the
#   time its own submodule runs, so its ``__init__`` is not run again. This is the one
#   rule about ``__init__`` re-exports: ``windows/__init__`` importing
#   ``windows.analysis`` is an edge, but ``windows.analysis`` importing its sibling
#   ``windows.brackets`` is not an edge back to ``windows/__init__``; otherwise every
#   package that re-exports its submodules would be reported as a cycle with them.
#   ``from scheduler_core.windows import analyse_windows`` from inside the package is
#   an edge to the ``__init__``, since it reads the ``__init__``'s names.
#
# Modules outside scheduler_core, bot and infra are not nodes.

PACKAGES = ("scheduler_core", "bot", "infra")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    where: str  # "path:line: the import statement"


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``packages`` under root."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement below ``node``, skipping ``if TYPE_CHECKING:`` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:  # the ``else:`` of TYPE_CHECKING does run
                yield from _import_nodes(ast.Module(body=[orelse], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules an import statement names, resolved to absolute dotted names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([base] if base else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")]


def import_edges(root: Path, packages: tuple[str, ...]) -> list[Edge]:
    modules = module_names(root, packages)
    edges = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        own = {".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 2)}
        if not is_package:
            own.discard(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree):
            where = f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}"
            names = _targets(node, module, is_package)
            if isinstance(node, ast.ImportFrom):
                # ``from p import x``: the submodule p.x if there is one, else p itself.
                submodules = [name for name in names[1:] if name in modules]
                from_base = len(submodules) < len(node.names)  # a name, or ``*``
                names = submodules + names[:1] if from_base else submodules
            targets = set()
            for name in names:
                parts = name.split(".")
                for n in range(1, len(parts) + 1):  # the packages run first, then name
                    prefix = ".".join(parts[:n])
                    if prefix in modules and (prefix not in own or n == len(parts)):
                        targets.add(prefix)
            for target in sorted(targets - {module}):
                edges.append(Edge(module, target, where))
    return edges


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def shortest_cycle(start: str, graph: dict[str, set[str]], within: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside one strongly connected component."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, set()) & within):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is on no cycle")


def import_cycles(root: Path, packages: tuple[str, ...]) -> list[str]:
    """One report per strongly connected component of the import graph: its modules,
    then a shortest cycle through its first module with the imports that make it."""
    edges = import_edges(root, packages)
    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        where.setdefault((edge.source, edge.target), edge.where)
    reports = []
    for component in strongly_connected(graph):
        cycle = shortest_cycle(component[0], graph, set(component))
        steps = [where[pair] for pair in itertools.pairwise(cycle)]
        reports.append(
            f"{len(component)} modules: {', '.join(component)}\n"
            f"  for example {' -> '.join(cycle)}:\n    " + "\n    ".join(steps)
        )
    return reports


# Cycles known and being removed elsewhere, each as the first module of its component
# (the test names all of them). Empty this when they are gone: the goal is no cycle.
def test_no_import_cycles_in_scheduler_core_bot_and_infra() -> None:
    cycles = import_cycles(ROOT, PACKAGES)
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_cycle_check_finds_a_cycle_closed_by_a_lazy_import(tmp_path: Path) -> None:
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import helper\n",
            "pkg/b.py": "def helper():\n    from . import a\n",
            "pkg/c.py": "import pkg.a\n",
        },
    )

    cycles = import_cycles(tmp_path, ("pkg",))

    assert cycles == [
        "2 modules: pkg.a, pkg.b\n"
        "  for example pkg.a -> pkg.b -> pkg.a:\n"
        "    pkg/a.py:1: from pkg.b import helper\n"
        "    pkg/b.py:2: from . import a"
    ]


def test_the_cycle_check_follows_package_inits_but_not_type_checking(tmp_path: Path) -> None:
    write_package(
        tmp_path,
        {
            # A re-exporting __init__ whose submodules import each other: no cycle.
            "pkg/__init__.py": "from pkg.sub.x import X\n",
            "pkg/sub/__init__.py": "from .x import X\nfrom .y import Y\n",
            "pkg/sub/x.py": "import pkg.sub.y\nX = 1\n",
            "pkg/sub/y.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.other import O\nY = 2\n",
            # pkg.other imports pkg.sub.y: that runs pkg/sub/__init__, which imports
            # pkg.sub.x; only the TYPE_CHECKING import in y would lead back.
            "pkg/other.py": "from pkg.sub import y\nO = 3\n",
            # Reads a name from the package __init__, which imports this module: a cycle.
            "pkg/sub/z.py": "from pkg.sub import X\n",
            "pkg/sub/w.py": "",
        },
    )
    (tmp_path / "pkg/sub/__init__.py").write_text(
        "from .x import X\nfrom .y import Y\nfrom .z import *\n"
    )

    edges = {(e.source, e.target) for e in import_edges(tmp_path, ("pkg",))}

    assert ("pkg.other", "pkg.sub") in edges  # the package __init__ runs first
    assert ("pkg.other", "pkg.sub.y") in edges
    assert ("pkg.sub.x", "pkg.sub") not in edges  # its own package is already loading
    assert ("pkg.sub.y", "pkg.other") not in edges  # TYPE_CHECKING only
    assert import_cycles(tmp_path, ("pkg",)) == [
        "2 modules: pkg.sub, pkg.sub.z\n"
        "  for example pkg.sub -> pkg.sub.z -> pkg.sub:\n"
        "    pkg/sub/__init__.py:3: from .z import *\n"
        "    pkg/sub/z.py:1: from pkg.sub import X"
    ]


def test_window_brackets_load_no_resource_kind() -> None:
    code = (
        "import sys, scheduler_core.windows.brackets; "
        "print([m for m in sys.modules if m.startswith('scheduler_core.resources')])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert loaded.strip() == "[]"


def test_the_local_tools_are_offered_as_cli_commands() -> None:
    from scheduler_core.cli.main import build_parser

    parser = build_parser()
    for command in ("local", "demo", "serve", "slack"):
        args = parser.parse_args([command, "/env list"] if command == "slack" else [command])
        assert callable(args.plugin), command
