"""start --for, extend, skip, pause/resume, scheduled runs and the window guard."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.config import Composition
from scheduler_core.reconcile import apply_plan, make_plan
from scheduler_core.reconcile.desired import WindowBracket
from scheduler_core.resources import Action
from scheduler_core.runtime import follow
from scheduler_core.runtime.operations import Actor, Runtime
from scheduler_core.runtime.store import Store
from scheduler_core.settings import Settings
from tests.functional import moto_resources
from tests.functional.helpers import (
    called_actions,
    composition,
    deploy_file,
    run,
    state_machine_names,
)
from tests.functional.test_reconcile import config_of

ALICE = Actor(who="alice", via="cli")
NOW = datetime(2026, 11, 27, 10, 0, 7, tzinfo=UTC)


def fire(aws: Aws, group: str, name: str) -> str:
    """Do what EventBridge Scheduler does when the schedule is due: start its target."""
    target = aws.client("scheduler").get_schedule(GroupName=group, Name=name)["Target"]
    # Scheduler names executions itself; moto would name every unnamed one "None".
    started = aws.client("stepfunctions").start_execution(
        stateMachineArn=target["Arn"], input=target["Input"], name=uuid.uuid4().hex
    )
    result = follow(aws, started["executionArn"], poll_seconds=0.1, timeout_seconds=60)
    assert result.succeeded, result.cause
    return str(started["executionArn"])


def scheduled(aws_env: Emulator, unique: str, **overrides: Any) -> tuple[Composition, Any]:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    body = {
        "start_resources_at": "0 8 ? * MON-FRI *",
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "timezone": "Europe/Amsterdam",
        "resources": [database.item],
        **overrides,
    }
    config = config_of({f"o{unique}": body})
    aws = Aws()
    apply_plan(aws, make_plan(aws, Settings(), config))
    return config.get(f"o{unique}"), database


def test_start_for_creates_a_one_time_auto_stop_that_deletes_itself(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target, _ = scheduled(aws_env, unique)

    started = Runtime(aws, Settings()).start(
        target, actor=ALICE, duration=timedelta(hours=2), now=NOW
    )
    # The run itself creates its auto-stop and audit entry, before any resource step.
    assert follow(aws, started.execution_arn, poll_seconds=0.1, timeout_seconds=60).succeeded

    assert started.auto_stop_at == datetime(2026, 11, 27, 12, 1, tzinfo=UTC)
    auto_stop = aws_env.client("scheduler").get_schedule(
        GroupName=f"envctl-{target.name}", Name="auto-stop"
    )
    assert auto_stop["ScheduleExpression"] == "at(2026-11-27T12:01:00)"
    assert auto_stop["ScheduleExpressionTimezone"] == "UTC"
    assert auto_stop["ActionAfterCompletion"] == "DELETE"
    assert auto_stop["Target"]["Arn"].endswith(f"envctl-{target.name}-stop")
    entries = Store(aws, "envctl").history(target.name)
    assert [(e.who, e.what, e.via) for e in entries] == [("alice", "start", "cli")]
    assert "2026-11-27T12:01:00+00:00" in entries[0].detail


def test_auto_stop_after_applies_when_no_duration_is_given(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target, _ = scheduled(aws_env, unique, auto_stop_after="45m")

    started = Runtime(aws, Settings()).start(target, actor=ALICE, now=NOW)

    assert started.auto_stop_at == NOW.replace(second=0) + timedelta(minutes=46)


def test_extend_moves_the_pending_auto_stop(aws_env: Emulator, aws: Aws, unique: str) -> None:
    target, _ = scheduled(aws_env, unique)
    runtime = Runtime(aws, Settings())
    started = runtime.start(target, actor=ALICE, duration=timedelta(hours=1), now=NOW)
    follow(aws, started.execution_arn, poll_seconds=0.1, timeout_seconds=60)

    # The run audits at its own (real) time; the extend comes after it.
    moved = runtime.extend(
        target, timedelta(minutes=30), actor=ALICE, now=datetime.now(UTC) + timedelta(seconds=1)
    )

    assert moved == datetime(2026, 11, 27, 11, 31, tzinfo=UTC)
    live = aws_env.client("scheduler").get_schedule(
        GroupName=f"envctl-{target.name}", Name="auto-stop"
    )
    assert live["ScheduleExpression"] == "at(2026-11-27T11:31:00)"
    assert [e.what for e in runtime.store.history(target.name)] == ["extend", "start"]


def test_stop_removes_the_pending_auto_stop(aws_env: Emulator, aws: Aws, unique: str) -> None:
    target, _ = scheduled(aws_env, unique)
    runtime = Runtime(aws, Settings())
    started = runtime.start(target, actor=ALICE, duration=timedelta(hours=1), now=NOW)
    follow(aws, started.execution_arn, poll_seconds=0.1, timeout_seconds=60)

    assert runtime.pending_auto_stop(target) is not None

    stopped = runtime.stop(target, actor=ALICE, now=NOW)
    follow(aws, stopped.execution_arn, poll_seconds=0.1, timeout_seconds=60)

    assert runtime.pending_auto_stop(target) is None
    assert runtime.store.overrides(target.name).auto_stop_at is None


def test_pause_and_resume_disable_and_enable_both_schedules(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target, _ = scheduled(aws_env, unique)
    runtime = Runtime(aws, Settings())
    scheduler = aws_env.client("scheduler")

    def states() -> list[str]:
        group = f"envctl-{target.name}"
        return [scheduler.get_schedule(GroupName=group, Name=n)["State"] for n in ("start", "stop")]

    assert runtime.set_paused(target, True, actor=ALICE) == ["start", "stop"]
    assert states() == ["DISABLED", "DISABLED"]
    assert runtime.set_paused(
        target, False, actor=ALICE, now=datetime.now(UTC) + timedelta(seconds=1)
    ) == [
        "start",
        "stop",
    ]
    assert states() == ["ENABLED", "ENABLED"]
    assert [e.what for e in runtime.store.history(target.name)] == ["resume", "pause"]


def test_skip_next_start_skips_exactly_one_scheduled_start(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target, database = scheduled(aws_env, unique)
    assert run(aws, target, Action.STOP).succeeded
    Runtime(aws, Settings()).skip(target, "next-start", actor=ALICE)

    skipped = fire(aws, f"envctl-{target.name}", "start")
    assert database.read() == "stopped"
    assert called_actions(aws, skipped) == []

    fire(aws, f"envctl-{target.name}", "start")
    assert database.read() == "available"
    whats = [e.what for e in Store(aws, "envctl").history(target.name)]
    assert whats[:2] == ["start", "skipped start"]  # newest first, by the schedule


def test_state_machines_record_the_composition_state(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    database = moto_resources.rds_cluster(aws_env, f"rec-{unique}")
    target = composition(f"rec{unique}", [database.item])
    store = Store(aws, "envctl")

    stopped = run(aws, target, Action.STOP)
    assert store.state(target.name).state == "stopped"
    assert store.state(target.name).execution == stopped.arn
    assert run(aws, target, Action.START).succeeded
    assert store.state(target.name).state == "running"

    aws_env.client("rds").delete_db_cluster(
        DBClusterIdentifier=f"rec-{unique}", SkipFinalSnapshot=True
    )
    assert not run(aws, target, Action.STOP).succeeded
    record = store.state(target.name)
    assert record.state == "failed"
    assert record.cause.startswith(f"rds_cluster rec-{unique}: ")


def _bracketed(aws_env: Emulator, unique: str) -> tuple[Composition, Any, Aws]:
    database = moto_resources.rds_instance(aws_env, f"win-{unique}")
    config = config_of(
        {
            f"w{unique}": {
                "start_resources_at": "0 8 ? * MON-FRI *",
                "stop_resources_at": "0 19 ? * MON-FRI *",
                "resources": [database.item],
            }
        }
    )
    target = config.get(f"w{unique}")
    item = target.items()[0]
    brackets = [
        WindowBracket(
            resource=item,
            key="k1",
            action=action,
            expression=expression,
            timezone="UTC",
            window="sun:03:00-sun:03:30",
        )
        for action, expression in (
            (Action.START, "cron(45 2 ? * SUN *)"),
            (Action.STOP, "cron(45 3 ? * SUN *)"),
        )
    ]
    aws = Aws()
    apply_plan(aws, make_plan(aws, Settings(), config, brackets_for=lambda _: brackets))
    return target, database, aws


def test_stop_bracket_leaves_the_resource_running_while_the_composition_runs(
    aws_env: Emulator, unique: str
) -> None:
    target, database, aws = _bracketed(aws_env, unique)
    assert run(aws, target, Action.START).succeeded  # composition recorded as running

    fire(aws, f"envctl-{target.name}", "window-k1-stop")

    assert database.read() == "available"


def test_stop_bracket_stops_the_resource_when_the_composition_is_stopped(
    aws_env: Emulator, unique: str
) -> None:
    target, database, aws = _bracketed(aws_env, unique)
    assert run(aws, target, Action.STOP).succeeded
    fire(aws, f"envctl-{target.name}", "window-k1-start")
    assert database.read() == "available"

    fire(aws, f"envctl-{target.name}", "window-k1-stop")

    assert database.read() == "stopped"


def test_cli_bad_input_exits_2_with_a_sentence(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    body = {"resources": [{"type": "wait", "params": {"seconds": 1}}]}
    path.write_text(yaml.safe_dump({"compositions": {"od": body}}))
    cases = {
        (
            "start",
            "od",
            "--for",
            "0h",
        ): 'envctl: --for: expected a duration longer than zero, got "0h"\n',
        ("start", "od", "--for", "5y"): (
            'envctl: --for: expected a duration such as 30m, 2h or 1h30m, got "5y"\n'
        ),
        ("start", "od", "--for", "abc"): (
            'envctl: --for: expected a duration such as 30m, 2h or 1h30m, got "abc"\n'
        ),
        ("extend", "od", "1h"): (
            "envctl: od has no pending auto-stop to extend; start it with --for <duration> "
            "(or set auto_stop_after) first\n"
        ),
        ("skip", "od", "next-start"): (
            "envctl: od has no scheduled start (start is on-demand); nothing to skip\n"
        ),
        ("pause", "od"): "envctl: od is on-demand only; it has no schedules to pause or resume\n",
        ("start", "nope"): 'envctl: unknown composition "nope"; known compositions: od\n',
    }
    for argv, message in cases.items():
        assert main([*argv, "-c", str(path)]) == 2, argv
        assert capsys.readouterr().err == message
    machines = state_machine_names(aws_env.client("stepfunctions"))
    assert "envctl-od-start" not in machines  # nothing started


def test_cli_start_for_prints_the_local_auto_stop_time(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    body = {"timezone": "Asia/Kolkata", "resources": [{"type": "wait", "params": {"seconds": 1}}]}
    path.write_text(yaml.safe_dump({"compositions": {f"t{unique}": body}}))
    deploy_file(path)

    assert main(["start", f"t{unique}", "--for", "90m", "-c", str(path)]) == 0

    out = capsys.readouterr().out
    assert "It stops again at " in out and "IST (Asia/Kolkata)" in out
    assert json.loads(json.dumps(out))  # printable text, no exceptions
