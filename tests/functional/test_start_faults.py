"""A start that fails or dies at any step leaves nothing started, or everything recorded.

Faults are injected at the AWS boundary: botocore event hooks fail one chosen call of
the caller (throttled after its retries, or answered and then lost); a separate process
is killed between two calls; and the emulator's own DynamoDB and Scheduler refuse the
writes the run makes itself. After each, a retry of the same request (same execution
name, as an Idempotency-Key or a Slack click gives) finds the first execution.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from botocore.exceptions import ClientError

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.config import Composition
from scheduler_core.resources import Action
from scheduler_core.runtime import follow
from scheduler_core.runtime.operations import Actor, Runtime
from scheduler_core.runtime.store import Store
from scheduler_core.settings import Settings
from tests.functional.helpers import composition, deploy, entered_states
from tests.functional.test_run_at_a_time import executions

ANN = Actor(who="ann", via="webhook")
KEY = "webhook-ci-retry-1"
RESOURCES = [{"type": "wait", "params": {"seconds": 1}}]


class Injected(Exception):
    """The fault a hook raises."""


def throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded (injected)"}},
        operation,
    )


def caller_calls(unique: str) -> list[str]:
    """Every AWS call a start with an auto-stop makes, in order (a dry run)."""
    target = composition(f"dry{unique}", RESOURCES)
    deploy(Aws(), target)  # apply's job, before the request
    aws, seen = Aws(), []
    aws.session.events.register(
        "before-call", lambda event_name, **_: seen.append(event_name.split(".", 1)[1])
    )

    def no_rendering(*_: Any, **__: Any) -> Any:
        raise AssertionError("the request path rendered a state machine")

    with pytest.MonkeyPatch.context() as patch:
        # Every generated machine names its states through StateNamer.claim.
        patch.setattr("scheduler_core.asl.naming.StateNamer.claim", no_rendering)
        run = Runtime(aws, Settings()).start(
            target, actor=ANN, duration=timedelta(hours=2), execution_name=KEY
        )
    assert follow(aws, run.execution_arn, poll_seconds=0.1, timeout_seconds=60).succeeded
    return seen


def auto_stop_of(aws: Aws, name: str) -> dict[str, Any] | None:
    try:
        return dict(
            aws.client("scheduler").get_schedule(GroupName=f"envctl-{name}", Name="auto-stop")
        )
    except ClientError:
        return None


def lease_of(aws: Aws, name: str) -> dict[str, Any] | None:
    found = aws.client("dynamodb").get_item(
        TableName="envctl",
        Key={"pk": {"S": f"composition#{name}"}, "sk": {"S": "lease"}},
        ConsistentRead=True,
    )
    return found.get("Item")


def assert_nothing_or_everything(aws: Aws, target: Composition) -> str:
    """The composition either never started, or its run recorded all it must."""
    started = executions(aws, target.name, Action.START)
    if not started:
        assert auto_stop_of(aws, target.name) is None
        assert Store(aws, "envctl").history(target.name) == []
        lease = lease_of(aws, target.name)
        # Nothing held, or only a reservation that lapses by itself.
        assert lease is None or "pending_until" in lease, lease
        return "nothing"
    [execution] = started
    assert follow(aws, execution["executionArn"], poll_seconds=0.1, timeout_seconds=60).succeeded
    assert auto_stop_of(aws, target.name) is not None
    assert [(e.who, e.what) for e in Store(aws, "envctl").history(target.name)] == [
        ("ann", "start")
    ]
    assert lease_of(aws, target.name) is None
    return "everything"


@pytest.fixture(scope="module")
def calls(emulator: Emulator) -> list[str]:
    emulator.prepare()
    with pytest.MonkeyPatch.context() as patch:
        # Role checks are remembered per process; the dry run must see them.
        patch.setattr("scheduler_core.runtime.prerequisites._seen_roles", set())
        for name, value in emulator.environment().items():
            patch.setenv(name, value)
        # A fresh name: a second session on the same emulator (as mutation runs make)
        # must still see the group and the machine created.
        return caller_calls(f"calls{uuid4().hex[:8]}")


WRITES = ("Create", "Update", "Put", "Delete", "Start", "Tag")
# Every call a start makes, in order; each is failed in turn below.
START_CALLS = [
    "iam.GetRole",
    "sfn.DescribeStateMachine",
    "dynamodb.UpdateItem",
    "sfn.StartExecution",
]


def test_a_start_makes_the_calls_the_fault_tests_walk_through(calls: list[str]) -> None:
    made = [call for call in calls if call in START_CALLS]
    assert list(dict.fromkeys(made)) == START_CALLS
    assert made.count("dynamodb.UpdateItem") == 1  # the reservation, before anything else
    # A start only starts an execution: apply is the one writer of state machines.
    assert [call for call in calls if call.split(".")[1].startswith(WRITES)] == [
        "dynamodb.UpdateItem",
        "sfn.StartExecution",
    ]


@pytest.mark.parametrize("when", ["before-call", "after-call"])
@pytest.mark.parametrize("operation", START_CALLS)
def test_failed_call_leaves_nothing_or_everything_and_a_retry_finds_the_first(
    aws_env: Emulator,
    unique: str,
    calls: list[str],
    operation: str,
    when: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("scheduler_core.runtime.prerequisites._seen_roles", set())
    aws = Aws()
    target = composition(f"f{unique}", RESOURCES)
    deploy(Aws(), target)
    failed = []

    def fault(event_name: str, **_: Any) -> None:
        if event_name.endswith(operation) and not failed:
            failed.append(event_name)
            raise throttled(event_name)

    aws.session.events.register(when, fault)
    runtime = Runtime(aws, Settings())

    with pytest.raises(ClientError):
        runtime.start(target, actor=ANN, duration=timedelta(hours=2), execution_name=KEY)

    checker = Aws()
    assert_nothing_or_everything(checker, target)
    retried = Runtime(checker, Settings()).start(
        target, actor=ANN, duration=timedelta(hours=2), execution_name=KEY
    )
    [execution] = executions(checker, target.name, Action.START)
    assert retried.execution_arn == execution["executionArn"]
    assert assert_nothing_or_everything(checker, target) == "everything"


KILLER = """
import os, sys
from datetime import timedelta
from uuid import uuid4
from scheduler_core.aws import Aws
from scheduler_core.runtime.operations import Actor, Runtime
from scheduler_core.settings import Settings
from tests.functional.helpers import composition

