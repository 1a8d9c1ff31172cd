"""What each ``envctl`` command does: parse arguments, call the core, print."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property

from scheduler_core.actions import Action
from scheduler_core.asl.builder import build_state_machine
from scheduler_core.aws import Aws
from scheduler_core.cli.output import plural, print_status, result_line, step_line
from scheduler_core.config import Composition, Config, load_config
from scheduler_core.durations import parse_duration
from scheduler_core.exceptions import BadInputError, ConfigError
from scheduler_core.places import regions_of
from scheduler_core.runtime import follow
from scheduler_core.runtime.operations import Actor, Runtime
from scheduler_core.runtime.store import AuditEntry
from scheduler_core.settings import Settings
from scheduler_core.text import printable


class Context:
    """Lazily loaded config, AWS access and runtime for one command."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        settings = Settings.from_env()
        self.settings = replace(
            settings,
            state_machine_role_arn=getattr(args, "state_machine_role_arn", None)
            or settings.state_machine_role_arn,
            scheduler_role_arn=getattr(args, "scheduler_role_arn", None)
            or settings.scheduler_role_arn,
        )

    @cached_property
    def config(self) -> Config:
        return load_config(getattr(self.args, "config", None) or self.settings.config_path)

    @property
    def composition(self) -> Composition:
        return self.config.get(self.args.name)

    @cached_property
    def aws(self) -> Aws:
        return self.settings.aws()

    @cached_property
    def runtime(self) -> Runtime:
        return Runtime(self.aws, self.settings, regions=regions_of(self.config))

    @property
    def actor(self) -> Actor:
        return Actor(who=getpass.getuser(), via="cli")


def run(args: argparse.Namespace) -> int:
    return HANDLERS[args.command](Context(args))


def _validate(ctx: Context) -> int:
    from scheduler_core.asl.limits import definition_problem

    config = ctx.config
    # Building the machines costs about 0.1 ms a resource: validate measures them, a
    # config load (every Lambda cold start) does not.
    problems = [
        f"{config.path}: {composition.name}.resources: {problem}"
        for composition in config.compositions.values()
        if (
            problem := definition_problem(
                composition, table=ctx.settings.table_name, spoke_role=ctx.settings.spoke_role
            )
        )
    ]
    if problems:
        raise ConfigError(problems)
    print(f"{config.path}: {plural(len(config.compositions), 'composition')}, all valid")
    for composition in config.compositions.values():
        print(
            f"  {composition.name}: {plural(len(composition.items()), 'resource')}, "
            f"start {composition.start_resources_at}, stop {composition.stop_resources_at} "
            f"({composition.timezone})"
        )
    return 0


def _render(ctx: Context) -> int:
    document = build_state_machine(
        ctx.composition, Action(ctx.args.action), table=ctx.settings.table_name
    )
    print(json.dumps(document, indent=2))
    return 0


def _plan(ctx: Context) -> int:
    from scheduler_core.cli.reconcile import show_plan

    return show_plan(ctx, as_json=ctx.args.json)


def _apply(ctx: Context) -> int:
    from scheduler_core.cli.reconcile import run_apply

    return run_apply(ctx)


def _windows(ctx: Context) -> int:
    from scheduler_core.cli.reconcile import show_windows

    return show_windows(ctx)


def _status(ctx: Context) -> int:
    status = ctx.runtime.status(ctx.composition)
    if ctx.args.json:
        print(json.dumps(status.as_json(), indent=2))
        return 0
    print_status(status)
    record = ctx.runtime.store.state(ctx.composition.name)
    if record is not None:
        line = f"last run: {record.state} ({record.trigger}, {record.updated_at})"
        if record.cause:
            line += f": {record.cause}"
        print(line)
    return 0


def _start(ctx: Context) -> int:
    composition = ctx.composition
    duration = _duration(ctx.args.duration, "--for") if ctx.args.duration else None
    run = ctx.runtime.start(composition, actor=ctx.actor, duration=duration)
    if run.joined:
        print(f"{composition.name} is already starting: execution {run.execution_arn}")
    else:
        print(f"Starting {composition.name}: execution {run.execution_arn}")
    if run.auto_stop_at:
        print(f"It stops again at {_local_time(run.auto_stop_at, composition)}.")
    return _follow(ctx, run.execution_arn, Action.START)


