"""The local tools as ``envctl`` commands: ``local``, ``demo``, ``serve``, ``slack``.

Declared in pyproject.toml under the entry-point group ``envctl.commands``; the CLI
finds them there (scheduler_core.cli.plugins). Each imports its implementation only
when it runs, so ``envctl --help`` does not load moto or slack-bolt.
"""

from __future__ import annotations

import argparse

from scheduler_core.cli.plugins import PluginCommand


def _local_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (default 5000)")
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="emulated time runs N times faster than AWS (default $ENVCTL_EMULATOR_SPEED or 60)",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="the region to export (default $AWS_DEFAULT_REGION or $AWS_REGION, else us-east-1)",
    )


def _local(args: argparse.Namespace) -> int:
    from infra.emulator.cli import run_local

    return run_local(port=args.port, speed=args.speed, region=args.region)


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--serve",
        type=int,
        nargs="?",
        const=3000,
        metavar="PORT",
        help="afterwards keep the emulator up and serve Slack and webhooks (default port 3000)",
    )


def _demo(args: argparse.Namespace) -> int:
    from infra.demo import run_demo

    return run_demo(serve_port=args.serve)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (default 3000)")


def _serve(args: argparse.Namespace) -> int:
    from infra.serve import run_serve

    return run_serve(port=args.port, config_path=getattr(args, "config", None))


def _slack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help='the command, e.g. "/env start staging for 2h"')
    parser.add_argument("--user", default="U0LOCAL", help="Slack user id of the sender")
    parser.add_argument("--channel", default="C0LOCAL", help="Slack channel id it is sent from")
    parser.add_argument("--confirm", action="store_true", help="click the first Confirm button")
    parser.add_argument(
        "--url", help="a running `envctl serve` (default: run the app in this process)"
    )


def _slack(args: argparse.Namespace) -> int:
    from infra.slack.cli import run_slack

    return run_slack(
        args.text,
        user=args.user,
        channel=args.channel,
        confirm=args.confirm,
        url=args.url,
        config_path=getattr(args, "config", None),
    )


COMMANDS = [
    PluginCommand(
        name="local",
        help="run the local AWS emulator in the foreground",
        add_arguments=_local_arguments,
        run=_local,
    ),
    PluginCommand(
        name="demo",
        help="run envctl end to end against an in-process emulator",
        add_arguments=_demo_arguments,
        run=_demo,
    ),
    PluginCommand(
        name="serve",
        help="serve the Slack app (the Lambda handler) over HTTP locally",
        add_arguments=_serve_arguments,
        run=_serve,
    ),
    PluginCommand(
        name="slack",
        help="send a command to the Slack app, signed as Slack signs it",
        add_arguments=_slack_arguments,
        run=_slack,
    ),
]