name, when, operation = sys.argv[1:4]
aws = Aws()
def die(event_name, **_):
    if event_name.endswith(operation):
        os._exit(9)
aws.session.events.register(when, die)
target = composition(name, [{"type": "wait", "params": {"seconds": 1}}])
Runtime(aws, Settings()).start(
    target, actor=Actor(who="ann", via="webhook"), duration=timedelta(hours=2),
    execution_name="webhook-ci-retry-1",
)
"""


@pytest.mark.parametrize(
    ("when", "operation"),
    [
        ("after-call", "dynamodb.UpdateItem"),  # reserved, then killed before starting
        ("before-call", "sfn.StartExecution"),
        ("after-call", "sfn.StartExecution"),  # started, killed before answering
    ],
)
def test_killed_caller_leaves_nothing_or_everything_and_a_retry_finds_the_first(
    aws_env: Emulator, unique: str, when: str, operation: str
) -> None:
    name = f"k{unique}"
    deploy(Aws(), composition(name, RESOURCES))
    environment = {**os.environ, **aws_env.environment()}
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, name, when, operation],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == 9, killed.stderr
    aws = Aws()
    target = composition(name, RESOURCES)
    assert_nothing_or_everything(aws, target)

    retried = Runtime(aws, Settings()).start(
        target, actor=ANN, duration=timedelta(hours=2), execution_name=KEY
    )

    [execution] = executions(aws, name, Action.START)
    assert retried.execution_arn == execution["executionArn"]
    assert assert_nothing_or_everything(aws, target) == "everything"


def refuse_in_emulator(monkeypatch: pytest.MonkeyPatch, which: str, name: str) -> None:
    """Make the emulator's own backend refuse one write the run makes itself."""
    if which == "audit":
        from moto.dynamodb.exceptions import MockValidationException
        from moto.dynamodb.models import DynamoDBBackend

        original = DynamoDBBackend.put_item

        def put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *a: Any, **k: Any):
            if item_attrs.get("pk", {}).get("S") == f"audit#{name}":
                raise MockValidationException("injected: the audit write failed")
            return original(self, table_name, item_attrs, *a, **k)

        monkeypatch.setattr(DynamoDBBackend, "put_item", put_item)
    else:
        from moto.scheduler.exceptions import ValidationException
        from moto.scheduler.models import EventBridgeSchedulerBackend

        def create_schedule(self: Any, *a: Any, **k: Any) -> Any:
            raise ValidationException("injected: the auto-stop could not be created")

        monkeypatch.setattr(EventBridgeSchedulerBackend, "create_schedule", create_schedule)


@pytest.mark.parametrize("which", ["audit", "auto-stop"])
def test_run_that_cannot_record_itself_touches_no_resource(
    aws_env: Emulator, unique: str, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    aws = Aws()
    target = composition(f"w{unique}", RESOURCES)
    deploy(aws, target)
    refuse_in_emulator(monkeypatch, which, target.name)

    run = Runtime(aws, Settings()).start(target, actor=ANN, duration=timedelta(hours=2))

    result = follow(aws, run.execution_arn, poll_seconds=0.1, timeout_seconds=60)
    assert not result.succeeded
    assert "injected" in (result.cause or "")
    visited = entered_states(aws, run.execution_arn)
    assert f"Run start of {target.name}" not in visited  # no resource step was entered
    assert Store(aws, "envctl").state(target.name).state == "failed"
    assert lease_of(aws, target.name) is None
    assert auto_stop_of(aws, target.name) is None


def test_same_key_after_the_replay_window_is_a_new_request(aws_env: Emulator, unique: str) -> None:
    from datetime import UTC, datetime

    aws = Aws()
    target = composition(f"n{unique}", RESOURCES)
    deploy(aws, target)
    runtime = Runtime(aws, Settings())
    first = runtime.start(target, actor=ANN, execution_name=KEY)
    assert follow(aws, first.execution_arn, poll_seconds=0.1, timeout_seconds=60).succeeded

    replayed = runtime.start(target, actor=ANN, execution_name=KEY)
    later = runtime.start(
        target, actor=ANN, execution_name=KEY, now=datetime.now(UTC) + timedelta(hours=2)
    )

    assert replayed.execution_arn == first.execution_arn  # a retry finds its run
    assert later.execution_arn != first.execution_arn  # a reused key starts anew
    assert follow(aws, later.execution_arn, poll_seconds=0.1, timeout_seconds=60).succeeded
    assert len(executions(aws, target.name, Action.START)) == 2
