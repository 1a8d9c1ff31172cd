"""Mutation testing of the decision code, one module at a time, in a scratch copy.

mutmut writes a ``mutants/`` tree next to the code it mutates. This script never
runs it in the repository: it copies the tree into a work directory per module
(``$MUTATION_WORKDIR/<module>``, default ``/tmp/envctl-mutation``), narrows the
``[tool.mutmut]`` section of the copy's pyproject.toml to that module's files and
fast tests, runs ``mutmut run`` niced with one worker, and prints the counts.

    python tools/mutation/run.py                # the fast modules (see FAST)
    python tools/mutation/run.py access asl     # chosen modules
    python tools/mutation/run.py --list         # modules, files and tests
    python tools/mutation/run.py --ref HEAD asl # mutate the last commit, not the work tree
    python tools/mutation/run.py --resume --mutant 'scheduler_core.asl.naming*' asl

Results per module: ``<workdir>/<module>/summary.json`` and ``survivors.txt``
(the diff of every survivor, from ``mutmut show``). See docs/mutation.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Module:
    files: tuple[str, ...]
    tests: tuple[str, ...]
    note: str = ""


WINDOW_TESTS = (
    "tests/unit/test_windows.py",
    "tests/unit/test_windows_analysis.py",
    "tests/unit/test_windows_any_instant.py",
    "tests/unit/test_windows_cron.py",
    "tests/unit/test_windows_selection.py",
    "tests/unit/test_windows_decisions.py",
    "tests/unit/test_slack_blocks.py",
)

MODULES: dict[str, Module] = {
    "access": Module(
        ("bot/slack/access.py",),
        ("tests/unit/test_slack_access.py", "tests/unit/test_slack_access_decisions.py"),
    ),
    "webhook-security": Module(
        ("bot/webhooks/security.py",),
        ("tests/unit/test_webhook_security.py", "tests/unit/test_webhook_security_decisions.py"),
    ),
    "asl": Module(
        ("scheduler_core/asl/*",),
        (
            "tests/unit/test_asl.py",
            "tests/unit/test_asl_windows_machine_decisions.py",
            "tests/unit/test_asl_decisions.py",
            "tests/unit/test_template_iam.py",
        ),
    ),
    "windows": Module(
        (
            "scheduler_core/windows/analysis.py",
            "scheduler_core/windows/brackets.py",
            "scheduler_core/cron/expression.py",
            "scheduler_core/cron/local_time.py",
            "scheduler_core/cron/stepping.py",
            "scheduler_core/windows/resource_window.py",
            "scheduler_core/windows/running.py",
            "scheduler_core/windows/selection.py",
            "scheduler_core/windows/shift.py",
            "scheduler_core/windows/specs.py",
        ),
        WINDOW_TESTS,
    ),
    # The modules below are covered only by functional tests against the in-process
    # emulator: about 1-2 s a test, tens of tests a mutant. Hours each on 2 cores.
    "windows-collect": Module(
        ("scheduler_core/windows/collect.py",),
        ("tests/functional/test_windows_collect.py", "tests/functional/test_windows_cli.py"),
        "slow: emulator tests",
    ),
    "planner": Module(
        ("scheduler_core/reconcile/planner.py",),
        ("tests/unit/test_planner.py",),
    ),
    # Not test_run_at_a_time.py: its races start CLI processes against long runs, and
    # a niced emulator can starve past a reservation's two minutes.
    "operations": Module(
        ("scheduler_core/runtime/operations.py",),
        (
            "tests/functional/test_runtime_decisions.py",
            "tests/functional/test_runtime_operations.py",
            "tests/functional/test_start_faults.py",
        ),
        "slow: emulator tests",
    ),
}
FAST = ("access", "webhook-security", "asl", "windows", "planner")

# Never copied into a work directory.
EXCLUDES = (
    ".git",
    ".venv",
    "mutants",
    ".tools",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
)


def copy_tree(target: Path, ref: str | None) -> None:
    """Copy the work tree (or a commit, with ``ref``) into ``target``."""
    target.mkdir(parents=True)
    if ref:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        return
    ignore = shutil.ignore_patterns(*EXCLUDES)
    shutil.copytree(ROOT, target, ignore=ignore, dirs_exist_ok=True, symlinks=True)


def toml_value(value: object) -> str:
    # JSON strings, numbers, booleans and arrays of them are also valid TOML.
    return json.dumps(value, ensure_ascii=False)


def narrow_config(pyproject: Path, module: Module) -> None:
    """Write the copy's [tool.mutmut]: this repository's, narrowed to the module."""
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    settings = dict(ours["tool"]["mutmut"])
    settings["only_mutate"] = list(module.files)
    settings["do_not_mutate"] = [
        pattern for pattern in settings.get("do_not_mutate", []) if pattern not in module.files
    ]
    settings["pytest_add_cli_args_test_selection"] = list(module.tests)
    body = "".join(f"{key} = {toml_value(value)}\n" for key, value in settings.items())
    text = pyproject.read_text(encoding="utf-8")
    section = re.compile(r"^\[tool\.mutmut\]\n(?:(?!^\[).*\n?)*", re.MULTILINE)
    text = section.sub("", text).rstrip("\n")
    pyproject.write_text(f"{text}\n\n[tool.mutmut]\n{body}", encoding="utf-8")


def statuses(workdir: Path) -> dict[str, str]:
    """Mutant name -> mutmut status, from the .meta files mutmut leaves."""
    from mutmut.stats import status_by_exit_code

    result: dict[str, str] = {}
    for meta in sorted((workdir / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in data["exit_code_by_key"].items():
            result[name] = status_by_exit_code[code]
    return result


def source_module(mutant: str) -> str:
    """``bot.slack.access.x_who_may__mutmut_6`` -> ``bot.slack.access``."""
    parts = mutant.split(".")
    for index, part in enumerate(parts):
        if part.startswith(("x_", "xǁ")):
            return ".".join(parts[:index])
    return mutant


def summarise(name: str, workdir: Path, seconds: float, exit_code: int) -> dict[str, object]:
    found = statuses(workdir)
    counts: dict[str, int] = {}
    for status in found.values():
        counts[status] = counts.get(status, 0) + 1
    killed = counts.get("killed", 0)
    survived = counts.get("survived", 0)
    timeout = counts.get("timeout", 0)
    tested = killed + survived + timeout
    by_file: dict[str, dict[str, int]] = {}
    for mutant, status in found.items():
        counts_of_file = by_file.setdefault(source_module(mutant), {})
        counts_of_file[status] = counts_of_file.get(status, 0) + 1
    summary = {
        "module": name,
        "files": list(MODULES[name].files),
        "tests": list(MODULES[name].tests),
        "total": len(found),
        "counts": counts,
        "by_file": by_file,
        # mutmut's own score: timeouts count as detected.
        "score": round(100 * (killed + timeout) / tested, 1) if tested else None,
        "seconds": round(seconds),
        "mutmut_exit_code": exit_code,
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    survivors = [m for m, status in found.items() if status == "survived"]
    with (workdir / "survivors.txt").open("w", encoding="utf-8") as out:
        for mutant in survivors:
            shown = subprocess.run(
                [str(BIN / "mutmut"), "show", mutant],
                cwd=workdir,
                capture_output=True,
                text=True,
                check=False,
            )
            out.write(shown.stdout + "\n")
    return summary


def run_module(
    name: str, base: Path, ref: str | None, resume: bool, mutants: list[str]
) -> dict[str, object]:
    workdir = base / name
    if workdir.exists() and not resume:
        shutil.rmtree(workdir)
    if not workdir.exists():
        copy_tree(workdir, ref)
        narrow_config(workdir / "pyproject.toml", MODULES[name])
    log = workdir / "mutmut-run.log"
    command = [str(BIN / "mutmut"), "run", "--max-children", "1", *mutants]
    if shutil.which("nice"):
        command = ["nice", "-n", "19", *command]
    print(f"== {name}: {' '.join(MODULES[name].files)} (log: {log})", flush=True)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(
            command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    summary = summarise(name, workdir, time.monotonic() - started, done.returncode)
    counts = summary["counts"]
    print(
        f"   {summary['total']} mutants: "
        + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        + f"; score {summary['score']}% in {summary['seconds']} s",
        flush=True,
    )
    if done.returncode != 0:
        print(f"   mutmut exited {done.returncode}; the end of {log}:", flush=True)
        print(log.read_text(encoding="utf-8", errors="replace")[-2000:], flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"default: {' '.join(FAST)}; or 'all'")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get("MUTATION_WORKDIR", "/tmp/envctl-mutation")),
    )
    parser.add_argument("--ref", help="mutate this commit (git archive) instead of the work tree")
    parser.add_argument(
        "--resume", action="store_true", help="keep an earlier work directory and its results"
    )
    parser.add_argument(
        "--mutant",
        action="append",
        default=[],
        help="only (re)run these mutants; mutmut names or wildcards, e.g. 'bot.slack.access*'",
    )
    parser.add_argument("--list", action="store_true", help="list the modules and stop")
    args = parser.parse_args(argv)

    if args.list:
        for name, module in MODULES.items():
            mark = " (fast)" if name in FAST else f" ({module.note})"
            print(
                f"{name}{mark}\n  mutates: {' '.join(module.files)}"
                f"\n  tests:   {' '.join(module.tests)}"
            )
        return 0
    names = list(args.modules or FAST)
    if names == ["all"]:
        names = list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {', '.join(MODULES)}")
    if args.workdir.resolve().is_relative_to(ROOT):
        parser.error("the work directory must be outside the repository")

    summaries = [run_module(n, args.workdir, args.ref, args.resume, args.mutant) for n in names]
    # One table for every module measured in this work directory so far.
    every = [json.loads(p.read_text()) for p in sorted(args.workdir.glob("*/summary.json"))]
    (args.workdir / "summary.json").write_text(json.dumps(every, indent=2) + "\n")
    return 0 if all(s["mutmut_exit_code"] == 0 for s in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
