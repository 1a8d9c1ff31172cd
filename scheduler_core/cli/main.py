"""``envctl``: the command line (contract: README "Commands").

Exit codes: 0 ok, 1 operation failed, 2 bad input. Errors are one line on
stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from scheduler_core import __version__
from scheduler_core.cli import commands, plugins
from scheduler_core.exceptions import ConfigError, ErrorKind, Fault, exit_code, fault_of

DESCRIPTION = "Switch whole AWS environments (compositions) on and off."


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c",
        "--config",
        default=argparse.SUPPRESS,
        help="compositions file (default: $ENVCTL_CONFIG, else ./compositions.yaml)",
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    parser = argparse.ArgumentParser(prog="envctl", description=DESCRIPTION, parents=[common])
    parser.add_argument("--version", action="version", version=f"envctl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, *, named: bool = True) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        if named:
            parser.add_argument("name", help="composition name")
        return parser

    command("validate", "check the config, its cron expressions and timezones", named=False)
    render = command("render", "print a composition's generated state machine (ASL JSON)")
    render.add_argument("--action", choices=["start", "stop"], required=True)
    for name, help_text in (
        ("plan", "show what apply would create, change or delete"),
        ("apply", "make AWS match the config (state machines, schedules, window brackets)"),
    ):
        reconcile = command(name, help_text, named=False)
        reconcile.add_argument(
            "--prune",
            action="store_true",
            help="also delete what envctl created for compositions no longer in the file",
        )
        reconcile.add_argument("--state-machine-role-arn", help="role the state machines run as")
        reconcile.add_argument("--scheduler-role-arn", help="role EventBridge Scheduler uses")
        if name == "plan":
            reconcile.add_argument("--json", action="store_true", help="machine-readable output")
    start = command("start", "start a composition")
    start.add_argument("--for", dest="duration", help="stop again after this long (30m, 2h, 1h30m)")
    start.add_argument("--wait", action="store_true", help="follow the execution step by step")
    stop = command("stop", "stop a composition")
    stop.add_argument("--wait", action="store_true", help="follow the execution step by step")
    status = command("status", "live state of every resource of a composition")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    extend = command("extend", "move the pending auto-stop later")
    extend.add_argument("duration", help="how much later (30m, 2h, 1h30m)")
    skip = command(
        "skip", "skip the next scheduled start or stop, or every scheduled start on dates"
    )
    skip.add_argument(
        "which", metavar="next-start|next-stop|DATE[..DATE]", help="e.g. 2026-12-24..2026-12-31"
    )
    command("pause", "disable the scheduled start and stop")
    command("resume", "re-enable the scheduled start and stop")
    schedule = command("schedule", "the schedule in words and the next runs in local time")
    schedule.add_argument(
        "--json", action="store_true", help="the next 7 days of runs, machine-readable"
    )
    command("history", "the last audit entries")
    windows = sub.add_parser(
        "windows",
        help="maintenance/backup windows and whether the schedule covers them",
        description="maintenance/backup windows and whether the schedule covers them",
        parents=[common],
    )
    windows.add_argument("name", nargs="?", help="composition name (default: all)")
    windows.add_argument("--json", action="store_true", help="machine-readable output")
    for plugin in plugins.discovered():
        added = command(plugin.name, plugin.help, named=False)
        plugin.add_arguments(added)
        added.set_defaults(plugin=plugin.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        plugin = getattr(args, "plugin", None)
        return plugin(args) if plugin is not None else commands.run(args)
    except KeyboardInterrupt:
        print("envctl: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        fault = fault_of(exc)
        if fault is None or getattr(args, "debug", False):
            raise
        print(*answer(fault), sep="\n", file=sys.stderr)
        return exit_code(fault.kind)


def answer(fault: Fault) -> list[str]:
    """The lines on stderr for an error of any kind (the one place the CLI words them)."""
    if isinstance(fault.error, ConfigError):
        # Each problem already names its file and place (README "Config file").
        return fault.error.problems
    if isinstance(fault.error, (ClientError, BotoCoreError)):
        if fault.kind is ErrorKind.AWS_UNREACHABLE:
            return [f"envctl: cannot reach AWS: {fault.detail}"]
        return [f"envctl: AWS refused {fault.operation}: {fault.code}: {fault.detail}"]
    return [f"envctl: {fault.detail}"]


if __name__ == "__main__":
    sys.exit(main())
