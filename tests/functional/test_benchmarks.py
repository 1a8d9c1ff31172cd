"""Every benchmark runs to the end at tiny sizes, so that ``make bench`` cannot rot.

Each benchmark runs in its own interpreter (they start emulators and set environment
variables), with its size constants replaced by tiny ones. The figures are printed,
never checked: a benchmark asserts nothing about speed.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
TIMEOUT_SECONDS = 120

# The sizes each benchmark runs at here: module constants, replaced before main().
TINY: dict[str, dict[str, Any]] = {
    "render.py": {
        "SIZES": [2],
        "WARM_UP_RUNS": 1,
        "MIN_REPETITIONS": 3,
        "SECONDS_PER_MEASUREMENT": 0.01,
        # Small limits, so that the bisections stop after a few small compositions.
        "MAX_DEFINITION_BYTES": 60_000,
        "MAX_HISTORY_EVENTS": 600,
    },
    "windows.py": {
        "RESOURCE_COUNTS": [16, 24],
        "WEEKS": 2,
        "RUNS": 2,
        "BASELINE_RUNS": 1,
        "FULL_BASELINE_LIMIT": 16,
        "SAMPLE_STRIDE": 3,
    },
    "apply.py": {"COMPOSITIONS": 3},
    "slack.py": {
        "WARM_REQUESTS": 5,
        "WARM_UP_REQUESTS": 1,
        "COLD_RUNS": 1,
        "IMPORTTIME_RUNS": 1,
    },
    "webhooks.py": {
        "STATUS_REQUESTS": 5,
        "START_REQUESTS": 3,
        "WARM_UP_STATUS": 1,
        "WARM_UP_START": 1,
        "LOAD_REQUESTS": 10,
        "LOAD_SECONDS": 0.5,
    },
}

RUNNER = """
import importlib.util, json, sys
path, overrides = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, str(__import__("pathlib").Path(path).parent))
name = __import__("pathlib").Path(path).stem
spec = importlib.util.spec_from_file_location(name, path)
module = sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look here
spec.loader.exec_module(module)
for name, value in overrides.items():
    if not hasattr(module, name):
        sys.exit(f"{path} has no constant {name} to make tiny")
    setattr(module, name, tuple(value) if isinstance(value, list) else value)
sys.exit(module.main())
"""


def has_main(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)


def test_every_benchmark_has_tiny_sizes() -> None:
    benchmarks = {path.name for path in BENCHMARKS.glob("*.py") if has_main(path)}

    assert benchmarks == set(TINY)


# Known broken, owned elsewhere; strict, so the mark must go once it runs again.
BROKEN: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=BROKEN[name]))
        if name in BROKEN
        else name
        for name in sorted(TINY)
    ],
)
def test_benchmark_runs_to_the_end_at_tiny_sizes(name: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, str(BENCHMARKS / name), json.dumps(TINY[name])],
        cwd=BENCHMARKS.parent,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    assert completed.stdout.strip()
