"""``envctl``: the command line (contract: DESIGN §3).

Exit codes: 0 ok, 1 operation failed, 2 bad input. Errors are one line on
stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from scheduler_core import __version__
from scheduler_core.asl.builder import build_state_machine
from scheduler_core.aws import Aws
from scheduler_core.cli.output import print_status, result_line, step_line
from scheduler_core.config import Config, load_config
from scheduler_core.exceptions import ConfigError, EnvctlError
from scheduler_core.resources import Action
from scheduler_core.runtime import begin, follow, read_status
from scheduler_core.settings import Settings

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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    command("validate", "check the config, its cron expressions and timezones")
    render = command("render", "print a composition's generated state machine (ASL JSON)")
    render.add_argument("name", help="composition name")
    render.add_argument("--action", choices=["start", "stop"], required=True)
    for action in Action:
        sub = command(action.value, f"{action.value} a composition")
        sub.add_argument("name", help="composition name")
        sub.add_argument(
            "--wait", action="store_true", help="follow the execution and print each step"
        )
    status = command("status", "live state of every resource of a composition")
    status.add_argument("name", help="composition name")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    local = command("local", "run the local AWS emulator in the foreground")
    local.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (default 5000)")
    command("demo", "run envctl end to end against an in-process emulator")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return run(args)
    except ConfigError as exc:
        if debug:
            raise
        # Each problem already names its file and place (DESIGN §2).
        print(*exc.problems, sep="\n", file=sys.stderr)
        return exc.exit_code
    except EnvctlError as exc:
        if debug:
            raise
        print(f"envctl: {exc}", file=sys.stderr)
        return exc.exit_code
    except ClientError as exc:
        if debug:
            raise
        error = exc.response.get("Error", {})
        refused = f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
        print(f"envctl: AWS refused {refused}", file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        if debug:
            raise
        print(f"envctl: cannot reach AWS: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("envctl: interrupted", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    if args.command == "local":
        from infra.emulator.cli import run_local

        return run_local(port=args.port)
    if args.command == "demo":
        from infra.demo import run_demo

        return run_demo()
    settings = Settings.from_env()
    config = load_config(getattr(args, "config", None) or settings.config_path)
    if args.command == "validate":
        return validate(config)
    composition = config.get(args.name)
    if args.command == "render":
        document = build_state_machine(composition, Action(args.action))
        print(json.dumps(document, indent=2))
        return 0
    aws = Aws()
    if args.command == "status":
        status = read_status(aws, composition)
        if args.json:
            print(json.dumps(status.as_json(), indent=2))
        else:
            print_status(status)
        return 0
    action = Action(args.command)
    execution_arn = begin(aws, settings, composition, action, trigger="cli")
    doing = "Starting" if action is Action.START else "Stopping"
    print(f"{doing} {composition.name}: execution {execution_arn}")
    if not args.wait:
        return 0
    result = follow(aws, execution_arn, on_step=lambda event: print(step_line(event, action)))
    line = result_line(composition.name, action, result)
    print(line, file=sys.stdout if result.succeeded else sys.stderr)
    return 0 if result.succeeded else 1


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def validate(config: Config) -> int:
    count = len(config.compositions)
    print(f"{config.path}: {plural(count, 'composition')}, all valid")
    for composition in config.compositions.values():
        print(
            f"  {composition.name}: {plural(len(composition.items()), 'resource')}, "
            f"start {composition.start_resources_at}, stop {composition.stop_resources_at} "
            f"({composition.timezone})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
