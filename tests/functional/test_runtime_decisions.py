"""What each runtime operation decides and records: messages, audit entries, times.

The broader tests (test_runtime_operations.py) follow whole runs; these pin down the
decisions of ``Runtime`` one at a time against the emulator: which requests are
refused and with which sentence, what the audit log says, how the auto-stop time is
rounded, and that pausing leaves every other field of a schedule as it was.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.emulator.server import Emulator
from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config import Composition
from scheduler_core.exceptions import BadInputError, ConflictError
from scheduler_core.reconcile import apply_plan, make_plan
from scheduler_core.runtime import follow
from scheduler_core.runtime.operations import Actor, Runtime
from scheduler_core.settings import Settings
from tests.functional.test_reconcile import config_of

BOB = Actor(who="bob", via="webhook")
SHORT = [{"type": "wait", "params": {"seconds": 1}}]
LONG = [{"type": "wait", "params": {"seconds": 120}}]


def deployed(name: str, resources: list[dict[str, Any]], **settings: Any) -> Composition:
    body = {
        "start_resources_at": "0 8 ? * MON-FRI *",
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "timezone": "Europe/Amsterdam",
        "resources": resources,
        **settings,
    }
    config = config_of({name: body})
    aws = Aws()
    apply_plan(aws, make_plan(aws, Settings(), config))
    return config.get(name)


def finished(aws: Aws, arn: str) -> None:
    assert follow(aws, arn, poll_seconds=0.1, timeout_seconds=60).succeeded


def later() -> datetime:
    """A moment after every audit entry so far (entries are keyed by time)."""
    return datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (datetime(2026, 11, 27, 10, 0, 7, tzinfo=UTC), datetime(2026, 11, 27, 11, 1, tzinfo=UTC)),
        (datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC), datetime(2026, 11, 27, 11, 0, tzinfo=UTC)),
        (
            datetime(2026, 11, 27, 10, 0, 0, 1, tzinfo=UTC),
            datetime(2026, 11, 27, 11, 1, tzinfo=UTC),
        ),
    ],
    ids=["seconds", "whole-minute", "one-microsecond"],
)
def test_an_auto_stop_time_is_rounded_up_to_the_minute(
    aws_env: Emulator, aws: Aws, unique: str, asked: datetime, expected: datetime
) -> None:
    target = deployed(f"r{unique}", SHORT)

    run = Runtime(aws, Settings()).start(target, actor=BOB, duration=timedelta(hours=1), now=asked)
    finished(aws, run.execution_arn)

    assert run.auto_stop_at == expected
    assert run.joined is False


def test_the_start_audit_says_why_and_when_it_stops(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"a{unique}", SHORT)
    runtime = Runtime(aws, Settings())
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

    run = runtime.start(target, actor=BOB, duration=timedelta(hours=2), now=now, reason="demo")
    finished(aws, run.execution_arn)

    [entry] = runtime.store.history(target.name)
    assert (entry.who, entry.what, entry.via) == ("bob", "start", "webhook")
    assert entry.detail == "demo; auto-stop at 2026-11-27T12:00:00+00:00"


@pytest.mark.parametrize(
    ("duration", "reason", "detail"),
    [
        (None, "ticket 42", "ticket 42"),
        (timedelta(minutes=30), "", "auto-stop at 2026-11-27T10:30:00+00:00"),
        (None, "", ""),
    ],
    ids=["reason-only", "duration-only", "neither"],
)
def test_the_start_audit_has_only_the_parts_that_apply(
    aws_env: Emulator,
    aws: Aws,
    unique: str,
    duration: timedelta | None,
    reason: str,
    detail: str,
) -> None:
    target = deployed(f"p{unique}", SHORT)
    runtime = Runtime(aws, Settings())
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

    run = runtime.start(target, actor=BOB, duration=duration, now=now, reason=reason)
    finished(aws, run.execution_arn)

    assert [entry.detail for entry in runtime.store.history(target.name)] == [detail]
    assert run.auto_stop_at == (now + duration if duration else None)


def test_a_stop_audits_its_reason(aws_env: Emulator, aws: Aws, unique: str) -> None:
    target = deployed(f"s{unique}", SHORT)
    runtime = Runtime(aws, Settings())

    run = runtime.stop(target, actor=BOB, reason="end of demo")
    finished(aws, run.execution_arn)

    [entry] = runtime.store.history(target.name)
    assert (entry.who, entry.what, entry.via, entry.detail) == (
        "bob",
        "stop",
        "webhook",
        "end of demo",
    )
    assert (run.action.value, run.joined, run.auto_stop_at) == ("stop", False, None)


@pytest.mark.parametrize("operation", ["start", "stop"])
def test_a_reason_with_control_characters_is_refused_before_anything_runs(
    aws_env: Emulator, aws: Aws, unique: str, operation: str
) -> None:
    target = deployed(f"c{unique}", SHORT)
    runtime = Runtime(aws, Settings())

    with pytest.raises(BadInputError) as refused:
        getattr(runtime, operation)(target, actor=BOB, reason="line one\nline two")

    assert str(refused.value) == (
        "reason: control characters (newlines, tabs, escape sequences) are not allowed"
    )
    sfn = aws.client("stepfunctions")
    machine = f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{target.name}-{operation}"
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []
    assert runtime.store.history(target.name) == []


def test_a_second_start_joins_the_first_and_says_so(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"j{unique}", LONG)
    runtime = Runtime(aws, Settings())
    first = runtime.start(target, actor=BOB, duration=timedelta(hours=1))
    try:
        # The first run records its auto-stop before its long wait.
        for _ in range(200):
            if runtime.store.overrides(target.name).auto_stop_at is not None:
                break
            time.sleep(0.05)
        second = runtime.start(
            target, actor=Actor(who="carol", via="slack"), duration=timedelta(hours=5), now=later()
        )
    finally:
        aws.client("stepfunctions").stop_execution(executionArn=first.execution_arn)

    assert second.joined is True
    assert second.action is Action.START
    assert second.execution_arn == first.execution_arn
    assert second.auto_stop_at == first.auto_stop_at  # the run's, not the joiner's 5 h
    newest = runtime.store.history(target.name)[0]
    assert (newest.who, newest.what, newest.via) == ("carol", "start", "slack")
    assert newest.detail == f"joined the run in progress (execution {first.execution_arn})"


def test_a_stop_while_a_start_runs_is_refused_and_audited(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"x{unique}", LONG)
    runtime = Runtime(aws, Settings())
    first = runtime.start(target, actor=BOB)
    try:
        with pytest.raises(ConflictError) as refused:
            runtime.stop(target, actor=Actor(who="dan", via="cli"), now=later())
    finally:
        aws.client("stepfunctions").stop_execution(executionArn=first.execution_arn)

    assert refused.value.execution_arn == first.execution_arn
    assert str(refused.value) == (
        f"{target.name} is still starting (execution {first.execution_arn}); "
        "wait for it to finish before you stop it"
    )
    entries = [e for e in runtime.store.history(target.name) if e.who == "dan"]
    assert [(e.what, e.via, e.detail) for e in entries] == [
        ("refused stop", "cli", str(refused.value))
    ]


def test_extend_without_a_pending_auto_stop_says_how_to_get_one(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    # Stops on demand: no scheduled stop to extend either (test_holidays covers that).
    target = deployed(f"e{unique}", SHORT, stop_resources_at="on-demand")
    runtime = Runtime(aws, Settings())

    with pytest.raises(BadInputError) as refused:
        runtime.extend(target, timedelta(hours=1), actor=BOB)

    assert str(refused.value) == (
        f"{target.name} has no pending auto-stop to extend; "
        "start it with --for <duration> (or set auto_stop_after) first"
    )
    assert runtime.store.history(target.name) == []


def test_extend_records_the_new_time_and_audits_by_how_much(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"m{unique}", SHORT)
    runtime = Runtime(aws, Settings())
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    run = runtime.start(target, actor=BOB, duration=timedelta(hours=1), now=now)
    finished(aws, run.execution_arn)

    moved = runtime.extend(target, timedelta(minutes=90), actor=BOB, now=later())

    assert moved == datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
    assert runtime.pending_auto_stop(target) == moved
    assert runtime.store.overrides(target.name).auto_stop_at == moved
    newest = runtime.store.history(target.name)[0]
    assert (newest.what, newest.detail) == ("extend", "by 1h 30m to 2026-11-27T12:30:00+00:00")
    schedule = aws.client("scheduler").get_schedule(
        GroupName=f"envctl-{target.name}", Name="auto-stop"
    )
    assert schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"].endswith(f"stateMachine:envctl-{target.name}-stop")


def test_skip_names_what_it_expects(aws_env: Emulator, aws: Aws, unique: str) -> None:
    target = deployed(f"k{unique}", SHORT)

    with pytest.raises(BadInputError) as refused:
        Runtime(aws, Settings()).skip(target, "tomorrow", actor=BOB)

    assert str(refused.value) == 'expected next-start or next-stop, got "tomorrow"'


@pytest.mark.parametrize(
    ("which", "on_demand", "action"),
    [("next-start", "start_resources_at", "start"), ("next-stop", "stop_resources_at", "stop")],
)
def test_skipping_an_on_demand_action_is_refused(
    aws_env: Emulator, aws: Aws, unique: str, which: str, on_demand: str, action: str
) -> None:
    target = deployed(f"o{unique}", SHORT, **{on_demand: "on-demand"})
    runtime = Runtime(aws, Settings())

    with pytest.raises(BadInputError) as refused:
        runtime.skip(target, which, actor=BOB)

    assert str(refused.value) == (
        f"{target.name} has no scheduled {action} ({action} is on-demand); nothing to skip"
    )
    overrides = runtime.store.overrides(target.name)
    assert (overrides.skip_next_start, overrides.skip_next_stop) == (False, False)


@pytest.mark.parametrize(
    ("which", "flags"), [("next-start", (True, False)), ("next-stop", (False, True))]
)
def test_skip_sets_exactly_its_flag_and_audits_it(
    aws_env: Emulator, aws: Aws, unique: str, which: str, flags: tuple[bool, bool]
) -> None:
    target = deployed(f"f{unique}", SHORT)
    runtime = Runtime(aws, Settings())

    runtime.skip(target, which, actor=BOB)

    overrides = runtime.store.overrides(target.name)
    assert (overrides.skip_next_start, overrides.skip_next_stop) == flags
    [entry] = runtime.store.history(target.name)
    assert (entry.who, entry.what, entry.via) == ("bob", f"skip {which}", "webhook")


def test_pausing_an_on_demand_composition_is_refused(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(
        f"d{unique}", SHORT, start_resources_at="on-demand", stop_resources_at="on-demand"
    )
    runtime = Runtime(aws, Settings())

    with pytest.raises(BadInputError) as refused:
        runtime.set_paused(target, True, actor=BOB)

    assert str(refused.value) == (
        f"{target.name} is on-demand only; it has no schedules to pause or resume"
    )
    assert runtime.store.history(target.name) == []


def test_pausing_before_apply_says_to_apply(aws_env: Emulator, aws: Aws, unique: str) -> None:
    target = deployed(f"n{unique}", SHORT, stop_resources_at="on-demand")
    aws.client("scheduler").delete_schedule(GroupName=f"envctl-{target.name}", Name="start")
    runtime = Runtime(aws, Settings())

    with pytest.raises(BadInputError) as refused:
        runtime.set_paused(target, True, actor=BOB)

    assert str(refused.value) == (
        f"the start schedule of {target.name} does not exist yet; run `envctl apply` first"
    )
    assert runtime.store.history(target.name) == []


def test_pause_changes_only_the_state_and_only_of_the_schedules_that_need_it(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"q{unique}", SHORT)
    runtime = Runtime(aws, Settings())
    scheduler = aws.client("scheduler")
    group = f"envctl-{target.name}"

    def schedule(name: str) -> dict[str, Any]:
        found = dict(scheduler.get_schedule(GroupName=group, Name=name))
        for volatile in ("ResponseMetadata", "LastModificationDate", "State"):
            found.pop(volatile, None)
        return found

    before = {name: schedule(name) for name in ("start", "stop")}
    assert runtime.set_paused(target, True, actor=BOB) == ["start", "stop"]
    assert {name: schedule(name) for name in ("start", "stop")} == before
    # Already paused: nothing to change, but the request is still audited.
    assert runtime.set_paused(target, True, actor=BOB, now=later()) == []
    scheduler_states = {
        name: scheduler.get_schedule(GroupName=group, Name=name)["State"]
        for name in ("start", "stop")
    }
    assert scheduler_states == {"start": "DISABLED", "stop": "DISABLED"}
    assert [(e.what, e.via) for e in runtime.store.history(target.name)] == [
        ("pause", "webhook"),
        ("pause", "webhook"),
    ]


def test_pause_of_a_half_scheduled_composition_pauses_what_it_has(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"h{unique}", SHORT, start_resources_at="on-demand")

    changed = Runtime(aws, Settings()).set_paused(target, True, actor=BOB)

    assert changed == ["stop"]


def test_no_pending_auto_stop_reads_as_none(aws_env: Emulator, aws: Aws, unique: str) -> None:
    target = deployed(f"z{unique}", SHORT)

    assert Runtime(aws, Settings()).pending_auto_stop(target) is None


def test_a_refusal_is_audited_with_who_what_and_why(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    runtime = Runtime(aws, Settings())

    runtime.refused(f"w{unique}", action="start", actor=BOB, why="not allowed in #general")

    [entry] = runtime.store.history(f"w{unique}")
    assert (entry.who, entry.what, entry.via, entry.detail) == (
        "bob",
        "refused start",
        "webhook",
        "not allowed in #general",
    )


# A moment that no real clock shows during the test: entries made with it carry it.
ASKED = datetime(2026, 11, 27, 10, 0, 7, tzinfo=UTC)


def entry_of(runtime: Runtime, composition: str, what: str) -> Any:
    [entry] = [e for e in runtime.store.history(composition, limit=50) if e.what == what]
    return entry


def test_audit_entries_carry_the_time_the_request_was_made(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"t{unique}", SHORT)
    runtime = Runtime(aws, Settings())
    started = runtime.start(target, actor=BOB, duration=timedelta(hours=1), now=ASKED)
    finished(aws, started.execution_arn)

    runtime.extend(target, timedelta(minutes=5), actor=BOB, now=ASKED + timedelta(seconds=1))
    runtime.skip(target, "next-start", actor=BOB, now=ASKED + timedelta(seconds=2))
    runtime.set_paused(target, True, actor=BOB, now=ASKED + timedelta(seconds=3))
    runtime.refused(target.name, action="stop", actor=BOB, why="no", now=ASKED + timedelta(4))

    assert entry_of(runtime, target.name, "extend").at == ASKED + timedelta(seconds=1)
    assert entry_of(runtime, target.name, "skip next-start").at == ASKED + timedelta(seconds=2)
    assert entry_of(runtime, target.name, "pause").at == ASKED + timedelta(seconds=3)
    assert entry_of(runtime, target.name, "refused stop").at == ASKED + timedelta(4)


def test_a_refused_stop_is_audited_at_the_time_it_was_asked(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"u{unique}", LONG)
    runtime = Runtime(aws, Settings())
    first = runtime.start(target, actor=BOB)
    try:
        with pytest.raises(ConflictError):
            runtime.stop(target, actor=BOB, now=ASKED)
    finally:
        aws.client("stepfunctions").stop_execution(executionArn=first.execution_arn)

    assert entry_of(runtime, target.name, "refused stop").at == ASKED


def test_start_and_stop_without_a_reason_audit_no_detail(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"v{unique}", SHORT)
    runtime = Runtime(aws, Settings())

    started = runtime.start(target, actor=BOB)
    finished(aws, started.execution_arn)
    stopped = runtime.stop(target, actor=BOB)
    finished(aws, stopped.execution_arn)

    assert [(e.what, e.detail) for e in runtime.store.history(target.name)] == [
        ("stop", ""),
        ("start", ""),
    ]
    assert (started.action, stopped.action) == (Action.START, Action.STOP)


def test_a_stop_with_a_request_name_runs_under_that_name(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"y{unique}", SHORT)

    stopped = Runtime(aws, Settings()).stop(target, actor=BOB, execution_name="ci-stop-7")
    finished(aws, stopped.execution_arn)

    assert stopped.execution_arn.endswith(f":envctl-{target.name}-stop:ci-stop-7")


def test_a_second_stop_joins_the_first(aws_env: Emulator, aws: Aws, unique: str) -> None:
    target = deployed(f"g{unique}", LONG)
    runtime = Runtime(aws, Settings())
    first = runtime.stop(target, actor=BOB)
    try:
        second = runtime.stop(target, actor=Actor(who="erin", via="slack"), now=ASKED)
    finally:
        aws.client("stepfunctions").stop_execution(executionArn=first.execution_arn)

    assert (first.joined, second.joined) == (False, True)
    assert second.execution_arn == first.execution_arn
    assert second.action is Action.STOP
    [joined] = [e for e in runtime.store.history(target.name) if e.who == "erin"]
    assert (joined.what, joined.at) == ("stop", ASKED)  # audited when it was asked
    assert joined.detail == f"joined the run in progress (execution {first.execution_arn})"


def test_extend_recreates_an_auto_stop_that_fired_meanwhile(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    """The auto-stop may fire (and delete itself) between extend's read and its write."""
    target = deployed(f"b{unique}", SHORT)
    runtime = Runtime(aws, Settings())
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    finished(
        aws,
        runtime.start(target, actor=BOB, duration=timedelta(hours=1), now=now).execution_arn,
    )
    group = f"envctl-{target.name}"
    other = aws_env.client("scheduler")

    def fired(**_: Any) -> None:
        other.delete_schedule(GroupName=group, Name="auto-stop")

    aws.client("scheduler").meta.events.register_first(
        "before-call.scheduler.UpdateSchedule", fired
    )

    moved = runtime.extend(target, timedelta(hours=1), actor=BOB, now=later())

    live = other.get_schedule(GroupName=group, Name="auto-stop")
    assert live["ScheduleExpression"] == "at(2026-11-27T12:00:00)"
    assert moved == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_pause_keeps_what_was_set_on_a_schedule_by_hand(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"l{unique}", SHORT)
    scheduler = aws.client("scheduler")
    group = f"envctl-{target.name}"
    live = scheduler.get_schedule(GroupName=group, Name="start")
    by_hand = {
        "StartDate": datetime(2027, 1, 4, tzinfo=UTC),
        "EndDate": datetime(2027, 12, 31, tzinfo=UTC),
        "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c",
        "ActionAfterCompletion": "DELETE",
    }
    keep = ("ScheduleExpression", "ScheduleExpressionTimezone", "Description", "Target")
    scheduler.update_schedule(
        GroupName=group,
        Name="start",
        FlexibleTimeWindow={"Mode": "OFF"},
        **{key: live[key] for key in keep},
        **by_hand,
    )

    Runtime(aws, Settings()).set_paused(target, True, actor=BOB)

    paused = scheduler.get_schedule(GroupName=group, Name="start")
    assert paused["State"] == "DISABLED"
    assert {key: paused[key] for key in by_hand} == by_hand


def test_a_stop_retried_under_its_request_name_finds_the_first_run(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    target = deployed(f"i{unique}", SHORT)
    runtime = Runtime(aws, Settings())
    first = runtime.stop(target, actor=BOB, execution_name="ci-stop-9")
    finished(aws, first.execution_arn)

    again = runtime.stop(target, actor=BOB, execution_name="ci-stop-9")

    assert again.execution_arn == first.execution_arn
    sfn = aws.client("stepfunctions")
    machine = f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{target.name}-stop"
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1
