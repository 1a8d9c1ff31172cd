"""The code stays in pieces one can read: no module over 400 lines, no function or
method more complex than 15 by radon's cyclomatic count (which, unlike ruff's, also
counts boolean operators and comprehensions)."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("scheduler_core", "bot", "infra")
MAX_LINES = 400
MAX_COMPLEXITY = 15


def sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def too_long(paths: list[Path], limit: int = MAX_LINES) -> dict[str, int]:
    counts = {_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in paths}
    return {name: count for name, count in counts.items() if count > limit}


def too_complex(paths: list[Path], limit: int = MAX_COMPLEXITY) -> dict[str, int]:
    found = {}
    for path in paths:
        # Functions, classes and methods; a closure counts towards its function.
        for block in cc_visit(path.read_text(encoding="utf-8")):
            if block.complexity > limit:
                found[f"{_name(path)}:{block.lineno} {block.name}"] = block.complexity
    return found


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def test_the_packages_are_found() -> None:
    assert len(sources()) > 50


def test_no_module_is_over_400_lines() -> None:
    assert too_long(sources()) == {}


def test_no_function_is_over_complexity_15() -> None:
    assert too_complex(sources()) == {}


def test_the_checks_see_a_long_module_and_a_complex_function(tmp_path: Path) -> None:
    long = tmp_path / "long.py"
    long.write_text("x = 1\n" * (MAX_LINES + 1))
    branches = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(MAX_COMPLEXITY))
    tangled = tmp_path / "tangled.py"
    tangled.write_text(f"def f(x):\n{branches}    return -1\n")

    assert list(too_long([long], limit=MAX_LINES).values()) == [MAX_LINES + 1]
    assert too_long([tangled]) == {}
    assert list(too_complex([tangled]).values()) == [MAX_COMPLEXITY + 1]
