"""Dependencies point one way: scheduler_core imports neither bot nor infra.

Read from the source (every ``import``, including those inside functions), so a
lazy import that would reverse the arrow is caught too.
"""

from __future__ import annotations

import ast
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


def test_the_local_tools_are_offered_as_cli_commands() -> None:
    from scheduler_core.cli.main import build_parser

    parser = build_parser()
    for command in ("local", "demo", "serve", "slack"):
        args = parser.parse_args([command, "/env list"] if command == "slack" else [command])
        assert callable(args.plugin), command