def _stop(ctx: Context) -> int:
    composition = ctx.composition
    run = ctx.runtime.stop(composition, actor=ctx.actor)
    if run.joined:
        print(f"{composition.name} is already stopping: execution {run.execution_arn}")
    else:
        print(f"Stopping {composition.name}: execution {run.execution_arn}")
    return _follow(ctx, run.execution_arn, Action.STOP)


def _follow(ctx: Context, execution_arn: str, action: Action) -> int:
    if not ctx.args.wait:
        return 0
    result = follow(ctx.aws, execution_arn, on_step=lambda event: print(step_line(event, action)))
    line = result_line(ctx.composition.name, action, result)
    print(line, file=sys.stdout if result.succeeded else sys.stderr)
    return 0 if result.succeeded else 1


def _extend(ctx: Context) -> int:
    composition = ctx.composition
    moved = ctx.runtime.extend(composition, _duration(ctx.args.duration, "extend"), actor=ctx.actor)
    print(f"{composition.name} now stops at {_local_time(moved, composition)}.")
    return 0


def _skip(ctx: Context) -> int:
    composition = ctx.composition
    if ctx.args.which not in ("next-start", "next-stop"):
        starts = ctx.runtime.skip_dates(composition, ctx.args.which, actor=ctx.actor)
        if not starts:
            print(f"No scheduled start of {composition.name} falls on {ctx.args.which}.")
            return 0
        print(f"{composition.name}: {len(starts)} scheduled start(s) will do nothing:")
        for start in starts:
            print(f"  {start.local:%a %d %b %Y %H:%M %Z}")
        return 0
    ctx.runtime.skip(composition, ctx.args.which, actor=ctx.actor)
    action = ctx.args.which.removeprefix("next-")
    print(f"The next scheduled {action} of {composition.name} will be skipped.")
    return 0


def _pause(ctx: Context, paused: bool = True) -> int:
    composition = ctx.composition
    changed = ctx.runtime.set_paused(composition, paused, actor=ctx.actor)
    word = "paused" if paused else "resumed"
    if changed:
        print(f"{composition.name}: scheduled {' and '.join(changed)} {word}.")
    else:
        print(f"{composition.name}: schedules were already {word}; nothing changed.")
    return 0


def _schedule(ctx: Context) -> int:
    from scheduler_core.cli.reconcile import show_schedule

    return show_schedule(ctx)


def _history(ctx: Context) -> int:
    composition = ctx.composition
    entries = ctx.runtime.store.history(composition.name)
    if not entries:
        print(f"{composition.name}: no audit entries yet.")
    for entry in entries:
        print(history_line(entry, composition))
    return 0


def history_line(entry: AuditEntry, composition: Composition) -> str:
    """One ``envctl history`` line, every audit field escaped.

    Entries written before audit text was checked may hold newlines or terminal
    escapes; printed raw they could forge lines or rewrite the terminal.
    """
    when = _local_time(entry.at, composition)
    detail = f" ({printable(entry.detail)})" if entry.detail else ""
    who, via, what = (printable(text) for text in (entry.who, entry.via, entry.what))
    return f"{when}  {who} via {via}: {what}{detail}"


def _duration(text: str, where: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise BadInputError(f"{where}: {exc}") from exc


def _local_time(moment: datetime, composition: Composition) -> str:
    local = moment.astimezone(composition.zone)
    return f"{local:%a %d %b %H:%M} {local.tzname()} ({composition.timezone})"


HANDLERS: dict[str, Callable[[Context], int]] = {
    "validate": _validate,
    "render": _render,
    "plan": _plan,
    "apply": _apply,
    "windows": _windows,
    "start": _start,
    "stop": _stop,
    "status": _status,
    "extend": _extend,
    "skip": _skip,
    "pause": _pause,
    "resume": lambda ctx: _pause(ctx, paused=False),
    "schedule": _schedule,
    "history": _history,
}
